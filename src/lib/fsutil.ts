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

/**
 * The host path of `path` inside `root`, symlinks resolved as if root were /
 * (absolute targets and `..` stay inside root). With `followLast` false a
 * symlink as the last component is kept. Undefined when a part is missing.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string | undefined> {
  let rest = path.split('/').filter((p) => p !== '' && p !== '.');
  let done: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = join(root, ...done, part);
    let st;
    try {
      st = await fs.lstat(full);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!st.isSymbolicLink() || (!followLast && rest.length === 0)) {
      done.push(part);
      continue;
    }
    if (++links > 255) return undefined;
    const target = await fs.readlink(full);
    if (target.startsWith('/')) done = [];
    rest = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...rest];
  }
  return join(root, ...done);
}

/** True when `path` is the root of a mount in this process's mount namespace. */
export async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mounts.split('\n').some((line) => line.split(' ')[4] === escaped);
}
