/**
 * A container's mounts as dockerd lays them out: the default file systems
 * (/proc, /dev, /sys, cgroups, mqueue, shm), then the user's binds and tmpfs
 * mounts, shallowest first. User mounts replace defaults at the same place.
 */
import { posix } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import { goQuote } from '../lib/gofmt.js';
import type { Mount } from '../oci/runtimespec.js';

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/** A host path bound into the container (volumes resolve to these too). */
export interface BindMount {
  type: 'bind';
  source: string;
  destination: string;
  readonly?: boolean;
  /** Defaults to rprivate, as docker's -v binds. */
  propagation?: Propagation;
  /** Bind only the source, not mounts below it (docker's bind-nonrecursive). */
  nonRecursive?: boolean;
}

/** A tmpfs; options is docker's --tmpfs data string, e.g. "rw,size=64m,mode=1777". */
export interface TmpfsMount {
  type: 'tmpfs';
  destination: string;
  options?: string;
}

export type UserMount = BindMount | TmpfsMount;

/** docker's default shm size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The default mounts before user mounts are laid over them. */
export function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ];
}

/** Option → the mount flag it sets or clears; options sharing a key cancel each other. */
const FLAG_KEYS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly',
  suid: 'nosuid', nosuid: 'nosuid',
  dev: 'nodev', nodev: 'nodev',
  exec: 'noexec', noexec: 'noexec',
  sync: 'sync', async: 'sync',
  dirsync: 'dirsync',
  remount: 'remount',
  mand: 'mand', nomand: 'mand',
  atime: 'noatime', noatime: 'noatime',
  diratime: 'nodiratime', nodiratime: 'nodiratime',
  relatime: 'relatime', norelatime: 'relatime',
  strictatime: 'strictatime', nostrictatime: 'strictatime',
  bind: 'bind',
  // A mount has one propagation mode; rbind carries MS_REC, which counts as one for docker too.
  rbind: 'propagation',
  private: 'propagation', rprivate: 'propagation',
  shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation',
  unbindable: 'propagation', runbindable: 'propagation',
};

const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * Drops repeated or contradicting tmpfs options, the later one winning (so a
 * user's "exec" beats the default "noexec"); unknown options are refused.
 */
export function mergeTmpfsOptions(options: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const opt = options[i]!;
    if (opt === 'defaults') continue;
    const flag = FLAG_KEYS[opt];
    if (flag) {
      if (!seen.has(flag)) out.unshift(opt);
      seen.add(flag);
      continue;
    }
    const eq = opt.indexOf('=');
    const parts = eq < 0 ? [opt] : [opt.slice(0, eq), opt.slice(eq + 1)];
    if (parts.length !== 2 || !TMPFS_DATA.has(parts[0]!)) {
      throw invalidArgument(`invalid tmpfs option [${parts.map((p) => goQuote(p)).join(' ')}]`);
    }
    const key = 'data:' + parts[0];
    if (!seen.has(key)) out.unshift(opt);
    seen.add(key);
  }
  return out;
}

/** Checks a tmpfs destination the way docker does. */
function checkTmpfsDestination(dest: string): void {
  if (dest === '/') throw invalidArgument("invalid specification: destination can't be '/'");
  if (!posix.isAbsolute(dest)) {
    throw invalidArgument(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
  }
}

/** Parses a --tmpfs value: `/run` or `/run:rw,size=64m`. */
export function parseTmpfs(value: string): TmpfsMount {
  const colon = value.indexOf(':');
  const destination = colon < 0 ? value : value.slice(0, colon);
  checkTmpfsDestination(destination);
  const m: TmpfsMount = { type: 'tmpfs', destination };
  if (colon >= 0) m.options = value.slice(colon + 1);
  return m;
}

/** The OCI mount of a user mount. */
export function userMount(m: UserMount): Mount {
  if (m.type === 'tmpfs') {
    checkTmpfsDestination(m.destination);
    const data = m.options ? m.options.split(',') : [];
    return {
      destination: m.destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...data]),
    };
  }
  if (!posix.isAbsolute(m.destination)) {
    throw invalidArgument(`invalid mount config for type "bind": invalid mount path: '${m.destination}' mount path must be absolute`);
  }
  const options = [m.nonRecursive ? 'bind' : 'rbind'];
  if (m.readonly) options.push('ro');
  options.push(m.propagation ?? 'rprivate');
  return { destination: m.destination, type: 'bind', source: m.source, options };
}

/** Path depth, for laying parents before children. */
const depth = (p: string) => posix.normalize(p).split('/').length;

/**
 * Lays user mounts over the defaults: a user mount replaces a default at the
 * same destination, a user /dev replaces every default under /dev, and user
 * mounts follow the defaults, shallowest first.
 */
export function layMounts(defaults: Mount[], user: Mount[]): Mount[] {
  const taken = new Set(user.map((m) => m.destination));
  const ownDev = taken.has('/dev');
  const kept = defaults.filter((m) => !taken.has(m.destination) && !(ownDev && m.destination.startsWith('/dev/')));
  const sorted = [...user].sort((a, b) => depth(a.destination) - depth(b.destination));
  return [...kept, ...sorted];
}
