/**
 * Container logs as conmon writes them (k8s-file): one record per line,
 * `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`, where P marks a partial
 * line whose rest follows in the next record.
 */
import { createReadStream, promises as fs, watch } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** Nanoseconds since the epoch. */
  time: bigint;
  timestamp: string;
  /** The line, with its newline unless the line was cut short (P). */
  text: string;
}

export function parseLine(line: string): LogEntry | undefined {
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  const third = line.indexOf(' ', second + 1);
  if (first < 0 || second < 0) return undefined;
  const timestamp = line.slice(0, first);
  const stream = line.slice(first + 1, second);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = third < 0 ? line.slice(second + 1) : line.slice(second + 1, third);
  const text = third < 0 ? '' : line.slice(third + 1);
  return { stream, time: parseNano(timestamp), timestamp, text: tag === 'P' ? text : `${text}\n` };
}

/** RFC 3339 with up to nanoseconds and an offset, to nanoseconds since the epoch. */
export function parseNano(ts: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return 0n;
  const seconds = BigInt(Math.floor(Date.parse(`${m[1]}${m[3]}`) / 1000));
  const frac = BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  return seconds * 1_000_000_000n + frac;
}

/** Docker's timestamp form for `logs -t`: UTC, nanoseconds, trailing zeros kept to 9 digits. */
export function formatNano(t: bigint): string {
  const secs = t / 1_000_000_000n;
  const nanos = (t % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** The log and its rotated predecessors (`path.1` is the newest of those), oldest first. */
export async function logFiles(path: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 1; await fs.access(`${path}.${i}`).then(() => true, () => false); i++) files.unshift(`${path}.${i}`);
  if (await fs.access(path).then(() => true, () => false)) files.push(path);
  return files;
}

export async function readLog(path: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (const file of await logFiles(path)) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) {
      const e = parseLine(line);
      if (e) out.push(e);
    }
  }
  return out;
}

/**
 * Rotates a log past `maxSize` bytes, keeping `maxFiles` files in all:
 * `path` becomes `path.1`, `path.1` becomes `path.2`, and so on; the oldest
 * beyond the count is deleted. Returns true when it rotated.
 */
export async function rotateLog(path: string, maxSize: number, maxFiles: number): Promise<boolean> {
  const size = await logSize(path);
  if (size < maxSize) return false;
  await fs.rm(`${path}.${maxFiles - 1}`, { force: true });
  for (let i = maxFiles - 2; i >= 1; i--) await fs.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
  await fs.rename(path, `${path}.1`);
  return true;
}

/**
 * Follows a log file from byte `offset`, calling `fn` for each new complete
 * record, until `stop` is called. conmon appends; a truncation (log size limit)
 * restarts from the beginning.
 */
export function followLog(path: string, offset: number, fn: (e: LogEntry) => void): () => void {
  let pos = offset;
  let pending = '';
  let reading = false;
  let again = false;
  let stopped = false;
  const pump = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const st = await fs.stat(path).catch(() => undefined);
        if (!st) break;
        if (st.size < pos) {
          pos = 0;
          pending = '';
        }
        if (st.size === pos) continue;
        const fh = await fs.open(path, 'r');
        try {
          const buf = Buffer.alloc(st.size - pos);
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          pos += bytesRead;
          pending += buf.subarray(0, bytesRead).toString('utf8');
        } finally {
          await fh.close();
        }
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const e = parseLine(line);
          if (e && !stopped) fn(e);
        }
      } while (again && !stopped);
    } finally {
      reading = false;
    }
  };
  const watcher = watch(path, () => void pump());
  const timer = setInterval(() => void pump(), 250);
  void pump();
  return () => {
    stopped = true;
    watcher.close();
    clearInterval(timer);
  };
}

export async function logSize(path: string): Promise<number> {
  return (await fs.stat(path).catch(() => undefined))?.size ?? 0;
}

/**
 * The raw output bytes recorded in a log file from byte `offset` on, per
 * record, with k8s-file's line framing undone (full lines get their newline
 * back). Works on bytes, so binary output survives.
 */
export async function readLogBytes(path: string, offset: number): Promise<Array<{ stream: 'stdout' | 'stderr'; data: Buffer }>> {
  const fh = await fs.open(path, 'r').catch(() => undefined);
  if (!fh) return [];
  try {
    const { size } = await fh.stat();
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    const out: Array<{ stream: 'stdout' | 'stderr'; data: Buffer }> = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      const line = buf.subarray(start, nl);
      start = nl + 1;
      const s1 = line.indexOf(0x20);
      const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
      const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
      if (s2 < 0) continue;
      const stream = line.subarray(s1 + 1, s2).toString();
      if (stream !== 'stdout' && stream !== 'stderr') continue;
      const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString();
      const text = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
      out.push({ stream, data: tag === 'P' ? text : Buffer.concat([text, Buffer.from('\n')]) });
    }
    return out;
  } finally {
    await fh.close();
  }
}
