/**
 * Berth's registry as a child process on a free 127.0.0.1 port, images to
 * push into it, and a small raw HTTP client for the distribution API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../src/lib/digest.js';
import { REPO } from './daemon.js';
import { makeTar } from './tars.js';

export interface Registry {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port */
  host: string;
  root: string;
  proc: ChildProcess;
  log(): string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Where to listen (default a free 127.0.0.1 port). */
  addr?: string;
  /** Wraps the server's argv, e.g. to start it inside a network namespace (`ip netns exec NAME …`, which execs it in place). */
  wrap?: (argv: string[]) => string[];
}

export async function startRegistry(root: string, args: string[] = [], opts: StartOptions = {}): Promise<Registry> {
  const argv = [process.execPath, join(REPO, 'bin/berth'), 'registry', 'serve', '--addr', opts.addr ?? '127.0.0.1:0', '--root', root, ...args];
  const [cmd, ...rest] = opts.wrap ? opts.wrap(argv) : argv;
  const proc = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`registry did not start:\n${out}${output}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code}:\n${out}${output}`));
    });
  });
  const ended = new Promise<void>((r) => proc.once('exit', () => r()));
  const end = async (sig: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await ended;
  };
  return { url, host: new URL(url).host, root, proc, log: () => output, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = any>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Skip certificate checks (self-signed test certificates). */
  insecure?: boolean;
}

/** One HTTP request to `base + path` (or an absolute URL), body collected. */
export function http(base: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path, base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = request(url, { method: opts.method ?? 'GET', headers, rejectUnauthorized: !opts.insecure, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface TestImage {
  layers: Buffer[];
  config: Buffer;
}

/** A small image: busybox-like layers given, and a config naming their diff IDs. */
export function imageOf(layers: Buffer[]): TestImage {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
      history: layers.map(() => ({ created_by: 'test' })),
    }),
  );
  return { layers, config };
}

/** Writes `img` as a docker-archive (what `docker save` makes) tagged `tag`. */
export async function writeDockerArchive(path: string, img: TestImage, tag: string): Promise<void> {
  const cfg = sha256(img.config).slice(7);
  const tar = await makeTar([
    ...img.layers.map((l) => ({ name: `${sha256(l).slice(7)}/layer.tar`, content: l })),
    { name: `${cfg}.json`, content: img.config },
    { name: 'manifest.json', content: JSON.stringify([{ Config: `${cfg}.json`, RepoTags: [tag], Layers: img.layers.map((l) => `${sha256(l).slice(7)}/layer.tar`) }]) },
  ]);
  writeFileSync(path, tar);
}

/** Pushes a blob monolithically (`POST ?digest=`); resolves with its digest. */
export async function pushBlob(base: string, repo: string, data: Buffer, headers: Record<string, string> = {}): Promise<string> {
  const digest = sha256(data);
  const r = await http(base, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream', ...headers } });
  if (r.status !== 201) throw new Error(`push blob: ${r.status} ${r.body}`);
  return digest;
}

/** Pushes a manifest; resolves with the reply. */
export function pushManifest(base: string, repo: string, ref: string, manifest: object | Buffer, mediaType: string, headers: Record<string, string> = {}): Promise<Reply> {
  const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
  return http(base, `/v2/${repo}/manifests/${ref}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType, ...headers } });
}
