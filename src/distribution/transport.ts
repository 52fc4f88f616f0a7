/**
 * How a registry is reached: its API host, whether it may be spoken to over
 * plain HTTP, and the TLS trust for it. Docker's rules: registries on
 * loopback addresses (127.0.0.0/8, ::1, localhost) and those named by
 * `--insecure-registry` (host[:port] or CIDR) are insecure — HTTPS without
 * certificate checks is tried first, then plain HTTP. Others use HTTPS,
 * trusting the host's CAs plus `<certs.d>/<host:port>/*.crt`, with a client
 * certificate from a `*.cert`/`*.key` pair there (`client.cert`) when present.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { failedPrecondition } from '../lib/errors.js';

export interface HostsConfig {
  /** `--insecure-registry` values: `host[:port]` or a CIDR. */
  insecure: string[];
  /** Directories of per-registry certificates (docker's `/etc/docker/certs.d`), first found wins. */
  certDirs: string[];
  userAgent: string;
}

export const DEFAULT_CERT_DIRS = ['/etc/berth/certs.d', '/etc/docker/certs.d'];
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

export interface Endpoint {
  /** The registry as references name it: `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Where its API answers: `registry-1.docker.io`, `127.0.0.1:5000`. */
  host: string;
  insecure: boolean;
}

/** Docker Hub's API host; `docker.io` names it in references. */
const HUB_HOST = 'registry-1.docker.io';

export function endpointFor(registry: string, cfg: HostsConfig): Endpoint {
  const host = registry === 'docker.io' || registry === 'index.docker.io' ? HUB_HOST : registry;
  return { registry, host, insecure: isInsecure(host, cfg.insecure) };
}

/** The host part of `host[:port]` / `[v6]:port`, without brackets. */
export function hostname(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  if (colon > 0 && hostPort.indexOf(':') === colon) return hostPort.slice(0, colon);
  return hostPort;
}

export function isInsecure(hostPort: string, insecure: string[]): boolean {
  const name = hostname(hostPort);
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  if (family === 4 && name.startsWith('127.')) return true;
  if (family === 6 && (name === '::1' || name === '0:0:0:0:0:0:0:1')) return true;
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/$/, '');
    if (e === hostPort || e === name) return true;
    const slash = e.indexOf('/');
    if (slash > 0 && family) {
      const net = e.slice(0, slash);
      const prefix = Number(e.slice(slash + 1));
      const netFamily = isIP(net);
      if (netFamily !== family || !Number.isInteger(prefix)) continue;
      const list = new BlockList();
      list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
      if (list.check(name, family === 4 ? 'ipv4' : 'ipv6')) return true;
    }
  }
  return false;
}

let systemCAs: string[] | undefined;

function hostCAs(): string[] {
  if (systemCAs) return systemCAs;
  systemCAs = [...rootCertificates];
  for (const f of SYSTEM_BUNDLES) {
    try {
      systemCAs.push(readFileSync(f, 'utf8'));
      break;
    } catch {
      // not on this distribution
    }
  }
  return systemCAs;
}

export interface TlsFiles {
  ca: string[];
  cert?: Buffer;
  key?: Buffer;
}

/**
 * The TLS material for a host, read from the first certs directory that has
 * a `<host:port>` folder, as docker reads certs.d: the host CAs plus every
 * `*.crt`; a client certificate from a `NAME.cert` with its `NAME.key` (the
 * first pair by name). A `.cert` without its `.key`, or the other way round,
 * is an error, in docker's words.
 */
export function tlsFor(hostPort: string, certDirs: string[]): TlsFiles {
  const out: TlsFiles = { ca: hostCAs() };
  for (const base of certDirs) {
    const dir = join(base, hostPort.replace(/^\[|\](?=:|$)/g, ''));
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    const extra: string[] = [];
    for (const n of names) {
      if (n.endsWith('.crt')) extra.push(readFileSync(join(dir, n), 'utf8'));
    }
    if (extra.length) out.ca = [...out.ca, ...extra];
    for (const n of names) {
      if (n.endsWith('.cert') && !names.includes(`${n.slice(0, -5)}.key`)) {
        throw failedPrecondition(`missing key ${n.slice(0, -5)}.key for client certificate ${n}. CA certificates must use the extension .crt`);
      }
      if (n.endsWith('.key') && !names.includes(`${n.slice(0, -4)}.cert`)) {
        throw failedPrecondition(`missing client certificate ${n.slice(0, -4)}.cert for key ${n}`);
      }
    }
    const pair = names.find((n) => n.endsWith('.cert'));
    if (pair) {
      out.cert = readFileSync(join(dir, pair));
      out.key = readFileSync(join(dir, `${pair.slice(0, -5)}.key`));
    }
    break;
  }
  return out;
}

export interface RawRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  /** Skip certificate checks (insecure registries). */
  insecureTls?: boolean;
  tls?: TlsFiles;
  signal?: AbortSignal;
  /** Give up when the connection is idle this long (ms). */
  idleTimeout?: number;
}

const contexts = new WeakMap<TlsFiles, Map<boolean, SecureContext>>();

/**
 * One TLS context per registry client and trust mode: parsing the CA list
 * costs tens of milliseconds, too much to pay on every blob request. An
 * insecure registry's context leaves the CAs out (nothing is verified) and
 * keeps the client pair.
 */
function secureContextFor(files: TlsFiles, insecure: boolean): SecureContext {
  let byMode = contexts.get(files);
  if (!byMode) contexts.set(files, (byMode = new Map()));
  let ctx = byMode.get(insecure);
  if (!ctx) {
    ctx = createSecureContext({
      ...(insecure ? {} : { ca: files.ca }),
      ...(files.cert ? { cert: files.cert } : {}),
      ...(files.key ? { key: files.key } : {}),
    });
    byMode.set(insecure, ctx);
  }
  return ctx;
}

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 16 }) };

/** Sends one HTTP request and resolves with the response, whatever its status. */
export function rawRequest(req: RawRequest): Promise<IncomingMessage> {
  const isHttps = req.url.protocol === 'https:';
  const headers = { ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
  const options: https.RequestOptions & { secureContext?: SecureContext } = {
    method: req.method,
    headers,
    ...(req.signal ? { signal: req.signal } : {}),
  };
  if (isHttps) {
    options.agent = false;
    options.rejectUnauthorized = !req.insecureTls;
    if (req.tls) options.secureContext = secureContextFor(req.tls, !!req.insecureTls);
  } else {
    options.agent = agents.http;
  }
  return new Promise((resolve, reject) => {
    const r = (isHttps ? https : http).request(req.url, options, (res) => {
      res.setTimeout(req.idleTimeout ?? 120_000, () => res.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
      resolve(res);
    });
    r.setTimeout(req.idleTimeout ?? 120_000, () => r.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      req.body.on('error', (err) => r.destroy(err));
      req.body.pipe(r);
    }
  });
}
