/**
 * Writes a layer directory in overlayfs's form (an upper dir, or a layer made
 * by applyLayer) as an uncompressed OCI layer tar: 0:0 character devices become
 * `.wh.<name>` entries and opaque directories get a `.wh..wh..opq` entry.
 *
 * Entries come in a fixed order (names sorted, each directory before its
 * children), so the same tree always gives the same tar.
 *
 * Metadata system calls (readdir, lstat, readlink, open, close, like the native
 * xattr helpers) are made synchronously: each takes microseconds on a local
 * file system, and a thread-pool round trip per call made the walk several
 * times slower. File data is read asynchronously.
 */
import * as fss from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { lgetxattr, llistxattr, XATTR_OPAQUE } from '../../lib/sys.js';
import { baseOf, joinRel, parentOf } from './name.js';
import { encodePax, padding, paxHeaderBlock, XATTR_PREFIX } from './pax.js';

/** overlayfs's own xattrs describe the upper dir, not the layer; they never go in the tar. */
const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;
/** The largest uid/gid tar-stream writes in a ustar field; bigger ones go in PAX records. */
const MAX_USTAR_ID = 0o777777;
/** The largest mtime a ustar field holds (11 octal digits). */
const MAX_USTAR_TIME = 0o77777777777;

type Header = tar.Header;

/** One tar entry to write: its header, its xattrs and, for a regular file or symlink, its path. */
interface Item {
  header: Partial<Header> & { name: string };
  xattrs: Array<[string, Buffer]>;
  source?: string;
  /** A small file's whole content, read ahead. */
  data?: Promise<Buffer>;
}

/**
 * Files up to SMALL bytes are read up to AHEAD entries early, so that their
 * reads overlap in the thread pool instead of costing a round trip each in turn.
 */
const SMALL = 64 * 1024;
const AHEAD = 8;

/** An uncompressed tar of the layer directory `upperDir`, produced as it is read; `onFile` hears each regular file's size. */
export function diffTar(upperDir: string, opts: { onFile?: (size: number) => void } = {}): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  let finished = false;
  out.once('close', () => {
    if (!finished) pack.destroy(); // the reader went away: stop walking
  });

  const produce = async () => {
    const links = new Map<string, string>();
    const ahead: Item[] = [];
    const emit = async (item: Item) => {
      await room(out);
      if (out.destroyed) throw new Error('tar reader went away');
      await writeItem(pack, item);
    };
    for (const [rel, st] of walk(upperDir, '')) {
      for (const item of itemsFor(upperDir, rel, st, links)) {
        const size = item.header.size ?? 0;
        if (item.header.type === 'file') opts.onFile?.(size);
        if (item.header.type === 'file' && size > 0 && size <= SMALL) {
          item.data = readWhole(item.source!, size);
          item.data.catch(() => {}); // awaited when the entry is written
        }
        ahead.push(item);
        if (ahead.length > AHEAD) await emit(ahead.shift()!);
      }
    }
    for (const item of ahead) await emit(item);
    pack.finalize();
  };
  const pump = async () => {
    for await (const chunk of pack) {
      if (!out.write(chunk)) await room(out);
    }
    finished = true;
    if (!out.destroyed) out.end();
  };
  produce().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  pump().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

/** Every path under `root`, depth first, names sorted, each directory before its children. */
function* walk(root: string, rel: string): Generator<[string, BigIntStats]> {
  const names = fss.readdirSync(join(root, rel)).sort();
  for (const name of names) {
    const child = joinRel(rel, name);
    const st = fss.lstatSync(join(root, child), { bigint: true });
    yield [child, st];
    if (st.isDirectory()) yield* walk(root, child);
  }
}

/** The tar entries for one path: none (sockets), one, or two (an opaque directory and its marker). */
function itemsFor(root: string, rel: string, st: BigIntStats, links: Map<string, string>): Item[] {
  const abs = join(root, rel);
  const base = {
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: new Date(Math.min(Math.max(Number(st.mtimeNs / 1_000_000_000n), 0), MAX_USTAR_TIME) * 1000),
  };
  if (st.isCharacterDevice() && st.rdev === 0n) {
    // An overlayfs whiteout (which overlayfs may share between names as one hard-linked inode).
    const name = joinRel(parentOf(rel), `.wh.${baseOf(rel)}`);
    return [{ header: { ...base, name, mode: 0o600, type: 'file', size: 0 }, xattrs: [] }];
  }
  if (st.isSocket()) return []; // tar has no socket type; a socket is only alive while its process runs
  const xattrs = readXattrs(abs);
  if (st.isDirectory()) {
    const items: Item[] = [{ header: { ...base, name: `${rel}/`, type: 'directory' }, xattrs }];
    if (lgetxattr(abs, XATTR_OPAQUE)?.toString() === 'y') {
      const name = `${rel}/.wh..wh..opq`;
      items.push({ header: { ...base, name, mode: base.mode & 0o777, type: 'file', size: 0 }, xattrs: [] });
    }
    return items;
  }
  if ((st.isFile() || st.isSymbolicLink()) && st.nlink > 1n) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) return [{ header: { ...base, name: rel, type: 'link', linkname: first }, xattrs: [] }];
    links.set(key, rel);
  }
  if (st.isFile()) return [{ header: { ...base, name: rel, type: 'file', size: Number(st.size) }, xattrs, source: abs }];
  if (st.isSymbolicLink()) return [{ header: { ...base, name: rel, type: 'symlink' }, xattrs, source: abs }];
  if (st.isFIFO()) return [{ header: { ...base, name: rel, type: 'fifo' }, xattrs }];
  const { major, minor } = splitDev(st.rdev);
  const type = st.isCharacterDevice() ? 'character-device' : 'block-device';
  return [{ header: { ...base, name: rel, type, devmajor: major, devminor: minor }, xattrs }];
}

/** The path's xattrs, sorted by name, without overlayfs's own. */
function readXattrs(abs: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const key of llistxattr(abs).sort()) {
    if (OVERLAY_XATTR.test(key)) continue;
    const value = lgetxattr(abs, key);
    if (value !== null) out.push([key, value]);
  }
  return out;
}

/** Linux's dev_t encoding (glibc's gnu_dev_major/gnu_dev_minor). */
function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** Writes one entry and resolves once tar-stream has taken all of it. */
async function writeItem(pack: tar.Pack, item: Item): Promise<void> {
  const header = { ...item.header };
  if (header.type === 'symlink') header.linkname = fss.readlinkSync(item.source!);
  writePax(pack, header, item.xattrs);
  let sink!: ReturnType<tar.Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  done.catch(() => {}); // awaited below; a failure while the data is still copying is not unhandled
  if (header.type === 'file') {
    if (item.data) sink.write(await item.data);
    else if (header.size! > 0) await copyFile(item.source!, header.size!, sink);
    if (!sink.destroying) sink.end(undefined);
  }
  await done;
}

/**
 * tar-stream writes PAX values as UTF-8 text, which would corrupt binary xattr
 * values, so any PAX header this entry needs is written here, straight into
 * the pack stream between two entries. The ustar header that follows then
 * only gets names tar-stream can store without a PAX header of its own (which
 * would replace this one): readers take the real ones from these records.
 */
function writePax(pack: tar.Pack, header: Partial<Header> & { name: string }, xattrs: Array<[string, Buffer]>): void {
  const records: Array<[string, Buffer | string]> = [];
  if (!fitsUstar(header.name)) records.push(['path', header.name]);
  if (header.linkname && !fitsUstar(header.linkname)) records.push(['linkpath', header.linkname]);
  if ((header.uid ?? 0) > MAX_USTAR_ID) records.push(['uid', String(header.uid)]);
  if ((header.gid ?? 0) > MAX_USTAR_ID) records.push(['gid', String(header.gid)]);
  for (const [key, value] of xattrs) records.push([XATTR_PREFIX + key, value]);
  if (records.length === 0) return;
  const payload = encodePax(records);
  pack.push(Buffer.concat([paxHeaderBlock(payload.length), payload, padding(payload.length)]));
  header.name = ustarStandIn(header.name);
  if (header.linkname) header.linkname = ustarStandIn(header.linkname);
}

/** Whether tar-stream stores the name in a ustar field as is: ASCII and at most 100 bytes. */
function fitsUstar(s: string): boolean {
  return s.length <= 100 && /^[\x01-\x7f]*$/.test(s);
}

/** A printable ASCII stand-in of at most 100 bytes for a name whose real form is in a PAX record. */
function ustarStandIn(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(-100);
}

/** Copies exactly `size` bytes of a regular file into the entry, with backpressure. */
async function copyFile(path: string, size: number, sink: ReturnType<tar.Pack['entry']>): Promise<void> {
  const fd = fss.openSync(path, fss.constants.O_RDONLY | fss.constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0 && !sink.destroying) {
      const buf = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
      const n = await read(fd, buf, size - left);
      if (n === 0) throw new Error(`${path} shrank while it was being read`);
      left -= n;
      if (!sink.write(buf.subarray(0, n))) await drained(sink);
    }
  } finally {
    fss.closeSync(fd);
  }
}

/** Exactly `size` bytes of a small regular file. */
async function readWhole(path: string, size: number): Promise<Buffer> {
  const fd = fss.openSync(path, fss.constants.O_RDONLY | fss.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) {
      const n = await read(fd, buf.subarray(at), at);
      if (n === 0) throw new Error(`${path} shrank while it was being read`);
      at += n;
    }
    return buf;
  } finally {
    fss.closeSync(fd);
  }
}

function read(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fss.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function drained(sink: ReturnType<tar.Pack['entry']>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

/** Resolves once `out` wants more data (or is gone). */
function room(out: PassThrough): Promise<void> {
  if (!out.writableNeedDrain || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
