/**
 * Crafted layer tars sent through `docker import` and `docker load` are
 * refused with a clear error, write nothing outside the layer, and leave no
 * image, ingest or half-extracted layer behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { makeTar, type Entry } from '../helpers/tars.js';
import { sha256 } from '../../src/lib/digest.js';

describe('crafted layers are refused', () => {
  let d: Daemon;
  let target: string;
  const tag = randomBytes(4).toString('hex');

  before(async () => {
    d = await startDaemon();
    target = join(d.dir, 'victim');
    mkdirSync(target);
  });
  after(async () => cleanup(d));

  const cases = (victim: string): Array<[string, Entry[], RegExp]> => [
    ['dot-dot escape', [{ name: `../../../../../../../../${victim.slice(1)}/dotdot-${tag}`, content: 'x' }], /layer tar entry/],
    ['absolute path', [{ name: `${victim}/abs-${tag}`, content: 'x' }], /layer tar entry/],
    ['nested dot-dot', [{ name: 'a/', type: 'directory' }, { name: `a/../../../../../../../..${victim}/nested-${tag}`, content: 'x' }], /layer tar entry/],
    [
      'file through a symlink to outside',
      [{ name: 'evil', type: 'symlink', linkname: victim }, { name: `evil/symlink-${tag}`, content: 'x' }],
      /layer tar entry/,
    ],
    [
      'file through a symlink to ..',
      [{ name: 'up', type: 'symlink', linkname: '../../../../../../../..' }, { name: `up${victim}/up-${tag}`, content: 'x' }],
      /layer tar entry/,
    ],
    ['hard link to an absolute host file', [{ name: 'shadow', type: 'link', linkname: '/etc/passwd' }], /layer tar entry/],
    ['hard link escaping with ..', [{ name: 'h', type: 'link', linkname: '../../../../../../etc/passwd' }], /layer tar entry/],
    [
      'hard link through a symlink',
      [{ name: 'etcdir', type: 'symlink', linkname: '/etc' }, { name: 'pw', type: 'link', linkname: 'etcdir/passwd' }],
      /layer tar entry/,
    ],
    ['device node', [{ name: `sda-${tag}`, type: 'block-device', devmajor: 8, devminor: 0 }], /layer tar entry/],
  ];

  test('docker import refuses each crafted tar and writes nothing outside', async () => {
    for (const [what, entries, message] of cases(target)) {
      const file = join(d.dir, 'crafted.tar');
      writeFileSync(file, await makeTar(entries));
      const r = docker(d, ['import', file, `crafted:${what.replace(/\W+/g, '-')}`]);
      assert.equal(r.code, 1, `${what}: expected a refusal, got ${r.stdout}`);
      assert.match(r.stderr, message, what);
      assert.deepEqual(readdirSync(target), [], `${what}: wrote into the victim directory`);
      assert.ok(!existsSync(`/etc/passwd-${tag}`));
    }
    assert.equal(docker(d, ['images', '-q']).stdout.trim(), '');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content/ingest')), []);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'snapshots')), []);
  });

  test('docker load refuses an archive whose layer escapes, and keeps no blob of it', async () => {
    const layer = await makeTar([{ name: 'evil', type: 'symlink', linkname: target }, { name: `evil/load-${tag}`, content: 'x' }]);
    const diffId = sha256(layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const archive = await makeTar([
      { name: `blobs/sha256/${diffId.slice(7)}`, content: layer },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
      {
        name: 'manifest.json',
        content: JSON.stringify([{ Config: `blobs/sha256/${sha256(config).slice(7)}`, RepoTags: ['evil:load'], Layers: [`blobs/sha256/${diffId.slice(7)}`] }]),
      },
    ]);
    const r = docker(d, ['load'], archive);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /layer tar entry/);
    assert.deepEqual(readdirSync(target), []);
    assert.equal(docker(d, ['images', '-q']).stdout.trim(), '');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content/blobs/sha256')), []);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'snapshots')), []);
  });

  test('a load whose blob does not match its name is refused', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const wrong = sha256('something else');
    const archive = await makeTar([
      { name: `blobs/sha256/${wrong.slice(7)}`, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: `blobs/sha256/${wrong.slice(7)}`, RepoTags: ['bad:digest'], Layers: [] }]) },
    ]);
    const r = docker(d, ['load'], archive);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /digest mismatch/);
    assert.equal(docker(d, ['images', '-q']).stdout.trim(), '');
  });
});
