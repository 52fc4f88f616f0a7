import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import {
  formatPlatform,
  hostPlatform,
  matchPlatform,
  normalizePlatform,
  parsePlatform,
  pickPlatform,
  platformScore,
  type Platform,
} from './platform.js';

test('hostPlatform maps Node names to OCI names', () => {
  const host = hostPlatform();
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x' };
  if (arch[process.arch]) assert.equal(host.architecture, arch[process.arch]);
  if (process.platform === 'linux') assert.equal(host.os, 'linux');
  if (process.arch === 'arm64') assert.equal(host.variant, 'v8');
  if (process.arch === 'x64') assert.equal(host.variant, undefined);
});

test('parsePlatform normalises like containerd', () => {
  const host = hostPlatform();
  const cases: Array<[string, Platform]> = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86-64', { os: 'linux', architecture: 'amd64' }],
    ['Linux/AMD64', { os: 'linux', architecture: 'amd64' }],
    ['linux/amd64/v1', { os: 'linux', architecture: 'amd64' }],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/aarch64/8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/v9.0', { os: 'linux', architecture: 'arm64', variant: 'v9' }],
    ['linux/arm', { os: 'linux', architecture: 'arm' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm' }],
    ['linux/armel', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['macos/arm64', { os: 'darwin', architecture: 'arm64' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['linux/s390x', { os: 'linux', architecture: 's390x' }],
    ['linux/ppc64le', { os: 'linux', architecture: 'ppc64le' }],
    ['amd64', { os: host.os, architecture: 'amd64' }],
    ['aarch64', { os: host.os, architecture: 'arm64' }],
  ];
  for (const [spec, want] of cases) assert.deepEqual(parsePlatform(spec), want, spec);
  // A lone OS takes the host's architecture.
  assert.equal(parsePlatform('linux').os, 'linux');
  assert.equal(parsePlatform('linux').architecture, host.architecture);
});

test('parsePlatform rejects junk with containerd messages', () => {
  const cases: Array<[string, string]> = [
    ['', '"" is an invalid component of "": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument'],
    ['linux/', '"" is an invalid component of "linux/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument'],
    ['linux/am d64', '"am d64" is an invalid component of "linux/am d64": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument'],
    ['junk', '"junk": unknown operating system or architecture: invalid argument'],
    ['linux/*', '"linux/*": wildcards not yet supported: invalid argument'],
    ['linux/arm/v7/x', '"linux/arm/v7/x": cannot parse platform specifier: invalid argument'],
    ['linux/arm/v7/x/y', '"x/y" is an invalid component of "linux/arm/v7/x/y": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument'],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parsePlatform(spec), (e: unknown) => {
      assert.ok(e instanceof BerthError);
      assert.equal(e.kind, 'InvalidArgument');
      assert.equal(e.message, message);
      return true;
    }, spec);
  }
});

test('formatPlatform', () => {
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
  assert.equal(formatPlatform({ os: '', architecture: 'amd64' }), 'unknown');
  for (const s of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'windows/amd64']) {
    assert.equal(formatPlatform(parsePlatform(s)), s);
  }
});

test('normalizePlatform', () => {
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(
    normalizePlatform({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1', 'os.features': ['b', 'a', 'b'] }),
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1', 'os.features': ['a', 'b'] },
  );
});

const p = (s: string) => parsePlatform(s);

test('matchPlatform: what a host can run', () => {
  const cases: Array<[string, string, boolean]> = [
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/386', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/amd64', 'linux/amd64/v2', false],
    ['linux/amd64/v3', 'linux/amd64/v2', true],
    ['linux/amd64/v3', 'linux/amd64', true],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/aarch64', 'linux/arm64', true],
    ['linux/arm64', 'linux/arm/v7', true],
    ['linux/arm64', 'linux/arm64/v9', false],
    ['linux/arm64/v9', 'linux/arm64/v8.5', true],
    ['linux/arm64/v9', 'linux/arm64', true],
    ['linux/arm/v7', 'linux/arm', true],
    ['linux/arm/v7', 'linux/arm/v6', true],
    ['linux/arm/v7', 'linux/arm/v8', false],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/armhf', 'linux/arm/v7', true],
    ['linux/arm/v5', 'linux/arm/v5', true],
    ['linux/s390x', 'linux/s390x', true],
    ['linux/riscv64', 'linux/amd64', false],
  ];
  for (const [want, have, ok] of cases) assert.equal(matchPlatform(p(want), p(have)), ok, `${want} runs ${have}`);
});

test('platformScore ranks exact variants first', () => {
  const arm7 = p('linux/arm/v7');
  assert.ok(platformScore(arm7, p('linux/arm/v7')) > platformScore(arm7, p('linux/arm/v6')));
  assert.ok(platformScore(arm7, p('linux/arm/v6')) > platformScore(arm7, p('linux/arm/v5')));
  assert.equal(platformScore(arm7, p('linux/arm64')), 0);
  const arm64 = p('linux/arm64/v8');
  assert.ok(platformScore(arm64, p('linux/arm64')) > platformScore(arm64, p('linux/arm/v8')));
  assert.ok(platformScore(arm64, p('linux/arm/v8')) > platformScore(arm64, p('linux/arm/v7')));
  const amd = p('linux/amd64');
  assert.ok(platformScore(amd, p('linux/amd64')) > platformScore(amd, p('linux/386')));
});

test('pickPlatform chooses the best manifest list entry', () => {
  const list: Array<Platform | undefined> = [
    undefined,
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: '386' },
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' },
  ];
  assert.equal(pickPlatform(p('linux/amd64'), list), 1);
  assert.equal(pickPlatform(p('linux/arm/v7'), list), 3);
  assert.equal(pickPlatform(p('linux/arm/v6'), list), 2);
  assert.equal(pickPlatform(p('linux/arm64'), list), 4);
  assert.equal(pickPlatform(p('linux/arm64'), list.slice(0, 4)), 3);
  assert.equal(pickPlatform(p('linux/386'), list), 5);
  assert.equal(pickPlatform(p('windows/amd64'), list), 6);
  assert.equal(pickPlatform(p('linux/s390x'), list), -1);
  assert.equal(pickPlatform(p('linux/amd64'), [list[5], list[1]]), 1);
});
