/**
 * Image benchmarks: `docker load` and `docker save` throughput and `docker
 * images` latency, through the same docker CLI against berthd and, when
 * Debian's docker.io is installed, a real dockerd on the same machine.
 * Prints figures and ratios; never fails on a timing.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, DOCKER, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';
import { makeTar, busyboxRootfs } from '../test/helpers/tars.js';
import { sha256 } from '../src/lib/digest.js';

const LAYERS = Number(process.env.BENCH_LAYERS ?? 4);
const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 32);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 20);

async function makeArchive(path: string): Promise<number> {
  const layers: Buffer[] = [];
  for (let i = 0; i < LAYERS; i++) {
    layers.push(await makeTar([{ name: `layer${i}/`, type: 'directory' }, { name: `layer${i}/data.bin`, content: randomBytes(LAYER_MB << 20) }]));
  }
  const diffIds = layers.map((l) => sha256(l));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const cfg = sha256(config).slice(7);
  const archive = await makeTar([
    ...layers.map((l, i) => ({ name: `blobs/sha256/${diffIds[i]!.slice(7)}`, content: l })),
    { name: `blobs/sha256/${cfg}`, content: config },
    { name: 'manifest.json', content: JSON.stringify([{ Config: `blobs/sha256/${cfg}`, RepoTags: ['bench:big'], Layers: diffIds.map((d) => `blobs/sha256/${d.slice(7)}`) }]) },
  ]);
  writeFileSync(path, archive);
  return archive.length;
}

function run(env: NodeJS.ProcessEnv, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(DOCKER, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr?.toString()}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Figures {
  loadMBs: number;
  saveMBs: number;
  imagesMs: number;
}

async function measure(env: NodeJS.ProcessEnv, dir: string, archive: string, bytes: number, rootfs: string): Promise<Figures> {
  const mb = bytes / 1e6;
  const loads: number[] = [];
  const saves: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    loads.push(run(env, ['load', '-q', '-i', archive]));
    const out = join(dir, 'bench-save.tar');
    saves.push(run(env, ['save', '-o', out, 'bench:big']));
    rmSync(out, { force: true });
    run(env, ['rmi', 'bench:big']);
  }
  for (let i = 0; i < IMAGES; i++) run(env, ['import', rootfs, `bench/many:${i}`]);
  const lists: number[] = [];
  for (let i = 0; i < 20; i++) lists.push(run(env, ['images']));
  return { loadMBs: mb / (median(loads) / 1000), saveMBs: mb / (median(saves) / 1000), imagesMs: median(lists) };
}

async function main(): Promise<void> {
  const berthd = await startDaemon();
  const archive = join(berthd.dir, 'bench.tar');
  const rootfs = join(berthd.dir, 'rootfs.tar');
  const bytes = await makeArchive(archive);
  writeFileSync(rootfs, await busyboxRootfs());
  console.log(`archive: ${LAYERS} layers, ${(statSync(archive).size / 1e6).toFixed(1)} MB; ${RUNS} runs each; ${IMAGES} images listed`);
  const berth = await measure(berthd.env, berthd.dir, archive, bytes, rootfs);
  let ref: Figures | undefined;
  if (hasDockerd()) {
    const d = await startRefDockerd();
    try {
      ref = await measure(d.env, berthd.dir, archive, bytes, rootfs);
    } finally {
      await d.stop();
    }
  }
  await cleanup(berthd);
  const row = (name: string, b: number, r: number | undefined, unit: string, higherBetter: boolean) => {
    const ratio = r === undefined ? '' : higherBetter ? `${(b / r).toFixed(2)}x dockerd` : `${(b / r).toFixed(2)}x dockerd's time`;
    console.log(`${name.padEnd(22)} berthd ${b.toFixed(1).padStart(8)} ${unit}   dockerd ${r === undefined ? '     n/a' : r.toFixed(1).padStart(8)} ${unit}   ${ratio}`);
  };
  row('load throughput', berth.loadMBs, ref?.loadMBs, 'MB/s', true);
  row('save throughput', berth.saveMBs, ref?.saveMBs, 'MB/s', true);
  row('docker images latency', berth.imagesMs, ref?.imagesMs, 'ms  ', false);
  if (!ref) console.log('(install Debian docker.io for the dockerd column: make test-deps)');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
