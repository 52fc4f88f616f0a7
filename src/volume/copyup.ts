/**
 * Copy-up: the first time an empty volume is mounted where the image has
 * content, that content is copied into the volume, as docker does. Owners,
 * modes, timestamps, symlinks, hard links, device nodes, FIFOs and extended
 * attributes are kept; the volume's root takes the owner and mode of the
 * image's directory.
 */
import { promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import * as sys from '../lib/sys.js';

/**
 * Copies the directory `src` into `dst` when `dst` is empty. Returns false
 * (and copies nothing) when `dst` has entries or `src` is not a directory.
 */
export async function copyUp(src: string, dst: string): Promise<boolean> {
  let st: Stats;
  try {
    st = await fs.lstat(src);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
  if (!st.isDirectory()) return false;
  if ((await fs.readdir(dst)).length > 0) return false;
  const links = new Map<string, string>();
  await copyEntries(src, dst, links);
  await fs.lchown(dst, st.uid, st.gid);
  await fs.chmod(dst, st.mode & 0o7777);
  await fs.utimes(dst, st.atime, st.mtime);
  return true;
}

async function copyEntries(src: string, dst: string, links: Map<string, string>): Promise<void> {
  for (const name of await fs.readdir(src)) {
    const from = join(src, name);
    const to = join(dst, name);
    const st = await fs.lstat(from);
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) {
        await fs.link(first, to);
        continue;
      }
      links.set(key, to);
    }
    if (st.isDirectory()) {
      await fs.mkdir(to, { mode: 0o700 });
      await copyEntries(from, to, links);
    } else if (st.isFile()) {
      await fs.copyFile(from, to);
    } else if (st.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(from), to);
    } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      sys.mknod(to, st.mode, Math.floor(st.rdev / 256) & 0xfff, (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00));
    } else {
      continue;
    }
    copyXattrs(from, to);
    await fs.lchown(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) await fs.chmod(to, st.mode & 0o7777);
    await fs.lutimes(to, st.atime, st.mtime);
  }
}

/** Extended attributes the file system lets us read and write (capabilities, ACLs, user attributes). */
function copyXattrs(from: string, to: string): void {
  let names: string[];
  try {
    names = sys.llistxattr(from);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('trusted.overlay.')) continue;
    try {
      const value = sys.lgetxattr(from, name);
      if (value) sys.lsetxattr(to, name, value);
    } catch {
      // Not every attribute can be set on every file system (tmpfs refuses some); the data matters more.
    }
  }
}
