/** docker stats, docker update and health checks with the real docker CLI against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { berth, cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await sleep(250);
  }
  return fn();
}

describe('docker CLI against berthd: stats, update, health', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    const boot = berth(d, ['bootstrap']);
    assert.equal(boot.code, 0, boot.stderr);
  });
  after(async () => {
    const ids = docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) docker(d, ['rm', '-f', ...ids]);
    await cleanup(d);
  });

  test('stats --no-stream shows memory usage with a limit and a pid count', () => {
    const run = docker(d, ['run', '-d', '--name', 'st-sleep', '--memory', '64m', 'busybox', 'sleep', '300']);
    assert.equal(run.code, 0, run.stderr);
    const out = docker(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'st-sleep']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout.trim(), /^st-sleep [\d.]+[KMG]?i?B \/ 64MiB 1$/);
  });

  test('a busy container shows CPU above zero', () => {
    const run = docker(d, ['run', '-d', '--name', 'st-busy', 'busybox', 'sh', '-c', 'while :; do :; done']);
    assert.equal(run.code, 0, run.stderr);
    const out = docker(d, ['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'st-busy']);
    assert.equal(out.code, 0, out.stderr);
    const pct = Number.parseFloat(out.stdout.trim());
    assert.ok(pct > 0, `CPU % was ${out.stdout}`);
  });

  test('stats of a stopped container are zeroed', () => {
    assert.equal(docker(d, ['create', '--name', 'st-stopped', 'busybox', 'true']).code, 0);
    const out = docker(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}', 'st-stopped']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'st-stopped 0.00% 0');
  });

  test('update changes the memory limit live and in inspect', () => {
    const up = docker(d, ['update', '--memory', '32m', '--memory-swap', '64m', 'st-sleep']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(docker(d, ['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', 'st-sleep']).stdout.trim(), '33554432 67108864');
    const cg = docker(d, ['exec', 'st-sleep', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(cg.code, 0, cg.stderr);
    assert.equal(cg.stdout.trim(), '33554432');
    const bad = docker(d, ['update', '--memory', '128m', 'st-sleep']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    const policy = docker(d, ['update', '--restart', 'always', 'st-sleep']);
    assert.equal(policy.code, 0, policy.stderr);
    assert.equal(docker(d, ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'st-sleep']).stdout.trim(), 'always');
  });

  test('a passing health check becomes healthy and shows in ps', async () => {
    const run = docker(d, ['run', '-d', '--name', 'hc-ok', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '300']);
    assert.equal(run.code, 0, run.stderr);
    const ok = await until(() => docker(d, ['inspect', '-f', '{{.State.Health.Status}}', 'hc-ok']).stdout.trim() === 'healthy', 5000);
    assert.ok(ok, docker(d, ['inspect', '-f', '{{json .State.Health}}', 'hc-ok']).stdout);
    assert.match(docker(d, ['ps', '--filter', 'name=hc-ok', '--format', '{{.Status}}']).stdout, /\(healthy\)/);
  });

  test('a failing health check becomes unhealthy after its retries', async () => {
    const run = docker(d, ['run', '-d', '--name', 'hc-bad', '--health-cmd', 'false', '--health-retries', '2', '--health-interval', '1s', 'busybox', 'sleep', '300']);
    assert.equal(run.code, 0, run.stderr);
    const bad = await until(() => docker(d, ['inspect', '-f', '{{.State.Health.Status}}', 'hc-bad']).stdout.trim() === 'unhealthy', 6000);
    assert.ok(bad, docker(d, ['inspect', '-f', '{{json .State.Health}}', 'hc-bad']).stdout);
    const streak = Number(docker(d, ['inspect', '-f', '{{.State.Health.FailingStreak}}', 'hc-bad']).stdout.trim());
    assert.ok(streak >= 2);
  });
});
