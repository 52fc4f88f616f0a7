/** The real docker CLI runs containers on berthd: runc under conmon, on overlay. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { berth, cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';

/** conmon processes watching the container. */
function conmonsFor(id: string): number {
  const out = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => /^(\S*\/)?conmon /.test(l) && l.includes(id)).length;
}

/** Mounts whose mount point names the container (its writable layer's merged view). */
function mountsFor(id: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.includes(id)).length;
}

/** cgroup directories runc made for the container, in any hierarchy. */
function cgroupsFor(id: string): string[] {
  const root = '/sys/fs/cgroup';
  return readdirSync(root).map((h) => `${root}/${h}/berth/${id}`).filter((p) => existsSync(p));
}

describe('docker CLI against berthd: containers', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    const boot = berth(d, ['bootstrap']);
    assert.equal(boot.code, 0, boot.stderr);
  });
  after(async () => {
    docker(d, ['rm', '-f', ...docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    await cleanup(d);
  });

  test('run --rm prints the output and exits with the container status', () => {
    const hi = docker(d, ['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    const hello = docker(d, ['run', '--rm', 'hello-world']);
    assert.equal(hello.code, 0, hello.stderr);
    assert.match(hello.stdout, /Hello from Berth!/);
    const three = docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(three.code, 3);
    assert.equal(three.stdout, 'out\n');
    assert.equal(three.stderr, 'err\n');
    assert.equal(docker(d, ['ps', '-aq']).stdout.trim(), '', '--rm removed the containers');
  });

  test('a missing command is exit 127 with docker words, and --rm leaves nothing behind', () => {
    const r = docker(d, ['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
    assert.equal(docker(d, ['ps', '-aq']).stdout.trim(), '');
    const missing = docker(d, ['run', 'nosuchimage']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /Unable to find image 'nosuchimage:latest' locally/);
  });

  test('detached run, logs, ps, inspect, stop, rm', () => {
    const run = docker(d, ['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; echo started; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = docker(d, ['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^ticker Up /m);
    const inspect = docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.Name}} {{.Config.Image}}', 'ticker']);
    assert.equal(inspect.stdout.trim(), 'running true /ticker busybox');
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('started'); i++) {
      logs = docker(d, ['logs', 'ticker']).stdout;
      spawnSync('sleep', ['0.1']);
    }
    assert.equal(logs, 'started\n');
    const conflict = docker(d, ['run', '--name', 'ticker', 'busybox', 'true']);
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /Conflict\. The container name "\/ticker" is already in use by container/);
    const rmRunning = docker(d, ['rm', 'ticker']);
    assert.equal(rmRunning.code, 1);
    assert.match(rmRunning.stderr, /cannot remove container "\/ticker": container is running: stop the container before removing or force remove/);
    const stop = docker(d, ['stop', 'ticker']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'ticker']).stdout.trim(), 'exited 0');
    assert.match(docker(d, ['ps', '-a', '--format', '{{.Status}}', '--filter', 'name=ticker']).stdout, /^Exited \(0\) /);
    assert.equal(docker(d, ['rm', 'ticker']).code, 0);
    const gone = docker(d, ['inspect', 'ticker']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: ticker/);
  });

  test('kill gives 137, wait reports the code, rm -f removes a running container', () => {
    const id = docker(d, ['run', '-d', 'busybox', 'sleep', '60']).stdout.trim();
    assert.equal(docker(d, ['kill', id]).code, 0);
    const wait = docker(d, ['wait', id]);
    assert.equal(wait.stdout.trim(), '137');
    const again = docker(d, ['run', '-d', 'busybox', 'sleep', '60']).stdout.trim();
    const rm = docker(d, ['rm', '-f', again]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(docker(d, ['rm', id]).code, 0);
    assert.equal(docker(d, ['ps', '-aq']).stdout.trim(), '');
  });

  test('isolation: own hostname, pid 1, docker default capabilities and seccomp, masked /proc paths', () => {
    const r = docker(d, ['run', '--rm', '--hostname', 'boxhost', 'busybox', 'sh', '-c', 'hostname; echo $$; grep -E "^(CapBnd|Seccomp):" /proc/self/status; cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l']);
    assert.equal(r.code, 0, r.stderr);
    const [host, pid, capBnd, seccomp, timer, firmware] = r.stdout.trim().split('\n');
    assert.equal(host, 'boxhost');
    assert.equal(pid, '1');
    assert.match(capBnd!, /CapBnd:\s+00000000a80425fb/);
    assert.match(seccomp!, /Seccomp:\s+2/);
    assert.equal(timer!.trim(), '0');
    assert.equal(firmware!.trim(), '0');
  });

  test('limits and options reach the container', () => {
    const r = docker(d, ['run', '--rm', '--memory', '64m', '--pids-limit', '50', '-e', 'GREETING=hello', '-w', '/tmp', '-u', 'nobody', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; echo $GREETING; pwd; id -u; touch /x 2>/dev/null || echo readonly; touch /scratch/y && echo tmpfs-ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['67108864', '50', 'hello', '/tmp', '65534', 'readonly', 'tmpfs-ok']);
  });

  test('exec: output, exit codes, stdin, user, workdir and env; a missing command is 127', () => {
    docker(d, ['run', '-d', '--name', 'execbox', 'busybox', 'sleep', '60']);
    const out = docker(d, ['exec', 'execbox', 'sh', '-c', 'echo from-exec; echo err >&2; exit 9']);
    assert.equal(out.code, 9);
    assert.equal(out.stdout, 'from-exec\n');
    assert.equal(out.stderr, 'err\n');
    const piped = docker(d, ['exec', '-i', 'execbox', 'cat'], 'typed in\n');
    assert.equal(piped.stdout, 'typed in\n');
    const who = docker(d, ['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'X=1', 'execbox', 'sh', '-c', 'id -u; pwd; echo $X']);
    assert.equal(who.stdout, '65534\n/tmp\n1\n');
    const missing = docker(d, ['exec', 'execbox', 'nosuch']);
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /executable file not found/);
    assert.equal(docker(d, ['exec', '-d', 'execbox', 'sh', '-c', 'echo bg > /tmp/bg']).code, 0);
    let bg = '';
    for (let i = 0; i < 20 && bg !== 'bg\n'; i++) bg = docker(d, ['exec', 'execbox', 'cat', '/tmp/bg']).stdout;
    assert.equal(bg, 'bg\n');
    docker(d, ['stop', '-t', '0', 'execbox']);
    const stopped = docker(d, ['exec', 'execbox', 'true']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /is not running/);
    assert.equal(docker(d, ['rm', 'execbox']).code, 0);
  });

  test('top lists the container processes; events record the lifecycle', () => {
    const start = Math.floor(Date.now() / 1000) - 1;
    docker(d, ['run', '-d', '--name', 'topbox', 'busybox', 'sleep', '100']);
    const top = docker(d, ['top', 'topbox']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
    assert.match(top.stdout, /sleep 100\n$/);
    assert.equal(docker(d, ['top', 'topbox', '-o', 'pid,comm']).stdout.split('\n')[1]!.trim().split(/\s+/)[1], 'sleep');
    assert.equal(docker(d, ['rm', '-f', 'topbox']).code, 0);
    const ev = docker(d, ['events', '--since', String(start), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=topbox', '--format', '{{.Action}}']);
    assert.equal(ev.code, 0, ev.stderr);
    assert.deepEqual(ev.stdout.trim().split('\n'), ['create', 'start', 'kill', 'die', 'destroy']);
    const stopped = docker(d, ['top', 'nosuch']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /No such container: nosuch/);
  });

  test('restart policies restart with a RestartCount; on-failure:N stops after N; --init runs docker-init as pid 1', async () => {
    docker(d, ['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
    let state = '';
    for (let i = 0; i < 60; i++) {
      state = docker(d, ['inspect', '--format', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', 'flaky']).stdout.trim();
      if (state === 'exited 2 1') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, 'exited 2 1');
    docker(d, ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 0']);
    let count = 0;
    for (let i = 0; i < 60 && count < 2; i++) {
      count = Number(docker(d, ['inspect', '--format', '{{.RestartCount}}', 'always']).stdout.trim());
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(count >= 2, `restarted ${count} times`);
    assert.equal(docker(d, ['stop', '-t', '1', 'always']).code, 0);
    const afterStop = docker(d, ['inspect', '--format', '{{.State.Status}}', 'always']).stdout.trim();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(docker(d, ['inspect', '--format', '{{.State.Status}}', 'always']).stdout.trim(), afterStop, 'a stopped container stays stopped');
    assert.equal(docker(d, ['rm', '-f', 'flaky', 'always']).code, 0);
    const bad = docker(d, ['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /conflicting options: cannot specify both --restart and --rm|can't create 'AutoRemove' container with restart policy/);
    if (existsSync('/usr/bin/tini-static')) {
      const init = docker(d, ['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, /^\/sbin\/docker-init -- sh -c/);
    }
  });

  test('--log-opt max-size with max-file rotates the log and keeps that many files', async () => {
    const id = docker(d, ['run', '-d', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); [ $((i % 100)) = 0 ] && sleep 0.1; done']).stdout.trim();
    assert.equal(docker(d, ['wait', id]).stdout.trim(), '0');
    const files = readdirSync(`${d.dataRoot}/containers/${id}`).filter((f) => f.startsWith('container.log'));
    assert.ok(files.length >= 2 && files.length <= 3, files.join(' '));
    const lines = docker(d, ['logs', id]).stdout.trim().split('\n');
    assert.ok(lines.length < 3000, `${lines.length} lines kept`);
    assert.equal(lines.at(-1), 'line-2999');
    const bad = docker(d, ['run', '--rm', '--log-opt', 'max-file=0', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid value for max-file: 0/);
    assert.equal(docker(d, ['rm', id]).code, 0);
  });

  test('ps -s and info count containers', () => {
    docker(d, ['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /blob']);
    const ps = docker(d, ['ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}', '--filter', 'name=sized']);
    assert.match(ps.stdout, /^sized 10[0-9]kB \(virtual 2\.\d+MB\)\n$/);
    const info = docker(d, ['info', '--format', '{{.Containers}} {{.ContainersStopped}}']);
    assert.match(info.stdout, /^[1-9]\d* [1-9]\d*\n$/);
    assert.equal(docker(d, ['rm', 'sized']).code, 0);
  });

  test('live restore: a container survives SIGKILL of berthd and is still managed after restart', async () => {
    const id = docker(d, ['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do echo alive; sleep 0.2; done']).stdout.trim();
    const quick = docker(d, ['run', '-d', '--name', 'quick', 'busybox', 'sh', '-c', 'sleep 1; exit 42']).stdout.trim();
    assert.match(quick, /^[a-f0-9]{64}$/);
    // A detached exec session goes on while berthd is down, writing output no one reads.
    assert.equal(docker(d, ['exec', '-d', 'survivor', 'sh', '-c', 'sleep 2; echo to-stdout; sleep 0.3; echo more; echo written-later > /tmp/later']).code, 0);
    await d.kill();
    spawnSync('sleep', ['1.5']);
    await d.restart();
    assert.equal(docker(d, ['inspect', '--format', '{{.State.Status}}', 'survivor']).stdout.trim(), 'running');
    assert.equal(docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'quick']).stdout.trim(), 'exited 42');
    assert.match(docker(d, ['logs', '--tail', '1', 'survivor']).stdout, /^alive\n$/);
    assert.equal(conmonsFor(id), 1, 'the survivor is still watched by its conmon');
    let later = '';
    for (let i = 0; i < 50 && later !== 'written-later\n'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      later = docker(d, ['exec', 'survivor', 'cat', '/tmp/later']).stdout;
    }
    assert.equal(later, 'written-later\n');
    const exec = docker(d, ['exec', 'survivor', 'sh', '-c', 'echo still-here; exit 5']);
    assert.equal(exec.code, 5);
    assert.equal(exec.stdout, 'still-here\n');
    assert.equal(docker(d, ['stop', 'survivor']).code, 0);
    assert.equal(docker(d, ['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim(), '0');
    assert.equal(docker(d, ['rm', 'survivor', 'quick']).code, 0);
    for (const gone of [id, quick]) {
      assert.equal(conmonsFor(gone), 0, 'no conmon left');
      assert.equal(mountsFor(gone), 0, 'no mount left');
      assert.deepEqual(cgroupsFor(gone), [], 'no cgroup left');
      assert.ok(!existsSync(`${d.dir}/run/runc/${gone}`), 'no runc state left');
    }
    assert.ok(!existsSync(`${d.dataRoot}/containers/${id}`));
  });
});
