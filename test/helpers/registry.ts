/**
 * Debian's docker-registry (distribution v2) on 127.0.0.1 and a free port,
 * with filesystem storage in a temp dir, optionally behind htpasswd (bcrypt,
 * made with apache2-utils' htpasswd) or token auth.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface Registry {
  /** `127.0.0.1:PORT`, as references name it. */
  host: string;
  port: number;
  dir: string;
  /** Where the registry keeps blobs: `<storage>/docker/registry/v2/blobs/sha256/<2>/<hex>/data`. */
  storage: string;
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export function hasRegistry(): boolean {
  return existsSync(REGISTRY_BIN);
}

export function hasHtpasswd(): boolean {
  return spawnSync('htpasswd', ['-v'], { stdio: 'ignore' }).error === undefined;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function status(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const storage = join(dir, 'data');
  const port = await freePort();
  let auth = '';
  if (opts.htpasswd) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.htpasswd.user, opts.htpasswd.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd: ${r.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.token) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: berth-test\n${auth}`,
  );
  let output = '';
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const end = Date.now() + 15_000;
  while ((await status(port)) === 0) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`docker-registry did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    storage,
    log: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The file holding a blob in the registry's filesystem storage. */
export function blobPath(reg: Registry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
