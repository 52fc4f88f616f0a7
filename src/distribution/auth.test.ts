import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseChallenges, repositoryScope } from './auth.js';
import { RegistryClient } from './remote.js';
import { isInsecure } from './transport.js';

test('challenges: quoted and bare parameters, several schemes, escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="basic-realm"'), [{ scheme: 'basic', params: { realm: 'basic-realm' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm="r", error="insufficient_scope"']), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="a", Bearer realm="b"'), [
    { scheme: 'basic', params: { realm: 'a' } },
    { scheme: 'bearer', params: { realm: 'b' } },
  ]);
  assert.deepEqual(parseChallenges('Bearer realm="say \\"hi\\""'), [{ scheme: 'bearer', params: { realm: 'say "hi"' } }]);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.equal(repositoryScope('team/app', ['pull', 'push']), 'repository:team/app:pull,push');
});

test('insecure registries: loopback, localhost, named hosts and CIDRs', () => {
  assert.ok(isInsecure('127.0.0.1:5000', []));
  assert.ok(isInsecure('127.3.4.5', []));
  assert.ok(isInsecure('localhost:5000', []));
  assert.ok(isInsecure('[::1]:5000', []));
  assert.ok(!isInsecure('registry.example:5000', []));
  assert.ok(isInsecure('registry.example:5000', ['registry.example:5000']));
  assert.ok(isInsecure('registry.example:5000', ['registry.example']));
  assert.ok(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(!isInsecure('11.1.2.3:5000', ['10.0.0.0/8']));
});

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}

/** A registry that wants bearer tokens from its own token endpoint, which wants alice:pw (or anonymous for pull). */
async function tokenRegistry(): Promise<{ host: string; seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push({ method: req.method!, url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const host = req.headers.host!;
    if (url.pathname === '/token') {
      const scope = url.searchParams.getAll('scope').join(' ');
      const basic = req.headers.authorization;
      if (basic && basic !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ details: 'incorrect username or password' }));
      }
      const who = basic ? 'alice' : 'anonymous';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const body: Record<string, unknown> = { token: `tok-${who}-${scope}`, expires_in: 300 };
      if (url.searchParams.get('offline_token') === 'true') body['refresh_token'] = 'refresh-alice';
      return res.end(JSON.stringify(body));
    }
    const want = (scope: string) => `Bearer realm="http://${host}/token",service="test-registry"${scope ? `,scope="${scope}"` : ''}`;
    const auth = req.headers.authorization ?? '';
    if (url.pathname === '/v2/') {
      if (!auth.startsWith('Bearer tok-')) {
        res.writeHead(401, { 'WWW-Authenticate': want(''), 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      }
      res.writeHead(200);
      return res.end('{}');
    }
    const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (m) {
      const scope = `repository:${m[1]}:pull`;
      if (auth !== `Bearer tok-anonymous-${scope}` && auth !== `Bearer tok-alice-${scope}`) {
        res.writeHead(401, { 'WWW-Authenticate': want(scope), 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      }
      if (m[1] === 'private/app' && !auth.includes('alice')) {
        res.writeHead(401, { 'WWW-Authenticate': `${want(scope)},error="insufficient_scope"`, 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
      }
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] });
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { host: `127.0.0.1:${port}`, seen, close: () => server.close() };
}

const hosts = { insecure: [], certDirs: [], userAgent: 'berth-test' };

test('bearer flow: anonymous token per scope, reused; credentials as Basic to the token server', async () => {
  const r = await tokenRegistry();
  try {
    const anon = new RegistryClient(r.host, { hosts });
    const m = await anon.manifest('team/app', 'latest');
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    await anon.manifest('team/app', 'v2');
    const tokenCalls = r.seen.filter((s) => s.url.startsWith('/token'));
    assert.equal(tokenCalls.length, 1, JSON.stringify(r.seen));
    const q = new URL(tokenCalls[0]!.url, 'http://x').searchParams;
    assert.equal(q.get('service'), 'test-registry');
    assert.equal(q.get('scope'), 'repository:team/app:pull');
    assert.equal(tokenCalls[0]!.authorization, undefined);
    assert.ok(r.seen.some((s) => s.url === '/v2/team/app/manifests/latest' && s.authorization === 'Bearer tok-anonymous-repository:team/app:pull'));

    await assert.rejects(anon.manifest('private/app', 'latest'), (e: Error & { codes?: string[] }) => e.codes?.[0] === 'DENIED' && /denied: requested access to the resource is denied/.test(e.message));

    const alice = new RegistryClient(r.host, { hosts, auth: { username: 'alice', password: 'pw' } });
    await alice.manifest('private/app', 'latest');
    const aliceToken = r.seen.filter((s) => s.url.startsWith('/token')).at(-1)!;
    assert.equal(aliceToken.authorization, `Basic ${Buffer.from('alice:pw').toString('base64')}`);
    assert.equal(new URL(aliceToken.url, 'http://x').searchParams.get('account'), 'alice');

    const login = await alice.login();
    assert.deepEqual(login, { identityToken: 'refresh-alice' });
    const bad = new RegistryClient(r.host, { hosts, auth: { username: 'alice', password: 'wrong' } });
    await assert.rejects(bad.login(), /unauthorized: incorrect username or password/);
  } finally {
    r.close();
  }
});
