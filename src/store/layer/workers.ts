/**
 * A small pool of extraction workers (worker.ts), started when a stored
 * blob is to be extracted and stopped after a few idle seconds, so an idle
 * daemon holds none. Jobs go to the least busy worker; a worker that dies
 * fails its jobs and is replaced on the next job.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Digest } from '../../lib/digest.js';
import { BerthError, type ErrorKind } from '../../lib/errors.js';
import type { Extracted } from './extract.js';

export interface WorkerJob {
  id: number;
  /** The blob file to read. */
  src: string;
  /** The empty directory to extract into. */
  dest: string;
}

export type WorkerReply =
  | { id: number; type: 'progress'; bytes: number }
  | { id: number; type: 'done'; diffId: Digest; size: number; tarSize: number }
  | { id: number; type: 'error'; kind: ErrorKind; message: string };

interface Pending {
  resolve(r: Extracted): void;
  reject(err: unknown): void;
  onData?: ((bytes: number) => void) | undefined;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
}

const IDLE_MS = 5000;

export class ExtractPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly size = Math.max(1, Math.min(2, availableParallelism()))) {}

  /** Extracts the blob at `src` into `dest`; `onData` hears the blob bytes read so far. */
  extract(src: string, dest: string, onData?: (bytes: number) => void): Promise<Extracted> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const slot = this.pick();
    const id = this.nextId++;
    // A busy worker keeps the process alive until its jobs end; an idle one does not.
    slot.worker.ref();
    return new Promise<Extracted>((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject, onData });
      slot.worker.postMessage({ id, src, dest } satisfies WorkerJob);
    });
  }

  /** Stops every worker; jobs in flight fail. */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private pick(): Slot {
    const free = this.slots.find((s) => s.jobs.size === 0);
    if (free) return free;
    if (this.slots.length < this.size) return this.spawn();
    return this.slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: WorkerReply) => {
      const job = slot.jobs.get(m.id);
      if (!job) return;
      if (m.type === 'progress') return job.onData?.(m.bytes);
      slot.jobs.delete(m.id);
      if (m.type === 'done') job.resolve({ diffId: m.diffId, size: m.size, tarSize: m.tarSize });
      else job.reject(new BerthError(m.kind, m.message));
      if (slot.jobs.size === 0) worker.unref();
      this.maybeIdle();
    });
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const job of slot.jobs.values()) job.reject(new BerthError('Internal', `layer extraction worker failed: ${err.message}`));
      slot.jobs.clear();
      this.maybeIdle();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (slot.jobs.size) fail(new Error(`exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  private maybeIdle(): void {
    if (this.slots.some((s) => s.jobs.size > 0)) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.slots.every((s) => s.jobs.size === 0)) void this.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}
