/**
 * Berth's registry server (`berth registry serve`) driven by real clients:
 * skopeo, the docker CLI through a reference dockerd, and raw HTTP for the
 * parts of the distribution spec those clients do not reach on their own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { sha256 } from '../../src/lib/digest.js';
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/mediatypes.js';
import { docker, REPO } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';
import { http, imageOf, pushBlob, pushManifest, startRegistry, writeDockerArchive, type Registry, type TestImage } from '../helpers/registryserver.js';
import { busyboxRootfs, makeTar } from '../helpers/tars.js';

const hasSkopeo = existsSync('/usr/bin/skopeo');

function skopeo(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function berthRegistry(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/berth'), 'registry', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const fileDigest = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
const blobFile = (root: string, digest: string) => join(root, 'blobs', 'sha256', digest.slice(7));
const errorCode = (body: Buffer) => (JSON.parse(body.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code;

/** Pushes an image (layers, config, schema2 or OCI manifest) by raw HTTP; resolves with the manifest digest. */
async function pushImage(base: string, repo: string, tag: string, img: TestImage, mediaType = DOCKER_MANIFEST, extra: object = {}): Promise<string> {
  const oci = mediaType === OCI_MANIFEST;
  for (const l of img.layers) await pushBlob(base, repo, l);
  await pushBlob(base, repo, img.config);
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', digest: sha256(img.config), size: img.config.length },
    layers: img.layers.map((l) => ({ mediaType: oci ? 'application/vnd.oci.image.layer.v1.tar' : 'application/vnd.docker.image.rootfs.diff.tar', digest: sha256(l), size: l.length })),
    ...extra,
  };
  const r = await pushManifest(base, repo, tag, manifest, mediaType);
  assert.equal(r.status, 201, r.body.toString());
  return r.headers['docker-content-digest'] as string;
}

describe('berth registry server', () => {
  let dir: string;
  let reg: Registry;
  let img: TestImage;
  let archive: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
    img = imageOf([await busyboxRootfs(), await makeTar([{ name: 'hello.txt', content: 'hello from berth\n' }])]);
    archive = join(dir, 'image.tar');
    await writeDockerArchive(archive, img, 'test/busybox:1');
    reg = await startRegistry(join(dir, 'root'));
  });
  after(async () => {
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('GET /v2/ answers with the API version header', async () => {
    const r = await http(reg.url, '/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.deepEqual(r.json(), {});
  });

  test('skopeo copies an image in and back out with the same digests', { skip: !hasSkopeo && 'needs skopeo' }, async () => {
    const push = skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/test/busybox:1`]);
    assert.equal(push.code, 0, push.stderr);
    const head = await http(reg.url, '/v2/test/busybox/manifests/1', { method: 'HEAD', headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(head.status, 200);
    const digest = head.headers['docker-content-digest'] as string;
    const raw = skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/test/busybox:1`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), digest);

    const layout = join(dir, 'oci-out');
    const pull = skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/test/busybox:1`, `oci:${layout}:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    for (const name of readdirSync(join(layout, 'blobs', 'sha256'))) {
      assert.equal(fileDigest(join(layout, 'blobs', 'sha256', name)), `sha256:${name}`);
    }
    // what came back unpacks to the layers that went in
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }>; config: { digest: string } };
    const diffIds = manifest.layers.map((l) => {
      const blob = readFileSync(join(layout, 'blobs', 'sha256', l.digest.slice(7)));
      return sha256(blob[0] === 0x1f ? gunzipSync(blob) : blob);
    });
    assert.deepEqual(diffIds, img.layers.map((l) => sha256(l)));
    assert.equal(manifest.config.digest, sha256(img.config));

    // an OCI layout goes in as an OCI manifest and keeps its media type
    const ociPush = skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${reg.host}/test/oci:1`]);
    assert.equal(ociPush.code, 0, ociPush.stderr);
    const got = await http(reg.url, '/v2/test/oci/manifests/1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(got.headers['content-type'], OCI_MANIFEST);
    assert.equal(got.headers['docker-content-digest'], index.manifests[0]!.digest);
  });

  test('the docker CLI pushes and pulls through the registry', { skip: !hasDockerd() && 'needs Debian docker.io' }, async () => {
    const ref: RefDaemon = await startRefDockerd();
    try {
      const load = docker(ref, ['load', '-i', archive]);
      assert.equal(load.code, 0, load.stderr);
      const name = `${reg.host}/dock/busybox:1`;
      assert.equal(docker(ref, ['tag', 'test/busybox:1', name]).code, 0);
      const push = docker(ref, ['push', name]);
      assert.equal(push.code, 0, push.stderr);
      const pushed = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
      assert.ok(pushed, push.stdout);
      assert.equal(docker(ref, ['rmi', name, 'test/busybox:1']).code, 0);
      const pull = docker(ref, ['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
      assert.equal(docker(ref, ['image', 'inspect', '--format', '{{.Id}}', name]).stdout.trim(), sha256(img.config));
      const run = docker(ref, ['run', '--rm', '--network', 'none', name, 'cat', '/hello.txt']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'hello from berth\n');
    } finally {
      await ref.stop();
    }
  });

  test('chunked upload: in-order chunks, 416 out of order, status, digest check', async () => {
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const start = await http(reg.url, '/v2/chunks/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    assert.equal(start.headers['range'], '0-0');
    let loc = start.headers['location'] as string;
    assert.match(loc, /^\/v2\/chunks\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const chunk = (from: number, to: number) =>
      http(reg.url, loc, { method: 'PATCH', body: data.subarray(from, to), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${from}-${to - 1}` } });
    const first = await chunk(0, 100_000);
    assert.equal(first.status, 202);
    assert.equal(first.headers['range'], '0-99999');
    loc = first.headers['location'] as string;
    const outOfOrder = await chunk(150_000, 200_000);
    assert.equal(outOfOrder.status, 416);
    assert.equal(errorCode(outOfOrder.body), 'RANGE_INVALID');
    assert.equal(outOfOrder.headers['range'], '0-99999');
    assert.equal((await chunk(100_000, 200_000)).headers['range'], '0-199999');
    const status = await http(reg.url, loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers['range'], '0-199999');
    // the last chunk travels with the PUT
    const put = await http(reg.url, `${loc}?digest=${digest}`, {
      method: 'PUT',
      body: data.subarray(200_000),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `200000-${data.length - 1}` },
    });
    assert.equal(put.status, 201, put.body.toString());
    assert.equal(put.headers['location'], `/v2/chunks/blobs/${digest}`);
    assert.equal(put.headers['docker-content-digest'], digest);
    const got = await http(reg.url, `/v2/chunks/blobs/${digest}`);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(data));
    const part = await http(reg.url, `/v2/chunks/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 10-19/${data.length}`);
    assert.ok(part.body.equals(data.subarray(10, 20)));
    const beyond = await http(reg.url, `/v2/chunks/blobs/${digest}`, { headers: { Range: `bytes=${data.length}-` } });
    assert.equal(beyond.status, 416);
    // the session is gone once finished
    assert.equal(errorCode((await http(reg.url, loc)).body), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('a corrupted digest is refused and leaves nothing behind', async () => {
    const data = randomBytes(50_000);
    const claimed = sha256(Buffer.concat([data, Buffer.from('x')]));
    const mono = await http(reg.url, `/v2/corrupt/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: data });
    assert.equal(mono.status, 400);
    assert.equal(errorCode(mono.body), 'DIGEST_INVALID');
    const start = await http(reg.url, '/v2/corrupt/blobs/uploads/', { method: 'POST' });
    const put = await http(reg.url, `${start.headers['location']}?digest=${claimed}`, { method: 'PUT', body: data });
    assert.equal(put.status, 400);
    assert.equal(errorCode(put.body), 'DIGEST_INVALID');
    for (const d of [claimed, sha256(data)]) {
      assert.equal((await http(reg.url, `/v2/corrupt/blobs/${d}`, { method: 'HEAD' })).status, 404);
      assert.ok(!existsSync(blobFile(reg.root, d)));
    }
    assert.equal(errorCode((await http(reg.url, start.headers['location'] as string)).body), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('an upload killed halfway leaves nothing visible', async () => {
    const data = randomBytes(8 << 20);
    const digest = sha256(data);
    // the client dies during a monolithic upload
    await new Promise<void>((resolve) => {
      const req = request(`${reg.url}/v2/killed/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Length': data.length } });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 3 << 20), () => setTimeout(() => req.destroy(), 100));
    });
    const ingest = join(reg.root, 'ingest');
    for (let i = 0; i < 50 && readdirSync(ingest).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(ingest), []);
    assert.equal((await http(reg.url, `/v2/killed/blobs/${digest}`, { method: 'HEAD' })).status, 404);

    // the server dies during a chunk
    const start = await http(reg.url, '/v2/killed/blobs/uploads/', { method: 'POST' });
    const loc = start.headers['location'] as string;
    const req = request(`${reg.url}${loc}`, { method: 'PATCH', headers: { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' } });
    req.on('error', () => undefined);
    req.write(data.subarray(0, 4 << 20));
    for (let i = 0; i < 100; i++) {
      const st = await http(reg.url, loc);
      if (st.headers['range'] !== '0-0') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await reg.kill();
    req.destroy();
    reg = await startRegistry(reg.root);
    assert.equal((await http(reg.url, `/v2/killed/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    assert.ok(!existsSync(blobFile(reg.root, digest)));
    const st = await http(reg.url, loc);
    assert.equal(st.status, 204);
    const kept = Number((st.headers['range'] as string).split('-')[1]) + 1;
    assert.ok(kept > 0 && kept < data.length, `kept ${kept}`);
    const put = await http(reg.url, `${loc}?digest=${digest}`, { method: 'PUT' });
    assert.equal(errorCode(put.body), 'DIGEST_INVALID');
    assert.ok(!existsSync(blobFile(reg.root, digest)));
  });

  test('cross-repository mount links an existing blob and falls back to a session', async () => {
    const data = randomBytes(10_000);
    const digest = await pushBlob(reg.url, 'mount/src', data);
    // blobs are per repository until mounted
    assert.equal(errorCode((await http(reg.url, `/v2/mount/dst/blobs/${digest}`)).body), 'BLOB_UNKNOWN');
    const mounted = await http(reg.url, `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`, { method: 'POST' });
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers['location'], `/v2/mount/dst/blobs/${digest}`);
    assert.equal(mounted.headers['docker-content-digest'], digest);
    assert.ok((await http(reg.url, `/v2/mount/dst/blobs/${digest}`)).body.equals(data));
    const missing = sha256('not here');
    const fallback = await http(reg.url, `/v2/mount/dst/blobs/uploads/?mount=${missing}&from=mount/src`, { method: 'POST' });
    assert.equal(fallback.status, 202);
    assert.match(fallback.headers['location'] as string, /\/blobs\/uploads\//);
    // deleting the link leaves the other repository's copy
    assert.equal((await http(reg.url, `/v2/mount/dst/blobs/${digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await http(reg.url, `/v2/mount/dst/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    assert.equal((await http(reg.url, `/v2/mount/src/blobs/${digest}`, { method: 'HEAD' })).status, 200);
  });

  test('manifests: validation, content types, delete, spec error codes', async () => {
    const digest = await pushImage(reg.url, 'man/img', 'v1', img);
    const get = await http(reg.url, '/v2/man/img/manifests/v1');
    assert.equal(get.headers['content-type'], DOCKER_MANIFEST);
    assert.equal(sha256(get.body), digest);
    assert.equal((await http(reg.url, `/v2/man/img/manifests/${digest}`)).status, 200);

    const ociDigest = await pushImage(reg.url, 'man/img', 'oci', img, OCI_MANIFEST);
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: ociDigest, size: 0, platform: { architecture: 'amd64', os: 'linux' } }] };
    index.manifests[0]!.size = (await http(reg.url, `/v2/man/img/manifests/${ociDigest}`)).body.length;
    assert.equal((await pushManifest(reg.url, 'man/img', 'index', index, OCI_INDEX)).status, 201);
    assert.equal((await http(reg.url, '/v2/man/img/manifests/index')).headers['content-type'], OCI_INDEX);

    const missingBlob = { ...JSON.parse(get.body.toString()), config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256('nope'), size: 4 } };
    const r1 = await pushManifest(reg.url, 'man/img', 'bad', missingBlob, DOCKER_MANIFEST);
    assert.equal(r1.status, 400);
    assert.equal(errorCode(r1.body), 'MANIFEST_BLOB_UNKNOWN');
    const badIndex = { ...index, manifests: [{ ...index.manifests[0]!, digest: sha256('no such manifest') }] };
    assert.equal(errorCode((await pushManifest(reg.url, 'man/img', 'bad', badIndex, OCI_INDEX)).body), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(errorCode((await pushManifest(reg.url, 'man/img', 'bad', Buffer.from('{not json'), DOCKER_MANIFEST)).body), 'MANIFEST_INVALID');
    assert.equal(errorCode((await pushManifest(reg.url, 'man/img', 'bad', get.body, OCI_MANIFEST)).body), 'MANIFEST_INVALID');
    assert.equal(errorCode((await pushManifest(reg.url, 'man/img', '.bad', get.body, DOCKER_MANIFEST)).body), 'TAG_INVALID');
    assert.equal(errorCode((await pushManifest(reg.url, 'man/img', sha256('other'), get.body, DOCKER_MANIFEST)).body), 'DIGEST_INVALID');
    assert.equal(errorCode((await pushManifest(reg.url, 'Man/Img', 'v1', get.body, DOCKER_MANIFEST)).body), 'NAME_INVALID');
    const unknown = await http(reg.url, '/v2/man/img/manifests/nosuchtag');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown.body), 'MANIFEST_UNKNOWN');
    assert.equal(errorCode((await http(reg.url, '/v2/man/img/blobs/sha256:abc')).body), 'DIGEST_INVALID');
    assert.equal(errorCode((await http(reg.url, '/v2/man/img/manifests/v1', { method: 'POST' })).body), 'UNSUPPORTED');

    // delete by tag drops the tag, by digest the manifest and its tags
    assert.equal((await pushManifest(reg.url, 'man/img', 'v2', get.body, DOCKER_MANIFEST)).status, 201);
    assert.equal((await http(reg.url, '/v2/man/img/manifests/v2', { method: 'DELETE' })).status, 202);
    assert.equal((await http(reg.url, '/v2/man/img/manifests/v2')).status, 404);
    assert.equal((await http(reg.url, '/v2/man/img/manifests/v1')).status, 200);
    assert.equal((await http(reg.url, `/v2/man/img/manifests/${digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await http(reg.url, '/v2/man/img/manifests/v1')).status, 404);
    assert.equal(errorCode((await http(reg.url, `/v2/man/img/manifests/${digest}`, { method: 'DELETE' })).body), 'MANIFEST_UNKNOWN');
  });

  test('tags and catalog paginate with n, last and Link', async () => {
    const digest = await pushImage(reg.url, 'page/e', 't0', img);
    const manifest = (await http(reg.url, `/v2/page/e/manifests/${digest}`)).body;
    for (const t of ['t1', 't2', 't3', 't4']) assert.equal((await pushManifest(reg.url, 'page/e', t, manifest, DOCKER_MANIFEST)).status, 201);
    for (const r of ['page/a', 'page/b', 'page/c', 'page/d']) await pushBlob(reg.url, r, Buffer.from(r));

    const follow = async (path: string, key: string): Promise<string[][]> => {
      const pages: string[][] = [];
      let next: string | undefined = path;
      while (next) {
        const r = await http(reg.url, next);
        assert.equal(r.status, 200, r.body.toString());
        pages.push(r.json()[key] as string[]);
        next = /^<([^>]+)>; rel="next"$/.exec((r.headers['link'] as string | undefined) ?? '')?.[1];
        assert.ok(pages.length < 50);
      }
      return pages;
    };
    assert.deepEqual(await follow('/v2/page/e/tags/list?n=2', 'tags'), [['t0', 't1'], ['t2', 't3'], ['t4']]);
    assert.deepEqual((await http(reg.url, '/v2/page/e/tags/list?last=t2')).json(), { name: 'page/e', tags: ['t3', 't4'] });
    assert.deepEqual((await http(reg.url, '/v2/page/e/tags/list?n=0')).json().tags, []);
    assert.equal(errorCode((await http(reg.url, '/v2/page/nothing/tags/list')).body), 'NAME_UNKNOWN');

    const pages = await follow('/v2/_catalog?n=2', 'repositories');
    assert.ok(pages.every((p) => p.length <= 2));
    const all = pages.flat();
    assert.deepEqual(all, [...all].sort());
    for (const r of ['page/a', 'page/b', 'page/c', 'page/d', 'page/e']) assert.ok(all.includes(r), r);
    assert.deepEqual((await http(reg.url, '/v2/_catalog?last=page/c&n=2')).json().repositories, ['page/d', 'page/e']);
  });

  test('referrers: subject, OCI-Subject header, artifactType filter', async () => {
    const subject = await pushImage(reg.url, 'refs/app', 'v1', img, OCI_MANIFEST);
    const subjectSize = (await http(reg.url, `/v2/refs/app/manifests/${subject}`)).body.length;
    const empty = await pushBlob(reg.url, 'refs/app', Buffer.from('{}'));
    const push = async (artifactType: string, content: string) => {
      const layer = await pushBlob(reg.url, 'refs/app', Buffer.from(content));
      const m = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
        layers: [{ mediaType: 'application/octet-stream', digest: layer, size: content.length }],
        subject: { mediaType: OCI_MANIFEST, digest: subject, size: subjectSize },
        annotations: { 'org.example.kind': artifactType },
      };
      const r = await pushManifest(reg.url, 'refs/app', sha256(JSON.stringify(m)), m, OCI_MANIFEST);
      assert.equal(r.status, 201, r.body.toString());
      assert.equal(r.headers['oci-subject'], subject);
      return r.headers['docker-content-digest'] as string;
    };
    const sig = await push('application/vnd.example.signature', 'signature');
    const sbom = await push('application/vnd.example.sbom', 'sbom');
    const all = await http(reg.url, `/v2/refs/app/referrers/${subject}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers['content-type'], OCI_INDEX);
    const index = all.json();
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((d: { digest: string }) => d.digest).sort(), [sig, sbom].sort());
    const one = index.manifests.find((d: { digest: string }) => d.digest === sig);
    assert.equal(one.artifactType, 'application/vnd.example.signature');
    assert.deepEqual(one.annotations, { 'org.example.kind': 'application/vnd.example.signature' });
    const filtered = await http(reg.url, `/v2/refs/app/referrers/${subject}?artifactType=application/vnd.example.sbom`);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(filtered.json().manifests.map((d: { digest: string }) => d.digest), [sbom]);
    // a subject that is not (yet) there has an empty list; deleting a referrer drops it
    assert.deepEqual((await http(reg.url, `/v2/refs/app/referrers/${sha256('x')}`)).json().manifests, []);
    assert.equal((await http(reg.url, `/v2/refs/app/manifests/${sbom}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await http(reg.url, `/v2/refs/app/referrers/${subject}`)).json().manifests.map((d: { digest: string }) => d.digest), [sig]);
  });
});

describe('berth registry auth, TLS and gc', () => {
  let dir: string;
  let archive: string;
  let img: TestImage;
  const password = 's3cret pass';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-auth-'));
    writeFileSync(join(dir, 'htpasswd'), `alice:${bcrypt.hashSync(password, 6)}\nbob:{SHA}notbcrypt\n`);
    img = imageOf([await makeTar([{ name: 'one.txt', content: 'one\n' }]), await makeTar([{ name: 'two.txt', content: 'two\n' }])]);
    archive = join(dir, 'image.tar');
    await writeDockerArchive(archive, img, 'auth/img:1');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

  test('htpasswd: 401 with a challenge, then success with credentials', async () => {
    const reg = await startRegistry(join(dir, 'basic'), ['--htpasswd', join(dir, 'htpasswd')]);
    try {
      const anon = await http(reg.url, '/v2/');
      assert.equal(anon.status, 401);
      assert.equal(errorCode(anon.body), 'UNAUTHORIZED');
      assert.match(anon.headers['www-authenticate'] as string, /^Basic realm="/);
      assert.equal((await http(reg.url, '/v2/', { headers: basic('alice', 'wrong') })).status, 401);
      assert.equal((await http(reg.url, '/v2/', { headers: basic('bob', 'x') })).status, 401);
      assert.equal((await http(reg.url, '/v2/', { headers: basic('alice', password) })).status, 200);
      assert.equal((await http(reg.url, '/v2/_catalog')).status, 401);
      if (hasSkopeo) {
        const denied = skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/auth/img:1`]);
        assert.notEqual(denied.code, 0);
        const ok = skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${password}`, `docker-archive:${archive}`, `docker://${reg.host}/auth/img:1`]);
        assert.equal(ok.code, 0, ok.stderr);
        const back = skopeo(['inspect', '--tls-verify=false', '--creds', `alice:${password}`, `docker://${reg.host}/auth/img:1`]);
        assert.equal(back.code, 0, back.stderr);
      }
    } finally {
      await reg.stop();
    }
  });

  test('token auth: challenge, token endpoint, scopes enforced', async () => {
    const reg = await startRegistry(join(dir, 'token'), ['--htpasswd', join(dir, 'htpasswd'), '--token-realm', '/auth/token', '--token-service', 'berth-test']);
    try {
      const anon = await http(reg.url, '/v2/');
      assert.equal(anon.status, 401);
      assert.equal(anon.headers['www-authenticate'], `Bearer realm="${reg.url}/auth/token",service="berth-test"`);
      const push = await http(reg.url, '/v2/tok/app/blobs/uploads/', { method: 'POST' });
      assert.match(push.headers['www-authenticate'] as string, /scope="repository:tok\/app:pull,push"/);

      assert.equal((await http(reg.url, '/auth/token?service=berth-test&scope=repository:tok/app:pull')).status, 401);
      const token = async (scope: string) => {
        const r = await http(reg.url, `/auth/token?service=berth-test&scope=${encodeURIComponent(scope)}`, { headers: basic('alice', password) });
        assert.equal(r.status, 200, r.body.toString());
        return r.json().token as string;
      };
      const pullOnly = await token('repository:tok/app:pull');
      assert.equal((await http(reg.url, '/v2/', { headers: { Authorization: `Bearer ${pullOnly}` } })).status, 200);
      const refused = await http(reg.url, '/v2/tok/app/blobs/uploads/', { method: 'POST', headers: { Authorization: `Bearer ${pullOnly}` } });
      assert.equal(refused.status, 401);
      assert.match(refused.headers['www-authenticate'] as string, /error="insufficient_scope"/);
      const otherRepo = await http(reg.url, '/v2/tok/other/tags/list', { headers: { Authorization: `Bearer ${pullOnly}` } });
      assert.equal(otherRepo.status, 401);
      const pushToken = await token('repository:tok/app:pull,push');
      const blob = Buffer.from('token pushed');
      const ok = await http(reg.url, `/v2/tok/app/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', body: blob, headers: { Authorization: `Bearer ${pushToken}` } });
      assert.equal(ok.status, 201, ok.body.toString());
      const forged = pushToken.slice(0, -4) + (pushToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      assert.equal((await http(reg.url, '/v2/', { headers: { Authorization: `Bearer ${forged}` } })).status, 401);

      if (hasSkopeo) {
        const copy = skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${password}`, `docker-archive:${archive}`, `docker://${reg.host}/tok/img:1`]);
        assert.equal(copy.code, 0, copy.stderr);
      }
      if (hasDockerd()) {
        const ref = await startRefDockerd();
        try {
          const login = docker(ref, ['login', '-u', 'alice', '--password-stdin', reg.host], password);
          assert.equal(login.code, 0, login.stderr);
          assert.equal(docker(ref, ['load', '-i', archive]).code, 0);
          assert.equal(docker(ref, ['tag', 'auth/img:1', `${reg.host}/tok/docker:1`]).code, 0);
          const p = docker(ref, ['push', `${reg.host}/tok/docker:1`]);
          assert.equal(p.code, 0, p.stderr);
          assert.equal(docker(ref, ['rmi', `${reg.host}/tok/docker:1`]).code, 0);
          const pull = docker(ref, ['pull', `${reg.host}/tok/docker:1`]);
          assert.equal(pull.code, 0, pull.stderr);
        } finally {
          await ref.stop();
        }
      }
    } finally {
      await reg.stop();
    }
  });

  test('TLS: the registry serves HTTPS with the given certificate', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const reg = await startRegistry(join(dir, 'tls'), ['--tls-cert', cert, '--tls-key', key]);
    try {
      assert.match(reg.url, /^https:/);
      assert.equal((await http(reg.url, '/v2/', { insecure: true })).status, 200);
      if (hasSkopeo) {
        const copy = skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/tls/img:1`]);
        assert.equal(copy.code, 0, copy.stderr);
        const strict = skopeo(['inspect', '--tls-verify=true', `docker://${reg.host}/tls/img:1`]);
        assert.notEqual(strict.code, 0);
      }
    } finally {
      await reg.stop();
    }
  });

  test('gc removes unreferenced blobs and keeps what tags, index children and referrers reach', async () => {
    const root = join(dir, 'gc');
    let reg = await startRegistry(root);
    const kept = await pushImage(reg.url, 'gc/app', 'keep', img, OCI_MANIFEST);
    const keptSize = (await http(reg.url, `/v2/gc/app/manifests/${kept}`)).body.length;
    const stray = await pushBlob(reg.url, 'gc/app', randomBytes(1000));
    const old = imageOf([await makeTar([{ name: 'old.txt', content: 'old\n' }])]);
    const oldDigest = await pushImage(reg.url, 'gc/app', 'old', old);
    assert.equal((await http(reg.url, `/v2/gc/app/manifests/${oldDigest}`, { method: 'DELETE' })).status, 202);
    const sig = await pushBlob(reg.url, 'gc/app', Buffer.from('signature'));
    const empty = await pushBlob(reg.url, 'gc/app', Buffer.from('{}'));
    const referrer = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [{ mediaType: 'application/octet-stream', digest: sig, size: 9 }],
      subject: { mediaType: OCI_MANIFEST, digest: kept, size: keptSize },
    };
    const refDigest = sha256(JSON.stringify(referrer));
    assert.equal((await pushManifest(reg.url, 'gc/app', refDigest, referrer, OCI_MANIFEST)).status, 201);
    const child = await pushImage(reg.url, 'gc/multi', 'child', imageOf([await makeTar([{ name: 'child.txt', content: 'child\n' }])]), OCI_MANIFEST);
    const childSize = (await http(reg.url, `/v2/gc/multi/manifests/${child}`)).body.length;
    assert.equal((await http(reg.url, '/v2/gc/multi/manifests/child', { method: 'DELETE' })).status, 202);
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child, size: childSize }] };
    assert.equal((await pushManifest(reg.url, 'gc/multi', 'idx', index, OCI_INDEX)).status, 201);

    // a writable server holds the root
    const busy = berthRegistry(['gc', '--root', root]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /stop it or restart it with --read-only/);
    await reg.stop();

    const gone = [stray, oldDigest, sha256(old.config), sha256(old.layers[0]!)];
    const live = [kept, sha256(img.config), ...img.layers.map((l) => sha256(l)), refDigest, sig, empty, child];
    const before = readdirSync(join(root, 'blobs', 'sha256')).length;
    const dry = berthRegistry(['gc', '--root', root, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    for (const d of gone) assert.match(dry.stdout, new RegExp(`would remove blob ${d}`));
    assert.equal(readdirSync(join(root, 'blobs', 'sha256')).length, before);

    const run = berthRegistry(['gc', '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /removed 4 blobs/);
    for (const d of gone) assert.ok(!existsSync(blobFile(root, d)), `${d} should be gone`);
    for (const d of live) assert.ok(existsSync(blobFile(root, d)), `${d} should stay`);

    reg = await startRegistry(root, ['--read-only']);
    try {
      assert.equal((await http(reg.url, '/v2/gc/app/manifests/keep')).status, 200);
      assert.equal((await http(reg.url, `/v2/gc/multi/manifests/${child}`)).status, 200);
      assert.equal((await http(reg.url, `/v2/gc/app/referrers/${kept}`)).json().manifests.length, 1);
      assert.equal((await http(reg.url, `/v2/gc/app/blobs/${stray}`, { method: 'HEAD' })).status, 404);
      for (const l of img.layers) assert.ok((await http(reg.url, `/v2/gc/app/blobs/${sha256(l)}`)).body.equals(l));
      const write = await http(reg.url, `/v2/gc/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(write.status, 405);
      assert.equal(errorCode(write.body), 'UNSUPPORTED');
      // gc may run beside a read-only server
      assert.equal(berthRegistry(['gc', '--root', root]).code, 0);
    } finally {
      await reg.stop();
    }
  });
});
