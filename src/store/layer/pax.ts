/**
 * Binary-safe PAX records. tar-stream reads and writes PAX values as UTF-8
 * text, which mangles xattr values that are raw bytes (security.capability is
 * a little-endian struct). So xattrs travel through this module instead: a tap
 * in front of tar-stream's extractor keeps the raw `SCHILY.xattr.*` values of
 * each entry, and the writer side encodes its own PAX header blocks.
 */
import { Transform, type TransformCallback } from 'node:stream';

export const XATTR_PREFIX = 'SCHILY.xattr.';

const BLOCK = 512;
/** tar-stream refuses PAX and GNU long-name payloads bigger than this. */
const MAX_META = 4 * 1024 * 1024;

/** Records of one PAX payload (`"<len> <key>=<value>\n"`...), values kept as bytes. */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  // Mirrors tar-stream's reader so both see the same keys.
  const out = new Map<string, Buffer>();
  while (buf.length > 0) {
    let i = 0;
    while (i < buf.length && buf[i] !== 0x20) i++;
    const len = parseInt(buf.subarray(0, i).toString('latin1'), 10);
    if (!len) break;
    const rec = buf.subarray(i + 1, len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) break;
    out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    buf = buf.subarray(len);
  }
  return out;
}

/** One PAX payload from records; each record's length prefix counts itself. */
export function encodePax(records: Iterable<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + String(body.length).length;
    if (String(len).length > String(body.length).length) len++;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

/** A ustar header block of type `x` announcing a PAX payload of `size` bytes. */
export function paxHeaderBlock(size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write('PaxHeader', 0, 'latin1');
  octal(b, 100, 8, 0o644);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, 0);
  b[156] = 0x78; // 'x'
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** Zero bytes that pad `size` bytes of data up to a whole tar block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function octal(b: Buffer, off: number, len: number, n: number): void {
  b.write(`${n.toString(8).padStart(len - 1, '0')}\0`, off, 'latin1');
}

/** A pass-through stream that records the raw xattrs of each tar entry it sees. */
export interface XattrTap {
  stream: Transform;
  /**
   * The xattrs of the entry whose header block ends at `offset` (tar-stream's
   * `header.byteOffset`), forgotten once taken.
   */
  take(offset: number): Map<string, Buffer> | undefined;
}

/**
 * Walks the tar's blocks the way tar-stream's extractor does (same sizes, same
 * special cases), so the offsets it records match the headers tar-stream emits.
 */
export function xattrTap(): XattrTap {
  const found = new Map<number, Map<string, Buffer>>();
  let pos = 0; // bytes seen so far
  let head: Buffer[] = []; // a header block being gathered
  let headLen = 0;
  let skip = 0; // data bytes to pass over before the next header
  let meta: { kind: 'local' | 'global' | 'none'; left: number; pad: number; parts: Buffer[] } | null = null;
  let global: Map<string, Buffer> | null = null;
  let local: Map<string, Buffer> | null = null;

  const onHeader = (b: Buffer, end: number) => {
    let sum = 8 * 0x20;
    for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += b[i]!;
    if (sum === 8 * 0x20) return; // an empty block
    let size = readSize(b);
    const flag = b[156] === 0 ? 0 : b[156]! - 0x30;
    if (flag === 72 || flag === 55 || flag === 27 || flag === 28 || flag === 30) {
      const kind = flag === 72 ? 'local' : flag === 55 ? 'global' : 'none';
      meta = { kind: size > MAX_META ? 'none' : kind, left: size, pad: padding(size).length, parts: [] };
      return;
    }
    const paxSize = local?.get('size');
    if (paxSize && paxSize.length > 0) size = parseInt(paxSize.toString('latin1'), 10) || 0;
    if (local) {
      const xattrs = new Map<string, Buffer>();
      for (const [k, v] of local) if (k.startsWith(XATTR_PREFIX)) xattrs.set(k.slice(XATTR_PREFIX.length), v);
      if (xattrs.size > 0) found.set(end, xattrs);
      local = null;
    }
    skip = isDirectory(b, flag) ? 0 : size + padding(size).length;
  };

  const onMeta = (m: NonNullable<typeof meta>) => {
    if (m.kind === 'none') return;
    const records = parsePax(Buffer.concat(m.parts));
    if (m.kind === 'global') global = records;
    else local = global ? new Map([...global, ...records]) : records;
  };

  const scan = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (meta) {
        const n = Math.min(meta.left, chunk.length - at);
        if (meta.kind !== 'none') meta.parts.push(chunk.subarray(at, at + n));
        meta.left -= n;
        at += n;
        if (meta.left === 0) {
          onMeta(meta);
          skip = meta.pad;
          meta = null;
        }
      } else if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
      } else {
        const n = Math.min(BLOCK - headLen, chunk.length - at);
        head.push(chunk.subarray(at, at + n));
        headLen += n;
        at += n;
        if (headLen === BLOCK) {
          const block = Buffer.concat(head);
          head = [];
          headLen = 0;
          onHeader(block, pos + at);
        }
      }
    }
    pos += chunk.length;
  };

  const stream = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      scan(chunk);
      cb(null, chunk);
    },
  });
  const take = (offset: number) => {
    const x = found.get(offset);
    found.delete(offset);
    return x;
  };
  return { stream, take };
}

/** The size field, octal or base-256, read as tar-stream reads it. */
function readSize(b: Buffer): number {
  const f = b.subarray(124, 136);
  if (f[0]! & 0x80) {
    if (f[0] !== 0x80) return 0; // negative or malformed; tar-stream rejects it
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  let s = 0;
  while (s < f.length && f[s] === 0x20) s++;
  let e = f.indexOf(0x20, s);
  if (e < 0) e = f.length;
  while (s < e && f[s] === 0) s++;
  if (s === e) return 0;
  const n = parseInt(f.subarray(s, e).toString('latin1'), 8);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** tar-stream treats type 5, and old-style type 0 names ending in '/', as directories (no data). */
function isDirectory(b: Buffer, flag: number): boolean {
  if (flag === 5) return true;
  if (flag !== 0) return false;
  const nul = b.indexOf(0, 0);
  const nameEnd = nul < 0 || nul > 100 ? 100 : nul;
  const ustar = b.subarray(257, 263).equals(Buffer.from('ustar\0', 'latin1'));
  if (ustar && b[345] !== 0) return nameEnd === 0 || b[nameEnd - 1] === 0x2f;
  return nameEnd > 0 && b[nameEnd - 1] === 0x2f;
}
