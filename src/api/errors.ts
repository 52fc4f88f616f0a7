/** Error kinds mapped to HTTP statuses, once, for the whole API. */
import type { ServerResponse } from 'node:http';
import { BerthError, type ErrorKind } from '../lib/errors.js';

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidArgument: 400,
  FailedPrecondition: 409,
  Unauthorized: 401,
  Forbidden: 403,
  NotModified: 304,
  NotImplemented: 501,
  Unavailable: 503,
  Internal: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.kind] : 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Docker's error body: `{"message": ...}` with exactly `application/json`, which the Go client compares with ==. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
