/**
 * Container logs as conmon writes them (k8s-file): one record per line,
 * `<RFC3339Nano time> <stdout|stderr> <F|P> <bytes>`, where P marks a partial
 * line whose rest follows in the next record. Everything here works on bytes,
 * so binary output survives; one parser serves reading, following and the
 * attach tail.
 */
import { closeSync, fstatSync, openSync, promises as fs, readSync, watch } from 'node:fs';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** Nanoseconds since the epoch. */
  time: bigint;
  /** The output, with its newline unless the line was cut short (P). */
  data: Buffer;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const NL = Buffer.from('\n');

/** One record (a line without its newline), or undefined when it is not one. */
export function parseRecord(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(SPACE);
  const s2 = s1 < 0 ? -1 : line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const s3 = line.indexOf(SPACE, s2 + 1);
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString();
  const text = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  return { stream, time: parseNano(line.subarray(0, s1).toString()), data: tag === 'P' ? text : Buffer.concat([text, NL]) };
}

/** Every complete record in `buf`, and the bytes after the last newline (a record still being written). */
function parseRecords(buf: Buffer): { entries: LogEntry[]; rest: Buffer } {
  const entries: LogEntry[] = [];
  let start = 0;
  for (let nl = buf.indexOf(NEWLINE); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
    const e = parseRecord(buf.subarray(start, nl));
    if (e) entries.push(e);
    start = nl + 1;
  }
  return { entries, rest: buf.subarray(start) };
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

/** Records of one file from byte `offset` on. */
async function readFrom(path: string, offset: number): Promise<{ entries: LogEntry[]; end: number }> {
  const fh = await fs.open(path, 'r').catch(() => undefined);
  if (!fh) return { entries: [], end: offset };
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { entries: [], end: size };
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    const { entries, rest } = parseRecords(buf.subarray(0, bytesRead));
    return { entries, end: offset + bytesRead - rest.length };
  } finally {
    await fh.close();
  }
}

/** The whole log, rotated files included, oldest record first. */
export async function readLog(path: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (const file of await logFiles(path)) out.push(...(await readFrom(file, 0)).entries);
  return out;
}

/** Below this many bytes the attach tail is read without the thread pool. */
const SMALL_TAIL = 1 << 20;

/**
 * The records written to the current log file from byte `offset` on (the
 * attach tail). A small tail is read at once: it is read as a container
 * exits, when the removal of a `--rm` container fills the thread pool, and
 * the client waits for it before it can report the exit.
 */
export async function readLogFrom(path: string, offset: number): Promise<LogEntry[]> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return [];
    if (size - offset > SMALL_TAIL) return (await readFrom(path, offset)).entries;
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    return parseRecords(buf.subarray(0, n)).entries;
  } finally {
    closeSync(fd);
  }
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
 * record, until the returned function is called. conmon appends; a file that
 * got shorter (truncated or rotated) is read again from its start.
 */
export function followLog(path: string, offset: number, fn: (e: LogEntry) => void): () => void {
  let pos = offset;
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
        if ((await logSize(path)) < pos) pos = 0;
        const { entries, end } = await readFrom(path, pos);
        pos = end;
        for (const e of entries) if (!stopped) fn(e);
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
