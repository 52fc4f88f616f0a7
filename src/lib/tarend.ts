/**
 * Completing a tar that stops early. The docker CLI adds a Dockerfile from
 * outside the context with a tar rewriter that closes its pipe before its tar
 * writer, so that archive ends right after the last file's data: no padding
 * of the last block, no two zero blocks marking the end. Go's tar reader
 * takes that as a clean end of archive. `completeTar` passes a tar through
 * unchanged and, when it ends at an entry boundary or inside an entry's
 * padding, adds the missing padding and end blocks, so a strict reader
 * accepts it too. A tar cut inside a header or inside an entry's data stays
 * cut, for the reader to report.
 */
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

/** Entry types that carry no data whatever their size field says (Go's isHeaderOnlyType). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
/** Entries whose data describes the next entry. */
const PAX_LOCAL = 'x';
const MAX_PAX = 1 << 20;

/** A numeric header field: octal text, or base-256 when the top bit of the first byte is set. */
function numeric(field: Buffer): number {
  if (field.length > 0 && (field[0]! & 0x80) !== 0) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8) || 0;
}

/** The `size` record of PAX extended header data, if any. */
function paxSize(data: Buffer): number | undefined {
  let size: number | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(data.toString('latin1', pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'size') {
      const n = Number(record.slice(eq + 1));
      if (Number.isFinite(n) && n >= 0) size = n;
    }
    pos += len;
  }
  return size;
}

export function completeTar(): Transform {
  // where we are: collecting a header block, or inside an entry's data and padding
  let header = Buffer.alloc(0);
  let dataLeft = 0;
  let padLeft = 0;
  let zeroBlocks = 0;
  let pax: Buffer[] | undefined;
  let paxLength = 0;
  let nextSize: number | undefined;

  const onHeader = (h: Buffer) => {
    if (h.every((b) => b === 0)) {
      zeroBlocks++;
      return;
    }
    zeroBlocks = 0;
    const type = String.fromCharCode(h[156]!) || '0';
    let size = numeric(h.subarray(124, 136));
    if (nextSize !== undefined) {
      size = nextSize;
      nextSize = undefined;
    }
    if (HEADER_ONLY.has(type)) size = 0;
    dataLeft = size;
    padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    pax = type === PAX_LOCAL && size <= MAX_PAX ? [] : undefined;
    paxLength = 0;
    if (pax && size === 0) pax = undefined;
  };

  const scan = (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length) {
      if (dataLeft > 0) {
        const n = Math.min(dataLeft, chunk.length - pos);
        if (pax) {
          pax.push(chunk.subarray(pos, pos + n));
          paxLength += n;
        }
        dataLeft -= n;
        pos += n;
        if (dataLeft === 0 && pax) {
          nextSize = paxSize(Buffer.concat(pax, paxLength));
          pax = undefined;
        }
      } else if (padLeft > 0) {
        const n = Math.min(padLeft, chunk.length - pos);
        padLeft -= n;
        pos += n;
      } else {
        const n = Math.min(BLOCK - header.length, chunk.length - pos);
        header = Buffer.concat([header, chunk.subarray(pos, pos + n)]);
        pos += n;
        if (header.length === BLOCK) {
          const h = header;
          header = Buffer.alloc(0);
          onHeader(h);
        }
      }
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      scan(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      // cut inside a header or inside data: leave it for the reader to refuse
      if (dataLeft > 0 || (header.length > 0 && !header.every((b) => b === 0))) return cb();
      let missing = padLeft + (header.length > 0 ? BLOCK - header.length : 0);
      if (header.length > 0) zeroBlocks++;
      if (zeroBlocks < 2) missing += (2 - zeroBlocks) * BLOCK;
      cb(null, missing > 0 ? Buffer.alloc(missing) : undefined);
    },
  });
}
