/**
 * The local side of `cp`, after moby/go-archive (copy.go, archive.go): path
 * rules (trailing `/` and `/.`), the tar of a local resource, renaming the
 * top entry of an archive, and extracting an archive into a directory.
 */
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { cleanPath } from '../../lib/gopath.js';

/** Go's `<op> <path>: <reason>` for a file-system error. */
export function fsError(op: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    EEXIST: 'file exists',
    ELOOP: 'too many levels of symbolic links',
    EPERM: 'operation not permitted',
    ENOTEMPTY: 'directory not empty',
  };
  const why = (code && reasons[code]) ?? (err as Error).message;
  return Object.assign(new Error(`${op} ${path}: ${why}`), { code });
}

// ───────────────────────────── path rules ─────────────────────────────

export const hasTrailingPathSeparator = (p: string) => p.length > 0 && p.endsWith('/');

/** filepath.Base */
export function goBase(p: string): string {
  if (p === '') return '.';
  const s = p.replace(/\/+$/, '');
  if (s === '') return '/';
  return s.slice(s.lastIndexOf('/') + 1);
}

/** filepath.Dir */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return cleanPath(p.slice(0, i + 1));
}

export const specifiesCurrentDir = (p: string) => goBase(p) === '.';

export const assertsDirectory = (p: string) => hasTrailingPathSeparator(p) || specifiesCurrentDir(p);

/** PreserveTrailingDotOrSeparator */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingPathSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingPathSeparator(out) && hasTrailingPathSeparator(original)) out += '/';
  return out;
}

/** SplitPathDirEntry */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = cleanPath(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [goDir(cleaned), goBase(cleaned)];
}

/** GetRebaseName */
export function getRebaseName(path: string, resolved: string): [string, string] {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingPathSeparator(path) && !hasTrailingPathSeparator(r)) r += '/';
  return [r, goBase(path) !== goBase(r) ? goBase(path) : ''];
}

/** filepath.Abs keeping a trailing `/` or `/.` (resolveLocalPath). */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(cleanPath(resolve(p)), p);
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** filepath.EvalSymlinks, with Go's error text. */
async function evalSymlinks(p: string): Promise<string> {
  try {
    return await fsp.realpath(p === '' ? '.' : p);
  } catch (e) {
    throw fsError('lstat', p, e);
  }
}

/** ResolveHostSourcePath */
async function resolveHostSourcePath(path: string, followLink: boolean): Promise<[string, string]> {
  if (followLink) {
    const resolved = await evalSymlinks(path);
    return getRebaseName(path, resolved);
  }
  const slash = path.lastIndexOf('/');
  const dirPath = path.slice(0, slash + 1);
  const basePath = path.slice(slash + 1);
  const resolvedDir = await evalSymlinks(dirPath);
  const resolved = resolvedDir + '/' + basePath;
  let rebase = '';
  if (hasTrailingPathSeparator(path) && goBase(path) !== goBase(resolved)) rebase = goBase(path);
  return [resolved, rebase];
}

/** CopyInfoSourcePath */
export async function copyInfoSourcePath(path: string, followLink: boolean): Promise<CopyInfo> {
  const [resolved, rebaseName] = await resolveHostSourcePath(path, followLink);
  let st: Stats;
  try {
    st = await fsp.lstat(resolved);
  } catch (e) {
    throw fsError('lstat', resolved, e);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** CopyInfoDestinationPath: follows symlinks (at most 10); a missing path needs an existing parent directory. */
export async function copyInfoDestinationPath(path: string): Promise<CopyInfo> {
  const original = path;
  let p = path;
  let st: Stats | undefined;
  let err: unknown;
  const lstat = async (x: string) => {
    try {
      st = await fsp.lstat(x);
      err = undefined;
    } catch (e) {
      st = undefined;
      err = e;
    }
  };
  await lstat(p);
  if (st && !st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  for (let n = 0; st && st.isSymbolicLink(); n++) {
    if (n > 10) throw new Error('too many symlinks in ' + original);
    let target = await fsp.readlink(p);
    if (!isAbsolute(target)) target = join(splitPathDirEntry(p)[0], target);
    p = target;
    await lstat(p);
  }
  if (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError('lstat', p, err);
    const parent = splitPathDirEntry(p)[0];
    let ps: Stats;
    try {
      ps = await fsp.stat(parent);
    } catch (e) {
      throw fsError('stat', parent, e);
    }
    if (!ps.isDirectory()) throw new Error('not a directory');
    return { path: p, exists: false, isDir: false, rebaseName: '' };
  }
  return { path: p, exists: true, isDir: st!.isDirectory(), rebaseName: '' };
}

// ───────────────────────────── making a tar ─────────────────────────────

function tarType(st: Stats): tar.Header['type'] {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) throw new Error('archive/tar: sockets not supported');
  return 'file';
}

/**
 * TarResourceRebase: a tar of `sourcePath` whose entries are named from its
 * base (`base`, `base/x`, …), with that base renamed to `rebaseName` when set.
 */
export function tarResource(sourcePath: string, rebaseName: string): Readable {
  const pack = tar.pack();
  const [srcDir, srcBase] = splitPathDirEntry(sourcePath);
  const seen = new Map<string, string>();
  const rename = (n: string) => {
    if (rebaseName === '') return n;
    const replacement = rebaseName === '/' ? '' : rebaseName;
    const i = n.indexOf(srcBase);
    return i < 0 ? n : n.slice(0, i) + replacement + n.slice(i + srcBase.length);
  };
  const addEntry = async (full: string, name: string, st: Stats): Promise<void> => {
    const type = tarType(st);
    const header: Partial<tar.Header> & { name: string } = {
      name: type === 'directory' && !name.endsWith('/') ? name + '/' : name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
      type,
      size: 0,
    };
    if (type === 'symlink') header.linkname = await fsp.readlink(full);
    if (type === 'character-device' || type === 'block-device') {
      header.devmajor = (st.rdev >> 8) & 0xfff;
      header.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    }
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = seen.get(key);
      if (first !== undefined) {
        header.type = 'link';
        header.linkname = first;
      } else seen.set(key, name);
    }
    if (header.type === 'file' && st.size > 0) {
      header.size = st.size;
      await new Promise<void>((res, rej) => {
        const entry = pack.entry(header, (err) => (err ? rej(err) : res()));
        createReadStream(full).on('error', rej).pipe(entry);
      });
      return;
    }
    await new Promise<void>((res, rej) => pack.entry(header, (err) => (err ? rej(err) : res())));
  };
  // filepath.WalkDir from the resource, in lexical order; "." keeps "./x" names (IncludeSourceDir)
  const walk = async (full: string, name: string): Promise<void> => {
    let st: Stats;
    try {
      st = await fsp.lstat(full);
    } catch {
      return;
    }
    await addEntry(full, rename(name), st);
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = (await fsp.readdir(full)).sort();
    } catch {
      return;
    }
    for (const n of names) await walk(join(full, n), name === '.' ? `./${n}` : `${name}/${n}`);
  };
  (async () => {
    await walk(join(srcDir, srcBase), srcBase);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/** RebaseArchiveEntries: the first `oldBase` in each name (and hard-link target) becomes `newBase`. */
export function rebaseArchiveEntries(src: Readable, oldBase: string, newBase: string): Readable {
  const from = oldBase === '/' ? '' : oldBase;
  const extract = tar.extract();
  const pack = tar.pack();
  const swap = (s: string) => {
    const i = s.indexOf(from);
    return i < 0 ? s : s.slice(0, i) + newBase + s.slice(i + from.length);
  };
  extract.on('entry', (header, stream, next) => {
    const h = { ...header, name: swap(header.name) };
    if (h.type === 'link' && h.linkname) h.linkname = swap(h.linkname);
    const entry = pack.entry(h, (err) => (err ? extract.destroy(err) : next()));
    stream.pipe(entry);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err) => pack.destroy(err));
  src.on('error', (err) => extract.destroy(err));
  src.pipe(extract);
  return pack as unknown as Readable;
}

// ───────────────────────────── extracting ─────────────────────────────

/** Untar with NoLchown and NoOverwriteDirNonDir, into `dest`. */
export async function untar(src: Readable, dest: string): Promise<void> {
  const root = cleanPath(dest);
  const extract = tar.extract();
  const dirs: { path: string; mtime: Date }[] = [];
  const handle = async (header: tar.Header, stream: Readable): Promise<void> => {
    const name = cleanPath(header.name);
    // createImpliedDirectories
    if (!name.endsWith('/')) {
      const parent = join(root, dirname(name));
      try {
        await fsp.lstat(parent);
      } catch {
        await fsp.mkdir(parent, { recursive: true, mode: 0o755 });
      }
    }
    const path = join(root, name);
    const rel = relative(root, path);
    if (rel.startsWith('../')) throw new Error(`${JSON.stringify(name)} is outside of ${JSON.stringify(root)}`);
    let existing: Stats | undefined;
    try {
      existing = await fsp.lstat(path);
    } catch {
      existing = undefined;
    }
    const isDirEntry = header.type === 'directory';
    if (existing) {
      if (existing.isDirectory() && !isDirEntry) throw new Error(`cannot overwrite directory ${JSON.stringify(path)} with non-directory ${JSON.stringify(root)}`);
      if (!existing.isDirectory() && isDirEntry) throw new Error(`cannot overwrite non-directory ${JSON.stringify(path)} with directory ${JSON.stringify(root)}`);
      if (existing.isDirectory() && name === '.') {
        stream.resume();
        return;
      }
      if (!existing.isDirectory() || !isDirEntry) await fsp.rm(path, { recursive: true, force: true });
    }
    const mode = (header.mode ?? 0) & 0o7777;
    const mtime = header.mtime ?? new Date();
    switch (header.type) {
      case 'directory':
        if (!existing || !existing.isDirectory()) await fsp.mkdir(path, { mode });
        break;
      case 'file':
      case 'contiguous-file':
      case undefined: {
        const fh = await fsp.open(path, 'w', mode);
        try {
          // tar-stream's entry streams are streamx streams: read them, don't pipeline them
          for await (const chunk of stream) await fh.write(chunk as Buffer);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'link': {
        const target = join(root, header.linkname ?? '');
        if (!target.startsWith(root)) throw new Error(`invalid hardlink ${JSON.stringify(target)} -> ${JSON.stringify(header.linkname)}`);
        await fsp.link(target, path);
        break;
      }
      case 'symlink': {
        const target = join(dirname(path), header.linkname ?? '');
        if (!target.startsWith(root)) throw new Error(`invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(header.linkname)}`);
        await fsp.symlink(header.linkname ?? '', path);
        break;
      }
      case 'fifo':
      case 'character-device':
      case 'block-device':
        // creating device nodes needs mknod, which Node lacks; skipped like an unprivileged extract
        break;
      default:
        throw new Error(`unhandled tar header type ${header.type}`);
    }
    stream.resume();
    if (header.type === 'symlink') {
      await fsp.lutimes(path, mtime, mtime).catch(() => undefined);
      return;
    }
    if (header.type === 'fifo' || header.type === 'character-device' || header.type === 'block-device') return;
    if (header.type !== 'link') await fsp.chmod(path, mode);
    await fsp.utimes(path, mtime, mtime).catch(() => undefined);
    if (header.type === 'directory') dirs.push({ path, mtime });
  };
  await new Promise<void>((res, rej) => {
    extract.on('entry', (header, stream, next) => {
      handle(header, stream as unknown as Readable).then(
        () => next(),
        (err: unknown) => {
          stream.resume();
          extract.destroy(err as Error);
        },
      );
    });
    extract.on('finish', res);
    extract.on('error', rej);
    src.on('error', rej);
    src.pipe(extract);
  });
  for (const d of dirs) await fsp.utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}

/** Go os.FileMode bits (as in the archive stat header). */
export const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  charDevice: 2 ** 21,
  irregular: 2 ** 19,
};

export const hasModeBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
