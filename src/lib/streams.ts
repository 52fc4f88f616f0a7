/** Stream plumbing shared by the stores and the API edge. */
import fs from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * A Writable that forwards into `target` with backpressure, and silently
 * drops data once `target` has stopped accepting it. Lets a hasher read a
 * stream to its very end even when the consumer (a tar extractor that stops at
 * the end-of-archive marker) finishes early.
 */
export function forwardInto(target: PassThrough): Writable {
  const closed = () => target.destroyed || target.writableEnded;
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (closed()) return cb();
      if (target.write(chunk)) return cb();
      const done = () => {
        target.off('drain', done);
        target.off('close', done);
        cb();
      };
      target.once('drain', done);
      target.once('close', done);
    },
    final(cb) {
      if (!closed()) target.end();
      cb();
    },
    destroy(err, cb) {
      if (err && !target.destroyed) target.destroy(err);
      cb(err);
    },
  });
}

/** Reads the first bytes of a stream without consuming them. */
export async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let total = 0;
  const iterator = source[Symbol.asyncIterator]();
  while (total < n) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    chunks.push(chunk);
    total += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(rest(), { objectMode: false }) };
}

/** A gunzip that also accepts concatenated members and trailing zero padding, as tar tools produce. */
/**
 * A file sink that writes a megabyte at a time: one trip through the thread
 * pool where 64 KiB socket reads would cost sixteen. `target` is a path it
 * opens and closes, or a descriptor its caller opened and closes. What it
 * holds when the stream is destroyed (a source failing part way) is still
 * written, so the file keeps every byte it was given.
 */
export function fileSink(target: string | number, opts: { flags?: string; mode?: number } = {}, batch = 1 << 20): Writable {
  const owned = typeof target === 'string';
  let fd: number | undefined = owned ? undefined : target;
  let held: Buffer[] = [];
  let size = 0;
  const take = () => {
    const out = held;
    held = [];
    size = 0;
    return out;
  };
  const writeAll = (chunks: Buffer[], cb: (err?: Error | null) => void) => writevAll(fd!, chunks, cb);
  return new Writable({
    highWaterMark: batch,
    construct(cb) {
      if (!owned) return cb();
      fs.open(target, opts.flags ?? 'w', opts.mode ?? 0o666, (err, f) => {
        fd = f;
        cb(err);
      });
    },
    write(chunk: Buffer, _enc, cb) {
      held.push(chunk);
      size += chunk.length;
      if (size < batch) return cb();
      writeAll(take(), cb);
    },
    final(cb) {
      if (size === 0) return cb();
      writeAll(take(), cb);
    },
    destroy(err, cb) {
      if (fd === undefined) return cb(err);
      try {
        if (size > 0) fs.writeSync(fd, Buffer.concat(take()));
      } catch {
        // The error that destroyed the stream is the one to report.
      }
      if (!owned) return cb(err);
      fs.close(fd, (closeErr) => cb(err ?? closeErr));
    },
  });
}

/** Writes every chunk at the file's position with one writev (no copy), continuing after a short write. */
function writevAll(fd: number, chunks: Buffer[], cb: (err?: Error | null) => void): void {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  fs.writev(fd, chunks, (err, n) => {
    if (err) return cb(err);
    if (n >= total) return cb();
    const rest = Buffer.concat(chunks).subarray(n);
    const step = (off: number) => {
      if (off >= rest.length) return cb();
      fs.write(fd, rest, off, rest.length - off, null, (e, m) => (e ? cb(e) : step(off + m)));
    };
    step(0);
  });
}

export function gunzip() {
  return createGunzip({ chunkSize: 1 << 20 });
}

/** Collects a stream into one buffer, refusing more than `limit` bytes. */
export async function readAll(source: Readable, limit = 64 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > limit) throw new Error(`stream exceeds ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
