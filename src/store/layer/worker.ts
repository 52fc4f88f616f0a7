/**
 * An extraction worker thread: takes a stored layer blob (any compression)
 * and a directory, decompresses, hashes and extracts it, and reports
 * progress (blob bytes read) and the result. Decompression, hashing, tar
 * parsing and the file writes of a pull then run beside the daemon's main
 * thread instead of on it.
 */
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BerthError } from '../../lib/errors.js';
import { decompressSniffed } from '../../oci/compression.js';
import { extractTar } from './extract.js';
import type { WorkerJob, WorkerReply } from './workers.js';

const port = parentPort;
if (!port) throw new Error('the extraction worker runs only as a worker thread');

const PROGRESS_MS = 100;

async function run(job: WorkerJob): Promise<void> {
  const source = createReadStream(job.src, { highWaterMark: 1 << 20 });
  let read = 0;
  let last = 0;
  source.on('data', (chunk) => {
    read += chunk.length;
    const now = Date.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      port!.postMessage({ id: job.id, type: 'progress', bytes: read } satisfies WorkerReply);
    }
  });
  const result = await extractTar(await decompressSniffed(source), job.dest);
  port!.postMessage({ id: job.id, type: 'done', ...result } satisfies WorkerReply);
}

port.on('message', (job: WorkerJob) => {
  run(job).catch((err: unknown) => {
    const kind = err instanceof BerthError ? err.kind : 'Internal';
    const message = err instanceof Error ? err.message : String(err);
    port.postMessage({ id: job.id, type: 'error', kind, message } satisfies WorkerReply);
  });
});
