/**
 * The embedded DNS server of user-defined networks. Containers on such a
 * network get the network's gateway as their nameserver; the server bound
 * there answers the names and aliases of the containers on that network
 * (and reverse lookups of their addresses) and forwards every other question
 * to upstream resolvers, as docker's embedded server at 127.0.0.11 does.
 *
 * One server object holds any number of listeners, one per gateway address;
 * each listener has a scope (the network) so a lookup only ever sees that
 * network's containers. Local answers are computed and sent synchronously in
 * the socket's event handler; only forwarding waits on anything.
 *
 * Behaviour beyond docker's, on purpose:
 * - A name we own asked for a type other than A/AAAA/ANY gets an empty
 *   answer instead of being forwarded, so container names never leak to the
 *   upstream resolvers and clients get a consistent "exists, no such data".
 * - Reverse names inside the network's own subnets are never forwarded: an
 *   unknown address there is NXDOMAIN, a partial name (a zone cut such as
 *   0.18.172.in-addr.arpa) an empty answer.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomFillSync } from 'node:crypto';
import { conflict, invalidArgument } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import {
  buildResponse,
  CLASS_IN,
  errorResponse,
  formatIPv6,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
  TYPE_PTR,
  writeIPv4,
  writeIPv6,
  parseQuery,
  type Query,
} from './dnswire.js';

export interface DnsServerOptions {
  /**
   * The addresses (IPv4 and/or IPv6 text) of the container or alias `name`
   * on network `scope`, or undefined when no container there answers to it.
   * `name` is lower-cased and has no trailing dot; matching is the caller's
   * (container names, aliases, `name.network` if it wants them). An empty
   * list means the name exists without addresses: an empty answer.
   */
  lookup: (scope: string, name: string) => readonly string[] | undefined;
  /**
   * The name of the container holding address `ip` on network `scope`, or
   * undefined. IPv4 in dotted quads, IPv6 in RFC 5952 form (lower case,
   * compressed).
   */
  reverse: (scope: string, ip: string) => string | undefined;
  /**
   * The resolvers to forward to for a client of network `scope` at address
   * `client`, in order: "ip", "ip:port" or "[ipv6]:port". The client address
   * lets the caller honour a container's own --dns servers.
   */
  upstreams: (scope: string, client: string) => readonly string[];
  log?: Logger;
  /** How long to wait for each upstream before trying the next (ms). Default 2000. */
  timeout?: number;
}

export interface ListenOptions {
  /**
   * The network's subnets (CIDR). Reverse lookups inside them are answered
   * here and never forwarded. Default: only the listen address itself.
   */
  subnets?: readonly string[];
  /**
   * Forward names that are not ours (default true). An internal network has
   * no way out, so like docker we answer SERVFAIL for them instead.
   */
  forward?: boolean;
}

interface Prefix {
  bytes: Uint8Array;
  bits: number;
}

interface Listener {
  scope: string;
  address: string;
  port: number;
  subnets: Prefix[];
  forward: boolean;
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
  /** Cancels each upstream exchange in flight. */
  pending: Set<() => void>;
  closed: boolean;
}

interface Upstream {
  host: string;
  port: number;
}

const DEFAULT_TIMEOUT = 2000;
/** Forwarded queries in flight across all listeners; beyond it queries get SERVFAIL at once. */
const MAX_INFLIGHT = 1024;
/** A TCP client connection idle this long is closed (ms). */
const TCP_IDLE = 10_000;
/** A TCP client may not hold more unanswered bytes than this. */
const TCP_MAX_BUFFERED = 2 * 65537;

export class DnsServer {
  private readonly opts: DnsServerOptions;
  private readonly listeners = new Map<string, Listener>();
  private readonly timeout: number;
  private inflight = 0;

  constructor(opts: DnsServerOptions) {
    this.opts = opts;
    this.timeout = opts.timeout ?? DEFAULT_TIMEOUT;
  }

  /**
   * Serves network `scope` on `address`:`port` over UDP and TCP. Resolves
   * once both sockets are bound; rejects (binding nothing) when either fails
   * or the address already has a listener. With port 0 the TCP socket takes
   * the port the kernel gave the UDP one.
   */
  async listen(scope: string, address: string, port = 53, options: ListenOptions = {}): Promise<void> {
    if (this.listeners.has(address)) throw conflict(`DNS server already listening on ${address}`, { address });
    const family = net.isIPv6(address) ? 6 : 4;
    const subnets = (options.subnets ?? [`${address}/${family === 6 ? 128 : 32}`]).map((cidr) => {
      const p = parsePrefix(cidr);
      if (!p) throw invalidArgument(`invalid subnet: ${cidr}`, { cidr });
      return p;
    });
    const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    const tcp = net.createServer();
    const l: Listener = {
      scope,
      address,
      port,
      subnets,
      forward: options.forward ?? true,
      udp,
      tcp,
      conns: new Set(),
      pending: new Set(),
      closed: false,
    };
    // Reserved before binding so a concurrent listen on the same address is refused.
    this.listeners.set(address, l);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      l.port = udp.address().port;
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port: l.port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.listeners.delete(address);
      l.closed = true;
      try {
        udp.close();
      } catch {
        // Never bound: nothing to close.
      }
      tcp.close();
      throw err;
    }
    udp.on('error', (err) => this.opts.log?.warn('dns: udp socket error', { address, error: err.message }));
    tcp.on('error', (err) => this.opts.log?.warn('dns: tcp socket error', { address, error: err.message }));
    udp.on('message', (msg, rinfo) => this.onUdp(l, msg, rinfo));
    tcp.on('connection', (sock) => this.onTcp(l, sock));
    this.opts.log?.debug('dns: listening', { scope, address, port: l.port });
  }

  /** Stops serving `address`: sockets closed, client connections dropped, forwards in flight abandoned. */
  async close(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    l.closed = true;
    for (const cancel of [...l.pending]) cancel();
    for (const sock of l.conns) sock.destroy();
    await Promise.all([
      new Promise<void>((resolve) => l.udp.close(() => resolve())),
      new Promise<void>((resolve) => l.tcp.close(() => resolve())),
    ]);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((a) => this.close(a)));
  }

  private onUdp(l: Listener, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const r = this.answer(l, msg, false);
    if (r === undefined) return;
    const reply = (out: Buffer) => {
      if (!l.closed) l.udp.send(out, rinfo.port, rinfo.address, ignore);
    };
    if (Buffer.isBuffer(r)) reply(r);
    else void this.forward(l, r, msg, false, rinfo.address).then(reply);
  }

  private onTcp(l: Listener, sock: net.Socket): void {
    if (l.closed) {
      sock.destroy();
      return;
    }
    l.conns.add(sock);
    sock.on('close', () => l.conns.delete(sock));
    sock.on('error', ignore);
    sock.setTimeout(TCP_IDLE, () => sock.destroy());
    const client = sock.remoteAddress ?? '';
    const reply = (out: Buffer) => {
      if (l.closed || sock.destroyed) return;
      const frame = Buffer.allocUnsafe(2 + out.length);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      sock.write(frame);
    };
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const r = this.answer(l, msg, true);
        if (r === undefined) continue;
        if (Buffer.isBuffer(r)) reply(r);
        else void this.forward(l, r, Buffer.from(msg), true, client).then(reply);
      }
      if (buf.length > TCP_MAX_BUFFERED) sock.destroy();
    });
  }

  /**
   * Decides a packet: the answer to send, the query when it must be
   * forwarded, or undefined when it gets no answer. Never throws: a failing
   * lookup callback is logged and answered SERVFAIL.
   */
  private answer(l: Listener, msg: Buffer, tcp: boolean): Buffer | Query | undefined {
    const p = parseQuery(msg);
    if (p === undefined) return undefined;
    if (!p.ok) return errorResponse(p.id, p.flags, p.rcode);
    const q = p.query;
    const max = tcp ? 65535 : q.udpSize;
    if (q.opcode !== 0) return buildResponse(q, RCODE_NOTIMP, false, max);
    try {
      return this.resolve(l, q, max);
    } catch (err) {
      this.opts.log?.error('dns: lookup failed', { name: q.name, error: err instanceof Error ? err.message : String(err) });
      return buildResponse(q, RCODE_SERVFAIL, false, max);
    }
  }

  private resolve(l: Listener, q: Query, max: number): Buffer | Query {
    if (q.qclass !== CLASS_IN || !q.plain || q.name === '') return this.notOurs(l, q, max);
    if (q.name.endsWith('.arpa')) {
      const rev = parseReverse(q.name);
      if (rev) {
        const inSubnet = l.subnets.some((s) => within(rev, s));
        if (rev.ip !== undefined) {
          const host = this.opts.reverse(l.scope, rev.ip);
          if (host !== undefined) {
            const wanted = q.qtype === TYPE_PTR || q.qtype === TYPE_ANY;
            return buildResponse(q, RCODE_NOERROR, true, max, wanted ? TYPE_PTR : 0, [host]);
          }
          if (inSubnet) return buildResponse(q, RCODE_NXDOMAIN, true, max);
        } else if (inSubnet) {
          return buildResponse(q, RCODE_NOERROR, true, max);
        }
        return this.notOurs(l, q, max);
      }
    }
    const addrs = this.opts.lookup(l.scope, q.name);
    if (addrs === undefined) return this.notOurs(l, q, max);
    const rtype = q.qtype === TYPE_A || q.qtype === TYPE_AAAA || q.qtype === TYPE_ANY ? q.qtype : 0;
    return buildResponse(q, RCODE_NOERROR, true, max, rtype, addrs);
  }

  private notOurs(l: Listener, q: Query, max: number): Buffer | Query {
    return l.forward ? q : buildResponse(q, RCODE_SERVFAIL, false, max);
  }

  /**
   * Forwards the query bytes to each upstream in turn (same transport as the
   * client used) until one answers with something other than SERVFAIL or
   * REFUSED, and returns that answer carrying the client's ID. The upstream
   * sees a fresh random ID, from a fresh socket, so a reply can only be
   * matched by someone who saw the query. SERVFAIL when none answers.
   */
  private async forward(l: Listener, q: Query, raw: Buffer, tcp: boolean, client: string): Promise<Buffer> {
    const max = tcp ? 65535 : q.udpSize;
    const servfail = () => buildResponse(q, RCODE_SERVFAIL, false, max);
    let list: Upstream[];
    try {
      list = this.opts.upstreams(l.scope, client).flatMap((s) => {
        const u = parseUpstream(s);
        return u && !this.isSelf(u) ? [u] : [];
      });
    } catch (err) {
      this.opts.log?.error('dns: upstreams failed', { error: err instanceof Error ? err.message : String(err) });
      return servfail();
    }
    if (list.length === 0 || this.inflight >= MAX_INFLIGHT) return servfail();
    this.inflight++;
    try {
      const out = Buffer.from(raw);
      for (const u of list) {
        if (l.closed) break;
        const id = randomId();
        out.writeUInt16BE(id, 0);
        const res = await (tcp ? this.exchangeTcp(l, u, out, id) : this.exchangeUdp(l, u, out, id));
        if (res === undefined) {
          this.opts.log?.debug('dns: upstream gave no answer', { upstream: u.host, port: u.port, name: q.name });
          continue;
        }
        const rcode = res[3]! & 0xf;
        if (rcode === RCODE_SERVFAIL || rcode === RCODE_REFUSED) continue;
        res.writeUInt16BE(q.id, 0);
        return res;
      }
      return servfail();
    } finally {
      this.inflight--;
    }
  }

  /** A forward loop to ourselves would only burn the timeout. */
  private isSelf(u: Upstream): boolean {
    const l = this.listeners.get(u.host);
    return l !== undefined && l.port === u.port;
  }

  /** One UDP exchange with `u`: the first response bearing `id`, or undefined on timeout or error. */
  private exchangeUdp(l: Listener, u: Upstream, msg: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (res: Buffer | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        l.pending.delete(cancel);
        try {
          sock.close();
        } catch {
          // Already closed after an error.
        }
        resolve(res);
      };
      const cancel = () => finish(undefined);
      const timer = setTimeout(cancel, this.timeout);
      l.pending.add(cancel);
      sock.on('error', cancel);
      sock.on('message', (m) => {
        if (m.length >= 12 && m.readUInt16BE(0) === id && m[2]! & 0x80) finish(m);
      });
      // A connected socket only receives datagrams from the upstream's address and port.
      sock.connect(u.port, u.host, () => sock.send(msg, (err) => err && cancel()));
    });
  }

  /** One TCP exchange with `u` (2-byte length framing both ways): its response, or undefined. */
  private exchangeTcp(l: Listener, u: Upstream, msg: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: u.host, port: u.port });
      let done = false;
      let buf: Buffer = Buffer.alloc(0);
      const finish = (res: Buffer | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        l.pending.delete(cancel);
        sock.destroy();
        resolve(res);
      };
      const cancel = () => finish(undefined);
      const timer = setTimeout(cancel, this.timeout);
      l.pending.add(cancel);
      sock.on('error', cancel);
      sock.on('close', cancel);
      sock.on('connect', () => {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(msg.length, 0);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        const m = Buffer.from(buf.subarray(2, 2 + n));
        finish(m.length >= 12 && m.readUInt16BE(0) === id && m[2]! & 0x80 ? m : undefined);
      });
    });
  }
}

function ignore(): void {}

const idPool = new Uint16Array(256);
let idNext = idPool.length;

/** Unpredictable query IDs for upstream queries, drawn from a pool refilled in bulk. */
function randomId(): number {
  if (idNext === idPool.length) {
    randomFillSync(idPool);
    idNext = 0;
  }
  return idPool[idNext++]!;
}

/** "ip", "ip:port", "[ipv6]" or "[ipv6]:port" (an IPv6 zone allowed); undefined when unusable. */
export function parseUpstream(s: string): Upstream | undefined {
  let host = s.trim();
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (host.indexOf(':') > 0 && host.indexOf(':') === host.lastIndexOf(':')) {
    const i = host.indexOf(':');
    port = Number(host.slice(i + 1));
    host = host.slice(0, i);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return net.isIP(host.split('%')[0]!) ? { host, port } : undefined;
}

interface Reverse {
  /** Address bytes (4 or 16), significant up to `bits`. */
  bytes: Uint8Array;
  bits: number;
  /** The address in text when the name names a whole one. */
  ip?: string;
}

const IN_ADDR = '.in-addr.arpa';
const IP6 = '.ip6.arpa';

/**
 * Reads a reverse-lookup name: d.c.b.a.in-addr.arpa (1 to 4 decimal labels)
 * or nibbles.ip6.arpa (1 to 32 hex digits). Undefined for anything else.
 */
export function parseReverse(name: string): Reverse | undefined {
  if (name.endsWith(IN_ADDR)) {
    const labels = name.slice(0, -IN_ADDR.length).split('.');
    if (labels.length > 4) return undefined;
    const bytes = new Uint8Array(4);
    for (let i = 0; i < labels.length; i++) {
      const l = labels[labels.length - 1 - i]!;
      if (!/^(0|[1-9]\d{0,2})$/.test(l) || Number(l) > 255) return undefined;
      bytes[i] = Number(l);
    }
    const bits = labels.length * 8;
    return bits === 32 ? { bytes, bits, ip: bytes.join('.') } : { bytes, bits };
  }
  if (name.endsWith(IP6)) {
    const labels = name.slice(0, -IP6.length).split('.');
    if (labels.length > 32) return undefined;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < labels.length; i++) {
      const l = labels[labels.length - 1 - i]!;
      if (!/^[0-9a-f]$/.test(l)) return undefined;
      bytes[i >> 1]! |= parseInt(l, 16) << (i & 1 ? 0 : 4);
    }
    const bits = labels.length * 4;
    return bits === 128 ? { bytes, bits, ip: formatIPv6(bytes) } : { bytes, bits };
  }
  return undefined;
}

/** Reads "address/bits" (bits optional: a host prefix). */
function parsePrefix(cidr: string): Prefix | undefined {
  const [addr = '', len] = cidr.split('/');
  const v6 = addr.includes(':');
  const bytes = new Uint8Array(v6 ? 16 : 4);
  if (!(v6 ? writeIPv6(addr, bytes, 0) : writeIPv4(addr, bytes, 0))) return undefined;
  const bits = len === undefined ? bytes.length * 8 : Number(len);
  if (!/^\d+$/.test(len ?? '0') || bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

/** The reverse name lies inside the prefix: same family, at least as specific, same leading bits. */
function within(r: Reverse, p: Prefix): boolean {
  if (r.bytes.length !== p.bytes.length || r.bits < p.bits) return false;
  for (let bit = 0; bit < p.bits; bit += 8) {
    const take = Math.min(8, p.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((r.bytes[bit >> 3]! & mask) !== (p.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

// ---- resolv.conf ----

export interface ResolvOptions {
  /** --dns: nameservers chosen by the user. */
  dns?: readonly string[];
  /** --dns-search: search domains; ['.'] means none. */
  dnsSearch?: readonly string[];
  /** --dns-option: resolver options, replacing the host's. */
  dnsOptions?: readonly string[];
}

interface HostResolv {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Reads the parts of a resolv.conf we carry over. The last search/domain line wins, as in glibc. */
function readResolvConf(text: string): HostResolv {
  const out: HostResolv = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const [key, ...args] = line.split(/\s+/);
    if (key === 'nameserver' && args[0] !== undefined && net.isIP(args[0].split('%')[0]!)) out.nameservers.push(args[0]);
    else if (key === 'search' || key === 'domain') out.search = args;
    else if (key === 'options') out.options.push(...args);
  }
  return out;
}

/**
 * The nameservers of a resolv.conf (IPv4 and IPv6, zones kept), in order.
 * Loopback ones stay: the embedded server runs in the host's network
 * namespace, where the host's local resolver is reachable.
 */
export function hostResolvers(resolvConfText: string): string[] {
  return readResolvConf(resolvConfText).nameservers;
}

/**
 * Where the embedded server forwards a container's unknown names: its --dns
 * servers when it has any, else the host's. Docker does the same: a
 * container on a user-defined network gets the embedded server as its only
 * nameserver, and its --dns servers become that server's upstreams.
 */
export function containerUpstreams(hostText: string, opts: ResolvOptions = {}): string[] {
  return opts.dns && opts.dns.length > 0 ? [...opts.dns] : hostResolvers(hostText);
}

function searchAndOptions(host: HostResolv, opts: ResolvOptions): { search: string[]; options: string[] } {
  let search = opts.dnsSearch && opts.dnsSearch.length > 0 ? [...opts.dnsSearch] : host.search;
  if (search.length === 1 && search[0] === '.') search = [];
  const options = opts.dnsOptions && opts.dnsOptions.length > 0 ? [...opts.dnsOptions] : host.options;
  return { search, options };
}

function render(header: string[], nameservers: readonly string[], search: string[], options: string[]): string {
  const lines = [...header, ...nameservers.map((ns) => `nameserver ${ns}`)];
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * /etc/resolv.conf of a container on a user-defined network: the embedded
 * server (`nameserverIp`, the network's gateway) as the only nameserver,
 * search domains and options from the host unless --dns-search/--dns-option
 * give them. `ndots:0` is added unless an ndots option is already there, as
 * docker does, so a bare container name is tried as-is before any search
 * domain. --dns servers do not appear here: they are the embedded server's
 * upstreams for this container (see containerUpstreams); the comment line
 * records them for whoever reads the file.
 */
export function containerResolvConf(hostText: string, nameserverIp: string, opts: ResolvOptions = {}): string {
  const host = readResolvConf(hostText);
  const { search, options } = searchAndOptions(host, opts);
  const withNdots = options.some((o) => o.startsWith('ndots:')) ? options : [...options, 'ndots:0'];
  const upstreams = containerUpstreams(hostText, opts);
  const source = opts.dns && opts.dns.length > 0 ? '--dns' : 'host';
  const header = [`# Embedded DNS server of the network; it forwards other names to: ${upstreams.join(' ') || '(none)'} (${source})`];
  return render(header, [nameserverIp], search, withNdots);
}

const FALLBACK_V4 = ['8.8.8.8', '8.8.4.4'];
const FALLBACK_V6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

/** 127.0.0.0/8 and ::1: resolvers the container's own network namespace cannot reach. */
function isLoopback(ns: string): boolean {
  const addr = ns.split('%')[0]!;
  if (net.isIPv4(addr)) return addr.startsWith('127.');
  const bytes = new Uint8Array(16);
  return writeIPv6(addr, bytes, 0) && bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/**
 * /etc/resolv.conf of a container on the default bridge, which has no
 * embedded server: --dns servers if given, else the host's nameservers minus
 * loopback ones (unreachable from the container) and, without IPv6, minus
 * IPv6 ones; when none remain, Google's public resolvers as docker falls
 * back to (the IPv6 pair too when `ipv6`). Search and options as for
 * containerResolvConf, without ndots:0.
 */
export function defaultBridgeResolvConf(hostText: string, opts: ResolvOptions & { ipv6?: boolean } = {}): string {
  const host = readResolvConf(hostText);
  const { search, options } = searchAndOptions(host, opts);
  let nameservers: string[];
  if (opts.dns && opts.dns.length > 0) {
    nameservers = [...opts.dns];
  } else {
    nameservers = host.nameservers.filter((ns) => !isLoopback(ns) && (opts.ipv6 || !ns.includes(':')));
    if (nameservers.length === 0) nameservers = opts.ipv6 ? [...FALLBACK_V4, ...FALLBACK_V6] : [...FALLBACK_V4];
  }
  return render([], nameservers, search, options);
}
