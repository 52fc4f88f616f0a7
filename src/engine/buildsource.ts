/**
 * Where COPY and ADD read from: the build context (a tar kept as it arrived,
 * never extracted) or a host directory (a mounted stage or image, downloads).
 * Paths are relative to the tree's root ('' is the root) and never leave it:
 * symlinks resolve inside the tree, absolute targets from its root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { resolveInRoot, walkInRoot } from '../lib/fsutil.js';

export interface SourceEntry {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits (07777). */
  mode: number;
  mtime: Date;
  size: number;
  linkTarget?: string;
}

export interface SourceTree {
  /** The canonical path of `path` in the tree, symlinks followed inside it (the last one only when `follow`); undefined when absent. */
  resolve(path: string, follow?: boolean): Promise<string | undefined>;
  /** The entry at a canonical path. */
  entry(path: string): Promise<SourceEntry | undefined>;
  /** The names in a directory (canonical path), sorted. */
  list(dir: string): Promise<string[]>;
  /** The first bytes of a file. */
  head(path: string, n: number): Promise<Buffer>;
  open(path: string): Readable;
  /** Writes a file's content to a new host file. */
  copyFile(path: string, dst: string): Promise<void>;
  /** A digest of names, kinds, modes, link targets and contents under `path`. */
  digest(path: string): Promise<string>;
  /** The content of `path` as a host file or directory of its own, for a bind mount. */
  hostPath(path: string): Promise<{ path: string; owned: boolean; release: () => Promise<void> }>;
}

function parts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** A host directory as a source tree. */
export class HostTree implements SourceTree {
  constructor(readonly root: string) {}

  async resolve(path: string, follow = true): Promise<string | undefined> {
    const p = await resolveInRoot(this.root, path, follow);
    if (p === undefined) return undefined;
    return posix.relative(this.root, p);
  }

  async entry(path: string): Promise<SourceEntry | undefined> {
    const st = await fs.lstat(join(this.root, path)).catch(() => undefined);
    if (!st) return undefined;
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    return {
      kind,
      mode: st.mode & 0o7777,
      mtime: st.mtime,
      size: st.size,
      ...(kind === 'symlink' ? { linkTarget: await fs.readlink(join(this.root, path)) } : {}),
    };
  }

  async list(dir: string): Promise<string[]> {
    return (await fs.readdir(join(this.root, dir)).catch(() => [] as string[])).sort();
  }

  async head(path: string, n: number): Promise<Buffer> {
    const fh = await fs.open(join(this.root, path), 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  open(path: string): Readable {
    return createReadStream(join(this.root, path));
  }

  async copyFile(path: string, dst: string): Promise<void> {
    await fs.copyFile(join(this.root, path), dst);
  }

  digest(path: string): Promise<string> {
    return treeDigest(this, path);
  }

  async hostPath(path: string): Promise<{ path: string; owned: boolean; release: () => Promise<void> }> {
    return { path: join(this.root, path), owned: false, release: async () => undefined };
  }
}

interface Node extends SourceEntry {
  /** Where the content starts in the spool file. */
  offset: number;
  /** sha256 of the content (files). */
  sum?: string;
  children?: Set<string>;
}

/**
 * The build context as a tar spooled to one file: entries are indexed and
 * files hashed while it arrives, so a step whose inputs did not change
 * costs no extraction and no second read.
 */
export class TarTree implements SourceTree {
  private readonly nodes = new Map<string, Node>();
  /** The spool, opened once for every read of the build. */
  private reader?: Promise<FileHandle>;

  private constructor(
    private readonly spool: string,
    /** Where bind-mount copies are made. */
    private readonly scratch: string,
  ) {
    this.nodes.set('', { kind: 'dir', mode: 0o755, mtime: new Date(), size: 0, offset: 0, children: new Set() });
  }

  /** Reads the context tar into `spool`; entries are cleaned of `..` and leading slashes (clamped to the root). */
  static async load(source: Readable, spool: string, scratch: string): Promise<TarTree> {
    const tree = new TarTree(spool, scratch);
    const fh = await fs.open(spool, 'w', 0o600);
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (!pendingBytes) return;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await fh.write(buf, 0, buf.length);
    };
    const extract = tar.extract();
    source.on('error', (err) => extract.destroy(err));
    source.pipe(extract);
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const path = parts(posix.normalize(`/${h.name}`)).join('/');
        const mtime = h.mtime ?? new Date(0);
        const mode = (h.mode ?? 0o644) & 0o7777;
        if (h.type === 'file' || h.type === 'contiguous-file') {
          const hash = createHash('sha256');
          const start = offset;
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            hash.update(chunk);
            pending.push(chunk);
            pendingBytes += chunk.length;
            offset += chunk.length;
            if (pendingBytes >= 1 << 20) await flush();
          }
          if (path) tree.put(path, { kind: 'file', mode, mtime, size: offset - start, offset: start, sum: hash.digest('hex') });
          continue;
        }
        entry.resume();
        if (!path) continue;
        if (h.type === 'directory') {
          const existing = tree.nodes.get(path);
          tree.put(path, { kind: 'dir', mode, mtime, size: 0, offset: 0, children: existing?.children ?? new Set() });
        } else if (h.type === 'symlink') {
          tree.put(path, { kind: 'symlink', mode: 0o777, mtime, size: 0, offset: 0, linkTarget: h.linkname ?? '' });
        } else if (h.type === 'link') {
          // A hard link shares its target's content.
          const target = tree.nodes.get(parts(posix.normalize(`/${h.linkname ?? ''}`)).join('/'));
          if (target?.kind === 'file') tree.put(path, { ...target, mode, mtime });
        } else {
          tree.put(path, { kind: 'other', mode, mtime, size: 0, offset: 0 });
        }
      }
      await flush();
    } finally {
      await fh.close();
    }
    return tree;
  }

  private put(path: string, node: Node): void {
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    if (!this.nodes.get(dir)?.children) this.put(dir, { kind: 'dir', mode: 0o755, mtime: new Date(), size: 0, offset: 0, children: new Set() });
    const old = this.nodes.get(path);
    if (old?.children && !node.children) this.remove(path);
    this.nodes.set(path, node);
    this.nodes.get(dir)!.children!.add(posix.basename(path));
  }

  /** Every path in the tree but the root. */
  paths(): string[] {
    return [...this.nodes.keys()].filter((p) => p !== '');
  }

  /** Drops a path (and what is under it) from the tree. */
  remove(path: string): void {
    const node = this.nodes.get(path);
    if (!node || path === '') return;
    for (const name of node.children ?? []) this.remove(`${path}/${name}`);
    this.nodes.delete(path);
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    this.nodes.get(dir)?.children?.delete(posix.basename(path));
  }

  async resolve(path: string, follow = true): Promise<string | undefined> {
    const found = await walkInRoot(path, follow, async (p) => {
      const node = this.nodes.get(p.join('/'));
      if (!node) return undefined;
      return node.kind === 'symlink' ? { kind: 'symlink', target: node.linkTarget ?? '' } : { kind: node.kind === 'dir' ? 'dir' : 'other' };
    });
    return found?.join('/');
  }


  async entry(path: string): Promise<SourceEntry | undefined> {
    return this.nodes.get(path);
  }

  async list(dir: string): Promise<string[]> {
    return [...(this.nodes.get(dir)?.children ?? [])].sort();
  }

  async head(path: string, n: number): Promise<Buffer> {
    const node = this.file(path);
    return this.read(node.offset, Math.min(n, node.size));
  }

  open(path: string): Readable {
    const node = this.file(path);
    if (node.size === 0) return Readable.from([]);
    return createReadStream(this.spool, { start: node.offset, end: node.offset + node.size - 1 });
  }

  async copyFile(path: string, dst: string): Promise<void> {
    const node = this.file(path);
    // Small files in one read and one write; big ones streamed.
    if (node.size <= 1 << 20) await fs.writeFile(dst, await this.read(node.offset, node.size));
    else await pipeline(this.open(path), createWriteStream(dst));
  }

  digest(path: string): Promise<string> {
    return treeDigest(this, path, (p) => this.nodes.get(p)?.sum);
  }

  async hostPath(path: string): Promise<{ path: string; owned: boolean; release: () => Promise<void> }> {
    const out = join(this.scratch, `mount-${randomBytes(8).toString('hex')}`);
    const release = () => fs.rm(out, { recursive: true, force: true });
    try {
      await this.extract(path, out);
    } catch (err) {
      await release();
      throw err;
    }
    return { path: out, owned: true, release };
  }

  /** Writes `path` (a file, link or whole directory) to a host path that does not exist yet. */
  private async extract(path: string, dst: string): Promise<void> {
    const node = this.nodes.get(path)!;
    if (node.kind === 'dir') {
      await fs.mkdir(dst, { mode: node.mode });
      for (const name of await this.list(path)) await this.extract(path ? `${path}/${name}` : name, join(dst, name));
      await fs.chmod(dst, node.mode);
    } else if (node.kind === 'symlink') {
      await fs.symlink(node.linkTarget ?? '', dst);
      return;
    } else if (node.kind === 'file') {
      await this.copyFile(path, dst);
      await fs.chmod(dst, node.mode);
    } else return;
    await fs.utimes(dst, node.mtime, node.mtime);
  }

  private file(path: string): Node {
    const node = this.nodes.get(path);
    if (node?.kind !== 'file') throw new Error(`${path}: not a file in the build context`);
    return node;
  }

  private async read(offset: number, size: number): Promise<Buffer> {
    const buf = Buffer.alloc(size);
    if (size === 0) return buf;
    this.reader ??= fs.open(this.spool, 'r');
    const fh = await this.reader;
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, size - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  /** Closes the spool; the caller removes it. */
  async close(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    await (await reader?.catch(() => undefined))?.close();
  }
}

/** A digest of a file or tree: names, kinds, modes, link targets and content digests. */
async function treeDigest(tree: SourceTree, path: string, known?: (path: string) => string | undefined): Promise<string> {
  const h = createHash('sha256');
  const visit = async (p: string, rel: string): Promise<void> => {
    const e = await tree.entry(p);
    if (!e) return;
    h.update(`${rel}\0${e.kind}\0${e.mode}\0`);
    if (e.kind === 'symlink') h.update(e.linkTarget ?? '');
    else if (e.kind === 'file') {
      let sum = known?.(p);
      if (!sum) {
        const fh = createHash('sha256');
        for await (const chunk of tree.open(p)) fh.update(chunk as Buffer);
        sum = fh.digest('hex');
      }
      h.update(sum);
    } else if (e.kind === 'dir') {
      for (const name of await tree.list(p)) await visit(p ? `${p}/${name}` : name, `${rel}/${name}`);
    }
    h.update('\n');
  };
  await visit(path, '');
  return h.digest('hex');
}

/** Paths in the tree matching a glob (`*`, `?`, `[...]` within one element), sorted. */
export async function glob(tree: SourceTree, pattern: string): Promise<string[]> {
  let current = [''];
  for (const part of pattern.split('/')) {
    const next: string[] = [];
    const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    for (const base of current) {
      if (!/[*?[]/.test(part)) {
        next.push(base ? `${base}/${part}` : part);
        continue;
      }
      const dir = await tree.resolve(base);
      if (dir === undefined) continue;
      for (const n of await tree.list(dir)) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
    }
    current = next;
  }
  const out: string[] = [];
  for (const c of current) if ((await tree.resolve(c, false)) !== undefined) out.push(c);
  return out;
}
