import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { Htpasswd, parseScope, TokenAuth, TokenIssuer } from './auth.js';
import { RegistryError } from './errors.js';
import { generateKey, keyFromPem, keyId, signJwt, verifyJwt } from './jwt.js';

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

test('JWTs signed with ES256 and RS256 verify; tampering, other keys and expiry do not', () => {
  const es = generateKey();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs = keyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  assert.equal(rs.alg, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  for (const k of [es, rs]) {
    const t = signJwt(k, { iss: 'i', exp: now + 60 });
    assert.equal(verifyJwt(t, [k]).iss, 'i');
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: 'i', exp: now + 6000 })).toString('base64url')}.${s}`;
    assert.throws(() => verifyJwt(forged, [k]), /signature/);
    assert.throws(() => verifyJwt(t, [generateKey()]), /signature/);
    assert.throws(() => verifyJwt(signJwt(k, { exp: now - 120 }), [k]), /expired/);
  }
  // a public key alone verifies
  const pub = keyFromPem(es.public.export({ type: 'spki', format: 'pem' }).toString());
  assert.equal(pub.private, undefined);
  assert.equal(verifyJwt(signJwt(es, { iss: 'x' }), [pub]).iss, 'x');
  assert.match(keyId(es.public), /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
});

test('htpasswd takes bcrypt hashes ($2y$ too) and nothing else', async () => {
  const hash = bcrypt.hashSync('pw', 4).replace(/^\$2b\$/, '$2y$');
  const h = Htpasswd.parse(`# users\nalice:${hash}\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n\n`);
  assert.equal(h.size, 1);
  assert.equal(await h.verify('alice', 'pw'), true);
  assert.equal(await h.verify('alice', 'pw'), true);
  assert.equal(await h.verify('alice', 'nope'), false);
  assert.equal(await h.verify('bob', 'password'), false);
  assert.equal(await h.verify('carol', 'pw'), false);
});

test('scopes parse with colons in names', () => {
  assert.deepEqual(parseScope('repository:a/b:pull,push'), { type: 'repository', name: 'a/b', actions: ['pull', 'push'] });
  assert.deepEqual(parseScope('repository:host:5000/a:pull'), { type: 'repository', name: 'host:5000/a', actions: ['pull'] });
  assert.equal(parseScope('nonsense'), undefined);
});

test('the token endpoint grants what it knows to users it knows, and the registry enforces it', async () => {
  const key = generateKey();
  const h = Htpasswd.parse(`alice:${bcrypt.hashSync('pw', 4)}\n`);
  const issuer = new TokenIssuer(h, { issuer: 'iss', service: 'svc', key });
  const auth = new TokenAuth({ realm: '/token', service: 'svc', issuer: 'iss', keys: [key] });
  const denied = await issuer.handle({}, new URLSearchParams('scope=repository:a:pull'));
  assert.equal(denied.status, 401);
  const reply = await issuer.handle(basic('alice', 'pw'), new URLSearchParams([['scope', 'repository:a:pull,fly registry:catalog:*'], ['scope', 'bogus:x:y']]));
  assert.equal(reply.status, 200);
  const token = (JSON.parse(reply.body) as { token: string }).token;
  assert.deepEqual(verifyJwt(token, [key]).access, [
    { type: 'repository', name: 'a', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
  const headers = { authorization: `Bearer ${token}`, host: 'reg:5000' };
  const grant = await auth.authorize(headers, [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  assert.equal(grant.user, 'alice');
  assert.equal(grant.can({ type: 'repository', name: 'b', actions: ['pull'] }), false);
  await assert.rejects(auth.authorize(headers, [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]), (e) => {
    assert.ok(e instanceof RegistryError && e.code === 'UNAUTHORIZED');
    assert.equal(e.headers['WWW-Authenticate'], 'Bearer realm="http://reg:5000/token",service="svc",scope="repository:a:pull,push",error="insufficient_scope"');
    return true;
  });
  const otherService = new TokenAuth({ realm: 'https://auth.example/token', service: 'other', issuer: 'iss', keys: [key] });
  await assert.rejects(otherService.authorize(headers, []), /not issued for this registry/);
});
