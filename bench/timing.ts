/** Timing docker CLI commands for the benchmarks, with stalled commands counted instead of timed. */
import { spawnSync } from 'node:child_process';
import { DOCKER } from '../test/helpers/daemon.js';

/** Commands that did not finish within 30 s (dockerd 20.10 sometimes never answers an exec, run, kill or wait). */
export const stalls: Record<string, number> = {};

/** Milliseconds the command took; NaN when it stalled. A command that fails otherwise throws. */
export function timed(env: NodeJS.ProcessEnv, args: string[]): number {
  const t = process.hrtime.bigint();
  // SIGKILL: `docker run` passes SIGTERM on to the container and keeps waiting.
  const r = spawnSync(DOCKER, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20, timeout: 30_000, killSignal: 'SIGKILL' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    stalls[args.join(' ')] = (stalls[args.join(' ')] ?? 0) + 1;
    return NaN;
  }
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr?.toString()}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The median of the timings, stalled ones left out. */
export function median(all: number[]): number {
  const xs = all.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? NaN;
}

export function printStalls(): void {
  for (const [cmd, n] of Object.entries(stalls)) console.log(`stalled (over 30 s, left out of the medians): docker ${cmd} x${n}`);
}
