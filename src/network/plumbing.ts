/**
 * Links, addresses and routes of bridge networks, through rtnetlink from
 * Berth's native module (lib/sys.ts): no process is spawned. A container's
 * veth pair is created with its inner end already in the container's network
 * namespace (the one runc made, reached through the init's PID); the host's
 * end becomes a port of the network's bridge. When the container ends, the
 * kernel destroys its namespace with the inner end, which takes the host's
 * end along.
 */
import { existsSync, promises as fs } from 'node:fs';
import { errnoCode, internal } from '../lib/errors.js';
import * as sys from '../lib/sys.js';

/** The native error as an Internal one, its errno name kept as context. */
function wrap(err: unknown): unknown {
  return err instanceof Error ? internal(err.message, { code: errnoCode(err) }, err) : err;
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

async function sysctl(path: string, value: string): Promise<void> {
  const current = await fs.readFile(path, 'utf8').catch(() => undefined);
  if (current?.trim() !== value) await fs.writeFile(path, value);
}

/**
 * The bridge up with its gateway address. Loopback traffic to published
 * ports is routed to it (route_localnet), and the host forwards packets.
 */
export async function ensureBridge(name: string, gateway: string, prefixLen: number): Promise<void> {
  await sys.ensureBridge(name, gateway, prefixLen).catch((err: unknown) => {
    throw wrap(err);
  });
  await sysctl(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
  await sysctl('/proc/sys/net/ipv4/ip_forward', '1');
}

/** Deletes a link of the host; one that is already gone is no error. */
export async function deleteLink(name: string): Promise<void> {
  await sys.deleteLink(name).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENODEV') throw wrap(err);
  });
}

export interface Attachment {
  /** The container's init: its network namespace is the one joined. */
  pid: number;
  bridge: string;
  hostIf: string;
  ifname: string;
  mac: string;
  ip: string;
  prefixLen: number;
  /** Set when this network carries the container's default route. */
  defaultGateway?: string;
}

export async function attach(a: Attachment): Promise<void> {
  await sys.attachVeth({ hostIf: a.hostIf, peer: a.ifname, mac: a.mac, pid: a.pid, bridge: a.bridge }).catch((err: unknown) => {
    throw wrap(err);
  });
  try {
    await sys.configureInterface(a.pid, { ifname: a.ifname, address: a.ip, prefixLen: a.prefixLen, gateway: a.defaultGateway });
  } catch (err) {
    await deleteLink(a.hostIf).catch(() => undefined);
    throw wrap(err);
  }
}

/**
 * Takes an interface out of a running container (its veth peer on the host
 * goes with it). A container that has ended, or an interface already gone,
 * leaves nothing to do.
 */
export async function detach(pid: number, ifname: string): Promise<void> {
  await sys.deleteLink(ifname, pid).catch((err: unknown) => {
    const code = errnoCode(err);
    if (code !== 'ENODEV' && code !== 'ENOENT' && code !== 'ESRCH') throw wrap(err);
  });
}
