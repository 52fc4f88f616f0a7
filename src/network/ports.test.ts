import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatePorts } from './ports.js';
import type { PortMapping } from '../core/networks.js';

const free = async () => true;

test('port bindings: fixed, host address, ranges, ephemeral, -P', async () => {
  const got = await allocatePorts(
    'c1',
    '10.0.0.2',
    { bindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '9090' }], '53/udp': [{ HostPort: '5353' }], '81/tcp': [{ HostPort: '7000-7002' }] }, publishAll: true, exposed: ['443/tcp'] },
    [{ containerId: 'c0', ip: '10.0.0.9', protocol: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 7000 }],
    free,
  );
  const short = got.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
  assert.deepEqual(short.slice(0, 4), ['0.0.0.0:8080->80/tcp', '127.0.0.1:9090->80/tcp', '0.0.0.0:5353->53/udp', '0.0.0.0:7001->81/tcp']);
  assert.match(short[4]!, /^0\.0\.0\.0:\d+->443\/tcp$/);
});

test('a port another container holds, or a host process listens on, is refused in docker words', async () => {
  const held: PortMapping[] = [{ containerId: 'c0', ip: '10.0.0.9', protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8080 }];
  await assert.rejects(allocatePorts('c1', '10.0.0.2', { bindings: { '80/tcp': [{ HostPort: '8080' }] }, publishAll: false, exposed: [] }, held, free), /Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
  // Another address on the same port is fine; UDP is a separate space.
  const ok = await allocatePorts('c1', '10.0.0.2', { bindings: { '80/udp': [{ HostPort: '8080' }] }, publishAll: false, exposed: [] }, held, free);
  assert.equal(ok[0]!.hostPort, 8080);
  await assert.rejects(allocatePorts('c1', '10.0.0.2', { bindings: { '80/tcp': [{ HostPort: '8081' }] }, publishAll: false, exposed: [] }, [], async () => false), /port is already allocated/);
  await assert.rejects(allocatePorts('c1', '10.0.0.2', { bindings: { '99999/tcp': [{ HostPort: '1' }] }, publishAll: false, exposed: [] }, [], free), /invalid port specification/);
});
