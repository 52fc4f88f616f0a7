import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import {
  familiarName,
  familiarString,
  fullName,
  fullString,
  isShortIdCandidate,
  lookupOrder,
  matchesReference,
  parseNormalized,
  parseRepoTag,
  parseTagArgs,
  repoDigest,
  repoTag,
  withDefaultTag,
  withDigest,
  withTag,
  type Reference,
} from './reference.js';

const H = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const D = `sha256:${H}` as const;
const FORMAT = 'invalid reference format';

/** Asserts that `fn` throws an InvalidArgument BerthError with exactly `message`. */
function throwsInvalid(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerthError, `not a BerthError: ${String(e)}`);
    assert.equal(e.kind, 'InvalidArgument');
    assert.equal(e.message, message);
    return true;
  });
}

// input → expected parse (domain, path, tag, digest)
const valid: Array<[string, Reference]> = [
  ['busybox', { domain: 'docker.io', path: 'library/busybox' }],
  ['busybox:1.36', { domain: 'docker.io', path: 'library/busybox', tag: '1.36' }],
  ['foo/bar', { domain: 'docker.io', path: 'foo/bar' }],
  ['foo/bar/baz:v1', { domain: 'docker.io', path: 'foo/bar/baz', tag: 'v1' }],
  ['docker.io/busybox', { domain: 'docker.io', path: 'library/busybox' }],
  ['docker.io/library/busybox:latest', { domain: 'docker.io', path: 'library/busybox', tag: 'latest' }],
  ['index.docker.io/busybox', { domain: 'docker.io', path: 'library/busybox' }],
  ['index.docker.io/foo/bar', { domain: 'docker.io', path: 'foo/bar' }],
  ['library/busybox', { domain: 'docker.io', path: 'library/busybox' }],
  ['localhost/x', { domain: 'localhost', path: 'x' }],
  ['localhost:5000/x', { domain: 'localhost:5000', path: 'x' }],
  ['localhost:5000/x:y', { domain: 'localhost:5000', path: 'x', tag: 'y' }],
  ['127.0.0.1:5000/a/b:tag', { domain: '127.0.0.1:5000', path: 'a/b', tag: 'tag' }],
  ['registry.example.com/x', { domain: 'registry.example.com', path: 'x' }],
  [`registry.example.com/x@${D}`, { domain: 'registry.example.com', path: 'x', digest: D }],
  [`busybox:musl@${D}`, { domain: 'docker.io', path: 'library/busybox', tag: 'musl', digest: D }],
  [`busybox@${D}`, { domain: 'docker.io', path: 'library/busybox', digest: D }],
  ['[::1]:5000/x', { domain: '[::1]:5000', path: 'x' }],
  ['[fd00:1:2::3]/team/app:2', { domain: '[fd00:1:2::3]', path: 'team/app', tag: '2' }],
  ['my-registry.io:443/a', { domain: 'my-registry.io:443', path: 'a' }],
  // An uppercase first component is a host name, and hosts may be uppercase.
  ['Registry/app', { domain: 'Registry', path: 'app' }],
  ['REG.EXAMPLE.COM:5000/app', { domain: 'REG.EXAMPLE.COM:5000', path: 'app' }],
  // Separators inside components.
  ['x/a.b_c__d-e---f', { domain: 'docker.io', path: 'x/a.b_c__d-e---f' }],
  ['dock__er/image', { domain: 'docker.io', path: 'dock__er/image' }],
  ['a/b', { domain: 'docker.io', path: 'a/b' }],
  // No slash: dots and ports are a path and a tag, not a registry.
  ['192.168.0.1', { domain: 'docker.io', path: 'library/192.168.0.1' }],
  ['192.168.0.1:80', { domain: 'docker.io', path: 'library/192.168.0.1', tag: '80' }],
  ['sha256:abc', { domain: 'docker.io', path: 'library/sha256', tag: 'abc' }],
  // Tags: word characters, '.', '-', up to 128, uppercase allowed.
  ['x:Tag_1.0-rc', { domain: 'docker.io', path: 'library/x', tag: 'Tag_1.0-rc' }],
  [`x:${'t'.repeat(128)}`, { domain: 'docker.io', path: 'library/x', tag: 't'.repeat(128) }],
  ['x:_', { domain: 'docker.io', path: 'library/x', tag: '_' }],
  // A 64-hex name is fine once qualified, and 63 hex is fine alone.
  [`docker.io/${H}`, { domain: 'docker.io', path: `library/${H}` }],
  [H.slice(1), { domain: 'docker.io', path: `library/${H.slice(1)}` }],
  // Path length counts the path only, not the domain.
  [`example.com/${'a'.repeat(255)}`, { domain: 'example.com', path: 'a'.repeat(255) }],
  // docker's corner: looks like a domain to the splitter, not to the grammar → all path.
  ['a_b.c/d', { domain: '', path: 'a_b.c/d' }],
];

// input → exact error message
const invalid: Array<[string, string]> = [
  ['', FORMAT],
  ['Busybox', `${FORMAT}: repository name (library/Busybox) must be lowercase`],
  ['foo/Bar', `${FORMAT}: repository name (foo/Bar) must be lowercase`],
  ['docker.io/library/Busybox:latest', `${FORMAT}: repository name (library/Busybox) must be lowercase`],
  ['localhost:5000/App:v1', `${FORMAT}: repository name (App) must be lowercase`],
  [H, `invalid repository name (${H}), cannot specify 64-byte hexadecimal strings`],
  [`library/${'a'.repeat(248)}`, 'repository name must not be more than 255 characters'],
  ['-busybox', FORMAT],
  ['busybox-', FORMAT],
  ['foo/-bar', FORMAT],
  ['foo/bar_', FORMAT],
  ['foo/bar.', FORMAT],
  ['foo/bar/', FORMAT],
  ['foo//bar', FORMAT],
  ['foo___bar', FORMAT],
  ['foo._bar', FORMAT],
  ['foo.-bar', FORMAT],
  ['x:', FORMAT],
  ['x:-tag', FORMAT],
  ['x:.tag', FORMAT],
  [`x:${'t'.repeat(129)}`, FORMAT],
  ['x:a:b', FORMAT],
  ['x@', FORMAT],
  ['x@sha256:abc', FORMAT],
  [`x@sha256:${H.slice(0, 32)}`, 'invalid checksum digest length'],
  [`x@sha256:${H}00`, 'invalid checksum digest length'],
  [`x@sha256:${H.toUpperCase()}`, 'invalid checksum digest format'],
  [`x@md5:${H}`, 'unsupported digest algorithm'],
  [`x:t@SHA256:${H}`, 'invalid checksum digest format'],
  // docker checks case on everything before the first ':', digest algorithm included.
  [`x@SHA256:${H}`, `${FORMAT}: repository name (library/x@SHA256) must be lowercase`],
  ['https://example.com/x', FORMAT],
  ['-registry.io/x', FORMAT],
  ['registry-.io/x', FORMAT],
  ['[fc00::1]', FORMAT],
  ['[fc00::1]:5000', FORMAT],
  ['fc00::1:5000/x', FORMAT],
  ['[fe80::1%eth0]:5000/x', FORMAT],
  ['localhost:port/x', FORMAT],
  ['foo bar', FORMAT],
  ['x/y:tag/z', FORMAT],
];

test('parseNormalized: valid references', () => {
  for (const [input, want] of valid) {
    assert.deepEqual(parseNormalized(input), want, input);
  }
});

test('parseNormalized: invalid references and their messages', () => {
  for (const [input, message] of invalid) {
    throwsInvalid(() => parseNormalized(input), message);
  }
});

test('table size', () => {
  assert.ok(valid.length + invalid.length >= 40);
});

test('parseNormalized stays fast on long junk', () => {
  const start = Date.now();
  for (const s of ['a'.repeat(50_000) + '!', 'a-'.repeat(20_000) + '!', 'a.'.repeat(20_000) + '/!']) {
    assert.throws(() => parseNormalized(s));
  }
  assert.ok(Date.now() - start < 2000);
});

// input → [familiarString, fullString, familiarName, fullName]
const forms: Array<[string, string, string, string, string]> = [
  ['busybox', 'busybox', 'docker.io/library/busybox', 'busybox', 'docker.io/library/busybox'],
  ['busybox:latest', 'busybox:latest', 'docker.io/library/busybox:latest', 'busybox', 'docker.io/library/busybox'],
  ['foo/bar:1', 'foo/bar:1', 'docker.io/foo/bar:1', 'foo/bar', 'docker.io/foo/bar'],
  ['library/a/b', 'library/a/b', 'docker.io/library/a/b', 'library/a/b', 'docker.io/library/a/b'],
  ['localhost:5000/x:y', 'localhost:5000/x:y', 'localhost:5000/x:y', 'localhost:5000/x', 'localhost:5000/x'],
  ['example.com/library/x', 'example.com/library/x', 'example.com/library/x', 'example.com/library/x', 'example.com/library/x'],
  [`busybox:1@${D}`, `busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, 'busybox', 'docker.io/library/busybox'],
  [`index.docker.io/busybox@${D}`, `busybox@${D}`, `docker.io/library/busybox@${D}`, 'busybox', 'docker.io/library/busybox'],
];

test('familiar and full forms round-trip', () => {
  for (const [input, fam, full, famName, name] of forms) {
    const ref = parseNormalized(input);
    assert.equal(familiarString(ref), fam, input);
    assert.equal(fullString(ref), full, input);
    assert.equal(familiarName(ref), famName, input);
    assert.equal(fullName(ref), name, input);
    assert.deepEqual(parseNormalized(fam), ref, `familiar ${fam}`);
    assert.deepEqual(parseNormalized(full), ref, `full ${full}`);
  }
});

test('withDefaultTag, repoTag and repoDigest', () => {
  assert.equal(fullString(withDefaultTag(parseNormalized('busybox'))), 'docker.io/library/busybox:latest');
  assert.equal(fullString(withDefaultTag(parseNormalized('busybox:1'))), 'docker.io/library/busybox:1');
  assert.equal(withDefaultTag(parseNormalized(`busybox@${D}`)).tag, undefined);
  assert.equal(repoTag(withDefaultTag(parseNormalized('docker.io/library/busybox'))), 'busybox:latest');
  assert.equal(repoTag(parseNormalized('localhost:5000/x:y')), 'localhost:5000/x:y');
  assert.equal(repoTag(parseNormalized(`x@${D}`)), undefined);
  assert.equal(repoDigest(parseNormalized(`foo/bar:1@${D}`)), `foo/bar@${D}`);
  assert.equal(repoDigest(parseNormalized('foo/bar:1')), undefined);
});

test('withTag and withDigest', () => {
  const ref = parseNormalized(`x@${D}`);
  assert.equal(familiarString(withTag(ref, 'v2')), `x:v2@${D}`);
  throwsInvalid(() => withTag(ref, 'bad tag'), 'invalid tag format');
  assert.equal(familiarString(withDigest(parseNormalized('x:1'), D)), `x:1@${D}`);
  throwsInvalid(() => withDigest(ref, 'sha256:00'), 'invalid digest format');
});

test('parseTagArgs: the pull pair', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['busybox', undefined, 'docker.io/library/busybox'],
    ['busybox', '', 'docker.io/library/busybox'],
    ['busybox', '1.36', 'docker.io/library/busybox:1.36'],
    ['busybox:1.35', '', 'docker.io/library/busybox:1.35'],
    ['busybox:1.35', '1.36', 'docker.io/library/busybox:1.36'],
    ['busybox:', '', 'docker.io/library/busybox'],
    [`busybox@${D}`, '', `docker.io/library/busybox@${D}`],
    ['busybox:1', D, `docker.io/library/busybox@${D}`],
    [`busybox@${D}`, 'v2', `docker.io/library/busybox:v2@${D}`],
  ];
  for (const [repo, tag, want] of cases) {
    assert.equal(fullString(parseTagArgs(repo, tag)), want, `${repo} + ${tag}`);
  }
  throwsInvalid(() => parseTagArgs('busybox', 'bad/tag'), 'invalid tag format');
  throwsInvalid(() => parseTagArgs('Busybox', 'x'), `${FORMAT}: repository name (library/Busybox) must be lowercase`);
  throwsInvalid(() => parseTagArgs('', ''), FORMAT);
});

test('parseRepoTag: the tag/commit/import pair', () => {
  assert.equal(parseRepoTag('', 'x'), undefined);
  assert.equal(fullString(parseRepoTag('foo/bar')!), 'docker.io/foo/bar:latest');
  assert.equal(fullString(parseRepoTag('foo/bar:1', '')!), 'docker.io/foo/bar:1');
  assert.equal(fullString(parseRepoTag('foo/bar:1', '2')!), 'docker.io/foo/bar:2');
  throwsInvalid(() => parseRepoTag(`foo@${D}`), 'cannot import digest reference');
  throwsInvalid(() => parseRepoTag('foo', ':x'), 'invalid tag format');
});

test('matchesReference', () => {
  const busybox = parseNormalized('busybox:latest');
  const foo = parseNormalized('myorg/foo:1.0');
  const local = parseNormalized('localhost:5000/team/app:dev');
  const pinned = parseNormalized(`alpine@${D}`);
  const cases: Array<[string, Reference, boolean]> = [
    ['busybox', busybox, true],
    ['busybox:latest', busybox, true],
    ['busybox:*', busybox, true],
    ['busybox:lat*', busybox, true],
    ['busybox:1*', busybox, false],
    ['busy*', busybox, true],
    ['busybo?', busybox, true],
    ['busybox?', busybox, false],
    ['b[a-u]sybox', busybox, true],
    ['b[^u]sybox', busybox, false],
    ['bus\\ybox', busybox, true],
    ['*', busybox, true],
    ['*', foo, false],
    ['*/*', foo, true],
    ['*/foo', foo, true],
    ['*/foo:1.0', foo, true],
    ['*/foo:2*', foo, false],
    ['myorg/*', foo, true],
    ['foo', foo, false],
    ['library/busybox', busybox, false],
    ['docker.io/library/busybox', busybox, true],
    ['docker.io/library/busybox:lat*', busybox, true],
    ['docker.io/*/busybox', busybox, true],
    ['docker.io/*', busybox, false],
    ['localhost:5000/team/app', local, true],
    ['localhost:5000/*/*:dev', local, true],
    ['*/team/app', local, true],
    ['app', local, false],
    ['alpine', pinned, true],
    [`alpine@${D}`, pinned, true],
    ['alpine:*', pinned, false],
  ];
  for (const [pattern, ref, want] of cases) {
    assert.equal(matchesReference(pattern, ref), want, `${pattern} vs ${fullString(ref)}`);
  }
  for (const bad of ['[', 'a[', '[]', '[^]', '[a-]', '[-a]', 'a\\', '[a']) {
    throwsInvalid(() => matchesReference(bad, busybox), 'syntax error in pattern');
  }
});

test('isShortIdCandidate', () => {
  for (const s of ['a', 'abc123', H, D, 'sha256:0']) assert.equal(isShortIdCandidate(s), true, s);
  for (const s of ['', 'sha256:', 'ABC', 'xyz', `${H}0`, 'sha512:abc', ' abc']) {
    assert.equal(isShortIdCandidate(s), false, s);
  }
});

test('lookupOrder: name before ID prefix, full IDs only as IDs', () => {
  assert.deepEqual(lookupOrder('abc123'), ['name', 'id']);
  assert.deepEqual(lookupOrder('sha256:abc'), ['name', 'id']);
  assert.deepEqual(lookupOrder('busybox'), ['name']);
  assert.deepEqual(lookupOrder('busybox:1'), ['name']);
  assert.deepEqual(lookupOrder(H), ['id']);
  assert.deepEqual(lookupOrder(D), ['id']);
  assert.deepEqual(lookupOrder('Bad Name'), []);
});
