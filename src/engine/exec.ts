/**
 * Exec sessions (`docker exec`): a process started in a running container
 * with the container's own process settings (capabilities, seccomp, rlimits)
 * and the session's command, environment, user and working directory.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../core/runtime.js';
import { conflict, notFound } from '../lib/errors.js';
import { capSet } from '../runtime/caps.js';
import { startFailureCode } from './starterr.js';
import { hostFacts } from '../runtime/host.js';
import { resolveUser, type ResolvedUser } from '../runtime/user.js';
import type { Process, RuntimeSpec } from '../oci/runtimespec.js';
import { mergeEnv } from '../oci/image.js';
import type { AttachSink, ContainerService } from './containers.js';
import type { Events } from './events.js';

export interface ExecConfig {
  Cmd: string[];
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  DetachKeys?: string;
  /** The client's terminal size (rows, columns) with Tty. */
  ConsoleSize?: [number, number] | null;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  resize?: (h: number, w: number) => Promise<void>;
}

export class ExecService {
  private readonly sessions = new Map<string, ExecRecord>();
  /** Each running container's OCI spec, read once per start (berthd writes it before each start). */
  private readonly specs = new Map<string, { startedAt: string; spec: RuntimeSpec }>();
  /** Users resolved in each running container, valid while its passwd and group files are unchanged. */
  private readonly users = new Map<string, Map<string, ResolvedUser>>();

  constructor(
    private readonly containers: ContainerService,
    private readonly runtime: Runtime,
    private readonly events: Events,
  ) {}

  create(containerRef: string, config: ExecConfig): string {
    const c = this.containers.get(containerRef);
    if (c.state.Status === 'paused') throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
    if (!config.Cmd?.length) throw conflict('No exec command specified');
    const id = randomBytes(32).toString('hex');
    this.sessions.set(id, { id, containerId: c.id, config, running: false, exitCode: null, pid: 0 });
    this.events.publish('container', `exec_create: ${config.Cmd.join(' ')}`, c.id, { execID: id, name: c.name, image: c.config.Image });
    return id;
  }

  get(id: string): ExecRecord {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    return s;
  }

  /** Starts the session; output goes to the sink (when attached) until the process ends. A console size given at start wins over the one given at create. */
  async start(id: string, sink: AttachSink | undefined, consoleSize?: [number, number] | null): Promise<void> {
    const s = this.get(id);
    if (s.running || s.exitCode !== null) throw conflict(`Error: Exec command ${id} is already running`);
    const c = this.containers.get(s.containerId);
    if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
    const bundle = await this.bundleOf(c.id, c.state.StartedAt);
    const user = await this.userOf(c.id, bundle.root.path, s.config.User || c.config.User, c.hostConfig.GroupAdd ?? []);
    const process: Process = {
      ...bundle.process,
      terminal: !!s.config.Tty,
      args: s.config.Cmd,
      env: mergeEnv(bundle.process.env ?? [], s.config.Env ?? []),
      cwd: s.config.WorkingDir || c.config.WorkingDir || '/',
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    };
    const size = consoleSize ?? s.config.ConsoleSize;
    if (s.config.Tty && size?.[0] && size[1]) process.consoleSize = { height: size[0], width: size[1] };
    else delete process.consoleSize;
    // docker gives a terminal session TERM=xterm unless the session or the container sets TERM.
    if (s.config.Tty && !process.env.some((e) => e.startsWith('TERM='))) process.env.push('TERM=xterm');
    if (s.config.Privileged) {
      const all = capSet({ privileged: true, available: hostFacts().caps });
      process.capabilities = { bounding: all, effective: all, permitted: all };
    }
    if (!process.env.some((e) => e.startsWith('HOME='))) process.env.push(`HOME=${user.home}`);
    const stdin = !!s.config.AttachStdin && !!sink?.stdin;
    this.events.publish('container', `exec_start: ${s.config.Cmd.join(' ')}`, c.id, { execID: id, name: c.name, image: c.config.Image });
    let session;
    try {
      const seccomp = s.config.Privileged ? undefined : bundle.linux.seccomp;
      session = await this.runtime.exec(c.id, { process, ...(seccomp ? { seccomp } : {}), stdin, detach: !sink });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      s.exitCode = startFailureCode(message, s.config.Cmd[0]!);
      this.events.publish('container', 'exec_die', c.id, { execID: id, exitCode: String(s.exitCode), name: c.name, image: c.config.Image });
      throw conflict(`OCI runtime exec failed: exec failed: ${message}: unknown`);
    }
    s.running = true;
    s.pid = session.pid;
    s.resize = (h, w) => session.resize(h, w);
    const stream = await session.attach();
    const done = session.wait().then(async (code) => {
      s.running = false;
      s.exitCode = code;
      delete s.resize;
      this.events.publish('container', 'exec_die', c.id, { execID: id, exitCode: String(code), name: c.name, image: c.config.Image });
    });
    if (!stream) return;
    if (!sink) {
      // Detached: nobody reads the output; it is only kept in the session's log until the end.
      stream.onOutput(() => undefined);
      return;
    }
    stream.onOutput((which, data) => {
      if ((which === 'stdout' && sink.stdout) || (which === 'stderr' && sink.stderr)) sink.write(which, data);
    });
    if (stdin && sink.stdin) {
      sink.stdin.on('data', (d: Buffer) => stream.write(d));
      sink.stdin.on('end', () => stream.closeStdin());
    }
    // The exit code is recorded before the client's stream closes, so its inspect right after sees it.
    stream.onClose(() => {
      void done.then(() => sink.end());
    });
  }

  private async bundleOf(containerId: string, startedAt: string): Promise<RuntimeSpec> {
    const known = this.specs.get(containerId);
    if (known?.startedAt === startedAt) return known.spec;
    const c = this.containers.get(containerId);
    const spec = JSON.parse(await fs.readFile(join(this.containers.dir(c), 'config.json'), 'utf8')) as RuntimeSpec;
    this.specs.set(containerId, { startedAt, spec });
    return spec;
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const s = this.get(id);
    if (!s.resize) throw conflict(`Exec ${id} is not running`);
    await s.resize(height, width);
  }

  /** Drops a finished session (health probes are not kept). */
  forget(id: string): void {
    const s = this.sessions.get(id);
    if (s && !s.running) this.sessions.delete(id);
  }

  /** Forgets what was kept of a container's run once it stopped. */
  stopped(containerId: string): void {
    this.specs.delete(containerId);
    this.users.delete(containerId);
  }

  /**
   * The session's user, resolved against the container's passwd and group
   * files as they are now: a user added in the container since is found.
   */
  private async userOf(containerId: string, rootfs: string, spec: string, groupAdd: string[]): Promise<ResolvedUser> {
    // Two stats of files in the page cache: cheaper inline than through the thread pool, on the path of every exec.
    const stamp = (path: string) => {
      const st = statSync(join(rootfs, path), { throwIfNoEntry: false });
      return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
    };
    const key = [spec, groupAdd.join(','), stamp('etc/passwd'), stamp('etc/group')].join('|');
    let known = this.users.get(containerId);
    const hit = known?.get(key);
    if (hit) return hit;
    const user = await resolveUser(rootfs, spec, groupAdd);
    if (!known) this.users.set(containerId, (known = new Map()));
    known.set(key, user);
    return user;
  }

  /** Sessions of a container, for inspect's ExecIDs. */
  ofContainer(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.containerId === containerId).map((s) => s.id);
  }
}
