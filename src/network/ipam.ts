/**
 * IPv4 address arithmetic and allocation: subnets as CIDR strings, addresses
 * as 32-bit numbers. Allocation is first-free after the gateway, so
 * addresses are stable and predictable (docker hands out .2, .3, ... too).
 */
import { invalidArgument } from '../lib/errors.js';

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** A CIDR; the base is the network address (host bits cleared), as docker normalises it. */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  return { base: (ip & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function broadcast(c: Cidr): number {
  return (c.base + size(c) - 1) >>> 0;
}

/** The pools berthd picks subnets from when the user names none: docker's defaults. */
export function* defaultPools(): Generator<Cidr> {
  for (let second = 17; second <= 31; second++) yield { base: parseIp(`172.${second}.0.0`)!, prefix: 16 };
  for (let third = 0; third < 256; third += 16) yield { base: parseIp(`192.168.${third}.0`)!, prefix: 20 };
}

/** The first default pool that overlaps none of the given subnets. */
export function pickSubnet(taken: Cidr[]): Cidr {
  for (const pool of defaultPools()) if (!taken.some((t) => overlaps(t, pool))) return pool;
  throw invalidArgument('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/**
 * The next free address for a container: inside the range (the subnet when no
 * range), never the network, broadcast or gateway address, nor one in use.
 */
export function allocate(subnet: Cidr, range: Cidr | undefined, gateway: number, used: Set<number>): number | undefined {
  const pool = range ?? subnet;
  const first = pool.base;
  const last = broadcast(pool);
  for (let ip = first; ip <= last; ip++) {
    if (ip === subnet.base || ip === broadcast(subnet) || ip === gateway || used.has(ip)) continue;
    return ip;
  }
  return undefined;
}

/** docker's MAC for an address: 02:42 followed by the four bytes of the IPv4 address. */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export function validMac(s: string): boolean {
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(s);
}
