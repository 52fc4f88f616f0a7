/**
 * The HTTP side of the registry: the OCI distribution spec 1.1 routes (and
 * docker registry v2's), each checked for name, method, credentials and
 * read-only mode before its handler runs against the store.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { sha256, type Digest } from '../lib/digest.js';
import { errnoCode, isKind } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Descriptor } from '../oci/image.js';
import { OCI_INDEX } from '../oci/mediatypes.js';
import { openAccess, type Access, type Authorizer, type Grant, type TokenIssuer } from './auth.js';
import { RegistryError, regError } from './errors.js';
import { MANIFEST_MAX, mustExist, parseManifest } from './manifest.js';
import { checkDigest, checkName, isDigestRef, isName, isTagName } from './names.js';
import type { RegistryStore } from './store.js';
import { rangeHeader, type ChunkRange } from './uploads.js';

export interface HandlerOptions {
  store: RegistryStore;
  auth?: Authorizer;
  /** The built-in token endpoint and the path it answers on. */
  tokens?: { path: string; issuer: TokenIssuer };
  /** Refuse every write with UNSUPPORTED. */
  readOnly?: boolean;
  log?: Logger;
}

type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'blob'; name: string; ref: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; ref: string };

const METHODS: Record<Route['kind'], string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  tags: ['GET'],
  referrers: ['GET'],
};

const PATTERNS: Array<[RegExp, (m: string[]) => Route]> = [
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, ref: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, ref: m[2]! })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, ref: m[2]! })],
];

function route(path: string): Route | undefined {
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  for (const [re, make] of PATTERNS) {
    const m = re.exec(path);
    if (!m) continue;
    try {
      return make(m.map((s) => decodeURIComponent(s)));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** What a request needs from the credentials: pull to read, pull and push to write, delete to delete. */
function needs(r: Route, method: string): Access[] {
  if (r.kind === 'base') return [];
  if (r.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  return [{ type: 'repository', name: r.name, actions }];
}

const API_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
  const len = body === undefined ? 0 : Buffer.byteLength(body);
  res.writeHead(status, { ...API_HEADER, 'Content-Length': len, ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

/** Drains an unread body so that the connection can be reused. */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  req.resume();
  await new Promise<void>((res) => {
    req.once('end', res);
    req.once('close', res);
  });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new RegistryError('SIZE_INVALID', `manifest larger than ${limit} bytes`, { status: 413 });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new RegistryError('SIZE_INVALID', `manifest larger than ${limit} bytes`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** `Content-Range` of a chunk: `start-end`, also in the `bytes start-end/total` form. */
function chunkRange(req: IncomingMessage): ChunkRange | undefined {
  const h = req.headers['content-range'];
  if (h === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim());
  const bad = () => new RegistryError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(h)}`);
  if (!m) throw bad();
  const r = { start: Number(m[1]), end: Number(m[2]) };
  if (r.end < r.start) throw bad();
  const len = req.headers['content-length'];
  if (len !== undefined && Number(len) !== r.end - r.start + 1) throw bad();
  return r;
}

/** A single `Range: bytes=` request against a blob of `size` bytes; undefined for the whole blob. */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new RegistryError('RANGE_INVALID', 'requested range not satisfiable', { headers: { 'Content-Range': `bytes */${size}` } });
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || (m[2] !== '' && Number(m[2]) < start)) throw unsatisfiable();
  return { start, end };
}

const SEND_CHUNK = 2 << 20;

/**
 * Writes bytes `start..end` (inclusive) of an open file to the response
 * through two reused buffers, one filling while the other drains: far less
 * allocation and copying than a read stream of fresh buffers.
 */
async function sendFile(fh: FileHandle, res: ServerResponse, start: number, end: number): Promise<void> {
  const size = Math.min(SEND_CHUNK, end - start + 1);
  const bufs = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  const closed = new Promise<never>((_, reject) => res.once('close', () => reject(Object.assign(new Error('client went away'), { code: 'ECONNRESET' }))));
  closed.catch(() => undefined);
  let sent: Promise<void> = Promise.resolve();
  let pos = start;
  for (let k = 0; pos <= end; k ^= 1) {
    const buf = bufs[k]!;
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos + 1), pos);
    if (bytesRead === 0) throw new Error('blob shorter than its size');
    await Promise.race([sent, closed]);
    pos += bytesRead;
    const chunk = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    sent = new Promise((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
  }
  await Promise.race([sent, closed]);
}

/** One page of a sorted list after `last`, and whether more follow. */
function page(all: string[], q: URLSearchParams): { items: string[]; n?: number; more: boolean } {
  const last = q.get('last');
  let items = last ? all.filter((x) => x > last) : all;
  const nText = q.get('n');
  if (nText === null || nText === '') return { items, more: false };
  if (!/^\d+$/.test(nText)) throw regError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: nText });
  const n = Number(nText);
  const more = items.length > n;
  items = items.slice(0, n);
  return { items, n, more: more && n > 0 };
}

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export function createHandler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store } = opts;
  const auth = opts.auth ?? openAccess;

  const manifestDigest = async (name: string, ref: string): Promise<Digest> => {
    const unknown = () => regError('MANIFEST_UNKNOWN', 'manifest unknown', { name, reference: ref });
    if (isDigestRef(ref)) return checkDigest(ref);
    if (!isTagName(ref)) throw unknown();
    const d = await store.resolve(name, ref);
    if (!d) throw unknown();
    return d;
  };

  const getManifest = async (req: IncomingMessage, res: ServerResponse, name: string, ref: string): Promise<void> => {
    const digest = await manifestDigest(name, ref);
    const m = await store.manifest(name, digest);
    if (!m) throw regError('MANIFEST_UNKNOWN', 'manifest unknown', { name, reference: ref });
    const etag = `"${digest}"`;
    const headers = { 'Content-Type': m.mediaType, 'Docker-Content-Digest': digest, ETag: etag };
    if (req.headers['if-none-match'] === etag) return send(res, 304, headers);
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...API_HEADER, ...headers, 'Content-Length': m.bytes.length });
      res.end();
      return;
    }
    send(res, 200, headers, m.bytes);
  };

  const putManifest = async (req: IncomingMessage, res: ServerResponse, name: string, ref: string): Promise<void> => {
    let tag: string | undefined;
    if (!isDigestRef(ref)) {
      if (!isTagName(ref)) throw regError('TAG_INVALID', 'manifest tag did not match URI', { tag: ref });
      tag = ref;
    }
    const bytes = await readBody(req, MANIFEST_MAX);
    const digest = sha256(bytes);
    if (tag === undefined && checkDigest(ref) !== digest) {
      throw regError('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: ref, got: digest });
    }
    const parsed = parseManifest(bytes, req.headers['content-type']);
    for (const b of parsed.blobs.filter(mustExist)) {
      const info = await store.blob(name, b.digest);
      if (!info) throw regError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${b.digest}`, { digest: b.digest });
      if (info.size !== b.size) throw regError('MANIFEST_INVALID', `blob ${b.digest} has ${info.size} bytes, the manifest says ${b.size}`);
    }
    for (const c of parsed.children) {
      if (!(await store.revision(name, c.digest))) {
        throw regError('MANIFEST_BLOB_UNKNOWN', `manifest unknown to registry: ${c.digest}`, { digest: c.digest });
      }
    }
    const referrer: Descriptor = { mediaType: parsed.mediaType, digest, size: bytes.length };
    if (parsed.artifactType !== undefined) referrer.artifactType = parsed.artifactType;
    if (parsed.annotations !== undefined) referrer.annotations = parsed.annotations;
    const m: Parameters<RegistryStore['putManifest']>[1] = { bytes, mediaType: parsed.mediaType, referrer };
    if (parsed.subject) m.subject = parsed.subject;
    await store.putManifest(name, m, tag);
    const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
    if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
    send(res, 201, headers);
  };

  const deleteManifest = async (res: ServerResponse, name: string, ref: string): Promise<void> => {
    let ok: boolean;
    if (isDigestRef(ref)) ok = await store.deleteManifest(name, checkDigest(ref));
    else if (!isTagName(ref)) throw regError('TAG_INVALID', 'invalid tag', { tag: ref });
    else ok = await store.deleteTag(name, ref);
    if (!ok) throw regError('MANIFEST_UNKNOWN', 'manifest unknown', { name, reference: ref });
    send(res, 202, {});
  };

  const getBlob = async (req: IncomingMessage, res: ServerResponse, name: string, ref: string): Promise<void> => {
    const digest = checkDigest(ref);
    const unknown = () => regError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    const info = await store.blob(name, digest);
    if (!info) throw unknown();
    const range = byteRange(req.headers.range, info.size);
    const fh = await fs.open(store.content.path(digest), 'r').catch((err: unknown) => {
      throw errnoCode(err) === 'ENOENT' ? unknown() : err;
    });
    const headers: Record<string, string | number> = {
      ...API_HEADER,
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
      'Content-Length': range ? range.end - range.start + 1 : info.size,
    };
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    try {
      res.writeHead(range ? 206 : 200, headers);
      if (req.method !== 'HEAD' && info.size > 0) await sendFile(fh, res, range?.start ?? 0, range?.end ?? info.size - 1);
      res.end();
    } finally {
      await fh.close();
    }
  };

  const deleteBlob = async (res: ServerResponse, name: string, ref: string): Promise<void> => {
    const digest = checkDigest(ref);
    if (!(await store.unlinkBlob(name, digest))) throw regError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    send(res, 202, { 'Docker-Content-Digest': digest });
  };

  const blobCreated = (res: ServerResponse, name: string, digest: Digest): void =>
    send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });

  const uploadHeaders = (name: string, id: string, size: number): Record<string, string> => ({
    Location: `/v2/${name}/blobs/uploads/${id}`,
    Range: rangeHeader(size),
    'Docker-Upload-UUID': id,
  });

  const startUpload = async (req: IncomingMessage, res: ServerResponse, name: string, q: URLSearchParams, grant: Grant): Promise<void> => {
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount !== null) {
      const digest = checkDigest(mount);
      if (from !== null && isName(from) && grant.can({ type: 'repository', name: from, actions: ['pull'] }) && (await store.blob(from, digest))) {
        await drain(req);
        await store.linkBlob(name, digest);
        return blobCreated(res, name, digest);
      }
    } else if (q.get('digest') !== null) {
      const digest = checkDigest(q.get('digest')!);
      try {
        await store.content.write(req as Readable, { expected: digest });
      } catch (err) {
        if (isKind(err, 'InvalidArgument')) throw regError('DIGEST_INVALID', err.message, { digest });
        throw err;
      }
      await store.linkBlob(name, digest);
      return blobCreated(res, name, digest);
    }
    await drain(req);
    const st = await store.uploads.start(name);
    send(res, 202, uploadHeaders(name, st.id, 0));
  };

  const upload = async (req: IncomingMessage, res: ServerResponse, name: string, id: string, q: URLSearchParams): Promise<void> => {
    switch (req.method) {
      case 'GET': {
        const st = await store.uploads.status(name, id);
        return send(res, 204, uploadHeaders(name, id, st.size));
      }
      case 'PATCH': {
        const st = await store.uploads.append(name, id, req, chunkRange(req));
        return send(res, 202, uploadHeaders(name, id, st.size));
      }
      case 'PUT': {
        const param = q.get('digest');
        if (param === null) throw regError('DIGEST_INVALID', 'digest parameter missing');
        const digest = checkDigest(param);
        const body = hasBody(req);
        const range = body ? chunkRange(req) : undefined;
        if (!body) await drain(req);
        const info = await store.uploads.finish(name, id, digest, body ? req : undefined, range);
        await store.linkBlob(name, info.digest);
        return blobCreated(res, name, info.digest);
      }
      default: {
        await store.uploads.cancel(name, id);
        return send(res, 204, {});
      }
    }
  };

  const tags = async (res: ServerResponse, name: string, q: URLSearchParams): Promise<void> => {
    if (!(await store.exists(name))) throw regError('NAME_UNKNOWN', 'repository name not known to registry', { name });
    const p = page(await store.tags(name), q);
    const headers: Record<string, string> = {};
    if (p.more) headers['Link'] = nextLink(`/v2/${name}/tags/list`, p.n!, p.items[p.items.length - 1]!);
    sendJson(res, 200, { name, tags: p.items }, headers);
  };

  const catalog = async (res: ServerResponse, q: URLSearchParams): Promise<void> => {
    const p = page(await store.repositories(), q);
    const headers: Record<string, string> = {};
    if (p.more) headers['Link'] = nextLink('/v2/_catalog', p.n!, p.items[p.items.length - 1]!);
    sendJson(res, 200, { repositories: p.items }, headers);
  };

  const referrers = async (res: ServerResponse, name: string, ref: string, q: URLSearchParams): Promise<void> => {
    const subject = checkDigest(ref);
    let manifests = await store.referrers(name, subject);
    const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
    const types = q.getAll('artifactType');
    if (types.length > 0) {
      manifests = manifests.filter((d) => d.artifactType !== undefined && types.includes(d.artifactType));
      headers['OCI-Filters-Applied'] = 'artifactType';
    }
    send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    if (opts.tokens && url.pathname === opts.tokens.path && (method === 'GET' || method === 'HEAD')) {
      const reply = await opts.tokens.issuer.handle(req.headers, url.searchParams);
      return send(res, reply.status, reply.headers, reply.body);
    }
    const r = route(url.pathname);
    if (!r) throw regError('NOT_FOUND', 'page not found');
    if (!METHODS[r.kind].includes(method)) throw regError('UNSUPPORTED', `${method} is not supported here`);
    if ('name' in r) checkName(r.name);
    const grant = await auth.authorize(req.headers, needs(r, method));
    if (opts.readOnly && method !== 'GET' && method !== 'HEAD') throw regError('UNSUPPORTED', 'registry is in read-only mode');
    const q = url.searchParams;
    switch (r.kind) {
      case 'base':
        return sendJson(res, 200, {});
      case 'catalog':
        return catalog(res, q);
      case 'manifest':
        if (method === 'PUT') return putManifest(req, res, r.name, r.ref);
        if (method === 'DELETE') return deleteManifest(res, r.name, r.ref);
        return getManifest(req, res, r.name, r.ref);
      case 'blob':
        if (method === 'DELETE') return deleteBlob(res, r.name, r.ref);
        return getBlob(req, res, r.name, r.ref);
      case 'uploads':
        return startUpload(req, res, r.name, q, grant);
      case 'upload':
        try {
          return await upload(req, res, r.name, r.id, q);
        } catch (err) {
          // the client resumes from the Location and Range of a refused chunk
          if (err instanceof RegistryError && err.code === 'RANGE_INVALID') {
            err.headers['Location'] = `/v2/${r.name}/blobs/uploads/${r.id}`;
            err.headers['Docker-Upload-UUID'] = r.id;
          }
          throw err;
        }
      case 'tags':
        return tags(res, r.name, q);
      case 'referrers':
        return referrers(res, r.name, r.ref, q);
    }
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    const started = process.hrtime.bigint();
    dispatch(req, res, url)
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof RegistryError) {
          send(res, err.status, { 'Content-Type': 'application/json', ...err.headers }, req.method === 'HEAD' ? undefined : err.body());
          return;
        }
        const code = errnoCode(err);
        if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || req.destroyed) {
          res.destroy();
          return;
        }
        opts.log?.error('request failed', { method: req.method, path: url.pathname, error: err instanceof Error ? err.message : String(err) });
        send(res, 500, { 'Content-Type': 'application/json' }, new RegistryError('UNKNOWN', 'internal error').body());
      })
      .finally(() => {
        opts.log?.debug('request', {
          method: req.method,
          path: url.pathname,
          status: res.statusCode,
          ms: (Number(process.hrtime.bigint() - started) / 1e6).toFixed(1),
        });
      });
  };
}

export interface ListenOptions extends HandlerOptions {
  /** `host:port`; port 0 picks a free one. */
  addr: string;
  /** Serve HTTPS; with `clientCa`, every client must present a certificate that CA signed. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

export interface Listening {
  server: Server;
  /** The base URL with the real port, e.g. `http://127.0.0.1:5000`. */
  url: string;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address ${JSON.stringify(addr)}: want HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

function httpsOptions(tls: NonNullable<ListenOptions['tls']>): ServerOptions {
  const pair = { cert: tls.cert, key: tls.key };
  return tls.clientCa ? { ...pair, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : pair;
}

export async function listen(opts: ListenOptions): Promise<Listening> {
  const handler = createHandler(opts);
  const server: Server = opts.tls ? createHttpsServer(httpsOptions(opts.tls), handler) : createHttpServer(handler);
  if (opts.tls) {
    server.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) => {
      opts.log?.debug('TLS handshake failed', { remote: socket.remoteAddress, error: err.message.split('\n')[0] });
    });
  }
  // uploads of large layers may take longer than Node's default five minutes
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  const { host, port } = parseAddr(opts.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `${opts.tls ? 'https' : 'http'}://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
