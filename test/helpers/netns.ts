/**
 * A network namespace joined to the host by a veth pair on a private /30 of
 * 10.231.0.0/16, made for one test and removed by it: the way to reach a
 * server on an address that is not loopback without sending anything past
 * this machine.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

export interface Netns {
  name: string;
  /** The host's end of the veth pair. */
  hostIf: string;
  hostIp: string;
  /** The address inside the namespace. */
  nsIp: string;
  /** Runs a command inside the namespace: the argv to spawn. */
  exec(argv: string[]): string[];
  /** Deletes the namespace and the veth pair; safe to call twice. */
  remove(): void;
}

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Every IPv4 prefix the host routes or holds, in any table, but the default route. */
function hostPrefixes(): Array<{ net: string; prefix: number }> {
  const out: Array<{ net: string; prefix: number }> = [];
  const text = ip(['-4', 'route', 'show', 'table', 'all']) + ip(['-4', '-o', 'addr', 'show']);
  for (const m of text.matchAll(/(?:^|\s)((?:\d{1,3}\.){3}\d{1,3})(?:\/(\d{1,2}))?(?=\s)/g)) {
    if (isIP(m[1]!) === 4) out.push({ net: m[1]!, prefix: m[2] !== undefined ? Number(m[2]) : 32 });
  }
  return out;
}

/** A /30 of 10.231.0.0/16 that overlaps nothing the host routes or holds. */
function freeSubnet(): number {
  const taken = hostPrefixes();
  for (let tries = 0; tries < 64; tries++) {
    const n = randomInt(1, 255);
    const mine = new BlockList();
    mine.addSubnet(`10.231.${n}.0`, 30, 'ipv4');
    const clash = taken.some(({ net, prefix }) => {
      if (prefix === 0) return false;
      const theirs = new BlockList();
      theirs.addSubnet(net, prefix, 'ipv4');
      return mine.check(net) || theirs.check(`10.231.${n}.0`) || theirs.check(`10.231.${n}.3`);
    });
    if (!clash) return n;
  }
  throw new Error('no free /30 in 10.231.0.0/16');
}

export function createNetns(prefix = 'berth-tls'): Netns {
  const id = randomBytes(3).toString('hex');
  const n = freeSubnet();
  const ns: Netns = {
    name: `${prefix}-${id}`,
    hostIf: `btls${id}`,
    hostIp: `10.231.${n}.1`,
    nsIp: `10.231.${n}.2`,
    exec: (argv) => ['ip', 'netns', 'exec', ns.name, ...argv],
    remove: () => {
      spawnSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      spawnSync('ip', ['link', 'del', ns.hostIf], { stdio: 'ignore' });
    },
  };
  const peer = `btlp${id}`;
  try {
    ip(['netns', 'add', ns.name]);
    ip(['link', 'add', ns.hostIf, 'type', 'veth', 'peer', 'name', peer, 'netns', ns.name]);
    ip(['addr', 'add', `${ns.hostIp}/30`, 'dev', ns.hostIf]);
    ip(['link', 'set', ns.hostIf, 'up']);
    ip(['-n', ns.name, 'addr', 'add', `${ns.nsIp}/30`, 'dev', peer]);
    ip(['-n', ns.name, 'link', 'set', peer, 'up']);
    ip(['-n', ns.name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    ns.remove();
    throw err;
  }
  return ns;
}
