/**
 * The runtime driver: runc creates and runs containers from OCI bundles,
 * conmon watches each one. conmon holds the container's stdio (and its TTY),
 * writes its log in k8s-file form, records the exit code in the exit
 * directory and serves attach on a SOCK_SEQPACKET socket — so nothing of
 * berthd is needed while a container runs.
 */
import { spawn, execFile } from 'node:child_process';
import { constants as fsc, promises as fs, readFileSync, watch } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { AttachStream, CreateOptions, ExecOptions, ExecSession, Runtime, RuntimeState } from '../core/runtime.js';
import { errnoCode, failedPrecondition, internal } from '../lib/errors.js';
import { seqpacketConnect } from '../lib/sys.js';
import { exists } from '../lib/fsutil.js';
import { ExecHelper } from './exec.js';

export interface ConmonPaths {
  runc: string;
  conmon: string;
  /** runc's state directory (`runc --root`). */
  root: string;
  /** Where conmon writes a file named after each container when it exits. */
  exitDir: string;
  /** Short paths for attach sockets (a UNIX socket path is limited to 108 bytes). */
  socketDir: string;
  /** The exec helper (native/exec.c) and where it keeps compiled seccomp filters. */
  execHelper: string;
  seccompDir: string;
}

/** conmon prefixes each output packet on the attach socket with the stream it came from. */
const PIPE_STDOUT = 2;
const PIPE_STDERR = 3;
/** conmon reads stdin packets into a buffer of this size; larger packets would be cut. */
const STDIN_PACKET = 4096;

function run(cmd: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** runc's own error line, without its logrus decoration. */
function runcMessage(err: unknown): string {
  const text = String((err as { stderr?: string }).stderr ?? (err as Error).message ?? err);
  const msgs = [...text.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"'));
  return (msgs.length ? msgs.join(': ') : text).trim();
}

/** A short, stable key for a container's socket directory. */
const socketKey = (id: string) => id.slice(0, 12);

/** Wraps a connected SOCK_SEQPACKET descriptor in a Node socket (libuv reads and writes it like a pipe). */
function packetSocket(fd: number): net.Socket {
  const { Pipe, constants } = (process as unknown as { binding(name: string): { Pipe: new (t: number) => { open(fd: number): number }; constants: { SOCKET: number } } }).binding('pipe_wrap');
  const handle = new Pipe(constants.SOCKET);
  const rc = handle.open(fd);
  if (rc !== 0) throw internal(`cannot open attach socket (libuv error ${rc})`);
  const socket = new net.Socket({ handle, readable: true, writable: true } as net.SocketConstructorOpts);
  // One write must stay one packet: no batching of queued writes into a writev.
  Object.defineProperty(socket, '_writev', { value: null });
  return socket;
}

function attachStream(socket: net.Socket): AttachStream {
  // conmon resets the connection when a TTY session ends: that is the end of the stream, not an error.
  socket.on('error', () => socket.destroy());
  return {
    onOutput(fn) {
      socket.on('data', (packet: Buffer) => {
        if (packet.length < 1) return;
        const kind = packet[0];
        if (kind === PIPE_STDOUT) fn('stdout', packet.subarray(1));
        else if (kind === PIPE_STDERR) fn('stderr', packet.subarray(1));
      });
    },
    onClose(fn) {
      socket.on('close', fn);
    },
    write(data) {
      for (let off = 0; off < data.length; off += STDIN_PACKET) socket.write(data.subarray(off, off + STDIN_PACKET));
    },
    closeStdin() {
      socket.end();
    },
    close() {
      socket.destroy();
    },
  };
}

export class ConmonRuntime implements Runtime {
  /** PIDs of runc's init processes between create and start. */
  private readonly initPids = new Map<string, number>();

  private readonly execs: ExecHelper;

  constructor(private readonly paths: ConmonPaths) {
    this.execs = new ExecHelper(paths.execHelper, paths.root, paths.seccompDir);
  }

  async init(): Promise<void> {
    for (const dir of [this.paths.root, this.paths.exitDir, this.paths.socketDir]) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  }

  private runc(...args: string[]): string[] {
    return [`--root=${this.paths.root}`, ...args];
  }

  async create(opts: CreateOptions): Promise<{ pid: number }> {
    await fs.rm(join(this.paths.exitDir, opts.id), { force: true });
    for (const f of ['attach', 'ctl', 'winsz', 'pid', 'conmon.pid']) await fs.rm(join(opts.bundle, f), { force: true });
    const args = [
      '--api-version', '1',
      '-c', opts.id,
      '-u', socketKey(opts.id),
      '-n', opts.id,
      '-r', this.paths.runc,
      '--runtime-arg', `--root=${this.paths.root}`,
      '-b', opts.bundle,
      '-p', join(opts.bundle, 'pid'),
      '-P', join(opts.bundle, 'conmon.pid'),
      '-l', `k8s-file:${opts.logPath}`,
      '--exit-dir', this.paths.exitDir,
      '--socket-dir-path', this.paths.socketDir,
      '--syslog=false',
      '--log-level=error',
    ];
    if (opts.tty) args.push('-t');
    if (opts.stdin) args.push('-i');
    if (opts.logSizeMax) args.push('--log-size-max', String(opts.logSizeMax));
    const child = spawn(this.paths.conmon, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', () => undefined);
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    try {
      const first = await syncMessages(sync).next(30_000);
      if (first.data !== undefined && first.data > 0) {
        this.initPids.set(opts.id, first.data);
        return { pid: first.data };
      }
      const msg = runcMessage({ stderr: first.message ?? 'conmon could not create the container' }) + (stderr.includes('[conmon:e]') ? `: ${stderr.trim()}` : '');
      throw failedPrecondition(cleanCreateError(msg));
    } finally {
      // conmon keeps its end for later messages; it ignores a closed pipe.
      sync.destroy();
      child.unref();
    }
  }

  /**
   * Lets a created container run. runc's init process waits, before it execs
   * the command, until a reader opens the container's exec FIFO; `runc start`
   * is that reader and nothing more. Reading the FIFO here spares a runc
   * process per start. When the FIFO is not where runc keeps it, runc start
   * does the work.
   */
  async start(id: string): Promise<void> {
    const fifo = join(this.paths.root, id, 'exec.fifo');
    const pid = this.initPids.get(id);
    this.initPids.delete(id);
    if (pid === undefined || !(await exists(fifo))) {
      try {
        await run(this.paths.runc, this.runc('start', id));
      } catch (err) {
        throw failedPrecondition(runcMessage(err));
      }
      return;
    }
    const read = readExecFifo(fifo);
    // An init that died before opening its end would leave the open blocked: unblock it as a writer.
    const watchdog = setInterval(() => {
      if (!alive(pid)) void unblockFifo(fifo);
    }, 100);
    try {
      if ((await read) === 0) throw failedPrecondition('container process is already dead');
    } finally {
      clearInterval(watchdog);
    }
    await fs.rm(fifo, { force: true });
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    try {
      await run(this.paths.runc, this.runc('kill', ...(all ? ['--all'] : []), id, String(signal)));
    } catch (err) {
      const msg = runcMessage(err);
      if (/not running|process already finished|container not running/i.test(msg)) return;
      throw failedPrecondition(msg);
    }
  }

  async pause(id: string): Promise<void> {
    await run(this.paths.runc, this.runc('pause', id)).catch((err: unknown) => {
      throw failedPrecondition(runcMessage(err));
    });
  }

  async resume(id: string): Promise<void> {
    await run(this.paths.runc, this.runc('resume', id)).catch((err: unknown) => {
      throw failedPrecondition(runcMessage(err));
    });
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      const { stdout } = await run(this.paths.runc, this.runc('state', id));
      const s = JSON.parse(stdout) as { status: RuntimeState['status']; pid: number };
      return { status: s.status, pid: s.pid };
    } catch (err) {
      if (/does not exist/.test(runcMessage(err))) return undefined;
      throw internal(runcMessage(err));
    }
  }

  async delete(id: string, force = false): Promise<void> {
    this.initPids.delete(id);
    this.execs.forget(id);
    // runc keeps a state directory per container; without one there is nothing to delete.
    const known = await fs.access(join(this.paths.root, id)).then(() => true, () => false);
    if (!known) {
      await fs.rm(join(this.paths.socketDir, socketKey(id)), { force: true, recursive: true });
      return;
    }
    try {
      await run(this.paths.runc, this.runc('delete', ...(force ? ['--force'] : []), id));
    } catch (err) {
      if (!/does not exist/.test(runcMessage(err))) throw failedPrecondition(runcMessage(err));
    }
    await fs.rm(join(this.paths.socketDir, socketKey(id)), { force: true, recursive: true });
  }

  async attach(id: string): Promise<AttachStream> {
    const path = join(this.paths.socketDir, socketKey(id), 'attach');
    let fd: number;
    try {
      fd = seqpacketConnect(path);
    } catch (err) {
      throw failedPrecondition(`cannot attach to container ${id}: ${errnoCode(err) ?? (err as Error).message}`);
    }
    return attachStream(packetSocket(fd));
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const link = join(this.paths.socketDir, socketKey(id));
    await writeCtl(join(link, 'ctl'), `1 ${height} ${width}\n`);
  }

  async reopenLog(id: string): Promise<void> {
    await writeCtl(join(this.paths.socketDir, socketKey(id), 'ctl'), '2 0 0\n');
  }

  async exitCode(id: string): Promise<number | undefined> {
    try {
      const text = (await fs.readFile(join(this.paths.exitDir, id), 'utf8')).trim();
      return text === '' ? undefined : Number(text);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  watchExits(fn: (id: string) => void): () => void {
    const watcher = watch(this.paths.exitDir, (_event, name) => {
      if (name) fn(String(name));
    });
    return () => watcher.close();
  }

  async monitorPid(id: string): Promise<number | undefined> {
    const bundleLink = join(this.paths.socketDir, socketKey(id));
    const text = await fs.readFile(join(bundleLink, 'conmon.pid'), 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (!pid) return undefined;
    return (await fs.access(`/proc/${pid}`).then(() => true, () => false)) ? pid : undefined;
  }

  exec(id: string, opts: ExecOptions): Promise<ExecSession> {
    return this.execs.exec(id, opts);
  }

  async pids(id: string): Promise<number[]> {
    try {
      const { stdout } = await run(this.paths.runc, this.runc('ps', '--format', 'json', id));
      return (JSON.parse(stdout) as number[] | null) ?? [];
    } catch (err) {
      throw failedPrecondition(runcMessage(err));
    }
  }

  async update(id: string, resourcesJson: string): Promise<void> {
    await run(this.paths.runc, this.runc('update', '--resources', '-', id), resourcesJson).catch((err: unknown) => {
      throw failedPrecondition(runcMessage(err));
    });
  }
}

/** Reads successive `{"data": n, "message"?: s}` lines from a conmon pipe. */
function syncMessages(stream: NodeJS.ReadableStream): { next(timeoutMs?: number): Promise<{ data?: number; message?: string }> } {
  const queue: Array<{ data?: number; message?: string }> = [];
  const waiting: Array<(m: { data?: number; message?: string }) => void> = [];
  let text = '';
  const push = (m: { data?: number; message?: string }) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  };
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      try {
        push(JSON.parse(line) as { data?: number; message?: string });
      } catch {
        push({ message: line });
      }
    }
  });
  stream.on('end', () => push({ message: 'conmon closed its pipe' }));
  stream.on('error', () => push({ message: 'conmon pipe failed' }));
  return {
    next: (timeoutMs) =>
      new Promise((resolve) => {
        const m = queue.shift();
        if (m) return resolve(m);
        waiting.push(resolve);
        if (timeoutMs) {
          setTimeout(() => {
            const i = waiting.indexOf(resolve);
            if (i >= 0) waiting.splice(i, 1);
            resolve({ message: 'timed out waiting for conmon' });
          }, timeoutMs).unref();
        }
      }),
  };
}

/** True while a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Opens the exec FIFO as its reader (a blocking open, on libuv's thread pool) and reads until the writer closes it; returns the bytes read. */
async function readExecFifo(fifo: string): Promise<number> {
  const fh = await fs.open(fifo, fsc.O_RDONLY);
  try {
    let total = 0;
    const buf = Buffer.alloc(16);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return total;
      total += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

async function unblockFifo(fifo: string): Promise<void> {
  const fh = await fs.open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK).catch(() => undefined);
  await fh?.close();
}

async function writeCtl(path: string, text: string): Promise<void> {
  const fh = await fs.open(path, fsc.O_WRONLY | fsc.O_NONBLOCK).catch((err: unknown) => {
    throw failedPrecondition(`container is not running: ${errnoCode(err) ?? ''}`);
  });
  try {
    await fh.write(text);
  } finally {
    await fh.close();
  }
}

/** runc's create errors carry layers of context; keep what a user can act on. */
function cleanCreateError(msg: string): string {
  return msg.replace(/^.*?runc create failed: /s, '').replace(/\s+/g, ' ').trim();
}
