/**
 * One layer tar into a directory: hashed (its diff ID) while it is
 * extracted. Used on the main thread for streamed layers and in the
 * extraction workers for stored blobs.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream, type Digest } from '../../lib/digest.js';
import { forwardInto } from '../../lib/streams.js';
import { applyLayer } from './apply.js';

export interface Extracted {
  diffId: Digest;
  /** Bytes of regular files. */
  size: number;
  /** Length of the uncompressed tar. */
  tarSize: number;
}

export async function extractTar(tar: Readable, dest: string): Promise<Extracted> {
  const hasher = new DigestStream();
  const feed = new PassThrough({ highWaterMark: 1 << 20 });
  const extracting = applyLayer(feed, dest).catch((err: unknown) => {
    tar.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  const [, applied] = await Promise.all([pipeline(tar, hasher, forwardInto(feed)), extracting]);
  return { diffId: hasher.digest(), size: applied.size, tarSize: hasher.size };
}
