/**
 * HTTPS registries as docker reaches them, through the real docker CLI and
 * berthd: a registry whose certificate a per-registry CA in certs.d vouches
 * for, the same registry without that CA (refused, in docker's words, with
 * nothing left behind), `--insecure-registry` (no verification), and a
 * registry that requires a client certificate (certs.d's client.cert and
 * client.key). Loopback registries are never verified, so Berth's registry
 * runs in a network namespace this test makes, on a private /30 reached
 * through a veth pair; no traffic goes anywhere else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, docker, hasDocker, startDaemon, type Daemon } from '../helpers/daemon.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { makeCa, type Ca, type Pair } from '../helpers/pki.js';
import { startRegistry, type Registry } from '../helpers/registryserver.js';

function why(): string | false {
  if (!hasDocker()) return 'the docker CLI is not installed';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const [tool, arg] of [['openssl', 'version'], ['ip', '-V']] as const) if (spawnSync(tool, [arg], { stdio: 'ignore' }).error) return `needs ${tool}`;
  return false;
}

/** `s` as a regular expression source that matches it literally. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const UNKNOWN_AUTHORITY = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';

/** What a pull or push could leave in a daemon's store: images by name, blobs, ingests, unfinished layers. */
function storeState(d: Daemon): { images: string[]; blobs: string[]; ingests: string[]; incomplete: string[] } {
  const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
  return {
    images: docker(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.trim().split('\n').filter(Boolean).sort(),
    blobs: ls(join(d.dataRoot, 'content', 'blobs', 'sha256')),
    ingests: ls(join(d.dataRoot, 'content', 'ingest')),
    incomplete: ls(join(d.dataRoot, 'snapshots')).filter((n) => n.startsWith('.incomplete-')),
  };
}

describe('HTTPS registries: certs.d CAs and client certificates, --insecure-registry', { skip: why() }, () => {
  let dir: string;
  let ns: Netns | undefined;
  let ca: Ca;
  let client: Pair;
  let rogue: Pair;
  let reg: Registry | undefined;
  let mtls: Registry | undefined;
  let d: Daemon | undefined;
  let insecure: Daemon | undefined;
  let certsDir: string;
  /** `10.231.N.2:5000`: HTTPS; `10.231.N.2:5001`: HTTPS that requires a client certificate. */
  let host: string;
  let mtlsHost: string;

  const hostDir = (h: string) => join(certsDir, h);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-e2e-'));
    ns = createNetns();
    host = `${ns.nsIp}:5000`;
    mtlsHost = `${ns.nsIp}:5001`;
    ca = makeCa(join(dir, 'pki'), 'berth-test-ca');
    const server = ca.issue('server', [ns.nsIp]);
    client = ca.issue('client');
    rogue = makeCa(join(dir, 'rogue'), 'berth-rogue-ca').issue('client');
    const tls = ['--tls-cert', server.cert, '--tls-key', server.key];
    reg = await startRegistry(join(dir, 'reg'), tls, { addr: host, wrap: ns.exec });
    mtls = await startRegistry(join(dir, 'mtls'), [...tls, '--tls-client-ca', ca.cert], { addr: mtlsHost, wrap: ns.exec });
    assert.equal(reg.url, `https://${host}`);

    certsDir = join(dir, 'certs.d');
    mkdirSync(hostDir(host), { recursive: true });
    copyFileSync(ca.cert, join(hostDir(host), 'ca.crt'));
    mkdirSync(hostDir(mtlsHost), { recursive: true });
    copyFileSync(ca.cert, join(hostDir(mtlsHost), 'ca.crt'));
    copyFileSync(client.cert, join(hostDir(mtlsHost), 'client.cert'));
    copyFileSync(client.key, join(hostDir(mtlsHost), 'client.key'));

    d = await startDaemon({ args: ['--bridge', 'none', '--registry-certs-dir', certsDir] });
    const boot = berth(d, ['bootstrap', '--only', 'busybox']);
    assert.equal(boot.code, 0, boot.stderr);
  });

  after(async () => {
    for (const daemon of [d, insecure]) if (daemon) await cleanup(daemon);
    for (const r of [reg, mtls]) if (r) await r.kill();
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a CA in <certs-dir>/HOST:PORT/ca.crt: push, remove, pull and run', () => {
    const name = `${host}/x/busybox:1`;
    assert.equal(docker(d!, ['tag', 'busybox', name]).code, 0);
    const push = docker(d!, ['push', name]);
    assert.equal(push.code, 0, push.stderr + push.stdout);
    assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.equal(docker(d!, ['rmi', name]).code, 0);
    const pull = docker(d!, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${esc(name)}`));
    const run = docker(d!, ['run', '--rm', name, 'echo', 'verified']);
    assert.equal(run.stdout, 'verified\n', run.stderr);
    assert.equal(docker(d!, ['rmi', name]).code, 0);
  });

  test('without the CA, pull and push are refused as docker words it and leave nothing behind; with it back, they work', () => {
    rmSync(join(hostDir(host), 'ca.crt'));
    const before = storeState(d!);
    const pull = docker(d!, ['pull', `${host}/x/busybox:1`]);
    assert.equal(pull.code, 1);
    assert.equal(pull.stderr.trim(), `Error response from daemon: Get "https://${host}/v2/": ${UNKNOWN_AUTHORITY}`);

    assert.equal(docker(d!, ['tag', 'busybox', `${host}/x/busybox:2`]).code, 0);
    const push = docker(d!, ['push', `${host}/x/busybox:2`]);
    assert.equal(push.code, 1);
    assert.ok((push.stderr + push.stdout).includes(`Get "https://${host}/v2/": ${UNKNOWN_AUTHORITY}`), push.stderr + push.stdout);
    assert.deepEqual(storeState(d!), { ...before, images: [...before.images, `${host}/x/busybox:2`].sort() });
    assert.deepEqual(before.ingests, []);
    assert.deepEqual(before.incomplete, []);

    // Every pull reads certs.d afresh: the CA back, the same daemon trusts the registry again.
    copyFileSync(ca.cert, join(hostDir(host), 'ca.crt'));
    const missing = docker(d!, ['pull', `${host}/x/busybox:2`]);
    assert.equal(missing.code, 1, 'the refused push sent nothing');
    assert.match(missing.stderr, /manifest unknown/);
    const again = docker(d!, ['pull', `${host}/x/busybox:1`]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(docker(d!, ['rmi', `${host}/x/busybox:1`, `${host}/x/busybox:2`]).code, 0);
  });

  test('--insecure-registry HOST:PORT and no CA: pull skips verification, then runs', async () => {
    const empty = join(dir, 'no-certs');
    mkdirSync(empty);
    insecure = await startDaemon({ args: ['--bridge', 'none', '--registry-certs-dir', empty, '--insecure-registry', host] });
    const info = docker(insecure, ['info', '--format', '{{json .RegistryConfig.IndexConfigs}}']);
    assert.match(info.stdout, new RegExp(`"${esc(host)}":\\{[^}]*"Secure":false`));
    const pull = docker(insecure, ['pull', `${host}/x/busybox:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    const run = docker(insecure, ['run', '--rm', `${host}/x/busybox:1`, 'echo', 'unverified']);
    assert.equal(run.stdout, 'unverified\n', run.stderr);
    // The flag names one host:port; the registry next to it is still verified.
    const other = docker(insecure, ['pull', `${mtlsHost}/x/busybox:1`]);
    assert.equal(other.code, 1);
    assert.ok(other.stderr.includes(UNKNOWN_AUTHORITY), other.stderr);
  });

  test('a registry that requires a client certificate: client.cert/client.key are presented; without them, or from another CA, refused', () => {
    const name = `${mtlsHost}/x/busybox:1`;
    assert.equal(docker(d!, ['tag', 'busybox', name]).code, 0);
    const push = docker(d!, ['push', name]);
    assert.equal(push.code, 0, push.stderr + push.stdout);
    assert.equal(docker(d!, ['rmi', name]).code, 0);
    const pull = docker(d!, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(docker(d!, ['run', '--rm', name, 'echo', 'mutual']).stdout, 'mutual\n');
    assert.equal(docker(d!, ['rmi', name]).code, 0);

    const keyDir = hostDir(mtlsHost);
    rmSync(join(keyDir, 'client.cert'));
    rmSync(join(keyDir, 'client.key'));
    const before = storeState(d!);
    const bare = docker(d!, ['pull', name]);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, new RegExp(`^Error response from daemon: Get "https://${esc(mtlsHost)}/v2/": remote error: tls: (certificate required|bad certificate)`));

    copyFileSync(rogue.cert, join(keyDir, 'client.cert'));
    copyFileSync(rogue.key, join(keyDir, 'client.key'));
    const stranger = docker(d!, ['pull', name]);
    assert.equal(stranger.code, 1);
    // Node's TLS server (Berth's registry) drops a client whose certificate it does not trust without a TLS
    // alert, after the handshake: the client reads EOF, as Go's would. A Go registry would send an alert.
    assert.match(stranger.stderr, new RegExp(`^Error response from daemon: Get "https://${esc(mtlsHost)}/v2/": (EOF|remote error: tls: (unknown certificate authority|bad certificate))\n$`));
    assert.deepEqual(storeState(d!), before);
    assert.deepEqual(before.ingests, []);

    copyFileSync(client.cert, join(keyDir, 'client.cert'));
    copyFileSync(client.key, join(keyDir, 'client.key'));
    const back = docker(d!, ['pull', name]);
    assert.equal(back.code, 0, back.stderr);
  });
});
