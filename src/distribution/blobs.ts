/**
 * The blob steps of the one copy pipeline that pull, push, save and load
 * share: a blob comes into the content store only through a write that
 * hashes it as it streams and commits it once it matches its digest
 * (`storeBlob` for archives, `fetchBlob` for registries, which also resumes
 * an interrupted download with Range); a stored layer goes out in the form
 * the receiver needs (`openLayer`: as stored, uncompressed for archives,
 * gzip for registries), hashed on the way when its digest is not known yet.
 */
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { BlobInfo, ContentStore } from '../core/content.js';
import { DigestStream, type Digest } from '../lib/digest.js';
import { BerthError, isKind } from '../lib/errors.js';
import type { Descriptor } from '../oci/image.js';
import { layerCompression } from '../oci/mediatypes.js';
import { openUncompressed } from './layers.js';
import type { RegistryClient } from './remote.js';

/** Streams a blob into the store; the write fails, leaving nothing, unless it hashes to `expected` (when given). */
export function storeBlob(content: ContentStore, source: Readable, expected?: Digest, size?: number): Promise<BlobInfo> {
  const opts: { expected?: Digest; size?: number } = {};
  if (expected) opts.expected = expected;
  if (size !== undefined) opts.size = size;
  return content.write(source, opts);
}

/** A pass-through that reports the running byte count (from `start`) and calls `onEnd` when the source is drained. */
export function counting(onData?: (bytes: number) => void, start = 0, onEnd?: () => void): Transform {
  let seen = start;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      onData?.(seen);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      onEnd?.();
      cb();
    },
  });
}

export interface FetchHooks {
  /** Bytes of the blob held so far, counting what an earlier attempt left. */
  onData?: (bytes: number) => void;
  /** The download ended; the digest is being checked. */
  onVerify?: () => void;
  /**
   * Called as each attempt starts, with the offset it starts from: a
   * writable returned gets a copy of the bytes of this attempt (the
   * download waits for it). An attempt that fails destroys it.
   */
  onStream?: (offset: number) => Promise<Writable | undefined>;
  /** Attempts at a download interrupted by the network (docker's is 5). */
  attempts?: number;
  signal?: AbortSignal;
}

function retryable(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return false;
  if (err instanceof BerthError) return err.kind === 'Unavailable';
  return true;
}

/**
 * Copies a blob from a registry into the content store, verified against
 * its descriptor. The bytes arrive into the blob's resumable ingest: a
 * download cut short is continued from where it stopped (Range), in this
 * pull or the next, and restarted from zero when the registry ignores the
 * range. A blob already stored is not fetched.
 */
export async function fetchBlob(content: ContentStore, client: RegistryClient, repository: string, desc: Descriptor, hooks: FetchHooks = {}): Promise<BlobInfo> {
  const attempts = hooks.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const have = await content.info(desc.digest);
    if (have) return have;
    const ingest = await content.resume(desc.digest, desc.size);
    try {
      if (await content.info(desc.digest)) continue;
      const blob = await client.blob(repository, desc.digest, ingest.offset);
      if (blob.offset !== ingest.offset) await ingest.reset();
      hooks.onData?.(blob.offset);
      const counted = counting(hooks.onData, blob.offset, hooks.onVerify);
      const copy = await hooks.onStream?.(blob.offset);
      blob.stream.on('error', (err) => {
        counted.destroy(err);
        copy?.destroy(err);
      });
      if (copy) blob.stream.pipe(copy);
      try {
        return await ingest.commit(blob.stream.pipe(counted));
      } catch (err) {
        copy?.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    } catch (err) {
      if (isKind(err, 'InvalidArgument') || attempt >= attempts || !retryable(err, hooks.signal)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    } finally {
      ingest.close();
    }
  }
}

/** The form a stored layer is sent in. */
export type LayerForm = 'stored' | 'uncompressed' | 'gzip';

export interface OpenedLayer {
  stream: Readable;
  /** The digest and size of what `stream` yields: known up front, or once it has ended. */
  digest(): Digest;
  size(): number;
}

/**
 * Opens a stored layer blob in the form asked for. `stored` and
 * `uncompressed` of an uncompressed blob read the blob itself (digest known);
 * other conversions are hashed as they stream, so `digest()` is valid once
 * the stream has ended.
 */
export async function openLayer(content: ContentStore, desc: Descriptor, form: LayerForm, onData?: (bytes: number) => void): Promise<OpenedLayer> {
  const stored = layerCompression(desc.mediaType);
  if (form === 'stored' || (form === 'uncompressed' && stored === 'none')) {
    const stream = chain(await content.open(desc.digest), counting(onData));
    return { stream, digest: () => desc.digest, size: () => desc.size };
  }
  const hasher = new DigestStream();
  const source = chain(await openUncompressed(content, desc.digest), counting(onData));
  const out = form === 'gzip' ? chain(source, createGzip(), hasher) : chain(source, hasher);
  return { stream: out, digest: () => hasher.digest(), size: () => hasher.size };
}

/** Pipes `first` through `rest`, destroying the last stream with any error along the way. */
function chain(first: Readable, ...rest: Transform[]): Readable {
  let cur: Readable = first;
  const last = rest[rest.length - 1];
  for (const t of rest) {
    cur.on('error', (err) => (last ?? t).destroy(err));
    cur = cur.pipe(t);
  }
  return cur;
}

/** Calls `fn` at most every 100 ms (and always when forced), for progress. */
export function throttled(fn: (n: number) => void, everyMs = 100): (n: number, force?: boolean) => void {
  let last = 0;
  return (n, force = false) => {
    const now = Date.now();
    if (!force && now - last < everyMs) return;
    last = now;
    fn(n);
  };
}

export interface Limiter {
  /** Runs `task` once fewer than the limit are running, in the order asked. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Waits for a place, in the order asked; the function returned gives it back (calling it again does nothing). */
  acquire(): Promise<() => void>;
  /** Tasks not started yet fail with `reason` instead of running. */
  cancel(reason: unknown): void;
}

export function limiter(max: number): Limiter {
  let running = 0;
  let cancelled: { reason: unknown } | undefined;
  const waiting: Array<() => void> = [];
  const acquire = async (): Promise<() => void> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      running--;
      waiting.shift()?.();
    };
    if (cancelled) {
      release();
      throw cancelled.reason;
    }
    return release;
  };
  return {
    acquire,
    async run<T>(task: () => Promise<T>): Promise<T> {
      const release = await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
    cancel(reason: unknown) {
      cancelled ??= { reason };
    },
  };
}
