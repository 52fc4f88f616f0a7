/**
 * Archives cross between berthd and a real dockerd (Debian's docker.io) in
 * both directions, with the same image IDs and runnable images on arrival.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';
import { busyboxRootfs } from '../helpers/tars.js';

const reason = hasDockerd() ? false : 'needs Debian docker.io (/usr/sbin/dockerd), installed by `make test-deps`';

describe('save/load between berthd and a real dockerd', { skip: reason }, () => {
  let berthd: Daemon;
  let ref: RefDaemon;
  let rootfs: string;

  before(async () => {
    berthd = await startDaemon();
    ref = await startRefDockerd();
    rootfs = join(berthd.dir, 'rootfs.tar');
    writeFileSync(rootfs, await busyboxRootfs());
  });
  after(async () => {
    await ref?.stop();
    if (berthd) await cleanup(berthd);
  });

  test('an image saved by berthd loads into dockerd and runs there', () => {
    const imp = docker(berthd, ['import', '-c', 'CMD ["echo", "from berth"]', rootfs, 'crossing:berth']);
    assert.equal(imp.code, 0, imp.stderr);
    const id = imp.stdout.trim();
    const archive = join(berthd.dir, 'from-berth.tar');
    assert.equal(docker(berthd, ['save', '-o', archive, 'crossing:berth']).code, 0);
    const load = docker(ref, ['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: crossing:berth/);
    assert.equal(docker(ref, ['image', 'inspect', '--format', '{{.Id}}', 'crossing:berth']).stdout.trim(), id);
    const run = docker(ref, ['run', '--rm', '--network', 'none', 'crossing:berth']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'from berth');
  });

  test('an image saved by dockerd loads into berthd with the same ID and content', () => {
    const imp = docker(ref, ['import', '-c', 'ENV ORIGIN=dockerd', rootfs, 'crossing:ref']);
    assert.equal(imp.code, 0, imp.stderr);
    const id = imp.stdout.trim();
    const archive = join(berthd.dir, 'from-ref.tar');
    assert.equal(docker(ref, ['save', '-o', archive, 'crossing:ref']).code, 0);
    const load = docker(berthd, ['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: crossing:ref/);
    const inspect = docker(berthd, ['image', 'inspect', '--format', '{{.Id}} {{json .Config.Env}}', 'crossing:ref']);
    assert.equal(inspect.stdout.trim(), `${id} ["ORIGIN=dockerd"]`);
    // And back again: berthd's save of dockerd's image still loads into dockerd.
    const back = join(berthd.dir, 'back.tar');
    assert.equal(docker(berthd, ['save', '-o', back, 'crossing:ref']).code, 0);
    assert.equal(docker(ref, ['rmi', 'crossing:ref']).code, 0);
    const reload = docker(ref, ['load', '-i', back]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.equal(docker(ref, ['image', 'inspect', '--format', '{{.Id}}', 'crossing:ref']).stdout.trim(), id);
  });
});
