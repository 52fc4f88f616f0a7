/** The real docker CLI with berthd's networks: bridges, names, published ports, NAT, and nothing left behind. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cleanup, berth, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { tableName } from '../../src/engine/networks.js';

function get(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function retry<T>(fn: () => Promise<T>, tries = 40): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** veth devices on the host whose master is the bridge. */
function vethsOn(bridge: string): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0]!);
}

function table(d: Daemon): string {
  return spawnSync('nft', ['list', 'table', 'ip', tableName(d.dataRoot)], { encoding: 'utf8' }).stdout;
}

const WEB = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

describe('docker CLI against berthd: networks', () => {
  let d: Daemon;
  let outside: ChildProcess | undefined;
  const NS = `bto${process.pid}`;
  before(async () => {
    d = await startDaemon();
    const boot = berth(d, ['bootstrap', '--only', 'busybox']);
    assert.equal(boot.code, 0, boot.stderr);
  });
  after(async () => {
    outside?.kill();
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['link', 'del', `${NS}h`]);
    const ids = docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) docker(d, ['rm', '-f', ...ids]);
    for (const n of ['front', 'back', 'inner', 'fixed', 'cycles']) docker(d, ['network', 'rm', n]);
    await cleanup(d);
  });

  test('builtin networks, and the default bridge gives an address with a route out', () => {
    const ls = docker(d, ['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['bridge bridge', 'host host', 'none null']);
    const subnet = docker(d, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}', 'bridge']).stdout.trim();
    const [cidr, gw] = subnet.split(' ');
    assert.match(cidr!, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const r = docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route']);
    assert.equal(r.code, 0, r.stderr);
    const prefix = cidr!.split('.').slice(0, 2).join('.');
    assert.match(r.stdout, new RegExp(`inet ${prefix.replace(/\./g, '\\.')}\\.\\d+\\.\\d+/`));
    assert.match(r.stdout, new RegExp(`default via ${gw!.replace(/\./g, '\\.')} dev eth0`));
    // docker's default bridge: no name resolution, the host's resolvers.
    const resolv = docker(d, ['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf']).stdout;
    assert.doesNotMatch(resolv, new RegExp(`nameserver ${gw!.replace(/\./g, '\\.')}`));
  });

  test('--network none has only lo; --network host sees the host interfaces', () => {
    const none = docker(d, ['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout.trim(), 'lo');
    const host = docker(d, ['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.equal(host.code, 0, host.stderr);
    const mine = spawnSync('ls', ['/sys/class/net'], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
    assert.deepEqual(host.stdout.trim().split('\n').sort(), mine);
  });

  test('a user network: containers reach each other by name and alias through the embedded DNS', () => {
    const created = docker(d, ['network', 'create', '--label', 'tier=web', 'front']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout.trim(), /^[a-f0-9]{64}$/);
    const dup = docker(d, ['network', 'create', 'front']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /network with name front already exists/);
    assert.equal(docker(d, ['run', '-d', '--name', 'web', '--network', 'front', '--network-alias', 'www', 'busybox', ...WEB('from-web')]).code, 0);
    const byName = docker(d, ['run', '--rm', '--network', 'front', 'busybox', 'wget', '-qO-', 'http://web/']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout, 'from-web\n');
    const byAlias = docker(d, ['run', '--rm', '--network', 'front', 'busybox', 'wget', '-qO-', 'http://www/']);
    assert.equal(byAlias.stdout, 'from-web\n');
    const upper = docker(d, ['run', '--rm', '--network', 'front', 'busybox', 'nslookup', 'WEB']);
    assert.match(upper.stdout, /Address: \d+\.\d+\.\d+\.\d+/);
    // Not from the default bridge, nor from another network.
    // (--dns 127.0.0.1: the lookup fails inside the container instead of going to the host's resolvers.)
    const other = docker(d, ['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'nslookup', 'web']);
    assert.notEqual(other.code, 0);
    assert.doesNotMatch(other.stdout, /Name:\s+web/);
    const inspect = JSON.parse(docker(d, ['network', 'inspect', 'front']).stdout)[0];
    assert.equal(inspect.Labels.tier, 'web');
    const members = Object.values(inspect.Containers) as Array<{ Name: string; IPv4Address: string }>;
    assert.deepEqual(members.map((m) => m.Name), ['web']);
    const ip = docker(d, ['inspect', '-f', '{{.NetworkSettings.Networks.front.IPAddress}}', 'web']).stdout.trim();
    assert.equal(`${ip}/${inspect.IPAM.Config[0].Subnet.split('/')[1]}`, members[0]!.IPv4Address);
    const inUse = docker(d, ['network', 'rm', 'front']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /has active endpoints/);
    docker(d, ['rm', '-f', 'web']);
    assert.equal(docker(d, ['network', 'rm', 'front']).code, 0);
    assert.match(docker(d, ['network', 'inspect', 'front']).stderr, /network front not found/);
  });

  test('published ports answer on 127.0.0.1: fixed, loopback-only and ephemeral', async () => {
    const fixed = await freePort();
    const local = await freePort();
    assert.equal(docker(d, ['run', '-d', '--name', 'pub', '-p', `${fixed}:80`, '-p', `127.0.0.1:${local}:80`, '-p', '80', 'busybox', ...WEB('published')]).code, 0);
    assert.equal(await retry(() => get(fixed)), 'published\n');
    assert.equal(await retry(() => get(local)), 'published\n');
    const port = docker(d, ['port', 'pub']);
    assert.equal(port.code, 0, port.stderr);
    const lines = port.stdout.trim().split('\n');
    assert.ok(lines.includes(`80/tcp -> 0.0.0.0:${fixed}`), port.stdout);
    assert.ok(lines.includes(`80/tcp -> 127.0.0.1:${local}`), port.stdout);
    const eph = lines.map((l) => /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(l)?.[1]).filter((p) => p && Number(p) !== fixed);
    assert.equal(eph.length, 1, port.stdout);
    assert.equal(await retry(() => get(Number(eph[0]))), 'published\n');
    const ports = JSON.parse(docker(d, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pub']).stdout);
    assert.equal(ports['80/tcp'].length, 3);
    assert.match(docker(d, ['ps', '--format', '{{.Ports}}', '-f', 'name=pub']).stdout, new RegExp(`127\\.0\\.0\\.1:${local}->80/tcp`));
    // The same host port cannot be taken twice.
    const clash = docker(d, ['run', '-d', '-p', `${fixed}:80`, 'busybox', 'sleep', '5']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /port is already allocated/);
    docker(d, ['rm', '-f', 'pub']);
    assert.doesNotMatch(table(d), new RegExp(`dport ${fixed}`));
    // Freed: a new container takes the port at once.
    assert.equal(docker(d, ['run', '-d', '--name', 'pub2', '-p', `${fixed}:80`, 'busybox', ...WEB('again')]).code, 0);
    assert.equal(await retry(() => get(fixed)), 'again\n');
    docker(d, ['rm', '-f', 'pub2']);
    // Ranges, UDP, and -P for the exposed ports.
    const [a, b] = [await freePort(), await freePort()];
    const lo = Math.min(a, b);
    const r = docker(d, ['run', '-d', '--name', 'pub3', '--expose', '7000', '-P', '-p', `${lo}-${lo + 20}:80`, '-p', `127.0.0.1:${lo + 30}:53/udp`, 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const out = docker(d, ['port', 'pub3']).stdout;
    assert.match(out, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:(${lo}|${lo + 1}|${lo + 2}|${lo + 3})$`, 'm'));
    assert.match(out, new RegExp(`^53/udp -> 127\\.0\\.0\\.1:${lo + 30}$`, 'm'));
    assert.match(out, /^7000\/tcp -> 0\.0\.0\.0:\d+$/m);
    assert.match(table(d), new RegExp(`udp dport ${lo + 30} dnat to`));
    docker(d, ['rm', '-f', 'pub3']);
  });

  test('containers reach outside through NAT', async () => {
    // "Outside": a namespace the test owns, behind a veth pair, serving the address its clients come from.
    assert.equal(spawnSync('ip', ['netns', 'add', NS]).status, 0);
    const setup = [
      ['link', 'add', `${NS}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS],
      ['addr', 'add', '10.251.77.1/30', 'dev', `${NS}h`],
      ['link', 'set', `${NS}h`, 'up'],
      ['-n', NS, 'addr', 'add', '10.251.77.2/30', 'dev', 'eth0'],
      ['-n', NS, 'link', 'set', 'eth0', 'up'],
      ['-n', NS, 'link', 'set', 'lo', 'up'],
    ];
    for (const args of setup) assert.equal(spawnSync('ip', args).status, 0, args.join(' '));
    outside = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', "require('http').createServer((q,s)=>s.end(q.socket.remoteAddress)).listen(8080,'10.251.77.2')"], { stdio: 'ignore' });
    const seen = docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://10.251.77.2:8080/ && exit 0; sleep 0.3; done; exit 1']);
    assert.equal(seen.code, 0, seen.stderr);
    // The server sees the host's address, not the container's.
    assert.equal(seen.stdout, '10.251.77.1');
  });

  test('--ip, --mac-address, --add-host host-gateway, --dns; internal networks have no way out', () => {
    assert.equal(docker(d, ['network', 'create', '--subnet', '10.252.3.0/24', '--gateway', '10.252.3.254', '--ip-range', '10.252.3.128/25', 'fixed']).code, 0);
    const r = docker(d, [
      'run', '--rm', '--network', 'fixed', '--ip', '10.252.3.77', '--mac-address', '02:aa:bb:cc:dd:ee',
      '--add-host', 'host.docker.internal:host-gateway', '--add-host', 'db:10.9.8.7',
      'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; cat /etc/hosts; ip route',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inet 10\.252\.3\.77\/24/);
    assert.match(r.stdout, /02:aa:bb:cc:dd:ee/);
    assert.match(r.stdout, /10\.9\.8\.7\tdb/);
    const gw = docker(d, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']).stdout.trim();
    assert.match(r.stdout, new RegExp(`${gw.replace(/\./g, '\\.')}\\thost\\.docker\\.internal`));
    assert.match(r.stdout, /default via 10\.252\.3\.254/);
    // Addresses come from the range.
    const auto = docker(d, ['run', '--rm', '--network', 'fixed', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout;
    assert.match(auto, /inet 10\.252\.3\.(12[89]|1[3-9]\d|2\d\d)\//);
    const bad = docker(d, ['run', '--rm', '--ip', '10.252.3.9', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /user specified IP address is supported only when connecting to networks with user configured subnets/);
    const dns = docker(d, ['run', '--rm', '--dns', '192.0.2.53', '--dns-search', 'example.test', 'busybox', 'cat', '/etc/resolv.conf']).stdout;
    assert.match(dns, /nameserver 192\.0\.2\.53/);
    assert.match(dns, /search example\.test/);
    assert.equal(docker(d, ['network', 'create', '--internal', '-o', `com.docker.network.bridge.name=bti${process.pid}`, 'inner']).code, 0);
    assert.equal(spawnSync('ip', ['link', 'show', `bti${process.pid}`]).status, 0, 'the bridge has the name asked for');
    const inner = docker(d, ['run', '--rm', '--network', 'inner', 'busybox', 'ip', 'route']);
    assert.doesNotMatch(inner.stdout, /default/);
    assert.match(table(d), /drop/);
  });

  test('connect and disconnect a running container; addresses survive a berthd restart without duplicates', async () => {
    assert.equal(docker(d, ['network', 'create', 'back']).code, 0);
    assert.equal(docker(d, ['run', '-d', '--name', 'multi', 'busybox', 'sleep', '300']).code, 0);
    const con = docker(d, ['network', 'connect', '--alias', 'm2', 'back', 'multi']);
    assert.equal(con.code, 0, con.stderr);
    assert.equal(docker(d, ['exec', 'multi', 'ls', '/sys/class/net']).stdout.trim().split('\n').sort().join(' '), 'eth0 eth1 lo');
    const nets = Object.keys(JSON.parse(docker(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'multi']).stdout)).sort();
    assert.deepEqual(nets, ['back', 'bridge']);
    const resolve = docker(d, ['run', '--rm', '--network', 'back', 'busybox', 'nslookup', 'm2']);
    assert.match(resolve.stdout, /Address: \d+/);
    const before = docker(d, ['inspect', '-f', '{{.NetworkSettings.Networks.back.IPAddress}}', 'multi']).stdout.trim();
    await d.kill();
    await d.restart();
    assert.equal(docker(d, ['inspect', '-f', '{{.NetworkSettings.Networks.back.IPAddress}}', 'multi']).stdout.trim(), before);
    const next = docker(d, ['run', '--rm', '--network', 'back', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout;
    assert.doesNotMatch(next, new RegExp(`inet ${before.replace(/\./g, '\\.')}/`));
    const dis = docker(d, ['network', 'disconnect', 'back', 'multi']);
    assert.equal(dis.code, 0, dis.stderr);
    assert.equal(docker(d, ['exec', 'multi', 'ls', '/sys/class/net']).stdout.trim().split('\n').sort().join(' '), 'eth0 lo');
    const again = docker(d, ['network', 'disconnect', 'back', 'multi']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not connected to network back/);
    docker(d, ['rm', '-f', 'multi']);
  });

  test('50 create/remove cycles leave no veth, rule or address behind; prune removes unused networks', async () => {
    assert.equal(docker(d, ['network', 'create', 'cycles']).code, 0);
    const bridge = docker(d, ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'cycles']).stdout.trim() || `br-${docker(d, ['network', 'inspect', '-f', '{{.Id}}', 'cycles']).stdout.trim().slice(0, 12)}`;
    const port = await freePort();
    for (let i = 0; i < 50; i++) {
      const r = docker(d, ['run', '--rm', '--network', 'cycles', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
      assert.equal(r.code, 0, r.stderr);
    }
    for (let i = 0; i < 50 && vethsOn(bridge).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(vethsOn(bridge), []);
    assert.doesNotMatch(table(d), /dnat to/);
    const members = JSON.parse(docker(d, ['network', 'inspect', 'cycles']).stdout)[0].Containers;
    assert.deepEqual(members, {});
    const prune = docker(d, ['network', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /cycles/);
    assert.equal(spawnSync('ip', ['link', 'show', bridge]).status, 1, 'the bridge is gone with its network');
  });
});
