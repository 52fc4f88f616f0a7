/**
 * Exec sessions through berth-exec (native/exec.c): the helper joins the
 * namespaces and cgroups of the container's init, applies the process's
 * rlimits, user, capabilities, no_new_privs and the container's seccomp
 * filter as runc would, and runs the command, without a runtime start-up per
 * call. The container's runc state (state.json) names its init and cgroups.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { AttachStream, ExecOptions, ExecSession } from '../core/runtime.js';
import { failedPrecondition, internal } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/fsutil.js';
import { capNumber } from './caps.js';
import type { Seccomp, SeccompAction } from '../oci/runtimespec.js';

/** How long after a session ends the helper for the next one is started. */
const REFILL_DELAY_MS = 10;

/** berth-exec's status line: the process runs, or why it could not start. */
type Status = { pid: number } | { error: string };

/** The helper's path, next to the native module's build output. */
export function findExecHelper(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native', 'build', 'Release', 'berth-exec');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw internal('berth-exec is not built: run `make setup`');
}

const RLIMITS = [
  'CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING',
  'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME',
].map((n) => `RLIMIT_${n}`);

function action(a: SeccompAction, errnoRet: number | undefined): string {
  switch (a) {
    case 'SCMP_ACT_ALLOW':
      return 'allow';
    case 'SCMP_ACT_ERRNO':
      return `errno:${errnoRet ?? 1}`;
    case 'SCMP_ACT_TRACE':
      return `trace:${errnoRet ?? 1}`;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 'kill_thread';
    case 'SCMP_ACT_KILL_PROCESS':
      return 'kill_process';
    case 'SCMP_ACT_TRAP':
      return 'trap';
    case 'SCMP_ACT_LOG':
      return 'log';
    default:
      throw failedPrecondition(`seccomp action ${a} is not supported for exec`);
  }
}

/** The container's OCI seccomp section in the line format berth-exec compiles. */
export function seccompRules(s: Seccomp): string {
  const lines = [`default ${action(s.defaultAction, s.defaultErrnoRet)}`];
  for (const arch of s.architectures ?? []) lines.push(`arch ${arch.replace(/^SCMP_ARCH_/, '').toLowerCase()}`);
  for (const call of s.syscalls ?? []) {
    const act = action(call.action, call.errnoRet);
    const conds = (call.args ?? []).map((a) => ` ${a.index} ${a.op.replace(/^SCMP_CMP_/, '').toLowerCase()} ${BigInt(a.value)} ${BigInt(a.valueTwo ?? 0)}`).join('');
    for (const name of call.names) lines.push(`rule ${act} ${name}${conds}`);
  }
  return lines.join('\n') + '\n';
}

function mask(names: string[] | undefined): string {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = capNumber(n);
    if (bit >= 0) m |= 1n << BigInt(bit);
  }
  return m.toString(16);
}

/** What runc recorded of a container: its init and the cgroups it made. */
interface RuncState {
  init_process_pid: number;
  init_process_start: number;
  cgroup_paths?: Record<string, string>;
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks; guards against a reused PID. */
function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

export class ExecHelper {
  /** Compiled filters by the hash of their rules, shared by every container with the same profile. */
  private readonly filters = new Map<string, Promise<string>>();

  constructor(
    private readonly helper: string,
    /** runc's state directory. */
    private readonly runcRoot: string,
    /** Where compiled seccomp filters are kept. */
    private readonly cacheDir: string,
  ) {}

  /** Filters by the spec section they were made from: a container's spec is read once per run. */
  private readonly filterOf = new WeakMap<Seccomp, Promise<string>>();

  private filter(s: Seccomp): Promise<string> {
    let known = this.filterOf.get(s);
    if (!known) {
      this.filterOf.set(s, (known = this.compiled(s)));
      known.catch(() => this.filterOf.delete(s));
    }
    return known;
  }

  private compiled(s: Seccomp): Promise<string> {
    const rules = seccompRules(s);
    const key = createHash('sha256').update(rules).digest('hex');
    let p = this.filters.get(key);
    if (!p) {
      p = this.compile(rules, join(this.cacheDir, `${key}.bpf`));
      this.filters.set(key, p);
      p.catch(() => this.filters.delete(key));
    }
    return p;
  }

  private async compile(rules: string, path: string): Promise<string> {
    if (existsSync(path)) return path;
    const bpf = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(this.helper, ['seccomp'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(internal(`cannot compile the seccomp filter: ${err.trim()}`))));
      child.stdin.end(rules);
    });
    await fs.mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, bpf);
    return path;
  }

  /**
   * A helper waiting for its request (berth-exec serve), started ahead of the
   * session that will use it; it ends by itself when the daemon does (its
   * request socket closes).
   */
  private ready: ChildProcess | undefined;

  private spawnHelper(): ChildProcess {
    // Every helper has the same descriptors: stdin, stdout, stderr, the request/status socket and the resize pipe.
    const child = spawn(this.helper, ['serve'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], detached: true });
    child.on('error', () => undefined);
    child.unref();
    for (const s of child.stdio) (s as Writable | Readable | null)?.on('error', () => undefined);
    return child;
  }

  private refill: NodeJS.Timeout | undefined;

  /** The waiting helper if it is still alive, else a new one. */
  private take(): ChildProcess {
    const child = this.ready;
    this.ready = undefined;
    if (child && child.exitCode === null && child.signalCode === null) return child;
    child?.kill();
    return this.spawnHelper();
  }

  /**
   * Starts the next session's helper shortly after this one ended. Starting a
   * process blocks the daemon for several milliseconds: not while a session
   * starts or runs, nor when its client asks for the exit code right after.
   */
  private replenish(): void {
    if (this.refill) clearTimeout(this.refill);
    this.refill = setTimeout(() => {
      this.refill = undefined;
      this.ready ??= this.spawnHelper();
    }, REFILL_DELAY_MS);
    this.refill.unref();
  }

  /** What runc recorded of each container's current init, read once per run. */
  private readonly states = new Map<string, RuncState>();

  /** The container's init and cgroups, as long as that init is the one runc started (its PID was not reused). */
  private async stateOf(id: string): Promise<RuncState> {
    const known = this.states.get(id);
    if (known && startTime(known.init_process_pid) === known.init_process_start) return known;
    this.states.delete(id);
    const state = JSON.parse(await fs.readFile(join(this.runcRoot, id, 'state.json'), 'utf8').catch(() => {
      throw failedPrecondition(`container ${id} is not running`);
    })) as RuncState;
    if (startTime(state.init_process_pid) !== state.init_process_start) throw failedPrecondition(`container ${id} is not running`);
    this.states.set(id, state);
    return state;
  }

  /** Forgets a container's runc state (it stopped). */
  forget(id: string): void {
    this.states.delete(id);
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecSession> {
    const state = await this.stateOf(id);
    const pid = state.init_process_pid;
    const p = opts.process;
    const args = ['--pid', String(pid), '--uid', String(p.user.uid), '--gid', String(p.user.gid)];
    if (p.user.additionalGids?.length) args.push('--groups', p.user.additionalGids.join(','));
    for (const dir of new Set(Object.values(state.cgroup_paths ?? {}))) if (existsSync(dir)) args.push('--cgroup', dir);
    const c = p.capabilities;
    if (c) args.push('--caps', [c.bounding, c.effective, c.permitted, c.inheritable, c.ambient].map(mask).join(','));
    for (const r of p.rlimits ?? []) {
      const n = RLIMITS.indexOf(r.type);
      if (n >= 0) args.push('--rlimit', `${n}:${BigInt(r.soft)}:${BigInt(r.hard)}`);
    }
    if (p.noNewPrivileges) args.push('--nnp');
    if (opts.seccomp) args.push('--seccomp', await this.filter(opts.seccomp));
    if (p.oomScoreAdj) args.push('--oom-score-adj', String(p.oomScoreAdj));
    if (p.terminal) args.push('--tty');
    if (p.terminal && p.consoleSize) args.push('--size', `${p.consoleSize.height},${p.consoleSize.width}`);
    if (!opts.stdin) args.push('--null-stdin');
    if (opts.detach) args.push('--detach');
    args.push('--cwd', p.cwd || '/', '--', ...p.args);
    const child = this.take();
    const exited = new Promise<number>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.on('error', () => resolve(126));
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    });
    const stdio = child.stdio as unknown as [Writable, Readable, Readable, Duplex, Writable];
    const body = Buffer.from([...args, '', ...p.env].map((w) => `${w}\0`).join(''));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    stdio[3].write(Buffer.concat([head, body]));
    const status = await readStatus(stdio[3]);
    void exited.then(() => this.replenish());
    if ('error' in status) {
      child.kill();
      await exited;
      throw failedPrecondition(status.error);
    }
    if (!opts.stdin) stdio[0].destroy();
    const ctl = p.terminal ? stdio[4] : undefined;
    if (!ctl) stdio[4].destroy();
    const stream = helperStream(opts.stdin ? stdio[0] : null, stdio[1], stdio[2]);
    let handed = false;
    return {
      pid: status.pid,
      attach: async () => {
        if (handed) return undefined;
        handed = true;
        return stream;
      },
      resize: async (height, width) => {
        if (!ctl || ctl.destroyed) throw failedPrecondition('the exec session has no terminal');
        ctl.write(`${height} ${width}\n`);
      },
      wait: () => exited,
    };
  }
}

function signalNumber(name: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[name] ?? 0;
}

/** The line berth-exec writes on fd 3 once the process runs or cannot start. */
function readStatus(stream: Duplex): Promise<Status> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const line = text.slice(0, nl);
      stream.destroy();
      if (line.startsWith('pid ')) resolve({ pid: Number(line.slice(4)) });
      else resolve({ error: line.replace(/^err /, '') });
    });
    stream.on('end', () => resolve({ error: 'exec failed: the helper ended before the process started' }));
    stream.on('error', () => resolve({ error: 'exec failed: the helper ended before the process started' }));
  });
}

/** The helper's pipes as an attach stream; it closes when both outputs have ended. */
function helperStream(stdin: Writable | null, stdout: Readable, stderr: Readable): AttachStream {
  stdin?.on('error', () => undefined);
  let open = 2;
  const closers: Array<() => void> = [];
  const ended = () => {
    if (--open === 0) for (const fn of closers) fn();
  };
  stdout.once('close', ended);
  stderr.once('close', ended);
  return {
    onOutput(fn) {
      stdout.on('data', (d: Buffer) => fn('stdout', d));
      stderr.on('data', (d: Buffer) => fn('stderr', d));
    },
    onClose(fn) {
      closers.push(fn);
    },
    write(data) {
      stdin?.write(data);
    },
    closeStdin() {
      stdin?.end();
    },
    close() {
      stdin?.destroy();
      stdout.destroy();
      stderr.destroy();
    },
  };
}
