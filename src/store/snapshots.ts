/**
 * The overlay snapshotter: each committed layer is `snapshots/<n>/fs`, an
 * overlayfs lower directory holding that layer's own changes with whiteouts in
 * overlay's native form. Extractions run in `snapshots/.incomplete-*` and are
 * renamed into place before the database learns of them, so a crash leaves
 * only directories that `cleanIncomplete` removes.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Layer, PreparedLayer, RwLayer, Snapshotter } from '../core/snapshots.js';
import type { Digest } from '../lib/digest.js';
import { errnoCode, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import { fsyncDir, isMountPoint, randomHex } from '../lib/fsutil.js';
import { MNT_DETACH, mount, umount } from '../lib/sys.js';
import { KeyedMutex } from '../lib/lock.js';
import { nextChainId } from '../oci/chain.js';
import { nextCounter, type DB } from './db.js';
import { extractTar, type Extracted } from './layer/extract.js';
import { ExtractPool } from './layer/workers.js';
import { diffTar } from './layer/diff.js';

interface Row {
  chain_id: string;
  diff_id: string;
  parent: string | null;
  size: number;
  tar_size: number;
  dir_id: number;
  created: number;
}

const INCOMPLETE = '.incomplete-';

export class OverlaySnapshotter implements Snapshotter {
  private readonly commits = new KeyedMutex();
  private readonly pool = new ExtractPool();

  constructor(
    private readonly db: DB,
    readonly root: string,
  ) {}

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  private toLayer(row: Row): Layer {
    return {
      chainId: row.chain_id as Digest,
      diffId: row.diff_id as Digest,
      parent: row.parent as Digest | null,
      size: row.size,
      tarSize: row.tar_size,
      dir: join(this.root, String(row.dir_id), 'fs'),
      created: row.created,
    };
  }

  get(chainId: Digest): Layer | undefined {
    const row = this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as Row | undefined;
    return row && this.toLayer(row);
  }

  list(): Layer[] {
    return (this.db.prepare('SELECT * FROM layers').all() as Row[]).map((r) => this.toLayer(r));
  }

  async apply(parent: Digest | null, tar: Readable, expectedDiffId?: Digest): Promise<Layer> {
    if (parent !== null && !this.get(parent)) throw failedPrecondition(`parent layer ${parent} does not exist`);
    const { work, dest } = await this.newWork();
    return this.commitPrepared(await this.verified(work, extractTar(tar, dest), expectedDiffId), parent);
  }

  async extractBlob(blobPath: string, expectedDiffId?: Digest, onData?: (bytes: number) => void): Promise<PreparedLayer> {
    const { work, dest } = await this.newWork();
    return this.verified(work, this.pool.extract(blobPath, dest, onData), expectedDiffId);
  }

  async extractStream(expectedDiffId?: Digest, onData?: (bytes: number) => void): Promise<{ input: Writable; prepared: Promise<PreparedLayer> }> {
    const { work, dest } = await this.newWork();
    const job = this.pool.extractStream(dest, onData);
    const prepared = this.verified(work, job.result, expectedDiffId);
    prepared.catch(() => undefined);
    return { input: job.input, prepared };
  }

  /** A fresh incomplete directory to extract into (`dest`, inside `work`). */
  private async newWork(): Promise<{ work: string; dest: string }> {
    const work = join(this.root, `${INCOMPLETE}${randomHex(8)}`);
    const dest = join(work, 'fs');
    await fs.mkdir(dest, { recursive: true, mode: 0o755 });
    return { work, dest };
  }

  /** The extraction into `work`, its diff ID checked; on any failure the directory goes. */
  private async verified(work: string, extraction: Promise<Extracted>, expectedDiffId?: Digest): Promise<PreparedLayer> {
    try {
      const done = await extraction;
      if (expectedDiffId !== undefined && done.diffId !== expectedDiffId) {
        throw invalidArgument(`layer digest mismatch: expected ${expectedDiffId}, got ${done.diffId}`);
      }
      return { work, ...done };
    } catch (err) {
      await fs.rm(work, { recursive: true, force: true });
      throw err;
    }
  }

  async commitPrepared(prepared: PreparedLayer, parent: Digest | null): Promise<Layer> {
    const { work, diffId } = prepared;
    try {
      if (parent !== null && !this.get(parent)) throw failedPrecondition(`parent layer ${parent} does not exist`);
      const chainId = nextChainId(parent, diffId);
      return await this.commits.run(chainId, async () => {
        const existing = this.get(chainId);
        if (existing) return existing;
        const dirId = nextCounter(this.db, 'snapshot');
        const final = join(this.root, String(dirId));
        await fs.rename(work, final);
        await fsyncDir(this.root);
        const created = Date.now();
        this.db
          .prepare('INSERT INTO layers(chain_id, diff_id, parent, size, tar_size, dir_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(chainId, diffId, parent, prepared.size, prepared.tarSize, dirId, created);
        return this.get(chainId)!;
      });
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  async discardPrepared(prepared: PreparedLayer): Promise<void> {
    await fs.rm(prepared.work, { recursive: true, force: true });
  }

  async remove(chainId: Digest): Promise<void> {
    const layer = this.get(chainId);
    if (!layer) throw notFound(`layer ${chainId} does not exist`);
    const child = this.db.prepare('SELECT chain_id FROM layers WHERE parent = ? LIMIT 1').get(chainId);
    if (child) throw failedPrecondition(`layer ${chainId} has dependent layers`);
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
    await fs.rm(join(layer.dir, '..'), { recursive: true, force: true });
  }

  lowerDirs(chainId: Digest): string[] {
    const dirs: string[] = [];
    let cur: Digest | null = chainId;
    while (cur !== null) {
      const layer = this.get(cur);
      if (!layer) throw notFound(`layer ${cur} does not exist`);
      dirs.push(layer.dir);
      cur = layer.parent;
    }
    return dirs;
  }

  diff(chainId: Digest): Readable {
    const layer = this.get(chainId);
    if (!layer) throw notFound(`layer ${chainId} does not exist`);
    return diffTar(layer.dir);
  }

  private rwDir(id: string): string {
    return join(this.root, 'rw', id);
  }

  private toRw(row: { id: string; parent: string | null }): RwLayer {
    const dir = this.rwDir(row.id);
    return { id: row.id, parent: row.parent as Digest | null, upper: join(dir, 'upper'), work: join(dir, 'work'), merged: join(dir, 'merged') };
  }

  async createRw(id: string, parent: Digest | null): Promise<RwLayer> {
    if (parent !== null && !this.get(parent)) throw failedPrecondition(`parent layer ${parent} does not exist`);
    const dir = this.rwDir(id);
    for (const sub of ['upper', 'work', 'merged']) await fs.mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
    this.db.prepare('INSERT INTO rw_layers(id, parent, created) VALUES (?, ?, ?)').run(id, parent, Date.now());
    return this.toRw({ id, parent });
  }

  getRw(id: string): RwLayer | undefined {
    const row = this.db.prepare('SELECT id, parent FROM rw_layers WHERE id = ?').get(id) as { id: string; parent: string | null } | undefined;
    return row && this.toRw(row);
  }

  listRw(): RwLayer[] {
    return (this.db.prepare('SELECT id, parent FROM rw_layers').all() as Array<{ id: string; parent: string | null }>).map((r) => this.toRw(r));
  }

  async mountRw(id: string): Promise<string> {
    const rw = this.getRw(id);
    if (!rw) throw notFound(`layer of container ${id} does not exist`);
    if (await isMountPoint(rw.merged)) return rw.merged;
    let lower: string[];
    if (rw.parent === null) {
      const empty = join(this.root, 'empty');
      await fs.mkdir(empty, { recursive: true, mode: 0o755 });
      lower = [empty];
    } else {
      lower = this.lowerDirs(rw.parent);
    }
    mount('overlay', rw.merged, 'overlay', 0, `lowerdir=${lower.join(':')},upperdir=${rw.upper},workdir=${rw.work}`);
    return rw.merged;
  }

  async unmountRw(id: string): Promise<void> {
    const rw = this.getRw(id);
    if (!rw) return;
    while (await isMountPoint(rw.merged)) {
      try {
        umount(rw.merged, MNT_DETACH);
      } catch (err) {
        if (errnoCode(err) === 'EINVAL' || errnoCode(err) === 'ENOENT') break;
        throw err;
      }
    }
  }

  async removeRw(id: string): Promise<void> {
    await this.unmountRw(id);
    this.db.prepare('DELETE FROM rw_layers WHERE id = ?').run(id);
    await fs.rm(this.rwDir(id), { recursive: true, force: true });
  }

  async commitRw(id: string, diffId: Digest, size: number, tarSize: number): Promise<Layer> {
    const rw = this.getRw(id);
    if (!rw) throw notFound(`layer of container ${id} does not exist`);
    await this.unmountRw(id);
    const chainId = nextChainId(rw.parent, diffId);
    return this.commits.run(chainId, async () => {
      const existing = this.get(chainId);
      if (existing) return existing;
      const work = join(this.root, `${INCOMPLETE}${randomHex(8)}`);
      await fs.mkdir(work, { mode: 0o755 });
      try {
        await fs.rename(rw.upper, join(work, 'fs'));
        const dirId = nextCounter(this.db, 'snapshot');
        await fs.rename(work, join(this.root, String(dirId)));
        await fsyncDir(this.root);
        this.db
          .prepare('INSERT INTO layers(chain_id, diff_id, parent, size, tar_size, dir_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(chainId, diffId, rw.parent, size, tarSize, dirId, Date.now());
        return this.get(chainId)!;
      } catch (err) {
        await fs.rm(work, { recursive: true, force: true });
        throw err;
      }
    });
  }

  async cleanIncomplete(): Promise<number> {
    const known = new Set((this.db.prepare('SELECT dir_id FROM layers').all() as Array<{ dir_id: number }>).map((r) => String(r.dir_id)));
    let removed = 0;
    for (const name of await fs.readdir(this.root)) {
      if (name === 'rw' || name === 'empty') continue;
      if (name.startsWith(INCOMPLETE) || (/^\d+$/.test(name) && !known.has(name))) {
        await fs.rm(join(this.root, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}
