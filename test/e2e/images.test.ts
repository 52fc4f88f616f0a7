/** The real docker CLI drives berthd through the image lifecycle. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/tars.js';

describe('docker CLI against berthd: images', () => {
  let d: Daemon;
  let rootfs: string;
  let id: string;

  before(async () => {
    d = await startDaemon();
    rootfs = join(d.dir, 'rootfs.tar');
    writeFileSync(rootfs, await busyboxRootfs());
  });
  after(async () => cleanup(d));

  test('version and info answer in docker shapes', () => {
    const v = docker(d, ['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.51 linux');
    const i = docker(d, ['info', '--format', '{{.Driver}} {{.DockerRootDir}} {{.NCPU}}']);
    assert.equal(i.code, 0, i.stderr);
    const [driver, root, ncpu] = i.stdout.trim().split(' ');
    assert.equal(driver, 'overlay2');
    assert.equal(root, d.dataRoot);
    assert.ok(Number(ncpu) >= 1);
  });

  test('import with changes and a message', () => {
    const r = docker(d, ['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1 B=two', '-c', 'WORKDIR /tmp', '-m', 'made in a test', rootfs, 'testbox:1']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const inspect = docker(d, ['image', 'inspect', '--format', '{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Config.WorkingDir}}|{{.Comment}}|{{.Os}}', 'testbox:1']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), '["sh"]|["A=1","B=two"]|/tmp|made in a test|linux');
  });

  test('import from stdin', () => {
    const r = spawnSync('/usr/local/bin/docker', ['import', '-', 'stdinbox'], { env: d.env, input: readFileSync(rootfs), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.notEqual(r.stdout.trim(), id);
  });

  test('images lists, filters, formats and quiets', () => {
    const table = docker(d, ['images']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(lines.some((l) => /^testbox\s+1\s+[a-f0-9]{12}\s/.test(l)), table.stdout);
    assert.ok(lines.some((l) => /^stdinbox\s+latest\s/.test(l)), table.stdout);

    const q = docker(d, ['images', '-q', 'testbox']);
    assert.equal(q.stdout.trim(), id.slice(7, 19));

    const f = docker(d, ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=test*']);
    assert.equal(f.stdout.trim(), 'testbox:1');

    const none = docker(d, ['images', '--filter', 'dangling=true', '-q']);
    assert.equal(none.stdout.trim(), '');
  });

  test('tag, then inspect by every kind of name', () => {
    assert.equal(docker(d, ['tag', 'testbox:1', 'example.com/team/app:v2']).code, 0);
    assert.equal(docker(d, ['image', 'tag', id, 'another']).code, 0);
    for (const name of ['testbox:1', 'example.com/team/app:v2', 'another', 'another:latest', id, id.slice(7, 19), id.slice(7)]) {
      const r = docker(d, ['image', 'inspect', '--format', '{{.Id}}', name]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), id, name);
    }
    const tags = docker(d, ['image', 'inspect', '--format', '{{json .RepoTags}}', id]);
    assert.deepEqual(JSON.parse(tags.stdout).sort(), ['another:latest', 'example.com/team/app:v2', 'testbox:1']);
  });

  test('history shows the import', () => {
    const r = docker(d, ['history', '--format', '{{.ID}}|{{.Comment}}', 'testbox:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${id.slice(7, 19)}|made in a test`);
  });

  test('bad input gets docker words and exit codes', () => {
    const missing = docker(d, ['image', 'inspect', 'nosuch:tag']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:tag/);
    const invalid = docker(d, ['tag', 'testbox:1', 'team/UPPER']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid reference format/);
    const rmiMissing = docker(d, ['rmi', 'ghost']);
    assert.equal(rmiMissing.code, 1);
    assert.match(rmiMissing.stderr, /Error response from daemon: No such image: ghost:latest/);
    const conflict = docker(d, ['rmi', id.slice(7, 19)]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/);
    const badChange = docker(d, ['import', '-c', 'RUN echo hi', rootfs]);
    assert.equal(badChange.code, 1);
    assert.match(badChange.stderr, /run is not a valid change command/);
  });

  test('save writes a docker-archive with an OCI layout, and load restores it', () => {
    const out = join(d.dir, 'saved.tar');
    const s = docker(d, ['save', '-o', out, 'testbox:1', 'another']);
    assert.equal(s.code, 0, s.stderr);
    const list = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of ['manifest.json', 'index.json', 'oci-layout', `blobs/sha256/${id.slice(7)}`]) assert.ok(list.includes(f), `${f} in ${list}`);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }).stdout);
    assert.deepEqual(manifest[0].RepoTags.sort(), ['another:latest', 'testbox:1']);

    const rm = docker(d, ['rmi', '-f', id]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /Untagged: testbox:1/);
    assert.match(rm.stdout, new RegExp(`Deleted: ${id}`));
    assert.equal(docker(d, ['images', '-q', '--filter', 'reference=testbox']).stdout.trim(), '');

    const l = docker(d, ['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: testbox:1/);
    assert.match(l.stdout, /Loaded image: another:latest/);
    assert.equal(docker(d, ['image', 'inspect', '--format', '{{.Id}}', 'testbox:1']).stdout.trim(), id);
    // A second load of the same archive is idempotent.
    const again = spawnSync('/usr/local/bin/docker', ['load'], { env: d.env, input: readFileSync(out), encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Loaded image: testbox:1/);
  });

  test('rmi untags one name and keeps the image while others remain', () => {
    const r = docker(d, ['rmi', 'another']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Untagged: another:latest');
    assert.equal(docker(d, ['image', 'inspect', '--format', '{{.Id}}', 'testbox:1']).stdout.trim(), id);
  });

  test('system df counts images', () => {
    const r = docker(d, ['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Images [1-9]/m);
  });

  test('prune removes dangling images only, unless -a', () => {
    const dangling = docker(d, ['import', rootfs]);
    assert.equal(dangling.code, 0, dangling.stderr);
    const danglingId = dangling.stdout.trim();
    const listed = docker(d, ['images', '--filter', 'dangling=true', '-q', '--no-trunc']);
    assert.ok(listed.stdout.includes(danglingId), listed.stdout);
    const p = docker(d, ['image', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`deleted: ${danglingId}`));
    assert.match(p.stdout, /Total reclaimed space: /);
    assert.notEqual(docker(d, ['image', 'inspect', 'testbox:1']).code, 1);
    const all = docker(d, ['image', 'prune', '-a', '-f']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(docker(d, ['images', '-q']).stdout.trim(), '');
    // Nothing is left behind on disk once every image is gone.
    const blobs = spawnSync('ls', [join(d.dataRoot, 'content/blobs/sha256')], { encoding: 'utf8' }).stdout.trim();
    assert.equal(blobs, '');
  });
});
