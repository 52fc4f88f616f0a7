/**
 * The Engine API edge as clients other than the docker CLI see it: raw HTTP
 * (versioned and bare paths, error shapes, options in JSON bodies), skopeo's
 * docker-daemon transport, TCP with TLS, and the daemon's start/stop contract.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, docker, REPO, startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/tars.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(socket: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Engine API edge', () => {
  let d: Daemon;
  let rootfs: Buffer;
  before(async () => {
    d = await startDaemon();
    rootfs = await busyboxRootfs();
  });
  after(async () => cleanup(d));

  test('ping answers GET and HEAD with docker headers', async () => {
    const get = await call(d.socket, 'GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.body, 'OK');
    assert.equal(get.headers['api-version'], '1.51');
    assert.equal(get.headers['ostype'], 'linux');
    const head = await call(d.socket, 'HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['api-version'], '1.51');
  });

  test('versioned and bare paths; versions outside the range are refused', async () => {
    for (const p of ['/version', '/v1.22/version', '/v1.44/version', '/v1.51/version']) {
      const r = await call(d.socket, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(JSON.parse(r.body).ApiVersion, '1.51');
    }
    const tooNew = await call(d.socket, 'GET', '/v1.52/version');
    assert.equal(tooNew.status, 400);
    assert.equal(tooNew.headers['content-type'], 'application/json');
    assert.match(JSON.parse(tooNew.body).message, /client version 1.52 is too new/);
  });

  test('errors are {"message"} with exactly application/json and docker statuses', async () => {
    const missing = await call(d.socket, 'GET', '/v1.51/images/nosuch/json');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(missing.body), { message: 'No such image: nosuch:latest' });
    const bad = await call(d.socket, 'GET', '/v1.51/images/BAD%20NAME/json');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid reference format/);
    const unknown = await call(d.socket, 'GET', '/v1.51/nothing/here');
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).message, 'page not found');
    const badFilter = await call(d.socket, 'GET', `/images/json?filters=${encodeURIComponent('{"color":["red"]}')}`);
    assert.equal(badFilter.status, 400);
    assert.match(JSON.parse(badFilter.body).message, /invalid filter 'color'/);
  });

  test('import over the API, options in a JSON body, shapes per version', async () => {
    const imp = await call(d.socket, 'POST', '/images/create?fromSrc=-&repo=apibox&tag=v1', rootfs, { 'Content-Type': 'application/x-tar' });
    assert.equal(imp.status, 200);
    const id = JSON.parse(imp.body.trim().split('\r\n').pop()!).status as string;
    assert.match(id, /^sha256:/);
    // dockerode sends options in the body too; the body alone must work.
    const tag = await call(d.socket, 'POST', '/images/apibox:v1/tag', JSON.stringify({ repo: 'bodytag', tag: 'b1' }), { 'Content-Type': 'application/json' });
    assert.equal(tag.status, 201);
    const inspect = JSON.parse((await call(d.socket, 'GET', '/images/bodytag:b1/json')).body);
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Config.Hostname, undefined, 'API 1.51 image Config has the OCI fields only');
    const old = JSON.parse((await call(d.socket, 'GET', '/v1.41/images/bodytag:b1/json')).body);
    assert.equal(old.Config.Hostname, '');
    assert.equal(old.VirtualSize, old.Size);
    await call(d.socket, 'POST', '/images/create?fromSrc=-', rootfs);
    const listOld = JSON.parse((await call(d.socket, 'GET', '/v1.41/images/json')).body) as Array<{ RepoTags: string[] }>;
    assert.ok(listOld.some((i) => i.RepoTags[0] === '<none>:<none>'));
    const listNew = JSON.parse((await call(d.socket, 'GET', '/v1.51/images/json')).body) as Array<{ RepoTags: string[] }>;
    assert.ok(listNew.some((i) => i.RepoTags.length === 0));
    const df = JSON.parse((await call(d.socket, 'GET', '/system/df')).body);
    assert.ok(df.LayersSize > 0);
    assert.ok(Array.isArray(df.Images) && df.Images.length >= 2);
  });

  test('skopeo copies out of and into berthd through its docker-daemon transport', { skip: existsSync('/usr/bin/skopeo') ? false : 'needs skopeo' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-skopeo-'));
    try {
      const out = spawnSync('skopeo', ['copy', '--src-daemon-host', d.host, 'docker-daemon:apibox:v1', `oci:${dir}/layout:apibox`], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      assert.ok(existsSync(join(dir, 'layout', 'index.json')));
      const back = spawnSync('skopeo', ['copy', '--dest-daemon-host', d.host, `oci:${dir}/layout:apibox`, 'docker-daemon:skopeo/roundtrip:1'], { encoding: 'utf8' });
      assert.equal(back.status, 0, back.stderr);
      const run = docker(d, ['image', 'inspect', '--format', '{{.Os}}', 'skopeo/roundtrip:1']);
      assert.equal(run.stdout.trim(), 'linux', run.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('daemon lifecycle', () => {
  test('a second berthd on the same data root refuses to start; SIGTERM cleans up', async () => {
    const d = await startDaemon();
    try {
      const second = spawnSync(process.execPath, [join(REPO, 'bin/berthd'), '-H', `unix://${d.dir}/other.sock`, '--data-root', d.dataRoot, '--exec-root', join(d.dir, 'run2')], {
        encoding: 'utf8',
        timeout: 15000,
      });
      assert.equal(second.status, 1);
      assert.match(second.stderr, /another berthd is already running with data root/);
      assert.ok(existsSync(join(d.dir, 'berthd.pid')));
      assert.equal(readFileSync(join(d.dir, 'berthd.pid'), 'utf8').trim(), String(d.proc.pid));
      await d.stop();
      assert.equal(d.proc.exitCode, 0, d.log());
      assert.ok(!existsSync(d.socket), 'socket removed');
      assert.ok(!existsSync(join(d.dir, 'berthd.pid')), 'pidfile removed');
      assert.match(d.log(), /daemon shut down cleanly/);
    } finally {
      await cleanup(d);
    }
  });

  test('TCP with TLS: the docker CLI connects with --tlsverify, a client without a certificate is refused', { skip: existsSync('/usr/bin/openssl') ? false : 'needs openssl' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    const ssl = (...args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth-test-ca');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=localhost');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '1', '-extfile', 'ext.cnf');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client-key.pem', '-out', 'client.csr', '-subj', '/CN=client');
    writeFileSync(join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'client-cert.pem', '-days', '1', '-extfile', 'client.cnf');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const d = await startDaemon({
      args: ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem')],
    });
    try {
      const certDir = join(dir, 'client');
      spawnSync('mkdir', ['-p', certDir]);
      spawnSync('cp', [join(dir, 'ca.pem'), join(certDir, 'ca.pem')]);
      spawnSync('cp', [join(dir, 'client-cert.pem'), join(certDir, 'cert.pem')]);
      spawnSync('cp', [join(dir, 'client-key.pem'), join(certDir, 'key.pem')]);
      const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir };
      const ok = spawnSync('/usr/local/bin/docker', ['version', '--format', '{{.Server.APIVersion}}'], { env, encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), '1.51');
      const curl = spawnSync('curl', ['-sS', '--cacert', join(dir, 'ca.pem'), `https://127.0.0.1:${port}/_ping`], { encoding: 'utf8' });
      assert.notEqual(curl.status, 0, 'a client without a certificate must be refused');
    } finally {
      await cleanup(d);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

