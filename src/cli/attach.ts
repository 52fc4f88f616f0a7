/**
 * Driving an attached container or exec session the way the docker CLI's
 * hijackedIOStreamer does: output demultiplexed (or raw with a TTY), stdin
 * copied in and half-closed at EOF, the local terminal in raw mode while a
 * TTY session reads it, detach keys, TTY resizing and signal forwarding.
 */
import { spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { stdCopy, type Client, type HijackedConnection } from '../client/index.js';
import { StatusError, type CLI, type Output } from './cli.js';
import { DEFAULT_DETACH_KEYS, DetachError, detachKeysToBytes, EscapeMatcher } from './detachkeys.js';

/** Writing to stdout or stderr after its reader went away (Go's `write /dev/stdout: broken pipe`). */
export class BrokenPipeError extends Error {}

function brokenPipe(out: Output): Error {
  const fd = (out.stream as { fd?: number }).fd;
  return new BrokenPipeError(`write /dev/${fd === 2 ? 'stderr' : 'stdout'}: broken pipe`);
}

/**
 * For commands that, in docker, do not catch signals: a Go program writing
 * to a closed stdout dies of SIGPIPE, which the shell sees as status 141.
 */
export async function diesOfSigpipe<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof BrokenPipeError) throw new StatusError('', 141);
    throw e;
  }
}

/**
 * Writes to an output and waits while its buffer is full. A reader that went
 * away (EPIPE) fails the write like Go's `write /dev/stdout: broken pipe`.
 */
export async function writeOutput(out: Output, chunk: Buffer): Promise<void> {
  if (out.broken) throw brokenPipe(out);
  const s = out.stream;
  // wait for the write itself: a closed pipe shows up in its callback
  const err = await new Promise<Error | null | undefined>((resolve) => {
    s.write(chunk, resolve);
  });
  if (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE' || out.broken) {
      out.broken = true;
      throw brokenPipe(out);
    }
    throw err;
  }
}

/** logrus' text line, as the docker CLI prints warnings on stderr. */
export function logrusLine(level: 'warning' | 'error' | 'info', msg: string, now = new Date()): string {
  const t = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `time=${JSON.stringify(t)} level=${level} msg=${JSON.stringify(msg)}\n`;
}

/**
 * Node's raw mode keeps output post-processing (ONLCR) on; moby/term's
 * MakeRaw turns OPOST off (and a few input flags), so container output
 * passes to the terminal byte for byte. Node has no termios call; stty does
 * it on the same terminal. Leaving raw mode restores the saved settings.
 */
function makeRawLikeGo(stdin: { fd?: number }): void {
  const fd = typeof stdin.fd === 'number' ? stdin.fd : 0;
  try {
    spawnSync('stty', ['-opost', '-ignbrk', '-parmrk', '-inlcr', '-igncr', '-echonl'], { stdio: [fd, 'ignore', 'ignore'], timeout: 2000 });
  } catch {
    // no stty: Node's raw mode is close enough
  }
}

type TTYIn = Readable & { fd?: number; isTTY?: boolean; setRawMode?: (raw: boolean) => unknown; unref?: () => void; ref?: () => void };

export interface StreamOptions {
  cli: CLI;
  conn: HijackedConnection;
  /** Copy the CLI's stdin into the connection. */
  stdin: boolean;
  /** Where stdout frames (or the whole TTY stream) go. */
  out: Output | null;
  /** Where stderr frames go. */
  err: Output | null;
  tty: boolean;
  /** `--detach-keys` or the config file's `detachKeys`. */
  detachKeys: string;
}

/**
 * Streams until the output ends (or, without output, until stdin is sent).
 * Rejects with DetachError when the detach keys are typed, and with stream
 * errors (`error from daemon in stream: …`).
 */
export async function streamHijacked(o: StreamOptions): Promise<void> {
  const { cli, conn } = o;
  const stdin = o.stdin ? (cli.in.stream as TTYIn) : null;
  let raw = false;
  let matcher: EscapeMatcher | null = null;
  let stopInput = () => {};
  let restored = false;
  const restoreInput = () => {
    if (restored) return;
    restored = true;
    stopInput();
    if (raw && stdin?.setRawMode) stdin.setRawMode(false);
    raw = false;
  };

  // setupInput: raw terminal and the escape proxy, only for TTY sessions reading stdin
  if (stdin && o.tty) {
    if (stdin.isTTY && stdin.setRawMode && !cli.env['NORAW']) {
      stdin.setRawMode(true);
      raw = true;
      makeRawLikeGo(stdin);
    }
    let keys: Buffer = DEFAULT_DETACH_KEYS;
    if (o.detachKeys !== '') {
      try {
        keys = detachKeysToBytes(o.detachKeys);
      } catch (e) {
        cli.err.write(logrusLine('warning', `invalid detach escape keys, using default: ${(e as Error).message}`));
      }
    }
    matcher = new EscapeMatcher(keys);
  }

  const socket = conn.socket;
  const output: Promise<void> | null =
    o.out || o.err
      ? (async () => {
          try {
            if (o.out && o.tty) {
              for await (const chunk of socket) await writeOutput(o.out, chunk as Buffer);
              restoreInput();
            } else {
              const sink = (out: Output | null) => (out ? (b: Buffer) => writeOutput(out, b) : null);
              await stdCopy(socket, sink(o.out), sink(o.err));
            }
          } catch (e) {
            // a connection reset after the container went away ends the copy like EOF
            if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
            throw e;
          }
        })()
      : null;
  output?.catch(() => undefined);

  const input = new Promise<void>((resolve, reject) => {
    if (!stdin) {
      conn.closeWrite();
      resolve();
      return;
    }
    let finished = false;
    const finish = (detached: boolean) => {
      if (finished) return;
      finished = true;
      restoreInput();
      if (detached) reject(new DetachError());
      else {
        conn.closeWrite();
        resolve();
      }
    };
    const onData = (chunk: Buffer | string) => {
      let b = (typeof chunk === 'string' ? Buffer.from(chunk) : chunk) as Buffer<ArrayBufferLike>;
      let detached = false;
      if (matcher) {
        const r = matcher.push(b);
        b = r.data;
        detached = r.detached;
      }
      if (b.length > 0 && !socket.destroyed && !socket.writableEnded) {
        if (!socket.write(b)) {
          stdin.pause();
          socket.once('drain', () => {
            if (!finished) stdin.resume();
          });
        }
      }
      if (detached) finish(true);
    };
    const onEnd = () => finish(false);
    const onError = () => finish(false);
    stopInput = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
      // let the process exit even though stdin stays open
      stdin.unref?.();
      finished = true;
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.ref?.();
    stdin.resume();
  });
  input.catch(() => undefined);

  try {
    if (output) {
      // whichever ends first: the output (done), the input (then wait for the output), a detach
      const first = await Promise.race([output.then(() => 'output' as const), input.then(() => 'input' as const)]);
      if (first === 'input') await output;
    } else {
      await input;
    }
  } finally {
    restoreInput();
  }
}

/** The terminal size of the CLI's stdout: [height, width], or [0, 0] off a terminal. */
export function ttySize(cli: CLI): [number, number] {
  const s = cli.out.stream as { isTTY?: boolean; rows?: number; columns?: number };
  if (!s.isTTY) return [0, 0];
  return [s.rows ?? 0, s.columns ?? 0];
}

/**
 * MonitorTtySize: resizes the container's (or exec's) TTY to the terminal
 * now — retrying up to 10 times, then `failed to resize tty, using default
 * size` — and again whenever the terminal changes size. Returns a stop function.
 */
export function monitorTtySize(cli: CLI, resize: (h: number, w: number) => Promise<void>, initial?: [number, number]): () => void {
  const doResize = async (size: [number, number]): Promise<boolean> => {
    const [h, w] = size;
    if (h === 0 && w === 0) return true;
    try {
      await resize(h, w);
      return true;
    } catch {
      return false;
    }
  };
  let stopped = false;
  void (async () => {
    if (await doResize(initial ?? ttySize(cli))) return;
    for (let retry = 0; retry < 10; retry++) {
      await new Promise((r) => setTimeout(r, (retry + 1) * 10).unref());
      if (stopped) return;
      if (await doResize(ttySize(cli))) return;
    }
    if (!stopped) cli.err.write('failed to resize tty, using default size\n');
  })();
  const onResize = () => void doResize(ttySize(cli));
  const stream = cli.out.stream;
  stream.on('resize', onResize);
  return () => {
    stopped = true;
    stream.off('resize', onResize);
  };
}

/** The signals the CLI passes on to the container (Go's Notify catches them all; these are the ones Node can). */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGTSTP', 'SIGCONT', 'SIGTTIN', 'SIGTTOU', 'SIGALRM'];

/** ForwardAllSignals: each signal the CLI receives becomes `POST /containers/{id}/kill?signal=NAME`. Returns a stop function. */
export function forwardSignals(client: Client, id: string): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = () => {
      client.containerKill(id, sig.slice(3)).catch(() => undefined);
    };
    try {
      process.on(sig, h);
      handlers.set(sig, h);
    } catch {
      // not available on this platform
    }
  }
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
