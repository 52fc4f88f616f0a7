/**
 * A small pool of extraction workers (worker.ts), started when a layer is
 * to be extracted and stopped after a few idle seconds, so an idle
 * daemon holds none. Jobs go to the least busy worker; a worker that dies
 * fails its jobs and is replaced on the next job.
 */
import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Digest } from '../../lib/digest.js';
import { BerthError, type ErrorKind } from '../../lib/errors.js';
import type { Extracted } from './extract.js';

/** What the main thread sends: a job (from a file, or streamed in chunks), and a streamed job's chunks and end. */
export type WorkerRequest =
  | { id: number; type: 'file'; src: string; dest: string }
  | { id: number; type: 'stream'; dest: string }
  | { id: number; type: 'chunk'; data: Uint8Array }
  | { id: number; type: 'end' }
  | { id: number; type: 'abort'; message: string };

export type WorkerReply =
  | { id: number; type: 'progress'; bytes: number }
  | { id: number; type: 'ack'; bytes: number }
  | { id: number; type: 'done'; diffId: Digest; size: number; tarSize: number }
  | { id: number; type: 'error'; kind: ErrorKind; message: string };

interface Pending {
  resolve(r: Extracted): void;
  reject(err: unknown): void;
  onData?: ((bytes: number) => void) | undefined;
  onAck?: (bytes: number) => void;
}

/** A streamed job posts a megabyte at a time and stops taking input while this much is unacknowledged. */
const CHUNK = 1 << 20;
const IN_FLIGHT = 8 << 20;

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
}

/** A fresh worker runs its first layer at half speed (cold code): workers outlive short pauses between pulls. */
const IDLE_MS = 8000;

export class ExtractPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  /** One core stays with the main thread (downloads, hashing, the API): on two cores one worker beats two. */
  constructor(private readonly size = Math.max(1, Math.min(4, availableParallelism() - 1))) {}

  /** Extracts the blob at `src` into `dest`; `onData` hears the blob bytes read so far. */
  extract(src: string, dest: string, onData?: (bytes: number) => void): Promise<Extracted> {
    return this.submit({ type: 'file', src, dest }, { onData }).result;
  }

  /**
   * Extracts a layer written into `input` (any compression) into `dest`.
   * Destroying `input` with an error abandons the extraction.
   */
  extractStream(dest: string, onData?: (bytes: number) => void): { input: Writable; result: Promise<Extracted> } {
    let inFlight = 0;
    let resume: (() => void) | undefined;
    const { id, slot, result } = this.submit(
      { type: 'stream', dest },
      {
        onData,
        onAck: (bytes) => {
          inFlight -= bytes;
          if (inFlight < IN_FLIGHT && resume) {
            const go = resume;
            resume = undefined;
            go();
          }
        },
      },
    );
    let held: Buffer[] = [];
    let size = 0;
    const post = () => {
      // A fresh copy owns its memory, so it can be moved to the worker instead of cloned.
      const data = Buffer.concat(held, size);
      held = [];
      size = 0;
      inFlight += data.length;
      slot.worker.postMessage({ id, type: 'chunk', data } satisfies WorkerRequest, [data.buffer]);
    };
    let ended = false;
    const input = new Writable({
      highWaterMark: CHUNK,
      write(chunk: Buffer, _enc, cb) {
        held.push(chunk);
        size += chunk.length;
        if (size < CHUNK) return cb();
        post();
        if (inFlight < IN_FLIGHT) cb();
        else resume = () => cb();
      },
      final(cb) {
        if (size > 0) post();
        ended = true;
        slot.worker.postMessage({ id, type: 'end' } satisfies WorkerRequest);
        cb();
      },
      destroy(err, cb) {
        if (!ended) slot.worker.postMessage({ id, type: 'abort', message: err?.message ?? 'layer stream abandoned' } satisfies WorkerRequest);
        cb(err);
      },
    });
    // A failed extraction stops taking input: the download that feeds it carries on without it. The
    // failure itself is reported through `result`.
    input.on('error', () => undefined);
    result.then(
      () => resume?.(),
      (err: unknown) => input.destroy(err instanceof Error ? err : new Error(String(err))),
    );
    return { input, result };
  }

  private submit(req: { type: 'file'; src: string; dest: string } | { type: 'stream'; dest: string }, hooks: Pick<Pending, 'onData' | 'onAck'>) {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const slot = this.pick();
    const id = this.nextId++;
    // A busy worker keeps the process alive until its jobs end; an idle one does not.
    slot.worker.ref();
    const result = new Promise<Extracted>((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject, ...hooks });
      slot.worker.postMessage({ id, ...req } satisfies WorkerRequest);
    });
    return { id, slot, result };
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
      if (m.type === 'ack') return job.onAck?.(m.bytes);
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
