/**
 * Registry benchmark: push and pull throughput of a multi-layer image
 * (BENCH_REG_LAYERS layers of BENCH_REG_LAYER_MB random MB, 5 × 48 by default)
 * against Berth's registry and Debian's docker-registry (filesystem storage),
 * with one HTTP client for both: POST, one streamed PATCH and PUT per layer,
 * three layers at a time (docker's own client does the same), then GET of
 * each layer with its digest checked. Both registries run for the whole
 * bench on empty directories and are warmed up first; runs alternate between
 * them, and each run pushes layers never seen before (a random 16-byte
 * prefix per run) to a new repository. Prints figures and ratios; never
 * fails on a timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256 } from '../src/lib/digest.js';
import { startRegistry } from '../test/helpers/registryserver.js';
import { median } from './timing.js';

const LAYERS = Number(process.env.BENCH_REG_LAYERS ?? 5);
const LAYER_MB = Number(process.env.BENCH_REG_LAYER_MB ?? 48);
const RUNS = Number(process.env.BENCH_REG_RUNS ?? 3);
const CONCURRENCY = 3;
const DOCKER_REGISTRY = '/usr/bin/docker-registry';

interface Layer {
  path: string;
  /** Bytes sent before the file's, so that each run's blobs are new to the registry. */
  prefix: Buffer;
  digest: string;
  size: number;
}

/** Random-ish layers written once: each a random 1 MiB block repeated with a per-MiB counter, so no two MiB are equal. */
function makeLayers(dir: string): Layer[] {
  const out: Layer[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const block = randomBytes(1 << 20);
    const data = Buffer.alloc(LAYER_MB << 20);
    for (let m = 0; m < LAYER_MB; m++) {
      block.copy(data, m << 20);
      data.writeUInt32BE(m, m << 20);
    }
    const path = join(dir, `layer${i}`);
    writeFileSync(path, data);
    out.push({ path, prefix: Buffer.alloc(0), digest: sha256(data), size: data.length });
  }
  return out;
}

/** The layers with a fresh random prefix each, digests computed before any timing. */
function freshLayers(base: Layer[]): Layer[] {
  return base.map((l) => {
    const prefix = randomBytes(16);
    const digest = `sha256:${createHash('sha256').update(prefix).update(readFileSync(l.path)).digest('hex')}`;
    return { path: l.path, prefix, digest, size: prefix.length + statSync(l.path).size };
  });
}

function body(l: Layer): Readable {
  return Readable.from(
    (async function* () {
      yield l.prefix;
      yield* createReadStream(l.path, { highWaterMark: 1 << 20 });
    })(),
  );
}

function call(agent: Agent, url: string, method: string, headers: Record<string, string | number> = {}, body?: Buffer | NodeJS.ReadableStream): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, resolve);
    req.on('error', reject);
    if (body === undefined || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

async function expect(res: IncomingMessage, status: number, what: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  if (res.statusCode !== status) throw new Error(`${what}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`);
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let it = queue.shift(); it !== undefined; it = queue.shift()) await fn(it);
  }));
}

async function pushLayer(agent: Agent, base: string, repo: string, l: Layer): Promise<void> {
  const start = await call(agent, `${base}/v2/${repo}/blobs/uploads/`, 'POST', { 'Content-Length': 0 });
  await expect(start, 202, 'start upload');
  const loc = new URL(start.headers.location!, base).toString();
  const patch = await call(agent, loc, 'PATCH', { 'Content-Type': 'application/octet-stream', 'Content-Length': l.size }, body(l));
  await expect(patch, 202, 'patch');
  const done = new URL(patch.headers.location!, base);
  done.searchParams.set('digest', l.digest);
  await expect(await call(agent, done.toString(), 'PUT', { 'Content-Length': 0 }), 201, 'finish upload');
}

function manifestOf(layers: Layer[], config: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: l.digest, size: l.size })),
    }),
  );
}

async function push(base: string, repo: string, layers: Layer[], config: Buffer): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const t = process.hrtime.bigint();
  await pool(layers, CONCURRENCY, (l) => pushLayer(agent, base, repo, l));
  // docker-registry 2.8 has no monolithic POST: the config goes as POST, then PUT with the body
  const start = await call(agent, `${base}/v2/${repo}/blobs/uploads/`, 'POST', { 'Content-Length': 0 });
  await expect(start, 202, 'start config upload');
  const put = new URL(start.headers.location!, base);
  put.searchParams.set('digest', sha256(config));
  await expect(await call(agent, put.toString(), 'PUT', { 'Content-Type': 'application/octet-stream', 'Content-Length': config.length }, config), 201, 'config');
  await expect(await call(agent, `${base}/v2/${repo}/manifests/latest`, 'PUT', { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' }, manifestOf(layers, config)), 201, 'manifest');
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  agent.destroy();
  return ms;
}

async function pull(base: string, repo: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const t = process.hrtime.bigint();
  const res = await call(agent, `${base}/v2/${repo}/manifests/latest`, 'GET', { Accept: 'application/vnd.docker.distribution.manifest.v2+json' });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const m = JSON.parse(Buffer.concat(chunks).toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
  await pool([m.config.digest, ...m.layers.map((l) => l.digest)], CONCURRENCY, async (digest) => {
    const r = await call(agent, `${base}/v2/${repo}/blobs/${digest}`, 'GET');
    if (r.statusCode !== 200) throw new Error(`GET blob: ${r.statusCode}`);
    const h = createHash('sha256');
    for await (const c of r) h.update(c as Buffer);
    if (`sha256:${h.digest('hex')}` !== digest) throw new Error(`GET blob ${digest}: digest mismatch`);
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  agent.destroy();
  return ms;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function startBerth(root: string): Promise<Server> {
  const r = await startRegistry(root);
  return { url: r.url, stop: r.stop };
}

async function startDockerRegistry(root: string, dir: string): Promise<Server> {
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${root}`,
      '  cache:',
      '    blobdescriptor: inmemory',
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(DOCKER_REGISTRY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const req = request(`${url}/v2/`, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.end();
    });
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`docker-registry did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    url,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

interface Target {
  name: string;
  server: Server;
  pushes: number[];
  pulls: number[];
}

function report(t: Target, mb: number): { pushMBs: number; pullMBs: number } {
  const f = { pushMBs: mb / (median(t.pushes) / 1000), pullMBs: mb / (median(t.pulls) / 1000) };
  console.log(
    `${t.name.padEnd(16)} push ${f.pushMBs.toFixed(0).padStart(5)} MB/s (${t.pushes.map((x) => x.toFixed(0)).join(', ')} ms)   ` +
      `pull ${f.pullMBs.toFixed(0).padStart(5)} MB/s (${t.pulls.map((x) => x.toFixed(0)).join(', ')} ms)`,
  );
  return f;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-registry-'));
  const targets: Target[] = [];
  try {
    const layers = makeLayers(dir);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
    const mb = layers.reduce((s, l) => s + l.size, 0) / 1e6;
    console.log(`image: ${LAYERS} layers, ${mb.toFixed(0)} MB; ${RUNS} runs (median), ${CONCURRENCY} layers at a time`);
    targets.push({ name: 'berth registry', server: await startBerth(join(dir, 'berth-root')), pushes: [], pulls: [] });
    if (existsSync(DOCKER_REGISTRY)) {
      targets.push({ name: 'docker-registry', server: await startDockerRegistry(join(dir, 'reference-root'), dir), pushes: [], pulls: [] });
    } else {
      console.log('docker-registry not installed (Debian package docker-registry): no reference figures');
    }
    // warm up: one layer each way, untimed
    for (const t of targets) {
      await push(t.server.url, 'bench/warmup', freshLayers(layers.slice(0, 1)), config);
      await pull(t.server.url, 'bench/warmup');
    }
    for (let i = 0; i < RUNS; i++) {
      for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
        const repo = `bench/run${i}`;
        t.pushes.push(await push(t.server.url, repo, freshLayers(layers), config));
        t.pulls.push(await pull(t.server.url, repo));
      }
    }
    const [berth, ref] = targets.map((t) => report(t, mb));
    if (berth && ref) {
      console.log(`ratio (berth / docker-registry): push ${(berth.pushMBs / ref.pushMBs).toFixed(2)}x (goal >= 1.3x), pull ${(berth.pullMBs / ref.pullMBs).toFixed(2)}x (goal >= 1.0x)`);
    }
  } finally {
    for (const t of targets) await t.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
