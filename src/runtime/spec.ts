/**
 * buildSpec: the OCI runtime spec (config.json) dockerd would give a
 * container, from a neutral description of it. Defaults follow docker: its
 * capability set, seccomp profile, masked and read-only /proc and /sys paths,
 * /dev and cgroup layout, devices allow-list and private namespaces.
 */
import { mergeEnv } from '../oci/image.js';
import { posix } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import { capSet } from './caps.js';
import { hostFacts, type HostFacts } from './host.js';
import { DEFAULT_SHM_SIZE, defaultMounts, layMounts, userMount, type UserMount } from './mounts.js';
import { OCI_VERSION, type Device, type Mount, type Namespace, type RuntimeSpec, type Seccomp } from '../oci/runtimespec.js';
import { defaultDeviceRules, resources, type ResourcesInput } from './resources.js';
import { DEFAULT_PROFILE_PATH, loadProfile, parseProfile, toOci } from './seccomp.js';
import { toRlimits, type Ulimit } from './ulimit.js';

/** Where docker puts the init binary (--init) inside the container. */
export const INIT_PATH = '/sbin/docker-init';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** --security-opt seccomp=...: the default profile, none, a profile file, or profile JSON as the API carries it. */
export type SeccompChoice = 'default' | 'unconfined' | { path: string } | { json: string };

/**
 * --network: a new empty namespace, the host's, or a prepared one to join.
 * `shared` marks another container's namespace (container:x), whose sysctls are its owner's business.
 */
export type NetworkChoice = 'private' | 'host' | { path: string; shared?: boolean };

/** --pid: a new namespace, the host's, or another's to join. */
export type PidChoice = 'private' | 'host' | { path: string };

/** --ipc: a new namespace, the host's (with the host's /dev/shm), none (no /dev/shm), or another's to join (with its shm directory). */
export type IpcChoice = 'private' | 'host' | 'none' | { path: string; shm?: string };

export interface SpecInput {
  /** Container ID; names the cgroup /berth/<id> unless cgroupsPath is given. */
  id: string;
  /** Host path of the root file system. */
  rootfs: string;
  /** --read-only: / and the default mounts other than /dev, /proc and shm are read-only. */
  readonly?: boolean;
  /** The command: entrypoint plus cmd. */
  args: string[];
  /** KEY=value entries laid over PATH, HOSTNAME and (with tty) TERM; a bare KEY removes that default. */
  env?: string[];
  /** Working directory; "/" when unset. */
  cwd?: string;
  /** -t: give the process a terminal. */
  tty?: boolean;
  /** The terminal's initial size (rows, columns), as the client knows it. */
  consoleSize?: [number, number];
  /** The resolved user (see user.ts); root when unset. */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** The container's hostname; when unset, the host's own with the host's network, else the ID's first 12 characters. */
  hostname?: string;
  domainname?: string;
  /** --init: host path of the init binary, bound at /sbin/docker-init to run the command under it. */
  init?: string;
  capAdd?: string[];
  capDrop?: string[];
  /** --privileged: every capability, all devices, no seccomp, nothing masked, /sys and cgroups writable. */
  privileged?: boolean;
  /** --security-opt no-new-privileges. */
  noNewPrivileges?: boolean;
  seccomp?: SeccompChoice;
  /** Binds and tmpfs mounts (volumes resolve to binds). */
  mounts?: UserMount[];
  /** --shm-size in bytes; 64 MiB when unset or 0. */
  shmSize?: number;
  network?: NetworkChoice;
  pid?: PidChoice;
  ipc?: IpcChoice;
  resources?: ResourcesInput;
  /** --ulimit values (see parseUlimit); clamped to the daemon's own hard limits. None when unset. */
  ulimits?: Ulimit[];
  /** --oom-score-adj; 0 when unset, as docker always writes it. */
  oomScoreAdj?: number;
  /** --sysctl, laid over docker's defaults for a private network namespace. */
  sysctls?: Record<string, string>;
  /** cgroupfs path; /berth/<id> when unset. */
  cgroupsPath?: string;
  annotations?: Record<string, string>;
  /** Facts of the host the container will run on; probed from this process when unset. */
  host?: HostFacts;
}

/** Paths of /proc and /sys a container must not read. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths of /proc a container may read but not write. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The device nodes every container gets in its /dev (runc would make them anyway; listed so the spec says so). */
function defaultDevices(): Device[] {
  const node = (path: string, major: number, minor: number): Device => ({
    type: 'c', path, major, minor, fileMode: 0o666, uid: 0, gid: 0,
  });
  return [
    node('/dev/null', 1, 3),
    node('/dev/zero', 1, 5),
    node('/dev/full', 1, 7),
    node('/dev/random', 1, 8),
    node('/dev/urandom', 1, 9),
    node('/dev/tty', 5, 0),
  ];
}


function seccompFor(choice: SeccompChoice, caps: string[], host: HostFacts): Seccomp | undefined {
  if (choice === 'unconfined') return undefined;
  const profile =
    choice === 'default' ? loadProfile(DEFAULT_PROFILE_PATH) : 'path' in choice ? loadProfile(choice.path) : parseProfile(choice.json);
  return toOci(profile, { caps, arch: host.arch, kernel: host.kernel });
}

function namespaces(input: SpecInput): Namespace[] {
  const ns: Namespace[] = [{ type: 'mount' }];
  const net = input.network ?? 'private';
  if (net === 'private') ns.push({ type: 'network' });
  else if (net !== 'host') ns.push({ type: 'network', path: net.path });
  ns.push({ type: 'uts' });
  const pid = input.pid ?? 'private';
  if (pid === 'private') ns.push({ type: 'pid' });
  else if (pid !== 'host') ns.push({ type: 'pid', path: pid.path });
  const ipc = input.ipc ?? 'private';
  if (ipc === 'private' || ipc === 'none') ns.push({ type: 'ipc' });
  else if (ipc !== 'host') ns.push({ type: 'ipc', path: ipc.path });
  return ns;
}

/** The mounts: defaults, /dev/shm per the IPC mode, init, then user mounts; adjusted for --read-only and --privileged. */
function mountsFor(input: SpecInput): Mount[] {
  const user = (input.mounts ?? []).map(userMount);
  const ipc = input.ipc ?? 'private';
  if ((input.shmSize ?? 0) < 0) throw invalidArgument('SHM size can not be less than 0');
  const shmSize = input.shmSize || DEFAULT_SHM_SIZE;
  const defaults = defaultMounts().filter((m) => !(m.destination === '/dev/shm' && ipc === 'none'));
  for (const m of defaults) if (m.destination === '/dev/shm') m.options!.push(`size=${shmSize}`);
  const shmFrom = ipc === 'host' ? '/dev/shm' : typeof ipc === 'object' ? ipc.shm : undefined;
  if (shmFrom && !user.some((m) => m.destination === '/dev/shm')) {
    user.push({ destination: '/dev/shm', type: 'bind', source: shmFrom, options: ['rbind', 'rprivate'] });
  }
  const userDests = new Set(user.map((m) => m.destination));
  const mounts = layMounts(defaults, user);
  if (input.init && (input.pid ?? 'private') === 'private') {
    mounts.push({ destination: INIT_PATH, type: 'bind', source: input.init, options: ['bind', 'ro'] });
  }
  if (input.readonly) {
    const writable = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);
    for (const m of mounts) {
      if (writable.has(m.destination) || userDests.has(m.destination)) continue;
      if (!m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  if (input.privileged) {
    for (const m of mounts) {
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }
  return mounts;
}

/** rootfsPropagation a shared or slave bind needs, as docker raises it. */
function rootPropagation(mounts: Mount[]): string | undefined {
  const props = mounts.filter((m) => m.type === 'bind').flatMap((m) => m.options ?? []);
  if (props.some((o) => o === 'shared' || o === 'rshared')) return 'shared';
  if (props.some((o) => o === 'slave' || o === 'rslave')) return 'rslave';
  return undefined;
}

/** The config.json object for a container. */
export function buildSpec(input: SpecInput): RuntimeSpec {
  if (input.args.length === 0) throw invalidArgument('no command specified');
  const host = input.host ?? hostFacts();
  const net = input.network ?? 'private';
  const pidPrivate = (input.pid ?? 'private') === 'private';
  const privileged = input.privileged ?? false;
  const hostname = input.hostname || (net === 'host' ? host.hostname : input.id.slice(0, 12));

  const caps = capSet({ add: input.capAdd, drop: input.capDrop, privileged, available: host.caps });
  const user = input.user ?? { uid: 0, gid: 0 };
  // Non-root processes start with no effective or permitted capabilities, as after an execve.
  const capabilities = user.uid === 0 ? { bounding: caps, effective: caps, permitted: caps } : { bounding: caps };

  const defaultEnv = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`, ...(input.tty ? ['TERM=xterm'] : [])];
  const args = input.init && pidPrivate ? [INIT_PATH, '--', ...input.args] : [...input.args];
  const cwd = input.cwd || '/';
  if (!posix.isAbsolute(cwd)) throw invalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);

  const mounts = mountsFor(input);
  const devicesRules = privileged ? [{ allow: true, access: 'rwm' }] : defaultDeviceRules();
  const sysctl: Record<string, string> = {};
  if (net === 'private' || (typeof net === 'object' && !net.shared)) Object.assign(sysctl, host.netSysctls);
  Object.assign(sysctl, input.sysctls ?? {});

  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: input.tty ?? false,
      ...(input.tty && input.consoleSize?.[0] && input.consoleSize[1] ? { consoleSize: { height: input.consoleSize[0], width: input.consoleSize[1] } } : {}),
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [user.gid] },
      args,
      env: mergeEnv(defaultEnv, input.env ?? []),
      cwd,
      capabilities,
      noNewPrivileges: input.noNewPrivileges ?? false,
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: input.readonly ?? false },
    hostname,
    mounts,
    linux: {
      namespaces: namespaces(input),
      devices: defaultDevices(),
      cgroupsPath: input.cgroupsPath ?? `/berth/${input.id}`,
      resources: resources(input.resources ?? {}, devicesRules, host),
      sysctl,
    },
  };
  if (input.domainname) spec.domainname = input.domainname;
  if (input.annotations) spec.annotations = { ...input.annotations };
  if (input.ulimits?.length) spec.process.rlimits = toRlimits(input.ulimits, host.hardLimits);
  const propagation = rootPropagation(mounts);
  if (propagation) spec.linux.rootfsPropagation = propagation;
  if (!privileged) {
    spec.linux.maskedPaths = [...MASKED_PATHS];
    spec.linux.readonlyPaths = [...READONLY_PATHS];
    const seccomp = seccompFor(input.seccomp ?? 'default', caps, host);
    if (seccomp) spec.linux.seccomp = seccomp;
  }
  return spec;
}
