import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.js';
import { splitVersion } from './version.js';

test('routes match names that contain slashes and colons', () => {
  const r = new Router();
  const h = () => undefined;
  r.get('/images/json', h);
  r.get('/images/{name*}/json', h);
  r.delete('/images/{name*}', h);
  r.post('/containers/{id}/start', h);
  const m = r.match('GET', '/images/localhost:5000/team/app:v1/json');
  assert.ok(typeof m === 'object');
  assert.equal(m.params.name, 'localhost:5000/team/app:v1');
  const list = r.match('GET', '/images/json');
  assert.ok(typeof list === 'object');
  assert.deepEqual(list.params, {});
  const del = r.match('DELETE', '/images/sha256%3Aabc');
  assert.ok(typeof del === 'object');
  assert.equal(del.params.name, 'sha256:abc');
  assert.equal(r.match('GET', '/containers/x/start'), 'bad-method');
  assert.equal(r.match('GET', '/nothing'), 'not-found');
  assert.equal(r.match('POST', '/containers/a/b/start'), 'not-found');
});

test('version prefixes: accepted range, docker words outside it', () => {
  assert.deepEqual(splitVersion('/v1.51/images/json'), { version: '1.51', path: '/images/json' });
  assert.deepEqual(splitVersion('/v1.22/version'), { version: '1.22', path: '/version' });
  assert.deepEqual(splitVersion('/_ping'), { version: '1.51', path: '/_ping' });
  assert.throws(() => splitVersion('/v1.99/info'), /client version 1.99 is too new. Maximum supported API version is 1.51/);
  assert.throws(() => splitVersion('/v1.12/info'), /client version 1.12 is too old. Minimum supported API version is 1.22/);
});
