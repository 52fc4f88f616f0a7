/**
 * The content store: immutable blobs addressed by their sha256 digest.
 *
 * Promises: a blob is visible only once complete, verified and durable; a
 * failed or aborted write leaves nothing visible; writing a blob that already
 * exists is a cheap no-op that still verifies the incoming bytes.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../lib/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface WriteOptions {
  /** When given, the data must hash to this digest or the write fails with InvalidArgument. */
  expected?: Digest;
  /** When given, the data must have exactly this many bytes. */
  size?: number;
}

export interface ContentStore {
  /** Streams `source` into the store; resolves once the blob is committed. */
  write(source: Readable, opts?: WriteOptions): Promise<BlobInfo>;
  put(data: Buffer | string, opts?: WriteOptions): Promise<BlobInfo>;
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /** Whole blob in memory: for manifests and configs, not layers. NotFound when absent. */
  read(digest: Digest): Promise<Buffer>;
  /** A stream of the blob; NotFound when absent. */
  open(digest: Digest): Promise<Readable>;
  delete(digest: Digest): Promise<void>;
  list(): Promise<BlobInfo[]>;
  /** Removes ingests left by a crash. Called once at start, before any write. */
  cleanIngests(): Promise<number>;
}
