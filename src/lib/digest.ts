/** sha256 digests in OCI form (`sha256:<64 hex>`), computed while data streams. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidArgument } from './errors.js';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw invalidArgument(`invalid digest: ${JSON.stringify(s)}`);
  return s;
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The 64 hex characters of a digest. */
export function hexOf(d: Digest): string {
  return d.slice(7);
}

/** The 12-character short form docker prints. */
export function shortId(idOrDigest: string): string {
  const hex = idOrDigest.startsWith('sha256:') ? idOrDigest.slice(7) : idOrDigest;
  return hex.slice(0, 12);
}

/** A pass-through stream that counts and hashes what flows through it. */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.feed(chunk);
    cb(null, chunk);
  }

  /** Counts and hashes bytes that do not flow through the stream (a prefix already on disk). */
  feed(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  /** The digest of everything seen; valid once the stream has ended. */
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}
