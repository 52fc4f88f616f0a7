/**
 * run/create/update/exec and network command flags → request bodies,
 * checked against what the real docker CLI sends: each recorded command
 * line (containeropts.fixtures.ts) is run through berth's main() against a
 * capture server and must produce the same requests, stderr and exit
 * status. When /usr/local/bin/docker is installed the fixtures are also
 * re-captured live and compared.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../main.js';
import { RECORDED, type RecordedCall } from './containeropts.fixtures.js';
import { parseCPUs, parseMount, parsePortSpecs, parseRestartPolicy, parseUlimit, parseVolumeSpec, validateExtraHost, validateIPAddress } from './containeropts.js';
import { getTimestamp } from '../util/timestamp.js';

const DOCKER = '/usr/local/bin/docker';

/** A daemon that answers just enough for create/run -d/update/exec/network and records every request but /_ping. */
class CaptureServer {
  readonly socket: string;
  requests: string[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const body = Buffer.concat(chunks).toString('utf8').trimEnd();
      if (url !== '/_ping') this.requests.push(`${req.method} ${url}${body ? ' ' + body : ''}`);
      res.setHeader('Api-Version', '1.50');
      res.setHeader('Ostype', 'linux');
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (url === '/_ping') return res.end(req.method === 'HEAD' ? undefined : 'OK');
      if (url.includes('/networks')) {
        if (url.includes('/networks/create')) return json(201, { Id: 'c'.repeat(64), Warning: '' });
        if (url.includes('/networks/prune')) return json(200, { NetworksDeleted: [] });
        if (req.method === 'DELETE') {
          res.writeHead(204);
          return res.end();
        }
        if (req.method === 'POST') {
          res.writeHead(200);
          return res.end();
        }
        if (/\/networks\/[^/?]+(\?|$)/.test(url)) return json(200, { Name: 'x', Id: 'c'.repeat(64), Ingress: false });
        return json(200, []);
      }
      if (url.includes('/containers/create')) return json(201, { Id: 'a'.repeat(64), Warnings: [] });
      if (url.includes('/update')) return json(200, { Warnings: [] });
      if (url.includes('/json')) return json(200, { Id: 'a'.repeat(64), Config: { Tty: false }, State: { Running: true } });
      if (url.includes('/exec')) return json(201, { Id: 'b'.repeat(64) });
      if (url.includes('/wait')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        return;
      }
      if (url.includes('/start')) {
        res.writeHead(204);
        return res.end();
      }
      json(404, { message: 'nope' });
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

interface Outcome {
  code: number;
  stderr: string;
  requests: string[];
}

/** Env and Binds come from Go maps in the docker CLI, so their order varies: compare them sorted. */
function normalize(requests: string[]): string[] {
  return requests.map((r) => {
    const m = /^(\S+ \S+) (\{.*)$/s.exec(r);
    if (!m) return r;
    const body = JSON.parse(m[2]!) as Record<string, unknown>;
    if (Array.isArray(body['Env'])) (body['Env'] as string[]).sort();
    const hc = body['HostConfig'] as Record<string, unknown> | undefined;
    if (hc && Array.isArray(hc['Binds'])) (hc['Binds'] as string[]).sort();
    return `${m[1]} ${JSON.stringify(body)}`;
  });
}

describe('container options: berth sends what docker sends', () => {
  let dir: string;
  let cap: CaptureServer;
  const cwd = process.cwd();
  let savedHome: string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-opts-'));
    writeFileSync(join(dir, 'labels'), 'L1=a\n# comment\nL2\n');
    writeFileSync(join(dir, 'envs'), 'E1=x\nBERTH_FIXTURE_VAR\nBERTH_FIXTURE_UNSET\n  E2=y\n');
    process.env['BERTH_FIXTURE_VAR'] = 'from-env';
    savedHome = process.env['HOME'];
    process.env['HOME'] = dir;
    delete process.env['BERTH_FIXTURE_UNSET'];
    process.chdir(dir);
    cap = new CaptureServer(dir);
    await cap.start();
  });
  after(async () => {
    process.env['HOME'] = savedHome;
    process.chdir(cwd);
    await cap.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ DOCKER_HOST: `unix://${cap.socket}`, DOCKER_CONFIG: join(dir, 'cfg'), HOME: dir, PATH: process.env['PATH'], BERTH_FIXTURE_VAR: 'from-env' });
  const subst = (s: string) => s.split('<DIR>').join(dir);

  async function runBerth(args: string[]): Promise<Outcome> {
    cap.requests = [];
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stdout.resume();
    stderr.on('data', (c) => (err += c));
    const code = await main(args, { stdout, stderr, stdin: Readable.from([]), env: env() });
    return { code, stderr: err, requests: [...cap.requests] };
  }

  async function runDocker(args: string[]): Promise<Outcome> {
    cap.requests = [];
    const p = spawn(DOCKER, args, { env: { ...env(), BERTH_FIXTURE_VAR: 'from-env' }, cwd: dir });
    let err = '';
    p.stdin.end();
    p.stdout.resume();
    p.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number>((r) => p.on('exit', (c) => r(c ?? -1)));
    return { code, stderr: err, requests: [...cap.requests] };
  }

  for (const rec of RECORDED) {
    test(rec.args.join(' '), async () => {
      const got = await runBerth(rec.args.map(subst));
      const want: RecordedCall = { ...rec, requests: rec.requests.map(subst) };
      assert.equal(got.code, want.code, got.stderr);
      assert.equal(got.stderr.replace(/\btime="[^"]+"/g, 'time=T'), subst(want.stderr).replace(/docker/g, 'berth').replace(/\btime="[^"]+"/g, 'time=T'));
      assert.deepEqual(normalize(got.requests), normalize(want.requests));
    });
  }

  test('the recordings still match the installed docker CLI', { skip: !existsSync(DOCKER) }, async () => {
    const fresh: RecordedCall[] = [];
    for (const rec of RECORDED) {
      const got = await runDocker(rec.args.map(subst));
      fresh.push({ args: rec.args, code: got.code, stderr: got.stderr.split(dir).join('<DIR>'), requests: got.requests.map((r) => r.split(dir).join('<DIR>')) });
    }
    if (process.env['BERTH_RECORD_FIXTURES']) {
      const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/cli/commands/containeropts.fixtures.ts');
      const head = `/**
 * What the docker CLI 28.2.2 sent to a daemon answering API 1.50 for each
 * container or network command line (bodies verbatim; \`<DIR>\` stands for
 * the working directory holding the env and label files), recorded with the
 * capture server of containeropts.test.ts. Regenerate by running that test with
 * BERTH_RECORD_FIXTURES=1 when /usr/local/bin/docker exists.
 */
export interface RecordedCall {
  args: string[];
  code: number;
  stderr: string;
  requests: string[];
}

export const RECORDED: RecordedCall[] = `;
      writeFileSync(src, head + JSON.stringify(fresh, null, 1) + ';\n');
      return;
    }
    for (let i = 0; i < RECORDED.length; i++) {
      const rec = RECORDED[i]!;
      const now = fresh[i]!;
      assert.equal(now.code, rec.code, rec.args.join(' '));
      assert.deepEqual(normalize(now.requests), normalize(rec.requests), rec.args.join(' '));
    }
  });
});

describe('option parsers', () => {
  test('ports: ranges, addresses, protocols', () => {
    const { exposed, bindings } = parsePortSpecs(['127.0.0.1:8000-8001:80-81/udp', '[::1]:9000:90', '5000']);
    assert.deepEqual([...exposed.keys()], ['80/udp', '81/udp', '90/tcp', '5000/tcp']);
    assert.deepEqual(bindings.get('81/udp'), [{ HostIp: '127.0.0.1', HostPort: '8001' }]);
    assert.deepEqual(bindings.get('90/tcp'), [{ HostIp: '::1', HostPort: '9000' }]);
    assert.deepEqual(bindings.get('5000/tcp'), [{ HostIp: '', HostPort: '' }]);
    assert.throws(() => parsePortSpecs(['1:abc']), /invalid containerPort: abc/);
    assert.throws(() => parsePortSpecs(['1:2:3:80']), /invalid IP address: 1:2/);
    assert.throws(() => parsePortSpecs(['80/xyz']), /invalid proto: xyz/);
    assert.throws(() => parsePortSpecs(['1-2:3-5']), /invalid ranges specified for container and host Ports: 3-5 and 1-2/);
  });

  test('mounts', () => {
    assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777'), {
      Type: 'tmpfs',
      Target: '/t',
      TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 },
    });
    assert.throws(() => parseMount('type=bind'), /^Error: target is required$/);
    assert.throws(() => parseMount('type=bind,dst=/x,volume-nocopy'), /cannot mix 'volume-\*' options with mount type 'bind'/);
    assert.throws(() => parseMount('foo'), /invalid field 'foo' must be a key=value pair/);
  });

  test('cpus, ulimits, restart policies, volumes, hosts', () => {
    assert.equal(parseCPUs('1.5'), 1_500_000_000);
    assert.equal(parseCPUs('3/4'), 750_000_000);
    assert.throws(() => parseCPUs('0.0000000001'), /value is too precise/);
    assert.throws(() => parseCPUs('abc'), /failed to parse abc as a rational number/);
    assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
    assert.throws(() => parseUlimit('nofile=10:5'), /ulimit soft limit must be less than or equal to hard limit: 10 > 5/);
    assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(parseVolumeSpec('/a:/b:ro'), { source: '/a', target: '/b', bind: true });
    assert.deepEqual(parseVolumeSpec('named:/b'), { source: 'named', target: '/b', bind: false });
    assert.throws(() => parseVolumeSpec('ab:cd:ef:gh'), /too many colons/);
    // a one-letter source is a Windows drive, as in compose's loader
    assert.deepEqual(parseVolumeSpec('c:\\x:/y'), { source: 'c:\\x', target: '/y', bind: true });
    assert.equal(validateExtraHost('h=[::1]'), 'h:::1');
    assert.equal(validateIPAddress(' 0:0:0:0:0:0:0:1 '), '::1');
    assert.equal(validateIPAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(validateIPAddress('::ffff:1.2.3.4'), '1.2.3.4');
  });

  test('timestamps: durations, RFC 3339 in and out of the local zone, unix times', () => {
    const ref = new Date('2026-11-24T10:00:00Z');
    assert.equal(getTimestamp('1h', ref), String(ref.getTime() / 1000 - 3600));
    assert.equal(getTimestamp('2013-01-02T13:23:37Z', ref), '1357133017.000000000');
    assert.equal(getTimestamp('2013-01-02T13:23:37.5+01:00', ref), '1357129417.500000000');
    assert.equal(getTimestamp('1357133017.25', ref), '1357133017.25');
    assert.throws(() => getTimestamp('garbage', ref), /failed to parse value as time or duration: "garbage"/);
  });
});
