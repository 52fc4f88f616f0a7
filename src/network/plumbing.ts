/**
 * Links, addresses and routes, through iproute2: one `ip -batch` per side
 * (the host, then the container's namespace entered with nsenter), so
 * attaching a container costs two short processes whatever the number of
 * steps. The container's namespace is the one runc created for it; it is
 * reached through the init's PID, and when the container ends the kernel
 * destroys it with the container's end of the veth pair, which takes the
 * host's end along.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { BerthError } from '../lib/errors.js';

export interface Runner {
  (cmd: string, args: string[], input?: string): Promise<void>;
}

/** Runs a command, failing with its stderr. */
export const run: Runner = (cmd, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new BerthError('Internal', `${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new BerthError('Internal', `${cmd} ${args.join(' ')}: ${err.trim() || `exit status ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

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
export async function ensureBridge(name: string, gateway: string, prefixLen: number, runner: Runner = run): Promise<void> {
  if (!linkExists(name)) await runner('ip', ['-batch', '-'], `link add ${name} type bridge\n`).catch((err: unknown) => {
    if (!linkExists(name)) throw err;
  });
  // -force: carries on past "File exists" when the address is already there.
  await runner('ip', ['-force', '-batch', '-'], `addr add ${gateway}/${prefixLen} dev ${name}\nlink set ${name} up\n`).catch(() => undefined);
  await sysctl(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
  await sysctl('/proc/sys/net/ipv4/ip_forward', '1');
}

export async function deleteLink(name: string, runner: Runner = run): Promise<void> {
  if (linkExists(name)) await runner('ip', ['link', 'del', name]).catch(() => undefined);
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

export async function attach(a: Attachment, runner: Runner = run): Promise<void> {
  await runner(
    'ip',
    ['-batch', '-'],
    [
      `link add ${a.hostIf} type veth peer name ${a.ifname} address ${a.mac} netns ${a.pid}`,
      `link set ${a.hostIf} master ${a.bridge}`,
      // A container reaches its own published ports through the bridge and back.
      `link set ${a.hostIf} type bridge_slave hairpin on`,
      `link set ${a.hostIf} up`,
      '',
    ].join('\n'),
  );
  const inside = [`addr add ${a.ip}/${a.prefixLen} dev ${a.ifname}`, `link set ${a.ifname} up`];
  if (a.defaultGateway) inside.push(`route add default via ${a.defaultGateway} dev ${a.ifname}`);
  try {
    await runner('nsenter', ['-t', String(a.pid), '-n', 'ip', '-batch', '-'], `${inside.join('\n')}\n`);
  } catch (err) {
    await deleteLink(a.hostIf, runner);
    throw err;
  }
}

/** Takes an interface out of a running container (its veth peer on the host goes with it). */
export async function detach(pid: number, ifname: string, runner: Runner = run): Promise<void> {
  await runner('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'del', ifname]).catch(() => undefined);
}
