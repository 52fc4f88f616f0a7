import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, formatCidr, formatIp, macFor, overlaps, parseCidr, parseIp, pickSubnet } from './ipam.js';

test('CIDRs are normalised to their network address', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')!), '10.1.0.0/16');
  assert.equal(parseCidr('10.1.2.3'), undefined);
  assert.equal(parseCidr('300.1.2.3/8'), undefined);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(formatIp(parseIp('192.168.255.1')!), '192.168.255.1');
});

test('subnets are picked from the default pools around what is taken', () => {
  assert.equal(formatCidr(pickSubnet([])), '172.17.0.0/16');
  assert.equal(formatCidr(pickSubnet([parseCidr('172.17.5.0/24')!, parseCidr('172.18.0.0/16')!])), '172.19.0.0/16');
  const all = [parseCidr('172.16.0.0/12')!];
  assert.equal(formatCidr(pickSubnet(all)), '192.168.0.0/20');
  assert.throws(() => pickSubnet([parseCidr('172.16.0.0/12')!, parseCidr('192.168.0.0/16')!]), /could not find an available/);
  assert.ok(overlaps(parseCidr('10.0.0.0/8')!, parseCidr('10.3.0.0/16')!));
  assert.ok(!overlaps(parseCidr('10.0.0.0/16')!, parseCidr('10.1.0.0/16')!));
});

test('addresses: first free, never network, gateway, broadcast or one in use; inside the range', () => {
  const subnet = parseCidr('10.0.0.0/29')!;
  const gw = parseIp('10.0.0.1')!;
  const used = new Set<number>();
  const got: string[] = [];
  for (;;) {
    const ip = allocate(subnet, undefined, gw, used);
    if (ip === undefined) break;
    used.add(ip);
    got.push(formatIp(ip));
  }
  assert.deepEqual(got, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  const ranged = allocate(parseCidr('10.0.0.0/24')!, parseCidr('10.0.0.128/25')!, gw, new Set());
  assert.equal(formatIp(ranged!), '10.0.0.128');
  assert.equal(macFor(parseIp('172.17.0.2')!), '02:42:ac:11:00:02');
});
