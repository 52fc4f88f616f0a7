import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../lib/errors.js';
import {
  Client,
  ConnectionError,
  DaemonError,
  compareVersions,
  encodeFilters,
  encodeQuery,
  kindForStatus,
} from './client.js';
import { StreamError } from './jsonstream.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

class FakeDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  readonly socket = join(this.dir, 'd.sock');
  readonly seen: Seen[] = [];
  apiVersion: string | undefined = '1.47';
  headAllowed = true;
  routes = new Map<string, Handler>();
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (this.apiVersion !== undefined) res.setHeader('Api-Version', this.apiVersion);
      res.setHeader('Ostype', 'linux');
      const path = (req.url ?? '').split('?')[0]!;
      if (path === '/_ping') {
        if (req.method === 'HEAD' && !this.headAllowed) {
          res.writeHead(405, { 'Content-Type': 'application/json' });
          res.end();
          return;
        }
        res.setHeader('Docker-Experimental', 'false');
        res.setHeader('Builder-Version', '1');
        res.setHeader('Swarm', 'inactive');
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : 'OK');
        return;
      }
      const key = `${req.method} ${path.replace(/^\/v\d+\.\d+/, '')}`;
      const h = this.routes.get(key);
      if (!h) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: `page not found: ${key}` }));
        return;
      }
      h(req, res, body);
    });
  });

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socket, resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        resolve();
      });
    });
  }

  json(key: string, status: number, value: unknown): void {
    this.routes.set(key, (_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    });
  }
}

describe('Client against a fake daemon', () => {
  const d = new FakeDaemon();
  before(() => d.start());
  after(() => d.stop());

  const mk = (opts: { version?: string } = {}) => new Client({ host: `unix://${d.socket}`, ...opts });

  test('negotiates with HEAD /_ping and prefixes later calls', async () => {
    d.seen.length = 0;
    d.apiVersion = '1.47';
    d.json('GET /version', 200, { Version: '1', ApiVersion: '1.47', Os: 'linux', Arch: 'amd64' });
    const c = mk();
    const v = await c.version();
    assert.equal(v.Version, '1');
    assert.equal(d.seen[0]!.method, 'HEAD');
    assert.equal(d.seen[0]!.url, '/_ping');
    assert.equal(d.seen[0]!.headers.host, 'api.moby.localhost');
    assert.equal(d.seen[1]!.url, '/v1.47/version');
    assert.equal(c.currentVersion, '1.47');
    // negotiation happens once
    await c.version();
    assert.equal(d.seen.filter((s) => s.url === '/_ping').length, 1);
    c.close();
  });

  test('caps the version at 1.51 and falls back to 1.24 without a header', async () => {
    d.apiVersion = '1.56';
    let c = mk();
    assert.equal(await c.apiVersion(), '1.51');
    c.close();
    d.apiVersion = undefined;
    c = mk();
    assert.equal(await c.apiVersion(), '1.24');
    c.close();
    d.apiVersion = '1.47';
  });

  test('falls back to GET when HEAD is refused', async () => {
    d.seen.length = 0;
    d.headAllowed = false;
    const c = mk();
    const p = await c.ping();
    assert.equal(p.apiVersion, '1.47');
    assert.equal(p.osType, 'linux');
    assert.deepEqual(p.swarm, { nodeState: 'inactive', controlAvailable: false });
    assert.deepEqual(d.seen.map((s) => s.method), ['HEAD', 'GET']);
    d.headAllowed = true;
    c.close();
  });

  test('a pinned version skips the ping', async () => {
    d.seen.length = 0;
    d.json('GET /info', 200, { Containers: 3 });
    const c = mk({ version: '1.44' });
    const info = await c.info();
    assert.equal(info.Containers, 3);
    assert.deepEqual(d.seen.map((s) => s.url), ['/v1.44/info']);
    c.close();
  });

  test('maps error statuses to kinds with the daemon message verbatim', async () => {
    const cases: [number, string][] = [
      [400, 'InvalidArgument'],
      [401, 'Unauthorized'],
      [403, 'Forbidden'],
      [404, 'NotFound'],
      [409, 'Conflict'],
      [500, 'Internal'],
      [501, 'NotImplemented'],
      [503, 'Unavailable'],
    ];
    const c = mk();
    for (const [status, kind] of cases) {
      d.json('GET /images/x/json', status, { message: `boom ${status}` });
      await assert.rejects(c.imageInspect('x'), (err: unknown) => {
        assert.ok(err instanceof DaemonError);
        assert.ok(err instanceof BerthError);
        assert.equal(err.kind, kind);
        assert.equal(err.status, status);
        assert.equal(err.message, `boom ${status}`);
        return true;
      });
    }
    c.close();
  });

  test('non-JSON and empty error bodies', async () => {
    const c = mk();
    d.routes.set('GET /info', (_req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('plain failure\n');
    });
    await assert.rejects(c.info(), { message: 'plain failure' });
    d.routes.set('GET /info', (_req, res) => {
      res.writeHead(404);
      res.end();
    });
    await assert.rejects(c.info(), {
      message: 'request returned 404 Not Found for API route and version http://api.moby.localhost/v1.47/info, check if the server supports the requested API version',
    });
    // charset in the content type: the Go client prints the raw body
    d.routes.set('GET /info', (_req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"message":"x"}');
    });
    await assert.rejects(c.info(), { message: '{"message":"x"}' });
    c.close();
  });

  test('connection failure uses docker words', async () => {
    const c = new Client({ host: `unix://${d.dir}/missing.sock` });
    await assert.rejects(c.info(), (err: unknown) => {
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.message, `Cannot connect to the Docker daemon at unix://${d.dir}/missing.sock. Is the docker daemon running?`);
      return true;
    });
    c.close();
    const t = new Client({ host: 'tcp://127.0.0.1:1' });
    await assert.rejects(t.ping(), { message: 'Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?' });
    t.close();
  });

  test('host parsing', () => {
    assert.throws(() => new Client({ host: 'fd://' }), /unable to parse docker host `fd:\/\/`/);
    assert.throws(() => new Client({ host: 'foo://x' }), /invalid bind address format: foo:\/\/x/);
    assert.equal(new Client({ host: 'tcp://10.0.0.1' }).host, 'tcp://10.0.0.1:2375');
    assert.equal(new Client({ host: 'tcp://h', tls: { verify: true } }).host, 'tcp://h:2376');
    assert.equal(new Client({ host: 'unix:///x.sock' }).host, 'unix:///x.sock');
  });

  test('query encoding: images list, remove, tag', async () => {
    d.seen.length = 0;
    d.json('GET /images/json', 200, []);
    d.json('DELETE /images/busybox', 200, [{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:aa' }]);
    d.json('POST /images/abc/tag', 201, undefined);
    const c = mk();
    await c.imageList({ all: true, filters: { reference: ['busybox'], dangling: ['true'] } });
    const dels = await c.imageRemove('busybox', { force: true, noPrune: true });
    assert.deepEqual(dels, [{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:aa' }]);
    await c.imageTag('abc', 'me/app');
    const urls = d.seen.filter((s) => s.url !== '/_ping').map((s) => decodeURIComponent(s.url));
    assert.deepEqual(urls, [
      '/v1.47/images/json?all=1&filters={"dangling":{"true":true},"reference":{"busybox":true}}',
      '/v1.47/images/busybox?force=1&noprune=1',
      '/v1.47/images/abc/tag?repo=docker.io/me/app&tag=latest',
    ]);
    await assert.rejects(c.imageTag('abc', 'Bad'), /must be lowercase/);
    await assert.rejects(c.imageTag('abc', 'x@sha256:' + 'a'.repeat(64)), /refusing to create a tag with a digest reference/);
    c.close();
  });

  test('JSON message stream decoding and in-band errors', async () => {
    d.routes.set('POST /images/create', (_req, res, body) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // split a message across writes, CRLF separators
      res.write('{"status":"Importing","progressDetail":{"current":' + body.length + '}}\r\n{"sta');
      setTimeout(() => {
        res.write('tus":"sha256:' + 'b'.repeat(64) + '"}\r\n');
        res.end();
      }, 5);
    });
    const c = mk();
    const seen: string[] = [];
    const id = await c.imageImportAndWait(Readable.from([Buffer.from('abc'), Buffer.from('def')]), { reference: 'x:1', changes: ['CMD ["sh"]'] }, (m) => seen.push(m.status ?? ''));
    assert.equal(id, 'sha256:' + 'b'.repeat(64));
    assert.equal(seen[0], 'Importing');
    const last = d.seen[d.seen.length - 1]!;
    assert.equal(last.body.toString(), 'abcdef');
    assert.equal(last.headers['transfer-encoding'], 'chunked');
    assert.equal(last.headers['content-type'], 'text/plain');
    assert.equal(decodeURIComponent(last.url.replace(/\+/g, ' ')), '/v1.47/images/create?changes=CMD ["sh"]&fromSrc=-&message=&repo=x:1&tag=');

    d.routes.set('POST /images/create', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"Downloading"}\n{"errorDetail":{"code":3,"message":"bad tar"},"error":"bad tar"}\n');
    });
    await assert.rejects(c.imageImportAndWait('http://example/x.tar'), (err: unknown) => {
      assert.ok(err instanceof StreamError);
      assert.equal(err.message, 'bad tar');
      assert.equal(err.code, 3);
      return true;
    });
    c.close();
  });

  test('raw streams and load content type', async () => {
    d.routes.set('GET /images/get', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      res.end(Buffer.alloc(1024, 7));
    });
    d.routes.set('POST /images/load', (req, res, body) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ stream: `Loaded ${body.length} ${req.headers['content-type']}\n` }));
    });
    const c = mk();
    d.seen.length = 0;
    const s = await c.imageSave(['a', 'b:1']);
    let n = 0;
    for await (const chunk of s) n += (chunk as Buffer).length;
    assert.equal(n, 1024);
    assert.equal(decodeURIComponent(d.seen[d.seen.length - 1]!.url), '/v1.47/images/get?names=a&names=b:1');
    const { response, json } = await c.imageLoad(Buffer.alloc(10), { quiet: true });
    assert.equal(json, true);
    const msgs: string[] = [];
    for await (const ch of response) msgs.push(String(ch));
    assert.equal(JSON.parse(msgs.join('')).stream, 'Loaded 10 application/x-tar\n');
    c.close();
  });
});

test('helpers', () => {
  assert.equal(compareVersions('1.9', '1.10'), -1);
  assert.equal(compareVersions('1.51', '1.51'), 0);
  assert.equal(encodeQuery({ b: true, a: 'x', c: false, d: undefined, e: ['1', '2'] }), '?a=x&b=1&e=1&e=2');
  assert.equal(encodeFilters({}), undefined);
  assert.equal(encodeFilters({ label: ['a=b'] }), '{"label":{"a=b":true}}');
  assert.equal(kindForStatus(418), 'Internal');
});
