/** docker cp, export, diff and commit through the real docker CLI against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';

function ok(r: { code: number; stdout: string; stderr: string }, what = ''): string {
  assert.equal(r.code, 0, `${what}\n${r.stderr}`);
  return r.stdout;
}

describe('docker cp, export, diff and commit against berthd', () => {
  let d: Daemon;
  let work: string;
  before(async () => {
    d = await startDaemon();
    ok(berth(d, ['bootstrap']), 'bootstrap');
    work = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  });
  after(async () => {
    const ids = docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) docker(d, ['rm', '-f', ...ids]);
    await cleanup(d);
    rmSync(work, { recursive: true, force: true });
  });

  for (const running of [true, false]) {
    test(`cp a file and a directory into a ${running ? 'running' : 'stopped'} container and back out`, () => {
      const name = running ? 'cp-run' : 'cp-stopped';
      ok(docker(d, ['run', '-d', '--name', name, 'busybox', 'sleep', '1000']));
      if (!running) ok(docker(d, ['stop', '-t', '0', name]));
      const src = join(work, `${name}-src`);
      mkdirSync(join(src, 'sub'), { recursive: true });
      writeFileSync(join(src, 'file.txt'), 'file content\n');
      chmodSync(join(src, 'file.txt'), 0o640);
      writeFileSync(join(src, 'sub', 'run.sh'), '#!/bin/sh\necho run\n');
      chmodSync(join(src, 'sub', 'run.sh'), 0o755);
      ok(docker(d, ['cp', join(src, 'file.txt'), `${name}:/tmp/f.txt`]), 'cp file in');
      ok(docker(d, ['cp', src, `${name}:/data`]), 'cp dir in');
      if (running) {
        assert.equal(ok(docker(d, ['exec', name, 'cat', '/tmp/f.txt'])), 'file content\n');
        assert.equal(ok(docker(d, ['exec', name, 'stat', '-c', '%a', '/data/sub/run.sh'])).trim(), '755');
      }
      const out = join(work, `${name}-out`);
      mkdirSync(out);
      ok(docker(d, ['cp', `${name}:/tmp/f.txt`, join(out, 'f.txt')]), 'cp file out');
      assert.equal(readFileSync(join(out, 'f.txt'), 'utf8'), 'file content\n');
      assert.equal(statSync(join(out, 'f.txt')).mode & 0o777, 0o640);
      ok(docker(d, ['cp', `${name}:/data`, join(out, 'data')]), 'cp dir out');
      assert.equal(readFileSync(join(out, 'data', 'sub', 'run.sh'), 'utf8'), '#!/bin/sh\necho run\n');
      assert.equal(statSync(join(out, 'data', 'sub', 'run.sh')).mode & 0o777, 0o755);
      assert.equal(readFileSync(join(out, 'data', 'file.txt'), 'utf8'), 'file content\n');
      // The directory's contents with `/.`
      ok(docker(d, ['cp', `${name}:/data/.`, join(out, 'contents')]), 'cp dir contents out');
      assert.ok(existsSync(join(out, 'contents', 'sub', 'run.sh')));
      const missing = docker(d, ['cp', `${name}:/nosuch`, join(out, 'x')]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /Could not find the file \/nosuch in container/);
      if (!running) {
        // The writable layer is unmounted again once done.
        spawnSync('sleep', ['0.3']);
        const id = ok(docker(d, ['inspect', '-f', '{{.Id}}', name])).trim();
        const merged = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${id}/merged`));
        assert.equal(merged.length, 0, merged.join('\n'));
      }
    });
  }

  test('a symlink to /etc inside the container never reaches the host /etc', () => {
    const marker = `berth-marker-${process.pid}`;
    ok(docker(d, ['run', '-d', '--name', 'cp-link', 'busybox', 'sh', '-c', 'ln -s /etc /hostetc; ln -s ../../../../../../etc /deep; sleep 1000']));
    spawnSync('sleep', ['0.5']);
    const src = join(work, marker);
    writeFileSync(src, 'marker\n');
    ok(docker(d, ['cp', src, 'cp-link:/hostetc/']), 'cp through link');
    ok(docker(d, ['cp', src, 'cp-link:/deep/']), 'cp through deep link');
    assert.equal(existsSync(join('/etc', marker)), false, 'host /etc untouched');
    assert.equal(ok(docker(d, ['exec', 'cp-link', 'cat', `/etc/${marker}`])), 'marker\n');
    // Reading through the link gets the container's file, not the host's.
    const out = join(work, 'hostname-out');
    ok(docker(d, ['cp', 'cp-link:/deep/hostname', out]));
    assert.notEqual(readFileSync(out, 'utf8'), readFileSync('/etc/hostname', 'utf8') + 'x');
    const group = join(work, 'group-out');
    ok(docker(d, ['cp', 'cp-link:/hostetc/group', group]));
    assert.equal(readFileSync(group, 'utf8'), ok(docker(d, ['exec', 'cp-link', 'cat', '/etc/group'])));
    // A symlink as the last component comes back as a symlink.
    const tarOut = spawnSync('/usr/local/bin/docker', ['cp', 'cp-link:/hostetc', '-'], { env: d.env });
    assert.equal(tarOut.status, 0);
    const listing = spawnSync('tar', ['-tv'], { input: tarOut.stdout, encoding: 'utf8' }).stdout;
    assert.match(listing, /hostetc -> \/etc/);
    assert.equal(existsSync(join('/etc', marker)), false);
  });

  test('paths with .. stay inside the container', () => {
    ok(docker(d, ['run', '-d', '--name', 'cp-dots', 'busybox', 'sleep', '1000']));
    const src = join(work, 'dots.txt');
    writeFileSync(src, 'dots\n');
    ok(docker(d, ['cp', src, 'cp-dots:/../../../../tmp/../../dots.txt']));
    assert.equal(ok(docker(d, ['exec', 'cp-dots', 'cat', '/dots.txt'])), 'dots\n');
    const out = join(work, 'passwd-out');
    ok(docker(d, ['cp', 'cp-dots:/../../../../../etc/passwd', out]));
    assert.equal(readFileSync(out, 'utf8'), ok(docker(d, ['exec', 'cp-dots', 'cat', '/etc/passwd'])));
  });

  test('export lists the whole file system', () => {
    ok(docker(d, ['create', '--name', 'exp', 'busybox', 'true']));
    const r = spawnSync('sh', ['-c', '/usr/local/bin/docker export exp | tar -t'], { env: d.env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('bin/busybox'), r.stdout.slice(0, 500));
  });

  test('diff shows added, changed and deleted paths as docker prints them', () => {
    ok(docker(d, ['run', '--name', 'dif', 'busybox', 'sh', '-c', 'touch /new; rm /etc/group']));
    const lines = ok(docker(d, ['diff', 'dif'])).split('\n').filter(Boolean);
    assert.ok(lines.includes('A /new'), lines.join('\n'));
    assert.ok(lines.includes('C /etc'), lines.join('\n'));
    assert.ok(lines.includes('D /etc/group'), lines.join('\n'));
    assert.ok(!lines.some((l) => /hostname|resolv\.conf|hosts/.test(l)), lines.join('\n'));
  });

  test('commit makes an image that runs, with history, parent and author', () => {
    ok(docker(d, ['run', '--name', 'com', 'busybox', 'sh', '-c', 'echo committed > /msg']));
    const id = ok(docker(d, ['commit', '-c', 'CMD ["cat","/msg"]', '-m', 'm', '-a', 'me', 'com', 'committed:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(ok(docker(d, ['run', '--rm', 'committed:v1'])), 'committed\n');
    const history = ok(docker(d, ['history', '--no-trunc', '--format', '{{.ID}}\t{{.Comment}}\t{{.CreatedBy}}', 'committed:v1'])).split('\n');
    assert.equal(history[0], `${id}\tm\tsh -c echo committed > /msg`);
    const parent = ok(docker(d, ['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    assert.equal(ok(docker(d, ['image', 'inspect', '-f', '{{.Parent}} {{.Author}} {{.Comment}}', 'committed:v1'])).trim(), `${parent} me m`);
    // A container without changes still gets a layer.
    ok(docker(d, ['create', '--name', 'com-empty', 'busybox', 'true']));
    const empty = ok(docker(d, ['commit', 'com-empty'])).trim();
    const layers = ok(docker(d, ['image', 'inspect', '-f', '{{len .RootFS.Layers}}', empty])).trim();
    const baseLayers = ok(docker(d, ['image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'busybox'])).trim();
    assert.equal(Number(layers), Number(baseLayers) + 1);
    // The parent cannot go while a child image exists.
    docker(d, ['rm', '-f', ...docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    const rmi = docker(d, ['rmi', parent]);
    assert.notEqual(rmi.code, 0);
    assert.match(rmi.stderr, /image has dependent child images/);
  });
});
