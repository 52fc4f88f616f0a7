/**
 * Pull, push and login against Debian's docker-registry on 127.0.0.1, driven
 * by berth and by the real docker CLI through berthd: a bootstrapped image
 * pushed from one data root and pulled into another, skopeo-made images (gzip
 * and zstd), pull by digest, a multi-platform index built here, a corrupted
 * blob, an interrupted download continued with Range, htpasswd auth.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { berth, cleanup, docker, hasDocker, REPO, startDaemon, type Daemon, type Run } from '../helpers/daemon.js';
import { blobPath, freePort, hasHtpasswd, hasRegistry, startRegistry, type Registry } from '../helpers/registry.js';
import { makeTar } from '../helpers/tars.js';

const skip = !hasRegistry() || !hasDocker() ? 'docker-registry or the docker CLI is not installed' : false;
const hasSkopeo = spawnSync('skopeo', ['--version'], { stdio: 'ignore' }).status === 0;

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** berth without blocking the event loop (for tests whose servers live in this process). */
function berthAsync(d: Daemon, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--', join(REPO, 'bin/berth'), ...args], { env: d.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function put(reg: Registry, path: string, body: Buffer, contentType: string): Promise<void> {
  const res = await fetch(`http://${reg.host}${path}`, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
  assert.equal(res.status, 201, `${path}: ${res.status} ${await res.text()}`);
}

async function uploadBlob(reg: Registry, repo: string, data: Buffer): Promise<string> {
  const digest = sha(data);
  const start = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const loc = new URL(start.headers.get('location')!, `http://${reg.host}`);
  loc.searchParams.set('digest', digest);
  const res = await fetch(loc, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

/** Uploads a one-layer image for `arch` and returns its manifest descriptor. */
async function platformImage(reg: Registry, repo: string, arch: string) {
  const tar = await makeTar([{ name: 'arch', content: `${arch}\n` }]);
  const layer = gzipSync(tar);
  const layerDigest = await uploadBlob(reg, repo, layer);
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const configDigest = await uploadBlob(reg, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  await put(reg, `/v2/${repo}/manifests/${sha(manifest)}`, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, platform: { architecture: arch, os: 'linux' }, configDigest };
}

describe('registry client against docker-registry', { skip }, () => {
  let reg: Registry;
  let a: Daemon;
  let b: Daemon;
  let pushed = '';

  before(async () => {
    reg = await startRegistry();
    a = await startDaemon({ args: ['--bridge', 'none'] });
    b = await startDaemon({ args: ['--bridge', 'none'] });
    const boot = berth(a, ['bootstrap', '--only', 'busybox']);
    assert.equal(boot.code, 0, boot.stderr);
  });
  after(async () => {
    await cleanup(a);
    await cleanup(b);
    await reg.stop();
  });

  test('berth pushes a bootstrapped image; a second push is a no-op; another data root pulls and runs it', () => {
    const name = `${reg.host}/team/busybox:1`;
    assert.equal(berth(a, ['tag', 'busybox', name]).code, 0);
    const p = berth(a, ['push', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/team/busybox\\]\\n[a-f0-9]{12}: Preparing\\n[a-f0-9]{12}: Pushed\\n1: digest: sha256:[a-f0-9]{64} size: \\d+\\n$`));
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(p.stdout)![1]!;
    pushed = digest;
    const again = berth(a, ['push', name]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /: Layer already exists\n/);
    assert.ok(again.stdout.includes(`1: digest: ${digest} `), again.stdout);
    const inspect = berth(a, ['image', 'inspect', '--format', '{{json .RepoDigests}}', name]);
    assert.deepEqual(JSON.parse(inspect.stdout), [`${reg.host}/team/busybox@${digest}`]);

    const pull = berth(b, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(
      pull.stdout,
      new RegExp(
        `^1: Pulling from team/busybox\\n([a-f0-9]{12}): Pulling fs layer\\n\\1: Verifying Checksum\\n\\1: Download complete\\n\\1: Pull complete\\nDigest: ${digest}\\nStatus: Downloaded newer image for ${reg.host}/team/busybox:1\\n${reg.host}/team/busybox:1\\n$`,
      ),
    );
    const ids = [a, b].map((d) => berth(d, ['image', 'inspect', '--format', '{{.Id}}', name]).stdout.trim());
    assert.equal(ids[0], ids[1]);
    const run = docker(b, ['run', '--rm', '--network', 'none', name, 'echo', 'pulled and running']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'pulled and running\n');
    const up = berth(b, ['pull', name]);
    assert.match(up.stdout, /: Already exists\n/);
    assert.match(up.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/team/busybox:1\\n`));
  });

  test('a push to another repository of the registry mounts the blob', () => {
    const name = `${reg.host}/other/busybox:1`;
    assert.equal(berth(b, ['tag', `${reg.host}/team/busybox:1`, name]).code, 0);
    const p = berth(b, ['push', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /: Mounted from team\/busybox\n/);
  });

  test('the docker CLI pushes and pulls through berthd; run pulls a missing image', () => {
    const name = `${reg.host}/cli/busybox`;
    assert.equal(docker(a, ['tag', 'busybox', name]).code, 0);
    const p = docker(a, ['push', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Using default tag: latest\nThe push refers to repository/);
    assert.match(p.stdout, /latest: digest: sha256:[a-f0-9]{64} size: \d+\n$/);
    const pull = docker(b, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image for .*\/cli\/busybox:latest\n.*\/cli\/busybox:latest\n$/);
    assert.equal(docker(b, ['rmi', name]).code, 0);
    const run = docker(b, ['run', '--rm', '--network', 'none', name, 'echo', 'auto-pulled']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Unable to find image '${reg.host}/cli/busybox:latest' locally`));
    assert.equal(run.stdout, 'auto-pulled\n');
    // With the default bridge turned off (--bridge none), a container's default network is none, as with dockerd.
    const plain = docker(b, ['run', '--rm', name, 'sh', '-c', 'grep -c : /proc/net/dev']);
    assert.equal(plain.stdout, '1\n', plain.stderr);
    const missing = docker(b, ['pull', `${reg.host}/cli/nosuch:1`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`Error response from daemon: manifest for ${reg.host}/cli/nosuch:1 not found: manifest unknown: manifest unknown`));
  });

  test('berth run pulls a missing image and retries the create', () => {
    assert.equal(berth(b, ['rmi', `${reg.host}/cli/busybox`]).code, 0);
    const run = berth(b, ['run', '--rm', '--network', 'none', `${reg.host}/cli/busybox`, 'echo', 'berth auto-pull']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Unable to find image .* locally\n/);
    assert.equal(run.stdout, 'berth auto-pull\n');
  });

  test('pull by digest', () => {
    const fresh = `${reg.host}/team/busybox@${pushed}`;
    const ids = berth(b, ['images', '-q', '--no-trunc']).stdout.trim().split('\n');
    assert.equal(berth(b, ['rmi', '-f', ...new Set(ids)]).code, 0);
    const p = berth(b, ['pull', fresh]);
    assert.equal(p.code, 0, p.stderr);
    assert.ok(p.stdout.startsWith(`${fresh}: Pulling from team/busybox\n`), p.stdout);
    assert.ok(p.stdout.includes(`Status: Downloaded newer image for ${fresh}\n`), p.stdout);
    const names = berth(b, ['image', 'inspect', '--format', '{{json .RepoDigests}} {{json .RepoTags}}', fresh]);
    assert.equal(names.stdout.trim(), `${JSON.stringify([fresh])} []`);
  });

  test('skopeo-made images, gzip and zstd, pull and run', { skip: hasSkopeo ? false : 'skopeo is not installed' }, () => {
    const archive = join(a.dir, 'bb.tar');
    assert.equal(berth(a, ['save', '-o', archive, 'busybox']).code, 0);
    for (const [tag, extra] of [
      ['gzip', []],
      ['zstd', ['--format', 'oci', '--dest-compress-format', 'zstd']],
    ] as const) {
      const c = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', ...extra, `docker-archive:${archive}`, `docker://${reg.host}/skopeo/busybox:${tag}`], { encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
      const p = berth(b, ['pull', `${reg.host}/skopeo/busybox:${tag}`]);
      assert.equal(p.code, 0, p.stderr);
      const run = docker(b, ['run', '--rm', '--network', 'none', `${reg.host}/skopeo/busybox:${tag}`, 'echo', tag]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${tag}\n`);
    }
  });

  test('a multi-platform index: the host platform by default, --platform picks another', async () => {
    const amd = await platformImage(reg, 'multi/app', 'amd64');
    const arm = await platformImage(reg, 'multi/app', 'arm64');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [amd, arm].map(({ configDigest: _c, ...desc }) => desc),
      }),
    );
    await put(reg, '/v2/multi/app/manifests/1', index, 'application/vnd.oci.image.index.v1+json');
    const name = `${reg.host}/multi/app:1`;
    const host = process.arch === 'arm64' ? arm : amd;
    const other = process.arch === 'arm64' ? amd : arm;
    const p = berth(b, ['pull', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.ok(p.stdout.includes(`Digest: ${sha(index)}\n`), p.stdout);
    assert.equal(berth(b, ['image', 'inspect', '--format', '{{.Id}} {{.Architecture}}', name]).stdout.trim(), `${host.configDigest} ${host.platform.architecture}`);
    const q = berth(b, ['pull', '--platform', `linux/${other.platform.architecture}`, name]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(berth(b, ['image', 'inspect', '--format', '{{.Id}} {{.Architecture}}', name]).stdout.trim(), `${other.configDigest} ${other.platform.architecture}`);
    const none = berth(b, ['pull', '--platform', 'linux/s390x', name]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  test('a corrupted blob is refused and nothing is stored', async () => {
    const c = await startDaemon({ args: ['--bridge', 'none'] });
    try {
      const name = `${reg.host}/corrupt/busybox:1`;
      assert.equal(berth(a, ['tag', 'busybox', name]).code, 0);
      assert.equal(berth(a, ['push', name]).code, 0);
      const manifest = (await (await fetch(`http://${reg.host}/v2/corrupt/busybox/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json()) as {
        layers: Array<{ digest: string }>;
      };
      const layer = manifest.layers[0]!.digest;
      const path = blobPath(reg, layer);
      const data = readFileSync(path);
      data[data.length >> 1] ^= 0xff;
      writeFileSync(path, data);
      const p = berth(c, ['pull', name]);
      assert.equal(p.code, 1);
      assert.match(p.stderr, new RegExp(`filesystem layer verification failed for digest ${layer}`));
      assert.equal(berth(c, ['images', '-q']).stdout, '');
      assert.deepEqual(files(join(c.dataRoot, 'content/blobs/sha256')), []);
      assert.deepEqual(files(join(c.dataRoot, 'content/ingest')), []);
      // No layer, and no extraction left half-done (the corrupted layer streamed into one as it downloaded).
      assert.deepEqual(files(join(c.dataRoot, 'snapshots')).filter((f) => !f.startsWith('.') || f.startsWith('.incomplete-')), []);
    } finally {
      await cleanup(c);
    }
  });

  test('an interrupted download continues with Range', async () => {
    const name = `${reg.host}/resume/big:1`;
    const big = await makeTar([{ name: 'random.bin', content: Buffer.from(Array.from({ length: 3 << 20 }, () => Math.floor(Math.random() * 256))) }]);
    const src = join(a.dir, 'big.tar');
    writeFileSync(src, big);
    assert.equal(berth(a, ['import', src, name]).code, 0);
    assert.equal(berth(a, ['push', name]).code, 0);
    // A proxy that cuts the first blob download short and records what is asked of it.
    const port = await freePort();
    const seen: string[] = [];
    let cut = false;
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
      const up = http.request({ host: '127.0.0.1', port: reg.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && Number(r.headers['content-length']) > 1 << 20;
        if (isBlob && !cut) {
          cut = true;
          let sent = 0;
          r.on('data', (chunk: Buffer) => {
            if (sent > 1 << 20) return;
            sent += chunk.length;
            res.write(chunk);
            if (sent > 1 << 20) res.socket?.destroy();
          });
          return;
        }
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const via = `127.0.0.1:${port}/resume/big:1`;
      const p = await berthAsync(b, ['pull', via]);
      assert.equal(p.code, 0, p.stderr);
      assert.ok(cut, 'the proxy cut a download');
      assert.ok(seen.some((l) => / bytes=\d+-$/.test(l)), seen.join('\n'));
      assert.equal(berth(b, ['image', 'inspect', '--format', '{{.Id}}', via]).stdout.trim(), berth(a, ['image', 'inspect', '--format', '{{.Id}}', name]).stdout.trim());
    } finally {
      proxy.close();
    }
  });
});

describe('registry auth with htpasswd', { skip: skip || (!hasHtpasswd() ? 'htpasswd (apache2-utils) is not installed' : false) }, () => {
  let reg: Registry;
  let d: Daemon;

  before(async () => {
    reg = await startRegistry({ htpasswd: { user: 'alice', password: 's3cret' } });
    d = await startDaemon({ args: ['--bridge', 'none'] });
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
  });
  after(async () => {
    await cleanup(d);
    await reg.stop();
  });

  test('push and pull fail without login, in docker words; login, then both work; logout forgets', () => {
    const name = `${reg.host}/private/busybox:1`;
    assert.equal(berth(d, ['tag', 'busybox', name]).code, 0);
    const push = docker(d, ['push', name]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /no basic auth credentials/);
    const pull = docker(d, ['pull', name]);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, new RegExp(`Error response from daemon: Head "http://${reg.host}/v2/private/busybox/manifests/1": no basic auth credentials`));

    const wrong = docker(d, ['login', '-u', 'alice', '-p', 'nope', reg.host]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`Error response from daemon: login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized`));

    const login = berth(d, ['login', '-u', 'alice', '--password-stdin', reg.host], 's3cret\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    assert.match(login.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
    const cfg = JSON.parse(readFileSync(join(d.env['DOCKER_CONFIG']!, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(), 'alice:s3cret');

    const pushed = berth(d, ['push', name]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(berth(d, ['rmi', name]).code, 0);
    const pulled = docker(d, ['pull', name]);
    assert.equal(pulled.code, 0, pulled.stderr);

    const out = berth(d, ['logout', reg.host]);
    assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
    const after = JSON.parse(readFileSync(join(d.env['DOCKER_CONFIG']!, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.deepEqual(after.auths, {});
    assert.equal(docker(d, ['pull', name]).code, 1);
  });
});

describe('registry auth with a token server', { skip }, () => {
  let reg: Registry;
  let d: Daemon;
  let tokens: ReturnType<typeof spawn>;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=berth-test-token-issuer'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const port = await freePort();
    tokens = spawn(process.execPath, [join(REPO, 'dist/test/helpers/tokenserver.js')], {
      env: { ...process.env, TOKEN_PORT: String(port), TOKEN_KEY: join(dir, 'key.pem'), TOKEN_CERT: join(dir, 'cert.pem'), TOKEN_ISSUER: 'berth-test', TOKEN_SERVICE: 'berth-registry', TOKEN_USER: 'alice:s3cret' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      tokens.stdout!.once('data', () => resolve());
      tokens.once('exit', (code) => reject(new Error(`token server exited with ${code}`)));
    });
    reg = await startRegistry({ token: { realm: `http://127.0.0.1:${port}/token`, service: 'berth-registry', issuer: 'berth-test', rootCertBundle: join(dir, 'cert.pem') } });
    d = await startDaemon({ args: ['--bridge', 'none'] });
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
  });
  after(async () => {
    await cleanup(d);
    await reg.stop();
    tokens.kill('SIGTERM');
  });

  test('anonymous tokens pull but cannot push; login keeps an identity token that pushes and pulls private repositories', () => {
    const pub = `${reg.host}/public/busybox:1`;
    const priv = `${reg.host}/private/busybox:1`;
    assert.equal(berth(d, ['tag', 'busybox', pub]).code, 0);
    assert.equal(berth(d, ['tag', 'busybox', priv]).code, 0);
    const denied = berth(d, ['push', pub]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /denied: requested access to the resource is denied|unauthorized: authentication required/);

    const login = docker(d, ['login', '-u', 'alice', '--password-stdin', reg.host], 's3cret\n');
    assert.equal(login.code, 0, login.stderr);
    const cfg = JSON.parse(readFileSync(join(d.env['DOCKER_CONFIG']!, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
    assert.ok(cfg.auths[reg.host]?.identitytoken, JSON.stringify(cfg));
    for (const name of [pub, priv]) {
      const p = berth(d, ['push', name]);
      assert.equal(p.code, 0, p.stderr);
    }
    assert.equal(berth(d, ['rmi', pub, priv]).code, 0);
    assert.equal(berth(d, ['pull', priv]).code, 0);

    assert.equal(berth(d, ['logout', reg.host]).code, 0);
    assert.equal(berth(d, ['rmi', priv]).code, 0);
    const anonPull = berth(d, ['pull', pub]);
    assert.equal(anonPull.code, 0, anonPull.stderr);
    const anonPriv = docker(d, ['pull', priv]);
    assert.equal(anonPriv.code, 1);
    assert.match(anonPriv.stderr, new RegExp(`pull access denied for ${reg.host}/private/busybox, repository does not exist or may require 'docker login'`));
  });
});
