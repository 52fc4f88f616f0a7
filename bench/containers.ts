/**
 * Container benchmarks: `docker run --rm busybox true` and `docker exec`
 * latency, through the same docker CLI against berthd and, when Debian's
 * docker.io is installed, a real dockerd; alternating runs, medians, ratios.
 * Both engines run containers without a network (`--network none`) here.
 */
import { spawnSync } from 'node:child_process';
import { berth, cleanup, DOCKER, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function timed(env: NodeJS.ProcessEnv, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(DOCKER, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr?.toString()}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const b = await startDaemon();
  const envs: Array<{ name: string; env: NodeJS.ProcessEnv }> = [{ name: 'berthd', env: b.env }];
  const ref = hasDockerd() ? await startRefDockerd() : undefined;
  if (ref) envs.push({ name: 'dockerd', env: ref.env });
  for (const e of envs) {
    const r = berth({ env: e.env }, ['bootstrap', '--only', 'busybox']);
    if (r.code !== 0) throw new Error(r.stderr);
    spawnSync(DOCKER, ['run', '-d', '--network', 'none', '--name', 'benchexec', 'busybox', 'sleep', '3600'], { env: e.env });
  }
  const run: Record<string, number[]> = {};
  const exec: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const e of envs) {
      (run[e.name] ??= []).push(timed(e.env, ['run', '--rm', '--network', 'none', 'busybox', 'true']));
      (exec[e.name] ??= []).push(timed(e.env, ['exec', 'benchexec', 'true']));
    }
  }
  for (const e of envs) spawnSync(DOCKER, ['rm', '-f', 'benchexec'], { env: e.env });
  await ref?.stop();
  await cleanup(b);
  const line = (what: string, m: Record<string, number[]>) => {
    const bm = median(m.berthd!);
    const dm = m.dockerd ? median(m.dockerd) : undefined;
    console.log(`${what.padEnd(30)} berthd ${bm.toFixed(1).padStart(7)} ms   dockerd ${dm === undefined ? '    n/a' : dm.toFixed(1).padStart(7)} ms   ${dm ? `${(bm / dm).toFixed(2)}x dockerd's time` : ''}`);
  };
  console.log(`${RUNS} alternating runs each, medians`);
  line('run --rm busybox true', run);
  line('exec true', exec);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
