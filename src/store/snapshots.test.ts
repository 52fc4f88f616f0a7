import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { openDb } from './db.js';
import { OverlaySnapshotter } from './snapshots.js';
import { FileContentStore } from './content.js';
import { SqliteImages } from './images.js';
import { collectGarbage } from './gc.js';
import { sha256 } from '../lib/digest.js';
import { isKind } from '../lib/errors.js';
import { nextChainId } from '../oci/chain.js';

async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
  mkdirSync(join(dir, 'snapshots'));
  const db = openDb(join(dir, 'metadata.db'));
  const snaps = new OverlaySnapshotter(db, join(dir, 'snapshots'));
  return { dir, db, snaps, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('apply extracts, hashes the whole tar and keys the layer by chain ID', async () => {
  const { snaps, done } = setup();
  try {
    const base = await layerTar({ 'a.txt': 'A' });
    const l1 = await snaps.apply(null, Readable.from([base]));
    assert.equal(l1.diffId, sha256(base), 'diff ID covers the trailing zero blocks too');
    assert.equal(l1.chainId, l1.diffId);
    assert.equal(l1.tarSize, base.length);
    assert.equal(readFileSync(join(l1.dir, 'a.txt'), 'utf8'), 'A');

    const top = await layerTar({ 'b.txt': 'B' });
    const l2 = await snaps.apply(l1.chainId, Readable.from([top]), sha256(top));
    assert.equal(l2.chainId, nextChainId(l1.chainId, sha256(top)));
    assert.deepEqual(snaps.lowerDirs(l2.chainId), [l2.dir, l1.dir]);

    // The same chain applied again returns the existing layer and leaves no extra directory.
    const again = await snaps.apply(null, Readable.from([base]));
    assert.equal(again.dir, l1.dir);
    assert.equal(snaps.list().length, 2);
  } finally {
    done();
  }
});

test('a wrong diff ID or missing parent commits nothing', async () => {
  const { snaps, dir, done } = setup();
  try {
    const t = await layerTar({ 'x': 'x' });
    await assert.rejects(snaps.apply(null, Readable.from([t]), sha256('nope')), (e) => isKind(e, 'InvalidArgument'));
    await assert.rejects(snaps.apply(sha256('no parent'), Readable.from([t])), (e) => isKind(e, 'FailedPrecondition'));
    assert.deepEqual(snaps.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), []);
  } finally {
    done();
  }
});

test('extraction on workers: a stored blob or a stream in any compression, prepared apart and committed in order', async () => {
  const { snaps, dir, done } = setup();
  try {
    const base = await layerTar({ 'a.txt': 'A'.repeat(3 << 20) });
    const top = await layerTar({ 'b.txt': 'B' });
    // The top layer streams in small pieces (as a download does) and is ready before its parent.
    const streamed = await snaps.extractStream(sha256(top));
    const gz = gzipSync(top);
    for (let i = 0; i < gz.length; i += 1000) streamed.input.write(gz.subarray(i, i + 1000));
    streamed.input.end();
    const topPrepared = await streamed.prepared;
    assert.equal(topPrepared.diffId, sha256(top));
    writeFileSync(join(dir, 'base.blob'), base);
    let seen = 0;
    const basePrepared = await snaps.extractBlob(join(dir, 'base.blob'), sha256(base), (n) => (seen = n));
    assert.ok(seen > 0 && seen <= base.length);
    // A child cannot be committed before its parent; the preparation is used up.
    await assert.rejects(snaps.commitPrepared(topPrepared, sha256(base)), (e) => isKind(e, 'FailedPrecondition'));
    const again = await snaps.extractStream(sha256(top));
    again.input.end(gz);
    const l1 = await snaps.commitPrepared(basePrepared, null);
    const l2 = await snaps.commitPrepared(await again.prepared, l1.chainId);
    assert.equal(readFileSync(join(l1.dir, 'a.txt'), 'utf8').length, 3 << 20);
    assert.equal(readFileSync(join(l2.dir, 'b.txt'), 'utf8'), 'B');
    assert.deepEqual(readdirSync(join(dir, 'snapshots')).filter((f) => f.startsWith('.incomplete-')), []);
  } finally {
    done();
  }
});

test('a streamed extraction abandoned part way, or of a wrong layer, leaves nothing', async () => {
  const { snaps, dir, done } = setup();
  try {
    const t = await layerTar({ 'x': 'x'.repeat(1 << 20) });
    const cut = await snaps.extractStream(sha256(t));
    cut.input.write(t.subarray(0, t.length >> 1));
    cut.input.destroy(new Error('connection reset'));
    await assert.rejects(cut.prepared, /connection reset/);
    const wrong = await snaps.extractStream(sha256('another layer'));
    wrong.input.end(t);
    await assert.rejects(wrong.prepared, (e) => isKind(e, 'InvalidArgument'));
    const notTar = await snaps.extractStream();
    notTar.input.end(Buffer.alloc(1024, 7));
    await assert.rejects(notTar.prepared);
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), []);
    assert.deepEqual(snaps.list(), []);
  } finally {
    done();
  }
});

test('remove refuses a layer with children; cleanIncomplete removes crash leftovers', async () => {
  const { snaps, dir, done } = setup();
  try {
    const l1 = await snaps.apply(null, Readable.from([await layerTar({ a: '1' })]));
    await snaps.apply(l1.chainId, Readable.from([await layerTar({ b: '2' })]));
    await assert.rejects(snaps.remove(l1.chainId), (e) => isKind(e, 'FailedPrecondition'));
    mkdirSync(join(dir, 'snapshots', '.incomplete-dead', 'fs'), { recursive: true });
    mkdirSync(join(dir, 'snapshots', '999', 'fs'), { recursive: true });
    assert.equal(await snaps.cleanIncomplete(), 2);
    assert.equal(readdirSync(join(dir, 'snapshots')).length, 2);
  } finally {
    done();
  }
});

test('garbage collection keeps what images reach and removes the rest, children first', async () => {
  const { snaps, dir, db, done } = setup();
  try {
    const content = new FileContentStore(join(dir, 'content'));
    await content.init();
    const images = new SqliteImages(db);
    const baseTar = await layerTar({ a: '1' });
    const topTar = await layerTar({ b: '2' });
    const base = await snaps.apply(null, Readable.from([baseTar]));
    const top = await snaps.apply(base.chainId, Readable.from([topTar]));
    const baseBlob = await content.put(baseTar);
    const topBlob = await content.put(topTar);
    const config = await content.put(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.diffId] } }));
    const manifest = await content.put(
      JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...baseBlob }] }),
    );
    images.put({ id: config.digest, manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }, added: Date.now() }, ['docker.io/library/keep:latest']);
    const orphan = await content.put('orphan');

    const r = await collectGarbage(content, images, snaps);
    assert.deepEqual(r.layers, [top.chainId]);
    assert.equal(r.blobsRemoved, 2);
    const left = new Set((await content.list()).map((b) => b.digest));
    assert.ok(left.has(baseBlob.digest) && left.has(config.digest) && left.has(manifest.digest));
    assert.ok(!left.has(topBlob.digest) && !left.has(orphan.digest));
    assert.deepEqual(snaps.list().map((l) => l.chainId), [base.chainId]);

    images.delete(config.digest);
    const all = await collectGarbage(content, images, snaps);
    assert.deepEqual(all.layers, [base.chainId]);
    assert.deepEqual(await content.list(), []);
  } finally {
    done();
  }
});

test('commitRw moves a writable layer\'s upper directory into place as the committed layer', async () => {
  const { snaps, done } = setup();
  try {
    const base = await snaps.apply(null, Readable.from([await layerTar({ 'a.txt': 'A' })]));
    await snaps.createRw('c1', base.chainId);
    const merged = await snaps.mountRw('c1');
    writeFileSync(join(merged, 'b.txt'), 'BB');
    const upper = snaps.getRw('c1')!.upper;
    const diffId = sha256('pretend tar');
    const layer = await snaps.commitRw('c1', diffId, 2, 1024);
    assert.equal(layer.chainId, nextChainId(base.chainId, diffId));
    assert.equal(layer.parent, base.chainId);
    assert.equal(layer.size, 2);
    assert.equal(layer.tarSize, 1024);
    assert.equal(readFileSync(join(layer.dir, 'b.txt'), 'utf8'), 'BB');
    assert.equal(existsSync(upper), false, 'moved, not copied');
    assert.deepEqual(snaps.lowerDirs(layer.chainId), [layer.dir, base.dir]);
    await snaps.removeRw('c1');
    assert.equal(snaps.get(layer.chainId)?.dir, layer.dir);
    // A chain that exists already is returned as it is.
    await snaps.createRw('c2', base.chainId);
    assert.equal((await snaps.commitRw('c2', diffId, 2, 1024)).dir, layer.dir);
    assert.equal(existsSync(snaps.getRw('c2')!.upper), true);
    await snaps.removeRw('c2');
  } finally {
    done();
  }
});
