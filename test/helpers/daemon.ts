/**
 * Test harness: a real berthd on a private socket, data root and exec root
 * under a temp dir, and helpers to drive it with the real docker CLI.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tableName } from '../../src/engine/networks.js';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DOCKER = '/usr/local/bin/docker';

export interface Daemon {
  dir: string;
  socket: string;
  host: string;
  dataRoot: string;
  proc: ChildProcess;
  log(): string;
  /** Environment for a docker CLI talking to this daemon. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export function ping(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 1000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
    req.end();
  });
}

async function waitFor(fn: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startDaemon(opts: { dir?: string; args?: string[] } = {}): Promise<Daemon> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  const socket = join(dir, 'berth.sock');
  const dataRoot = join(dir, 'root');
  // Daemons of concurrent tests each get their own default bridge.
  const args = [...(opts.args ?? [])];
  if (!args.some((a) => a === '-b' || a === '--bridge' || a.startsWith('--bridge='))) args.push('--bridge', `bt${randomBytes(5).toString('hex')}`);
  bridges.set(dir, args[args.indexOf('--bridge') + 1] ?? args[args.indexOf('-b') + 1]!);
  let output = '';
  const launch = () => {
    const proc = spawn(
      process.execPath,
      [join(REPO, 'bin/berthd'), '-H', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', join(dir, 'run'), '--pidfile', join(dir, 'berthd.pid'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return proc;
  };
  const d: Daemon = {
    dir,
    socket,
    host: `unix://${socket}`,
    dataRoot,
    proc: launch(),
    log: () => output,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_BUILDKIT: '0' },
    async stop() {
      if (d.proc.exitCode === null && d.proc.signalCode === null) {
        const exited = new Promise((r) => d.proc.once('exit', r));
        d.proc.kill('SIGTERM');
        await exited;
      }
    },
    async kill() {
      if (d.proc.exitCode === null && d.proc.signalCode === null) {
        const exited = new Promise((r) => d.proc.once('exit', r));
        d.proc.kill('SIGKILL');
        await exited;
      }
    },
    async restart() {
      await d.stop();
      d.proc = launch();
      await waitFor(() => ping(socket), 15000, `berthd restart\n${output}`);
    },
  };
  await waitFor(async () => {
    if (d.proc.exitCode !== null) throw new Error(`berthd exited: ${output}`);
    return ping(socket);
  }, 15000, `berthd\n${output}`);
  return d;
}

const bridges = new Map<string, string>();

/** Stops the daemon and removes what it left on the host: its data, its default bridge, its firewall table. */
export async function cleanup(d: Daemon): Promise<void> {
  await d.stop();
  const bridge = bridges.get(d.dir);
  if (bridge && bridge !== 'none') spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  spawnSync('nft', ['delete', 'table', 'ip', tableName(d.dataRoot)], { stdio: 'ignore' });
  rmSync(d.dir, { recursive: true, force: true });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function toRun(r: SpawnSyncReturns<string>): Run {
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs the real docker CLI against a daemon. */
export function docker(d: { env: NodeJS.ProcessEnv }, args: string[], input?: string | Buffer): Run {
  return toRun(spawnSync(DOCKER, args, { env: d.env, input, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 }));
}

/** Runs the berth CLI against a daemon. */
export function berth(d: { env: NodeJS.ProcessEnv }, args: string[], input?: string | Buffer): Run {
  return toRun(
    spawnSync(process.execPath, ['--', join(REPO, 'bin/berth'), ...args], { env: d.env, input, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 }),
  );
}

export function hasDocker(): boolean {
  return existsSync(DOCKER);
}

export function rm(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
