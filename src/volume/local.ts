/**
 * The local volume driver: each volume is `<root>/<name>/_data`. With the
 * options type, device and o (as `mount -t TYPE -o O DEVICE`), a file system
 * is mounted on `_data` while containers hold the volume: a tmpfs, or a bind
 * of a host directory with `type=none,o=bind,device=/dir`.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { VolumeDriver } from '../core/volumes.js';
import { errnoCode, internal, invalidArgument } from '../lib/errors.js';
import { diskUsage, isMountPoint } from '../lib/fsutil.js';
import { KeyedMutex } from '../lib/lock.js';
import * as sys from '../lib/sys.js';

const VALID = new Set(['type', 'device', 'o', 'size']);
/** An option and the options it needs beside it. */
const NEEDS: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** Mount options that are flags rather than file-system data. */
const FLAGS: Record<string, { set?: number; clear?: number }> = {
  defaults: {},
  ro: { set: sys.MS_RDONLY },
  rw: { clear: sys.MS_RDONLY },
  nosuid: { set: sys.MS_NOSUID },
  suid: { clear: sys.MS_NOSUID },
  nodev: { set: sys.MS_NODEV },
  dev: { clear: sys.MS_NODEV },
  noexec: { set: sys.MS_NOEXEC },
  exec: { clear: sys.MS_NOEXEC },
  bind: { set: sys.MS_BIND },
  rbind: { set: sys.MS_BIND | sys.MS_REC },
};

/** Splits an `o` value into mount flags and the data string the file system gets. */
export function parseMountOptions(o: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of o.split(',').filter(Boolean)) {
    const f = FLAGS[opt];
    if (!f) {
      data.push(opt);
      continue;
    }
    if (f.set) flags |= f.set;
    if (f.clear) flags &= ~f.clear;
  }
  return { flags, data: data.join(',') };
}

export class LocalDriver implements VolumeDriver {
  readonly name = 'local';
  private readonly holders = new Map<string, Set<string>>();
  private readonly lock = new KeyedMutex();

  /** `root` is `<data-root>/volumes`. */
  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o701 });
  }

  validate(options: Record<string, string>): void {
    for (const key of Object.keys(options)) {
      if (!VALID.has(key)) throw invalidArgument(`invalid option: "${key}"`);
    }
    for (const [key, needs] of Object.entries(NEEDS)) {
      if (!(key in options)) continue;
      for (const n of needs) if (!(n in options)) throw invalidArgument(`missing required option: "${n}"`);
    }
    if ('size' in options) throw invalidArgument('quota size requested but no quota support');
  }

  path(name: string): string {
    return join(this.root, name, '_data');
  }

  async create(name: string, options: Record<string, string>): Promise<void> {
    this.validate(options);
    await fs.mkdir(join(this.root, name), { recursive: true, mode: 0o701 });
    await fs.mkdir(this.path(name), { recursive: true, mode: 0o755 });
  }

  mount(name: string, options: Record<string, string>, holder: string): Promise<string> {
    return this.lock.run(name, async () => {
      const path = this.path(name);
      const set = this.holders.get(name) ?? new Set<string>();
      if (options.type && !(await isMountPoint(path))) {
        const { flags, data } = parseMountOptions(options.o ?? '');
        try {
          sys.mount(options.device ?? options.type, path, options.type, flags, data || null);
        } catch (err) {
          throw internal(`error while mounting volume '${path}': failed to mount local volume: mount ${options.device}:${path}, data: ${data}: ${(err as Error).message}`);
        }
      }
      set.add(holder);
      this.holders.set(name, set);
      return path;
    });
  }

  unmount(name: string, holder: string): Promise<boolean> {
    return this.lock.run(name, async () => {
      const set = this.holders.get(name);
      const held = set?.delete(holder) ?? false;
      if (set && set.size > 0) return held;
      this.holders.delete(name);
      await this.unmountData(name);
      return held;
    });
  }

  adopt(name: string, holder: string): void {
    const set = this.holders.get(name) ?? new Set<string>();
    set.add(holder);
    this.holders.set(name, set);
  }

  async sweep(names: string[]): Promise<void> {
    for (const name of names) {
      if (!this.holders.has(name)) await this.lock.run(name, () => this.unmountData(name));
    }
  }

  /** Unmounts `_data` when something is mounted there; never leaves it mounted silently. */
  private async unmountData(name: string): Promise<void> {
    const path = this.path(name);
    if (!(await isMountPoint(path))) return;
    try {
      sys.umount(path);
    } catch {
      sys.umount(path, sys.MNT_DETACH);
    }
    if (await isMountPoint(path)) throw internal(`volume ${name}: ${path} is still mounted`);
  }

  remove(name: string): Promise<void> {
    return this.lock.run(name, async () => {
      this.holders.delete(name);
      // A bind-backed volume must be unmounted first, or the host directory's content would go with it.
      await this.unmountData(name);
      try {
        await fs.rm(join(this.root, name), { recursive: true, force: true });
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    });
  }

  size(name: string): Promise<number> {
    return diskUsage(this.path(name));
  }
}
