/**
 * The whole Berth path: the real docker CLI pushes and pulls through berthd
 * against Berth's own registry server, with htpasswd auth enforced.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { berth, cleanup, docker, hasDocker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { startRegistry, type Registry } from '../helpers/registryserver.js';

describe('docker CLI through berthd against Berth\'s registry', { skip: hasDocker() ? false : 'the docker CLI is not installed' }, () => {
  let d: Daemon;
  let reg: Registry;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-reg-e2e-'));
    writeFileSync(join(dir, 'htpasswd'), `carol:${bcrypt.hashSync('pw-carol', 10)}\n`);
    reg = await startRegistry(join(dir, 'root'), ['--htpasswd', join(dir, 'htpasswd')]);
    d = await startDaemon({ args: ['--bridge', 'none'] });
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
  });
  after(async () => {
    await cleanup(d);
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('push needs a login; after it, push, remove, pull by tag and by digest, and run', () => {
    const name = `${reg.host}/apps/busybox:1`;
    assert.equal(docker(d, ['tag', 'busybox', name]).code, 0);
    const denied = docker(d, ['push', name]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /no basic auth credentials|unauthorized/);
    const login = docker(d, ['login', '-u', 'carol', '--password-stdin', reg.host], 'pw-carol\n');
    assert.equal(login.code, 0, login.stderr);
    const push = docker(d, ['push', name]);
    assert.equal(push.code, 0, push.stderr);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    assert.match(docker(d, ['push', name]).stdout, /Layer already exists/);
    assert.equal(docker(d, ['rmi', name]).code, 0);
    const pull = docker(d, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image for /);
    assert.equal(docker(d, ['run', '--rm', name, 'echo', 'from berth registry']).stdout, 'from berth registry\n');
    assert.equal(docker(d, ['rmi', name]).code, 0);
    const byDigest = docker(d, ['pull', `${reg.host}/apps/busybox@${digest}`]);
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.match(docker(d, ['images', '--digests', '--format', '{{.Digest}}']).stdout, new RegExp(digest!));
  });
});
