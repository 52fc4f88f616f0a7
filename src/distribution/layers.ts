/**
 * The layer step of the copy pipeline, shared by import, load and pull: one
 * pass over a layer blob stores it in the content store exactly as received
 * (digest-verified when the digest is known) while its decompressed form is
 * extracted by the snapshotter (diff-ID-verified when known).
 */
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { BlobInfo, ContentStore } from '../core/content.js';
import type { Layer, Snapshotter } from '../core/snapshots.js';
import type { Digest } from '../lib/digest.js';
import { gunzip, peek } from '../lib/streams.js';
import { sniffCompression, type Compression } from '../oci/mediatypes.js';

export interface LayerIngest {
  blob: BlobInfo;
  layer: Layer;
  compression: Compression;
}

export interface IngestOptions {
  parent: Digest | null;
  expectedDigest?: Digest;
  expectedSize?: number;
  expectedDiffId?: Digest;
  /** Bytes seen so far, for progress display. */
  onData?: (bytes: number) => void;
}

export interface LayerDeps {
  content: ContentStore;
  snapshots: Snapshotter;
}

export function decompress(source: Readable, compression: Compression): Readable {
  if (compression === 'none') return source;
  const out = compression === 'gzip' ? gunzip() : zstdDecompress();
  pipeline(source, out).catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** A streaming zstd decompressor (Node 20's zlib has none). */
export function zstdDecompress(): Transform {
  let pending: Buffer[] = [];
  const z = new ZstdDecompress((data) => {
    pending.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const flush = (t: Transform) => {
    for (const b of pending) t.push(b);
    pending = [];
  };
  return new Transform({
    readableHighWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        z.push(chunk);
      } catch (err) {
        return cb(new Error(`zstd: ${(err as Error).message}`));
      }
      flush(this);
      cb();
    },
    flush(cb: TransformCallback) {
      try {
        z.push(new Uint8Array(0), true);
      } catch (err) {
        return cb(new Error(`zstd: ${(err as Error).message}`));
      }
      flush(this);
      cb();
    },
  });
}

export async function ingestLayer(deps: LayerDeps, source: Readable, opts: IngestOptions): Promise<LayerIngest> {
  const { head, stream } = await peek(source, 4);
  const compression = sniffCompression(head);
  const toContent = new PassThrough({ highWaterMark: 1 << 20 });
  const toExtract = new PassThrough({ highWaterMark: 1 << 20 });
  if (opts.onData) {
    let seen = 0;
    stream.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      opts.onData?.(seen);
    });
  }
  stream.pipe(toContent);
  stream.pipe(toExtract);
  stream.on('error', (err) => {
    toContent.destroy(err);
    toExtract.destroy(err);
  });
  const stop = (err: unknown): never => {
    stream.unpipe();
    stream.destroy();
    toContent.destroy();
    toExtract.destroy();
    throw err;
  };
  const writeOpts: { expected?: Digest; size?: number } = {};
  if (opts.expectedDigest) writeOpts.expected = opts.expectedDigest;
  if (opts.expectedSize !== undefined) writeOpts.size = opts.expectedSize;
  const [blob, layer] = await Promise.all([
    deps.content.write(toContent, writeOpts).catch(stop),
    deps.snapshots.apply(opts.parent, decompress(toExtract, compression), opts.expectedDiffId).catch(stop),
  ]);
  return { blob, layer, compression };
}

/**
 * Extracts a layer blob that is already in the content store (a load whose
 * blobs arrived first, a pull whose download finished); `onData` counts the
 * stored (compressed) bytes read.
 */
export async function unpackStoredLayer(
  deps: LayerDeps,
  blob: Digest,
  parent: Digest | null,
  expectedDiffId: Digest | undefined,
  onData?: (bytes: number) => void,
): Promise<{ layer: Layer }> {
  const layer = await deps.snapshots.apply(parent, await openUncompressed(deps.content, blob, onData), expectedDiffId);
  return { layer };
}

/** A stored layer blob as an uncompressed tar stream, whatever its compression. */
export async function openUncompressed(content: ContentStore, blob: Digest, onData?: (bytes: number) => void): Promise<Readable> {
  const source = await content.open(blob);
  if (onData) {
    let seen = 0;
    source.on('data', (chunk: Buffer) => onData((seen += chunk.length)));
  }
  const { head, stream } = await peek(source, 4);
  return decompress(stream, sniffCompression(head));
}
