/** Network command helpers: address matching, IPAM consolidation, option maps, list rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptions, driverOpts, ipamConfig, mapOpt, networkFormat, networkRow, parseCIDR, subnetMatches } from './network.js';
import { parseFlags } from '../flags.js';
import { commands } from './index.js';
import { goTimeStringOfRFC3339 } from '../util/gotime.js';

test('parseCIDR and subnetMatches follow Go net', () => {
  assert.deepEqual(parseCIDR('10.0.0.0/8').bits, 8);
  assert.throws(() => parseCIDR('10.0.0.0'), /^Error: invalid CIDR address: 10\.0\.0\.0$/);
  assert.throws(() => parseCIDR('10.0.0.0/33'), /invalid CIDR address/);
  assert.throws(() => parseCIDR('010.0.0.0/8'), /invalid CIDR address/);
  assert.throws(() => parseCIDR('10.0.0.0/'), /invalid CIDR address/);
  assert.equal(subnetMatches('10.0.0.0/8', '10.1.2.3'), true);
  assert.equal(subnetMatches('10.0.0.0/8', '11.1.2.3'), false);
  assert.equal(subnetMatches('10.0.0.0/8', '10.1.0.0/16'), true);
  assert.equal(subnetMatches('10.1.0.0/16', '10.0.0.0/8'), false);
  assert.equal(subnetMatches('10.0.0.0/8', 'bad'), false);
  assert.equal(subnetMatches('fd00::/64', 'fd00::1'), true);
  assert.equal(subnetMatches('fd00::/64', 'fd00:0:0:1::1'), false);
  // an IPv4 address never falls in an IPv6 subnet, and back
  assert.equal(subnetMatches('fd00::/64', '10.0.0.1'), false);
  assert.equal(subnetMatches('10.0.0.0/8', 'fd00::1'), false);
  // IPv4-mapped subnets compare as IPv4
  assert.equal(subnetMatches('::ffff:10.0.0.0/104', '10.2.3.4'), true);
  assert.throws(() => subnetMatches('bad', '10.0.0.1'), /^Error: invalid subnet: invalid CIDR address: bad$/);
  assert.throws(() => subnetMatches('10.0.0.0/8', '10.0.0.0/99'), /^Error: invalid CIDR address: 10\.0\.0\.0\/99$/);
});

const ipam = (o: Partial<Parameters<typeof ipamConfig>[0]>) =>
  ipamConfig({ driver: 'default', subnets: [], ipRanges: [], gateways: [], auxAddresses: {}, driverOpts: {}, ...o });

test('ipamConfig: one config per subnet, in the order given', () => {
  assert.deepEqual(ipam({}), { Driver: 'default', Options: {}, Config: [] });
  assert.deepEqual(
    ipam({
      subnets: ['10.1.0.0/16', 'fd00::/64'],
      ipRanges: ['10.1.128.0/17'],
      gateways: ['fd00::1', '10.1.0.1'],
      auxAddresses: { h: '10.1.0.7', g: 'fd00::7' },
      driverOpts: { z: '1', a: '2' },
    }),
    {
      Driver: 'default',
      Options: { a: '2', z: '1' },
      Config: [
        { Subnet: '10.1.0.0/16', IPRange: '10.1.128.0/17', Gateway: '10.1.0.1', AuxiliaryAddresses: { h: '10.1.0.7' } },
        { Subnet: 'fd00::/64', Gateway: 'fd00::1', AuxiliaryAddresses: { g: 'fd00::7' } },
      ],
    },
  );
  // a subnet that does not parse is left to the daemon when nothing is matched against it
  assert.deepEqual(ipam({ subnets: ['bad'] }).Config, [{ Subnet: 'bad' }]);
});

test('ipamConfig: docker messages', () => {
  const err = (o: Partial<Parameters<typeof ipamConfig>[0]>) => {
    try {
      ipam(o);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.equal(err({ gateways: ['1.1.1.1'] }), 'every ip-range or gateway must have a corresponding subnet');
  assert.equal(err({ subnets: ['10.0.0.0/8', '10.1.0.0/16'] }), 'multiple overlapping subnet configuration is not supported');
  assert.equal(err({ subnets: ['10.0.0.0/8'], ipRanges: ['11.0.0.0/16'] }), 'no matching subnet for range 11.0.0.0/16');
  assert.equal(err({ subnets: ['10.0.0.0/8'], ipRanges: ['x'] }), 'invalid CIDR address: x');
  assert.equal(
    err({ subnets: ['10.0.0.0/8', '11.0.0.0/8'], ipRanges: ['10.1.0.0/16', '10.2.0.0/16'] }),
    'cannot configure multiple ranges (10.2.0.0/16, 10.1.0.0/16) on the same subnet (10.0.0.0/8)',
  );
  assert.equal(
    err({ subnets: ['10.0.0.0/8', '11.0.0.0/8'], gateways: ['10.0.0.1', '10.0.0.2'] }),
    'cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/8)',
  );
  assert.equal(err({ subnets: ['10.0.0.0/8'], gateways: ['bad'] }), 'no matching subnet for gateway bad');
  assert.equal(err({ subnets: ['10.0.0.0/8'], auxAddresses: { a: '12.0.0.1' } }), 'no matching subnet for aux-address 12.0.0.1');
  assert.equal(err({ subnets: ['bad'], gateways: ['1.1.1.1'] }), 'invalid subnet: invalid CIDR address: bad');
});

test('option maps: MapOpts keeps the last value, driver options are trimmed and checked', () => {
  assert.deepEqual(mapOpt(['a', 'b=c', 'a=d=e']), { a: 'd=e', b: 'c' });
  assert.deepEqual(driverOpts([' k = v ', 'a=']), { a: '', k: 'v' });
  assert.throws(() => driverOpts(['novalue']), /^Error: invalid key\/value pair format in driver options$/);
  assert.throws(() => driverOpts([' =v']), /invalid key\/value pair/);
});

test('create: EnableIPv4/EnableIPv6 only when given, fields in the Go client order', () => {
  const create = commands().find((c) => c.name === 'network')!.sub!.find((c) => c.name === 'create')!;
  const parse = (argv: string[]) => {
    const p = parseFlags(create.flags!, argv);
    return createOptions(p.flags, p.set);
  };
  assert.deepEqual(Object.keys(parse([])), ['Driver', 'Scope', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigOnly', 'ConfigFrom', 'Options', 'Labels']);
  const body = parse(['--ipv6=false', '--ipv4', '--config-from', 'base', '--label', 'b=1', '--label', 'a', '-o', 'x=y']);
  assert.deepEqual(Object.keys(body).slice(0, 4), ['Driver', 'Scope', 'EnableIPv4', 'EnableIPv6']);
  assert.equal(body['EnableIPv4'], true);
  assert.equal(body['EnableIPv6'], false);
  assert.deepEqual(body['ConfigFrom'], { Network: 'base' });
  assert.deepEqual(body['Labels'], { a: '', b: '1' });
  assert.deepEqual(body['Options'], { x: 'y' });
  assert.throws(() => parseFlags(create.flags!, ['--label', ' =x']), /invalid label ' =x': empty name/);
});

test('ls rows: truncated IDs, booleans as text, Label lookups, Go time text', () => {
  const n = { Name: 'n', Id: 'a'.repeat(64), Created: '2025-03-04T05:06:07.120000000Z', Driver: 'bridge', Scope: 'local', EnableIPv6: true, Labels: { k: 'v' } };
  const row = networkRow(n, true);
  assert.equal(row['ID'], 'a'.repeat(12));
  assert.equal(networkRow(n, false)['ID'], 'a'.repeat(64));
  assert.equal(row['IPv6'], 'true');
  assert.equal(row['IPv4'], 'false');
  assert.equal(row['Labels'], 'k=v');
  assert.equal((row['Label'] as (k: string) => string)('k'), 'v');
  assert.equal(row['CreatedAt'], '2025-03-04 05:06:07.12 +0000 UTC');
  assert.deepEqual(Object.keys(row), [...Object.keys(row)].sort());
  assert.equal(networkFormat('table', true), '{{.ID}}');
  assert.equal(networkFormat('raw', true), 'network_id: {{.ID}}');
  assert.equal(networkFormat('{{.Name}}', false), '{{.Name}}');
});

test('Go time text of RFC 3339 input keeps the written zone', () => {
  assert.equal(goTimeStringOfRFC3339('0001-01-01T00:00:00Z'), '0001-01-01 00:00:00 +0000 UTC');
  assert.equal(goTimeStringOfRFC3339('2025-03-04T05:06:07.000000001Z'), '2025-03-04 05:06:07.000000001 +0000 UTC');
  assert.equal(goTimeStringOfRFC3339('not a time'), 'not a time');
  const local = -new Date(Date.parse('2025-03-04T05:06:07Z')).getTimezoneOffset();
  if (local !== 150) assert.equal(goTimeStringOfRFC3339('2025-03-04T05:06:07+02:30'), '2025-03-04 05:06:07 +0230 +0230');
});
