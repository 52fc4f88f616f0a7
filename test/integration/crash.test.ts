/**
 * A berthd killed with SIGKILL in the middle of a load comes back with no
 * partial image, no ingest left over, and no half-extracted layer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';
import { sha256 } from '../../src/lib/digest.js';

async function archiveWithBigLayer(): Promise<Buffer> {
  const layer = await makeTar([
    { name: 'data/', type: 'directory' },
    { name: 'data/a.bin', content: randomBytes(24 << 20) },
    { name: 'data/b.bin', content: randomBytes(8 << 20) },
  ]);
  const diffId = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created_by: 'test' }] }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${configDigest.slice(7)}`, RepoTags: ['crash:test'], Layers: [`blobs/sha256/${diffId.slice(7)}`] }]));
  return makeTar([
    { name: `blobs/sha256/${configDigest.slice(7)}`, content: config },
    { name: `blobs/sha256/${diffId.slice(7)}`, content: layer },
    { name: 'manifest.json', content: manifest },
  ]);
}

describe('crash during load', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => cleanup(d));

  test('SIGKILL mid-load leaves nothing visible or on disk after restart', async () => {
    const archive = await archiveWithBigLayer();
    const req = request({ socketPath: d.socket, path: '/v1.51/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } });
    req.on('error', () => undefined);
    // Send the first part of the layer, then kill the daemon while it waits for more.
    const cut = Math.floor(archive.length * 0.6);
    await new Promise<void>((r) => req.write(archive.subarray(0, cut), () => r()));
    const ingest = join(d.dataRoot, 'content/ingest');
    const end = Date.now() + 10_000;
    while (readdirSync(ingest).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(readdirSync(ingest).length > 0, 'the load had started writing when the daemon died');
    await d.kill();
    req.destroy();

    await d.restart();
    assert.equal(docker(d, ['images', '-q']).stdout.trim(), '');
    assert.deepEqual(readdirSync(ingest), []);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content/blobs/sha256')), []);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'snapshots')), []);

    // The daemon is healthy: the whole archive loads afterwards.
    const load = docker(d, ['load'], archive);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: crash:test/);
  });

  test('SIGKILL after spooling, during extraction, leaves no half-extracted layer', async () => {
    docker(d, ['rmi', 'crash:test']);
    const archive = await archiveWithBigLayer();
    const req = request({ socketPath: d.socket, path: '/v1.51/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } });
    req.on('error', () => undefined);
    req.end(archive);
    const snapshots = join(d.dataRoot, 'snapshots');
    const end = Date.now() + 10_000;
    while (!readdirSync(snapshots).some((n) => n.startsWith('.incomplete-')) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await d.kill();
    await d.restart();
    const images = docker(d, ['images', '--format', '{{.Repository}}']).stdout.trim();
    // Either the load finished before the kill (then the image is whole) or nothing of it is visible.
    if (images === '') {
      assert.deepEqual(readdirSync(snapshots), []);
      assert.deepEqual(readdirSync(join(d.dataRoot, 'content/blobs/sha256')), []);
    } else {
      assert.equal(images, 'crash');
      assert.equal(readdirSync(snapshots).filter((n) => n.startsWith('.')).length, 0);
    }
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content/ingest')), []);
  });
});
