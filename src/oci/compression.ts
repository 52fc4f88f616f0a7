/**
 * Layer decompression: gzip through zlib (on the thread pool), zstd through
 * fzstd (Node 20's zlib has none). What a layer is compressed with comes
 * from its first bytes (sniffCompression), not from its media type.
 */
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { Decompress as ZstdDecompress } from 'fzstd';
import { gunzip, peek } from '../lib/streams.js';
import { sniffCompression, type Compression } from './mediatypes.js';

export function decompress(source: Readable, compression: Compression): Readable {
  if (compression === 'none') return source;
  const out = compression === 'gzip' ? gunzip() : zstdDecompress();
  pipeline(source, out).catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** A layer's bytes in any compression, as the uncompressed tar. */
export async function decompressSniffed(source: Readable): Promise<Readable> {
  const { head, stream } = await peek(source, 4);
  return decompress(stream, sniffCompression(head));
}

/** A streaming zstd decompressor. */
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
