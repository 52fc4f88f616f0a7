import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../lib/digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.js';
import { RegistryError } from './errors.js';
import { parseManifest } from './manifest.js';
import { checkDigest, isName, isTagName } from './names.js';

const desc = (mediaType: string, content = mediaType) => ({ mediaType, digest: sha256(content), size: content.length });
const image = (extra: object = {}) => ({ schemaVersion: 2, config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.oci.image.layer.v1.tar')], ...extra });
const parse = (m: object, ct?: string) => parseManifest(Buffer.from(JSON.stringify(m)), ct);
const invalid = (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID';

test('the media type comes from Content-Type, the body, or the shape', () => {
  assert.equal(parse(image({ mediaType: OCI_MANIFEST }), OCI_MANIFEST).mediaType, OCI_MANIFEST);
  assert.equal(parse(image({ mediaType: DOCKER_MANIFEST }), 'application/json').mediaType, DOCKER_MANIFEST);
  assert.equal(parse(image(), undefined).mediaType, OCI_MANIFEST);
  assert.equal(parse({ schemaVersion: 2, manifests: [] }, undefined).mediaType, OCI_INDEX);
  assert.equal(parse({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [] }, `${DOCKER_MANIFEST_LIST}; charset=utf-8`).kind, 'index');
  assert.throws(() => parse(image({ mediaType: DOCKER_MANIFEST }), OCI_MANIFEST), invalid);
  assert.throws(() => parse(image({ mediaType: 'application/vnd.example+json' }), undefined), invalid);
});

test('shape checks: schema version, descriptors, digests', () => {
  assert.throws(() => parseManifest(Buffer.from('[]'), OCI_MANIFEST), invalid);
  assert.throws(() => parse({ ...image(), schemaVersion: 1 }, OCI_MANIFEST), invalid);
  assert.throws(() => parse({ schemaVersion: 2, config: desc('x') }, OCI_MANIFEST), invalid);
  assert.throws(() => parse(image({ layers: [{ mediaType: 'x', digest: 'sha512:00', size: 1 }] }), OCI_MANIFEST), invalid);
  assert.throws(() => parse(image({ layers: [{ mediaType: 'x', digest: sha256('x'), size: -1 }] }), OCI_MANIFEST), invalid);
  assert.throws(() => parse({ schemaVersion: 2, manifests: {} }, OCI_INDEX), invalid);
});

test('referenced blobs, children, subject and artifactType are reported', () => {
  const subject = desc(OCI_MANIFEST, 'subject');
  const m = parse(image({ subject, annotations: { a: 'b' } }), OCI_MANIFEST);
  assert.equal(m.blobs.length, 2);
  assert.deepEqual(m.subject, subject);
  assert.equal(m.artifactType, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(m.annotations, { a: 'b' });
  assert.equal(parse(image({ artifactType: 'application/vnd.example.sig' }), OCI_MANIFEST).artifactType, 'application/vnd.example.sig');
  const idx = parse({ schemaVersion: 2, manifests: [desc(OCI_MANIFEST, 'one')] }, OCI_INDEX);
  assert.equal(idx.children.length, 1);
  assert.equal(idx.artifactType, undefined);
});

test('names, tags and digests as the spec allows them', () => {
  for (const ok of ['a', 'library/busybox', 'a.b_c__d--e/f9', 'x/y/z']) assert.ok(isName(ok), ok);
  for (const bad of ['', 'A', '-a', 'a/', '/a', 'a//b', 'a..b', '../x', 'a/_layers', 'a'.repeat(256)]) assert.ok(!isName(bad), bad);
  for (const ok of ['latest', 'v1.0', '_x', 'A-b_c.d']) assert.ok(isTagName(ok), ok);
  for (const bad of ['', '.x', '-x', 'a/b', 'x'.repeat(129)]) assert.ok(!isTagName(bad), bad);
  assert.equal(checkDigest(sha256('a')), sha256('a'));
  assert.throws(() => checkDigest('sha256:abc'), (e) => e instanceof RegistryError && e.code === 'DIGEST_INVALID');
  assert.throws(() => checkDigest(`sha512:${'a'.repeat(128)}`), /unsupported digest algorithm/);
});
