/**
 * berth's container commands against Debian's real dockerd, side by side
 * with the docker CLI on the same daemon: the same stdout, stderr and exit
 * status for run, logs, stop, rm, exec, ps, cp and piped stdin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, docker, hasDocker, type Run } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';

const skip = !hasDockerd() || !hasDocker() ? 'needs /usr/sbin/dockerd and /usr/local/bin/docker' : false;

/** docker's output with its name swapped for berth's, to compare messages. */
const asBerth = (r: Run): Run => ({ ...r, stderr: r.stderr.replace(/\bdocker\b/g, 'berth') });

/**
 * docker cp sometimes logs its abandoned tar goroutine's failure
 * (`Can't add file … to tar: io: read/write on closed pipe`); it is a race
 * in the docker CLI, not part of the command's answer.
 */
const withoutTarNoise = (r: Run): Run => ({
  ...r,
  stderr: r.stderr.replace(/^time="[^"]*" level=error msg="Can't (add file .* to tar|close tar writer): io: read\/write on closed pipe"\n/gm, ''),
});

/** A directory tree as `path type mode size [content]` lines. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      const r = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) {
        out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(p, r);
      } else out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.size} ${readFileSync(p, 'utf8')}`);
    }
  };
  walk(root, '');
  return out;
}

describe('berth container commands vs the docker CLI on a reference dockerd', { skip }, () => {
  let d: RefDaemon;
  let work: string;

  before(async () => {
    d = await startRefDockerd();
    work = mkdtempSync(join(tmpdir(), 'berth-ctr-ref-'));
    const b = berth(d, ['bootstrap', '--only', 'busybox']);
    assert.equal(b.code, 0, b.stderr);
  });

  after(async () => {
    if (d) {
      const ids = docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) docker(d, ['rm', '-f', ...ids]);
      await d.stop();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('run --rm echo: hi, exit 0, like docker', () => {
    const args = ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'];
    const b = berth(d, args);
    assert.deepEqual(b, { code: 0, stdout: 'hi\n', stderr: '' });
    assert.deepEqual(b, asBerth(docker(d, args)));
  });

  test("run sh -c 'exit 3': the container's status is the CLI's", () => {
    const args = ['run', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'];
    const b = berth(d, args);
    assert.deepEqual(b, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.deepEqual(b, asBerth(docker(d, args)));
  });

  test('126 and 127 come from the container, 125 from the daemon', () => {
    for (const args of [
      ['run', '--rm', '--network', 'none', 'busybox', 'nosuchcommand'],
      ['run', '--rm', '--network', 'none', 'busybox', '/etc'],
      ['run', '--rm', '--network', 'none', '--name', 'dup name', 'busybox'],
    ]) {
      const b = berth(d, args);
      assert.deepEqual(b, asBerth(docker(d, args)), args.join(' '));
    }
    assert.equal(berth(d, ['run', '--rm', '--network', 'none', 'busybox', 'nosuchcommand']).code, 127);
  });

  test('run -d, logs, stop, rm', () => {
    const r = berth(d, ['run', '-d', '--name', 'ref-web', '--network', 'none', 'busybox', 'sh', '-c', 'echo started; echo warn >&2; trap "exit 0" TERM; while true; do sleep 0.2; done']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(docker(d, ['inspect', '-f', '{{.State.Running}}', 'ref-web']).stdout, 'true\n');
    // wait for the output to be logged
    for (let i = 0; i < 50 && berth(d, ['logs', 'ref-web']).stdout === ''; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    const logs = berth(d, ['logs', 'ref-web']);
    assert.deepEqual(logs, { code: 0, stdout: 'started\n', stderr: 'warn\n' });
    assert.deepEqual(logs, docker(d, ['logs', 'ref-web']));
    assert.deepEqual(berth(d, ['logs', '--tail', '1', id.slice(0, 12)]), docker(d, ['logs', '--tail', '1', id.slice(0, 12)]));
    assert.deepEqual(berth(d, ['stop', '-t', '5', 'ref-web']), { code: 0, stdout: 'ref-web\n', stderr: '' });
    assert.equal(docker(d, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ref-web']).stdout, 'exited 0\n');
    assert.deepEqual(berth(d, ['rm', 'ref-web']), { code: 0, stdout: 'ref-web\n', stderr: '' });
    const again = berth(d, ['rm', 'ref-web']);
    assert.deepEqual(again, asBerth(docker(d, ['rm', 'ref-web'])));
    assert.equal(again.code, 1);
  });

  test("exec: output and the command's exit code", () => {
    assert.equal(berth(d, ['run', '-d', '--name', 'ref-exec', '--network', 'none', 'busybox', 'sleep', '600']).code, 0);
    const args = ['exec', '-e', 'FOO=bar', '-w', '/tmp', 'ref-exec', 'sh', '-c', 'echo $FOO $(pwd); echo e >&2; exit 5'];
    const b = berth(d, args);
    assert.deepEqual(b, { code: 5, stdout: 'bar /tmp\n', stderr: 'e\n' });
    assert.deepEqual(b, docker(d, args));
    const missing = ['exec', 'ref-exec', 'nosuchcommand'];
    assert.deepEqual(berth(d, missing), asBerth(docker(d, missing)));
    assert.deepEqual(berth(d, ['exec', 'nosuch', 'true']), asBerth(docker(d, ['exec', 'nosuch', 'true'])));
  });

  test('ps -a prints what docker prints', () => {
    assert.equal(berth(d, ['create', '--name', 'ref-created', '--network', 'none', '-l', 'a=b', 'busybox', 'echo', 'a very long command line here']).code, 0);
    for (const args of [['ps', '-a'], ['ps'], ['ps', '-a', '--no-trunc'], ['ps', '-aq'], ['ps', '-a', '--format', '{{json .}}'], ['container', 'ls', '-a', '-s']]) {
      // The columns count seconds and the two CLIs run one after the other: the counts may differ by one.
      const relax = (r: Run): Run => ({ ...r, stdout: r.stdout.replace(/\b\d+ seconds\b/g, 'N seconds') });
      let same = false;
      let last: [Run, Run] | undefined;
      for (let i = 0; i < 5 && !same; i++) {
        last = [relax(berth(d, args)), relax(docker(d, args))];
        same = JSON.stringify(last[0]) === JSON.stringify(last[1]);
      }
      assert.deepEqual(last![0], last![1], args.join(' '));
    }
  });

  test('cp in and out, like docker cp', () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'hello\n', { mode: 0o640 });
    writeFileSync(join(src, 'sub', 'b.txt'), 'sub\n');
    assert.equal(berth(d, ['run', '-d', '--name', 'ref-cp', '--network', 'none', 'busybox', 'sleep', '600']).code, 0);

    assert.deepEqual(berth(d, ['cp', src, 'ref-cp:/tmp/in']), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(berth(d, ['cp', join(src, 'a.txt'), 'ref-cp:/tmp/single.txt']), { code: 0, stdout: '', stderr: '' });
    const listing = ['exec', 'ref-cp', 'sh', '-c', 'cd /tmp && find . | sort && cat in/a.txt in/sub/b.txt single.txt && stat -c %a in/a.txt'];
    assert.deepEqual(berth(d, listing), { code: 0, stdout: '.\n./in\n./in/a.txt\n./in/sub\n./in/sub/b.txt\n./single.txt\nhello\nsub\nhello\n640\n', stderr: '' });

    const outB = join(work, 'out-berth');
    const outD = join(work, 'out-docker');
    mkdirSync(outB);
    mkdirSync(outD);
    for (const [from, to] of [
      ['ref-cp:/tmp/in', ''],
      ['ref-cp:/tmp/in/.', 'contents'],
      ['ref-cp:/tmp/single.txt', 'renamed.txt'],
    ] as const) {
      const b = berth(d, ['cp', from, join(outB, to)]);
      const k = docker(d, ['cp', from, join(outD, to)]);
      assert.deepEqual(b, k, from);
    }
    assert.deepEqual(tree(outB), tree(outD));
    assert.ok(tree(outB).includes('in/a.txt 640 6 hello\n'));

    // errors read the same
    for (const args of [
      ['cp', 'ref-cp:/nonexistent', outB],
      ['cp', join(src, 'nope'), 'ref-cp:/tmp/'],
      ['cp', src, 'ref-cp:/tmp/single.txt'],
    ]) {
      assert.deepEqual(berth(d, args), withoutTarNoise(asBerth(docker(d, args))), args.join(' '));
    }

    // a tar on stdout
    const tarB = berth(d, ['cp', 'ref-cp:/tmp/single.txt', '-']);
    assert.equal(tarB.code, 0);
    assert.ok(tarB.stdout.startsWith('single.txt'));
  });

  test('-i with piped stdin, closed at EOF', () => {
    const input = 'one\ntwo\nthree\n';
    const args = ['run', '--rm', '-i', '--network', 'none', 'busybox', 'sh', '-c', 'cat; echo eof-seen >&2'];
    const b = berth(d, args, input);
    assert.deepEqual(b, { code: 0, stdout: input, stderr: 'eof-seen\n' });
    assert.deepEqual(b, docker(d, args, input));
    const wc = ['run', '--rm', '-i', '--network', 'none', 'busybox', 'wc', '-l'];
    assert.deepEqual(berth(d, wc, input), docker(d, wc, input));
  });
});
