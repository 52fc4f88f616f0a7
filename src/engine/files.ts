/**
 * Files of a container: path stat and archive (docker cp), extraction into a
 * directory, export of the whole file system and the list of changes
 * (docker diff). Every path is resolved inside the container's root with
 * symlinks evaluated relative to that root, so nothing reaches the host's
 * files. The writable layer is mounted for the duration of an operation when
 * the container is not running.
 */
import { isMountPoint, resolveInRoot } from '../lib/fsutil.js';
import * as fss from 'node:fs';
import { promises as fs, constants as fsc, type BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ContainerRecord } from '../core/containers.js';
import type { Snapshotter } from '../core/snapshots.js';
import { errnoCode, invalidArgument, notFound, BerthError } from '../lib/errors.js';
import { lgetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO, XATTR_OPAQUE } from '../lib/sys.js';
import { resolveUser } from '../runtime/user.js';
import type { ContainerService } from './containers.js';
import type { Events } from './events.js';

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

export interface FileDeps {
  containers: ContainerService;
  snapshots: Snapshotter;
  events: Events;
}

/**
 * Files the runtime creates in the writable layer as mount points; docker
 * keeps them in a separate init layer, so they are never changes.
 */
export const INIT_PATHS = new Set(['/dev/pts', '/dev/shm', '/dev/console', '/proc', '/sys', '/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/mtab', '/dev']);

// Go os.FileMode bits.
const M_DIR = 2 ** 31;
const M_SYMLINK = 2 ** 27;
const M_DEVICE = 2 ** 26;
const M_PIPE = 2 ** 25;
const M_SOCKET = 2 ** 24;
const M_SETUID = 2 ** 23;
const M_SETGID = 2 ** 22;
const M_CHARDEV = 2 ** 21;
const M_STICKY = 2 ** 20;

/** A POSIX st_mode as Go's os.FileMode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  if (mode & 0o4000) m += M_SETUID;
  if (mode & 0o2000) m += M_SETGID;
  if (mode & 0o1000) m += M_STICKY;
  switch (mode & 0o170000) {
    case 0o040000:
      m += M_DIR;
      break;
    case 0o120000:
      m += M_SYMLINK;
      break;
    case 0o010000:
      m += M_PIPE;
      break;
    case 0o140000:
      m += M_SOCKET;
      break;
    case 0o060000:
      m += M_DEVICE;
      break;
    case 0o020000:
      m += M_DEVICE + M_CHARDEV;
      break;
  }
  return m;
}

/** Go's RFC3339Nano in UTC: fraction without trailing zeros. */
export function rfc3339Nano(sec: bigint, nsec: bigint): string {
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const frac = nsec === 0n ? '' : `.${nsec.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${frac}Z`;
}

/** The container path for a host path under root. */
function inContainer(root: string, host: string): string {
  const rel = posix.relative(root, host);
  return `/${rel}`;
}

/** `filepath.Join("/", p)` keeping a trailing `/` or `/.` as docker does. */
function absPathOf(p: string): string {
  let abs = posix.normalize(`/${p}`);
  if (abs.length > 1 && abs.endsWith('/')) abs = abs.slice(0, -1);
  if (p.endsWith('/.') || p === '.') abs = abs === '/' ? '/.' : `${abs}/.`;
  else if (p.endsWith('/') && abs !== '/') abs += '/';
  return abs;
}

export class FileService {
  private readonly active = new Map<string, number>();
  private readonly ours = new Set<string>();

  constructor(private readonly deps: FileDeps) {}

  // ── mounting ──

  private async acquire(c: ContainerRecord): Promise<string> {
    const rw = this.deps.snapshots.getRw(c.id);
    if (!rw) throw notFound(`No such container: ${c.id}`);
    const n = this.active.get(c.id) ?? 0;
    this.active.set(c.id, n + 1);
    try {
      if (!(await isMountPoint(rw.merged))) {
        await this.deps.snapshots.mountRw(c.id);
        this.ours.add(c.id);
      }
    } catch (err) {
      await this.release(c.id);
      throw err;
    }
    return rw.merged;
  }

  private async release(id: string): Promise<void> {
    const n = (this.active.get(id) ?? 1) - 1;
    if (n > 0) {
      this.active.set(id, n);
      return;
    }
    this.active.delete(id);
    if (!this.ours.has(id)) return;
    this.ours.delete(id);
    let running = false;
    try {
      const cur = this.deps.containers.get(id);
      running = ['running', 'paused', 'restarting'].includes(cur.state.Status);
    } catch {
      running = false;
    }
    if (!running) await this.deps.snapshots.unmountRw(id).catch(() => undefined);
  }

  /** Runs `fn` with the container's merged root mounted. */
  async withRoot<T>(ref: string, fn: (root: string, c: ContainerRecord) => Promise<T>): Promise<T> {
    const c = this.deps.containers.get(ref);
    const root = await this.acquire(c);
    try {
      return await fn(root, c);
    } finally {
      await this.release(c.id);
    }
  }

  // ── stat and archive ──

  private async statIn(root: string, ref: string, path: string): Promise<{ stat: PathStat; resolved: string; absPath: string }> {
    const absPath = absPathOf(path);
    const cut = absPath.lastIndexOf('/');
    const dirPath = absPath.slice(0, cut + 1);
    const base = absPath.slice(cut + 1);
    const dir = await resolveInRoot(root, dirPath);
    const missing = () => notFound(`Could not find the file ${path} in container ${ref}`);
    if (!dir) throw missing();
    const resolved = base === '' ? dir : join(dir, base);
    let st: BigIntStats;
    try {
      st = await fs.lstat(resolved, { bigint: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw missing();
      throw err;
    }
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      const target = await resolveInRoot(root, absPath);
      linkTarget = target ? inContainer(root, target) : posix.normalize(posix.join(posix.dirname(absPath), await fs.readlink(resolved)));
    }
    const name = absPath === '/' ? '/' : posix.basename(absPath);
    return {
      stat: {
        name,
        size: Number(st.size),
        mode: goFileMode(Number(st.mode)),
        mtime: rfc3339Nano(st.mtimeNs / 1_000_000_000n, st.mtimeNs % 1_000_000_000n),
        linkTarget,
      },
      resolved,
      absPath,
    };
  }

  async stat(ref: string, path: string): Promise<PathStat> {
    return this.withRoot(ref, async (root) => (await this.statIn(root, ref, path)).stat);
  }

  /** The stat of `path` and a tar of it whose top entry is its base name (or the directory's contents for `dir/.`). */
  async archive(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const c = this.deps.containers.get(ref);
    const root = await this.acquire(c);
    try {
      const { stat, resolved, absPath } = await this.statIn(root, ref, path);
      let source = resolved;
      if (source.length > root.length && source.endsWith('/')) source = source.slice(0, -1);
      let name = posix.basename(absPath);
      if (absPath === '/') name = '.';
      const out = packTar(async (pack) => {
        await packPath(pack, source, name, new Map());
      });
      out.once('close', () => void this.release(c.id));
      this.deps.events.publish('container', 'archive-path', c.id, { image: c.config.Image, name: c.name, path });
      return { stat, tar: out };
    } catch (err) {
      await this.release(c.id);
      throw err;
    }
  }

  /** The container's whole file system as a tar. */
  async export(ref: string): Promise<Readable> {
    const c = this.deps.containers.get(ref);
    const root = await this.acquire(c);
    const out = packTar(async (pack) => {
      const links = new Map<string, string>();
      for (const name of fss.readdirSync(root).sort()) await packPath(pack, join(root, name), name, links);
    });
    out.once('close', () => void this.release(c.id));
    this.deps.events.publish('container', 'export', c.id, { image: c.config.Image, name: c.name });
    return out;
  }

  /** Extracts a tar into the directory `path` of the container. */
  async extract(ref: string, path: string, body: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    await this.withRoot(ref, async (root, c) => {
      const absPath = absPathOf(path);
      const dest = await resolveInRoot(root, absPath);
      if (!dest) throw notFound(`Could not find the file ${path} in container ${ref}`);
      const st = await fs.lstat(dest);
      if (!st.isDirectory()) throw invalidArgument('extraction point is not a directory');
      if (c.hostConfig.ReadonlyRootfs) throw invalidArgument('container rootfs is marked read-only');
      let chown: { uid: number; gid: number } | undefined = { uid: 0, gid: 0 };
      if (opts.copyUIDGID) {
        chown = undefined;
        if (c.config.User) {
          const u = await resolveUser(root, c.config.User);
          chown = { uid: u.uid, gid: u.gid };
        }
      }
      await extractTar(body, root, inContainer(root, dest), { noOverwriteDirNonDir: opts.noOverwriteDirNonDir, chown });
      this.deps.events.publish('container', 'extract-to-dir', c.id, { image: c.config.Image, name: c.name, path });
    });
  }

  // ── changes ──

  async changes(ref: string): Promise<Change[]> {
    const c = this.deps.containers.get(ref);
    const paths = this.deps.containers.layerPaths(c.id);
    if (!paths) throw notFound(`No such container: ${ref}`);
    return computeChanges(paths.upper, paths.lower);
  }
}

// ── tar writing ──

function packTar(produce: (pack: tar.Pack) => Promise<void>): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  let finished = false;
  out.once('close', () => {
    if (!finished) pack.destroy();
  });
  produce(pack)
    .then(() => pack.finalize())
    .catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  pipeline(pack, out)
    .then(() => {
      finished = true;
    })
    .catch((err: unknown) => {
      finished = true;
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  return out;
}

function entryDone(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header as tar.Header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

/** Writes `abs` (not following a symlink) and, for a directory, everything under it, named `name`. */
async function packPath(pack: tar.Pack, abs: string, name: string, links: Map<string, string>): Promise<void> {
  const st = await fs.lstat(abs, { bigint: true });
  const base = {
    name,
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: new Date(Number(st.mtimeNs / 1_000_000n)),
  };
  if (st.isDirectory()) {
    await entryDone(pack, { ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
    let names: string[];
    try {
      names = (await fs.readdir(abs)).sort();
    } catch {
      return;
    }
    for (const child of names) {
      await packPath(pack, join(abs, child), `${name.replace(/\/$/, '')}/${child}`, links).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err; // gone while walking
      });
    }
    return;
  }
  if (!st.isDirectory() && st.nlink > 1n && !st.isSocket()) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) return entryDone(pack, { ...base, type: 'link', linkname: first });
    links.set(key, name);
  }
  if (st.isSymbolicLink()) return entryDone(pack, { ...base, type: 'symlink', linkname: await fs.readlink(abs) });
  if (st.isFIFO()) return entryDone(pack, { ...base, type: 'fifo' });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = st.rdev;
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return entryDone(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
  }
  if (!st.isFile()) return; // sockets
  const size = Number(st.size);
  const fh = await fs.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...base, type: 'file', size }, (err) => (err ? reject(err) : resolve()));
      (async () => {
        let left = size;
        let pos = 0;
        while (left > 0) {
          const buf = Buffer.alloc(Math.min(left, 256 * 1024));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          // A file that shrank while being read is padded so the entry keeps its declared size.
          const n = bytesRead === 0 ? buf.length : bytesRead;
          pos += n;
          left -= n;
          if (!sink.write(buf.subarray(0, n))) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(undefined);
      })().catch(reject);
    });
  } finally {
    await fh.close();
  }
}

// ── extraction ──

interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  /** Owner for every entry; undefined keeps the tar's. */
  chown: { uid: number; gid: number } | undefined;
}

function cleanEntry(raw: string): string | undefined {
  if (raw.includes('\0')) throw invalidArgument(`invalid tar entry name ${JSON.stringify(raw)}`);
  const parts: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw invalidArgument(`invalid tar entry ${JSON.stringify(raw)}: path escapes the extraction point`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts.length ? parts.join('/') : undefined;
}

/**
 * Extracts `body` into the container directory `destPath` (a path inside
 * `root`). Parents are resolved inside the root (symlinks evaluated relative
 * to it); the last component is never followed: what is there is replaced, not
 * written through.
 */
async function extractTar(body: Readable, root: string, destPath: string, opts: ExtractOptions): Promise<void> {
  const extract = tar.extract();
  const feed = pipeline(body, extract);
  feed.catch(() => {});
  const dirTimes: Array<[string, Date]> = [];
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = cleanEntry(h.name);
      if (rel === undefined) {
        entry.resume();
        continue;
      }
      const parentPath = posix.join(destPath, posix.dirname(rel));
      const base = posix.basename(rel);
      const parent = await ensureDirIn(root, parentPath);
      const abs = join(parent, base);
      const uid = opts.chown ? opts.chown.uid : (h.uid ?? 0);
      const gid = opts.chown ? opts.chown.gid : (h.gid ?? 0);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      let existing: fss.Stats | undefined;
      try {
        existing = fss.lstatSync(abs);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
      const isDir = h.type === 'directory';
      if (existing) {
        if (existing.isDirectory() && !isDir) {
          if (opts.noOverwriteDirNonDir) throw invalidArgument(`cannot overwrite directory "${inContainer(root, abs)}" with non-directory "${rel}"`);
          await fs.rm(abs, { recursive: true, force: true });
        } else if (!existing.isDirectory() && isDir) {
          if (opts.noOverwriteDirNonDir) throw invalidArgument(`cannot overwrite non-directory "${inContainer(root, abs)}" with directory "${rel}"`);
          await fs.rm(abs, { force: true });
        } else if (!isDir) {
          await fs.rm(abs, { force: true });
        }
      }
      switch (h.type) {
        case 'directory':
          entry.resume();
          if (!existing || !existing.isDirectory()) fss.mkdirSync(abs, 0o700);
          fss.lchownSync(abs, uid, gid);
          fss.chmodSync(abs, mode);
          dirTimes.push([abs, mtime]);
          break;
        case 'file':
        case 'contiguous-file': {
          const fd = fss.openSync(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry) {
              const b = chunk as Buffer;
              for (let off = 0; off < b.length; ) off += fss.writeSync(fd, b, off);
            }
            fss.fchownSync(fd, uid, gid);
            fss.fchmodSync(fd, mode);
            fss.futimesSync(fd, mtime, mtime);
          } finally {
            fss.closeSync(fd);
          }
          break;
        }
        case 'symlink':
          entry.resume();
          if (!h.linkname) throw invalidArgument(`invalid tar entry ${JSON.stringify(h.name)}: symlink has no target`);
          fss.symlinkSync(h.linkname, abs);
          fss.lchownSync(abs, uid, gid);
          fss.lutimesSync(abs, mtime, mtime);
          break;
        case 'link': {
          entry.resume();
          const target = cleanEntry(h.linkname ?? '');
          if (!target) throw invalidArgument(`invalid tar entry ${JSON.stringify(h.name)}: bad hard link target`);
          const tParent = await resolveInRoot(root, posix.join(destPath, posix.dirname(target)));
          if (!tParent) throw invalidArgument(`invalid tar entry ${JSON.stringify(h.name)}: hard link target does not exist`);
          const tAbs = join(tParent, posix.basename(target));
          const tst = fss.lstatSync(tAbs);
          if (tst.isDirectory()) throw invalidArgument(`invalid tar entry ${JSON.stringify(h.name)}: hard link to a directory`);
          fss.linkSync(tAbs, abs);
          break;
        }
        case 'fifo':
        case 'character-device':
        case 'block-device': {
          entry.resume();
          const type = h.type === 'fifo' ? S_IFIFO : h.type === 'character-device' ? S_IFCHR : S_IFBLK;
          mknod(abs, type | 0o600, h.devmajor ?? 0, h.devminor ?? 0);
          fss.lchownSync(abs, uid, gid);
          fss.chmodSync(abs, mode);
          fss.lutimesSync(abs, mtime, mtime);
          break;
        }
        default:
          entry.resume();
          break;
      }
    }
    await feed;
  } catch (err) {
    body.destroy();
    if (err instanceof BerthError) throw err;
    const code = errnoCode(err);
    if (code) throw err;
    throw invalidArgument(`invalid tar: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const [abs, t] of dirTimes.reverse()) {
    try {
      fss.lutimesSync(abs, t, t);
    } catch {
      // removed by a later entry
    }
  }
}

/** Resolves a directory path inside root, creating missing parts (0755) as real directories. */
async function ensureDirIn(root: string, path: string): Promise<string> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur = '/';
  for (const part of parts) {
    const next = posix.join(cur, part);
    let host = await resolveInRoot(root, next);
    if (!host) {
      const parent = (await resolveInRoot(root, cur))!;
      host = join(parent, part);
      try {
        fss.mkdirSync(host, 0o755);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      host = (await resolveInRoot(root, next))!;
    }
    const st = fss.lstatSync(host);
    if (!st.isDirectory()) throw invalidArgument(`cannot extract into ${next}: not a directory`);
    cur = inContainer(root, host);
  }
  return (await resolveInRoot(root, cur))!;
}

// ── changes ──

function isWhiteout(st: fss.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Whether `rel` exists in the lower layers (topmost first), honouring their whiteouts. */
function inLower(lower: string[], rel: string): fss.Stats | undefined {
  for (const dir of lower) {
    let st: fss.Stats;
    try {
      st = fss.lstatSync(join(dir, rel));
    } catch {
      continue;
    }
    if (isWhiteout(st)) return undefined;
    return st;
  }
  return undefined;
}

export function computeChanges(upper: string, lower: string[]): Change[] {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = fss.readdirSync(join(upper, rel)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = `${rel}/${name}`;
      const st = fss.lstatSync(join(upper, path));
      const isInit = INIT_PATHS.has(path);
      let kind: 0 | 1 | 2 | undefined;
      if (isWhiteout(st)) kind = 2;
      else {
        const low = inLower(lower, path);
        if (!low) kind = 1;
        else {
          kind = 0;
          const opaque = st.isDirectory() && lgetxattr(join(upper, path), XATTR_OPAQUE)?.toString() === 'y';
          if (st.isDirectory() && low.isDirectory() && !opaque) {
            if (st.mode === low.mode && st.mtimeMs === low.mtimeMs) kind = undefined;
          }
        }
      }
      if (!isInit) {
        if (st.isDirectory() && kind !== undefined) changedDirs.add(path);
        if (kind === 1 || kind === 2) {
          const parent = posix.dirname(path);
          if (parent !== '/' && !changedDirs.has(parent)) {
            changes.push({ Path: parent, Kind: 0 });
            changedDirs.add(parent);
          }
        }
        if (kind !== undefined) changes.push({ Path: path, Kind: kind });
      }
      if (st.isDirectory() && !isInit) walk(path);
    }
  };
  walk('');
  return changes;
}
