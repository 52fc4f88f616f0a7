import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256, type Digest } from '../lib/digest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.js';
import { collect } from './gc.js';
import { parseManifest } from './manifest.js';
import { RegistryStore } from './store.js';

async function putImage(s: RegistryStore, repo: string, content: string, tag?: string, subject?: Digest): Promise<Digest> {
  const layer = Buffer.from(`layer ${content}`);
  const cfg = Buffer.from(`{"c":"${content}"}`);
  for (const b of [layer, cfg]) {
    await s.content.put(b);
    await s.linkBlob(repo, sha256(b));
  }
  const m: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  };
  if (subject) m['subject'] = { mediaType: OCI_MANIFEST, digest: subject, size: 1 };
  const bytes = Buffer.from(JSON.stringify(m));
  const p = parseManifest(bytes, OCI_MANIFEST);
  const put: Parameters<RegistryStore['putManifest']>[1] = { bytes, mediaType: OCI_MANIFEST, referrer: { mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length } };
  if (p.subject) put.subject = p.subject;
  return s.putManifest(repo, put, tag);
}

test('gc keeps what tags reach through indexes and referrers, removes the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gc-'));
  try {
    const s = new RegistryStore(dir);
    await s.init();
    const kept = await putImage(s, 'app', 'kept', 'v1');
    const sig = await putImage(s, 'app', 'sig', undefined, kept);
    const untagged = await putImage(s, 'app', 'untagged');
    const child = await putImage(s, 'multi', 'child');
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child, size: 1 }] }));
    await s.putManifest('multi', { bytes: idx, mediaType: OCI_INDEX, referrer: { mediaType: OCI_INDEX, digest: sha256(idx), size: idx.length } }, 'latest');
    const stray = await s.content.write(Readable.from([Buffer.from('stray')]));
    await s.linkBlob('app', stray.digest);
    const gone = await putImage(s, 'gone', 'gone', 'x');
    await s.deleteTag('gone', 'x');
    const old = await s.uploads.start('app');
    const oldDir = join(dir, 'uploads', old.id);
    writeFileSync(join(oldDir, 'meta.json'), JSON.stringify({ repo: 'app', started: new Date(Date.now() - 2 * 86400_000).toISOString() }));
    utimesSync(oldDir, new Date(0), new Date(0));
    const fresh = await s.uploads.start('app');

    // keeping untagged manifests, only the stray blob and the old upload go
    const dry = await collect(s, { dryRun: true, keepUntagged: true });
    assert.deepEqual(dry.manifests, []);
    assert.deepEqual(dry.blobs.map((b) => b.digest), [stray.digest]);
    assert.deepEqual(dry.uploads, [old.id]);
    assert.ok(await s.blob('app', stray.digest), 'a dry run changes nothing');

    const lines: string[] = [];
    const r = await collect(s, { report: (l) => lines.push(l) });
    assert.deepEqual(r.manifests.map((m) => m.digest).sort(), [untagged, gone].sort());
    assert.deepEqual(r.uploads, [old.id]);
    assert.ok(r.blobs.some((b) => b.digest === stray.digest));
    assert.equal(r.blobs.length, 1 + 3 + 3, lines.join('\n'));
    for (const d of [kept, sig, child, sha256(idx)]) assert.ok(await s.content.info(d), d);
    assert.ok(await s.manifest('app', sig));
    assert.equal(await s.blob('app', stray.digest), undefined);
    assert.deepEqual(await s.repositories(), ['app', 'multi']);
    await s.uploads.status('app', fresh.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
