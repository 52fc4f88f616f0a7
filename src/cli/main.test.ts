import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from './main.js';

type Route = (req: http.IncomingMessage, body: Buffer) => { status?: number; json?: unknown; text?: string; type?: string };

class FakeDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  readonly socket = join(this.dir, 'd.sock');
  readonly routes = new Map<string, Route>();
  readonly seen: string[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.seen.push(`${req.method} ${req.url}`);
      res.setHeader('Api-Version', '1.51');
      const path = (req.url ?? '').split('?')[0]!.replace(/^\/v\d+\.\d+/, '');
      if (path === '/_ping') {
        res.writeHead(200);
        res.end();
        return;
      }
      const r = this.routes.get(`${req.method} ${path}`);
      if (!r) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: `no route ${req.method} ${path}` }));
        return;
      }
      const out = r(req, Buffer.concat(chunks));
      res.writeHead(out.status ?? 200, { 'Content-Type': out.type ?? 'application/json' });
      res.end(out.text ?? (out.json === undefined ? '' : JSON.stringify(out.json)));
    });
  });
  start() {
    return new Promise<void>((r) => this.server.listen(this.socket, r));
  }
  stop() {
    return new Promise<void>((r) => {
      this.server.closeAllConnections();
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        r();
      });
    });
  }
}

async function run(d: FakeDaemon, args: string[], stdin = ''): Promise<{ out: string; err: string; code: number }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await main(['-H', `unix://${d.socket}`, ...args], {
    stdout,
    stderr,
    stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
    env: { HOME: d.dir, DOCKER_CONFIG: join(d.dir, 'cfg') },
  });
  return { out, err, code };
}

const now = Math.floor(Date.now() / 1000);
const ID1 = 'sha256:' + 'a1'.repeat(32);
const ID2 = 'sha256:' + 'b2'.repeat(32);

describe('berth CLI against a fake daemon', () => {
  const d = new FakeDaemon();
  before(() => d.start());
  after(() => d.stop());

  test('images: table, one row per tag, <none> for dangling', async () => {
    d.routes.set('GET /images/json', () => ({
      json: [
        { Id: ID1, ParentId: '', RepoTags: ['busybox:latest', 'me/app:1'], RepoDigests: [], Created: now - 7200, Size: 4_260_000, SharedSize: -1, Labels: null, Containers: -1 },
        { Id: ID2, ParentId: '', RepoTags: [], RepoDigests: [], Created: now - 90, Size: 1200, SharedSize: -1, Labels: null, Containers: -1 },
      ],
    }));
    const r = await run(d, ['images']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      'REPOSITORY   TAG       IMAGE ID       CREATED              SIZE\n' +
        'busybox      latest    a1a1a1a1a1a1   2 hours ago          4.26MB\n' +
        'me/app       1         a1a1a1a1a1a1   2 hours ago          4.26MB\n' +
        '<none>       <none>    b2b2b2b2b2b2   About a minute ago   1.2kB\n',
    );
    const q = await run(d, ['images', '-q', 'busybox']);
    assert.equal(q.out, 'a1a1a1a1a1a1\na1a1a1a1a1a1\nb2b2b2b2b2b2\n');
    assert.match(d.seen[d.seen.length - 1]!, /filters=%7B%22reference%22%3A%7B%22busybox%22%3Atrue%7D%7D/);
    const j = await run(d, ['images', '--format', 'json']);
    assert.match(j.out.split('\n')[2]!, /^\{"Containers":"N\/A",.*"Repository":"\\u003cnone\\u003e"/);
  });

  test('flag and argument errors', async () => {
    let r = await run(d, ['images', '--bogus']);
    assert.equal(r.code, 125);
    assert.equal(r.err, "unknown flag: --bogus\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information\n");
    r = await run(d, ['images', '-f', 'dangling']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^invalid argument "dangling" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n/);
    r = await run(d, ['rmi']);
    assert.equal(r.code, 1);
    assert.equal(r.err, "berth: 'berth rmi' requires at least 1 argument\n\nUsage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\nSee 'berth rmi --help' for more information\n");
    r = await run(d, ['foo']);
    assert.equal(r.code, 1);
    assert.equal(r.err, "berth: unknown command: berth foo\n\nRun 'berth --help' for more information\n");
    r = await run(d, ['image', 'foo']);
    assert.equal(r.err, "berth: unknown command: berth image foo\n\nUsage:  berth image\n\nRun 'berth image --help' for more information\n");
  });

  test('help', async () => {
    const r = await run(d, ['images', '--help']);
    assert.equal(r.code, 0);
    assert.ok(r.out.startsWith('Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\nAliases:\n  berth image ls, berth image list, berth images\n\nOptions:\n  -a, --all '));
    assert.ok(r.out.includes("      --format string   Format output using a custom template:\n                        'table':            Print output in table format\n                        with column headers (default)\n"));
    const root = await run(d, ['--help']);
    assert.match(root.out, /^Usage:  berth \[OPTIONS\] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n  run         Create and run a new container from an image\n  exec        Execute a command in a running container\n  ps          List containers\n  build       Build an image from a Dockerfile\n  pull        Download an image from a registry\n  push        Upload an image to a registry\n  images      List images\n  login       Authenticate to a registry\n  logout      Log out from a registry\n/);
    const group = await run(d, ['image']);
    assert.equal(group.out, '');
    assert.match(group.err, /^Usage:  berth image COMMAND\n\nManage images\n\nCommands:\n  build       Build an image from a Dockerfile\n  history     Show the history of an image\n/);
  });

  test('rmi prints what happened, continues past errors, exits 1', async () => {
    d.routes.set('DELETE /images/busybox', () => ({ json: [{ Untagged: 'busybox:latest' }, { Deleted: ID1 }] }));
    d.routes.set('DELETE /images/nosuch', () => ({ status: 404, json: { message: 'No such image: nosuch:latest' } }));
    let r = await run(d, ['rmi', 'nosuch', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.out, `Untagged: busybox:latest\nDeleted: ${ID1}\n`);
    assert.equal(r.err, 'Error response from daemon: No such image: nosuch:latest\n');
    r = await run(d, ['rmi', '-f', 'nosuch']);
    assert.equal(r.code, 0);
    assert.equal(r.err, 'Error response from daemon: No such image: nosuch:latest\n');
  });

  test('inspect tries container then image; not found everywhere', async () => {
    d.routes.set('GET /images/busybox/json', () => ({ text: '{"Id":"' + ID1 + '","RepoTags":["busybox:latest"],"Size":5}' }));
    d.routes.set('GET /info', () => ({ json: { Swarm: { LocalNodeState: 'inactive', ControlAvailable: false } } }));
    let r = await run(d, ['inspect', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `[\n    {\n        "Id": "${ID1}",\n        "RepoTags": [\n            "busybox:latest"\n        ],\n        "Size": 5\n    }\n]\n`);
    r = await run(d, ['inspect', '-f', '{{.Size}} {{index .RepoTags 0}}', 'busybox', 'x']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '5 busybox:latest\n');
    assert.equal(r.err, 'Error: No such object: x\n');
    r = await run(d, ['inspect', 'x']);
    assert.equal(r.out, '[]\n');
  });

  test('version renders docker\'s layout', async () => {
    d.routes.set('GET /version', () => ({
      json: {
        Platform: { Name: '' },
        Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.51', MinAPIVersion: '1.24', GitCommit: 'abc', GoVersion: 'v20', Os: 'linux', Arch: 'amd64', BuildTime: '2026-01-02T03:04:05.000000000+00:00', Experimental: 'false' } }],
        Version: '0.1.0', ApiVersion: '1.51', Os: 'linux', Arch: 'amd64',
      },
    }));
    const r = await run(d, ['version']);
    assert.equal(r.code, 0);
    const server = r.out.slice(r.out.indexOf('Server:'));
    assert.equal(
      server,
      'Server:\n Engine:\n  Version:          0.1.0\n  API version:      1.51 (minimum version 1.24)\n  Go version:       v20\n  Git commit:       abc\n  Built:            Fri Jan  2 03:04:05 2026\n  OS/Arch:          linux/amd64\n  Experimental:     false\n',
    );
    assert.match(r.out, /^Client:\n Version: {11}\S+\n API version: {7}1\.51\n/);
    const f = await run(d, ['version', '--format', '{{.Server.Version}}/{{.Client.APIVersion}}']);
    assert.equal(f.out, '0.1.0/1.51\n');
  });

  test('system df summary', async () => {
    d.routes.set('GET /system/df', () => ({
      json: {
        LayersSize: 2_000_000,
        Images: [{ Id: ID1, RepoTags: ['busybox:latest'], RepoDigests: [], Created: now, Size: 2_000_000, SharedSize: 0, Containers: 1 }],
        Containers: [{ Id: 'c'.repeat(64), Names: ['/x'], Image: 'busybox', ImageID: ID1, Command: 'sh', Created: now, State: 'running', Status: 'Up', SizeRw: 10 }],
        Volumes: [],
        BuildCache: [],
      },
    }));
    const r = await run(d, ['system', 'df']);
    assert.equal(
      r.out,
      'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n' +
        'Images          1         1         2MB       0B (0%)\n' +
        'Containers      1         1         10B       0B (0%)\n' +
        'Local Volumes   0         0         0B        0B\n' +
        'Build Cache     0         0         0B        0B\n',
    );
  });

  test('image prune asks first; -f skips the prompt', async () => {
    d.routes.set('POST /images/prune', () => ({ json: { ImagesDeleted: [{ Untagged: 'a:1' }, { Deleted: ID2 }], SpaceReclaimed: 1_200_000 } }));
    let r = await run(d, ['image', 'prune'], 'n\n');
    assert.equal(r.code, 0);
    assert.equal(r.out, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    r = await run(d, ['image', 'prune', '-f']);
    assert.equal(r.out, `Deleted Images:\nuntagged: a:1\ndeleted: ${ID2}\n\nTotal reclaimed space: 1.2MB\n`);
    assert.match(d.seen[d.seen.length - 1]!, /filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D/);
  });

  test('daemon unreachable', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c) => (err += c));
    stdout.resume();
    const code = await main(['images'], { stdout, stderr, stdin: Readable.from([]), env: { DOCKER_HOST: `unix://${d.dir}/none.sock` } });
    assert.equal(code, 1);
    assert.equal(err, `Cannot connect to the Docker daemon at unix://${d.dir}/none.sock. Is the docker daemon running?\n`);
  });
});
