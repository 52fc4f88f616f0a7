/**
 * A client of one registry's HTTP API (the OCI distribution spec, as
 * docker's registry serves it) for one set of credentials: the `/v2/` ping
 * that settles HTTPS or HTTP and learns the auth challenge; manifests by tag
 * or digest; blobs by digest (with Range to continue); blob existence,
 * cross-repository mounts, uploads and manifest PUTs. Errors carry the
 * registry's own codes and read as docker prints them
 * (`manifest unknown: manifest unknown`).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { RegistryAuth } from '../core/distribution.js';
import { DigestStream, isDigest, type Digest } from '../lib/digest.js';
import { BerthError, internal, invalidArgument, type ErrorKind } from '../lib/errors.js';
import { readAll } from '../lib/streams.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.js';
import { basicAuth, parseChallenges, repositoryScope, TokenCache, type Challenge, type Token } from './auth.js';
import { describe } from './neterrors.js';
import { endpointFor, rawRequest, tlsFor, type Endpoint, type HostsConfig, type RawRequest, type TlsFiles } from './transport.js';

/** Manifests we can read, best first, as docker asks for them. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, OCI_MANIFEST];

/** Manifests (and indexes) are small; refuse anything past this. */
const MAX_MANIFEST = 4 << 20;

/** One entry of a registry's `{"errors":[...]}` body. */
export interface RegistryErrorItem {
  code: string;
  message: string;
  detail?: unknown;
}

/** An error answer from a registry, with its codes; reads like Go's errcode.Error. */
export class RegistryError extends BerthError {
  readonly status: number;
  readonly codes: string[];
  constructor(status: number, items: RegistryErrorItem[], fallback: string) {
    const first = items[0];
    const text = first ? `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message}` : fallback;
    super(kindFor(status), text, { status });
    this.status = status;
    this.codes = items.map((i) => i.code);
  }

  has(code: string): boolean {
    return this.codes.includes(code);
  }
}

function kindFor(status: number): ErrorKind {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 400 || status === 405) return 'InvalidArgument';
  if (status === 503 || status === 429) return 'Unavailable';
  return 'Internal';
}

/** Go's url.Error text: `Head "http://h/v2/x/manifests/latest": <why>`. */
function urlError(method: string, url: URL, why: string): string {
  return `${method[0]}${method.slice(1).toLowerCase()} "${url.href}": ${why}`;
}

/** Reads an error body into a RegistryError, as docker's HandleErrorResponse does. */
async function errorFrom(res: IncomingMessage): Promise<RegistryError> {
  const status = res.statusCode ?? 0;
  const body = await readAll(res, 1 << 20).catch(() => Buffer.alloc(0));
  const items: RegistryErrorItem[] = [];
  for (const c of parseChallenges(res.headers['www-authenticate'])) {
    if (c.scheme !== 'bearer') continue;
    const error = c.params['error'];
    if (error === 'invalid_token') items.push({ code: 'UNAUTHORIZED', message: c.params['error_description'] || 'authentication required' });
    if (error === 'insufficient_scope') items.push({ code: 'DENIED', message: c.params['error_description'] || 'requested access to the resource is denied' });
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: RegistryErrorItem[]; details?: string };
    if (Array.isArray(parsed.errors)) items.push(...parsed.errors.filter((e) => e && typeof e.code === 'string'));
    else if (typeof parsed.details === 'string') items.push({ code: status === 401 ? 'UNAUTHORIZED' : 'UNKNOWN', message: parsed.details });
  } catch {
    // not JSON
  }
  if (items.length === 0 && status === 401) items.push({ code: 'UNAUTHORIZED', message: 'authentication required' });
  const statusText = `${status} ${res.statusMessage ?? ''}`.trim();
  const fallback =
    status >= 400 && status < 500 && body.length > 0
      ? `error parsing HTTP ${status} response body: invalid character looking for beginning of value: ${JSON.stringify(body.toString('utf8').slice(0, 200))}`
      : `received unexpected HTTP status: ${statusText}`;
  return new RegistryError(status, items, fallback);
}

export interface ManifestResult {
  mediaType: string;
  digest: Digest;
  body: Buffer;
}

export interface BlobStream {
  stream: Readable;
  /** Where the stream starts (the Range the registry honoured); 0 when it sent the whole blob. */
  offset: number;
  /** The whole blob's length, when the registry said. */
  size?: number;
}

export interface ClientOptions {
  hosts: HostsConfig;
  auth?: RegistryAuth;
  signal?: AbortSignal;
}

/**
 * One registry, one set of credentials, for one operation (a pull, a push,
 * a login). Tokens are kept per scope for the client's life.
 */
export class RegistryClient {
  readonly endpoint: Endpoint;
  private base: URL | undefined;
  private challenges: Challenge[] = [];
  private readonly tokens = new TokenCache();
  private readonly tls: TlsFiles;
  private pinging: Promise<void> | undefined;

  constructor(
    registry: string,
    private readonly opts: ClientOptions,
  ) {
    this.endpoint = endpointFor(registry, opts.hosts);
    this.tls = tlsFor(this.endpoint.host, opts.hosts.certDirs);
  }

  /** `https://host` or `http://host` once the ping settled which one answers. */
  get baseUrl(): URL {
    if (!this.base) throw internal('registry client used before ping');
    return this.base;
  }

  /** `GET /v2/`: settles the scheme and learns the auth challenge. Idempotent. */
  ping(): Promise<void> {
    this.pinging ??= this.doPing().catch((err: unknown) => {
      this.pinging = undefined;
      throw err;
    });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const schemes = this.endpoint.insecure ? ['https:', 'http:'] : ['https:'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}//${this.endpoint.host}/v2/`);
      let res: IncomingMessage;
      try {
        res = await rawRequest(this.raw('GET', url, {}));
      } catch (err) {
        lastErr = err;
        continue;
      }
      res.resume();
      const status = res.statusCode ?? 0;
      if (status === 200 || status === 401) {
        this.base = new URL(`${scheme}//${this.endpoint.host}`);
        this.challenges = status === 401 ? parseChallenges(res.headers['www-authenticate']) : [];
        return;
      }
      // A server that is not a registry; HTTP may still be (an HTTPS port serving something else).
      lastErr = new Error(`${url.href}: received unexpected HTTP status: ${status} ${res.statusMessage ?? ''}`.trim());
    }
    throw new BerthError('Unavailable', pingError(this.endpoint, lastErr));
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body?: Buffer | Readable): RawRequest {
    const r: RawRequest = {
      method,
      url,
      headers: { 'User-Agent': this.opts.hosts.userAgent, ...headers },
      insecureTls: this.endpoint.insecure,
      tls: this.tls,
    };
    if (body !== undefined) r.body = body;
    if (this.opts.signal) r.signal = this.opts.signal;
    return r;
  }

  /** The Authorization header for `scopes`, or none when the registry asked for nothing. */
  private async authorization(method: string, url: URL, scopes: string[]): Promise<string | undefined> {
    const auth = this.opts.auth;
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      if (auth?.registryToken) return `Bearer ${auth.registryToken}`;
      const token = await this.token(bearer, scopes);
      return `Bearer ${token.token}`;
    }
    const basic = this.challenges.find((c) => c.scheme === 'basic');
    if (basic) {
      if (!auth?.username) throw new BerthError('Internal', urlError(method, url, 'no basic auth credentials'));
      return basicAuth(auth.username, auth.password ?? '');
    }
    return undefined;
  }

  private token(challenge: Challenge, scopes: string[], offline = false): Promise<Token> {
    const realm = challenge.params['realm'];
    if (!realm) throw new BerthError('Unauthorized', 'bearer challenge without a realm');
    const req = {
      realm,
      scopes,
      clientId: 'docker',
      offline,
      ...(challenge.params['service'] !== undefined ? { service: challenge.params['service'] } : {}),
      ...(this.opts.auth ? { auth: this.opts.auth } : {}),
    };
    return this.tokens.get(req, async (method, url, headers, body) => {
      const res = await rawRequest(this.raw(method, url, headers, body));
      return { status: res.statusCode ?? 0, body: await readAll(res, 1 << 20) };
    });
  }

  /**
   * Sends a request to the registry with the auth it asked for, following
   * redirects (blob storage) without the registry's Authorization. A 401 with
   * a bearer challenge gets one retry with a fresh token when the body can be
   * sent again.
   */
  async request(
    method: string,
    path: string,
    opts: { scopes: string[]; headers?: Record<string, string>; body?: Buffer | Readable; query?: Record<string, string | string[]> },
  ): Promise<IncomingMessage> {
    await this.ping();
    const url = path.startsWith('http://') || path.startsWith('https://') ? new URL(path) : new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
    }
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const authz = await this.authorization(method, url, opts.scopes);
      if (authz) headers['Authorization'] = authz;
      let res: IncomingMessage;
      try {
        res = await rawRequest(this.raw(method, url, headers, opts.body));
      } catch (err) {
        throw new BerthError('Unavailable', urlError(method, url, describe(err)), {}, { cause: err });
      }
      if (res.statusCode === 401 && attempt === 0 && !(opts.body instanceof Readable)) {
        const fresh = parseChallenges(res.headers['www-authenticate']);
        if (fresh.some((c) => c.scheme === 'bearer') && authz?.startsWith('Bearer ')) {
          res.resume();
          this.tokens.drop(authz.slice(7));
          this.challenges = fresh;
          continue;
        }
      }
      if (method === 'GET' || method === 'HEAD') return this.follow(method, res, 0);
      return res;
    }
  }

  private async follow(method: string, res: IncomingMessage, hops: number): Promise<IncomingMessage> {
    const status = res.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status) || !res.headers.location) return res;
    res.resume();
    if (hops >= 10) throw new BerthError('Unavailable', 'stopped after 10 redirects');
    const target = new URL(res.headers.location, this.baseUrl);
    const sameOrigin = target.origin === this.baseUrl.origin;
    const headers: Record<string, string> = {};
    if (sameOrigin) {
      const authz = await this.authorization(method, target, []);
      if (authz) headers['Authorization'] = authz;
    }
    let next: IncomingMessage;
    try {
      next = await rawRequest({ ...this.raw(method, target, headers), insecureTls: sameOrigin && this.endpoint.insecure });
    } catch (err) {
      throw new BerthError('Unavailable', urlError(method, target, describe(err)), {}, { cause: err });
    }
    return this.follow(method, next, hops + 1);
  }

  /**
   * Checks the credentials against the registry (docker login): a bearer
   * registry must hand out a token (asking for a refresh token, which becomes
   * the identity token), a basic one must accept them on `/v2/`.
   */
  async login(): Promise<{ identityToken?: string }> {
    await this.ping();
    const url = new URL('/v2/', this.baseUrl);
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const token = await this.token(bearer, [], !!this.opts.auth?.username);
      const res = await rawRequest(this.raw('GET', url, { Authorization: `Bearer ${token.token}` }));
      res.resume();
      if (res.statusCode !== 200) throw new BerthError('Unauthorized', `login attempt to ${url.href} failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
      return token.refreshToken ? { identityToken: token.refreshToken } : {};
    }
    const headers: Record<string, string> = {};
    if (this.opts.auth?.username) headers['Authorization'] = basicAuth(this.opts.auth.username, this.opts.auth.password ?? '');
    const res = await rawRequest(this.raw('GET', url, headers));
    res.resume();
    if (res.statusCode !== 200) throw new BerthError('Unauthorized', `login attempt to ${url.href} failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
    return {};
  }

  /**
   * A manifest or index by tag or digest; a digest reference is verified
   * against the body. A tag is resolved with HEAD first, as docker does (HEADs
   * do not count against pull limits), then fetched by the digest it names.
   */
  async manifest(repository: string, reference: string, accept = MANIFEST_ACCEPT): Promise<ManifestResult> {
    if (!isDigest(reference)) {
      const head = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, {
        scopes: [repositoryScope(repository, ['pull'])],
        headers: { Accept: accept.join(', ') },
      });
      head.resume();
      const d = String(head.headers['docker-content-digest'] ?? '');
      if (head.statusCode === 200 && isDigest(d)) reference = d;
    }
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      scopes: [repositoryScope(repository, ['pull'])],
      headers: { Accept: accept.join(', ') },
    });
    if ((res.statusCode ?? 0) !== 200) throw await errorFrom(res);
    const body = await readAll(res, MAX_MANIFEST).catch(() => {
      throw invalidArgument(`manifest ${reference} is larger than ${MAX_MANIFEST} bytes`);
    });
    const hasher = new DigestStream();
    hasher.feed(body);
    const digest = hasher.digest();
    if (isDigest(reference) && digest !== reference) {
      throw invalidArgument(`manifest verification failed for digest ${reference}`);
    }
    let mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: string; manifests?: unknown; config?: unknown };
      if (parsed.mediaType) mediaType = parsed.mediaType;
      else if (!MANIFEST_ACCEPT.includes(mediaType)) mediaType = parsed.manifests ? OCI_INDEX : OCI_MANIFEST;
    } catch {
      throw invalidArgument(`manifest ${reference}: invalid JSON`);
    }
    return { mediaType, digest, body };
  }

  /** Every tag of a repository, following the registry's pagination (Link: rel="next"). */
  async tags(repository: string): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list`;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.request('GET', path, { scopes: [repositoryScope(repository, ['pull'])] });
      if (res.statusCode !== 200) throw await errorFrom(res);
      const body = JSON.parse((await readAll(res, MAX_MANIFEST)).toString('utf8')) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      path = link?.[1];
    }
    return out;
  }

  /** A blob's bytes from `offset` on (Range), or from 0 when the registry does not do ranges. */
  async blob(repository: string, digest: Digest, offset = 0): Promise<BlobStream> {
    const headers: Record<string, string> = {};
    if (offset > 0) headers['Range'] = `bytes=${offset}-`;
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, { scopes: [repositoryScope(repository, ['pull'])], headers });
    const status = res.statusCode ?? 0;
    if (status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (m && Number(m[1]) === offset) {
        const out: BlobStream = { stream: res, offset };
        if (m[2] !== '*') out.size = Number(m[2]);
        return out;
      }
      res.destroy();
      return this.blob(repository, digest, 0);
    }
    if (status === 416 && offset > 0) {
      res.resume();
      return this.blob(repository, digest, 0);
    }
    if (status !== 200) throw await errorFrom(res);
    const len = Number(res.headers['content-length']);
    return Number.isFinite(len) && res.headers['content-length'] !== undefined ? { stream: res, offset: 0, size: len } : { stream: res, offset: 0 };
  }

  /** True when the repository has the blob (HEAD). */
  async hasBlob(repository: string, digest: Digest, scopes: string[]): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scopes });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await errorFrom(res);
  }

  /**
   * Asks the registry to mount a blob from another of its repositories.
   * True when mounted; otherwise the upload it started instead is cancelled.
   */
  async mount(repository: string, digest: Digest, from: string): Promise<boolean> {
    const scopes = [repositoryScope(repository, ['pull', 'push']), repositoryScope(from, ['pull'])];
    const res = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes, query: { mount: digest, from }, body: Buffer.alloc(0) });
    res.resume();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202 && res.headers.location) {
      const cancel = await this.request('DELETE', String(res.headers.location), { scopes }).catch(() => undefined);
      cancel?.resume();
      return false;
    }
    if (res.statusCode === 202) return false;
    throw await errorFrom(res);
  }

  /**
   * Uploads a blob whose digest is known only once it is read to its end:
   * POST opens the session, the bytes go in one streamed PATCH (or in
   * `chunkSize` PATCHes with Content-Range when given), PUT `?digest=` closes it.
   */
  async upload(repository: string, source: Readable, opts: { digest: () => Digest; chunkSize?: number }): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes, body: Buffer.alloc(0) });
    start.resume();
    if (start.statusCode !== 202 || !start.headers.location) throw await errorFrom(start);
    let location = String(start.headers.location);
    if (opts.chunkSize) {
      let offset = 0;
      for await (const chunk of chunks(source, opts.chunkSize)) {
        const res = await this.request('PATCH', location, {
          scopes,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
          body: chunk,
        });
        res.resume();
        if (res.statusCode !== 202) throw await errorFrom(res);
        offset += chunk.length;
        if (res.headers.location) location = String(res.headers.location);
      }
    } else {
      const res = await this.request('PATCH', location, { scopes, headers: { 'Content-Type': 'application/octet-stream' }, body: source });
      if (res.statusCode !== 202) throw await errorFrom(res);
      res.resume();
      if (res.headers.location) location = String(res.headers.location);
    }
    const done = await this.request('PUT', location, { scopes, query: { digest: opts.digest() }, body: Buffer.alloc(0) });
    done.resume();
    if (done.statusCode !== 201) throw await errorFrom(done);
  }

  /** Uploads a blob of known digest and size monolithically: POST opens the session, one PUT `?digest=` carries the bytes. */
  async uploadMonolithic(repository: string, data: Buffer | Readable, digest: Digest, size: number): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes, body: Buffer.alloc(0) });
    start.resume();
    if (start.statusCode !== 202 || !start.headers.location) throw await errorFrom(start);
    const done = await this.request('PUT', String(start.headers.location), {
      scopes,
      query: { digest },
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body: data,
    });
    done.resume();
    if (done.statusCode !== 201) throw await errorFrom(done);
  }

  async putManifest(repository: string, reference: string, mediaType: string, body: Buffer): Promise<Digest | undefined> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      headers: { 'Content-Type': mediaType },
      body,
    });
    res.resume();
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await errorFrom(res);
    const d = String(res.headers['docker-content-digest'] ?? '');
    return isDigest(d) ? d : undefined;
  }
}

/** Splits a stream into buffers of exactly `size` bytes (the last may be shorter). */
async function* chunks(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const c of source) {
    let chunk = c as Buffer;
    while (length + chunk.length >= size) {
      const take = size - length;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      length = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length) {
      pending.push(chunk);
      length += chunk.length;
    }
  }
  if (length) yield Buffer.concat(pending);
}

function pingError(endpoint: Endpoint, err: unknown): string {
  const url = `${endpoint.insecure ? 'http' : 'https'}://${endpoint.host}/v2/`;
  return `Get "${url}": ${err instanceof BerthError ? err.message : describe(err)}`;
}
