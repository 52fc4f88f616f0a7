/** File-system helpers: durable writes, atomic replacement, tolerant removal. */
import { promises as fs, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode } from './errors.js';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a file so that readers see either the old content or the whole new content. */
export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function randomHex(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

/** Total bytes of regular files under a directory, without following symlinks; hard links counted once. */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        await walk(p);
      } else if (e.isFile()) {
        const st = await fs.lstat(p);
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

/** What a path inside a root is, for `walkInRoot`: a directory, a symlink (with its target) or anything else. */
export type RootEntry = { kind: 'dir' | 'other' } | { kind: 'symlink'; target: string };

/**
 * The canonical components of `path` inside a root that `lookup` describes:
 * symlinks are followed inside the root (absolute targets from the root, the
 * last component only when `followLast`), `..` never climbs above it.
 * Undefined when a component is missing, a non-directory has components
 * after it, or links loop.
 */
export async function walkInRoot(path: string, followLast: boolean, lookup: (parts: string[]) => Promise<RootEntry | undefined>): Promise<string[] | undefined> {
  let rest = path.split('/').filter((p) => p !== '' && p !== '.');
  let done: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const entry = await lookup([...done, part]);
    if (!entry) return undefined;
    if (entry.kind !== 'symlink' || (!followLast && rest.length === 0)) {
      if (entry.kind !== 'dir' && rest.length > 0) return undefined;
      done.push(part);
      continue;
    }
    if (++links > 255) return undefined;
    if (entry.target.startsWith('/')) done = [];
    rest = [...entry.target.split('/').filter((p) => p !== '' && p !== '.'), ...rest];
  }
  return done;
}

/**
 * The host path of `path` inside `root`, resolved as the root were `/`
 * (symlinks followed inside it); undefined when it does not exist.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string | undefined> {
  const parts = await walkInRoot(path, followLast, async (p) => {
    const full = join(root, ...p);
    let st;
    try {
      st = await fs.lstat(full);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) return { kind: 'symlink', target: await fs.readlink(full) };
    return { kind: st.isDirectory() ? 'dir' : 'other' };
  });
  return parts && join(root, ...parts);
}

/** True when `path` is the root of a mount in this process's mount namespace. */
export async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mounts.split('\n').some((line) => line.split(' ')[4] === escaped);
}
