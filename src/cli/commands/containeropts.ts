/**
 * The container options shared by `run` and `create`: docker's flag set
 * (cli/command/container/opts.go addFlags) and the translation of the parsed
 * flags into the Config, HostConfig and NetworkingConfig the create call
 * sends (opts.go parse), in the Go structs' field order so the body encodes
 * like the docker CLI's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { FlagDef, FlagValue } from '../flags.js';
import { ramInBytes } from '../../lib/units.js';
import { cleanPath } from '../../lib/gopath.js';
import { atoi, formatIP, parseIntGo, parseIP, parseRat, parseUintGo, readCSVRecord, validateMAC } from '../util/goparse.js';

// ───────────────────────────── validators (pflag Value.Set) ─────────────────────────────

type Env = Record<string, string | undefined>;

/** opts.ValidateEnv: `KEY` alone takes its value from the CLI's environment when set. */
export function validateEnv(env: Env): (val: string) => string {
  return (val) => {
    const eq = val.indexOf('=');
    const k = eq < 0 ? val : val.slice(0, eq);
    if (k === '') throw new Error(`invalid environment variable: ${val}`);
    if (eq >= 0) return val;
    const v = env[k];
    return v !== undefined ? `${k}=${v}` : val;
  };
}

/** opts.ValidateLabel */
export function validateLabel(value: string): string {
  const eq = value.indexOf('=');
  const key = (eq < 0 ? value : value.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

/** opts.ValidateIPAddress: the address in Go's canonical form. */
export function validateIPAddress(val: string): string {
  const ip = parseIP(val.trim());
  if (!ip) throw new Error(`IP address is not correctly formatted: ${val}`);
  return formatIP(ip);
}

/** opts.ValidateExtraHost: `host:ip` or `host=ip`, stored as `host:ip`. */
export function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? val : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    try {
      validateIPAddress(v);
    } catch {
      throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
    }
  }
  return `${k}:${v}`;
}

const DOMAIN_RE = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

/** opts.ValidateDNSSearch */
export function validateDNSSearch(raw: string): string {
  const val = raw.replace(/^ +| +$/g, '');
  if (val === '.') return val;
  if (!/[a-zA-Z]/.test(val)) throw new Error(`${val} is not a valid domain`);
  const m = DOMAIN_RE.exec(val);
  if (m && m[1]!.length < 255) return m[1]!;
  throw new Error(`${val} is not a valid domain`);
}

const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** opts.ValidateSysctl */
export function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? '' : val.slice(0, eq);
  if (eq < 0 || k === '') throw new Error(`sysctl '${val}' is not allowed`);
  if (SYSCTLS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.')) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

/** opts.ValidateLink */
export function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error('bad format for links: ' + val);
  return val;
}

/** validateAttach: stdin, stdout or stderr, any case (stored lower-case). */
export function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

/** validateDeviceCgroupRule */
export function validateDeviceCgroupRule(val: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(val)) return val;
  throw new Error(`invalid device cgroup format '${val}'`);
}

function devicePathAndValue(val: string): [string, string] {
  const c = val.indexOf(':');
  const k = c < 0 ? '' : val.slice(0, c);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  return [k, val.slice(c + 1)];
}

/** opts.ValidateThrottleBpsDevice */
export function validateThrottleBps(val: string): string {
  const [, v] = devicePathAndValue(val);
  let rate: number;
  try {
    rate = ramInBytes(v);
  } catch {
    rate = -1;
  }
  if (rate < 0) {
    throw new Error(
      `invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    );
  }
  return val;
}

/** opts.ValidateThrottleIOpsDevice */
export function validateThrottleIOps(val: string): string {
  const [, v] = devicePathAndValue(val);
  try {
    parseUintGo(v, 64);
  } catch {
    throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
  return val;
}

/** opts.ValidateWeightDevice */
export function validateWeightDevice(val: string): string {
  const [, v] = devicePathAndValue(val);
  let w: number;
  try {
    w = parseUintGo(v, 16);
  } catch {
    throw new Error(`invalid weight for device: ${val}`);
  }
  if (w > 0 && (w < 10 || w > 1000)) throw new Error(`invalid weight for device: ${val}`);
  return val;
}

/** opts.MemBytes.Set */
export function validateMemBytes(val: string): string {
  ramInBytes(val);
  return val;
}

/** opts.MemSwapBytes.Set */
export function validateMemSwap(val: string): string {
  if (val !== '-1') ramInBytes(val);
  return val;
}

/** opts.ParseCPUs: nano CPUs, with its errors. */
export function parseCPUs(value: string): number {
  const r = parseRat(value);
  if (!r) throw new Error(`failed to parse ${value} as a rational number`);
  const nano = r.num * 1_000_000_000n;
  if (nano % r.den !== 0n) throw new Error('value is too precise');
  return Number(nano / r.den);
}

/** uint16 flags (`--blkio-weight`). */
export function validateUint16(val: string): string {
  parseUintGo(val, 16);
  return val;
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** go-units ParseUlimit */
export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const limits = val.slice(eq + 1).split(':');
  let soft: number;
  let hard: number;
  if (limits.length === 2) {
    hard = parseIntGo(limits[1]!);
    soft = parseIntGo(limits[0]!);
  } else if (limits.length === 1) {
    soft = parseIntGo(limits[0]!);
    hard = soft;
  } else {
    throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  }
  if (hard !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Hard: hard, Soft: soft };
}

export function validateUlimit(val: string): string {
  parseUlimit(val);
  return val;
}

// ───────────────────────────── --mount ─────────────────────────────

export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: Record<string, unknown>;
  VolumeOptions?: Record<string, unknown>;
  ImageOptions?: Record<string, unknown>;
  TmpfsOptions?: Record<string, unknown>;
}

function parseGoBool(key: string, val: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(val)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(val)) return false;
  throw new Error(`invalid value for ${key}: ${val}`);
}

/** opts.MountOpt.Set, giving the mount in mount.Mount's JSON field order. */
export function parseMount(value: string, cwd = process.cwd()): Mount {
  const fields = readCSVRecord(value);
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let consistency: string | undefined;
  let bind: Record<string, unknown> | undefined;
  let volume: { NoCopy?: boolean; Labels: Record<string, string>; Subpath?: string; DriverConfig: { Name?: string; Options?: Record<string, string> } } | undefined;
  let image: { Subpath?: string } | undefined;
  let tmpfs: { SizeBytes?: number; Mode?: number } | undefined;
  const volumeOptions = () => (volume ??= { Labels: {}, DriverConfig: {} });
  const bindOptions = () => (bind ??= {});
  const setOnMap = (m: Record<string, string>, v: string) => {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (k !== '') m[k] = eq < 0 ? '' : v.slice(eq + 1);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          readOnly = true;
          continue;
        case 'volume-nocopy':
          volumeOptions().NoCopy = true;
          continue;
        case 'bind-nonrecursive':
          bindOptions()['NonRecursive'] = true;
          continue;
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        source = val;
        if (!isAbsolute(val) && val.startsWith('.')) source = resolve(cwd, val);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = val;
        break;
      case 'readonly':
      case 'ro':
        readOnly = parseGoBool(key, val);
        break;
      case 'consistency':
        consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions()['Propagation'] = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions()['NonRecursive'] = parseGoBool(key, val);
        break;
      case 'bind-recursive':
        switch (val) {
          case 'enabled':
            break;
          case 'disabled':
            bindOptions()['NonRecursive'] = true;
            break;
          case 'writable':
            bindOptions()['ReadOnlyNonRecursive'] = true;
            break;
          case 'readonly':
            bindOptions()['ReadOnlyForceRecursive'] = true;
            break;
          default:
            throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        try {
          volumeOptions().NoCopy = parseGoBool(key, val);
        } catch {
          throw new Error(`invalid value for volume-nocopy: ${val}`);
        }
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig.Options ??= {}), val);
        break;
      case 'image-subpath':
        (image ??= {}).Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          (tmpfs ??= {}).SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        (tmpfs ??= {}).Mode = parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw new Error('type is required');
  if (!target) throw new Error('target is required');
  if (volume && type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (image && type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${type}'`);
  if (bind && type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (tmpfs && type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (bind) {
    if (bind['ReadOnlyNonRecursive'] && !readOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
    if (bind['ReadOnlyForceRecursive']) {
      if (!readOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
      if (bind['Propagation'] !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
  }
  // mount.Mount's JSON: every field omitempty, in struct order
  const m: Mount = {};
  if (type) m.Type = type;
  if (source) m.Source = source;
  m.Target = target;
  if (readOnly) m.ReadOnly = true;
  if (consistency) m.Consistency = consistency;
  if (bind) {
    const b: Record<string, unknown> = {};
    for (const k of ['Propagation', 'NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']) if (bind[k]) b[k] = bind[k];
    m.BindOptions = b;
  }
  if (volume) {
    const v: Record<string, unknown> = {};
    if (volume.NoCopy) v['NoCopy'] = true;
    if (Object.keys(volume.Labels).length > 0) v['Labels'] = sortedMap(volume.Labels);
    if (volume.Subpath) v['Subpath'] = volume.Subpath;
    const d: Record<string, unknown> = {};
    if (volume.DriverConfig.Name) d['Name'] = volume.DriverConfig.Name;
    if (volume.DriverConfig.Options && Object.keys(volume.DriverConfig.Options).length > 0) d['Options'] = sortedMap(volume.DriverConfig.Options);
    v['DriverConfig'] = d;
    m.VolumeOptions = v;
  }
  if (image) m.ImageOptions = image.Subpath ? { Subpath: image.Subpath } : {};
  if (tmpfs) {
    const t: Record<string, unknown> = {};
    if (tmpfs.SizeBytes) t['SizeBytes'] = tmpfs.SizeBytes;
    if (tmpfs.Mode) t['Mode'] = tmpfs.Mode;
    m.TmpfsOptions = t;
  }
  return m;
}

// ───────────────────────────── --network ─────────────────────────────

export interface NetworkAttachment {
  Target: string;
  Aliases: string[] | null;
  DriverOpts: Record<string, string> | null;
  Links: string[] | null;
  IPv4Address: string;
  IPv6Address: string;
  LinkLocalIPs: string[] | null;
  MacAddress: string;
  GwPriority: number;
}

/** opts.NetworkOpt.Set: `name` or the long `name=…,alias=…` form. */
export function parseNetworkOpt(value: string): NetworkAttachment {
  const n: NetworkAttachment = {
    Target: '',
    Aliases: null,
    DriverOpts: null,
    Links: null,
    IPv4Address: '',
    IPv6Address: '',
    LinkLocalIPs: null,
    MacAddress: '',
    GwPriority: 0,
  };
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) {
    n.Target = value;
    return n;
  }
  const fields = readCSVRecord(value);
  n.Aliases = [];
  for (const field of fields) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.Target = val;
        break;
      case 'alias':
        n.Aliases.push(val);
        break;
      case 'ip':
        n.IPv4Address = val;
        break;
      case 'ip6':
        n.IPv6Address = val;
        break;
      case 'mac-address':
        n.MacAddress = val;
        break;
      case 'link-local-ip':
        (n.LinkLocalIPs ??= []).push(val);
        break;
      case 'driver-opt': {
        const e = val.indexOf('=');
        const k = e < 0 ? '' : val.slice(0, e).trim();
        if (e < 0 || k === '') throw new Error('invalid key value pair format in driver options');
        (n.DriverOpts ??= {})[k] = val.slice(e + 1).trim();
        break;
      }
      case 'gw-priority':
        try {
          n.GwPriority = atoi(val);
        } catch (err) {
          const why = (err as Error).message.replace(/^.*: /, '');
          throw new Error(`invalid gw-priority (${val}): ${why}`);
        }
        break;
      default:
        throw new Error('invalid field key ' + key);
    }
  }
  if (n.Target === '') throw new Error('network name/id is not specified');
  return n;
}

export function validateNetwork(value: string): string {
  parseNetworkOpt(value);
  return value;
}

// ───────────────────────────── --gpus ─────────────────────────────

export function parseGpus(value: string): Record<string, unknown> {
  const fields = readCSVRecord(value);
  const req: { Driver: string; Count: number; DeviceIDs: string[] | null; Capabilities: string[][] | null; Options: Record<string, string> | null } = {
    Driver: '',
    Count: 0,
    DeviceIDs: null,
    Capabilities: null,
    Options: null,
  };
  const seen = new Set<string>();
  const count = (s: string): number => {
    if (s === 'all') return -1;
    try {
      return atoi(s);
    } catch (err) {
      throw new Error(`invalid count (${s}): value must be either "all" or an integer: ${(err as Error).message.replace(/^.*: /, '')}`);
    }
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    switch (key) {
      case 'driver':
        req.Driver = val;
        break;
      case 'count':
        req.Count = count(val);
        break;
      case 'device':
        req.DeviceIDs = val.split(',');
        break;
      case 'capabilities':
        req.Capabilities = [[...val.split(','), 'gpu']];
        break;
      case 'options':
        req.Options = kvMap(readCSVRecord(val));
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Options ??= {};
  req.Capabilities ??= [['gpu']];
  return req;
}

export function validateGpus(value: string): string {
  parseGpus(value);
  return value;
}

// ───────────────────────────── the flag set ─────────────────────────────

const CGROUPNS_USAGE = `Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`;

/** docker's addFlags: every container option of run and create. */
export function containerFlags(env: Env): FlagDef[] {
  const list = (name: string, usage: string, extra: Partial<FlagDef> = {}): FlagDef => ({ name, type: 'stringArray', usage, placeholder: 'list', ...extra });
  return [
    list('attach', 'Attach to STDIN, STDOUT or STDERR', { short: 'a', validate: validateAttach }),
    list('device-cgroup-rule', 'Add a rule to the cgroup allowed devices list', { validate: validateDeviceCgroupRule }),
    list('device', 'Add a host device to the container'),
    { name: 'gpus', type: 'stringArray', placeholder: 'gpu-request', usage: "GPU devices to add to the container ('all' to pass all GPUs)", validate: validateGpus },
    list('env', 'Set environment variables', { short: 'e', validate: validateEnv(env) }),
    list('env-file', 'Read in a file of environment variables'),
    { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
    list('group-add', 'Add additional groups to join'),
    { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
    { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    list('label', 'Set meta data on a container', { short: 'l', validate: validateLabel }),
    list('label-file', 'Read in a line delimited file of labels'),
    { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
    { name: 'restart', type: 'string', default: 'no', usage: 'Restart policy to apply when a container exits' },
    { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
    { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
    { name: 'sysctl', type: 'stringArray', placeholder: 'map', shownDefault: 'map[]', usage: 'Sysctl options', validate: validateSysctl },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'ulimit', type: 'stringArray', placeholder: 'ulimit', shownDefault: '[]', usage: 'Ulimit options', validate: validateUlimit },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
    { name: 'rm', type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },

    // security
    list('cap-add', 'Add Linux capabilities'),
    list('cap-drop', 'Drop Linux capabilities'),
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
    list('security-opt', 'Security Options'),
    { name: 'userns', type: 'string', usage: 'User namespace to use' },
    { name: 'cgroupns', type: 'string', usage: CGROUPNS_USAGE },

    // network
    list('add-host', 'Add a custom host-to-IP mapping (host:ip)', { validate: validateExtraHost }),
    list('dns', 'Set custom DNS servers', { validate: validateIPAddress }),
    list('dns-opt', 'Set DNS options', { hidden: true, into: 'dns-option' }),
    list('dns-option', 'Set DNS options'),
    list('dns-search', 'Set custom DNS search domains', { validate: validateDNSSearch }),
    list('expose', 'Expose a port or a range of ports'),
    { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
    { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., 2001:db8::33)' },
    list('link', 'Add link to another container', { validate: validateLink }),
    list('link-local-ip', 'Container IPv4/IPv6 link-local addresses'),
    { name: 'mac-address', type: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
    list('publish', "Publish a container's port(s) to the host", { short: 'p' }),
    { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
    { name: 'net', type: 'stringArray', placeholder: 'network', usage: 'Connect a container to a network', hidden: true, into: 'network', validate: validateNetwork },
    { name: 'network', type: 'stringArray', placeholder: 'network', usage: 'Connect a container to a network', validate: validateNetwork },
    list('net-alias', 'Add network-scoped alias for the container', { hidden: true, into: 'network-alias' }),
    list('network-alias', 'Add network-scoped alias for the container'),

    // logging and storage
    { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
    { name: 'volume-driver', type: 'string', usage: 'Optional volume driver for the container' },
    list('log-opt', 'Log driver options'),
    list('storage-opt', 'Storage driver options for the container'),
    list('tmpfs', 'Mount a tmpfs directory'),
    list('volumes-from', 'Mount volumes from the specified container(s)'),
    list('volume', 'Bind mount a volume', { short: 'v' }),
    { name: 'mount', type: 'stringArray', placeholder: 'mount', usage: 'Attach a filesystem mount to the container', validate: (v) => (parseMount(v), v) },

    // health
    { name: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
    { name: 'health-interval', type: 'duration', usage: 'Time between running the check (ms|s|m|h) (default 0s)' },
    { name: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
    { name: 'health-timeout', type: 'duration', usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
    {
      name: 'health-start-period',
      type: 'duration',
      usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
    },
    { name: 'health-start-interval', type: 'duration', usage: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
    { name: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },

    // resources
    {
      name: 'blkio-weight',
      type: 'string',
      placeholder: 'uint16',
      usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)',
      validate: validateUint16,
    },
    list('blkio-weight-device', 'Block IO weight (relative device weight)', { shownDefault: '[]', validate: validateWeightDevice }),
    { name: 'cidfile', type: 'string', usage: 'Write the container ID to the file' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'cpu-count', type: 'int', usage: 'CPU count (Windows only)', hidden: true },
    { name: 'cpu-percent', type: 'int', usage: 'CPU percent (Windows only)', hidden: true },
    { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', usage: 'Limit CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    {
      name: 'cpus',
      type: 'string',
      placeholder: 'decimal',
      usage: 'Number of CPUs',
      validate: (v) => (parseCPUs(v), v),
    },
    list('device-read-bps', 'Limit read rate (bytes per second) from a device', { shownDefault: '[]', validate: validateThrottleBps }),
    list('device-read-iops', 'Limit read rate (IO per second) from a device', { shownDefault: '[]', validate: validateThrottleIOps }),
    list('device-write-bps', 'Limit write rate (bytes per second) to a device', { shownDefault: '[]', validate: validateThrottleBps }),
    list('device-write-iops', 'Limit write rate (IO per second) to a device', { shownDefault: '[]', validate: validateThrottleIOps }),
    { name: 'io-maxbandwidth', type: 'string', placeholder: 'bytes', usage: 'Maximum IO bandwidth limit for the system drive (Windows only)', hidden: true, validate: validateMemBytes },
    { name: 'io-maxiops', type: 'string', placeholder: 'uint', usage: 'Maximum IOps limit for the system drive (Windows only)', hidden: true, validate: (v) => (parseUintGo(v, 64), v) },
    { name: 'kernel-memory', type: 'string', placeholder: 'bytes', usage: 'Kernel memory limit', validate: validateMemBytes },
    { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', usage: 'Memory limit', validate: validateMemBytes },
    { name: 'memory-reservation', type: 'string', placeholder: 'bytes', usage: 'Memory soft limit', validate: validateMemBytes },
    {
      name: 'memory-swap',
      type: 'string',
      placeholder: 'bytes',
      usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
      validate: validateMemSwap,
    },
    { name: 'memory-swappiness', type: 'int', default: -1, usage: 'Tune container memory swappiness (0 to 100)' },
    { name: 'oom-kill-disable', type: 'bool', usage: 'Disable OOM Killer' },
    { name: 'oom-score-adj', type: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
    { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },

    // low-level
    { name: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container' },
    { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
    { name: 'isolation', type: 'string', usage: 'Container isolation technology' },
    { name: 'pid', type: 'string', usage: 'PID namespace to use' },
    { name: 'shm-size', type: 'string', placeholder: 'bytes', usage: 'Size of /dev/shm', validate: validateMemBytes },
    { name: 'uts', type: 'string', usage: 'UTS namespace to use' },
    { name: 'runtime', type: 'string', usage: 'Runtime to use for this container' },
    { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
    {
      name: 'annotation',
      type: 'stringArray',
      placeholder: 'map',
      shownDefault: 'map[]',
      usage: 'Add an annotation to the container (passed through to the OCI runtime)',
    },
  ];
}

/** The flags `run` and `create` add around the container options (AddPlatformFlag, trust, pull). */
export function createFlags(env: Env, pullUsage: string): FlagDef[] {
  const platform = env['DOCKER_DEFAULT_PLATFORM'] ?? '';
  const trust = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(env['DOCKER_CONTENT_TRUST'] ?? '');
  return [
    { name: 'name', type: 'string', usage: 'Assign a name to the container' },
    { name: 'pull', type: 'string', default: 'missing', usage: pullUsage },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
    { name: 'help', type: 'bool', usage: 'Print usage' },
    { name: 'platform', type: 'string', default: platform, usage: 'Set platform if server is multi-platform capable' },
    { name: 'disable-content-trust', type: 'bool', default: !trust, usage: 'Skip image verification' },
  ];
}

// ───────────────────────────── parse ─────────────────────────────

/** A Go map encoded by encoding/json: keys sorted. */
export function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

/** opts.ConvertKVStringsToMap */
export function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

/** Go's `open <path>: <reason>` for a file that cannot be read. */
function openError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
  return new Error(`open ${path}: ${why}`);
}

/** pkg/kvfile.Parse: `KEY=value` lines, `#` comments, `KEY` alone looked up with `lookup` (dropped when absent). */
export function parseKVFile(path: string, lookup?: (k: string) => string | undefined): string[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
    if (existsSync(path) && data.length === 0) return [];
  } catch (err) {
    throw openError(path, err);
  }
  const out: string[] = [];
  const lines = data.toString('latin1').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let raw = Buffer.from(lines[i]!.replace(/\r$/, ''), 'latin1');
    const text = raw.toString('utf8');
    if (Buffer.from(text, 'utf8').compare(raw) !== 0) {
      throw new Error(`invalid env file (${path}): invalid utf8 bytes at line ${i + 1}: [${[...raw].join(' ')}]`);
    }
    if (i === 0 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) raw = raw.subarray(3);
    const line = raw.toString('utf8').replace(/^\s+/u, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw new Error(`invalid env file (${path}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${path}): variable '${key}' contains whitespaces`);
    if (eq >= 0) {
      out.push(line);
      continue;
    }
    if (lookup) {
      const v = lookup(line);
      if (v !== undefined) out.push(`${key}=${v}`);
    }
  }
  return out;
}

/** opts.ParseRestartPolicy */
export function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const c = policy.indexOf(':');
  const k = c < 0 ? policy : policy.slice(0, c);
  const v = c < 0 ? '' : policy.slice(c + 1);
  if (c >= 0 && k === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v !== '') {
    try {
      count = atoi(v);
    } catch {
      throw new Error('invalid restart policy format: maximum retry count must be an integer');
    }
  }
  return { Name: k, MaximumRetryCount: count };
}

/** compose loader.ParseVolume, reduced to what `-v` needs: source, target, whether it binds a path. */
export function parseVolumeSpec(spec: string): { source: string; target: string; bind: boolean } {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { source: '', target: spec, bind: false };
  let source = '';
  let target = '';
  let buffer = '';
  const chars = [...spec, '\0'];
  const isDrive = (buf: string, c: string) => c === ':' && [...buf].length === 1 && /\p{L}/u.test(buf);
  const populate = (c: string) => {
    if (buffer === '') throw new Error(`invalid spec: ${spec}: empty section between colons`);
    if (source === '' && c === '\0') {
      target = buffer;
      return;
    }
    if (source === '') {
      source = buffer;
      return;
    }
    if (target === '') {
      target = buffer;
      return;
    }
    if (c === ':') throw new Error(`invalid spec: ${spec}: too many colons`);
  };
  for (const c of chars) {
    if (isDrive(buffer, c)) buffer += c;
    else if (c === ':' || c === '\0') {
      populate(c);
      buffer = '';
    } else buffer += c;
  }
  let bind = false;
  if (source !== '') {
    const first = source[0]!;
    if (first === '.' || first === '/' || first === '~') bind = true;
    else if ([...source].length > 1 && (source.startsWith('\\\\') || isDrive(first, source[1]!))) bind = true;
  }
  return { source, target, bind };
}

/** go-connections nat.ParsePortRange */
function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const n = parseUintGo(ports, 16);
    return [n, n];
  }
  const parts = ports.split('-');
  const start = parseUintGo(parts[0]!, 16);
  const end = parseUintGo(parts[1]!, 16);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** nat.SplitProtoPort */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0]!.length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1]!.length === 0) return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

/** nat.NewPort */
function newPort(proto: string, port: string): string {
  if (port === '') return `0/${proto}`;
  const [a, b] = parsePortRange(port);
  return a === b ? `${a}/${proto}` : `${a}-${b}/${proto}`;
}

/** nat.ParsePortSpecs: exposed ports and bindings, in first-seen order. */
export function parsePortSpecs(ports: string[]): { exposed: Map<string, true>; bindings: Map<string, { HostIp: string; HostPort: string }[]> } {
  const exposed = new Map<string, true>();
  const bindings = new Map<string, { HostIp: string; HostPort: string }[]>();
  for (const rawPort of ports) {
    const parts = rawPort.split(':');
    const n = parts.length;
    let containerPort = parts[n - 1]!;
    let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
    let hostPort = n >= 2 ? parts[n - 2]! : '';
    let proto: string;
    [proto, containerPort] = splitProtoPort(containerPort);
    if (ip !== '' && ip.startsWith('[')) {
      const end = ip.indexOf(']');
      if (end < 0 || end !== ip.length - 1) throw new Error(`invalid IP address ${ip}: address ${ip}: missing ']' in address`);
      ip = ip.slice(1, end);
    }
    if (ip !== '' && !parseIP(ip)) throw new Error(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new Error(`no port specified: ${rawPort}<empty>`);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
    let hstart = 0;
    let hend = 0;
    if (hostPort.length > 0) {
      try {
        [hstart, hend] = parsePortRange(hostPort);
      } catch {
        throw new Error(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== '' && end - start !== hend - hstart && end !== start) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      containerPort = String(start + i);
      if (hostPort.length > 0) hostPort = String(hstart + i);
      if (start === end && hstart !== hend) hostPort = `${hostPort}-${hend}`;
      const port = newPort(proto.toLowerCase(), containerPort);
      exposed.set(port, true);
      const list = bindings.get(port) ?? [];
      list.push({ HostIp: ip, HostPort: hostPort });
      bindings.set(port, list);
    }
  }
  return { exposed, bindings };
}

/** convertToStandardNotation: `published=8080,target=80` → `8080:80/tcp`. */
function convertToStandardNotation(ports: string[]): string[] {
  return ports.map((publish) => {
    if (!publish.includes('=')) return publish;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of publish.split(',')) {
      const eq = param.indexOf('=');
      if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
      params[param.slice(0, eq)] = param.slice(eq + 1);
    }
    return `${params['published'] ?? ''}:${params['target'] ?? ''}/${params['protocol']}`;
  });
}

/** parseSecurityOpts: checks `key=value` / `key:value`, inlines a seccomp profile file. */
function parseSecurityOpts(opts: string[]): string[] {
  return opts.map((opt) => {
    let sep = opt.indexOf('=');
    let k = sep < 0 ? opt : opt.slice(0, sep);
    if (sep < 0 && k !== 'no-new-privileges') {
      sep = opt.indexOf(':');
      k = sep < 0 ? opt : opt.slice(0, sep);
    }
    const v = sep < 0 ? '' : opt.slice(sep + 1);
    if ((sep < 0 || v === '') && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let f: string;
      try {
        f = readFileSync(v, 'utf8');
      } catch (err) {
        throw new Error(`opening seccomp profile (${v}) failed: ${openError(v, err).message}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(f))}`;
      } catch (err) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
      }
    }
    return opt;
  });
}

/** cdi parser.IsQualifiedName: `vendor.com/class=name`. */
function isCDIName(device: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9._-]*\.[a-zA-Z0-9._-]*[a-zA-Z0-9]\/[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]?=[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/.test(device) ||
    /^[a-zA-Z0-9][a-zA-Z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9_-]*=[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/.test(device);
}

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/** validateLinuxPath + parseLinuxDevice */
function parseDevice(device: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  if ((device.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${device}`);
  const split = device.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${device}`);
  let containerPath: string;
  let val: string;
  if (split.length === 1) {
    containerPath = split[0]!;
    val = cleanPath(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1]!)) {
      containerPath = split[0]!;
      val = `${cleanPath(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1]!;
      val = `${split[0]}:${cleanPath(containerPath)}`;
    }
  } else {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
    val = `${split[0]}:${containerPath}:${split[2]}`;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  // parseLinuxDevice
  const arr = val.split(':');
  let permissions = 'rwm';
  let dst = '';
  if (arr.length === 3) permissions = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) permissions = arr[1]!;
    else dst = arr[1]!;
  }
  const src = arr[0]!;
  return { PathOnHost: src, PathInContainer: dst === '' ? src : dst, CgroupPermissions: permissions };
}

function isUserDefinedNetwork(n: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(n) && !n.startsWith('container:');
}

function networkName(n: string): string {
  if (n.startsWith('container:')) return 'container';
  return n;
}

/** The empty EndpointSettings as encoding/json writes it, with `over` laid on it. */
export function endpointSettings(over: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
    ...over,
  };
}

interface NetOpts {
  aliases: string[];
  links: string[];
  ip: string;
  ip6: string;
  mac: string;
  linkLocal: string[];
}

function applyContainerOptions(n: NetworkAttachment, o: NetOpts): void {
  if (n.Aliases && n.Aliases.length > 0 && o.aliases.length > 0) throw new Error('conflicting options: cannot specify both --network-alias and per-network alias');
  if (n.Links && n.Links.length > 0 && o.links.length > 0) throw new Error('conflicting options: cannot specify both --link and per-network links');
  if (n.IPv4Address !== '' && o.ip !== '') throw new Error('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (n.IPv6Address !== '' && o.ip6 !== '') throw new Error('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
  if (n.MacAddress !== '' && o.mac !== '') throw new Error('conflicting options: cannot specify both --mac-address and per-network MAC address');
  if (n.LinkLocalIPs && n.LinkLocalIPs.length > 0 && o.linkLocal.length > 0) {
    throw new Error('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
  }
  if (o.aliases.length > 0) n.Aliases = [...o.aliases];
  if (isUserDefinedNetwork(n.Target) && o.links.length > 0) n.Links = [...o.links];
  if (o.ip !== '') n.IPv4Address = o.ip;
  if (o.ip6 !== '') n.IPv6Address = o.ip6;
  if (o.mac !== '') n.MacAddress = o.mac;
  if (o.linkLocal.length > 0) n.LinkLocalIPs = [...o.linkLocal];
}

/** parseNetworkAttachmentOpt: null stands for an all-zero EndpointSettings. */
function endpointFor(ep: NetworkAttachment): Record<string, unknown> | null {
  if (ep.Target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefinedNetwork(ep.Target)) {
    if (ep.Aliases && ep.Aliases.length > 0) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (ep.Links && ep.Links.length > 0) throw new Error('links are only supported for user-defined networks');
  }
  const over: Record<string, unknown> = { GwPriority: ep.GwPriority };
  let zero = ep.GwPriority === 0;
  // `append(epConfig.Aliases, ep.Aliases...)` keeps nil for an empty list
  if (ep.Aliases && ep.Aliases.length > 0) {
    over['Aliases'] = [...ep.Aliases];
    zero = false;
  }
  if (ep.DriverOpts && Object.keys(ep.DriverOpts).length > 0) {
    over['DriverOpts'] = sortedMap(ep.DriverOpts);
    zero = false;
  }
  if (ep.Links && ep.Links.length > 0) {
    over['Links'] = ep.Links;
    zero = false;
  }
  if (ep.IPv4Address !== '' || ep.IPv6Address !== '' || (ep.LinkLocalIPs && ep.LinkLocalIPs.length > 0)) {
    const ipam: Record<string, unknown> = {};
    if (ep.IPv4Address) ipam['IPv4Address'] = ep.IPv4Address;
    if (ep.IPv6Address) ipam['IPv6Address'] = ep.IPv6Address;
    if (ep.LinkLocalIPs && ep.LinkLocalIPs.length > 0) ipam['LinkLocalIPs'] = ep.LinkLocalIPs;
    over['IPAMConfig'] = ipam;
    zero = false;
  }
  if (ep.MacAddress !== '') {
    try {
      validateMAC(ep.MacAddress);
    } catch {
      throw new Error(`${ep.MacAddress} is not a valid mac address`);
    }
    over['MacAddress'] = ep.MacAddress;
    zero = false;
  }
  return zero ? null : endpointSettings(over);
}

/** parseNetworkOpts */
function parseNetworkOpts(nets: NetworkAttachment[], o: NetOpts): Record<string, Record<string, unknown>> {
  const endpoints: Record<string, Record<string, unknown>> = {};
  let hasUserDefined = false;
  let hasNonUserDefined = false;
  if (nets.length === 0) {
    const n = parseNetworkOpt('default');
    applyContainerOptions(n, o);
    endpoints['default'] = endpointFor(n) ?? endpointSettings();
  }
  nets.forEach((n, i) => {
    if (isUserDefinedNetwork(n.Target)) hasUserDefined = true;
    else hasNonUserDefined = true;
    if (i === 0) applyContainerOptions(n, o);
    const ep = endpointFor(n);
    if (Object.prototype.hasOwnProperty.call(endpoints, n.Target)) throw new Error(`network ${JSON.stringify(n.Target)} is specified multiple times`);
    if (i === 0 && nets.length === 1 && ep === null) return;
    endpoints[n.Target] = ep ?? endpointSettings();
  });
  if (hasUserDefined && hasNonUserDefined) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return sortedMap(endpoints);
}

export interface ParseContext {
  /** The CLI's environment (`-e KEY` lookups, env files). */
  env: Env;
  /** Directory relative bind sources are resolved against. */
  cwd?: string;
  /** `proxies` of the client config file, for the daemon host in use. */
  proxies?: Record<string, { httpProxy?: string; httpsProxy?: string; noProxy?: string; ftpProxy?: string; allProxy?: string }>;
  /** The daemon host string (selects a `proxies` entry). */
  daemonHost?: string;
}

export interface ContainerConfig {
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  NetworkingConfig: Record<string, unknown>;
}

/** ConfigFile.ParseProxyConfig merged into the `-e` list the way runRun rebuilds it. */
function withProxyEnv(envs: string[], ctx: ParseContext): string[] {
  const m = new Map<string, string | null>();
  for (const v of envs) {
    const eq = v.indexOf('=');
    if (eq < 0) m.set(v, null);
    else m.set(v.slice(0, eq), v.slice(eq + 1));
  }
  const proxies = ctx.proxies ?? {};
  const cfg = proxies[ctx.daemonHost ?? ''] ?? proxies['default'] ?? {};
  const permitted: [string, string | undefined][] = [
    ['HTTP_PROXY', cfg.httpProxy],
    ['HTTPS_PROXY', cfg.httpsProxy],
    ['NO_PROXY', cfg.noProxy],
    ['FTP_PROXY', cfg.ftpProxy],
    ['ALL_PROXY', cfg.allProxy],
  ];
  for (const [k, v] of permitted) {
    if (!v) continue;
    if (!m.has(k)) m.set(k, v);
    if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
  }
  return [...m.entries()].map(([k, v]) => (v === null ? k : `${k}=${v}`));
}

const nanos = (ms: number) => Math.round(ms * 1e6);

/**
 * docker's parse(): the parsed flags of run/create plus the image and
 * command → the create request's three parts. Errors carry docker's
 * messages (the caller adds `docker: …` and exit status 125).
 */
export function parseContainerOptions(
  flags: Record<string, FlagValue>,
  set: Set<string>,
  image: string,
  args: string[],
  ctx: ParseContext,
): ContainerConfig {
  const str = (k: string) => (flags[k] as string | undefined) ?? '';
  const num = (k: string) => (flags[k] as number | undefined) ?? 0;
  const bool = (k: string) => (flags[k] as boolean | undefined) ?? false;
  const arr = (k: string) => (flags[k] as string[] | undefined) ?? [];
  const bytes = (k: string) => (str(k) === '' ? 0 : ramInBytes(str(k)));
  const cwd = ctx.cwd ?? process.cwd();

  const attach = arr('attach');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');

  const mac = str('mac-address');
  if (mac !== '') {
    try {
      validateMAC(mac);
    } catch {
      throw new Error(`${mac} is not a valid mac address`);
    }
  }
  if (bool('interactive')) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const swappiness = num('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  // -v: binds go to HostConfig.Binds, anonymous volumes to Config.Volumes
  const volumeSpecs = arr('volume');
  const volumes = new Map<string, true>();
  for (const v of volumeSpecs) volumes.set(v, true);
  let binds: string[] | null = null;
  for (const bind of [...new Set(volumeSpecs)]) {
    const parsed = parseVolumeSpec(bind);
    if (parsed.source === '') continue;
    let toBind = bind;
    if (parsed.bind) {
      const c = bind.indexOf(':');
      if (c >= 0) {
        let hostPart = bind.slice(0, c);
        const targetPath = bind.slice(c + 1);
        if (!isAbsolute(hostPart) && hostPart.startsWith('.')) hostPart = resolve(cwd, hostPart);
        toBind = `${hostPart}:${targetPath}`;
      }
    }
    (binds ??= []).push(toBind);
    volumes.delete(bind);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of arr('tmpfs')) {
    const c = t.indexOf(':');
    tmpfs[c < 0 ? t : t.slice(0, c)] = c < 0 ? '' : t.slice(c + 1);
  }

  const runCmd = args.length > 0 ? [...args] : null;
  let entrypoint: string[] | null = null;
  if (str('entrypoint') !== '') entrypoint = [str('entrypoint')];
  else if (set.has('entrypoint')) entrypoint = [''];

  const { exposed, bindings } = parsePortSpecs(convertToStandardNotation(arr('publish')));

  for (const e of arr('expose')) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) {
      const p = newPort(proto, String(i));
      if (!exposed.has(p)) exposed.set(p, true);
    }
  }

  const deviceMappings: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] = [];
  const cdiDevices: string[] = [];
  for (const device of arr('device')) {
    if (isCDIName(device)) {
      cdiDevices.push(device);
      continue;
    }
    deviceMappings.push(parseDevice(device));
  }

  // environment: env files first, then -e (with proxy settings), as ReadKVEnvStrings
  const lookup = (k: string) => ctx.env[k];
  const envFromFiles: string[] = [];
  for (const f of arr('env-file')) envFromFiles.push(...parseKVFile(f, lookup));
  const envOverride = withProxyEnv(arr('env'), ctx);
  const envVariables = envFromFiles.length + envOverride.length > 0 ? [...envFromFiles, ...envOverride] : null;

  const labelsFromFiles: string[] = [];
  for (const f of arr('label-file')) labelsFromFiles.push(...parseKVFile(f));
  const labels = [...labelsFromFiles, ...arr('label')];

  const pidMode = str('pid');
  if (!(pidMode === '' || pidMode === 'host' || (pidMode.startsWith('container:') && pidMode.length > 10))) throw new Error('--pid: invalid PID mode');
  const utsMode = str('uts');
  if (!(utsMode === '' || utsMode === 'host')) throw new Error('--uts: invalid UTS mode');
  const usernsMode = str('userns');
  if (!(usernsMode === '' || usernsMode === 'host')) throw new Error('--userns: invalid USER mode');
  const cgroupnsMode = str('cgroupns');
  if (!(cgroupnsMode === '' || cgroupnsMode === 'private' || cgroupnsMode === 'host')) throw new Error('--cgroupns: invalid CGROUP mode');

  const restartPolicy = parseRestartPolicy(str('restart'));

  const logDriver = str('log-driver');
  const logOpts = arr('log-opt');
  const loggingOpts = kvMap(logOpts);
  if (logDriver === 'none' && logOpts.length > 0) throw new Error(`invalid logging opts for driver ${logDriver}`);

  let securityOpts = parseSecurityOpts(arr('security-opt'));
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  const filtered: string[] = [];
  for (const o of securityOpts) {
    if (o === 'systempaths=unconfined') {
      maskedPaths = [];
      readonlyPaths = [];
    } else filtered.push(o);
  }
  securityOpts = filtered;

  const storageOpts: Record<string, string> = {};
  for (const o of arr('storage-opt')) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new Error('invalid storage option');
    storageOpts[o.slice(0, eq)] = o.slice(eq + 1);
  }

  // healthcheck
  let healthConfig: Record<string, unknown> | undefined;
  const healthCmd = str('health-cmd');
  const interval = num('health-interval');
  const timeout = num('health-timeout');
  const startPeriod = num('health-start-period');
  const startInterval = num('health-start-interval');
  const retries = num('health-retries');
  const haveHealth = healthCmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (bool('no-healthcheck')) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthConfig = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (interval < 0) throw new Error('--health-interval cannot be negative');
    if (timeout < 0) throw new Error('--health-timeout cannot be negative');
    if (retries < 0) throw new Error('--health-retries cannot be negative');
    if (startPeriod < 0) throw new Error('--health-start-period cannot be negative');
    if (startInterval < 0) throw new Error('--health-start-interval cannot be negative');
    healthConfig = {};
    if (healthCmd !== '') healthConfig['Test'] = ['CMD-SHELL', healthCmd];
    if (interval) healthConfig['Interval'] = nanos(interval);
    if (timeout) healthConfig['Timeout'] = nanos(timeout);
    if (startPeriod) healthConfig['StartPeriod'] = nanos(startPeriod);
    if (startInterval) healthConfig['StartInterval'] = nanos(startInterval);
    if (retries) healthConfig['Retries'] = retries;
  }

  let deviceRequests: Record<string, unknown>[] | null = arr('gpus').length > 0 ? arr('gpus').map(parseGpus) : null;
  if (cdiDevices.length > 0) {
    (deviceRequests ??= []).push({ Driver: 'cdi', Count: 0, DeviceIDs: cdiDevices, Capabilities: null, Options: null });
  }

  const ulimitMap = new Map<string, Ulimit>();
  for (const u of arr('ulimit')) {
    const l = parseUlimit(u);
    ulimitMap.set(l.Name, l);
  }
  const ulimits = [...ulimitMap.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));

  const throttle = (k: string, rate: (v: string) => number) =>
    arr(k).map((v) => {
      const c = v.indexOf(':');
      return { Path: v.slice(0, c), Rate: rate(v.slice(c + 1)) };
    });
  const sysctls: Record<string, string> = {};
  for (const s of arr('sysctl')) {
    const eq = s.indexOf('=');
    sysctls[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const annotations: Record<string, string> = {};
  for (const s of arr('annotation')) {
    const eq = s.indexOf('=');
    annotations[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
  }
  const mounts = arr('mount').map((m) => parseMount(m, cwd));

  // Config, in container.Config's field order
  const config: Record<string, unknown> = {
    Hostname: str('hostname'),
    Domainname: str('domainname'),
    User: str('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
  };
  if (exposed.size > 0) config['ExposedPorts'] = sortedMap(Object.fromEntries([...exposed.keys()].map((k) => [k, {}])));
  const openStdin = bool('interactive');
  Object.assign(config, {
    Tty: bool('tty'),
    OpenStdin: openStdin,
    // When allocating stdin in attached mode, close stdin at client disconnect
    StdinOnce: openStdin && attachStdin,
    Env: envVariables,
    Cmd: runCmd,
  });
  if (healthConfig) config['Healthcheck'] = healthConfig;
  Object.assign(config, {
    Image: image,
    Volumes: sortedMap(Object.fromEntries([...volumes.keys()].map((k) => [k, {}]))),
    WorkingDir: str('workdir'),
    Entrypoint: entrypoint,
  });
  config['OnBuild'] = null;
  config['Labels'] = sortedMap(kvMap(labels));
  if (str('stop-signal') !== '') config['StopSignal'] = str('stop-signal');
  if (set.has('stop-timeout')) config['StopTimeout'] = num('stop-timeout');

  const networks = arr('network').map(parseNetworkOpt);
  const networkMode = networks.length > 0 ? networks[0]!.Target : 'default';

  if (bool('rm') && !(restartPolicy.Name === 'no' || restartPolicy.Name === '')) {
    throw new Error('conflicting options: cannot specify both --restart and --rm');
  }

  const hostConfig: Record<string, unknown> = {
    Binds: binds,
    ContainerIDFile: str('cidfile'),
    LogConfig: { Type: logDriver, Config: sortedMap(loggingOpts) },
    NetworkMode: networkMode,
    PortBindings: sortedMap(Object.fromEntries(bindings)),
    RestartPolicy: restartPolicy,
    AutoRemove: bool('rm'),
    VolumeDriver: str('volume-driver'),
    VolumesFrom: arr('volumes-from').length > 0 ? arr('volumes-from') : null,
    ConsoleSize: [0, 0],
  };
  if (Object.keys(annotations).length > 0) hostConfig['Annotations'] = sortedMap(annotations);
  const orNull = (a: string[]) => (a.length > 0 ? a : null);
  Object.assign(hostConfig, {
    CapAdd: orNull(arr('cap-add')),
    CapDrop: orNull(arr('cap-drop')),
    CgroupnsMode: cgroupnsMode,
    Dns: arr('dns'),
    DnsOptions: arr('dns-option'),
    DnsSearch: arr('dns-search'),
    ExtraHosts: orNull(arr('add-host')),
    GroupAdd: orNull(arr('group-add')),
    IpcMode: str('ipc'),
    Cgroup: '',
    Links: orNull(arr('link')),
    OomScoreAdj: num('oom-score-adj'),
    PidMode: pidMode,
    Privileged: bool('privileged'),
    PublishAllPorts: bool('publish-all'),
    ReadonlyRootfs: bool('read-only'),
    SecurityOpt: arr('security-opt').length > 0 ? securityOpts : null,
  });
  if (Object.keys(storageOpts).length > 0) hostConfig['StorageOpt'] = sortedMap(storageOpts);
  if (Object.keys(tmpfs).length > 0) hostConfig['Tmpfs'] = sortedMap(tmpfs);
  Object.assign(hostConfig, { UTSMode: utsMode, UsernsMode: usernsMode, ShmSize: bytes('shm-size') });
  if (Object.keys(sysctls).length > 0) hostConfig['Sysctls'] = sortedMap(sysctls);
  if (str('runtime') !== '') hostConfig['Runtime'] = str('runtime');
  Object.assign(hostConfig, {
    Isolation: str('isolation'),
    // Resources
    CpuShares: num('cpu-shares'),
    Memory: bytes('memory'),
    NanoCpus: str('cpus') === '' ? 0 : parseCPUs(str('cpus')),
    CgroupParent: str('cgroup-parent'),
    BlkioWeight: str('blkio-weight') === '' ? 0 : Number(str('blkio-weight')),
    BlkioWeightDevice: arr('blkio-weight-device').map((v) => {
      const c = v.indexOf(':');
      return { Path: v.slice(0, c), Weight: Number(v.slice(c + 1)) };
    }),
    BlkioDeviceReadBps: throttle('device-read-bps', ramInBytes),
    BlkioDeviceWriteBps: throttle('device-write-bps', ramInBytes),
    BlkioDeviceReadIOps: throttle('device-read-iops', Number),
    BlkioDeviceWriteIOps: throttle('device-write-iops', Number),
    CpuPeriod: num('cpu-period'),
    CpuQuota: num('cpu-quota'),
    CpuRealtimePeriod: num('cpu-rt-period'),
    CpuRealtimeRuntime: num('cpu-rt-runtime'),
    CpusetCpus: str('cpuset-cpus'),
    CpusetMems: str('cpuset-mems'),
    Devices: deviceMappings,
    DeviceCgroupRules: orNull(arr('device-cgroup-rule')),
    DeviceRequests: deviceRequests,
  });
  if (bytes('kernel-memory') !== 0) hostConfig['KernelMemory'] = bytes('kernel-memory');
  Object.assign(hostConfig, {
    MemoryReservation: bytes('memory-reservation'),
    MemorySwap: str('memory-swap') === '-1' ? -1 : bytes('memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: bool('oom-kill-disable'),
    PidsLimit: num('pids-limit'),
    Ulimits: ulimits,
    CpuCount: num('cpu-count'),
    CpuPercent: num('cpu-percent'),
    IOMaximumIOps: str('io-maxiops') === '' ? 0 : Number(str('io-maxiops')),
    IOMaximumBandwidth: bytes('io-maxbandwidth'),
  });
  if (mounts.length > 0) hostConfig['Mounts'] = mounts;
  hostConfig['MaskedPaths'] = maskedPaths;
  hostConfig['ReadonlyPaths'] = readonlyPaths;
  if (set.has('init')) hostConfig['Init'] = bool('init');

  const endpoints = parseNetworkOpts(networks, {
    aliases: arr('network-alias'),
    links: arr('link'),
    ip: str('ip'),
    ip6: str('ip6'),
    mac,
    linkLocal: arr('link-local-ip'),
  });
  // the main network's endpoint MAC also goes into Config for older daemons
  const main = endpoints[networkName(networkMode)];
  const finalMac = main ? String(main['MacAddress'] ?? '') : mac;
  if (finalMac !== '') {
    const ordered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) {
      if (k === 'OnBuild') ordered['MacAddress'] = finalMac;
      ordered[k] = v;
    }
    return { Config: ordered, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } };
  }
  return { Config: config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } };
}
