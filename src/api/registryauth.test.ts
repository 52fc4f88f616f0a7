import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegistryAuth } from './registryauth.js';

test('X-Registry-Auth: base64url or std, with or without padding, auth field, empty means anonymous', () => {
  const json = JSON.stringify({ username: 'al?ce', password: 'p>w', serveraddress: 'localhost:5000' });
  const url = Buffer.from(json).toString('base64url');
  const std = Buffer.from(json).toString('base64');
  for (const v of [url, std, std.replace(/=+$/, '')]) assert.deepEqual(decodeRegistryAuth(v), { username: 'al?ce', password: 'p>w' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(JSON.stringify({ auth: Buffer.from('bob:x:y').toString('base64') })).toString('base64url')), {
    username: 'bob',
    password: 'x:y',
  });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(JSON.stringify({ identitytoken: 'tok' })).toString('base64')), { identityToken: 'tok' });
  assert.equal(decodeRegistryAuth('e30='), undefined);
  assert.equal(decodeRegistryAuth('not base64 json'), undefined);
  assert.equal(decodeRegistryAuth(undefined), undefined);
});
