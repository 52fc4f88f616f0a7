/**
 * docker exec against berthd: the process joins the container (namespaces,
 * cgroups), gets the container's capabilities, seccomp filter and rlimits,
 * the session's user, directory and environment, a terminal of the client's
 * size with -t, and docker's exit codes and words when it cannot start. When
 * Debian's dockerd is installed, the same commands run there and the answers
 * are compared.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { berth, cleanup, docker, hasDocker, startDaemon, type Daemon, type Run } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';

const skip = !hasDocker() ? 'needs /usr/local/bin/docker' : false;

/**
 * Runs `docker ...` under a pseudo-terminal of the given size (util-linux
 * script), returning what the terminal showed; the `^@` that script's terminal
 * echoes when the client starts is dropped (a real dockerd shows it too).
 */
function onTerminal(d: { env: NodeJS.ProcessEnv }, rows: number, cols: number, args: string[], input = ''): Run {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-eqc', `stty rows ${rows} cols ${cols}; docker ${quoted}`, '/dev/null'], {
    env: d.env,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: (r.stdout ?? '').replace(/\r/g, '').replace(/\^@/g, ''), stderr: r.stderr ?? '' };
}

const STATUS = 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status';

describe('docker exec against berthd', { skip }, () => {
  let d: Daemon;
  let ref: RefDaemon | undefined;
  const engines = () => [d, ...(ref ? [ref] : [])] as Array<{ env: NodeJS.ProcessEnv }>;

  before(async () => {
    d = await startDaemon();
    if (hasDockerd()) ref = await startRefDockerd();
    for (const e of engines()) {
      const b = berth(e, ['bootstrap', '--only', 'busybox']);
      assert.equal(b.code, 0, b.stderr);
      const boxes: Array<[string, string[]]> = [
        ['plain', []],
        ['nocaps', ['--cap-drop', 'ALL', '--cap-add', 'CHOWN']],
        ['nnp', ['--security-opt', 'no-new-privileges', '--ulimit', 'nofile=1024:2048', '-e', 'FROM_CONTAINER=yes', '-w', '/etc']],
        ['asnobody', ['-u', 'nobody']],
      ];
      for (const [name, opts] of boxes) {
        const r = docker(e, ['run', '-d', '--network', 'none', '--name', name, ...opts, 'busybox', 'sleep', '600']);
        assert.equal(r.code, 0, r.stderr);
      }
    }
    // Every capability the host can grant (dockerd 20.10 asks for more than this host has, and fails).
    assert.equal(docker(d, ['run', '-d', '--network', 'none', '--name', 'allcaps', '--cap-add', 'ALL', 'busybox', 'sleep', '600']).code, 0);
  });

  after(async () => {
    for (const e of engines()) {
      const ids = docker(e, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) docker(e, ['rm', '-f', ...ids]);
    }
    await ref?.stop();
    if (d) await cleanup(d);
  });

  test('the process is inside the container: its namespaces and cgroups, its pid namespace numbering', () => {
    const script = 'for n in mnt pid net uts ipc; do [ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] && echo same-$n; done; [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroups; echo $$ | awk "{print (\\$1 < 100) ? \\"low-pid\\" : \\"high-pid\\"}"; hostname';
    const r = docker(d, ['exec', 'plain', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const id = docker(d, ['inspect', '-f', '{{.Id}}', 'plain']).stdout.trim();
    assert.deepEqual(r.stdout.trim().split('\n'), ['same-mnt', 'same-pid', 'same-net', 'same-uts', 'same-ipc', 'same-cgroups', 'low-pid', id.slice(0, 12)]);
  });

  test('capabilities, no_new_privs and seccomp are the container’s, as docker gives them', () => {
    const cases: Array<[string, string[]]> = [
      ['plain', []],
      ['nocaps', []],
      ['nnp', []],
      ['asnobody', []],
      ['plain', ['-u', 'nobody']],
    ];
    for (const [box, opts] of cases) {
      const ours = docker(d, ['exec', ...opts, box, 'sh', '-c', STATUS]);
      assert.equal(ours.code, 0, ours.stderr);
      assert.match(ours.stdout, /Seccomp:\s+[02]/);
      if (!ref) continue;
      const theirs = docker(ref, ['exec', ...opts, box, 'sh', '-c', STATUS]);
      assert.equal(ours.stdout, theirs.stdout, `exec ${opts.join(' ')} ${box}`);
    }
    // --privileged: every capability this host can grant, no seccomp filter. (dockerd 20.10 asks for
    // capabilities the host lacks here and fails, so there is nothing to compare with.)
    const own = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    const priv = docker(d, ['exec', '--privileged', 'plain', 'sh', '-c', STATUS]);
    assert.equal(priv.code, 0, priv.stderr);
    assert.match(priv.stdout, new RegExp(`CapEff:\\s+${own}\n`));
    assert.match(priv.stdout, new RegExp(`CapBnd:\\s+${own}\n`));
    assert.match(priv.stdout, /Seccomp:\s+0/);
    assert.match(docker(d, ['exec', 'plain', 'sh', '-c', STATUS]).stdout, /Seccomp:\s+2/);
    // With every capability, only the filter stands between swapoff and the kernel (which then finds /dev/null no
    // swap area): the session is refused as the container's own process is, and not once the filter is lifted.
    assert.match(docker(d, ['exec', 'allcaps', 'swapoff', '/dev/null']).stderr, /Operation not permitted/);
    assert.match(docker(d, ['run', '--rm', '--cap-add', 'ALL', 'busybox', 'swapoff', '/dev/null']).stderr, /Operation not permitted/);
    assert.match(docker(d, ['run', '--rm', '--cap-add', 'ALL', '--security-opt', 'seccomp=unconfined', 'busybox', 'swapoff', '/dev/null']).stderr, /Invalid argument/);
    assert.match(docker(d, ['exec', '--privileged', 'allcaps', 'swapoff', '/dev/null']).stderr, /Invalid argument/);
  });

  test('environment, user, working directory and rlimits: the container’s, then the session’s', () => {
    const script = 'id -u; pwd; echo $FROM_CONTAINER $X $HOME; ulimit -n; ulimit -Hn';
    for (const e of engines()) {
      const base = docker(e, ['exec', 'nnp', 'sh', '-c', script]);
      assert.equal(base.code, 0, base.stderr);
      // dockerd 20.10 leaves the soft limit at the hard one in exec sessions; runc (and Berth) apply the container's.
      const soft = e === d ? '1024' : base.stdout.trim().split('\n')[3];
      assert.deepEqual(base.stdout.trim().split('\n'), ['0', '/etc', 'yes /root', soft, '2048']);
      const over = docker(e, ['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'X=1', '-e', 'FROM_CONTAINER=no', 'nnp', 'sh', '-c', script]);
      assert.equal(over.code, 0, over.stderr);
      assert.deepEqual(over.stdout.trim().split('\n').slice(0, 3), ['65534', '/tmp', 'no 1 /home']);
      assert.equal(docker(e, ['exec', 'asnobody', 'id', '-u']).stdout, '65534\n');
      assert.equal(docker(e, ['exec', '-u', '0', 'asnobody', 'id', '-u']).stdout, '0\n');
    }
  });

  test('stdout and stderr stay apart; stdin is /dev/null unless -i, then it is the client’s', () => {
    for (const e of engines()) {
      const r = docker(e, ['exec', 'plain', 'sh', '-c', 'echo out; echo err >&2; cat; exit 4'], 'ignored\n');
      assert.equal(r.code, 4);
      assert.equal(r.stdout, 'out\n');
      assert.equal(r.stderr, 'err\n');
      const big = 'x'.repeat(300_000) + '\n';
      const piped = docker(e, ['exec', '-i', 'plain', 'sh', '-c', 'wc -c; exit 0'], big);
      assert.equal(piped.stdout.trim(), String(big.length));
    }
  });

  test('a session ends with its process, even when a background child keeps the output open', () => {
    const t = Date.now();
    const r = docker(d, ['exec', 'plain', 'sh', '-c', 'sleep 30 & echo started']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'started\n');
    assert.ok(Date.now() - t < 10_000, 'did not wait for the background sleep');
  });

  test('-t gives a terminal of the client’s size with TERM=xterm; -it is interactive', () => {
    for (const e of engines()) {
      const r = onTerminal(e, 33, 101, ['exec', '-it', 'plain', 'sh', '-c', 'stty size; echo $TERM; tty; exit 5']);
      assert.equal(r.code, 5, r.stdout + r.stderr);
      const lines = r.stdout.trim().split('\n');
      // dockerd 20.10 does not pass the size at start (the CLI's resize follows); Berth does.
      if (e === d) assert.equal(lines[0], '33 101');
      assert.deepEqual(lines.slice(1, 2), ['xterm']);
      assert.match(lines[2]!, /^\/dev\/pts\/\d+$/);
    }
    const talk = onTerminal(d, 24, 80, ['exec', '-it', 'plain', 'sh'], 'echo typed-$((6*7))\nexit 3\n');
    assert.equal(talk.code, 3, talk.stdout);
    assert.match(talk.stdout, /typed-42/);
  });

  test('-d runs in the background; inspect reports the running session and its exit code', async () => {
    assert.equal(docker(d, ['exec', '-d', 'plain', 'sh', '-c', 'sleep 0.3; echo bg > /tmp/bg']).code, 0);
    let seen = '';
    for (let i = 0; i < 50 && seen !== 'bg\n'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = docker(d, ['exec', 'plain', 'cat', '/tmp/bg']).stdout;
    }
    assert.equal(seen, 'bg\n');
    const execs = docker(d, ['inspect', '-f', '{{len .ExecIDs}}', 'plain']);
    assert.match(execs.stdout, /^\d+\n$/);
  });

  test('a command that cannot start: docker’s words and 126/127', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['nosuch'], 127, /OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in \$PATH: unknown/],
      [['/nosuch'], 127, /exec: "\/nosuch": stat \/nosuch: no such file or directory/],
      [['/etc/passwd'], 126, /exec: "\/etc\/passwd": permission denied/],
      [['-w', '/nope', 'true'], 126, /chdir to cwd \("\/nope"\) set in config\.json failed: no such file or directory/],
    ];
    for (const [args, code, words] of cases) {
      const last = args.at(-1)!;
      const argv = args.length > 1 ? [...args.slice(0, -1), 'plain', last] : ['plain', last];
      // docker 23 and later give 127 for a missing command (dockerd 20.10 gave 126): compared with the words only.
      const r = docker(d, ['exec', ...argv]);
      assert.equal(r.code, code, `exec ${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, words);
      if (ref) {
        const theirs = docker(ref, ['exec', ...argv]);
        assert.match(theirs.stdout + theirs.stderr, words);
      }
    }
  });

  test('exec needs a running, unpaused container', () => {
    docker(d, ['create', '--name', 'idle', 'busybox', 'true']);
    const stopped = docker(d, ['exec', 'idle', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /is not running/);
    assert.equal(docker(d, ['pause', 'plain']).code, 0);
    const paused = docker(d, ['exec', 'plain', 'true']);
    assert.match(paused.stderr, /is paused, unpause the container before exec/);
    assert.equal(docker(d, ['unpause', 'plain']).code, 0);
    assert.equal(docker(d, ['exec', 'plain', 'true']).code, 0);
    const missing = docker(d, ['exec', 'nosuchbox', 'true']);
    assert.match(missing.stderr, /No such container: nosuchbox/);
  });

  test('the session’s processes end with the container', async () => {
    docker(d, ['run', '-d', '--name', 'short', 'busybox', 'sleep', '600']);
    docker(d, ['exec', '-d', 'short', 'sleep', '500']);
    const pids = () => spawnSync('pgrep', ['-f', '^sleep 500$'], { encoding: 'utf8' }).stdout.trim();
    for (let i = 0; i < 20 && !pids(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(pids(), '');
    assert.equal(docker(d, ['rm', '-f', 'short']).code, 0);
    for (let i = 0; i < 50 && pids(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(pids(), '');
  });
});
