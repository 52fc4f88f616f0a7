/**
 * The content store on disk: `blobs/sha256/<hex>` for committed blobs and
 * `ingest/<random>` for writes in flight. A write streams into an ingest file
 * while hashing, fsyncs, checks digest and size, then renames into place, so
 * a blob path only ever holds complete, verified content. Resumable writes
 * (pulls) use `ingest/resume-<hex>`, named after the digest they must reach,
 * so an interrupted download can continue where it stopped.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, ContentStore, Ingest, WriteOptions } from '../core/content.js';
import { DigestStream, hexOf, isDigest, sha256, type Digest } from '../lib/digest.js';
import { errnoCode, invalidArgument, notFound } from '../lib/errors.js';
import { fsyncDir, randomHex } from '../lib/fsutil.js';
import { fileSink } from '../lib/streams.js';

const RESUME_PREFIX = 'resume-';
/** How long a resumable ingest nobody continued is kept across restarts. */
const RESUME_MAX_AGE_MS = 24 * 3600 * 1000;

export class FileContentStore implements ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;
  /** Resumable ingests in use, each with the promise its holder resolves on release. */
  private readonly held = new Map<Digest, Promise<void>>();

  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.blobDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  path(digest: Digest): string {
    return join(this.blobDir, hexOf(digest));
  }

  async write(source: Readable, opts: WriteOptions = {}): Promise<BlobInfo> {
    const tmp = join(this.ingestDir, randomHex(16));
    const hasher = new DigestStream();
    const out = fileSink(tmp, { mode: 0o600 });
    try {
      await pipeline(source, hasher, out);
      const digest = hasher.digest();
      if (opts.size !== undefined && hasher.size !== opts.size) {
        throw invalidArgument(`size mismatch for ${opts.expected ?? digest}: expected ${opts.size} bytes, got ${hasher.size}`);
      }
      if (opts.expected !== undefined && digest !== opts.expected) {
        throw invalidArgument(`digest mismatch: expected ${opts.expected}, got ${digest}`);
      }
      await fsyncFile(tmp);
      const target = this.path(digest);
      await fs.rename(tmp, target);
      await fsyncDir(this.blobDir);
      return { digest, size: hasher.size };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async put(data: Buffer | string, opts: WriteOptions = {}): Promise<BlobInfo> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256(buf);
    if (opts.expected !== undefined && digest !== opts.expected) {
      throw invalidArgument(`digest mismatch: expected ${opts.expected}, got ${digest}`);
    }
    const existing = await this.info(digest);
    if (existing) return existing;
    return this.write(Readable.from([buf]), { expected: digest, size: buf.length });
  }

  async resume(expected: Digest, size?: number): Promise<Ingest> {
    while (this.held.has(expected)) await this.held.get(expected);
    let release!: () => void;
    this.held.set(expected, new Promise<void>((resolve) => (release = resolve)));
    const path = join(this.ingestDir, RESUME_PREFIX + hexOf(expected));
    let offset = 0;
    try {
      offset = (await fs.stat(path)).size;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') {
        this.held.delete(expected);
        release();
        throw err;
      }
    }
    if (size !== undefined && offset > size) {
      await fs.rm(path, { force: true });
      offset = 0;
    }
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.held.delete(expected);
      release();
    };
    const store = this;
    return {
      get offset() {
        return offset;
      },
      async reset() {
        await fs.rm(path, { force: true });
        offset = 0;
      },
      close,
      async commit(rest: Readable): Promise<BlobInfo> {
        try {
          const hasher = new DigestStream();
          if (offset > 0) for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hasher.feed(chunk as Buffer);
          await pipeline(rest, hasher, fileSink(path, { flags: 'a', mode: 0o600 }));
          const digest = hasher.digest();
          if ((size !== undefined && hasher.size !== size) || digest !== expected) {
            await fs.rm(path, { force: true });
            if (size !== undefined && hasher.size !== size) {
              throw invalidArgument(`size mismatch for ${expected}: expected ${size} bytes, got ${hasher.size}`);
            }
            throw invalidArgument(`digest mismatch: expected ${expected}, got ${digest}`);
          }
          await fsyncFile(path);
          await fs.rename(path, store.path(digest));
          await fsyncDir(store.blobDir);
          return { digest, size: hasher.size };
        } finally {
          close();
        }
      },
    };
  }

  /**
   * Moves a complete file into the store as `digest`. The caller has hashed it
   * and vouches for the digest; the file must be on the store's file system.
   * It is fsynced before the rename and is gone afterwards.
   */
  async adopt(file: string, digest: Digest): Promise<BlobInfo> {
    await fsyncFile(file);
    const target = this.path(digest);
    await fs.rename(file, target);
    await fsyncDir(this.blobDir);
    const st = await fs.stat(target);
    return { digest, size: st.size };
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await fs.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(digest: Digest): Promise<Buffer> {
    try {
      return await fs.readFile(this.path(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async open(digest: Digest): Promise<Readable> {
    const path = this.path(digest);
    const fh = await fs.open(path, 'r').catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') throw notFound(`content ${digest}: not found`);
      throw err;
    });
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  }

  async delete(digest: Digest): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const name of await fs.readdir(this.blobDir)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const st = await fs.stat(join(this.blobDir, name)).catch(() => undefined);
      if (st) out.push({ digest, size: st.size });
    }
    return out;
  }

  async cleanIngests(): Promise<number> {
    const now = Date.now();
    const names: string[] = [];
    for (const n of await fs.readdir(this.ingestDir)) {
      const p = join(this.ingestDir, n);
      if (n.startsWith(RESUME_PREFIX) && isDigest(`sha256:${n.slice(RESUME_PREFIX.length)}`)) {
        const st = await fs.stat(p).catch(() => undefined);
        if (st && now - st.mtimeMs < RESUME_MAX_AGE_MS) continue;
      }
      names.push(n);
    }
    await Promise.all(names.map((n) => fs.rm(join(this.ingestDir, n), { recursive: true, force: true })));
    // A crash between write and rename can also leave temp files beside blobs.
    for (const name of await fs.readdir(this.blobDir)) {
      if (!isDigest(`sha256:${name}`)) {
        await fs.rm(join(this.blobDir, name), { recursive: true, force: true });
      }
    }
    return names.length;
  }
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await fs.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
