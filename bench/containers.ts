/**
 * Container benchmarks, through the same docker CLI against berthd and, when
 * Debian's docker.io is installed, a real dockerd (no network for either):
 * `run --rm busybox true` and `exec` latency (alternating runs, medians),
 * `ps -a` with 100 containers, 100 containers started and removed, idle daemon
 * memory, and memory per running container. Prints figures and ratios.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { berth, cleanup, DOCKER, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';
import { median, printStalls, timed } from './timing.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MANY = Number(process.env.BENCH_MANY ?? 100);
const RESIDENT = Number(process.env.BENCH_RESIDENT ?? 20);


/** PIDs of every process whose command line matches one of the patterns. */
function pidsOf(patterns: RegExp[]): number[] {
  const out = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  const pids: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && patterns.some((p) => p.test(m[2]!))) pids.push(Number(m[1]));
  }
  return pids;
}

/** A field of /proc/PID/status in bytes (VmRSS: resident; RssAnon: resident and not backed by a file). */
function statusBytes(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory (bytes) of every process whose command line matches one of the patterns. */
function rss(patterns: RegExp[], field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  return pidsOf(patterns).reduce((sum, pid) => sum + statusBytes(pid, field), 0);
}

/** How long both daemons are left alone before their idle memory is read. */
const IDLE_WAIT_MS = Number(process.env.BENCH_IDLE_WAIT_MS ?? 10_000);

/** Kills then removes: dockerd 20.10 can leave a batch of `rm -f` stuck in "Removal In Progress". */
function removeAll(env: NodeJS.ProcessEnv, ids: string[]): void {
  spawnSync(DOCKER, ['kill', ...ids], { env, stdio: 'ignore', timeout: 120_000 });
  spawnSync(DOCKER, ['wait', ...ids], { env, stdio: 'ignore', timeout: 120_000 });
  spawnSync(DOCKER, ['rm', ...ids], { env, stdio: 'ignore', timeout: 120_000 });
}

interface Engine {
  name: string;
  env: NodeJS.ProcessEnv;
  /** Processes that make up the daemon, and those added per running container. */
  daemon: RegExp[];
  perContainer: RegExp[];
}

async function main(): Promise<void> {
  const b = await startDaemon();
  const engines: Engine[] = [
    { name: 'berthd', env: b.env, daemon: [new RegExp(`bin/berthd .*${b.dir}`), /berth-exec serve$/], perContainer: [new RegExp(`conmon .*${b.dir}`)] },
  ];
  const ref = hasDockerd() ? await startRefDockerd({ bip: '10.213.0.1/24' }) : undefined;
  if (ref) {
    const dir = ref.socket.replace(/\/docker\.sock$/, '');
    engines.push({ name: 'dockerd', env: ref.env, daemon: [new RegExp(`^(/usr/sbin/)?dockerd .*${dir}`), new RegExp(`^containerd .*${dir}`)], perContainer: [/containerd-shim/] });
  }
  const results: Record<string, Record<string, number>> = {};
  // A failure or a stalled reference must not leave either daemon (and its containers) behind.
  try {
    for (const e of engines) {
      const r = berth({ env: e.env }, ['bootstrap', '--only', 'busybox']);
      if (r.code !== 0) throw new Error(r.stderr);
    }
    // Idle means idle: both daemons have finished start-up and the image import, and are left alone for a while.
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    for (const e of engines) results[e.name] = { idle: rss(e.daemon), idleAnon: rss(e.daemon, 'RssAnon') };

    for (const e of engines) spawnSync(DOCKER, ['run', '-d', '--network', 'none', '--name', 'benchexec', 'busybox', 'sleep', '3600'], { env: e.env });
    const run: Record<string, number[]> = {};
    const bridged: Record<string, number[]> = {};
    const exec: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      for (const e of engines) {
        (run[e.name] ??= []).push(timed(e.env, ['run', '--rm', '--network', 'none', 'busybox', 'true']));
        (bridged[e.name] ??= []).push(timed(e.env, ['run', '--rm', 'busybox', 'true']));
        (exec[e.name] ??= []).push(timed(e.env, ['exec', 'benchexec', 'true']));
      }
    }
    for (const e of engines) {
      removeAll(e.env, ['benchexec']);
      results[e.name]!.run = median(run[e.name]!);
      results[e.name]!.bridged = median(bridged[e.name]!);
      results[e.name]!.netCost = results[e.name]!.bridged! - results[e.name]!.run!;
      results[e.name]!.exec = median(exec[e.name]!);
    }

    for (const e of engines) {
      // Memory per running container: the daemon's growth plus the per-container processes.
      const before = rss([...e.daemon, ...e.perContainer]);
      const ids: string[] = [];
      for (let i = 0; i < RESIDENT; i++) {
        ids.push(spawnSync(DOCKER, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600'], { env: e.env, encoding: 'utf8' }).stdout.trim());
      }
      results[e.name]!.perContainer = (rss([...e.daemon, ...e.perContainer]) - before) / RESIDENT;
      removeAll(e.env, ids);

      // 100 containers started then removed, and ps -a with 100 containers present.
      const t = process.hrtime.bigint();
      const many: string[] = [];
      for (let i = 0; i < MANY; i++) {
        many.push(spawnSync(DOCKER, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600'], { env: e.env, encoding: 'utf8' }).stdout.trim());
      }
      const started = Number(process.hrtime.bigint() - t) / 1e6;
      const ps: number[] = [];
      for (let i = 0; i < 10; i++) ps.push(timed(e.env, ['ps', '-a']));
      const t2 = process.hrtime.bigint();
      removeAll(e.env, many);
      results[e.name]!.manyStart = started;
      results[e.name]!.manyRemove = Number(process.hrtime.bigint() - t2) / 1e6;
      results[e.name]!.ps = median(ps);
    }
  } finally {
    await ref?.stop();
    await cleanup(b);
  }

  const rows: Array<[string, string, number]> = [
    ['run --rm busybox true', 'ms', 0],
    ['run --rm on the default bridge', 'ms', 0],
    ['network cost (bridge - none)', 'ms', 0],
    ['exec true', 'ms', 0],
    [`ps -a with ${MANY} containers`, 'ms', 0],
    [`${MANY} containers started`, 'ms', 0],
    [`${MANY} containers removed`, 'ms', 0],
    ['idle daemon memory (RSS)', 'MB', 0],
    ['idle daemon memory (anonymous)', 'MB', 0],
    ['memory per container', 'MB', 0],
  ];
  const keys = ['run', 'bridged', 'netCost', 'exec', 'ps', 'manyStart', 'manyRemove', 'idle', 'idleAnon', 'perContainer'];
  console.log(`${RUNS} alternating runs for latencies (medians); ${RESIDENT} resident containers for memory`);
  rows.forEach(([label, unit], i) => {
    const k = keys[i]!;
    const scale = unit === 'MB' ? 1 / 1e6 : 1;
    const bv = results.berthd![k]! * scale;
    const dv = results.dockerd ? results.dockerd[k]! * scale : undefined;
    console.log(`${label.padEnd(32)} berthd ${bv.toFixed(1).padStart(8)} ${unit}   dockerd ${dv === undefined ? '     n/a' : dv.toFixed(1).padStart(8)} ${unit}   ${dv ? `${(bv / dv).toFixed(2)}x dockerd` : ''}`);
  });
  printStalls();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
