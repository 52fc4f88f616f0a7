/**
 * Builds whose base images come from a registry: a missing base is pulled
 * with the credentials the docker CLI sends (X-Registry-Config), and --pull
 * fetches a newer base even when one is present.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { berth, cleanup, docker, hasDocker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { hasHtpasswd, hasRegistry, startRegistry, type Registry } from '../helpers/registry.js';

const skip = !hasRegistry() || !hasDocker() || !hasHtpasswd() ? 'docker-registry, htpasswd or the docker CLI is not installed' : false;

describe('builds pulling their base images', { skip }, () => {
  let reg: Registry;
  let d: Daemon;

  before(async () => {
    reg = await startRegistry({ htpasswd: { user: 'bob', password: 'hunter2' } });
    d = await startDaemon();
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
  });
  after(async () => {
    await cleanup(d);
    await reg.stop();
  });

  test('a missing base is pulled with the login the docker CLI holds; --pull fetches a newer one', () => {
    const base = `${reg.host}/private/base:1`;
    const login = docker(d, ['login', '-u', 'bob', '--password-stdin', reg.host], 'hunter2\n');
    assert.equal(login.code, 0, login.stderr);
    const v1 = 'FROM busybox\nRUN echo v1 > /version\n';
    const v2 = 'FROM busybox\nRUN echo v2 > /version\n';
    // The registry's :1 ends up as v2.
    for (const dockerfile of [v1, v2]) {
      const b = docker(d, ['build', '-q', '-t', base, '-'], dockerfile);
      assert.equal(b.code, 0, b.stderr);
      const p = docker(d, ['push', base]);
      assert.equal(p.code, 0, p.stderr);
    }
    assert.equal(docker(d, ['rmi', base]).code, 0);

    const app = `FROM ${base}\nCMD ["cat", "/version"]\n`;
    const pulled = docker(d, ['build', '-t', 'app:1', '-'], app);
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
    assert.match(pulled.stdout, /Pulling from private\/base/);
    assert.match(pulled.stdout, /Status: Downloaded newer image for /);
    assert.equal(docker(d, ['run', '--rm', 'app:1']).stdout, 'v2\n');

    // Locally :1 goes back to v1: a plain build keeps it, --pull takes the registry's.
    assert.equal(docker(d, ['build', '-q', '-t', base, '-'], v1).code, 0);
    const stale = docker(d, ['build', '-t', 'app:2', '-'], app);
    assert.equal(stale.code, 0, stale.stderr);
    assert.doesNotMatch(stale.stdout, /Pulling from/);
    assert.equal(docker(d, ['run', '--rm', 'app:2']).stdout, 'v1\n');
    const fresh = docker(d, ['build', '--pull', '-t', 'app:3', '-'], app);
    assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout);
    assert.match(fresh.stdout, /Pulling from private\/base/);
    assert.equal(docker(d, ['run', '--rm', 'app:3']).stdout, 'v2\n');

    // Without credentials the pull fails in docker's words and the build stops.
    assert.equal(docker(d, ['logout', reg.host]).code, 0);
    assert.equal(docker(d, ['rmi', '-f', base]).code, 0);
    const denied = docker(d, ['build', '-'], app);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /no basic auth credentials|pull access denied/);
  });
});
