/**
 * Debian's dockerd as a reference engine, on its own socket, data root and
 * exec root, without touching the host's networking (no bridge, no iptables).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping } from './daemon.js';

export const DOCKERD = '/usr/sbin/dockerd';

export interface RefDaemon {
  env: NodeJS.ProcessEnv;
  socket: string;
  stop(): Promise<void>;
}

export function hasDockerd(): boolean {
  return existsSync(DOCKERD);
}

const REF_BRIDGE = 'bref0';

/**
 * `bip`: give the reference a default bridge (made here with that address,
 * as dockerd 20.10 does not create one when it leaves the firewall alone);
 * the host's firewall stays untouched either way. Without it, no bridge.
 */
export async function startRefDockerd(opts: { bip?: string } = {}): Promise<RefDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ref-'));
  if (opts.bip) {
    spawnSync('ip', ['link', 'del', REF_BRIDGE], { stdio: 'ignore' });
    for (const args of [['link', 'add', REF_BRIDGE, 'type', 'bridge'], ['addr', 'add', opts.bip, 'dev', REF_BRIDGE], ['link', 'set', REF_BRIDGE, 'up']]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
  }
  const socket = join(dir, 'docker.sock');
  let output = '';
  const proc: ChildProcess = spawn(
    DOCKERD,
    ['-H', `unix://${socket}`, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'run'), '--pidfile', join(dir, 'pid'), '-b', opts.bip ? REF_BRIDGE : 'none', '--iptables=false', '--ip-masq=false'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const end = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`reference dockerd did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      // dockerd can leave its data root bind-mounted on itself (and layers mounted) after it stops.
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m === dir || m.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      if (opts.bip) spawnSync('ip', ['link', 'del', REF_BRIDGE], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
