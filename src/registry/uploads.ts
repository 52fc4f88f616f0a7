/**
 * Blob upload sessions: `uploads/<id>/data` grows with each chunk while its
 * sha256 is kept in memory, and moves into the content store only when the
 * client's digest matches. A session killed halfway leaves only its own
 * folder, which no read ever looks at.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo } from '../core/content.js';
import type { Digest } from '../lib/digest.js';
import { errnoCode } from '../lib/errors.js';
import { KeyedMutex } from '../lib/lock.js';
import type { FileContentStore } from '../store/content.js';
import { RegistryError, regError } from './errors.js';

export interface UploadStatus {
  id: string;
  repo: string;
  /** Bytes received so far. */
  size: number;
  /** When the session started (ISO 8601). */
  started: string;
}

/** The byte range a chunk claims, from Content-Range (inclusive end). */
export interface ChunkRange {
  start: number;
  end: number;
}

interface HashState {
  hash: Hash;
  /** Bytes of the data file the hash has seen. */
  offset: number;
}

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The `Range` header value of an upload holding `size` bytes, as distribution writes it. */
export function rangeHeader(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}

export class Uploads {
  /** Hash states of sessions this process has seen; a missing one is recomputed from the data file. */
  private readonly hashes = new Map<string, HashState>();
  private readonly locks = new KeyedMutex();

  constructor(
    readonly dir: string,
    private readonly content: FileContentStore,
  ) {}

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  private data(id: string): string {
    return join(this.dir, id, 'data');
  }

  async start(repo: string): Promise<UploadStatus> {
    const id = randomUUID();
    const started = new Date().toISOString();
    await fs.mkdir(join(this.dir, id), { mode: 0o700 });
    await fs.writeFile(join(this.dir, id, 'meta.json'), JSON.stringify({ repo, started }));
    return { id, repo, size: 0, started };
  }

  /** The session's state; BLOB_UPLOAD_UNKNOWN when it does not exist or belongs to another repository. */
  async status(repo: string, id: string): Promise<UploadStatus> {
    const unknown = () => regError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: id });
    if (!ID_RE.test(id)) throw unknown();
    let meta: { repo: string; started: string };
    try {
      meta = JSON.parse(await fs.readFile(join(this.dir, id, 'meta.json'), 'utf8')) as { repo: string; started: string };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) throw unknown();
      throw err;
    }
    if (meta.repo !== repo) throw unknown();
    const size = await fs.stat(this.data(id)).then(
      (st) => st.size,
      (err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return 0;
        throw err;
      },
    );
    return { id, repo, size, started: meta.started };
  }

  /** Appends a chunk. With a range, it must start where the data ends (RANGE_INVALID otherwise) and be that long. */
  append(repo: string, id: string, body: Readable, range?: ChunkRange): Promise<UploadStatus> {
    return this.locks.run(id, () => this.appendLocked(repo, id, body, range));
  }

  private async appendLocked(repo: string, id: string, body: Readable, range?: ChunkRange): Promise<UploadStatus> {
    const st = await this.status(repo, id);
    if (range && range.start !== st.size) {
      body.resume();
      throw new RegistryError('RANGE_INVALID', `chunk starts at ${range.start}, upload has ${st.size} bytes`, {
        headers: { Range: rangeHeader(st.size) },
      });
    }
    const state = await this.hashState(id, st.size);
    const fh = await fs.open(this.data(id), 'a', 0o600);
    const sink = new AppendSink(fh, state);
    try {
      await pipeline(body, sink);
    } catch (err) {
      await sink.settled();
      // A broken chunk keeps what reached the disk: the client may ask for the status and resume.
      if (range) await this.truncate(id, fh, st.size);
      throw err;
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (range && state.offset !== range.end + 1) {
      const got = state.offset - st.size;
      await this.truncate(id, undefined, st.size);
      throw regError('BLOB_UPLOAD_INVALID', `chunk ${range.start}-${range.end} carried ${got} bytes`);
    }
    return { ...st, size: state.offset };
  }

  private async truncate(id: string, fh: FileHandle | undefined, size: number): Promise<void> {
    this.hashes.delete(id);
    if (fh) await fh.truncate(size);
    else await fs.truncate(this.data(id), size);
  }

  /**
   * Ends the session: appends the last chunk when given, checks the digest
   * (DIGEST_INVALID, and the session is dropped, on a mismatch) and moves
   * the data into the content store.
   */
  finish(repo: string, id: string, expected: Digest, body?: Readable, range?: ChunkRange): Promise<BlobInfo> {
    return this.locks.run(id, async () => {
      let st = await this.status(repo, id);
      if (body) st = await this.appendLocked(repo, id, body, range);
      const state = await this.hashState(id, st.size);
      const digest: Digest = `sha256:${state.hash.copy().digest('hex')}`;
      if (digest !== expected) {
        await this.remove(id);
        throw regError('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected, got: digest });
      }
      if (!(await this.content.info(digest))) {
        try {
          await this.content.adopt(this.data(id), digest);
        } catch (err) {
          // An empty upload never wrote its data file.
          if (errnoCode(err) !== 'ENOENT' || st.size !== 0) throw err;
          await this.content.put(Buffer.alloc(0), { expected: digest });
        }
      }
      await this.remove(id);
      return { digest, size: st.size };
    });
  }

  cancel(repo: string, id: string): Promise<void> {
    return this.locks.run(id, async () => {
      await this.status(repo, id);
      await this.remove(id);
    });
  }

  async remove(id: string): Promise<void> {
    this.hashes.delete(id);
    await fs.rm(join(this.dir, id), { recursive: true, force: true });
  }

  /** Every session on disk, with its repository and age; unreadable ones get an empty repository. */
  async list(): Promise<UploadStatus[]> {
    const out: UploadStatus[] = [];
    for (const id of await fs.readdir(this.dir)) {
      const meta = await fs
        .readFile(join(this.dir, id, 'meta.json'), 'utf8')
        .then((t) => JSON.parse(t) as { repo: string; started: string })
        .catch(() => undefined);
      const st = await fs.stat(join(this.dir, id)).catch(() => undefined);
      if (!st) continue;
      out.push({ id, repo: meta?.repo ?? '', size: 0, started: meta?.started ?? st.mtime.toISOString() });
    }
    return out;
  }

  private async hashState(id: string, size: number): Promise<HashState> {
    const known = this.hashes.get(id);
    if (known && known.offset === size) return known;
    const state: HashState = { hash: createHash('sha256'), offset: 0 };
    if (size > 0) {
      for await (const chunk of createReadStream(this.data(id), { end: size - 1, highWaterMark: 1 << 20 })) {
        state.hash.update(chunk as Buffer);
        state.offset += (chunk as Buffer).length;
      }
    }
    this.hashes.set(id, state);
    return state;
  }
}

/** Bytes written between two background fdatasyncs of an upload's data file. */
const SYNC_EVERY = 8 << 20;

/**
 * Writes chunks to the end of the data file and hashes them meanwhile; a
 * failed write marks the hash state stale. Every few MiB it starts an fdatasync in the background, so the
 * disk writes along with the transfer and the fsync before the final rename
 * has little left to do.
 */
class AppendSink extends Writable {
  private unsynced = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly state: HashState,
  ) {
    super({ highWaterMark: 4 << 20 });
  }

  private inflight: Promise<void> = Promise.resolve();

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.inflight = this.writeAll([chunk]);
    this.inflight.then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.inflight = this.writeAll(chunks.map((c) => c.chunk));
    this.inflight.then(() => cb(), cb);
  }

  /** Resolves once no write or sync is running, e.g. after the source broke off. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.inflight, this.syncing]);
  }

  override _final(cb: (err?: Error | null) => void): void {
    (this.syncing ?? Promise.resolve()).then(() => cb(), cb);
  }

  private async writeAll(bufs: Buffer[]): Promise<void> {
    // the write runs on libuv's pool while this thread hashes the same bytes
    const write = this.fh.writev(bufs);
    let total = 0;
    for (const b of bufs) {
      this.state.hash.update(b);
      total += b.length;
    }
    this.state.offset += total;
    try {
      let written = (await write).bytesWritten;
      while (written < total) {
        let skip = written;
        const rest: Buffer[] = [];
        for (const b of bufs) {
          if (skip >= b.length) skip -= b.length;
          else {
            rest.push(b.subarray(skip));
            skip = 0;
          }
        }
        written += (await this.fh.writev(rest)).bytesWritten;
      }
    } catch (err) {
      // the hash has seen bytes the file may lack: recompute it from the file when needed
      this.state.offset = NaN;
      throw err;
    }
    this.unsynced += total;
    if (this.unsynced >= SYNC_EVERY && !this.syncing) {
      this.unsynced = 0;
      this.syncing = this.fh.datasync().then(
        () => (this.syncing = undefined),
        () => (this.syncing = undefined),
      );
    }
  }
}
