/**
 * The container service: create, start, stop, kill, wait, remove, attach,
 * logs, restart policies and live restore, over the container store, the
 * snapshotter's writable layers and the runtime (runc under conmon).
 */
import { startFailureCode } from './starterr.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { hasProcess, isActive, type ContainerConfig, type ContainerRecord, type ContainerStore, type HostConfig } from '../core/containers.js';
import type { EndpointConfig } from '../core/networks.js';
import type { AttachStream, Runtime } from '../core/runtime.js';
import type { Snapshotter } from '../core/snapshots.js';

import { BerthError, conflict, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { chainId } from '../oci/chain.js';
import { mergeEnv, type ImageConfig } from '../oci/image.js';
import { buildSpec } from '../runtime/spec.js';
import { hostFacts } from '../runtime/host.js';
import { resources } from '../runtime/resources.js';
import { specJson } from '../oci/runtimespec.js';
import { parseSignal, signalName } from '../runtime/signals.js';
import { resolveUser } from '../runtime/user.js';
import { parseTmpfs, type UserMount } from '../runtime/mounts.js';
import type { VolumeService } from './volumes.js';
import { parseUlimit } from '../runtime/ulimit.js';
import type { Events } from './events.js';
import { matchesLabels } from './filters.js';
import type { ImageService } from './images.js';
import { randomName, validateName } from './names.js';
import { diskUsage } from '../lib/fsutil.js';
import { KeyedMutex } from '../lib/lock.js';
import { logSize, readLogFrom, rotateLog } from './logs.js';

export interface ContainerDeps {
  store: ContainerStore;
  snapshots: Snapshotter;
  runtime: Runtime;
  images: ImageService;
  volumes: VolumeService;
  events: Events;
  log: Logger;
  /** `<data-root>/containers`. */
  root: string;
  /** Host path of an init binary for --init (tini-static), when one is installed. */
  initPath?: string;
  network: ContainerNetworking;
}

/** What the container lifecycle asks of networking (the network service answers). */
export interface ContainerNetworking {
  /** At create: the networks the container will join, checked and recorded on the record. */
  plan(c: ContainerRecord, endpoints: Record<string, EndpointConfig> | null | undefined): void;
  /** /etc/hosts and resolv.conf, before the container has endpoints. */
  writeEtc(c: ContainerRecord, dir: string, endpoints: []): Promise<void>;
  /** runc created the process (pid) in its own network namespace: give it its endpoints before it starts. */
  attach(c: ContainerRecord, pid: number, dir: string): Promise<void>;
  /** The container stopped: its addresses, names and ports are free again. */
  release(containerId: string): Promise<void>;
}

export interface CreateRequest {
  name?: string;
  config: Partial<ContainerConfig> & { Image?: string };
  hostConfig: Partial<HostConfig>;
  /** docker's NetworkingConfig.EndpointsConfig. */
  endpoints?: Record<string, EndpointConfig> | null;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** Output consumers attached to a container: `docker attach` and the attach of `docker run`. */
export interface AttachSink {
  stdout: boolean;
  stderr: boolean;
  /** Where the client's stdin comes from, when it asked to send it. */
  stdin?: NodeJS.ReadableStream;
  write(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** The container's streams closed (it exited): flush and close the client. */
  end(): void;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

interface Waiter {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

export class ContainerService {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly pendingAttach = new Map<string, AttachSink[]>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly exiting = new Set<string>();
  private readonly lifecycle = new KeyedMutex();
  private readonly logRotators = new Map<string, NodeJS.Timeout>();
  /** Who waits for a container's exit record to appear (an attach stream that closed just before it). */
  private readonly exitNotices = new Map<string, Set<() => void>>();
  private stopWatch: (() => void) | undefined;
  /** Called after a container started running (the health monitor hooks in here). */
  onStarted: ((id: string) => void) | undefined;
  /** Called after a container's exit was recorded. */
  onStopped: ((id: string) => void) | undefined;

  constructor(private readonly deps: ContainerDeps) {}

  // ── lookups ──

  /** By full ID, name (with or without /), or unique ID prefix; docker's words when missing. */
  get(ref: string): ContainerRecord {
    const s = this.deps.store;
    const byId = s.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = s.byName(name);
    if (byName) return byName;
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = s.list().filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }

  list(): ContainerRecord[] {
    return this.deps.store.list().sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
  }

  logPath(c: ContainerRecord): string {
    return join(this.deps.root, c.id, 'container.log');
  }

  dir(c: ContainerRecord): string {
    return join(this.deps.root, c.id);
  }

  /** The writable layer's directories and the image layers under it, for inspect. */
  layerPaths(id: string): { upper: string; work: string; merged: string; lower: string[] } | undefined {
    const rw = this.deps.snapshots.getRw(id);
    if (!rw) return undefined;
    return { upper: rw.upper, work: rw.work, merged: rw.merged, lower: rw.parent ? this.deps.snapshots.lowerDirs(rw.parent) : [] };
  }

  private save(c: ContainerRecord): void {
    this.deps.store.put(c);
  }

  private publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish('container', action, c.id, { image: c.config.Image, name: c.name, ...c.config.Labels, ...extra });
  }

  // ── create ──

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    const imageRef = req.config.Image ?? '';
    if (!imageRef) throw invalidArgument('No image was specified');
    let name: string;
    if (req.name) {
      name = validateName(req.name);
      const other = this.deps.store.byName(name);
      if (other) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } else {
      name = randomName((n) => this.deps.store.byName(n) !== undefined);
    }
    const image = this.deps.images.resolve(imageRef);
    const imageConfig = await this.deps.images.config(image.id);
    const config = mergeConfig(req.config, imageConfig, imageRef);
    const hostConfig = hostDefaults(req.hostConfig);
    validateHostConfig(hostConfig);
    const entrypoint = config.Entrypoint ?? [];
    const cmd = config.Cmd ?? [];
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw invalidArgument('no command specified');

    const mounts = await this.deps.volumes.prepare({ config, hostConfig, lookup: (ref) => this.get(ref) });
    const id = randomBytes(32).toString('hex');
    if (!config.Hostname) config.Hostname = id.slice(0, 12);
    const record: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      image: image.id,
      config,
      hostConfig,
      path: argv[0]!,
      args: argv.slice(1),
      state: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, OOMKilled: false },
      restartCount: 0,
      manuallyStopped: false,
      mounts,
    };
    this.deps.network.plan(record, req.endpoints);
    const dir = join(this.deps.root, id);
    await fs.mkdir(dir, { recursive: true, mode: 0o710 });
    try {
      await this.deps.snapshots.createRw(id, chainId(imageConfig.rootfs?.diff_ids ?? []));
      await fs.writeFile(join(dir, 'hostname'), `${config.Hostname}\n`);
      await this.deps.network.writeEtc(record, dir, []);
      this.save(record);
    } catch (err) {
      await this.deps.snapshots.removeRw(id).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
      await this.deps.volumes.release(id, mounts, true);
      throw err;
    }
    this.publish(record, 'create');
    return { id, warnings: [] };
  }

  // ── start ──

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    if (hasProcess(c.state.Status)) throw new BerthError('NotModified', 'container already started');
    if (c.state.Status === 'removing' || c.state.Status === 'dead') throw failedPrecondition(`container ${c.id} is marked for removal and cannot be started`);
    const timer = this.restartTimers.get(c.id);
    if (timer) {
      clearTimeout(timer);
      this.restartTimers.delete(c.id);
    }
    c.manuallyStopped = false;
    try {
      await this.run(c);
    } catch (err) {
      // A container that was to be removed on exit goes when it cannot start, as with docker.
      if (c.hostConfig.AutoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Rotates the log of a running container whose log options ask for several files. */
  private watchLog(c: ContainerRecord): void {
    const maxFiles = logMaxFile(c.hostConfig);
    const maxSize = logSizeMax(c.hostConfig);
    if (maxFiles <= 1 || !maxSize || this.logRotators.has(c.id)) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      rotateLog(this.logPath(c), maxSize, maxFiles)
        .then((rotated) => (rotated ? this.deps.runtime.reopenLog(c.id) : undefined))
        .catch((err: unknown) => this.deps.log.warn('log rotation failed', { container: c.id, error: String(err) }))
        .finally(() => {
          busy = false;
        });
    }, 500);
    timer.unref();
    this.logRotators.set(c.id, timer);
  }

  private unwatchLog(id: string): void {
    const timer = this.logRotators.get(id);
    if (timer) clearInterval(timer);
    this.logRotators.delete(id);
  }

  /** Starts and exit handling of one container never interleave (a quick exit races its own start otherwise). */
  private run(c: ContainerRecord): Promise<void> {
    return this.lifecycle.run(c.id, () => this.runLocked(c));
  }

  private async runLocked(c: ContainerRecord): Promise<void> {
    const dir = this.dir(c);
    const { runtime, snapshots } = this.deps;
    let created: { pid: number };
    await runtime.delete(c.id, true).catch(() => undefined);
    const rootfs = await snapshots.mountRw(c.id);
    try {
      const user = await resolveUser(rootfs, c.config.User, (c.hostConfig.GroupAdd ?? []) as string[]);
      const volumeMounts = await this.deps.volumes.attach(c, rootfs);
      const spec = buildSpec(await this.specInput(c, rootfs, user, volumeMounts));
      await fs.writeFile(join(dir, 'config.json'), specJson(spec));
      created = await runtime.create({
        id: c.id,
        bundle: dir,
        logPath: this.logPath(c),
        tty: c.config.Tty,
        stdin: c.config.OpenStdin,
        // With several files berthd rotates; with one, conmon truncates in place.
        ...(logMaxFile(c.hostConfig) > 1 ? {} : { logSizeMax: logSizeMax(c.hostConfig) }),
      });
    } catch (err) {
      throw await this.abortStart(c, err, (message) => startFailureCode(message, c.path));
    }
    try {
      await this.deps.network.attach(c, created.pid, dir);
    } catch (err) {
      const failed = await this.abortStart(c, err, () => 128);
      throw err instanceof BerthError ? err : failed;
    }
    // Attach sessions opened before start connect now, before the process runs, so no output is lost.
    await this.connectPending(c);
    try {
      await runtime.start(c.id);
    } catch (err) {
      throw await this.abortStart(c, err, () => 126);
    }
    c.state = {
      ...c.state,
      Status: 'running',
      Pid: created.pid,
      ExitCode: 0,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: ZERO_TIME,
      OOMKilled: false,
    };
    this.save(c);
    this.watchLog(c);
    this.publish(c, 'start');
    this.onStarted?.(c.id);
    // The process may have exited before the state was read.
    if ((await runtime.exitCode(c.id)) !== undefined) void this.handleExit(c.id);
  }

  /**
   * A start that failed part way: what it made is undone (runtime state,
   * endpoints, mount, volumes), the error is recorded with docker's exit code
   * for it, and the error to answer with is returned.
   */
  private async abortStart(c: ContainerRecord, err: unknown, exitCode: (message: string) => number): Promise<BerthError> {
    await this.deps.runtime.delete(c.id, true).catch(() => undefined);
    await this.deps.network.release(c.id).catch(() => undefined);
    await this.deps.snapshots.unmountRw(c.id).catch(() => undefined);
    await this.deps.volumes.detach(c);
    const message = startError(err);
    c.state = { ...c.state, Error: message, ExitCode: exitCode(message) };
    this.save(c);
    return failedPrecondition(message);
  }

  private async specInput(c: ContainerRecord, rootfs: string, user: { uid: number; gid: number; additionalGids: number[] }, volumeMounts: UserMount[]) {
    const h = c.hostConfig;
    const dir = this.dir(c);
    const mounts: UserMount[] = [
      { type: 'bind', source: join(dir, 'hostname'), destination: '/etc/hostname' },
      { type: 'bind', source: join(dir, 'hosts'), destination: '/etc/hosts' },
      { type: 'bind', source: join(dir, 'resolv.conf'), destination: '/etc/resolv.conf' },
    ];
    for (const [dest, opts] of Object.entries(h.Tmpfs ?? {})) mounts.push(parseTmpfs(opts ? `${dest}:${opts}` : dest));
    mounts.push(...volumeMounts);
    const security = h.SecurityOpt ?? [];
    const seccompOpt = security.find((s) => s.startsWith('seccomp=') || s.startsWith('seccomp:'));
    const seccompValue = seccompOpt?.slice('seccomp='.length);
    const env = c.config.Env ?? [];
    return {
      id: c.id,
      rootfs,
      readonly: h.ReadonlyRootfs,
      args: [c.path, ...c.args],
      env,
      cwd: c.config.WorkingDir || '/',
      tty: c.config.Tty,
      consoleSize: h.ConsoleSize,
      user,
      hostname: c.config.Hostname,
      domainname: c.config.Domainname,
      ...(h.Init && this.deps.initPath ? { init: this.deps.initPath } : {}),
      capAdd: h.CapAdd ?? [],
      capDrop: h.CapDrop ?? [],
      privileged: h.Privileged,
      noNewPrivileges: security.some((s) => /^no-new-privileges(?:[:=]true)?$/.test(s)),
      seccomp: seccompValue === undefined ? 'default' : seccompValue === 'unconfined' ? 'unconfined' : { path: seccompValue },
      mounts,
      shmSize: h.ShmSize || undefined,
      network: (h.NetworkMode === 'host' ? 'host' : 'private') as 'host' | 'private',
      pid: h.PidMode === 'host' ? 'host' : 'private',
      ipc: h.IpcMode === 'host' ? 'host' : 'private',
      resources: {
        memory: h.Memory || undefined,
        memoryReservation: h.MemoryReservation || undefined,
        memorySwap: h.MemorySwap || undefined,
        cpus: h.NanoCpus ? h.NanoCpus / 1e9 : undefined,
        cpuShares: h.CpuShares || undefined,
        cpuQuota: h.CpuQuota || undefined,
        cpuPeriod: h.CpuPeriod || undefined,
        cpusetCpus: h.CpusetCpus || undefined,
        cpusetMems: h.CpusetMems || undefined,
        pidsLimit: h.PidsLimit && h.PidsLimit > 0 ? h.PidsLimit : undefined,
      },
      ulimits: (h.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      oomScoreAdj: h.OomScoreAdj || undefined,
      sysctls: h.Sysctls ?? undefined,
    } as Parameters<typeof buildSpec>[0];
  }

  // ── attach ──

  /** Connects a sink: now when the container runs, else at its next start. */
  async attach(ref: string, sink: AttachSink): Promise<void> {
    const c = this.get(ref);
    if (hasProcess(c.state.Status)) {
      const offset = await logSize(this.logPath(c));
      const stream = await this.deps.runtime.attach(c.id);
      this.wire(c, stream, sink, offset);
    } else {
      const list = this.pendingAttach.get(c.id) ?? [];
      list.push(sink);
      this.pendingAttach.set(c.id, list);
    }
    this.publish(c, 'attach');
  }

  /** Forgets an attach that never connected (the client went away before start). */
  detach(ref: string, sink: AttachSink): void {
    const id = this.get(ref).id;
    const list = (this.pendingAttach.get(id) ?? []).filter((s) => s !== sink);
    if (list.length) this.pendingAttach.set(id, list);
    else this.pendingAttach.delete(id);
  }

  private async connectPending(c: ContainerRecord): Promise<void> {
    const sinks = this.pendingAttach.get(c.id) ?? [];
    this.pendingAttach.delete(c.id);
    for (const sink of sinks) {
      try {
        this.wire(c, await this.deps.runtime.attach(c.id), sink, await logSize(this.logPath(c)));
      } catch (err) {
        this.deps.log.warn('attach failed', { container: c.id, error: (err as Error).message });
        sink.end();
      }
    }
  }

  /**
   * Connects an attach stream to a sink. conmon can close the attach socket
   * before it has passed on the container's last output (it drains the
   * output into the log only), so at close the tail is taken from the log:
   * whatever each stream logged since `logOffset` beyond what was forwarded.
   */
  private wire(c: ContainerRecord, stream: AttachStream, sink: AttachSink, logOffset: number): void {
    const sent = { stdout: 0, stderr: 0 };
    const wants = (which: 'stdout' | 'stderr') => (which === 'stdout' && sink.stdout) || (which === 'stderr' && sink.stderr);
    stream.onOutput((which, data) => {
      sent[which] += data.length;
      if (wants(which)) sink.write(which, data);
    });
    stream.onClose(() => {
      void (async () => {
        // conmon records the exit once the output is drained into the log.
        await this.exitRecorded(c.id, 2000);
        const seen = { stdout: 0, stderr: 0 };
        for (const rec of await readLogFrom(this.logPath(c), logOffset).catch(() => [])) {
          const before = seen[rec.stream];
          seen[rec.stream] += rec.data.length;
          const skip = Math.max(0, sent[rec.stream] - before);
          if (skip < rec.data.length && wants(rec.stream)) sink.write(rec.stream, rec.data.subarray(skip));
        }
      })().finally(() => sink.end());
    });
    if (sink.stdin && c.config.OpenStdin) {
      sink.stdin.on('data', (d: Buffer) => stream.write(d));
      sink.stdin.on('end', () => {
        if (c.config.StdinOnce) stream.closeStdin();
      });
    }
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.get(ref);
    if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
    await this.deps.runtime.resize(c.id, height, width);
  }

  // ── stop, kill, wait ──

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.get(ref);
    const sig = parseSignal(signal);
    if (!hasProcess(c.state.Status)) throw conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    this.publish(c, 'kill', { signal: String(sig) });
    if (sig === 9 && c.state.Status === 'paused') await this.deps.runtime.resume(c.id).catch(() => undefined);
    await this.deps.runtime.kill(c.id, sig);
    if (sig === 9) c.manuallyStopped = true;
    this.save(c);
  }

  async stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    let c = this.get(ref);
    if (!hasProcess(c.state.Status)) {
      // An exit may still be in hand, its restart policy not yet applied: let it finish, then stop what it decided.
      await this.lifecycle.run(c.id, async () => undefined);
      c = this.get(c.id);
    }
    if (c.state.Status === 'restarting') {
      const timer = this.restartTimers.get(c.id);
      if (timer) clearTimeout(timer);
      this.restartTimers.delete(c.id);
      // A restart may be under way: let it finish, then stop what it started.
      await this.lifecycle.run(c.id, async () => undefined);
      c = this.get(c.id);
      if (c.state.Status === 'restarting') {
        c.state.Status = 'exited';
        c.manuallyStopped = true;
        this.save(c);
        this.settle(c.id, result(c), false);
        this.publish(c, 'stop');
        return;
      }
    }
    if (!hasProcess(c.state.Status)) throw new BerthError('NotModified', 'container already stopped');
    c.manuallyStopped = true;
    this.save(c);
    const sig = parseSignal(signal || c.config.StopSignal || 'SIGTERM');
    const timeout = timeoutSeconds ?? c.config.StopTimeout ?? 10;
    const exited = this.wait(c.id, 'not-running');
    if (c.state.Status === 'paused') await this.deps.runtime.resume(c.id).catch(() => undefined);
    this.publish(c, 'kill', { signal: String(sig) });
    await this.deps.runtime.kill(c.id, sig);
    const graceful = timeout < 0 ? await exited : await Promise.race([exited, delay(timeout * 1000).then(() => undefined)]);
    if (!graceful) {
      this.publish(c, 'kill', { signal: '9' });
      await this.deps.runtime.kill(c.id, 9, true);
      await exited;
    }
    this.publish(this.get(c.id), 'stop');
  }

  async restart(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const c = this.get(ref);
    if (hasProcess(c.state.Status)) await this.stop(c.id, timeoutSeconds, signal);
    await this.start(c.id);
    this.publish(this.get(c.id), 'restart');
  }

  wait(ref: string, condition: WaitCondition = 'not-running'): Promise<WaitResult> {
    const c = this.get(ref);
    const running = isActive(c.state.Status);
    if (condition === 'not-running' && !running) return Promise.resolve(result(c));
    return new Promise((resolve) => {
      const list = this.waiters.get(c.id) ?? [];
      list.push({ condition, resolve });
      this.waiters.set(c.id, list);
    });
  }

  private settle(id: string, r: WaitResult, removed: boolean): void {
    const list = this.waiters.get(id) ?? [];
    const keep: Waiter[] = [];
    for (const w of list) {
      if (w.condition !== 'removed' || removed) w.resolve(r);
      else keep.push(w);
    }
    if (keep.length) this.waiters.set(id, keep);
    else this.waiters.delete(id);
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    if (c.state.Status === 'paused') throw conflict(`Container ${c.id} is already paused`);
    if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
    await this.deps.runtime.pause(c.id);
    c.state.Status = 'paused';
    this.save(c);
    this.publish(c, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    if (c.state.Status !== 'paused') throw conflict(`Container ${c.id} is not paused`);
    await this.deps.runtime.resume(c.id);
    c.state.Status = 'running';
    this.save(c);
    this.publish(c, 'unpause');
  }

  rename(ref: string, newName: string): void {
    const c = this.get(ref);
    const name = validateName(newName);
    if (name === c.name) throw invalidArgument(`Renaming a container with the same name as its current name`);
    const other = this.deps.store.byName(name);
    if (other) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const old = c.name;
    c.name = name;
    this.save(c);
    this.publish(c, 'rename', { oldName: `/${old}` });
  }

  /** Bytes in the container's writable layer, and with its image's layers (docker's SizeRw, SizeRootFs). */
  async sizes(ref: string): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const c = this.get(ref);
    const rw = this.deps.snapshots.getRw(c.id);
    const sizeRw = rw ? await diskUsage(rw.upper) : 0;
    let image = 0;
    try {
      image = (await this.deps.images.view(this.deps.images.resolve(c.image))).size;
    } catch {
      // The image is gone; docker reports the writable layer alone then.
    }
    return { SizeRw: sizeRw, SizeRootFs: sizeRw + image };
  }

  /** `docker top`: the host's ps output, limited to the container's processes. */
  async top(ref: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
    const c = this.get(ref);
    if (!hasProcess(c.state.Status)) throw conflict(`Container ${c.id} is not running`);
    const pids = new Set(await this.deps.runtime.pids(c.id));
    const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : [];
    const out = await new Promise<string>((resolve, reject) =>
      execFile('ps', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        err ? reject(invalidArgument(`ps: ${String(stderr).trim() || err.message}`)) : resolve(String(stdout)),
      ),
    );
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    const titles = (lines[0] ?? '').trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw invalidArgument(`Couldn't find PID field in ps output`);
    const processes: string[][] = [];
    for (const line of lines.slice(1)) {
      const fields = line.trim().split(/\s+/);
      // The last column (the command) keeps its spaces.
      const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
      if (pids.has(Number(row[pidCol]))) processes.push(row);
    }
    return { Titles: titles, Processes: processes };
  }

  // ── update ──

  /**
   * `docker update`: checks the new limits as docker does, keeps them in the
   * HostConfig and applies them to a running container's cgroups.
   */
  async update(ref: string, patch: Partial<HostConfig>): Promise<{ Warnings: string[] }> {
    const c = this.get(ref);
    const next = applyUpdate(c, patch);
    if (hasProcess(c.state.Status)) {
      const h = next;
      const facts = hostFacts();
      const res = resources(
        {
          ...(h.Memory ? { memory: h.Memory } : {}),
          ...(h.MemoryReservation ? { memoryReservation: h.MemoryReservation } : {}),
          ...(h.MemorySwap ? { memorySwap: h.MemorySwap } : {}),
          ...(h.NanoCpus ? { cpus: h.NanoCpus / 1e9 } : {}),
          ...(h.CpuShares ? { cpuShares: h.CpuShares } : {}),
          ...(h.CpuQuota ? { cpuQuota: h.CpuQuota } : {}),
          ...(h.CpuPeriod ? { cpuPeriod: h.CpuPeriod } : {}),
          ...(h.CpusetCpus ? { cpusetCpus: h.CpusetCpus } : {}),
          ...(h.CpusetMems ? { cpusetMems: h.CpusetMems } : {}),
          ...(patch.PidsLimit !== undefined && patch.PidsLimit !== null ? { pidsLimit: patch.PidsLimit } : {}),
          ...(typeof h.BlkioWeight === 'number' && h.BlkioWeight ? { blkioWeight: h.BlkioWeight } : {}),
        },
        [],
        facts,
      );
      delete (res as { devices?: unknown }).devices;
      if (h.Memory && h.MemorySwap === -1 && facts.swapLimit) res.memory = { ...(res.memory ?? {}), swap: -1 };
      try {
        await this.deps.runtime.update(c.id, JSON.stringify(res));
      } catch (err) {
        throw new BerthError('Internal', `Cannot update container ${c.id}: ${(err as Error).message}`);
      }
    }
    const cur = this.deps.store.get(c.id) ?? c;
    cur.hostConfig = next;
    this.save(cur);
    this.publish(cur, 'update');
    return { Warnings: [] };
  }

  // ── exit handling ──

  /** Watches the runtime's exit records; call once at daemon start, after restore. */
  watch(): void {
    this.stopWatch = this.deps.runtime.watchExits((id) => {
      for (const notify of this.exitNotices.get(id) ?? []) notify();
      void this.handleExit(id);
    });
  }

  /** Resolves once the runtime has recorded the container's exit, or after `timeoutMs`. */
  private async exitRecorded(id: string, timeoutMs: number): Promise<void> {
    let notify!: () => void;
    const seen = new Promise<void>((resolve) => (notify = resolve));
    const set = this.exitNotices.get(id) ?? new Set();
    set.add(notify);
    this.exitNotices.set(id, set);
    // A slow poll backs up the watcher, which sees only records written while it runs.
    const poll = setInterval(() => {
      void this.deps.runtime.exitCode(id).then((code) => code !== undefined && notify(), () => undefined);
    }, 100);
    const timer = setTimeout(notify, timeoutMs);
    try {
      if ((await this.deps.runtime.exitCode(id)) === undefined) await seen;
    } finally {
      clearInterval(poll);
      clearTimeout(timer);
      set.delete(notify);
      if (!set.size) this.exitNotices.delete(id);
    }
  }

  close(): void {
    this.stopWatch?.();
    for (const id of [...this.logRotators.keys()]) this.unwatchLog(id);
    for (const t of this.restartTimers.values()) clearTimeout(t);
  }

  private handleExit(id: string): Promise<void> {
    return this.lifecycle.run(id, () => this.handleExitLocked(id));
  }

  private async handleExitLocked(id: string): Promise<void> {
    if (this.exiting.has(id)) return;
    this.unwatchLog(id);
    const c = this.deps.store.get(id);
    if (!c || (!hasProcess(c.state.Status))) return;
    const code = await this.deps.runtime.exitCode(id);
    if (code === undefined) return;
    this.exiting.add(id);
    try {
      // Waiters learn of the exit first; the runtime's state and the mount go after, still under the lifecycle lock,
      // so a start or removal that follows waits for them.
      const current = this.deps.store.get(id) ?? c;
      const startedAt = Date.parse(current.state.StartedAt);
      current.state = { ...current.state, Status: 'exited', Pid: 0, ExitCode: code, FinishedAt: new Date().toISOString() };
      this.save(current);
      // Addresses and published ports are free before anyone learns of the exit (a new run may want them at once);
      // the links and firewall rules go after the waiters are answered.
      const released = this.deps.network.release(id).catch((err: unknown) => this.deps.log.warn('network release failed', { container: id, error: String(err) }));
      this.onStopped?.(id);
      this.publish(current, 'die', { exitCode: String(code), execDuration: String(Math.round((Date.now() - startedAt) / 1000)) });
      this.settle(id, result(current), false);
      await released;
      if (current.hostConfig.AutoRemove) {
        await this.remove(id, { force: true, background: true, locked: true, volumes: true }).catch((err: unknown) => this.deps.log.warn('auto-remove failed', { container: id, error: String(err) }));
        return;
      }
      await this.deps.runtime.delete(id, true).catch(() => undefined);
      await this.deps.snapshots.unmountRw(id).catch(() => undefined);
      await this.deps.volumes.detach(current);
      this.maybeRestart(current, Date.now() - startedAt);
    } finally {
      this.exiting.delete(id);
    }
  }

  private maybeRestart(c: ContainerRecord, ranMs: number): void {
    const policy = c.hostConfig.RestartPolicy;
    if (c.manuallyStopped) return;
    const name = policy.Name;
    const failed = c.state.ExitCode !== 0;
    const wanted =
      name === 'always' || name === 'unless-stopped' || (name === 'on-failure' && failed && (!policy.MaximumRetryCount || c.restartCount < policy.MaximumRetryCount));
    if (!wanted) return;
    // docker's backoff: 100 ms doubling per quick failure, back to 100 ms after a run of 10 s or more.
    const backoff = ranMs >= 10_000 ? 100 : Math.min(60_000, 100 * 2 ** Math.min(c.restartCount, 10));
    c.state.Status = 'restarting';
    this.save(c);
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.id);
      const cur = this.deps.store.get(c.id);
      if (!cur || cur.state.Status !== 'restarting') return;
      cur.restartCount++;
      this.run(cur).catch((err: unknown) => {
        this.deps.log.warn('restart failed', { container: c.id, error: String(err) });
        const failedRun = this.deps.store.get(c.id);
        if (failedRun) {
          failedRun.state.Status = 'exited';
          this.save(failedRun);
          // A failed start counts as a failed run: the policy decides whether to try again.
          this.maybeRestart(failedRun, 0);
        }
      });
    }, backoff);
    this.restartTimers.set(c.id, timer);
  }

  // ── remove ──

  /**
   * Removes a container. With `background`, the record goes at once and the
   * runtime state, writable layer and files are cleaned up after (the
   * auto-removal of `run --rm`, whose client waits for the removal); a crash
   * in between leaves orphans that `restore` removes. `locked`: the caller
   * holds the container's lifecycle lock (the exit handler). `volumes`:
   * its anonymous volumes go too (rm -v, and run --rm).
   */
  async remove(ref: string, opts: { force?: boolean; background?: boolean; locked?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    const active = isActive(c.state.Status);
    if (active && !opts.force) {
      const what = c.state.Status === 'paused' ? 'paused' : c.state.Status === 'restarting' ? 'restarting' : 'running';
      throw conflict(
        `cannot remove container "/${c.name}": container is ${what}: stop the container before removing or force remove`,
      );
    }
    const timer = this.restartTimers.get(c.id);
    if (timer) {
      clearTimeout(timer);
      this.restartTimers.delete(c.id);
    }
    if (active) {
      c.manuallyStopped = true;
      c.hostConfig.AutoRemove = false;
      this.save(c);
      if (c.state.Status === 'restarting') {
        c.state.Status = 'exited';
        this.save(c);
      } else {
        const exited = this.wait(c.id, 'not-running');
        if (c.state.Status === 'paused') await this.deps.runtime.resume(c.id).catch(() => undefined);
        this.publish(c, 'kill', { signal: '9' });
        await this.deps.runtime.kill(c.id, 9, true);
        await Promise.race([exited, delay(10_000)]);
      }
    }
    const cur = this.deps.store.get(c.id) ?? c;
    // The exit handler may still be releasing the runtime state and the mount: clean up after it.
    const release = async () => {
      await this.deps.runtime.delete(c.id, true).catch(() => undefined);
      await this.deps.network.release(c.id).catch(() => undefined);
      await this.deps.volumes.detach(cur);
      await this.deps.snapshots.removeRw(c.id);
      await fs.rm(this.dir(c), { recursive: true, force: true });
      await this.deps.volumes.release(c.id, cur.mounts, opts.volumes ?? false);
    };
    const cleanup = () => (opts.locked ? release() : this.lifecycle.run(c.id, release));
    if (!opts.background) {
      cur.state.Status = 'removing';
      this.save(cur);
      await cleanup();
    } else if (opts.volumes) {
      // docker removes a --rm container's anonymous volumes before its waiters learn of the removal.
      await this.deps.volumes.detach(cur);
      await this.deps.volumes.release(c.id, cur.mounts, true);
    }
    this.deps.store.delete(c.id);
    this.pendingAttach.delete(c.id);
    this.unwatchLog(c.id);
    this.publish(cur, 'destroy');
    this.settle(c.id, result(cur), true);
    if (opts.background) {
      await cleanup().catch((err: unknown) => this.deps.log.warn('cleanup after removal failed', { container: c.id, error: String(err) }));
    }
  }

  /** Removes what a crash left of containers that no longer have a record. */
  private async removeOrphans(): Promise<void> {
    for (const rw of this.deps.snapshots.listRw()) {
      if (!this.deps.store.get(rw.id)) {
        await this.deps.runtime.delete(rw.id, true).catch(() => undefined);
        await this.deps.snapshots.removeRw(rw.id).catch(() => undefined);
      }
    }
    for (const name of await fs.readdir(this.deps.root).catch(() => [] as string[])) {
      if (/^[a-f0-9]{64}$/.test(name) && !this.deps.store.get(name)) await fs.rm(join(this.deps.root, name), { recursive: true, force: true });
    }
  }

  async prune(filters: Map<string, string[]>): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    const labels = filters.get('label') ?? [];
    for (const c of this.list()) {
      if (isActive(c.state.Status)) continue;
      if (!matchesLabels(c.config.Labels, labels)) continue;
      await this.remove(c.id);
      deleted.push(c.id);
    }
    this.deps.events.publish('container', 'prune', '', { reclaimed: '0' });
    return { deleted, reclaimed: 0 };
  }

  /** Images containers were made from, for the image service's conflict checks. */
  usersOf(imageId: string): Array<{ id: string; running: boolean }> {
    return this.deps.store
      .list()
      .filter((c) => c.image === imageId)
      .map((c) => ({ id: c.id, running: isActive(c.state.Status) }));
  }

  // ── live restore ──

  /**
   * Reads back every container's real state after a daemon start: running
   * ones keep running (their monitors never stopped), ones that exited while
   * the daemon was away get their recorded exit code, and restart policies
   * apply as docker applies them at daemon start.
   */
  async restore(): Promise<void> {
    await this.removeOrphans();
    for (const c of this.deps.store.list()) {
      if (c.state.Status === 'removing') {
        await this.remove(c.id, { force: true }).catch(() => undefined);
        continue;
      }
      if (c.state.Status === 'restarting') {
        c.state.Status = 'exited';
        this.save(c);
        this.maybeRestart(c, 0);
        continue;
      }
      if (!hasProcess(c.state.Status)) continue;
      const state = await this.deps.runtime.state(c.id).catch(() => undefined);
      const code = await this.deps.runtime.exitCode(c.id);
      if (state && state.status !== 'stopped' && code === undefined) {
        c.state.Status = state.status === 'paused' ? 'paused' : 'running';
        c.state.Pid = state.pid;
        this.save(c);
        this.watchLog(c);
        continue;
      }
      if (code === undefined) {
        // No monitor record: the container was lost with its monitor (a host reboot).
        c.state = { ...c.state, Status: 'exited', Pid: 0, ExitCode: 255, FinishedAt: new Date().toISOString(), Error: 'container lost while the daemon was down' };
        await this.deps.runtime.delete(c.id, true).catch(() => undefined);
        await this.deps.snapshots.unmountRw(c.id).catch(() => undefined);
        await this.deps.volumes.detach(c);
        this.save(c);
        continue;
      }
      await this.handleExit(c.id);
    }
    for (const c of this.deps.store.list()) {
      if (c.state.Status === 'exited' && !c.manuallyStopped && (c.hostConfig.RestartPolicy.Name === 'always' || c.hostConfig.RestartPolicy.Name === 'unless-stopped')) {
        this.run(c).catch((err: unknown) => this.deps.log.warn('restart at daemon start failed', { container: c.id, error: String(err) }));
      }
    }
  }

  signalName(n: number): string {
    return signalName(n);
  }
}

function result(c: ContainerRecord): WaitResult {
  return { StatusCode: c.state.ExitCode, Error: null };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}


function startError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `failed to create task for container: OCI runtime create failed: ${msg}: unknown`;
}

/** Image defaults under the request, with docker's rules for Cmd and Entrypoint. */
export function mergeConfig(req: Partial<ContainerConfig>, image: ImageConfig, imageRef: string): ContainerConfig {
  const ic = image.config ?? {};
  const env = mergeEnv(ic.Env ?? [], req.Env ?? []);
  const entrypointGiven = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const entrypoint = entrypointGiven ? (req.Entrypoint!.length === 1 && req.Entrypoint![0] === '' ? null : req.Entrypoint!) : (ic.Entrypoint ?? null);
  // A new entrypoint drops the image's CMD, as docker does.
  const cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : entrypointGiven ? null : (ic.Cmd ?? null);
  return {
    Hostname: req.Hostname ?? '',
    Domainname: req.Domainname ?? '',
    User: req.User || ic.User || '',
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
    ...(req.ExposedPorts || ic.ExposedPorts ? { ExposedPorts: { ...(ic.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) } } : {}),
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    ...(req.Healthcheck || ic.Healthcheck ? { Healthcheck: req.Healthcheck ?? ic.Healthcheck } : {}),
    Image: imageRef,
    // The request's VOLUMEs (docker run -v /path) join the image's, as docker merges them.
    Volumes: req.Volumes && Object.keys(req.Volumes).length ? { ...(ic.Volumes ?? {}), ...req.Volumes } : (ic.Volumes ?? null),
    WorkingDir: req.WorkingDir || ic.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: { ...(ic.Labels ?? {}), ...(req.Labels ?? {}) },
    ...(req.StopSignal || ic.StopSignal ? { StopSignal: req.StopSignal || ic.StopSignal } : {}),
    ...(req.StopTimeout !== undefined && req.StopTimeout !== null ? { StopTimeout: req.StopTimeout } : {}),
  };
}

export function hostDefaults(h: Partial<HostConfig>): HostConfig {
  return {
    ...h,
    AutoRemove: h.AutoRemove ?? false,
    RestartPolicy: { Name: h.RestartPolicy?.Name ?? 'no', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 },
    NetworkMode: h.NetworkMode || 'bridge',
    Privileged: h.Privileged ?? false,
    ReadonlyRootfs: h.ReadonlyRootfs ?? false,
    CapAdd: h.CapAdd ?? null,
    CapDrop: h.CapDrop ?? null,
    SecurityOpt: h.SecurityOpt ?? null,
    Init: h.Init ?? null,
    Memory: h.Memory ?? 0,
    MemoryReservation: h.MemoryReservation ?? 0,
    MemorySwap: h.MemorySwap ?? 0,
    NanoCpus: h.NanoCpus ?? 0,
    CpuShares: h.CpuShares ?? 0,
    CpuQuota: h.CpuQuota ?? 0,
    CpuPeriod: h.CpuPeriod ?? 0,
    CpusetCpus: h.CpusetCpus ?? '',
    CpusetMems: h.CpusetMems ?? '',
    PidsLimit: h.PidsLimit ?? null,
    Ulimits: h.Ulimits ?? null,
    Tmpfs: h.Tmpfs ?? null,
    ShmSize: h.ShmSize ?? 67108864,
    Binds: h.Binds ?? null,
    LogConfig: { Type: h.LogConfig?.Type || 'k8s-file', Config: h.LogConfig?.Config ?? {} },
    GroupAdd: h.GroupAdd ?? null,
    Sysctls: h.Sysctls ?? null,
    OomScoreAdj: h.OomScoreAdj ?? 0,
    PidMode: h.PidMode ?? '',
    IpcMode: h.IpcMode || 'private',
  };
}

/** docker's update rules: zero leaves a value alone; conflicts are refused with docker's words. */
function applyUpdate(c: ContainerRecord, patch: Partial<HostConfig>): HostConfig {
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const p = {
    Memory: num(patch.Memory),
    MemorySwap: num(patch.MemorySwap),
    MemoryReservation: num(patch.MemoryReservation),
    NanoCpus: num(patch.NanoCpus),
    CpuShares: num(patch.CpuShares),
    CpuQuota: num(patch.CpuQuota),
    CpuPeriod: num(patch.CpuPeriod),
    BlkioWeight: num(patch.BlkioWeight),
  };
  // Checks on the request alone (docker's verifyContainerSettings): 400s without the "Cannot update" prefix.
  if (p.Memory > 0 && p.Memory < 6 * 1024 * 1024) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (p.MemoryReservation > 0 && p.MemoryReservation < 6 * 1024 * 1024) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (p.Memory > 0 && p.MemorySwap > 0 && p.MemorySwap < p.Memory) throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (p.Memory > 0 && p.MemoryReservation > 0 && p.Memory < p.MemoryReservation) {
    throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const ncpu = cpus().length;
  if (p.NanoCpus < 0 || p.NanoCpus > ncpu * 1e9) throw invalidArgument(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  if (p.NanoCpus > 0 && (p.CpuPeriod > 0 || p.CpuQuota > 0)) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (p.CpuPeriod !== 0 && (p.CpuPeriod < 1000 || p.CpuPeriod > 1000000)) throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (p.CpuQuota > 0 && p.CpuQuota < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (p.BlkioWeight > 0 && (p.BlkioWeight < 10 || p.BlkioWeight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000');
  for (const [field, v] of [['CpusetCpus', patch.CpusetCpus], ['CpusetMems', patch.CpusetMems]] as const) {
    if (v && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw invalidArgument(`Invalid value ${v} for ${field === 'CpusetCpus' ? 'cpuset cpus' : 'cpuset mems'}`);
  }

  const cannot = (msg: string) => conflict(`Cannot update container ${c.id}: ${msg}`);
  const cur = c.hostConfig;
  if (p.NanoCpus > 0 && cur.CpuPeriod > 0) throw cannot('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (p.NanoCpus > 0 && cur.CpuQuota > 0) throw cannot('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (p.CpuPeriod > 0 && cur.NanoCpus > 0) throw cannot('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (p.CpuQuota > 0 && cur.NanoCpus > 0) throw cannot('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const next: HostConfig = { ...cur, RestartPolicy: { ...cur.RestartPolicy } };
  if (p.BlkioWeight) next.BlkioWeight = p.BlkioWeight;
  if (p.CpuShares) next.CpuShares = p.CpuShares;
  if (p.NanoCpus) next.NanoCpus = p.NanoCpus;
  if (p.CpuPeriod) next.CpuPeriod = p.CpuPeriod;
  if (p.CpuQuota) next.CpuQuota = p.CpuQuota;
  if (patch.CpusetCpus) next.CpusetCpus = patch.CpusetCpus;
  if (patch.CpusetMems) next.CpusetMems = patch.CpusetMems;
  if (p.Memory) {
    if (cur.MemorySwap > 0 && p.Memory > cur.MemorySwap && p.MemorySwap === 0) {
      throw cannot('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = p.Memory;
  }
  if (p.MemorySwap) next.MemorySwap = p.MemorySwap;
  if (p.MemoryReservation) next.MemoryReservation = p.MemoryReservation;
  if (patch.PidsLimit !== undefined && patch.PidsLimit !== null) next.PidsLimit = patch.PidsLimit;
  const policy = patch.RestartPolicy;
  if (policy && policy.Name) {
    if (cur.AutoRemove) throw cannot('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
    if (!POLICIES.has(next.RestartPolicy.Name)) throw invalidArgument(`invalid restart policy '${next.RestartPolicy.Name}'`);
    if (next.RestartPolicy.MaximumRetryCount < 0) throw invalidArgument('invalid value for maximum retry count: must be greater than or equal to 0');
    if (next.RestartPolicy.MaximumRetryCount > 0 && next.RestartPolicy.Name !== 'on-failure') {
      throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    }
  }
  if (next.Memory > 0 && next.MemorySwap > 0 && next.MemorySwap < next.Memory) {
    throw cannot('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  return next;
}

const POLICIES = new Set(['', 'no', 'always', 'on-failure', 'unless-stopped']);

function validateHostConfig(h: HostConfig): void {
  if (!POLICIES.has(h.RestartPolicy.Name)) throw invalidArgument(`invalid restart policy '${h.RestartPolicy.Name}'`);
  if (h.RestartPolicy.MaximumRetryCount < 0) throw invalidArgument('invalid value for maximum retry count: must be greater than or equal to 0');
  if (h.RestartPolicy.MaximumRetryCount > 0 && h.RestartPolicy.Name !== 'on-failure') {
    throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (h.AutoRemove && h.RestartPolicy.Name !== 'no' && h.RestartPolicy.Name !== '') {
    throw invalidArgument(`can't create 'AutoRemove' container with restart policy`);
  }
  if (h.Memory > 0 && h.Memory < 6 * 1024 * 1024) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (h.NanoCpus < 0) throw invalidArgument('Range of CPUs is from 0.01 to the number of CPUs available');
  for (const u of h.Ulimits ?? []) parseUlimit(`${u.Name}=${u.Soft}:${u.Hard}`);
  for (const [dest, opts] of Object.entries(h.Tmpfs ?? {})) parseTmpfs(opts ? `${dest}:${opts}` : dest);
  logMaxFile(h);
  logSizeMax(h);
  const log = h.LogConfig.Type;
  if (!['k8s-file', 'json-file', 'local', 'none', ''].includes(log)) throw invalidArgument(`failed to create task for container: logger: no log driver named '${log}' is registered`);
}

function logMaxFile(h: HostConfig): number {
  const v = h.LogConfig.Config['max-file'];
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw invalidArgument(`invalid value for max-file: ${v}`);
  return n;
}

function logSizeMax(h: HostConfig): number | undefined {
  const v = h.LogConfig.Config['max-size'];
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(v);
  if (!m) throw invalidArgument(`invalid max-size: ${v}`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}


