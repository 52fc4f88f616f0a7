/** Loading a plain OCI image layout: names from annotations, and a multi-platform index resolved to the host. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { makeTar, type Entry } from '../helpers/tars.js';
import { sha256, type Digest } from '../../src/lib/digest.js';
import { hostPlatform } from '../../src/oci/platform.js';

interface Blob {
  digest: Digest;
  size: number;
  data: Buffer;
}
const blob = (data: string | Buffer): Blob => {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return { digest: sha256(buf), size: buf.length, data: buf };
};

async function platformImage(arch: string, marker: string): Promise<{ blobs: Blob[]; manifest: Blob; config: Blob }> {
  const layer = blob(await makeTar([{ name: `${marker}.txt`, content: marker }]));
  const config = blob(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['cat', `/${marker}.txt`] }, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
    }),
  );
  return { blobs: [layer, config, manifest], manifest, config };
}

const entries = (blobs: Blob[]): Entry[] => blobs.map((b) => ({ name: `blobs/sha256/${b.digest.slice(7)}`, content: b.data }));

describe('OCI image layout load', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => cleanup(d));

  test('a multi-platform index loads the host platform under its annotated name', async () => {
    const host = hostPlatform();
    const other = host.architecture === 'arm64' ? 'amd64' : 'arm64';
    const mine = await platformImage(host.architecture, 'host');
    const foreign = await platformImage(other, 'foreign');
    const index = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: foreign.manifest.digest, size: foreign.manifest.size, platform: { os: 'linux', architecture: other } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: mine.manifest.digest, size: mine.manifest.size, platform: { os: 'linux', architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) } },
        ],
      }),
    );
    const top = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.size, annotations: { 'io.containerd.image.name': 'registry.example.com/multi/app:2', 'org.opencontainers.image.ref.name': '2' } }],
    });
    const archive = await makeTar([
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      ...entries([...mine.blobs, ...foreign.blobs, index]),
      { name: 'index.json', content: top },
    ]);
    const r = docker(d, ['load'], archive);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Loaded image: registry.example.com/multi/app:2\n');
    const inspect = docker(d, ['image', 'inspect', '--format', '{{.Id}} {{.Architecture}}', 'registry.example.com/multi/app:2']);
    assert.equal(inspect.stdout.trim(), `${mine.config.digest} ${host.architecture}`);
  });

  test('a layout without a usable name loads the image untagged', async () => {
    const img = await platformImage(hostPlatform().architecture, 'plain');
    const archive = await makeTar([
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      ...entries(img.blobs),
      {
        name: 'index.json',
        content: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifest.digest, size: img.manifest.size, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }),
      },
    ]);
    const r = docker(d, ['load'], archive);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image ID: ${img.config.digest}\n`);
    const dangling = docker(d, ['images', '--filter', 'dangling=true', '-q', '--no-trunc']);
    assert.ok(dangling.stdout.includes(img.config.digest));
  });

  test('a layer that does not match the config diff ID is refused', async () => {
    const img = await platformImage(hostPlatform().architecture, 'tampered');
    const evil = blob(await makeTar([{ name: 'other.txt', content: 'not what the config says' }]));
    const original = JSON.parse(img.manifest.data.toString()) as Record<string, unknown>;
    const manifest = blob(JSON.stringify({ ...original, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: evil.digest, size: evil.size }] }));
    const archive = await makeTar([
      ...entries([evil, img.config, manifest]),
      { name: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size, annotations: { 'io.containerd.image.name': 'docker.io/library/tampered:1' } }] }) },
    ]);
    const r = docker(d, ['load'], archive);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /layer digest mismatch/);
    assert.equal(docker(d, ['image', 'inspect', 'tampered:1']).code, 1);
  });
});
