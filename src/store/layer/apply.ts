/**
 * Extracts an uncompressed OCI layer tar into an empty directory, in the form
 * overlayfs reads as a lower layer: `.wh.name` entries become 0:0 character
 * devices and `.wh..wh..opq` becomes the `trusted.overlay.opaque` xattr.
 *
 * The tar is untrusted. Nothing it says may write outside `dest`: names are
 * cleaned lexically and refused when absolute or climbing out, every parent
 * must be a directory this layer created (never a symlink), files are opened
 * with O_EXCL|O_NOFOLLOW after removing what was there, and hard links may only
 * point at earlier entries of the same layer.
 *
 * Metadata system calls (create, chown, chmod, utimes, like the native xattr
 * and mknod helpers) are made synchronously: each takes microseconds on a local
 * file system, and a thread-pool round trip per call made extraction ten times
 * slower. File data streams in and is written asynchronously, chunk by chunk.
 */
import * as fss from 'node:fs';
import { promises as fs, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError, errnoCode, invalidArgument } from '../../lib/errors.js';
import { fileSink } from '../../lib/streams.js';
import { lsetxattr, mknod, S_IFCHR, S_IFIFO, XATTR_OPAQUE } from '../../lib/sys.js';
import { baseOf, cleanName, joinRel, parentOf, refuse } from './name.js';
import { XATTR_PREFIX, xattrTap } from './pax.js';

/** What `onEntry` hears about each tar entry once it is applied. */
export interface LayerEntry {
  /** The cleaned name ('' for the layer root). */
  path: string;
  /** tar-stream's entry type: file, directory, symlink, link, fifo, ... */
  type: string;
  size: number;
}

export interface ApplyOptions {
  onEntry?: (entry: LayerEntry) => void;
}

const WH = '.wh.';
const WH_META = '.wh..wh.';
const WH_OPAQUE = '.wh..wh..opq';

/** xattrs that only overlayfs may set: a layer carrying them would forge whiteouts, redirects and the like. */
const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

type Kind = 'dir' | 'file' | 'symlink' | 'other';

interface State {
  dest: string;
  /** Every path this layer has created, by kind. Parents are checked against it, never against the disk. */
  kinds: Map<string, Kind>;
  /** Directory times, set last because writing children changes them. */
  dirTimes: Map<string, [number, number]>;
}

interface Meta {
  uid: number;
  gid: number;
  mode: number;
  atime: number;
  mtime: number;
  xattrs: Map<string, Buffer>;
}

type Header = Omit<tar.Header, 'type' | 'pax'> & {
  type: tar.Header['type'] | null; // null for a type flag tar-stream does not know
  pax?: Record<string, string> | null;
  byteOffset?: number;
};

/** An entry's data as tar-stream hands it over; must be read or resumed for the next entry to come. */
type Body = AsyncIterable<unknown> & { resume(): unknown };

/**
 * Extracts the layer tar `tarStream` into the existing empty directory `dest`.
 * Returns the apparent size: the sum of the regular files' sizes. A malformed
 * or malicious tar is an InvalidArgument error naming the entry; extraction
 * stops there and leaves `dest` partly written for the caller to remove.
 */
export async function applyLayer(tarStream: Readable, dest: string, opts: ApplyOptions = {}): Promise<{ size: number }> {
  const st: State = { dest, kinds: new Map([['', 'dir']]), dirTimes: new Map() };
  const tap = xattrTap();
  const extract = tar.extract();
  // Which side failed decides the error: the source's own, or a malformed tar.
  let sourceError: unknown;
  let tarError: unknown;
  tarStream.once('error', (err) => {
    sourceError = err;
  });
  extract.on('error', (err) => {
    tarError = err;
  });
  const feed = pipeline(tarStream, tap.stream, extract);
  feed.catch(() => {}); // its errors also end the loop below, which reports them
  let size = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header as unknown as Header;
      const rel = cleanName(h.name, h.name);
      const n = await applyEntry(st, h, rel, tap.take(h.byteOffset ?? -1), entry);
      size += n;
      opts.onEntry?.({ path: rel, type: h.type ?? 'unknown', size: n });
    }
    await feed;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    if (sourceError !== undefined) throw sourceError;
    if (tarError !== undefined) throw invalidArgument(`invalid layer tar: ${messageOf(tarError)}`);
    throw err; // a file system error while writing
  }
  for (const [rel, [atime, mtime]] of st.dirTimes) fss.lutimesSync(join(dest, rel), atime, mtime);
  return { size };
}

/** Applies one entry; returns the bytes of file data written. */
async function applyEntry(
  st: State,
  h: Header,
  rel: string,
  raw: Map<string, Buffer> | undefined,
  body: Body,
): Promise<number> {
  const name = h.name;
  if (rel.startsWith(WH_META) && rel !== WH_OPAQUE) {
    body.resume(); // AUFS bookkeeping at the top (.wh..wh.plnk/, .wh..wh.aufs) is not part of the image
    return 0;
  }
  const base = baseOf(rel);
  if (base.startsWith(WH)) {
    body.resume();
    await whiteout(st, name, rel, base);
    return 0;
  }
  const type = h.type ?? 'unknown';
  if (rel === '' && type !== 'directory') throw refuse(name, 'a non-directory cannot replace the layer root');
  const meta = metaOf(h, raw);
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return file(st, name, rel, meta, body);
    case 'directory':
      body.resume();
      await directory(st, name, rel, meta);
      return 0;
    case 'symlink':
      body.resume();
      await symlink(st, name, rel, h.linkname ?? '', meta);
      return 0;
    case 'link':
      body.resume();
      await hardlink(st, name, rel, h.linkname ?? '');
      return 0;
    case 'fifo':
      body.resume();
      await fifo(st, name, rel, meta);
      return 0;
    case 'character-device':
    case 'block-device':
      body.resume();
      // A container's /dev is a fresh tmpfs at run time, so device nodes under
      // dev/ would never be seen: skip them. Anywhere else they are an attack.
      if (!rel.startsWith('dev/')) throw refuse(name, 'device node outside dev/');
      return 0;
    default:
      throw refuse(name, `unsupported entry type ${type}`);
  }
}

/** `.wh.name` hides `name` of lower layers; `.wh..wh..opq` hides the whole lower directory. */
async function whiteout(st: State, name: string, rel: string, base: string): Promise<void> {
  const parent = parentOf(rel);
  if (base === WH_OPAQUE) {
    ensureDir(st, parent, name);
    lsetxattr(join(st.dest, parent), XATTR_OPAQUE, 'y');
    return;
  }
  if (base.startsWith(WH_META)) return; // other AUFS bookkeeping (.wh..wh.plnk and such) means nothing here
  const target = base.slice(WH.length);
  if (target === '' || target === '.' || target === '..') throw refuse(name, 'invalid whiteout name');
  ensureDir(st, parent, name);
  const wrel = joinRel(parent, target);
  await create(st, wrel, (abs) => mknod(abs, S_IFCHR, 0, 0));
  st.kinds.set(wrel, 'other');
}

async function directory(st: State, name: string, rel: string, meta: Meta): Promise<void> {
  if (st.kinds.get(rel) !== 'dir') {
    // Not a directory yet (a directory over a directory only updates metadata).
    ensureDir(st, parentOf(rel), name);
    await create(st, rel, (abs) => fss.mkdirSync(abs, 0o700));
    st.kinds.set(rel, 'dir');
  }
  const abs = join(st.dest, rel);
  fss.lchownSync(abs, meta.uid, meta.gid);
  fss.chmodSync(abs, meta.mode);
  setXattrs(abs, meta.xattrs, name);
  st.dirTimes.set(rel, [meta.atime, meta.mtime]);
}

/** Streams the entry's body into a new file; returns its size. */
async function file(st: State, name: string, rel: string, meta: Meta, body: Body): Promise<number> {
  ensureDir(st, parentOf(rel), name);
  let fd = -1;
  const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
  const abs = await create(st, rel, (p) => {
    fd = fss.openSync(p, flags, 0o600);
  });
  st.kinds.set(rel, 'file');
  let written = 0;
  try {
    // tar-stream's entry streams are iterated, not piped: a truncated archive ends them without a close event.
    const sink = fileSink(fd);
    try {
      for await (const data of body) {
        written += (data as Buffer).length;
        if (!sink.write(data)) await once(sink, 'drain');
      }
      await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      sink.destroy();
      throw err;
    }
    // chown clears setuid/setgid and file capabilities, so mode and xattrs come after it.
    fss.fchownSync(fd, meta.uid, meta.gid);
    fss.fchmodSync(fd, meta.mode);
    fss.futimesSync(fd, meta.atime, meta.mtime);
  } finally {
    fss.closeSync(fd);
  }
  setXattrs(abs, meta.xattrs, name);
  return written;
}

/** Any target text is allowed: it is resolved inside the container at run time, never here. */
async function symlink(st: State, name: string, rel: string, target: string, meta: Meta): Promise<void> {
  if (target === '') throw refuse(name, 'symlink has no target');
  if (target.includes('\0')) throw refuse(name, 'symlink target contains NUL');
  ensureDir(st, parentOf(rel), name);
  const abs = await create(st, rel, (p) => fss.symlinkSync(target, p));
  st.kinds.set(rel, 'symlink');
  fss.lchownSync(abs, meta.uid, meta.gid);
  setXattrs(abs, meta.xattrs, name);
  fss.lutimesSync(abs, meta.atime, meta.mtime);
}

/**
 * The target must be a file or symlink this layer already wrote. The link
 * shares the target's inode, so the link header's own metadata is not applied
 * (a chown would strip the target's setuid bits and capabilities).
 */
async function hardlink(st: State, name: string, rel: string, linkname: string): Promise<void> {
  const target = cleanName(linkname, name, 'hard link target');
  const kind = st.kinds.get(target);
  if (kind === undefined) throw refuse(name, `hard link target ${JSON.stringify(linkname)} does not exist in this layer`);
  if (kind !== 'file' && kind !== 'symlink') {
    throw refuse(name, `hard link target ${JSON.stringify(linkname)} is not a regular file or symlink`);
  }
  if (target === rel) throw refuse(name, 'hard link to itself');
  ensureDir(st, parentOf(rel), name);
  // link(2) does not follow a symlink target: the new name gets the symlink itself.
  await create(st, rel, (p) => fss.linkSync(join(st.dest, target), p));
  st.kinds.set(rel, kind);
}

async function fifo(st: State, name: string, rel: string, meta: Meta): Promise<void> {
  ensureDir(st, parentOf(rel), name);
  const abs = await create(st, rel, (p) => mknod(p, S_IFIFO | 0o600));
  st.kinds.set(rel, 'other');
  fss.lchownSync(abs, meta.uid, meta.gid);
  fss.chmodSync(abs, meta.mode);
  setXattrs(abs, meta.xattrs, name);
  fss.lutimesSync(abs, meta.atime, meta.mtime);
}

/**
 * Makes `rel` a real directory of this layer, creating it and its missing
 * parents (0755 root:root, as a later entry for it may change). Refuses to go
 * through a symlink or a non-directory.
 */
function ensureDir(st: State, rel: string, entry: string): void {
  const kind = st.kinds.get(rel);
  if (kind === 'dir') return;
  if (kind === 'symlink') throw refuse(entry, `path passes through symlink ${JSON.stringify(rel)}`);
  if (kind !== undefined) throw refuse(entry, `parent ${JSON.stringify(rel)} is not a directory`);
  ensureDir(st, parentOf(rel), entry);
  const abs = join(st.dest, rel);
  try {
    fss.mkdirSync(abs, 0o755);
    fss.chmodSync(abs, 0o755); // whatever the umask
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    // Something this layer did not write (dest was not empty): trust only a real directory.
    const s = fss.lstatSync(abs);
    if (s.isSymbolicLink()) throw refuse(entry, `path passes through symlink ${JSON.stringify(rel)}`);
    if (!s.isDirectory()) throw refuse(entry, `parent ${JSON.stringify(rel)} is not a directory`);
  }
  st.kinds.set(rel, 'dir');
}

/**
 * Creates `rel` with `make` after removing whatever this layer had there (a
 * later entry wins, as in tar). `make` must fail with EEXIST rather than write
 * through an existing path; a leftover this layer did not write is removed and
 * `make` retried once.
 */
async function create(st: State, rel: string, make: (abs: string) => void): Promise<string> {
  const abs = join(st.dest, rel);
  const kind = st.kinds.get(rel);
  if (kind !== undefined) {
    await fs.rm(abs, { recursive: true, force: true }); // rm never follows symlinks
    forget(st, rel, kind);
  }
  try {
    make(abs);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    await fs.rm(abs, { recursive: true, force: true });
    make(abs);
  }
  return abs;
}

/** Drops a removed path, and everything under it if it was a directory, from the state. */
function forget(st: State, rel: string, kind: Kind): void {
  st.kinds.delete(rel);
  st.dirTimes.delete(rel);
  if (kind !== 'dir') return;
  const prefix = `${rel}/`;
  for (const k of st.kinds.keys()) if (k.startsWith(prefix)) st.kinds.delete(k);
  for (const k of st.dirTimes.keys()) if (k.startsWith(prefix)) st.dirTimes.delete(k);
}

/** Applies the tar's xattrs, except overlayfs's own; file systems or namespaces that refuse one are skipped. */
function setXattrs(abs: string, xattrs: Map<string, Buffer>, entry: string): void {
  for (const [key, value] of xattrs) {
    if (OVERLAY_XATTR.test(key)) continue;
    if (key === '' || key.includes('\0')) throw refuse(entry, `invalid xattr name ${JSON.stringify(key)}`);
    try {
      lsetxattr(abs, key, value);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EPERM') continue;
      if (code === 'EINVAL' || code === 'ERANGE' || code === 'E2BIG') {
        throw refuse(entry, `cannot set xattr ${JSON.stringify(key)}: ${code}`);
      }
      throw err;
    }
  }
}

/** Owner, mode, times and xattrs of an entry; PAX records override the ustar fields. */
function metaOf(h: Header, raw: Map<string, Buffer> | undefined): Meta {
  const pax = h.pax ?? {};
  // The xattrs come from the raw bytes (see pax.ts); tar-stream's text copy only cross-checks them.
  const textCount = Object.keys(pax).filter((k) => k.startsWith(XATTR_PREFIX)).length;
  if (textCount !== (raw?.size ?? 0)) throw refuse(h.name, 'xattr records could not be read');
  const mtime = paxNumber(pax.mtime) ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
  return {
    uid: paxId(pax.uid) ?? h.uid ?? 0,
    gid: paxId(pax.gid) ?? h.gid ?? 0,
    mode: (h.mode ?? 0) & 0o7777,
    atime: paxNumber(pax.atime) ?? mtime,
    mtime,
    xattrs: raw ?? new Map(),
  };
}

function paxNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function paxId(s: string | undefined): number | undefined {
  const n = paxNumber(s);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n < 0xffffffff ? n : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
