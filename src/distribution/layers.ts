/**
 * The layer step of the copy pipeline, shared by import, load and pull: one
 * pass over a layer blob stores it in the content store exactly as received
 * (digest-verified when the digest is known) while its decompressed form is
 * extracted by the snapshotter (diff-ID-verified when known).
 */
import { PassThrough, Readable } from 'node:stream';
import type { BlobInfo, ContentStore } from '../core/content.js';
import type { Layer, PreparedLayer, Snapshotter } from '../core/snapshots.js';
import { notFound } from '../lib/errors.js';
import type { Digest } from '../lib/digest.js';
import { peek } from '../lib/streams.js';
import { decompress, decompressSniffed } from '../oci/compression.js';
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
 * blobs arrived first, a pull whose download finished) on an extraction
 * worker, then commits it on `parent`; `onData` counts the stored
 * (compressed) bytes read.
 */
export async function unpackStoredLayer(
  deps: LayerDeps,
  blob: Digest,
  parent: Digest | null,
  expectedDiffId: Digest | undefined,
  onData?: (bytes: number) => void,
): Promise<{ layer: Layer }> {
  const prepared = await extractStoredLayer(deps, blob, expectedDiffId, onData);
  return { layer: await deps.snapshots.commitPrepared(prepared, parent) };
}

/** The extraction half of `unpackStoredLayer`: the layer is ready to commit once its parent is. */
export async function extractStoredLayer(deps: LayerDeps, blob: Digest, expectedDiffId: Digest | undefined, onData?: (bytes: number) => void): Promise<PreparedLayer> {
  if (!(await deps.content.info(blob))) throw notFound(`content ${blob}: not found`);
  return deps.snapshots.extractBlob(deps.content.path(blob), expectedDiffId, onData);
}

/** A stored layer blob as an uncompressed tar stream, whatever its compression. */
export async function openUncompressed(content: ContentStore, blob: Digest, onData?: (bytes: number) => void): Promise<Readable> {
  const source = await content.open(blob);
  if (onData) {
    let seen = 0;
    source.on('data', (chunk: Buffer) => onData((seen += chunk.length)));
  }
  return decompressSniffed(source);
}
