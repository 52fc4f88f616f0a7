/**
 * An extraction worker thread: takes a layer (any compression) from a
 * stored blob file or as a stream of chunks posted by the main thread, and
 * decompresses, hashes and extracts it into a directory, reporting progress
 * (layer bytes read) and the result. Decompression, hashing, tar parsing and
 * the file writes of a pull then run beside the daemon's main thread instead
 * of on it. A streamed chunk is acknowledged once consumed, which is the
 * main thread's back-pressure.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { BerthError } from '../../lib/errors.js';
import { decompressSniffed } from '../../oci/compression.js';
import { extractTar } from './extract.js';
import type { WorkerReply, WorkerRequest } from './workers.js';

const port = parentPort;
if (!port) throw new Error('the extraction worker runs only as a worker thread');

const PROGRESS_MS = 100;
const reply = (m: WorkerReply) => port.postMessage(m);
const streams = new Map<number, PassThrough>();

async function run(id: number, source: Readable, dest: string): Promise<void> {
  let read = 0;
  let last = 0;
  source.on('data', (chunk: Buffer) => {
    read += chunk.length;
    const now = Date.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      reply({ id, type: 'progress', bytes: read });
    }
  });
  const result = await extractTar(await decompressSniffed(source), dest);
  reply({ id, type: 'done', ...result });
}

function start(id: number, source: Readable, dest: string): void {
  run(id, source, dest)
    .catch((err: unknown) => {
      const kind = err instanceof BerthError ? err.kind : 'Internal';
      const message = err instanceof Error ? err.message : String(err);
      reply({ id, type: 'error', kind, message });
    })
    .finally(() => streams.delete(id));
}

port.on('message', (m: WorkerRequest) => {
  switch (m.type) {
    case 'file':
      start(m.id, createReadStream(m.src, { highWaterMark: 1 << 20 }), m.dest);
      break;
    case 'stream': {
      const input = new PassThrough({ highWaterMark: 4 << 20 });
      streams.set(m.id, input);
      start(m.id, input, m.dest);
      break;
    }
    case 'chunk': {
      const input = streams.get(m.id);
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      if (!input) return reply({ id: m.id, type: 'ack', bytes: data.length });
      input.write(data, () => reply({ id: m.id, type: 'ack', bytes: data.length }));
      break;
    }
    case 'end':
      streams.get(m.id)?.end();
      break;
    case 'abort':
      streams.get(m.id)?.destroy(new Error(m.message));
      break;
  }
});
