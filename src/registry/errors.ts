/**
 * The error codes of the OCI distribution spec (and docker registry v2), each
 * with the HTTP status it is answered with, and their JSON body.
 */
export type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'TAG_INVALID'
  | 'RANGE_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'NOT_FOUND'
  | 'UNKNOWN';

const STATUS: Record<ErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  NOT_FOUND: 404,
  UNKNOWN: 500,
};

/** An error answered to the client as `{"errors":[{code,message,detail}]}`. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers, e.g. the auth challenge or the upload's Range. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { detail?: unknown; status?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? STATUS[code];
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
  }

  body(): string {
    const e: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) e['detail'] = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}

export const regError = (code: ErrorCode, message: string, detail?: unknown) =>
  new RegistryError(code, message, detail === undefined ? {} : { detail });
