/**
 * The plumbing against the real kernel: a network namespace of the test's
 * own (held by `unshare -n sleep`), a bridge of its own with a private /24,
 * veth pairs between them, checked with `ip -j` on both sides. No traffic is
 * sent anywhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { isKind } from '../lib/errors.js';
import * as sys from '../lib/sys.js';
import { attach, deleteLink, detach, ensureBridge, linkExists, type Attachment } from './plumbing.js';

const root = process.getuid?.() === 0;
const skip = root ? false : 'needs root';

const tag = randomBytes(3).toString('hex');
const bridge = `btst${tag}`;
const hostIf = (n: number) => `vtst${tag}${n}`;
let holder: ChildProcess | undefined;
let pid = 0;
let net = '';

interface Link {
  ifname: string;
  flags: string[];
  master?: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number; broadcast?: string }[];
  linkinfo?: { info_slave_data?: { hairpin?: boolean } };
}

function ipJson<T>(args: string[], inside = false): T {
  const cmd = inside ? ['nsenter', '-t', String(pid), '-n', 'ip', '-j', ...args] : ['ip', '-j', ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout || '[]') as T;
}

const links = (inside: boolean) => ipJson<Link[]>(['link', 'show'], inside).map((l) => l.ifname);

/** A /24 in 10.0.0.0/8 that no address or route of the host covers. */
function freeSubnet(): string {
  const taken = ipJson<{ dst: string }[]>(['-4', 'route', 'show', 'table', 'all']).map((r) => r.dst);
  const local = ipJson<Link[]>(['-4', 'addr', 'show']).flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
  for (;;) {
    const net = `10.${250 + Math.floor(Math.random() * 5)}.${Math.floor(Math.random() * 256)}`;
    if (!taken.some((d) => d.startsWith(`${net}.`) || d === '10.0.0.0/8') && !local.some((a) => a.startsWith(`${net}.`))) return net;
  }
}

function netAttachment(n: number, over: Partial<Attachment> = {}): Attachment {
  return {
    pid,
    bridge,
    hostIf: hostIf(n),
    ifname: `eth${n}`,
    mac: `02:42:0a:fe:00:${(n + 2).toString(16).padStart(2, '0')}`,
    ip: `${net}.${n + 2}`,
    prefixLen: 24,
    defaultGateway: `${net}.1`,
    ...over,
  };
}

/** The code of a plumbing error: its Internal context keeps the native errno name. */
function codeOf(err: unknown): unknown {
  return isKind(err, 'Internal') ? err.context.code : undefined;
}

before(async () => {
  if (!root) return;
  net = freeSubnet();
  holder = spawn('unshare', ['-n', 'sleep', '300'], { stdio: 'ignore' });
  pid = holder.pid!;
  const own = readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 200; i++) {
    const ns = (() => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        return own;
      }
    })();
    if (ns !== own) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('unshare -n did not make a network namespace');
});

after(() => {
  holder?.kill('SIGKILL');
  for (let n = 0; n < 10; n++) if (linkExists(hostIf(n))) spawnSync('ip', ['link', 'del', hostIf(n)]);
  if (linkExists(bridge)) spawnSync('ip', ['link', 'del', bridge]);
});

test('ensureBridge makes the bridge, up, with the gateway address; a second call keeps it', { skip }, async () => {
  await ensureBridge(bridge, `${net}.1`, 24);
  await ensureBridge(bridge, `${net}.1`, 24);
  const [l] = ipJson<Link[]>(['-d', 'addr', 'show', 'dev', bridge]);
  assert.ok(l!.flags.includes('UP'), JSON.stringify(l!.flags));
  assert.deepEqual(
    l!.addr_info!.filter((a) => a.family === 'inet').map((a) => [a.local, a.prefixlen, a.broadcast]),
    [[`${net}.1`, 24, `${net}.255`]],
  );
});

test('attach puts the host end on the bridge and configures the container end', { skip }, async () => {
  const a = netAttachment(0);
  await attach(a);
  const [host] = ipJson<Link[]>(['-d', 'link', 'show', 'dev', a.hostIf]);
  assert.equal(host!.master, bridge);
  assert.equal(host!.linkinfo?.info_slave_data?.hairpin, true);
  assert.ok(host!.flags.includes('UP'), JSON.stringify(host!.flags));

  const [inner] = ipJson<Link[]>(['addr', 'show', 'dev', 'eth0'], true);
  assert.equal(inner!.address, a.mac);
  assert.ok(inner!.flags.includes('UP'), JSON.stringify(inner!.flags));
  assert.deepEqual(
    inner!.addr_info!.filter((x) => x.family === 'inet').map((x) => [x.local, x.prefixlen, x.broadcast]),
    [[a.ip, 24, `${net}.255`]],
  );
  const routes = ipJson<{ dst: string; gateway?: string; dev: string }[]>(['route', 'show', 'default'], true);
  assert.deepEqual(routes.map((r) => [r.dst, r.gateway, r.dev]), [['default', a.defaultGateway, 'eth0']]);
});

test('a second network has no default route; deleteLink on the host takes both ends', { skip }, async () => {
  const a = netAttachment(1, { defaultGateway: undefined });
  await attach(a);
  assert.ok(links(true).includes('eth1'));
  assert.equal(ipJson<unknown[]>(['route', 'show', 'default', 'dev', 'eth1'], true).length, 0);
  await deleteLink(a.hostIf);
  assert.ok(!linkExists(a.hostIf));
  assert.ok(!links(true).includes('eth1'));
  await deleteLink(a.hostIf);
});

test('a duplicate host interface is refused and leaves the first one as it was', { skip }, async () => {
  await assert.rejects(attach(netAttachment(2, { hostIf: hostIf(0) })), (err: unknown) => {
    assert.match((err as Error).message, new RegExp(`^cannot create veth ${hostIf(0)}: file exists`));
    assert.equal(codeOf(err), 'EEXIST');
    return true;
  });
  assert.ok(!links(true).includes('eth2'));
  const [host] = ipJson<Link[]>(['link', 'show', 'dev', hostIf(0)]);
  assert.equal(host!.master, bridge);
});

test('a process that does not exist is refused with nothing left behind', { skip }, async () => {
  const gone = spawnSync('true').pid;
  await assert.rejects(attach(netAttachment(3, { pid: gone })), (err: unknown) => {
    assert.match((err as Error).message, new RegExp(`^cannot create veth ${hostIf(3)}: no such process`));
    assert.equal(codeOf(err), 'ESRCH');
    return true;
  });
  assert.ok(!linkExists(hostIf(3)));
});

test('a bridge that does not exist is refused with nothing left behind', { skip }, async () => {
  await assert.rejects(attach(netAttachment(4, { bridge: `bnon${tag}` })), (err: unknown) => {
    assert.match((err as Error).message, new RegExp(`^cannot find bridge bnon${tag}: no such device`));
    assert.equal(codeOf(err), 'ENODEV');
    return true;
  });
  assert.ok(!linkExists(hostIf(4)));
  assert.ok(!links(true).includes('eth4'));
});

test('a failure inside the container deletes the pair again', { skip }, async () => {
  // eth0 holds the default route already: a second one is refused.
  await assert.rejects(attach(netAttachment(5)), (err: unknown) => {
    assert.match((err as Error).message, /^cannot add the default route via \S+ dev eth5: file exists/);
    assert.equal(codeOf(err), 'EEXIST');
    return true;
  });
  assert.ok(!linkExists(hostIf(5)));
  assert.ok(!links(true).includes('eth5'));
});

test('malformed arguments reject with EINVAL before any change', { skip }, async () => {
  await assert.rejects(sys.attachVeth({ hostIf: hostIf(6), peer: 'eth6', mac: '02:42:0a', pid, bridge }), { code: 'EINVAL', message: "invalid MAC address '02:42:0a'" });
  await assert.rejects(sys.attachVeth({ hostIf: 'x'.repeat(16), peer: 'eth6', mac: '02:42:0a:fe:00:08', pid, bridge }), { code: 'EINVAL' });
  await assert.rejects(sys.configureInterface(pid, { ifname: 'eth0', address: '10.0.0.300', prefixLen: 24 }), { code: 'EINVAL' });
  await assert.rejects(sys.configureInterface(pid, { ifname: 'eth0', address: `${net}.9`, prefixLen: 33 }), { code: 'EINVAL' });
  assert.ok(!linkExists(hostIf(6)));
});

test('worker threads come back to the host namespace after working inside', { skip }, async () => {
  // More requests than the pool has threads, inside then on the host: a thread left in the container's
  // namespace would find no bridge there and make one inside.
  const inside = Array.from({ length: 16 }, () => sys.deleteLink('nothere0', pid).catch((err: { code?: string }) => err.code));
  assert.deepEqual(new Set(await Promise.all(inside)), new Set(['ENODEV']));
  await Promise.all(Array.from({ length: 16 }, () => sys.ensureBridge(bridge, `${net}.1`, 24)));
  assert.ok(!links(true).includes(bridge));
});

test('detach takes the interface out of the container and its host end with it', { skip }, async () => {
  await detach(pid, 'eth0');
  assert.ok(!links(true).includes('eth0'));
  assert.ok(!linkExists(hostIf(0)));
  await detach(pid, 'eth0');
  await detach(spawnSync('true').pid, 'eth0');
});

test('attach timing: median of 20, printed', { skip }, async (t) => {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const a = netAttachment(7);
    const start = process.hrtime.bigint();
    await attach(a);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    await detach(pid, a.ifname);
  }
  times.sort((x, y) => x - y);
  t.diagnostic(`attach: median ${times[10]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms, max ${times[19]!.toFixed(2)} ms`);
  assert.ok(!linkExists(hostIf(7)));
});
