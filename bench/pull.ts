/**
 * Pull throughput: an image of several gzip layers (BENCH_PULL_LAYERS x
 * BENCH_PULL_LAYER_MB of random data, 5 x 48 MiB by default) served by
 * Debian's docker-registry on 127.0.0.1, pulled with the same docker CLI by
 * berthd and, when installed, a real dockerd, runs alternating, the image
 * removed between runs. Prints MB/s (compressed bytes over wall time) and the
 * ratio.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { cleanup, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';
import { startRegistry, type Registry } from '../test/helpers/registry.js';
import { median, printStalls, timed } from './timing.js';

const LAYERS = Number(process.env.BENCH_PULL_LAYERS ?? 5);
const LAYER_MB = Number(process.env.BENCH_PULL_LAYER_MB ?? 48);
const RUNS = Number(process.env.BENCH_PULL_RUNS ?? 3);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function layerTar(i: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  // Files of 4 MiB, random: what a layer of binaries costs to move.
  for (let f = 0; f < LAYER_MB / 4; f++) pack.entry({ name: `layer${i}/file${f}.bin`, mode: 0o644 }, randomBytes(4 << 20));
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function upload(reg: Registry, repo: string, data: Buffer): Promise<string> {
  const digest = sha(data);
  const start = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, `http://${reg.host}`);
  loc.searchParams.set('digest', digest);
  const res = await fetch(loc, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return digest;
}

/** Pushes the image; returns its name and its compressed size in bytes. */
async function makeImage(reg: Registry): Promise<{ name: string; bytes: number }> {
  const repo = 'bench/big';
  const layers: Array<{ digest: string; size: number }> = [];
  const diffIds: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const raw = await layerTar(i);
    const gz = gzipSync(raw, { level: 1 });
    diffIds.push(sha(raw));
    layers.push({ digest: await upload(reg, repo, gz), size: gz.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDigest = await upload(reg, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...l })),
  });
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (res.status !== 201) throw new Error(`manifest: ${res.status} ${await res.text()}`);
  return { name: `${reg.host}/${repo}:1`, bytes: layers.reduce((n, l) => n + l.size, 0) };
}

async function main(): Promise<void> {
  const reg = await startRegistry();
  const b = await startDaemon({ args: ['--bridge', 'none'] });
  const ref = hasDockerd() ? await startRefDockerd() : undefined;
  const engines = [{ name: 'berthd', env: b.env }, ...(ref ? [{ name: 'dockerd', env: ref.env }] : [])];
  try {
    const img = await makeImage(reg);
    console.log(`pull benchmark: ${LAYERS} layers, ${(img.bytes / 1e6).toFixed(0)} MB compressed, ${RUNS} alternating runs, medians`);
    const times: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const e of engines) {
        times[e.name]!.push(timed(e.env, ['pull', '-q', img.name]));
        timed(e.env, ['rmi', img.name]);
        timed(e.env, ['image', 'prune', '-f']);
      }
    }
    const rate = (ms: number) => img.bytes / 1e6 / (ms / 1000);
    const mine = median(times['berthd']!);
    let line = `pull ${img.name.split('/').slice(1).join('/')}   berthd ${mine.toFixed(0)} ms (${rate(mine).toFixed(0)} MB/s)`;
    if (ref) {
      const theirs = median(times['dockerd']!);
      const ratio = rate(mine) / rate(theirs);
      line += `   dockerd ${theirs.toFixed(0)} ms (${rate(theirs).toFixed(0)} MB/s)   throughput ratio ${ratio.toFixed(2)} (goal ≥ 1.5) ${ratio >= 1.5 ? 'met' : 'not met'}`;
    }
    console.log(line);
    printStalls();
  } finally {
    await cleanup(b);
    await ref?.stop();
    await reg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
