/**
 * Published ports: from docker's PortBindings (and -P's exposed ports) to
 * the host ports in force. A port is free when no container holds it and no
 * host process listens on it; ephemeral ports come from the kernel's local
 * port range, as docker takes them.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { PortMapping } from '../core/networks.js';
import { conflict, invalidArgument } from '../lib/errors.js';

export type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

type Proto = PortMapping['protocol'];

export function parsePortKey(key: string): { port: number; protocol: Proto } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw invalidArgument(`invalid port specification: "${key}"`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw invalidArgument(`invalid port specification: "${key}"`);
  return { port, protocol: (m[2] ?? 'tcp') as Proto };
}

function hostRange(spec: string | undefined): [number, number] | undefined {
  if (!spec || spec === '0') return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) throw invalidArgument(`invalid hostPort: ${spec}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || hi < lo) throw invalidArgument(`invalid hostPort: ${spec}`);
  return [lo, hi];
}

export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    // the kernel's default range below
  }
  return [32768, 60999];
}

/** Whether a host process could take the port: try to bind it for a moment. */
export function hostPortFree(protocol: Proto, hostIp: string, port: number): Promise<boolean> {
  const address = hostIp || '0.0.0.0';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, address, () => s.close(() => resolve(true)));
    } else if (protocol === 'tcp') {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ port, host: address, exclusive: true }, () => s.close(() => resolve(true)));
    } else {
      resolve(true);
    }
  });
}

const wildcard = (ip: string) => ip === '' || ip === '0.0.0.0';

/** Two bindings clash when protocol and port match and either is on every address or both on the same one. */
function clashes(a: { protocol: Proto; hostIp: string; hostPort: number }, b: { protocol: Proto; hostIp: string; hostPort: number }): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (wildcard(a.hostIp) || wildcard(b.hostIp) || a.hostIp === b.hostIp);
}

export interface PortRequest {
  bindings: PortBindings;
  publishAll: boolean;
  exposed: string[];
}

/**
 * The mappings for one container. `inUse`: mappings other containers hold.
 * IPv6 host addresses are skipped (the networks here are IPv4 only).
 */
export async function allocatePorts(
  containerId: string,
  ip: string,
  req: PortRequest,
  inUse: PortMapping[],
  free: typeof hostPortFree = hostPortFree,
): Promise<PortMapping[]> {
  const wanted: Array<{ key: string; hostIp: string; range: [number, number] | undefined }> = [];
  for (const [key, list] of Object.entries(req.bindings ?? {})) {
    for (const b of list?.length ? list : [{}]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp.includes(':')) continue;
      wanted.push({ key, hostIp, range: hostRange(b.HostPort) });
    }
  }
  if (req.publishAll) {
    for (const key of req.exposed) if (!(key in (req.bindings ?? {}))) wanted.push({ key, hostIp: '', range: undefined });
  }
  const out: PortMapping[] = [];
  const taken = [...inUse];
  const [elo, ehi] = ephemeralRange();
  for (const w of wanted) {
    const { port, protocol } = parsePortKey(w.key);
    const [lo, hi] = w.range ?? [elo, ehi];
    let chosen: number | undefined;
    for (let p = lo; p <= hi && chosen === undefined; p++) {
      const candidate = { protocol, hostIp: w.hostIp, hostPort: p };
      if (taken.some((t) => clashes(t, candidate))) continue;
      if (await free(protocol, w.hostIp, p)) chosen = p;
    }
    if (chosen === undefined) {
      const where = `${w.hostIp || '0.0.0.0'}:${w.range ? (w.range[0] === w.range[1] ? w.range[0] : `${w.range[0]}-${w.range[1]}`) : ''}`;
      throw conflict(`Bind for ${where} failed: port is already allocated`);
    }
    const m: PortMapping = { containerId, ip, protocol, containerPort: port, hostIp: w.hostIp || '0.0.0.0', hostPort: chosen };
    out.push(m);
    taken.push(m);
  }
  return out;
}
