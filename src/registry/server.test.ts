import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { sha256 } from '../lib/digest.js';
import { OCI_MANIFEST } from '../oci/mediatypes.js';
import { Htpasswd, TokenAuth, TokenIssuer } from './auth.js';
import { RegistryError } from './errors.js';
import { generateKey } from './jwt.js';
import { MANIFEST_MAX } from './manifest.js';
import { byteRange, listen, type Listening, type ListenOptions } from './server.js';
import { RegistryStore } from './store.js';

async function serve(extra: Partial<ListenOptions> = {}): Promise<{ l: Listening; store: RegistryStore; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-regsrv-'));
  const store = new RegistryStore(dir);
  await store.init();
  const l = await listen({ addr: '127.0.0.1:0', store, ...extra });
  return {
    l,
    store,
    done: async () => {
      await l.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const code = async (r: Response) => ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]!.code;

async function blob(base: string, repo: string, data: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', body: data, headers });
}

test('byteRange reads single ranges and refuses unsatisfiable ones', () => {
  assert.deepEqual(byteRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(byteRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=95-200', 100), { start: 95, end: 99 });
  assert.equal(byteRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(byteRange(undefined, 100), undefined);
  assert.throws(() => byteRange('bytes=100-', 100), (e) => e instanceof RegistryError && e.headers['Content-Range'] === 'bytes */100');
  assert.throws(() => byteRange('bytes=5-2', 100), RegistryError);
});

describe('registry handlers', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  let base: string;
  before(async () => {
    s = await serve();
    base = s.l.url;
  });
  after(() => s.done());

  test('unknown paths are 404, wrong methods UNSUPPORTED, bad names NAME_INVALID', async () => {
    assert.equal((await fetch(`${base}/v1/`)).status, 404);
    const r = await fetch(`${base}/v2/a/tags/list`, { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(await code(r), 'UNSUPPORTED');
    assert.equal(await code(await fetch(`${base}/v2/a/..%2Fb/tags/list`)), 'NAME_INVALID');
  });

  test('HEAD and conditional GET of a manifest', async () => {
    const cfg = '{}';
    await blob(base, 'h', cfg);
    const m = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(cfg), size: 2 }, layers: [] });
    assert.equal((await fetch(`${base}/v2/h/manifests/t`, { method: 'PUT', body: m, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    const head = await fetch(`${base}/v2/h/manifests/t`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(m.length));
    assert.equal(head.headers.get('docker-content-digest'), sha256(m));
    const again = await fetch(`${base}/v2/h/manifests/t`, { headers: { 'If-None-Match': head.headers.get('etag')! } });
    assert.equal(again.status, 304);
    // a descriptor whose size disagrees with the blob
    const wrong = m.replace('"size":2', '"size":3');
    assert.equal(await code(await fetch(`${base}/v2/h/manifests/w`, { method: 'PUT', body: wrong, headers: { 'Content-Type': OCI_MANIFEST } })), 'MANIFEST_INVALID');
    const huge = await fetch(`${base}/v2/h/manifests/big`, { method: 'PUT', body: Buffer.alloc(MANIFEST_MAX + 1, 32), headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(huge.status, 413);
  });

  test('upload edge cases: Content-Range and length disagree, mount without from, cancel', async () => {
    const start = await fetch(`${base}/v2/u/blobs/uploads/?mount=${sha256('nothing')}`, { method: 'POST' });
    assert.equal(start.status, 202);
    const loc = start.headers.get('location')!;
    assert.equal(start.headers.get('docker-upload-uuid'), loc.split('/').pop());
    const bad = await fetch(base + loc, { method: 'PATCH', body: 'abcd', headers: { 'Content-Range': '0-9' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('location'), loc);
    const put = await fetch(`${base}${loc}`, { method: 'PUT' });
    assert.equal(await code(put), 'DIGEST_INVALID');
    const other = await fetch(`${base}/v2/u/blobs/uploads/`, { method: 'POST' });
    const l2 = other.headers.get('location')!;
    assert.equal((await fetch(base + l2, { method: 'DELETE' })).status, 204);
    assert.equal(await code(await fetch(base + l2)), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal(await code(await fetch(`${base}/v2/elsewhere/blobs/uploads/${l2.split('/').pop()}`)), 'BLOB_UPLOAD_UNKNOWN');
  });
});

test('read-only mode refuses writes and serves reads', async () => {
  const s = await serve({ readOnly: true });
  try {
    const r = await blob(s.l.url, 'ro', 'x');
    assert.equal(r.status, 405);
    assert.equal(await code(r), 'UNSUPPORTED');
    assert.equal((await fetch(`${s.l.url}/v2/`)).status, 200);
  } finally {
    await s.done();
  }
});

test('token auth: cross-repository mounts need pull on the source', async () => {
  const key = generateKey();
  const htpasswd = Htpasswd.parse(`u:${bcrypt.hashSync('p', 4)}\n`);
  const s = await serve({
    auth: new TokenAuth({ realm: '/token', service: 'svc', issuer: 'iss', keys: [key] }),
    tokens: { path: '/token', issuer: new TokenIssuer(htpasswd, { issuer: 'iss', service: 'svc', key }) },
  });
  try {
    const token = async (scope: string) => {
      const r = await fetch(`${s.l.url}/token?service=svc&scope=${encodeURIComponent(scope)}`, { headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
      return { Authorization: `Bearer ${((await r.json()) as { token: string }).token}` };
    };
    const all = await token('repository:src:pull,push');
    assert.equal((await blob(s.l.url, 'src', 'shared', all)).status, 201);
    const mount = (h: Record<string, string>) => fetch(`${s.l.url}/v2/dst/blobs/uploads/?mount=${sha256('shared')}&from=src`, { method: 'POST', headers: h });
    assert.equal((await mount(await token('repository:dst:pull,push'))).status, 202);
    const both = await fetch(`${s.l.url}/token?service=svc&scope=repository:dst:pull,push&scope=repository:src:pull`, { headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
    const h = { Authorization: `Bearer ${((await both.json()) as { token: string }).token}` };
    assert.equal((await mount(h)).status, 201);
    const catalog = await fetch(`${s.l.url}/v2/_catalog`, { headers: h });
    assert.equal(catalog.status, 401);
    assert.match(catalog.headers.get('www-authenticate')!, /scope="registry:catalog:\*"/);
  } finally {
    await s.done();
  }
});
