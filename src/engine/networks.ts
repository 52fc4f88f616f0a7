/**
 * Networks as docker has them: the default `bridge` (berthd's own device),
 * `host`, `none`, and user-defined bridges with an embedded DNS server.
 * A container's endpoints exist while it runs: they are made once runc has
 * created its network namespace and before its process starts, and released
 * when it stops. Addresses are kept in the database (unique per network), so
 * a restart of berthd neither loses nor duplicates them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from '../core/containers.js';
import type { Endpoint, EndpointConfig, NetworkRecord, NetworkStore, PortMapping } from '../core/networks.js';
import { BerthError, conflict, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { apply as applyFirewall } from '../network/firewall.js';
import { allocate, contains, formatCidr, formatIp, macFor, parseCidr, parseIp, pickSubnet, validMac, type Cidr } from '../network/ipam.js';
import { attach as plumbAttach, deleteLink, detach as plumbDetach, ensureBridge, linkExists } from '../network/plumbing.js';
import { allocatePorts, type PortBindings } from '../network/ports.js';
import { withHostLock } from '../network/hostlock.js';
import { containerResolvConf, defaultBridgeResolvConf, DnsServer, hostResolvers } from '../network/dns.js';
import type { Events } from './events.js';
import { matchesLabels } from './filters.js';

export type { Endpoint, EndpointConfig, NetworkRecord, PortMapping } from '../core/networks.js';

export interface NetworkDeps {
  store: NetworkStore;
  events: Events;
  log: Logger;
  /** The default bridge's device, or 'none'. */
  bridge: string;
  /** The default bridge's gateway/prefix when the user chose it. */
  bip?: string;
  /** Name of berthd's nftables table. */
  table: string;
  /** Every container record, for names and for what each one asked. */
  containers: {
    get(ref: string): ContainerRecord;
    list(): ContainerRecord[];
    save(c: ContainerRecord): void;
    /** The directory holding the container's /etc files. */
    dir(c: ContainerRecord): string;
  };
}

export interface CreateNetworkRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const BUILTIN = ['bridge', 'host', 'none'];
const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';
const HOSTS_BASE = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

export class NetworkService {
  private readonly dns: DnsServer;

  /** The network a container's NetworkMode names: docker's `default` is the bridge, or none when the daemon has no bridge. */
  private modeNetwork(mode: string): string {
    if (mode && mode !== 'default') return mode;
    return this.deps.bridge === 'none' ? 'none' : 'bridge';
  }

  constructor(private readonly deps: NetworkDeps) {
    this.dns = new DnsServer({
      lookup: (scope, name) => this.lookupName(scope, name),
      reverse: (scope, ip) => this.lookupAddress(scope, ip),
      upstreams: (scope, client) => this.upstreamsFor(scope, client),
    });
  }

  /** The host's resolvers, read at start. */
  private upstreams: string[] = [];

  /** A container's --dns servers are its upstreams, as docker's embedded server forwards to them. */
  private upstreamsFor(scope: string, client: string): string[] {
    const e = this.deps.store.endpoints({ networkId: scope }).find((x) => x.ip === client);
    const c = e && this.safeContainer(e.containerId);
    const dns = (c?.hostConfig.Dns as string[] | null | undefined) ?? [];
    return dns.length ? dns : this.upstreams;
  }

  // ── lifecycle ──

  /**
   * Builtin networks exist, every bridge is up with its address, endpoints
   * of containers that no longer run are released, the firewall matches,
   * and each user-defined network's DNS server listens on its gateway.
   */
  async init(): Promise<void> {
    this.upstreams = hostResolvers(await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    const { store } = this.deps;
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!store.byName(name)) store.put(this.record(name, driver, [], {}, {}, false, ''));
    }
    const existing = store.byName('bridge');
    let created: string | undefined;
    if (this.deps.bridge === 'none') {
      if (existing) store.delete(existing.id);
    } else if (!existing || existing.bridge !== this.deps.bridge || (this.deps.bip && !this.matchesBip(existing))) {
      if (existing) store.delete(existing.id);
      created = await withHostLock(async () => {
        const pool = this.deps.bip ? this.bipPool(this.deps.bip) : { Subnet: formatCidr(pickSubnet(await this.takenSubnets())), Gateway: '' };
        if (!pool.Gateway) pool.Gateway = formatIp(parseCidr(pool.Subnet)!.base + 1);
        const rec = this.record('bridge', 'bridge', [pool], { 'com.docker.network.bridge.default_bridge': 'true', [BRIDGE_NAME_OPT]: this.deps.bridge }, {}, false, this.deps.bridge);
        store.put(rec);
        await this.bringUp(rec);
        return rec.id;
      });
    }
    for (const n of store.list()) if (n.driver === 'bridge' && n.id !== created) await this.bringUp(n);
    const running = new Set(this.deps.containers.list().filter((c) => c.state.Status === 'running' || c.state.Status === 'paused').map((c) => c.id));
    for (const e of store.endpoints()) {
      if (!running.has(e.containerId)) {
        store.deleteEndpoint(e.id);
        store.deletePorts(e.containerId);
      }
    }
    await this.syncFirewall();
  }

  private matchesBip(n: NetworkRecord): boolean {
    const want = this.bipPool(this.deps.bip!);
    return n.ipam[0]?.Subnet === want.Subnet && n.ipam[0]?.Gateway === want.Gateway;
  }

  private bipPool(bip: string): { Subnet: string; Gateway: string } {
    const m = /^([\d.]+)\/(\d+)$/.exec(bip);
    const cidr = parseCidr(bip);
    if (!m || !cidr) throw invalidArgument(`invalid bip: ${bip}`);
    return { Subnet: formatCidr(cidr), Gateway: m[1]! };
  }

  async close(): Promise<void> {
    await this.dns.closeAll();
  }

  private record(name: string, driver: NetworkRecord['driver'], ipam: NetworkRecord['ipam'], options: Record<string, string>, labels: Record<string, string>, internal: boolean, bridge: string): NetworkRecord {
    return { id: randomBytes(32).toString('hex'), name, driver, created: new Date().toISOString(), internal, attachable: false, userSubnet: false, ipam, options, labels, bridge };
  }

  /** Subnets in use: other networks', and the host's routes (another engine's bridge, a VPN, the LAN). */
  private async takenSubnets(): Promise<Cidr[]> {
    const taken: Cidr[] = [];
    for (const n of this.deps.store.list()) for (const p of n.ipam) taken.push(parseCidr(p.Subnet)!);
    const routes = await fs.readFile('/proc/net/route', 'utf8').catch(() => '');
    for (const line of routes.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || f[1] === '00000000') continue;
      const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
      const dest = le(f[1]!);
      const maskBits = le(f[7]!).toString(2).split('').filter((b) => b === '1').length;
      taken.push({ base: dest >>> 0, prefix: maskBits });
    }
    return taken;
  }

  private async bringUp(n: NetworkRecord): Promise<void> {
    const pool = n.ipam[0]!;
    await ensureBridge(n.bridge, pool.Gateway, parseCidr(pool.Subnet)!.prefix);
    if (this.hasDns(n)) await this.dns.listen(n.id, pool.Gateway, 53, { subnets: [pool.Subnet], forward: !n.internal }).catch((err: unknown) => this.deps.log.warn('embedded DNS cannot listen', { network: n.name, error: String(err) }));
  }

  /** Only user-defined networks resolve container names, as with docker. */
  private hasDns(n: NetworkRecord): boolean {
    return n.driver === 'bridge' && n.name !== 'bridge';
  }

  private firewallQueue: Promise<void> = Promise.resolve();

  /**
   * Brings the firewall to the database's state. Applies run one at a time
   * and each renders the state as it is when its turn comes, so the last one
   * always reflects the latest change.
   */
  private syncFirewall(): Promise<void> {
    const next = this.firewallQueue.then(() => {
      const networks = this.deps.store
        .list()
        .filter((n) => n.driver === 'bridge')
        .map((n) => ({ bridge: n.bridge, subnet: n.ipam[0]!.Subnet, internal: n.internal }));
      return applyFirewall(this.deps.table, { networks, ports: this.deps.store.ports() });
    });
    this.firewallQueue = next.catch(() => undefined);
    return next;
  }

  // ── the resource ──

  /** By full ID, exact name, or unique ID prefix, as docker resolves network references. */
  get(ref: string): NetworkRecord {
    const s = this.deps.store;
    const found = s.get(ref) ?? s.byName(ref);
    if (found) return found;
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = s.list().filter((n) => n.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    }
    throw notFound(`network ${ref} not found`);
  }

  list(filters: Map<string, string[]> = new Map()): NetworkRecord[] {
    for (const k of filters.keys()) {
      if (!['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    }
    const any = (k: string, fn: (v: string) => boolean) => !filters.has(k) || filters.get(k)!.some(fn);
    return this.deps.store
      .list()
      .filter((n) => any('name', (v) => n.name.includes(v)))
      .filter((n) => any('id', (v) => n.id.startsWith(v)))
      .filter((n) => any('driver', (v) => n.driver === v))
      .filter(() => any('scope', (v) => v === 'local'))
      .filter((n) => any('type', (v) => (v === 'builtin' ? BUILTIN.includes(n.name) : v === 'custom' ? !BUILTIN.includes(n.name) : false)))
      .filter((n) => !filters.has('label') || matchesLabels(n.labels, filters.get('label')!))
      .filter((n) => any('dangling', (v) => (v === 'true' || v === '1') === (!BUILTIN.includes(n.name) && this.deps.store.endpoints({ networkId: n.id }).length === 0)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }> {
    const name = req.Name ?? '';
    if (!name) throw invalidArgument('network name must not be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidArgument(`invalid network name "${name}"`);
    if (BUILTIN.includes(name)) throw new BerthError('Forbidden', `operation is not permitted on predefined ${name} network `);
    if (this.deps.store.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver !== 'bridge') throw notFound(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    if (req.EnableIPv6) throw invalidArgument('IPv6 networks are not supported by berthd');
    const configs = req.IPAM?.Config ?? [];
    if (configs.length > 1) throw invalidArgument('berthd supports one IPv4 subnet per network');
    return withHostLock(() => this.createLocked(req, name, configs));
  }

  private async createLocked(req: CreateNetworkRequest, name: string, configs: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }>): Promise<{ id: string; warning: string }> {
    const taken = await this.takenSubnets();
    let pool: NetworkRecord['ipam'][number];
    const asked = configs[0];
    if (asked?.Subnet) {
      const subnet = parseCidr(asked.Subnet);
      if (!subnet || asked.Subnet.includes(':')) throw invalidArgument(`invalid subnet ${asked.Subnet}: invalid CIDR address`);
      if (subnet.prefix > 30) throw invalidArgument(`invalid subnet ${asked.Subnet}: too small for containers`);
      const others = this.deps.store.list().flatMap((n) => n.ipam.map((p) => parseCidr(p.Subnet)!));
      if (others.some((o) => o.prefix <= subnet.prefix ? contains(o, subnet.base) : contains(subnet, o.base))) {
        throw new BerthError('Forbidden', 'invalid pool request: Pool overlaps with other one on this address space');
      }
      let gateway = subnet.base + 1;
      if (asked.Gateway) {
        const g = parseIp(asked.Gateway);
        if (g === undefined) throw invalidArgument(`invalid gateway address ${asked.Gateway}`);
        if (!contains(subnet, g)) throw invalidArgument(`no matching subnet for gateway ${asked.Gateway}`);
        gateway = g;
      }
      pool = { Subnet: formatCidr(subnet), Gateway: formatIp(gateway) };
      if (asked.IPRange) {
        const range = parseCidr(asked.IPRange);
        if (!range || !contains(subnet, range.base) || range.prefix < subnet.prefix) throw invalidArgument(`no matching subnet for range ${asked.IPRange}`);
        pool.IPRange = formatCidr(range);
      }
    } else {
      if (asked?.Gateway || asked?.IPRange) throw invalidArgument('a gateway or IP range needs a subnet');
      const subnet = pickSubnet(taken);
      pool = { Subnet: formatCidr(subnet), Gateway: formatIp(subnet.base + 1) };
    }
    const options = { ...(req.Options ?? {}) };
    const rec = this.record(name, 'bridge', [pool], options, { ...(req.Labels ?? {}) }, !!req.Internal, '');
    rec.attachable = !!req.Attachable;
    rec.userSubnet = !!asked?.Subnet;
    rec.bridge = options[BRIDGE_NAME_OPT] || `br-${rec.id.slice(0, 12)}`;
    if (rec.bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(rec.bridge)) throw invalidArgument(`invalid bridge name "${rec.bridge}"`);
    if (this.deps.store.list().some((n) => n.bridge === rec.bridge)) throw conflict(`bridge name ${rec.bridge} is already in use`);
    this.deps.store.put(rec);
    try {
      await this.bringUp(rec);
      await this.syncFirewall();
    } catch (err) {
      this.deps.store.delete(rec.id);
      await this.dns.close(pool.Gateway).catch(() => undefined);
      await deleteLink(rec.bridge).catch(() => undefined);
      throw err;
    }
    this.deps.events.publish('network', 'create', rec.id, { name: rec.name, type: rec.driver });
    return { id: rec.id, warning: '' };
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (BUILTIN.includes(n.name)) throw new BerthError('Forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    const active = this.deps.store.endpoints({ networkId: n.id });
    if (active.length) {
      const who = active.map((e) => {
        const c = this.safeContainer(e.containerId);
        return `name:"${c?.name ?? ''}" id:"${e.containerId.slice(0, 12)}"`;
      });
      throw new BerthError('Forbidden', `error while removing network: network ${n.name} has active endpoints (${who.join(', ')})`);
    }
    this.deps.store.delete(n.id);
    if (this.hasDns(n)) await this.dns.close(n.ipam[0]!.Gateway).catch(() => undefined);
    await deleteLink(n.bridge);
    await this.syncFirewall();
    this.deps.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  async prune(filters: Map<string, string[]>): Promise<string[]> {
    const until = filters.get('until');
    const removed: string[] = [];
    for (const n of this.deps.store.list()) {
      if (BUILTIN.includes(n.name)) continue;
      if (this.deps.store.endpoints({ networkId: n.id }).length) continue;
      if (filters.has('label') && !matchesLabels(n.labels, filters.get('label')!)) continue;
      if (until?.length && Date.parse(n.created) >= Date.parse(until[0]!)) continue;
      await this.remove(n.id);
      removed.push(n.name);
    }
    return removed;
  }

  /** The containers with an endpoint on the network, for inspect. */
  members(n: NetworkRecord): Array<{ container: ContainerRecord | undefined; endpoint: Endpoint }> {
    return this.deps.store.endpoints({ networkId: n.id }).map((e) => ({ container: this.safeContainer(e.containerId), endpoint: e }));
  }

  private safeContainer(id: string): ContainerRecord | undefined {
    try {
      return this.deps.containers.get(id);
    } catch {
      return undefined;
    }
  }

  // ── containers ──

  /**
   * At create: the networks a container joins when it starts, checked now
   * (unknown network, --ip outside a user subnet, bad MAC) so a bad request
   * leaves no container behind.
   */
  plan(c: ContainerRecord, asked: Record<string, EndpointConfig> | null | undefined): void {
    const mode = this.modeNetwork(c.hostConfig.NetworkMode);
    c.hostConfig.NetworkMode = mode;
    const wanted: Record<string, EndpointConfig> = {};
    if (mode === 'none' || mode === 'host') {
      this.get(mode);
      if (Object.keys(asked ?? {}).some((k) => k !== mode && k !== 'default')) throw invalidArgument(`container cannot be disconnected from host network or connected to host network`);
      c.networks = { [mode]: {} };
      return;
    }
    if (mode.startsWith('container:')) throw invalidArgument('berthd does not support --network container:<name> yet');
    for (const [key, cfg] of Object.entries(asked ?? {})) wanted[key === 'default' ? mode : key] = cfg ?? {};
    if (!wanted[mode]) wanted[mode] = {};
    for (const [name, cfg] of Object.entries(wanted)) {
      const n = this.get(name);
      if (n.driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${n.name} and another network`);
      this.checkEndpointConfig(n, cfg);
    }
    const ordered: Record<string, EndpointConfig> = { [mode]: wanted[mode]! };
    for (const [k, v] of Object.entries(wanted)) if (k !== mode) ordered[k] = v;
    c.networks = ordered;
  }

  private checkEndpointConfig(n: NetworkRecord, cfg: EndpointConfig): void {
    const ip = cfg.IPAMConfig?.IPv4Address;
    if (ip) {
      if (n.name === 'bridge' || !n.userSubnet) throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets');
      const addr = parseIp(ip);
      if (addr === undefined) throw invalidArgument(`invalid IPv4 address: ${ip}`);
      if (!contains(parseCidr(n.ipam[0]!.Subnet)!, addr)) throw invalidArgument(`no configured subnet or ip-range contain the IP address ${ip}`);
    }
    if (cfg.MacAddress && !validMac(cfg.MacAddress)) throw invalidArgument(`invalid MAC address: ${cfg.MacAddress}`);
    if (cfg.Aliases?.length && n.name === 'bridge') throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
  }

  /**
   * The container's process exists (runc created it, it has not started):
   * an address and interface on each of its networks, its published ports,
   * its names in the networks' DNS, and its /etc/hosts and resolv.conf.
   */
  async attach(c: ContainerRecord, pid: number, dir: string): Promise<void> {
    const names = Object.keys(c.networks ?? { [this.modeNetwork(c.hostConfig.NetworkMode)]: {} });
    const first = names[0];
    if (!first || first === 'host' || first === 'none') {
      await this.writeEtc(c, dir, []);
      return;
    }
    const made: Endpoint[] = [];
    try {
      for (const [i, name] of names.entries()) made.push(await this.join(c, pid, this.get(name), c.networks?.[name] ?? {}, `eth${i}`, i === 0));
      const ports = await allocatePorts(
        c.id,
        made[0]!.ip,
        { bindings: (c.hostConfig.PortBindings ?? {}) as PortBindings, publishAll: !!c.hostConfig.PublishAllPorts, exposed: Object.keys(c.config.ExposedPorts ?? {}) },
        this.deps.store.ports().filter((p) => p.containerId !== c.id),
      );
      this.deps.store.deletePorts(c.id);
      if (ports.length) this.deps.store.putPorts(c.id, ports);
      if (ports.length) await this.syncFirewall();
      await this.writeEtc(c, dir, made);
    } catch (err) {
      await this.release(c.id);
      throw err;
    }
  }

  private async join(c: ContainerRecord, pid: number, n: NetworkRecord, cfg: EndpointConfig, ifname: string, primary: boolean): Promise<Endpoint> {
    if (n.driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${n.name} and another network`);
    const pool = n.ipam[0]!;
    const subnet = parseCidr(pool.Subnet)!;
    const used = new Set(this.deps.store.endpoints({ networkId: n.id }).map((e) => parseIp(e.ip)!));
    let ip: number | undefined;
    if (cfg.IPAMConfig?.IPv4Address) {
      ip = parseIp(cfg.IPAMConfig.IPv4Address)!;
      if (used.has(ip)) throw conflict(`Address already in use`);
    } else {
      ip = allocate(subnet, pool.IPRange ? parseCidr(pool.IPRange) : undefined, parseIp(pool.Gateway)!, used);
      if (ip === undefined) throw failedPrecondition(`no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`);
    }
    const endpoint: Endpoint = {
      id: randomBytes(32).toString('hex'),
      networkId: n.id,
      containerId: c.id,
      ifname,
      hostIf: `veth${createHash('sha256').update(`${c.id}/${n.id}`).digest('hex').slice(0, 11)}`,
      ip: formatIp(ip),
      prefixLen: subnet.prefix,
      gateway: n.internal ? '' : pool.Gateway,
      mac: cfg.MacAddress || macFor(ip),
      dnsNames: this.hasDns(n) ? [...new Set([c.name, ...(cfg.Aliases ?? []), c.id.slice(0, 12)])] : [],
    };
    this.deps.store.putEndpoint(endpoint);
    try {
      if (!linkExists(n.bridge)) await this.bringUp(n);
      await plumbAttach({
        pid,
        bridge: n.bridge,
        hostIf: endpoint.hostIf,
        ifname,
        mac: endpoint.mac,
        ip: endpoint.ip,
        prefixLen: endpoint.prefixLen,
        ...(primary && !n.internal ? { defaultGateway: pool.Gateway } : {}),
      });
    } catch (err) {
      this.deps.store.deleteEndpoint(endpoint.id);
      throw err;
    }
    this.deps.events.publish('network', 'connect', n.id, { container: c.id, name: n.name, type: n.driver });
    return endpoint;
  }

  /**
   * The container stopped (or is going): addresses, ports and names are
   * given back at once (before the returned promise is awaited); the links
   * and the firewall follow. Safe to call twice.
   */
  release(containerId: string): Promise<void> {
    const endpoints = this.deps.store.endpoints({ containerId });
    const hadPorts = this.deps.store.ports(containerId).length > 0;
    this.deps.store.deletePorts(containerId);
    for (const e of endpoints) {
      this.deps.store.deleteEndpoint(e.id);
      const n = this.deps.store.get(e.networkId);
      if (n) this.deps.events.publish('network', 'disconnect', n.id, { container: containerId, name: n.name, type: n.driver });
    }
    // The veth pairs go with the container's network namespace, which the kernel destroys when its last process ends.
    return hadPorts ? this.syncFirewall() : Promise.resolve();
  }

  /** docker network connect: recorded for the next start, and made now on a running container. */
  async connect(ref: string, containerRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const n = this.get(ref);
    const c = this.deps.containers.get(containerRef);
    const mode = this.modeNetwork(c.hostConfig.NetworkMode);
    if (n.driver !== 'bridge' || mode === 'host' || mode === 'none') throw invalidArgument(`container cannot be disconnected from host network or connected to host network`);
    if (c.networks?.[n.name] || this.deps.store.endpoints({ networkId: n.id, containerId: c.id }).length) {
      throw new BerthError('Forbidden', `endpoint with name ${c.name} already exists in network ${n.name}`);
    }
    this.checkEndpointConfig(n, cfg);
    if (c.state.Status === 'running' || c.state.Status === 'paused') {
      const current = this.deps.store.endpoints({ containerId: c.id });
      const ifname = `eth${nextIndex(current.map((e) => e.ifname))}`;
      const e = await this.join(c, c.state.Pid, n, cfg, ifname, current.length === 0);
      await this.writeEtc(c, this.dirOf(c), [...current, e]);
    }
    c.networks = { ...(c.networks ?? {}), [n.name]: cfg };
    this.deps.containers.save(c);
  }

  async disconnect(ref: string, containerRef: string, force = false): Promise<void> {
    const n = this.get(ref);
    let c: ContainerRecord;
    try {
      c = this.deps.containers.get(containerRef);
    } catch (err) {
      if (!force) throw err;
      // A forced disconnect of a container that is gone drops its endpoints by ID.
      for (const e of this.deps.store.endpoints({ networkId: n.id }).filter((x) => x.containerId.startsWith(containerRef))) this.deps.store.deleteEndpoint(e.id);
      return;
    }
    if (n.name === 'host' || n.name === 'none') throw invalidArgument('container cannot be disconnected from host network or connected to host network');
    const endpoints = this.deps.store.endpoints({ networkId: n.id, containerId: c.id });
    if (!c.networks?.[n.name] && !endpoints.length) throw new BerthError('Forbidden', `container ${c.id} is not connected to network ${n.name}`);
    for (const e of endpoints) {
      if (c.state.Pid) await plumbDetach(c.state.Pid, e.ifname);
      this.deps.store.deleteEndpoint(e.id);
      await deleteLink(e.hostIf);
      this.deps.events.publish('network', 'disconnect', n.id, { container: c.id, name: n.name, type: n.driver });
    }
    const rest = { ...(c.networks ?? {}) };
    delete rest[n.name];
    c.networks = rest;
    if (this.modeNetwork(c.hostConfig.NetworkMode) === n.name) c.hostConfig.NetworkMode = Object.keys(rest)[0] ?? 'none';
    this.deps.containers.save(c);
    if (c.state.Status === 'running') await this.writeEtc(c, this.dirOf(c), this.deps.store.endpoints({ containerId: c.id }));
  }

  private dirOf(c: ContainerRecord): string {
    return this.deps.containers.dir(c);
  }

  /** The container's endpoints now, by network name. */
  endpointsOf(containerId: string): Array<{ network: NetworkRecord; endpoint: Endpoint }> {
    return this.deps.store
      .endpoints({ containerId })
      .map((endpoint) => ({ network: this.deps.store.get(endpoint.networkId)!, endpoint }))
      .filter((x) => x.network)
      .sort((a, b) => a.endpoint.ifname.localeCompare(b.endpoint.ifname, undefined, { numeric: true }));
  }

  portsOf(containerId: string): PortMapping[] {
    return this.deps.store.ports(containerId);
  }

  /** The default bridge's gateway, which `host-gateway` in --add-host stands for. */
  hostGateway(): string | undefined {
    return this.deps.store.byName('bridge')?.ipam[0]?.Gateway;
  }

  // ── /etc files ──

  /**
   * /etc/hosts and /etc/resolv.conf, written in place (they are bind-mounted
   * files: a rename would leave the container with the old one).
   */
  async writeEtc(c: ContainerRecord, dir: string, endpoints: Endpoint[]): Promise<void> {
    const mode = this.modeNetwork(c.hostConfig.NetworkMode);
    const h = c.hostConfig;
    let hosts = mode === 'host' ? await fs.readFile('/etc/hosts', 'utf8').catch(() => HOSTS_BASE) : HOSTS_BASE;
    for (const extra of (h.ExtraHosts as string[] | null) ?? []) {
      const i = extra.indexOf(':');
      const name = extra.slice(0, i);
      let ip = extra.slice(i + 1);
      if (ip === 'host-gateway') ip = this.hostGateway() ?? '127.0.0.1';
      hosts += `${ip}\t${name}\n`;
    }
    const hostname = c.config.Domainname ? `${c.config.Hostname}.${c.config.Domainname} ${c.config.Hostname}` : c.config.Hostname;
    for (const e of endpoints) hosts += `${e.ip}\t${hostname}\n`;
    await fs.writeFile(join(dir, 'hosts'), hosts);
    const hostText = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const opts = {
      dns: (h.Dns as string[] | null) ?? [],
      dnsSearch: (h.DnsSearch as string[] | null) ?? [],
      dnsOptions: (h.DnsOptions as string[] | null) ?? [],
    };
    let resolv: string;
    if (mode === 'host') resolv = hostText;
    else {
      const dnsNet = endpoints.map((e) => this.deps.store.get(e.networkId)).find((n) => n && this.hasDns(n));
      resolv = dnsNet ? containerResolvConf(hostText, dnsNet.ipam[0]!.Gateway, opts) : defaultBridgeResolvConf(hostText, opts);
    }
    await fs.writeFile(join(dir, 'resolv.conf'), resolv);
  }

  // ── DNS ──

  private lookupName(scope: string, name: string): string[] | undefined {
    let want = name.toLowerCase().replace(/\.$/, '');
    // docker also answers for <name>.<network>.
    const suffix = `.${this.deps.store.get(scope)?.name.toLowerCase()}`;
    if (want.endsWith(suffix)) want = want.slice(0, -suffix.length);
    const ips = this.deps.store
      .endpoints({ networkId: scope })
      .filter((e) => e.dnsNames.some((d) => d.toLowerCase() === want))
      .map((e) => e.ip);
    return ips.length ? ips : undefined;
  }

  private lookupAddress(scope: string, ip: string): string | undefined {
    const e = this.deps.store.endpoints({ networkId: scope }).find((x) => x.ip === ip);
    if (!e) return undefined;
    const n = this.deps.store.get(scope);
    return n ? `${e.dnsNames[0]}.${n.name}` : e.dnsNames[0];
  }
}

function nextIndex(ifnames: string[]): number {
  const used = new Set(ifnames.map((n) => Number(n.replace(/^eth/, ''))));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}

/** The nftables table of a daemon: `berth` for the default data root, else one named after the data root. */
export function tableName(dataRoot: string): string {
  return dataRoot === '/var/lib/berth' ? 'berth' : `berth_${createHash('sha256').update(dataRoot).digest('hex').slice(0, 10)}`;
}

