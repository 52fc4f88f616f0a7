/**
 * Exec sessions (`docker exec`): a process started in a running container
 * with the container's own process settings (capabilities, seccomp, rlimits)
 * and the session's command, environment, user and working directory.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../core/runtime.js';
import { conflict, notFound } from '../lib/errors.js';
import { resolveUser } from '../runtime/user.js';
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

  /** Starts the session; output goes to the sink (when attached) until the process ends. */
  async start(id: string, sink: AttachSink | undefined): Promise<void> {
    const s = this.get(id);
    if (s.running || s.exitCode !== null) throw conflict(`Error: Exec command ${id} is already running`);
    const c = this.containers.get(s.containerId);
    if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
    const dir = join(this.containers.dir(c), 'exec', id.slice(0, 12));
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const bundle = JSON.parse(await fs.readFile(join(this.containers.dir(c), 'config.json'), 'utf8')) as {
      root: { path: string };
      process: Record<string, unknown> & { env?: string[]; capabilities?: Record<string, string[]> };
    };
    const user = await resolveUser(bundle.root.path, s.config.User || c.config.User);
    const env = mergeEnv(bundle.process.env ?? [], s.config.Env ?? []);
    const processSpec = {
      ...bundle.process,
      terminal: !!s.config.Tty,
      args: s.config.Cmd,
      env,
      cwd: s.config.WorkingDir || c.config.WorkingDir || '/',
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    };
    const specPath = join(dir, 'process.json');
    await fs.writeFile(specPath, JSON.stringify(processSpec));
    const stdin = !!s.config.AttachStdin && !!sink?.stdin;
    this.events.publish('container', `exec_start: ${s.config.Cmd.join(' ')}`, c.id, { execID: id, name: c.name, image: c.config.Image });
    let session;
    try {
      session = await this.runtime.exec(c.id, { processSpec: specPath, tty: !!s.config.Tty, stdin, dir });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      s.exitCode = /executable file not found|no such file or directory/.test(message) ? 127 : 126;
      await fs.rm(dir, { recursive: true, force: true });
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
      await fs.rm(dir, { recursive: true, force: true });
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

  /** Sessions of a container, for inspect's ExecIDs. */
  ofContainer(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.containerId === containerId).map((s) => s.id);
  }
}
