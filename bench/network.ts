/**
 * What the network costs a container start: `run --rm busybox true` on the
 * default bridge and with `--network none`, alternating, on berthd and (when
 * Debian's docker.io is installed) a real dockerd with a bridge of its own.
 * The cost is the difference of the medians; the goal is that it is smaller
 * for berthd than for dockerd.
 */
import { berth, cleanup, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';
import { median, printStalls, timed } from './timing.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

async function main(): Promise<void> {
  const b = await startDaemon();
  const ref = hasDockerd() ? await startRefDockerd({ bip: '10.213.0.1/24' }) : undefined;
  try {
    const engines = [{ name: 'berthd', env: b.env }, ...(ref ? [{ name: 'dockerd', env: ref.env }] : [])];
    for (const e of engines) {
      const r = berth({ env: e.env }, ['bootstrap', '--only', 'busybox']);
      if (r.code !== 0) throw new Error(r.stderr);
      timed(e.env, ['run', '--rm', 'busybox', 'true']);
    }
    const none: Record<string, number[]> = {};
    const bridge: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      for (const e of engines) {
        (none[e.name] ??= []).push(timed(e.env, ['run', '--rm', '--network', 'none', 'busybox', 'true']));
        (bridge[e.name] ??= []).push(timed(e.env, ['run', '--rm', 'busybox', 'true']));
      }
    }
    console.log(`${RUNS} alternating runs of run --rm busybox true (medians; stalled runs left out)`);
    const cost: Record<string, number> = {};
    for (const e of engines) {
      const n = median(none[e.name]!);
      const br = median(bridge[e.name]!);
      cost[e.name] = br - n;
      console.log(`${e.name.padEnd(8)} --network none ${n.toFixed(1).padStart(7)} ms   default bridge ${br.toFixed(1).padStart(7)} ms   network cost ${cost[e.name]!.toFixed(1).padStart(6)} ms`);
    }
    if (ref) console.log(`network cost: berthd ${(cost.berthd! / cost.dockerd!).toFixed(2)}x dockerd's`);
    printStalls();
  } finally {
    await ref?.stop();
    await cleanup(b);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
