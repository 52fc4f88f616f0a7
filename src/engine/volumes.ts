/**
 * The volume service: volumes as a resource (create, list, inspect, remove,
 * prune) and the mounts of containers. The container service calls it at
 * four points of a container's life:
 *   create  → prepare(): parse -v, --mount, --volumes-from and VOLUME, create
 *             named and anonymous volumes, return the mount points to record;
 *   start   → attach(): mount the volumes, copy the image's content into
 *             empty ones, return the binds and tmpfs mounts for the spec;
 *   exit    → detach(): let go of the volumes (tmpfs-backed ones unmount);
 *   remove  → release(): remove the anonymous volumes when asked (rm -v, --rm).
 * Who uses a volume is read from the container records: a volume is in use
 * while any container (running or not) has it among its mount points.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hasProcess, type ContainerConfig, type ContainerRecord, type ContainerStore, type HostConfig } from '../core/containers.js';
import { ANONYMOUS_LABEL, type MountPoint, type VolumeDriver, type VolumeRecord, type VolumeStore } from '../core/volumes.js';
import { BerthError, conflict, invalidArgument, notFound } from '../lib/errors.js';
import { resolveInRoot } from '../lib/fsutil.js';
import type { Logger } from '../lib/log.js';
import type { UserMount } from '../runtime/mounts.js';
import { copyUp } from '../volume/copyup.js';
import { parseBind, parseMount, parseVolumesFrom, validVolumeName, type ApiMount, type MountRequest } from '../volume/spec.js';
import type { Events } from './events.js';
import { matchesLabels } from './filters.js';

export interface VolumeDeps {
  store: VolumeStore;
  /** The local driver: the only one. */
  driver: VolumeDriver;
  containers: ContainerStore;
  events: Events;
  log: Logger;
}

export interface CreateVolume {
  name?: string;
  driver?: string;
  labels?: Record<string, string> | null;
  options?: Record<string, string> | null;
}

export interface VolumeUsage {
  record: VolumeRecord;
  size: number;
  refCount: number;
}

/** The parts of a container create that ask for mounts. */
export interface PrepareInput {
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Finds a container by name or ID for --volumes-from. */
  lookup(ref: string): ContainerRecord;
}

const opError = (op: string, name: string, err: unknown): unknown =>
  err instanceof BerthError ? new BerthError(err.kind, `${op} ${name}: ${err.message}`, err.context) : err;

export class VolumeService {
  constructor(private readonly deps: VolumeDeps) {}

  // ── the resource ──

  get(name: string): VolumeRecord {
    const v = this.deps.store.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  mountpoint(v: VolumeRecord): string {
    return this.deps.driver.path(v.name);
  }

  /** Creates a volume, or returns the existing one of that name (docker's create is idempotent). */
  async create(opts: CreateVolume): Promise<VolumeRecord> {
    const name = opts.name || randomBytes(32).toString('hex');
    const driver = opts.driver || 'local';
    const existing = this.deps.store.get(name);
    if (existing) {
      if (driver !== existing.driver) throw conflict(`create ${name}: volume name must be unique`);
      return existing;
    }
    if (driver !== this.deps.driver.name) throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    checkVolumeName(name);
    const options = opts.options ?? {};
    try {
      await this.deps.driver.create(name, options);
    } catch (err) {
      throw opError('create', name, err);
    }
    const record: VolumeRecord = { name, driver, labels: opts.labels ?? {}, options, created: new Date().toISOString() };
    this.deps.store.add(record);
    this.deps.events.publish('volume', 'create', name, { driver });
    return record;
  }

  /** Containers whose mount points name the volume, oldest record order. */
  users(name: string, except?: string): string[] {
    return this.deps.containers
      .list()
      .filter((c) => c.id !== except && (c.mounts ?? []).some((m) => m.type === 'volume' && m.name === name))
      .map((c) => c.id);
  }

  list(filters: Map<string, string[]> = new Map()): VolumeRecord[] {
    let items = this.deps.store.list();
    for (const [key, values] of filters) {
      switch (key) {
        case 'name':
          items = items.filter((v) => values.some((n) => v.name.includes(n) || safeRegExp(n)?.test(v.name)));
          break;
        case 'driver':
          items = items.filter((v) => values.includes(v.driver));
          break;
        case 'label':
          items = items.filter((v) => matchesLabels(v.labels, values));
          break;
        case 'dangling': {
          const wanted = values.map((x) => parseBool(x, `invalid filter 'dangling=${x}'`));
          items = items.filter((v) => wanted.includes(this.users(v.name).length === 0));
          break;
        }
        default:
          throw invalidArgument(`invalid filter '${key}'`);
      }
    }
    return items;
  }

  /**
   * Removes a volume. In use: Conflict with docker's words, force or not;
   * `force` only makes a missing volume no error, as with docker.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.deps.store.get(name);
    if (!v) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const users = this.users(name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.destroy(v);
  }

  private async destroy(v: VolumeRecord): Promise<void> {
    await this.deps.driver.remove(v.name);
    this.deps.store.delete(v.name);
    this.deps.events.publish('volume', 'destroy', v.name, { driver: v.driver });
  }

  /**
   * Removes unused volumes: anonymous ones only, unless the filter `all` is
   * true (docker 23 and later). `label` and `label!` filters narrow the set.
   */
  async prune(filters: Map<string, string[]>): Promise<{ deleted: string[]; reclaimed: number }> {
    let all = false;
    for (const [key, values] of filters) {
      if (key === 'all') all = values.some((x) => parseBool(x, `invalid filter 'all=${x}'`));
      else if (key !== 'label' && key !== 'label!') throw invalidArgument(`invalid filter '${key}'`);
    }
    const withLabels = filters.get('label') ?? [];
    const withoutLabels = filters.get('label!') ?? [];
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.deps.store.list()) {
      if (!all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (!matchesLabels(v.labels, withLabels)) continue;
      if (withoutLabels.length && withoutLabels.some((l) => matchesLabels(v.labels, [l]))) continue;
      if (this.users(v.name).length) continue;
      const size = await this.deps.driver.size(v.name).catch(() => 0);
      try {
        await this.destroy(v);
      } catch (err) {
        this.deps.log.warn('volume prune: removal failed', { volume: v.name, error: String(err) });
        continue;
      }
      deleted.push(v.name);
      reclaimed += size;
    }
    this.deps.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /** Every volume with its size and the number of containers using it (system df). */
  async usage(): Promise<VolumeUsage[]> {
    const counts = new Map<string, number>();
    for (const c of this.deps.containers.list()) {
      for (const name of new Set((c.mounts ?? []).filter((m) => m.type === 'volume').map((m) => m.name!))) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return Promise.all(
      this.deps.store.list().map(async (record) => ({
        record,
        size: await this.deps.driver.size(record.name).catch(() => -1),
        refCount: counts.get(record.name) ?? 0,
      })),
    );
  }

  // ── containers' mounts ──

  /**
   * Resolves a container's mounts at create. Precedence by destination, as
   * docker: --volumes-from, then -v, then --mount (a -v and a --mount at the
   * same place conflict), then the config's and image's VOLUMEs for places
   * still free. Named volumes are created on first use; anonymous ones get a
   * random name and docker's anonymous label. Nothing is created when a
   * request is invalid; what was created goes again if a later one fails.
   */
  async prepare(input: PrepareInput): Promise<MountPoint[]> {
    const h = input.hostConfig;
    const byDest = new Map<string, MountRequest>();
    for (const spec of (h.VolumesFrom as string[] | null | undefined) ?? []) {
      const { container, rw } = parseVolumesFrom(spec);
      const from = input.lookup(container);
      for (const m of from.mounts ?? []) {
        const { copyData: _copy, anonymous: _anon, ...rest } = m;
        byDest.set(m.destination, { ...rest, rw: m.rw && rw, mode: '' });
      }
    }
    const explicit = new Set<string>();
    for (const b of h.Binds ?? []) {
      const m = defaultMode(parseBind(b));
      if (explicit.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
      explicit.add(m.destination);
      byDest.set(m.destination, m);
    }
    for (const raw of (h.Mounts as ApiMount[] | null | undefined) ?? []) {
      const m = defaultMode(parseMount(raw));
      if (explicit.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
      if (m.type === 'bind' && !m.createSource && !(await exists(m.source))) {
        throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
      }
      explicit.add(m.destination);
      byDest.set(m.destination, m);
    }
    const tmpfs = new Set(Object.keys(h.Tmpfs ?? {}));
    for (const dest of Object.keys(input.config.Volumes ?? {})) {
      const m = parseBind(dest);
      if (m.type !== 'volume' || !m.anonymous) throw invalidArgument(`invalid volume specification: '${dest}'`);
      if (byDest.has(m.destination) || tmpfs.has(m.destination)) continue;
      byDest.set(m.destination, m);
    }
    const volumeDriver = typeof h.VolumeDriver === 'string' ? h.VolumeDriver : '';
    for (const m of byDest.values()) {
      const driver = m.driverName || volumeDriver || this.deps.driver.name;
      if (m.type === 'volume' && driver !== this.deps.driver.name) {
        throw notFound(`create ${m.name ?? ''}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      }
      if (m.type === 'volume' && m.named) checkVolumeName(m.name!);
      if (m.type === 'volume' && m.driverOptions) this.deps.driver.validate(m.driverOptions);
    }
    const created: string[] = [];
    const out: MountPoint[] = [];
    try {
      for (const m of [...byDest.values()].sort((a, b) => (a.destination < b.destination ? -1 : 1))) {
        const { driverName: _d, driverOptions, labels, named: _n, ...point } = m;
        if (m.type === 'volume' && !m.source) {
          const name = m.name ?? randomBytes(32).toString('hex');
          const had = this.deps.store.get(name) !== undefined;
          const v = await this.create({
            name,
            labels: m.anonymous ? { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' } : (labels ?? null),
            options: driverOptions ?? null,
          });
          if (!had) created.push(v.name);
          point.name = v.name;
          point.driver = v.driver;
          point.source = this.mountpoint(v);
        }
        out.push(point);
      }
    } catch (err) {
      for (const name of created) await this.removeQuietly(name);
      throw err;
    }
    return out;
  }

  /**
   * Makes a container's mounts ready at start and returns them as the runtime
   * wants them. Volumes are mounted for the container (tmpfs-backed ones get
   * their file system) and, when empty and asked to, filled from the image
   * at their destination under `rootfs`.
   */
  async attach(c: ContainerRecord, rootfs: string): Promise<UserMount[]> {
    const out: UserMount[] = [];
    const held: string[] = [];
    const shadowed = new Set(Object.keys(c.hostConfig.Tmpfs ?? {}));
    try {
      for (const m of mountsOf(c)) {
        if (shadowed.has(m.destination)) continue;
        if (m.type === 'tmpfs') {
          out.push({ type: 'tmpfs', destination: m.destination, ...(m.tmpfsOptions ? { options: m.tmpfsOptions } : {}) });
          continue;
        }
        if (m.type === 'bind') {
          if (!(await exists(m.source))) {
            if (!m.createSource) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
            await fs.mkdir(m.source, { recursive: true, mode: 0o755 });
          }
          out.push(bindOf(m, m.source));
          continue;
        }
        const v = this.get(m.name!);
        const path = await this.deps.driver.mount(v.name, v.options, c.id);
        held.push(v.name);
        if (m.copyData) {
          const src = await resolveInRoot(rootfs, m.destination);
          if (src) await copyUp(src, path);
        }
        this.deps.events.publish('volume', 'mount', v.name, {
          container: c.id,
          destination: m.destination,
          driver: v.driver,
          propagation: m.propagation,
          'read/write': String(m.rw),
        });
        out.push(bindOf(m, path));
      }
    } catch (err) {
      for (const name of held) await this.deps.driver.unmount(name, c.id).catch(() => undefined);
      throw err;
    }
    return out;
  }

  /** Lets go of a stopped container's volumes; tmpfs- and bind-backed volumes unmount with their last user. */
  async detach(c: ContainerRecord): Promise<void> {
    for (const m of mountsOf(c)) {
      if (m.type !== 'volume') continue;
      try {
        if (!(await this.deps.driver.unmount(m.name!, c.id))) continue;
        this.deps.events.publish('volume', 'unmount', m.name!, { container: c.id, driver: m.driver ?? 'local' });
      } catch (err) {
        this.deps.log.warn('volume unmount failed', { volume: m.name, container: c.id, error: String(err) });
      }
    }
  }

  /** At container removal: with `removeAnonymous` (rm -v, --rm) the anonymous volumes no other container uses go too. */
  async release(id: string, mounts: MountPoint[] | undefined, removeAnonymous: boolean): Promise<void> {
    if (!removeAnonymous) return;
    for (const m of mounts ?? []) {
      if (m.type !== 'volume' || !m.anonymous) continue;
      if (this.users(m.name!, id).length) continue;
      await this.removeQuietly(m.name!);
    }
  }

  private async removeQuietly(name: string): Promise<void> {
    const v = this.deps.store.get(name);
    if (!v) return;
    await this.destroy(v).catch((err: unknown) => this.deps.log.warn('volume removal failed', { volume: name, error: String(err) }));
  }

  /**
   * After a daemon start: the containers still running hold their volumes
   * again, and volumes left mounted with no holder (a crash) are unmounted.
   * Call before the container service's restore, which detaches the
   * containers that exited meanwhile.
   */
  async restore(): Promise<void> {
    for (const c of this.deps.containers.list()) {
      if (!hasProcess(c.state.Status)) continue;
      for (const m of c.mounts ?? []) if (m.type === 'volume') this.deps.driver.adopt(m.name!, c.id);
    }
    await this.deps.driver.sweep(this.deps.store.list().filter((v) => v.options.type).map((v) => v.name));
  }
}

/** A container's mount points; records made before volumes existed had host binds only. */
function mountsOf(c: ContainerRecord): MountPoint[] {
  if (c.mounts) return c.mounts;
  return (c.hostConfig.Binds ?? []).map((b) => parseBind(b)).filter((m) => m.type === 'bind');
}

function bindOf(m: MountPoint, source: string): UserMount {
  return {
    type: 'bind',
    source,
    destination: m.destination,
    readonly: !m.rw,
    ...(m.propagation ? { propagation: m.propagation as 'rprivate' } : {}),
    ...(m.nonRecursive ? { nonRecursive: true } : {}),
  };
}

/** docker reports "z" for local volumes that -v or --mount asked for without a mode (VOLUMEs keep an empty mode). */
function defaultMode(m: MountRequest): MountRequest {
  return m.type === 'volume' && !m.mode ? { ...m, mode: 'z' } : m;
}

/** docker's checks of a local volume name, with its words. */
function checkVolumeName(name: string): void {
  if (name.length < 2) throw invalidArgument(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  if (!validVolumeName(name)) {
    throw invalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

function parseBool(v: string, message: string): boolean {
  const l = v.toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  throw invalidArgument(message);
}

function safeRegExp(s: string): RegExp | undefined {
  try {
    return new RegExp(s);
  } catch {
    return undefined;
  }
}
