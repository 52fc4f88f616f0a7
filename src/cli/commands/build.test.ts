/**
 * `berth build` flags and contexts → the `POST /build` request, checked
 * against what the real docker CLI (DOCKER_BUILDKIT=0) sends for the same
 * command line to a capture server: the query, the registry header, and
 * every entry of the context tar (name, type, mode, owner, link, content).
 * Also offline checks of flag parsing, the option maps and the output of a
 * failing stream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { completeTar } from '../../lib/tarend.js';
import { Command, parseCommandFlags } from '../command.js';
import { main } from '../main.js';
import { buildArgsMap, buildDef, buildOptions, labelsMap, withProxyArgs } from './build.js';

const DOCKER = '/usr/local/bin/docker';

interface Captured {
  path: string;
  query: Array<[string, string]>;
  registryConfig: string | undefined;
  contentType: string | undefined;
  entries: string[];
}

/** A daemon that answers /_ping and /build (with `reply`) and keeps what each build sent. */
class CaptureServer {
  readonly socket: string;
  builds: Captured[] = [];
  reply = '{"stream":"Step 1/1 : FROM busybox\\n"}\r\n{"stream":" ---\\u003e 0123456789ab\\n"}\r\n{"aux":{"ID":"sha256:' + '0123456789ab'.repeat(5) + '0123"}}\r\n{"stream":"Successfully built 0123456789ab\\n"}\r\n';
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Api-Version', '1.50');
      res.setHeader('Ostype', 'linux');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/_ping') return res.end(req.method === 'HEAD' ? undefined : 'OK');
      if (url.pathname.endsWith('/build')) {
        void entriesOf(Buffer.concat(chunks)).then((entries) => {
          this.builds.push({
            path: url.pathname,
            query: [...url.searchParams.entries()].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1)),
            registryConfig: req.headers['x-registry-config'] as string | undefined,
            contentType: req.headers['content-type'],
            entries,
          });
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(this.reply);
        });
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"nope"}');
    });
  });

  constructor(dir: string) {
    this.socket = join(dir, 'capture.sock');
  }
  start(): Promise<void> {
    return new Promise((r) => this.server.listen(this.socket, r));
  }
  stop(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}

/** The entries of a context tar as comparable lines; random Dockerfile names become `.dockerfile.X`. */
async function entriesOf(body: Buffer): Promise<string[]> {
  if (body.length === 0) return [];
  const out: string[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((res, rej) => {
    ex.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        hash.update(c as Buffer);
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        const content = hash.digest('hex').slice(0, 12);
        const text = Buffer.concat(chunks).toString();
        const name = h.name.replace(/^\.dockerfile\.[0-9a-f]{20}$/, '.dockerfile.X');
        out.push(`${name} ${h.type} ${(h.mode ?? 0).toString(8)} ${h.uid}:${h.gid} ${h.linkname ?? ''} ${h.size} ${h.name === '.dockerignore' ? ignoreText(text) : content}`);
        next();
      });
    });
    ex.on('finish', res);
    ex.on('error', rej);
  });
  // the docker CLI's tar lacks its end blocks when it adds a Dockerfile
  Readable.from([body]).pipe(completeTar()).pipe(ex);
  await done;
  return out;
}

/** A .dockerignore's text with the random Dockerfile name normalized, as one token. */
function ignoreText(text: string): string {
  return JSON.stringify(text.replace(/\.dockerfile\.[0-9a-f]{20}/g, '.dockerfile.X'));
}

/** The query with the random Dockerfile name normalized. */
function normalizeQuery(q: Array<[string, string]>): Array<[string, string]> {
  return q.map(([k, v]) => [k, k === 'dockerfile' ? v.replace(/^\.dockerfile\.[0-9a-f]{20}$/, '.dockerfile.X') : v]);
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  builds: Captured[];
}

describe('build: berth sends what docker sends', { skip: !existsSync(DOCKER) }, () => {
  let dir: string;
  let cap: CaptureServer;
  const cwd = process.cwd();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-build-opts-'));
    const files: Record<string, string> = {
      'ctx/Dockerfile': 'FROM busybox\nCOPY . /x\n',
      'ctx/a.txt': 'a\n',
      'ctx/debug.log': 'log\n',
      'ctx/keep.log': 'kept\n',
      'ctx/deep/er/x.log': 'deep log\n',
      'ctx/deep/er/y.txt': 'y\n',
      'ctx/secret/key': 'k\n',
      'ctx/secret/allowed': 'ok\n',
      'ctx/tmp/cache': 'c\n',
      'ctx/.dockerignore': '# comment\n**/*.log\n!keep.log\nsecret\n!secret/allowed\ntmp/**\nDockerfile\n.dockerignore\n',
      'ignored/Dockerfile': 'FROM busybox\n',
      'ignored/.dockerignore': 'sub\n',
      'ignored/sub/Dockerfile.custom': 'FROM busybox\nRUN true\n',
      'ignored/sub/other': 'o\n',
      'lower/dockerfile': 'FROM busybox\n',
      'outside/Dockerfile.out': 'FROM busybox\nCOPY a.txt /\n',
      'plain/Dockerfile': 'FROM busybox\n',
      'badignore/Dockerfile': 'FROM busybox\n',
      'badignore/.dockerignore': 'ok\n[\n',
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    mkdirSync(join(dir, 'ctx/empty'));
    symlinkSync('/etc/passwd', join(dir, 'ctx/abs-link'));
    symlinkSync('a.txt', join(dir, 'ctx/rel-link'));
    linkSync(join(dir, 'ctx/a.txt'), join(dir, 'ctx/hard'));
    process.chdir(dir);
    cap = new CaptureServer(dir);
    await cap.start();
  });
  after(async () => {
    process.chdir(cwd);
    await cap.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ DOCKER_HOST: `unix://${cap.socket}`, DOCKER_CONFIG: join(dir, 'cfg'), HOME: dir, PATH: process.env['PATH'], DOCKER_BUILDKIT: '0', BUILD_FROM_ENV: 'env-value' });

  async function runBerth(args: string[], input?: Buffer): Promise<Outcome> {
    cap.builds = [];
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    process.env['BUILD_FROM_ENV'] = 'env-value';
    const code = await main(['build', ...args], { stdout, stderr, stdin: Readable.from(input ? [input] : []), env: env() });
    delete process.env['BUILD_FROM_ENV'];
    return { code, stdout: out, stderr: err, builds: [...cap.builds] };
  }

  async function runDocker(args: string[], input?: Buffer): Promise<Outcome> {
    cap.builds = [];
    const p = spawn(DOCKER, ['build', ...args], { env: env(), cwd: dir });
    let out = '';
    let err = '';
    p.stdin.end(input);
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number>((r) => p.on('exit', (c) => r(c ?? -1)));
    // the legacy builder's deprecation notice
    err = err.replace(/^DEPRECATED:[\s\S]*?environment-variable\.\n\n/, '');
    return { code, stdout: out, stderr: err, builds: [...cap.builds] };
  }

  /**
   * Runs both CLIs and compares. With `added` (a Dockerfile added to the
   * context), docker's tar lacks its end blocks, so the context size it
   * reports is smaller than berth's complete tar: sizes are not compared.
   */
  async function same(args: string[], input?: string | Buffer, o: { added?: boolean } = {}): Promise<Outcome> {
    const data = typeof input === 'string' ? Buffer.from(input) : input;
    const want = await runDocker(args, data);
    const got = await runBerth(args, data);
    const size = (s: string) => (o.added ? s.replace(/(Sending build context to Docker daemon) +\S+/, '$1 N') : s);
    assert.equal(got.code, want.code, got.stderr);
    assert.equal(got.stderr, want.stderr.replace(/\bdocker\b/g, 'berth'));
    assert.equal(size(got.stdout), size(want.stdout));
    assert.equal(got.builds.length, want.builds.length);
    for (let i = 0; i < want.builds.length; i++) {
      const g = got.builds[i]!;
      const w = want.builds[i]!;
      assert.equal(g.path, w.path);
      assert.deepEqual(normalizeQuery(g.query), normalizeQuery(w.query));
      assert.equal(g.registryConfig, w.registryConfig);
      assert.equal(g.contentType, w.contentType);
      // the docker CLI adds its entries in Go map order
      assert.deepEqual(o.added ? [...g.entries].sort() : g.entries, o.added ? [...w.entries].sort() : w.entries);
    }
    return got;
  }

  test('flags become the same query', async () => {
    const got = await same([
      '-t', 'a:1', '-t', 'b', '--build-arg', 'X=1', '--build-arg', 'BUILD_FROM_ENV', '--build-arg', 'NOT_SET_ANYWHERE', '--label', 'l=1', '--label', 'k',
      '--target', 'stage', '--no-cache', '--pull', '--rm=false', '--force-rm', '-m', '64m', '--memory-swap', '-1', '--shm-size', '1g',
      '--network', 'host', '--platform', 'linux/amd64', '--cache-from', 'c1,c2', '--add-host', 'h:1.2.3.4', '--ulimit', 'nofile=10:20',
      '--cpu-shares', '2', '--cpu-quota', '1000', '--cpuset-cpus', '0', '--cgroup-parent', 'p', '--security-opt', 'label=disable', 'plain',
    ]);
    const q = Object.fromEntries(got.builds[0]!.query);
    assert.equal(q['buildargs'], '{"BUILD_FROM_ENV":"env-value","NOT_SET_ANYWHERE":null,"X":"1"}');
    assert.equal(q['dockerfile'], 'Dockerfile');
  });

  test('.dockerignore: ! exceptions, **, directories, Dockerfile and .dockerignore kept; links as links', async () => {
    const got = await same(['ctx']);
    const names = got.builds[0]!.entries.map((e) => e.split(' ')[0]);
    assert.ok(names.includes('keep.log') && !names.includes('debug.log') && !names.includes('deep/er/x.log'));
    assert.ok(names.includes('secret/allowed') && !names.includes('secret/key') && !names.includes('secret/'));
    assert.ok(names.includes('Dockerfile') && names.includes('.dockerignore'));
    assert.ok(got.builds[0]!.entries.some((e) => e.startsWith('abs-link symlink 777 0:0 /etc/passwd ')));
    assert.ok(got.builds[0]!.entries.some((e) => e.startsWith('hard link ')));
  });

  test('a Dockerfile inside an ignored directory is still sent', async () => {
    const got = await same(['-f', 'ignored/sub/Dockerfile.custom', 'ignored']);
    assert.deepEqual(got.builds[0]!.entries.map((e) => e.split(' ')[0]), ['.dockerignore', 'Dockerfile', 'sub/Dockerfile.custom']);
  });

  test('-f outside the context: added as .dockerfile.<hex>, listed in .dockerignore', async () => {
    const got = await same(['-f', 'outside/Dockerfile.out', 'plain'], undefined, { added: true });
    assert.equal(Object.fromEntries(normalizeQuery(got.builds[0]!.query))['dockerfile'], '.dockerfile.X');
    assert.ok(got.builds[0]!.entries.includes('.dockerignore file 600 0:0  47 ".dockerignore\\n.dockerfile.X\\n"'));
    await same(['-f', 'outside/Dockerfile.out', 'ctx'], undefined, { added: true });
  });

  test('-f - reads the Dockerfile from stdin; - reads a Dockerfile or a tar', async () => {
    await same(['-f', '-', 'plain'], 'FROM busybox\nRUN echo stdin\n', { added: true });
    await same(['-'], 'FROM busybox\nRUN echo piped\n');
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile', mode: 0o644, mtime: new Date(1_700_000_000_000) }, 'FROM busybox\n');
    pack.entry({ name: 'f', mode: 0o600, mtime: new Date(1_700_000_000_000) }, 'data');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
    await same(['-f', 'Dockerfile', '-'], Buffer.concat(chunks));
  });

  test('a lower-case dockerfile is found; errors before sending match', async () => {
    await same(['lower']);
    await same(['-f', '-', '-']);
    await same(['nowhere']);
    await same(['-f', 'nope', 'plain']);
    await same(['-f', 'x', '-'], 'FROM busybox\n');
    await same(['badignore']);
  });

  test('-q prints the image ID; an error in the stream is printed with its code', async () => {
    await same(['-q', 'plain']);
    cap.reply = '{"stream":"Step 1/2 : FROM busybox\\n"}\r\n{"stream":"Step 2/2 : RUN exit 3\\n"}\r\n{"errorDetail":{"code":3,"message":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"},"error":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"}\r\n';
    const got = await same(['plain']);
    assert.equal(got.code, 3);
    await same(['-q', 'plain']);
    cap.reply = '{"errorDetail":{"message":"no code"},"error":"no code"}\r\n';
    assert.equal((await same(['plain'])).code, 1);
  });
});

describe('build flags', () => {
  const cmd = new Command(buildDef());

  test('tags are checked as references before anything is sent', () => {
    assert.throws(
      () => parseCommandFlags(cmd, ['-t', 'Bad:1', '.']),
      (e: Error) => e.message.startsWith('invalid argument "Bad:1" for "-t, --tag" flag: invalid reference format: repository name (library/Bad) must be lowercase'),
    );
    assert.throws(() => parseCommandFlags(cmd, ['--progress', 'fancy', '.']), /invalid argument "fancy" for "--progress" flag: must be one of "auto", "plain", "tty"/);
    assert.throws(() => parseCommandFlags(cmd, ['--nope', '.']), /unknown flag: --nope/);
    const p = parseCommandFlags(cmd, ['-t', 'ok:1', '-t', 'localhost:5000/x', '--progress=plain', '.']);
    assert.deepEqual(p.flags['tag'], ['ok:1', 'localhost:5000/x']);
    assert.equal(p.flags['progress'], 'plain');
  });

  test('option maps: build args (bare KEY is null), labels (bare KEY is empty), proxies from config.json', () => {
    assert.deepEqual(buildArgsMap(['A=1', 'B', 'C=']), { A: '1', B: null, C: '' });
    assert.deepEqual(labelsMap(['a=1', 'b']), { a: '1', b: '' });
    const proxies = { default: { httpProxy: 'http://p:3128', noProxy: 'localhost' } };
    assert.deepEqual(withProxyArgs({ HTTP_PROXY: 'mine' }, proxies, 'unix:///x'), {
      HTTP_PROXY: 'mine',
      http_proxy: 'http://p:3128',
      NO_PROXY: 'localhost',
      no_proxy: 'localhost',
    });
    const o = buildOptions(parseCommandFlags(cmd, ['-m', '1k', '--memory-swap', '-1', '--ulimit', 'nproc=5', '--ulimit', 'nofile=1:2', '--ulimit', 'nproc=6', '.']).flags);
    assert.equal(o.memory, 1024);
    assert.equal(o.memorySwap, -1);
    assert.deepEqual(o.ulimits, [
      { Name: 'nofile', Hard: 2, Soft: 1 },
      { Name: 'nproc', Hard: 6, Soft: 6 },
    ]);
    assert.equal(o.remove, true);
  });
});
