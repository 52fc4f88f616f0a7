/**
 * Error kinds. Domain code raises a BerthError of one kind with a message in
 * docker's words; the API edge maps the kind to an HTTP status once, the CLI
 * maps it to an exit code once.
 */
export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotModified'
  | 'NotImplemented'
  | 'Unavailable'
  | 'Internal';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  readonly context: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = `${kind}Error`;
    this.kind = kind;
    this.context = context;
  }
}

export const notFound = (message: string, context?: Record<string, unknown>) =>
  new BerthError('NotFound', message, context);
export const conflict = (message: string, context?: Record<string, unknown>) =>
  new BerthError('Conflict', message, context);
export const invalidArgument = (message: string, context?: Record<string, unknown>) =>
  new BerthError('InvalidArgument', message, context);
export const failedPrecondition = (message: string, context?: Record<string, unknown>) =>
  new BerthError('FailedPrecondition', message, context);
export const unauthorized = (message: string, context?: Record<string, unknown>) =>
  new BerthError('Unauthorized', message, context);
export const notImplemented = (message: string, context?: Record<string, unknown>) =>
  new BerthError('NotImplemented', message, context);
export const unavailable = (message: string, context?: Record<string, unknown>) =>
  new BerthError('Unavailable', message, context);
export const internal = (message: string, context?: Record<string, unknown>, cause?: unknown) =>
  new BerthError('Internal', message, context, { cause });

export function isKind(err: unknown, kind: ErrorKind): err is BerthError {
  return err instanceof BerthError && err.kind === kind;
}

/** Node's system errors carry a string code such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
