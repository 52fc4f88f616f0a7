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

/**
 * A write keyed by the digest it must reach, which survives interruption: the
 * bytes received so far stay in the ingest area and a later `resume` of the
 * same digest continues after them. Held bytes are never visible as a blob.
 * One holder at a time; `resume` waits for the previous holder to finish.
 */
export interface Ingest {
  /** Bytes already held from an earlier attempt; 0 for a fresh one. */
  readonly offset: number;
  /**
   * Appends `rest` (the blob from byte `offset` on), hashes the whole (held
   * bytes are read back), checks digest and size, commits and releases the
   * ingest. When `rest` fails, what arrived stays held for the next attempt;
   * on a digest or size mismatch the held bytes are dropped (InvalidArgument).
   */
  commit(rest: Readable): Promise<BlobInfo>;
  /** Drops the held bytes: the source cannot continue from `offset`. */
  reset(): Promise<void>;
  /** Releases the ingest, keeping what it holds. Idempotent; a no-op after commit. */
  close(): void;
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
  /** Where a committed blob lives on disk, for readers off the main thread (whether it is there is for `info` to say). */
  path(digest: Digest): string;
  delete(digest: Digest): Promise<void>;
  list(): Promise<BlobInfo[]>;
  /** Opens the resumable ingest for `expected` (see Ingest); `size`, when known, is checked at commit. */
  resume(expected: Digest, size?: number): Promise<Ingest>;
  /**
   * Removes ingests left by a crash. Called once at start, before any write.
   * Resumable ingests younger than a day are kept for the pull that continues them.
   */
  cleanIngests(): Promise<number>;
}
