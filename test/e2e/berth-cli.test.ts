/**
 * The berth CLI prints what the docker CLI prints, against berthd and against
 * a real dockerd, and `berth bootstrap` makes the offline base images.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berth, cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';
import { busyboxRootfs } from '../helpers/tars.js';

/** Relative times move on between two runs of the same listing. */
const norm = (s: string) => s.replace(/(Less than a second|About an? \w+|\d+ \w+) ago/g, '<when> ago').replace(/ +/g, ' ');

/** Commands whose whole output (stdout, stderr, exit code) must match docker's byte for byte. */
const SAME_OUTPUT: string[][] = [
  ['images'],
  ['images', '-a', '--digests'],
  ['images', '--no-trunc'],
  ['images', '-q'],
  ['images', 'busybox'],
  ['images', '--filter', 'reference=hello*', '--format', '{{.Repository}} {{.Tag}} {{.Size}}'],
  ['images', '--format', 'table {{.ID}}\t{{.Repository}}'],
  ['images', '--format', 'json'],
  ['history', 'busybox'],
  ['history', '--no-trunc', '-H=false', 'hello-world'],
  ['image', 'inspect', 'busybox'],
  ['image', 'inspect', '--format', '{{.Id}} {{json .RepoTags}} {{.Config.Cmd}}', 'hello-world'],
  ['inspect', '--type', 'image', 'busybox'],
  ['inspect', 'nosuch'],
  ['image', 'inspect', 'nosuch'],
  ['rmi', 'nosuch'],
  ['tag', 'busybox', 'BAD/Name'],
  ['tag', 'nosuch', 'x'],
  ['system', 'df'],
  ['system', 'df', '-v'],
  ['images', '--filter', 'color=red'],
  ['images', '--bogus'],
  ['save', 'nosuch'],
];

describe('berth CLI', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => cleanup(d));

  test('bootstrap makes busybox and hello-world offline', () => {
    const r = berth(d, ['bootstrap']);
    assert.equal(r.code, 0, r.stderr);
    const ids = r.stdout.trim().split('\n');
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const tags = docker(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.trim().split('\n').sort();
    assert.deepEqual(tags, ['busybox:latest', 'hello-world:latest']);
    const cmd = docker(d, ['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'busybox']);
    assert.equal(cmd.stdout.trim(), '["sh"]');
  });

  test('prints what the docker CLI prints', () => {
    for (const args of SAME_OUTPUT) {
      const want = docker(d, args);
      const got = berth(d, args);
      const label = args.join(' ');
      assert.equal(got.code, want.code, `${label}: exit code\n${got.stderr}`);
      assert.equal(norm(got.stdout), norm(want.stdout), `${label}: stdout`);
      assert.equal(got.stderr.replaceAll('berth', 'docker'), want.stderr, `${label}: stderr`);
    }
  });

  test('tag, save, rmi, load and import through berth', async () => {
    assert.equal(berth(d, ['tag', 'busybox', 'mine:1']).code, 0);
    const archive = join(d.dir, 'mine.tar');
    const save = berth(d, ['save', '-o', archive, 'mine:1']);
    assert.equal(save.code, 0, save.stderr);
    const rmi = berth(d, ['rmi', 'mine:1']);
    assert.equal(rmi.stdout, 'Untagged: mine:1\n');
    const load = berth(d, ['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, 'Loaded image: mine:1\n');
    const rootfs = join(d.dir, 'rootfs.tar');
    writeFileSync(rootfs, await busyboxRootfs());
    const imp = berth(d, ['import', '-c', 'ENTRYPOINT ["/bin/sh"]', rootfs, 'imported:x']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(docker(d, ['image', 'inspect', '--format', '{{json .Config.Entrypoint}}', 'imported:x']).stdout.trim(), '["/bin/sh"]');
    const prune = berth(d, ['image', 'prune', '-a', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Deleted Images:/);
    assert.equal(berth(d, ['images', '-q']).stdout, '');
  });

  test('a daemon that is not there gets docker words', () => {
    const r = berth({ env: { ...process.env, DOCKER_HOST: `unix://${d.dir}/nothing.sock` } }, ['images']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to the Docker daemon at unix:\/\/.*nothing\.sock\. Is the docker daemon running\?/);
  });
});

describe('berth CLI against a real dockerd', { skip: hasDockerd() ? false : 'needs Debian docker.io' }, () => {
  let ref: RefDaemon;
  let dir: Daemon;
  before(async () => {
    ref = await startRefDockerd();
    dir = await startDaemon();
  });
  after(async () => {
    await ref?.stop();
    if (dir) await cleanup(dir);
  });

  test('bootstrap, images, tag, inspect, save, load and rmi work on dockerd', () => {
    const boot = berth(ref, ['bootstrap', '--only', 'busybox']);
    assert.equal(boot.code, 0, boot.stderr);
    for (const args of [['images'], ['history', 'busybox'], ['image', 'inspect', 'busybox'], ['images', '--format', '{{.Repository}}']]) {
      const want = docker(ref, args);
      const got = berth(ref, args);
      assert.equal(norm(got.stdout), norm(want.stdout), args.join(' '));
      assert.equal(got.code, want.code);
    }
    assert.equal(berth(ref, ['tag', 'busybox', 'viaberth:1']).code, 0);
    const archive = join(dir.dir, 'ref.tar');
    assert.equal(berth(ref, ['save', '-o', archive, 'viaberth:1']).code, 0);
    assert.equal(berth(ref, ['rmi', 'viaberth:1']).stdout, 'Untagged: viaberth:1\n');
    const load = berth(ref, ['load', '-i', archive]);
    assert.equal(load.stdout, 'Loaded image: viaberth:1\n', load.stderr);
    const run = docker(ref, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'bootstrapped']);
    assert.equal(run.stdout.trim(), 'bootstrapped', run.stderr);
  });
});
