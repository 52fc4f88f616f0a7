/**
 * `berth network …`: create, ls, inspect, rm, connect, disconnect, prune,
 * with docker's flags, request bodies, output and messages.
 */
import type { NetworkSummary } from '../../client/index.js';
import { DaemonError } from '../../client/index.js';
import { CancelledError, StatusError } from '../cli.js';
import { exactArgs, minArgs, noArgs, type CommandDef, type RunContext } from '../command.js';
import type { FlagValue } from '../flags.js';
import { renderRows } from '../output.js';
import { confirm } from '../prompt.js';
import { parseIP } from '../util/goparse.js';
import { goTimeStringOfRFC3339 } from '../util/gotime.js';
import { naturalLess, pruneFilters } from './containers.js';
import { endpointSettings, validateLabel, validateLink } from './containeropts.js';
import { checkFilters, errorText, filterFlag, FORMAT_HELP, INSPECT_FORMAT_HELP, parseFilters, truncateID } from './common.js';
import { inspectOutput } from './inspect.js';

// ───────────────────────────── addresses ─────────────────────────────

/** An address as Go's net package holds it: 16 bytes, `is4` when it was written as a dotted quad. */
interface Addr {
  bytes: number[];
  is4: boolean;
}

/** A parsed `addr/bits`: the address as written (Go's ParseCIDR keeps it) and the prefix length. */
export interface CIDR {
  addr: Addr;
  bits: number;
}

const isMapped = (b: number[]) => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** Go's net.ParseCIDR; throws `invalid CIDR address: s`. */
export function parseCIDR(s: string): CIDR {
  const bad = () => new Error(`invalid CIDR address: ${s}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw bad();
  const ip = parseIP(s.slice(0, slash));
  if (!ip) throw bad();
  const mask = s.slice(slash + 1);
  if (!/^[0-9]+$/.test(mask)) throw bad();
  const bits = Number(mask);
  if (bits > (ip.v4 ? 32 : 128)) throw bad();
  return { addr: { bytes: ip.bytes, is4: ip.v4 }, bits };
}

/**
 * Go's IPNet.Contains for the network a ParseCIDR made: IPv4 and IPv4-mapped
 * addresses compare as 4 bytes, others as 16; a mismatch in width never matches.
 */
function contains(net: CIDR, ip: Addr | null): boolean {
  if (!ip) return false;
  const netWide = isMapped(net.addr.bytes) ? 4 : 16;
  const ipWide = isMapped(ip.bytes) ? 4 : 16;
  if (netWide !== ipWide) return false;
  // the mask spans 4 bytes for a dotted-quad network, else 16 (of which 4-wide compares keep the tail)
  const maskBits = net.addr.is4 ? net.bits + 96 : net.bits;
  for (let i = 16 - netWide; i < 16; i++) {
    const bitsHere = Math.max(0, Math.min(8, maskBits - i * 8));
    const m = (0xff << (8 - bitsHere)) & 0xff;
    if ((net.addr.bytes[i]! & m) !== (ip.bytes[i]! & m)) return false;
  }
  return true;
}

/** docker's subnetMatches: does `data` (an address or a CIDR) fall in `subnet`? */
export function subnetMatches(subnet: string, data: string): boolean {
  let net: CIDR;
  try {
    net = parseCIDR(subnet);
  } catch (e) {
    throw new Error(`invalid subnet: ${(e as Error).message}`);
  }
  if (data.includes('/')) return contains(net, parseCIDR(data).addr);
  const ip = parseIP(data);
  return contains(net, ip ? { bytes: ip.bytes, is4: ip.v4 } : null);
}

// ───────────────────────────── create ─────────────────────────────

export interface IPAMOptions {
  driver: string;
  subnets: string[];
  ipRanges: string[];
  gateways: string[];
  /** `name=address` pairs, later keys replacing earlier ones. */
  auxAddresses: Record<string, string>;
  driverOpts: Record<string, string>;
}

/**
 * docker's createIPAMConfig: gathers --subnet, --ip-range, --gateway and
 * --aux-address into one IPAM config per subnet, with docker's checks and
 * messages. Configs keep the order the subnets were given in (docker's order
 * is that of a Go map, so any order is docker's).
 */
export function ipamConfig(o: IPAMOptions): Record<string, unknown> {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) {
    throw new Error('every ip-range or gateway must have a corresponding subnet');
  }
  const data = new Map<string, { Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses: Record<string, string> }>();
  for (const s of o.subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of o.ipRanges) {
    let match = false;
    for (const s of o.subnets) {
      parseCIDR(r);
      if (!subnetMatches(s, r)) continue;
      const d = data.get(s)!;
      if (d.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${d.IPRange}) on the same subnet (${s})`);
      d.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of o.gateways) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, g)) continue;
      const d = data.get(s)!;
      if (d.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${d.Gateway}) for the same subnet (${s})`);
      d.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  for (const key of Object.keys(o.auxAddresses)) {
    const aa = o.auxAddresses[key]!;
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, aa)) continue;
      data.get(s)!.AuxiliaryAddresses[key] = aa;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${aa}`);
  }
  // network.IPAMConfig: every field is omitted when empty
  const config = [...data.values()].map((d) => {
    const c: Record<string, unknown> = { Subnet: d.Subnet };
    if (d.IPRange) c['IPRange'] = d.IPRange;
    if (d.Gateway) c['Gateway'] = d.Gateway;
    if (Object.keys(d.AuxiliaryAddresses).length > 0) c['AuxiliaryAddresses'] = sortedMap(d.AuxiliaryAddresses);
    return c;
  });
  return { Driver: o.driver, Options: sortedMap(o.driverOpts), Config: config };
}

/** opts.MapOpts: `k=v` values (a bare `k` maps to ""), the last of a key winning. */
export function mapOpt(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

/** A copy with keys in Go's marshalling order. */
function sortedMap(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

/**
 * The network.CreateOptions body for the parsed flags, fields in the order
 * the Go client marshals them (EnableIPv4/EnableIPv6 only when given).
 */
export function createOptions(flags: Record<string, FlagValue>, set: Set<string>): Record<string, unknown> {
  const ipam = ipamConfig({
    driver: flags['ipam-driver'] as string,
    subnets: flags['subnet'] as string[],
    ipRanges: flags['ip-range'] as string[],
    gateways: flags['gateway'] as string[],
    auxAddresses: mapOpt(flags['aux-address'] as string[]),
    driverOpts: mapOpt(flags['ipam-opt'] as string[]),
  });
  const body: Record<string, unknown> = { Driver: flags['driver'], Scope: flags['scope'] };
  if (set.has('ipv4')) body['EnableIPv4'] = flags['ipv4'];
  if (set.has('ipv6')) body['EnableIPv6'] = flags['ipv6'];
  const configFrom = flags['config-from'] as string;
  Object.assign(body, {
    IPAM: ipam,
    Internal: flags['internal'],
    Attachable: flags['attachable'],
    Ingress: flags['ingress'],
    ConfigOnly: flags['config-only'],
    ConfigFrom: configFrom !== '' ? { Network: configFrom } : null,
    Options: sortedMap(mapOpt(flags['opt'] as string[])),
    Labels: sortedMap(mapOpt(flags['label'] as string[])),
  });
  return body;
}

async function runCreate({ cli, flags, args, set }: RunContext): Promise<void> {
  let options: Record<string, unknown>;
  try {
    options = createOptions(flags, set);
  } catch (e) {
    throw new StatusError((e as Error).message, 1);
  }
  const r = await cli.client().networkCreate(args[0]!, options);
  cli.out.write(r.Id + '\n');
}

function createDef(): CommandDef {
  const map = (name: string, usage: string, short?: string) => ({
    name,
    ...(short ? { short } : {}),
    type: 'stringArray' as const,
    placeholder: 'map',
    shownDefault: 'map[]',
    usage,
  });
  const strings = (name: string, usage: string) => ({ name, type: 'stringSlice' as const, placeholder: 'strings', usage });
  return {
    name: 'create',
    use: '[OPTIONS] NETWORK',
    short: 'Create a network',
    args: exactArgs(1),
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'bridge', usage: 'Driver to manage the Network' },
      map('opt', 'Set driver specific options', 'o'),
      { name: 'label', type: 'stringArray', usage: 'Set metadata on a network', validate: validateLabel },
      { name: 'internal', type: 'bool', usage: 'Restrict external access to the network' },
      { name: 'ipv4', type: 'bool', default: true, usage: 'Enable or disable IPv4 address assignment' },
      { name: 'ipv6', type: 'bool', usage: 'Enable or disable IPv6 address assignment' },
      { name: 'attachable', type: 'bool', usage: 'Enable manual container attachment' },
      { name: 'ingress', type: 'bool', usage: 'Create swarm routing-mesh network' },
      { name: 'scope', type: 'string', usage: "Control the network's scope" },
      { name: 'config-only', type: 'bool', usage: 'Create a configuration only network' },
      { name: 'config-from', type: 'string', usage: 'The network from which to copy the configuration' },
      { name: 'ipam-driver', type: 'string', default: 'default', usage: 'IP Address Management Driver' },
      strings('subnet', 'Subnet in CIDR format that represents a network segment'),
      strings('ip-range', 'Allocate container ip from a sub-range'),
      strings('gateway', 'IPv4 or IPv6 Gateway for the master subnet'),
      map('aux-address', 'Auxiliary IPv4 or IPv6 addresses used by Network driver'),
      map('ipam-opt', 'Set IPAM driver specific options'),
    ],
    run: runCreate,
  };
}

// ───────────────────────────── ls ─────────────────────────────

const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

/** The fields docker's network formatter context offers, in Go's sorted order (`Label` is a method). */
export function networkRow(n: NetworkSummary, trunc: boolean): Record<string, unknown> {
  const labels = n.Labels ?? null;
  const row: Record<string, unknown> = {
    CreatedAt: goTimeStringOfRFC3339(n.Created ?? '0001-01-01T00:00:00Z'),
    Driver: n.Driver ?? '',
    ID: trunc ? truncateID(n.Id) : n.Id,
    IPv4: String(n.EnableIPv4 ?? false),
    IPv6: String(n.EnableIPv6 ?? false),
    Internal: String(n.Internal ?? false),
    Labels: labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') : '',
    Name: n.Name,
    Scope: n.Scope ?? '',
  };
  Object.defineProperty(row, 'Label', { value: (name: string) => (labels ? labels[name] ?? '' : ''), enumerable: false });
  return row;
}

/** docker's network NewFormat: the template for a --format value. */
export function networkFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.ID}}' : NETWORK_TABLE;
  if (source === 'raw') return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  return source;
}

async function runList({ cli, flags }: RunContext): Promise<void> {
  const quiet = flags['quiet'] as boolean;
  const networks = await cli.client().networkList(parseFilters(flags['filter'] as string[]));
  let source = flags['format'] as string;
  if (source === '') {
    const cfg = cli.config()['networksFormat'];
    source = typeof cfg === 'string' && cfg !== '' && !quiet ? cfg : 'table';
  }
  networks.sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
  const trunc = !(flags['no-trunc'] as boolean);
  cli.out.write(renderRows(networkFormat(source, quiet), NETWORK_TABLE, networks.map((n) => networkRow(n, trunc)), NETWORK_HEADERS));
}

function listDef(): CommandDef {
  return {
    name: 'ls',
    use: '[OPTIONS]',
    aliases: ['list'],
    short: 'List networks',
    args: noArgs,
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
      { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
      { name: 'format', type: 'string', usage: FORMAT_HELP },
      filterFlag('Provide filter values (e.g. "driver=bridge")'),
    ],
    check: (f) => checkFilters(f),
    run: runList,
  };
}

// ───────────────────────────── inspect ─────────────────────────────

function inspectDef(): CommandDef {
  return {
    name: 'inspect',
    use: '[OPTIONS] NETWORK [NETWORK...]',
    short: 'Display detailed information on one or more networks',
    args: minArgs(1),
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
      { name: 'verbose', short: 'v', type: 'bool', usage: 'Verbose output for diagnostics' },
    ],
    run: async ({ cli, flags, args }) => {
      const verbose = flags['verbose'] as boolean;
      await inspectOutput(cli, args, flags['format'] as string, (ref) => {
        if (ref.trim() === '') throw new StatusError('invalid network name or ID: value is empty', 1);
        return cli.client().networkInspect(ref.trim(), { verbose });
      });
    },
  };
}

// ───────────────────────────── rm ─────────────────────────────

const INGRESS_WARNING =
  'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. ' +
  'Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?';

/**
 * Removes each network in turn like docker: the network is looked up first
 * (removing the swarm ingress network asks for confirmation), each removed
 * name is printed, each failure goes to stderr, and any failure makes the
 * exit status 1 (with docker's closing `exit status 1` line). With --force a
 * missing network is no failure.
 */
async function runRemove({ cli, flags, args }: RunContext): Promise<void> {
  const client = cli.client();
  const force = flags['force'] as boolean;
  let failed = false;
  for (const name of args) {
    let ingress = false;
    try {
      ingress = (await client.networkInspect(name.trim())).data['Ingress'] === true;
    } catch {
      // the removal reports the problem
    }
    if (ingress && !(await confirm(cli, INGRESS_WARNING))) continue;
    try {
      await client.networkRemove(name);
    } catch (e) {
      if (force && e instanceof DaemonError && e.kind === 'NotFound') continue;
      cli.err.write(errorText(e) + '\n');
      failed = true;
      continue;
    }
    cli.out.write(name + '\n');
  }
  // docker ends with its status error's text
  if (failed) throw new StatusError('exit status 1', 1);
}

function removeDef(): CommandDef {
  return {
    name: 'rm',
    use: 'NETWORK [NETWORK...]',
    aliases: ['remove'],
    short: 'Remove one or more networks',
    args: minArgs(1),
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
    run: runRemove,
  };
}

// ───────────────────────────── connect / disconnect ─────────────────────────────

/** docker's convertDriverOpt: `k=v` pairs, both sides trimmed; a missing `=` or key is an error. */
export function driverOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const k = (eq < 0 ? v : v.slice(0, eq)).trim();
    if (eq < 0 || k === '') throw new Error('invalid key/value pair format in driver options');
    out[k] = v.slice(eq + 1).trim();
  }
  return sortedMap(out);
}

/** The network.EndpointSettings body of `network connect`, in Go's field order. */
export function connectEndpoint(flags: Record<string, FlagValue>): Record<string, unknown> {
  const ipam: Record<string, unknown> = {};
  const ip = flags['ip'] as string;
  const ip6 = flags['ip6'] as string;
  const linkLocal = flags['link-local-ip'] as string[];
  if (ip !== '') ipam['IPv4Address'] = ip;
  if (ip6 !== '') ipam['IPv6Address'] = ip6;
  if (linkLocal.length > 0) ipam['LinkLocalIPs'] = linkLocal;
  const links = flags['link'] as string[];
  return endpointSettings({
    IPAMConfig: ipam,
    Links: links.length > 0 ? links : null,
    Aliases: flags['alias'] as string[],
    DriverOpts: driverOpts(flags['driver-opt'] as string[]),
    GwPriority: flags['gw-priority'] as number,
  });
}

function connectDef(): CommandDef {
  return {
    name: 'connect',
    use: '[OPTIONS] NETWORK CONTAINER',
    short: 'Connect a container to a network',
    args: exactArgs(2),
    flags: [
      { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
      { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
      { name: 'link', type: 'stringArray', usage: 'Add link to another container', validate: validateLink },
      { name: 'alias', type: 'stringSlice', placeholder: 'strings', usage: 'Add network-scoped alias for the container' },
      { name: 'link-local-ip', type: 'stringSlice', placeholder: 'strings', usage: 'Add a link-local address for the container' },
      { name: 'driver-opt', type: 'stringSlice', placeholder: 'strings', usage: 'driver options for the network' },
      { name: 'gw-priority', type: 'int', usage: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
    ],
    run: async ({ cli, flags, args }) => {
      let endpoint: Record<string, unknown>;
      try {
        endpoint = connectEndpoint(flags);
      } catch (e) {
        throw new StatusError((e as Error).message, 1);
      }
      await cli.client().networkConnect(args[0]!, args[1]!, endpoint);
    },
  };
}

function disconnectDef(): CommandDef {
  return {
    name: 'disconnect',
    use: '[OPTIONS] NETWORK CONTAINER',
    short: 'Disconnect a container from a network',
    args: exactArgs(2),
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
    run: async ({ cli, flags, args }) => {
      await cli.client().networkDisconnect(args[0]!, args[1]!, flags['force'] as boolean);
    },
  };
}

// ───────────────────────────── prune ─────────────────────────────

const PRUNE_WARNING = `WARNING! This will remove all custom networks not used by at least one container.
Are you sure you want to continue?`;

function pruneDef(): CommandDef {
  return {
    name: 'prune',
    use: '[OPTIONS]',
    short: 'Remove all unused networks',
    args: noArgs,
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      filterFlag('Provide filter values (e.g. "until=<timestamp>")', null),
    ],
    check: (f) => checkFilters(f, null),
    run: async ({ cli, flags }) => {
      const filters = pruneFilters(cli, parseFilters(flags['filter'] as string[]));
      if (!(flags['force'] as boolean) && !(await confirm(cli, PRUNE_WARNING))) {
        throw new CancelledError('network prune has been cancelled');
      }
      const report = await cli.client().networksPrune(filters);
      const deleted = report.NetworksDeleted ?? [];
      // docker prints the report with Println, so a blank line follows it
      if (deleted.length > 0) cli.out.write('Deleted Networks:\n' + deleted.map((n) => n + '\n').join('') + '\n');
    },
  };
}

// ───────────────────────────── group ─────────────────────────────

/** `berth network` */
export function networkGroup(): CommandDef {
  return {
    name: 'network',
    short: 'Manage networks',
    args: noArgs,
    sub: [connectDef(), createDef(), disconnectDef(), inspectDef(), listDef(), pruneDef(), removeDef()],
  };
}
