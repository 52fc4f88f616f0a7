/**
 * An Engine API client: speaks HTTP/1.1 over a UNIX socket or TCP (optionally
 * TLS), negotiates the API version like the docker CLI, prefixes every call
 * with `/v1.xx`, and turns daemon errors into BerthErrors.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BerthError, errnoCode, invalidArgument, type ErrorKind } from '../lib/errors.js';
import { goJSON } from '../lib/gofmt.js';
import { DEFAULT_HOST, parseHost, type HostAddress } from './host.js';
import { decodeJSONMessages, type JSONMessage } from './jsonstream.js';
import { familiarName, fullName, parseNormalized, withDefaultTag } from '../oci/reference.js';
import { parsePlatform } from '../oci/platform.js';
import type {
  ContainerCreateResponse,
  ContainerInspect,
  ContainerPathStat,
  ContainerPruneReport,
  ContainerSummary,
  ContainerTopResponse,
  ContainerUpdateResponse,
  ContainerWaitResponse,
  ExecCreateConfig,
  ExecInspect,
  FilesystemChange,
  DeleteResponseItem,
  DiskUsage,
  Filters,
  HistoryItem,
  ImageInspect,
  ImagePruneReport,
  ImageSummary,
  InfoResponse,
  NetworkCreateResponse,
  NetworkPruneReport,
  NetworkSummary,
  PingInfo,
  VersionResponse,
  VolumePruneReport,
  VolumeSummary,
} from './types.js';

/** The highest API version this client speaks. */
export const MAX_API_VERSION = '1.51';
/** What a daemon that sends no `Api-Version` header is assumed to speak. */
export const FALLBACK_API_VERSION = '1.24';
/** The Host header the Go client sends over non-TCP transports. */
export const DUMMY_HOST = 'api.moby.localhost';

export interface TLSOptions {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  /** Verify the daemon's certificate (docker's --tlsverify). */
  verify: boolean;
}

export interface ClientOptions {
  /** `unix:///path`, `tcp://host:port`; default `unix:///run/berth/berth.sock`. */
  host?: string;
  tls?: TLSOptions;
  /** Pin the API version (like DOCKER_API_VERSION) and skip negotiation. */
  version?: string;
  userAgent?: string;
  /** Extra headers sent on every request. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON (`Content-Type: application/json`). */
  body?: unknown;
  /** Sent as is; a Readable is streamed chunked. */
  data?: Readable | Buffer | string;
  /** Content-Type for `data` (default `text/plain`, as the Go client). */
  contentType?: string;
  headers?: Record<string, string>;
  /** Add the `/v1.xx` prefix (default true). */
  versioned?: boolean;
  signal?: AbortSignal;
  /** Give up when no response arrives within this many milliseconds. */
  timeoutMs?: number;
}

export interface JSONResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  data: T;
}

/** The daemon answered with an error status; `message` is its words verbatim. */
export class DaemonError extends BerthError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(kindForStatus(status), message, { status });
    this.status = status;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends BerthError {
  constructor(message: string, cause?: unknown) {
    super('Unavailable', message, {}, { cause });
  }
}

export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 400:
      return 'InvalidArgument';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 501:
      return 'NotImplemented';
    case 503:
      return 'Unavailable';
    default:
      return 'Internal';
  }
}

/** Compares dotted API versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Encodes a query the way Go's url.Values.Encode does (keys sorted; true → 1; false/undefined omitted). */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === undefined || v === null || v === false) continue;
    if (v === true) params.append(key, '1');
    else if (Array.isArray(v)) for (const item of v as readonly string[]) params.append(key, item);
    else params.append(key, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/** Encodes filters as the API's JSON map form, or undefined when empty. */
export function encodeFilters(filters: Filters | undefined): string | undefined {
  if (!filters) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  // Go marshals maps with sorted keys
  for (const k of Object.keys(filters).sort()) {
    const values = filters[k]!;
    if (values.length === 0) continue;
    out[k] = {};
    for (const v of [...values].sort()) out[k]![v] = true;
  }
  return Object.keys(out).length === 0 ? undefined : JSON.stringify(out);
}

/** Escapes a path parameter, keeping the characters docker leaves alone (`/`, `:`, `@`). */
export function escapePath(s: string): string {
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

export class Client {
  readonly address: HostAddress;
  /** The host as shown in messages, e.g. `unix:///run/berth/berth.sock`. */
  readonly host: string;
  private readonly tls: TLSOptions | undefined;
  private readonly pinnedVersion: string | undefined;
  private readonly userAgent: string;
  private readonly extraHeaders: Record<string, string>;
  private readonly agent: http.Agent;
  private negotiation: Promise<string> | undefined;
  private negotiatedVersion: string | undefined;
  private lastPing: PingInfo | undefined;

  constructor(opts: ClientOptions = {}) {
    const useTLS = opts.tls !== undefined;
    this.address = parseHost(opts.host ?? DEFAULT_HOST, useTLS);
    this.host = this.address.display;
    this.tls = opts.tls;
    // like the Go client, a pinned version is used as given (the daemon judges it)
    if (opts.version !== undefined && opts.version !== '') this.pinnedVersion = opts.version.replace(/^v/, '');
    this.userAgent = opts.userAgent ?? 'Berth-Client (linux)';
    this.extraHeaders = { ...(opts.headers ?? {}) };
    if (this.address.proto === 'tcp' && this.address.https) {
      const t = this.tls ?? { verify: false };
      this.agent = new https.Agent({
        keepAlive: true,
        ...(t.ca !== undefined ? { ca: t.ca } : {}),
        ...(t.cert !== undefined ? { cert: t.cert } : {}),
        ...(t.key !== undefined ? { key: t.key } : {}),
        rejectUnauthorized: t.verify,
      });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /** Releases pooled connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  /** The version in use once known (pinned or negotiated); undefined before the first call. */
  get currentVersion(): string | undefined {
    return this.pinnedVersion ?? this.negotiatedVersion;
  }

  /** The last ping result, if negotiation pinged the daemon. */
  get pingInfo(): PingInfo | undefined {
    return this.lastPing;
  }

  /** The API version to use: pinned, or negotiated once via `/_ping`. */
  async apiVersion(): Promise<string> {
    if (this.pinnedVersion) return this.pinnedVersion;
    if (this.negotiatedVersion) return this.negotiatedVersion;
    this.negotiation ??= this.negotiate();
    try {
      return await this.negotiation;
    } catch (err) {
      this.negotiation = undefined;
      throw err;
    }
  }

  private async negotiate(): Promise<string> {
    let ping: PingInfo;
    try {
      ping = await this.ping();
    } catch (err) {
      if (err instanceof ConnectionError) throw err;
      // reached something that isn't answering pings properly: assume the oldest shape
      ping = this.lastPing ?? { apiVersion: '', osType: '', experimental: false, builderVersion: '' };
    }
    let v = ping.apiVersion === '' ? FALLBACK_API_VERSION : ping.apiVersion;
    if (compareVersions(v, MAX_API_VERSION) > 0) v = MAX_API_VERSION;
    this.negotiatedVersion = v;
    return v;
  }

  /** HEAD /_ping, falling back to GET when HEAD is refused; 500 still counts as an answer. */
  async ping(): Promise<PingInfo> {
    let res: IncomingMessage | undefined;
    try {
      res = await this.send('HEAD', '/_ping', { versioned: false, timeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof ConnectionError) throw err;
    }
    if (res && (res.statusCode === 200 || res.statusCode === 500)) {
      return this.parsePing(res);
    }
    res?.resume();
    const get = await this.send('GET', '/_ping', { versioned: false, timeoutMs: 10_000 });
    return this.parsePing(get);
  }

  private async parsePing(res: IncomingMessage): Promise<PingInfo> {
    const h = res.headers;
    const one = (name: string): string => {
      const v = h[name];
      return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    };
    const info: PingInfo = {
      apiVersion: one('api-version'),
      osType: one('ostype'),
      experimental: one('docker-experimental') === 'true',
      builderVersion: one('builder-version'),
    };
    const swarm = one('swarm');
    if (swarm !== '') {
      const [state, role] = swarm.split('/');
      info.swarm = { nodeState: state ?? '', controlAvailable: role === 'manager' };
    }
    this.lastPing = info;
    await this.checkStatus(res, '/_ping');
    res.resume();
    return info;
  }

  /** The full request path: `/v1.xx/path` (versioned) or `/path`, plus the query. */
  async apiPath(path: string, query?: Query, versioned = true): Promise<string> {
    const p = path.startsWith('/') ? path : `/${path}`;
    const prefix = versioned ? `/v${await this.apiVersion()}` : '';
    return `${prefix}${p}${encodeQuery(query)}`;
  }

  private urlFor(fullPath: string): string {
    if (this.address.proto === 'unix') return `http://${DUMMY_HOST}${fullPath}`;
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `${this.address.https ? 'https' : 'http'}://${host}:${this.address.port}${fullPath}`;
  }

  /**
   * Sends a request and resolves with the response, whatever its status.
   * Connection failures become ConnectionError with docker's wording.
   */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const fullPath = await this.apiPath(path, opts.query, opts.versioned ?? true);
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...this.extraHeaders };
    let payload: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body) + '\n');
      headers['Content-Type'] = 'application/json';
    } else if (opts.data !== undefined) {
      payload = typeof opts.data === 'string' ? Buffer.from(opts.data) : opts.data;
      headers['Content-Type'] = opts.contentType ?? 'text/plain';
    }
    if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
    Object.assign(headers, opts.headers ?? {});

    const base: http.RequestOptions = { method, path: fullPath, headers, agent: this.agent };
    if (this.address.proto === 'unix') {
      base.socketPath = this.address.socketPath;
      headers['Host'] = DUMMY_HOST;
    } else {
      base.host = this.address.host;
      base.port = this.address.port;
    }
    if (opts.signal) base.signal = opts.signal;
    const transport = this.address.proto === 'tcp' && this.address.https ? https : http;

    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(this.connectError(err, method, fullPath));
      };
      const req = transport.request(base, (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(res);
      });
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const e = Object.assign(new Error('timeout awaiting response headers'), { code: 'ETIMEDOUT' });
          req.destroy(e);
        }, opts.timeoutMs);
      }
      req.on('error', (err) => {
        if (timer) clearTimeout(timer);
        fail(err);
      });
      if (payload === undefined) {
        req.end();
      } else if (Buffer.isBuffer(payload)) {
        req.end(payload);
      } else {
        const src = payload;
        src.on('error', (err) => {
          req.destroy(err);
          fail(err);
        });
        src.pipe(req);
      }
    });
  }

  /**
   * Sends a request that asks to take over the connection (`Connection:
   * Upgrade`, `Upgrade: tcp`), as attach and exec start do. The daemon must
   * answer 101; anything else fails like the Go client (`unable to upgrade to
   * tcp, received 404`). Bytes that came with the 101 headers are put back
   * into the socket, so reading it yields the stream from its first byte.
   */
  async hijack(path: string, opts: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<HijackedConnection> {
    const fullPath = await this.apiPath(path, opts.query, true);
    const payload = opts.body !== undefined ? Buffer.from(goJSON(opts.body, { escapeHTML: true }) + '\n') : Buffer.alloc(0);
    const headers: Record<string, string> = {
      'User-Agent': this.userAgent,
      ...this.extraHeaders,
      'Content-Type': opts.contentType ?? (opts.body !== undefined ? 'application/json' : 'text/plain'),
      'Content-Length': String(payload.length),
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    const base: https.RequestOptions = { method: 'POST', path: fullPath, headers, agent: false };
    if (this.address.proto === 'unix') {
      base.socketPath = this.address.socketPath;
      headers['Host'] = DUMMY_HOST;
    } else {
      base.host = this.address.host;
      base.port = this.address.port;
      if (this.address.https) {
        const t = this.tls ?? { verify: false };
        if (t.ca !== undefined) base.ca = t.ca;
        if (t.cert !== undefined) base.cert = t.cert;
        if (t.key !== undefined) base.key = t.key;
        base.rejectUnauthorized = t.verify;
      }
    }
    const transport = this.address.proto === 'tcp' && this.address.https ? https : http;
    return new Promise<HijackedConnection>((resolve, reject) => {
      const req = transport.request(base);
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (res.statusCode !== 101) {
          socket.destroy();
          reject(new BerthError('Internal', `unable to upgrade to tcp, received ${res.statusCode ?? 0}`));
          return;
        }
        socket.setNoDelay?.(true);
        if (head.length > 0) socket.unshift(head);
        const ctype = res.headers['content-type'];
        resolve(new HijackedConnection(socket, typeof ctype === 'string' ? ctype : ''));
      });
      req.on('response', (res: IncomingMessage) => {
        // not upgraded: the Go client reports the status, whatever the body says
        res.resume();
        reject(new BerthError('Internal', `unable to upgrade to tcp, received ${res.statusCode ?? 0}`));
      });
      req.on('error', (err) => reject(this.connectError(err, 'POST', fullPath)));
      req.end(payload);
    });
  }

  private connectError(err: unknown, method: string, fullPath: string): unknown {
    if (err instanceof BerthError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    const code = errnoCode(err);
    const msg = err instanceof Error ? err.message : String(err);
    switch (code) {
      case 'ECONNREFUSED':
      case 'ENOENT':
      case 'ETIMEDOUT':
      case 'ENOTSOCK':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new ConnectionError(`Cannot connect to the Docker daemon at ${this.host}. Is the docker daemon running?`, err);
      case 'EACCES':
      case 'EPERM':
        return new ConnectionError(
          `permission denied while trying to connect to the Docker daemon socket at ${this.host}: ` +
            `${methodName(method)} "${this.urlFor(fullPath)}": dial unix ${this.address.proto === 'unix' ? this.address.socketPath : ''}: connect: permission denied`,
          err,
        );
      case 'EPROTO':
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
        return new ConnectionError(`error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": ${msg}`, err);
      case 'ECONNRESET':
        return new ConnectionError(`error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": EOF`, err);
      default: {
        const alert = /alert ([a-z ]+?):/.exec(msg);
        if (alert) {
          const text = `remote error: tls: ${alert[1]!.replace(/^tlsv1\d? /, '')}`;
          if (/bad certificate/.test(text)) {
            return new ConnectionError(
              `error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings: ${text}`,
              err,
            );
          }
          return new ConnectionError(`error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": ${text}`, err);
        }
        if (code === 'HPE_INVALID_CONSTANT' || code === 'HPE_INVALID_VERSION') {
          return new ConnectionError(
            `error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": malformed HTTP response.\n* Are you trying to connect to a TLS-enabled daemon without TLS?`,
            err,
          );
        }
        return new ConnectionError(`error during connect: ${methodName(method)} "${this.urlFor(fullPath)}": ${msg}`, err);
      }
    }
  }

  /** Throws a DaemonError for statuses ≥ 400, reading the daemon's message like the Go client. */
  private async checkStatus(res: IncomingMessage, fullPath: string): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 400) return;
    const statusMsg = `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
    const body = await readAll(res, 1024 * 1024 + 1);
    const url = this.urlFor(fullPath);
    if (body.length > 1024 * 1024) {
      throw new DaemonError(status, `request returned ${statusMsg} with a message (> 1048576 bytes) for API route and version ${url}, check if the server supports the requested API version`);
    }
    if (body.length === 0) {
      throw new DaemonError(status, `request returned ${statusMsg} for API route and version ${url}, check if the server supports the requested API version`);
    }
    const ctype = res.headers['content-type'];
    if (ctype === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new DaemonError(status, `Error reading JSON: ${(err as Error).message}`);
      }
      const message = parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string'
        ? (parsed as { message: string }).message
        : '';
      if (message === '') {
        throw new DaemonError(status, `API returned a ${status} (${http.STATUS_CODES[status] ?? ''}) but provided no error-message`);
      }
      throw new DaemonError(status, message.trim());
    }
    throw new DaemonError(status, body.toString('utf8').trim());
  }

  /** Sends a request and returns the response after checking its status (body unread). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, opts);
    await this.checkStatus(res, await this.apiPath(path, opts.query, opts.versioned ?? true));
    return res;
  }

  /** Sends a request and parses a JSON reply (undefined for an empty body). */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<JSONResponse<T>> {
    const res = await this.raw(method, path, opts);
    const body = await readAll(res);
    let data: unknown = undefined;
    const text = body.toString('utf8');
    if (text.trim() !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    return { status: res.statusCode ?? 0, headers: res.headers, data: data as T };
  }

  get<T = unknown>(path: string, opts: RequestOptions = {}): Promise<JSONResponse<T>> {
    return this.request<T>('GET', path, opts);
  }

  post<T = unknown>(path: string, opts: RequestOptions = {}): Promise<JSONResponse<T>> {
    return this.request<T>('POST', path, opts);
  }

  put<T = unknown>(path: string, opts: RequestOptions = {}): Promise<JSONResponse<T>> {
    return this.request<T>('PUT', path, opts);
  }

  del<T = unknown>(path: string, opts: RequestOptions = {}): Promise<JSONResponse<T>> {
    return this.request<T>('DELETE', path, opts);
  }

  async head(path: string, opts: RequestOptions = {}): Promise<JSONResponse<undefined>> {
    const res = await this.raw('HEAD', path, opts);
    res.resume();
    return { status: res.statusCode ?? 0, headers: res.headers, data: undefined };
  }

  /** Sends a request whose reply is a raw byte stream (e.g. `save`). */
  stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    return this.raw(method, path, opts);
  }

  /**
   * Sends a request whose reply is a JSON message stream; calls `onMessage`
   * for each message and throws StreamError on an in-band error.
   */
  async jsonMessages(method: string, path: string, opts: RequestOptions, onMessage: (m: JSONMessage) => void | Promise<void>): Promise<void> {
    const res = await this.raw(method, path, opts);
    for await (const msg of decodeJSONMessages(res)) await onMessage(msg);
  }

  // ---- typed calls ----------------------------------------------------------

  /** GET returning both the parsed JSON and the reply's exact bytes (inspect prints the latter). */
  async getRaw<T = unknown>(path: string, opts: RequestOptions = {}): Promise<{ data: T; raw: Buffer }> {
    const res = await this.raw('GET', path, opts);
    const raw = await readAll(res);
    return { data: JSON.parse(raw.toString('utf8')) as T, raw };
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<{ data: Record<string, unknown>; raw: Buffer }> {
    if (id === '') return Promise.reject(new DaemonError(404, 'No such container: '));
    return this.getRaw(`/containers/${escapePath(id)}/json`, { query: { size: opts.size } });
  }

  networkInspect(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<{ data: Record<string, unknown>; raw: Buffer }> {
    if (id === '') return Promise.reject(new DaemonError(404, 'network  not found'));
    const query: Query = {};
    if (opts.verbose) query['verbose'] = 'true';
    if (opts.scope) query['scope'] = opts.scope;
    return this.getRaw(`/networks/${escapePath(id)}`, { query });
  }

  async networkList(filters: Filters = {}): Promise<NetworkSummary[]> {
    return (await this.get<NetworkSummary[] | null>('/networks', { query: { filters: encodeFilters(filters) } })).data ?? [];
  }

  /**
   * `POST /networks/create`. `options` holds the CreateOptions fields in the
   * order the Go client marshals them; the name follows them, and daemons
   * older than API 1.44 are asked to refuse duplicate names, as the Go client does.
   */
  async networkCreate(name: string, options: Record<string, unknown>): Promise<NetworkCreateResponse> {
    const version = await this.apiVersion();
    const body: Record<string, unknown> = { ...options, Name: name };
    if (compareVersions(version, '1.44') < 0) body['CheckDuplicate'] = true;
    const r = await this.post<NetworkCreateResponse>('/networks/create', { data: goJSON(body, { escapeHTML: true }) + '\n', contentType: 'application/json' });
    return r.data ?? { Id: '' };
  }

  async networkRemove(id: string): Promise<void> {
    const nid = trimID('network', id);
    await this.del(`/networks/${escapePath(nid)}`);
  }

  /** `POST /networks/{id}/connect`; `endpoint` is an EndpointSettings object in Go's field order (or null). */
  async networkConnect(network: string, container: string, endpoint: Record<string, unknown> | null): Promise<void> {
    const nid = trimID('network', network);
    const cid = trimID('container', container);
    const body = { Container: cid, EndpointConfig: endpoint };
    await this.post(`/networks/${escapePath(nid)}/connect`, { data: goJSON(body, { escapeHTML: true }) + '\n', contentType: 'application/json' });
  }

  async networkDisconnect(network: string, container: string, force: boolean): Promise<void> {
    const nid = trimID('network', network);
    const cid = trimID('container', container);
    const body = { Container: cid, Force: force };
    await this.post(`/networks/${escapePath(nid)}/disconnect`, { data: goJSON(body, { escapeHTML: true }) + '\n', contentType: 'application/json' });
  }

  async networksPrune(filters: Filters = {}): Promise<NetworkPruneReport> {
    const r = await this.post<NetworkPruneReport>('/networks/prune', { query: { filters: encodeFilters(filters) } });
    return r.data ?? { NetworksDeleted: null };
  }

  volumeInspect(name: string): Promise<{ data: Record<string, unknown>; raw: Buffer }> {
    if (name === '') return Promise.reject(new DaemonError(404, 'get : no such volume'));
    return this.getRaw(`/volumes/${escapePath(name)}`);
  }

  pluginInspect(name: string): Promise<{ data: Record<string, unknown>; raw: Buffer }> {
    return this.getRaw(`/plugins/${escapePath(name)}/json`);
  }

  async version(): Promise<VersionResponse> {
    return (await this.get<VersionResponse>('/version')).data;
  }

  async info(): Promise<InfoResponse> {
    return (await this.get<InfoResponse>('/info')).data;
  }

  async systemDf(opts: { type?: string[] } = {}): Promise<DiskUsage> {
    return (await this.get<DiskUsage>('/system/df', { query: { type: opts.type } })).data;
  }

  async imageList(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean; manifests?: boolean } = {}): Promise<ImageSummary[]> {
    const query: Query = { all: opts.all, filters: encodeFilters(opts.filters) };
    if (opts.sharedSize) query['shared-size'] = true;
    if (opts.manifests) query['manifests'] = true;
    return (await this.get<ImageSummary[]>('/images/json', { query })).data ?? [];
  }

  /** Inspect; `raw` is the reply's bytes (the CLI prints them re-indented). */
  async imageInspect(name: string, opts: { platform?: string } = {}): Promise<{ data: ImageInspect; raw: Buffer }> {
    if (name === '') throw new DaemonError(404, 'No such image: ');
    const query: Query = {};
    if (opts.platform) query['platform'] = platformJSON(opts.platform);
    const res = await this.raw('GET', `/images/${escapePath(name)}/json`, { query });
    const raw = await readAll(res);
    return { data: JSON.parse(raw.toString('utf8')) as ImageInspect, raw };
  }

  async imageHistory(name: string, opts: { platform?: string } = {}): Promise<HistoryItem[]> {
    const query: Query = {};
    if (opts.platform) query['platform'] = platformJSON(opts.platform);
    return (await this.get<HistoryItem[]>(`/images/${escapePath(name)}/history`, { query })).data ?? [];
  }

  /** Tags `source` as `target` (normalized like docker: `repo=docker.io/library/x&tag=latest`). */
  async imageTag(source: string, target: string): Promise<void> {
    const wrap = (s: string, err: unknown): never => {
      const msg = err instanceof Error ? err.message : String(err);
      throw invalidArgument(`Error parsing reference: ${JSON.stringify(s)} is not a valid repository/tag: ${msg}`);
    };
    try {
      parseAnyReference(source);
    } catch (err) {
      wrap(source, err);
    }
    let ref: ReturnType<typeof parseNormalized>;
    try {
      ref = parseNormalized(target);
    } catch (err) {
      return wrap(target, err);
    }
    if (ref.digest !== undefined) throw invalidArgument('refusing to create a tag with a digest reference');
    const tagged = withDefaultTag(ref);
    await this.post(`/images/${escapePath(source)}/tag`, { query: { repo: fullName(tagged), tag: tagged.tag ?? 'latest' } });
  }

  async imageRemove(name: string, opts: { force?: boolean; noPrune?: boolean; platforms?: string[] } = {}): Promise<DeleteResponseItem[]> {
    const query: Query = { force: opts.force, noprune: opts.noPrune };
    if (opts.platforms && opts.platforms.length > 0) {
      query['platforms'] = opts.platforms.map((p) => platformJSON(p));
    }
    return (await this.del<DeleteResponseItem[]>(`/images/${escapePath(name)}`, { query })).data ?? [];
  }

  async imagePrune(filters: Filters = {}): Promise<ImagePruneReport> {
    const r = await this.post<ImagePruneReport>('/images/prune', { query: { filters: encodeFilters(filters) } });
    return r.data ?? { ImagesDeleted: [], SpaceReclaimed: 0 };
  }

  /** `GET /images/get?names=…`: the tar stream. */
  imageSave(names: string[], opts: { platform?: string } = {}): Promise<IncomingMessage> {
    const query: Query = { names };
    if (opts.platform) query['platform'] = platformJSON(opts.platform);
    return this.stream('GET', '/images/get', { query });
  }

  /**
   * `POST /images/load`: uploads a tar. Returns the response; `json` tells
   * whether it is a JSON message stream (else raw text).
   */
  async imageLoad(input: Readable | Buffer, opts: { quiet?: boolean; platform?: string } = {}): Promise<{ response: IncomingMessage; json: boolean }> {
    const query: Query = { quiet: opts.quiet ? '1' : '0' };
    if (opts.platform) query['platform'] = platformJSON(opts.platform);
    const response = await this.raw('POST', '/images/load', { query, data: input, contentType: 'application/x-tar' });
    return { response, json: response.headers['content-type'] === 'application/json' };
  }

  /**
   * `POST /images/create?fromSrc=…`: imports a rootfs tar (`source` is a
   * stream/buffer sent as the body, or a URL the daemon fetches).
   * Returns the response stream (JSON messages; the last `status` is the image id).
   */
  async imageImport(
    source: Readable | Buffer | string,
    opts: { reference?: string; message?: string; changes?: string[]; platform?: string } = {},
  ): Promise<IncomingMessage> {
    const ref = opts.reference ?? '';
    if (ref !== '') parseNormalized(ref);
    const query: Query = {
      fromSrc: typeof source === 'string' ? source : '-',
      repo: ref,
      tag: '',
      message: opts.message ?? '',
      changes: opts.changes ?? [],
    };
    // empty values are still sent (`repo=&tag=`), like the Go client does
    if (opts.platform) query['platform'] = opts.platform.toLowerCase();
    const ro: RequestOptions = { query };
    if (typeof source !== 'string') ro.data = source;
    return this.raw('POST', '/images/create', ro);
  }

  /** Imports and collects the messages; resolves with the new image id (the last status). */
  async imageImportAndWait(
    source: Readable | Buffer | string,
    opts: { reference?: string; message?: string; changes?: string[]; platform?: string } = {},
    onMessage?: (m: JSONMessage) => void,
  ): Promise<string> {
    const res = await this.imageImport(source, opts);
    let last = '';
    for await (const msg of decodeJSONMessages(res)) {
      onMessage?.(msg);
      if (typeof msg.status === 'string') last = msg.status;
    }
    return last.trim();
  }

  // ---- containers -----------------------------------------------------------

  /** The container list (`GET /containers/json`). */
  async containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    const query: Query = { all: opts.all, size: opts.size, filters: encodeFilters(opts.filters) };
    if (opts.limit !== undefined && opts.limit > 0) query['limit'] = String(opts.limit);
    return (await this.get<ContainerSummary[]>('/containers/json', { query })).data ?? [];
  }

  /** Inspect, parsed (`GET /containers/{id}/json`). */
  async containerGet(id: string): Promise<ContainerInspect> {
    const cid = trimID('container', id);
    return (await this.get<ContainerInspect>(`/containers/${escapePath(cid)}/json`)).data;
  }

  /**
   * `POST /containers/create`. Applies the Go client's adjustments: capability
   * names normalized (`CAP_` prefix, upper case, sorted, unique), the
   * deprecated `MacAddress` dropped from API 1.44, `KernelMemory` from 1.42;
   * and its refusals of options an older daemon would ignore (a per-network
   * MAC address or health-check start interval before 1.44, a platform
   * before 1.41, a stop timeout before 1.25).
   */
  async containerCreate(
    config: Record<string, unknown>,
    hostConfig: Record<string, unknown> | null,
    networkingConfig: Record<string, unknown> | null,
    opts: { name?: string; platform?: string } = {},
  ): Promise<ContainerCreateResponse> {
    const version = await this.apiVersion();
    const requires = (min: string, feature: string, used: boolean) => {
      if (used && compareVersions(version, min) < 0) {
        throw invalidArgument(`${JSON.stringify(feature)} requires API version ${min}, but the Docker daemon API version is ${version}`);
      }
    };
    const health = config['Healthcheck'] as { StartInterval?: number } | null | undefined;
    const endpoints = Object.values(((networkingConfig ?? {})['EndpointsConfig'] ?? {}) as Record<string, { MacAddress?: string } | null>);
    requires('1.25', 'stop timeout', config['StopTimeout'] !== undefined && config['StopTimeout'] !== null);
    requires('1.41', 'specify container image platform', opts.platform !== undefined && opts.platform !== '');
    requires('1.44', 'specify health-check start interval', !!health && (health.StartInterval ?? 0) !== 0);
    requires('1.44', 'specify mac-address per network', endpoints.some((e) => !!e && (e.MacAddress ?? '') !== ''));
    const cfg = { ...config };
    const hc = hostConfig ? { ...hostConfig } : null;
    if (hc) {
      if (compareVersions(version, '1.25') < 0) hc['AutoRemove'] = false;
      if (compareVersions(version, '1.42') >= 0 || compareVersions(version, '1.40') < 0) delete hc['KernelMemory'];
      if (opts.platform && opts.platform.startsWith('linux') && compareVersions(version, '1.42') < 0) hc['ConsoleSize'] = [0, 0];
      hc['CapAdd'] = normalizeCapabilities(hc['CapAdd'] as string[] | null);
      hc['CapDrop'] = normalizeCapabilities(hc['CapDrop'] as string[] | null);
    }
    if (compareVersions(version, '1.44') >= 0) delete cfg['MacAddress'];
    // container.CreateRequest: the Config fields, then HostConfig and NetworkingConfig
    const body: Record<string, unknown> = { ...cfg };
    if (hc) body['HostConfig'] = hc;
    if (networkingConfig) body['NetworkingConfig'] = networkingConfig;
    const query: Query = {};
    if (opts.platform) query['platform'] = opts.platform;
    if (opts.name) query['name'] = opts.name;
    const r = await this.post<ContainerCreateResponse>('/containers/create', {
      query,
      data: goJSON(body, { escapeHTML: true }) + '\n',
      contentType: 'application/json',
    });
    return r.data ?? { Id: '', Warnings: null };
  }

  /** `POST /containers/{id}/attach` over a hijacked connection. */
  containerAttach(
    id: string,
    opts: { stream?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean; detachKeys?: string; logs?: boolean },
  ): Promise<HijackedConnection> {
    const cid = trimID('container', id);
    const query: Query = { stream: opts.stream, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, logs: opts.logs };
    if (opts.detachKeys) query['detachKeys'] = opts.detachKeys;
    return this.hijack(`/containers/${escapePath(cid)}/attach`, { query, contentType: 'text/plain' });
  }

  /**
   * `POST /containers/{id}/wait`: resolves once the response headers are in
   * (the daemon sends them at once), with `result` settling when the body
   * arrives. A body that is not JSON becomes an error holding its text.
   * `cancel()` drops the request (docker abandons it when it exits).
   */
  async containerWait(id: string, condition = ''): Promise<ContainerWaiter> {
    const cid = trimID('container', id);
    const ac = new AbortController();
    const query: Query = {};
    if (condition !== '') query['condition'] = condition;
    const res = await this.raw('POST', `/containers/${escapePath(cid)}/wait`, { query, signal: ac.signal });
    const result = (async (): Promise<ContainerWaitResponse> => {
      let body: string;
      try {
        body = (await readAll(res)).toString('utf8');
      } catch (e) {
        if (ac.signal.aborted) throw new WaitCancelledError();
        throw e;
      }
      try {
        const parsed = JSON.parse(body) as ContainerWaitResponse;
        return parsed;
      } catch {
        throw new BerthError('Internal', body === '' ? 'EOF' : body);
      }
    })();
    // the caller may never look at it
    result.catch(() => undefined);
    return { result, cancel: () => ac.abort() };
  }

  async containerStart(id: string, opts: { checkpoint?: string; checkpointDir?: string } = {}): Promise<void> {
    const cid = trimID('container', id);
    const query: Query = {};
    if (opts.checkpoint) query['checkpoint'] = opts.checkpoint;
    if (opts.checkpointDir) query['checkpoint-dir'] = opts.checkpointDir;
    await this.post(`/containers/${escapePath(cid)}/start`, { query });
  }

  /** `stop` / `restart`: `t` only when a timeout is given, `signal` only from API 1.42. */
  private async stopLike(action: 'stop' | 'restart', id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const cid = trimID('container', id);
    const query: Query = {};
    if (opts.timeout !== undefined) query['t'] = String(opts.timeout);
    if (opts.signal) {
      if (compareVersions(await this.apiVersion(), '1.42') >= 0) query['signal'] = opts.signal;
    }
    await this.post(`/containers/${escapePath(cid)}/${action}`, { query });
  }

  containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.stopLike('stop', id, opts);
  }

  containerRestart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.stopLike('restart', id, opts);
  }

  async containerKill(id: string, signal = ''): Promise<void> {
    const cid = trimID('container', id);
    const query: Query = {};
    if (signal !== '') query['signal'] = signal;
    await this.post(`/containers/${escapePath(cid)}/kill`, { query });
  }

  async containerRemove(id: string, opts: { volumes?: boolean; link?: boolean; force?: boolean } = {}): Promise<void> {
    const cid = trimID('container', id);
    await this.del(`/containers/${escapePath(cid)}`, { query: { v: opts.volumes, link: opts.link, force: opts.force } });
  }

  async containerPause(id: string): Promise<void> {
    await this.post(`/containers/${escapePath(trimID('container', id))}/pause`);
  }

  async containerUnpause(id: string): Promise<void> {
    await this.post(`/containers/${escapePath(trimID('container', id))}/unpause`);
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.post(`/containers/${escapePath(trimID('container', id))}/rename`, { query: { name } });
  }

  async containerResize(id: string, height: number, width: number): Promise<void> {
    await this.post(`/containers/${escapePath(trimID('container', id))}/resize`, { query: { h: String(height), w: String(width) } });
  }

  async containerTop(id: string, args: string[] = []): Promise<ContainerTopResponse> {
    const query: Query = {};
    if (args.length > 0) query['ps_args'] = args.join(' ');
    return (await this.get<ContainerTopResponse>(`/containers/${escapePath(trimID('container', id))}/top`, { query })).data;
  }

  async containerDiff(id: string): Promise<FilesystemChange[]> {
    return (await this.get<FilesystemChange[] | null>(`/containers/${escapePath(trimID('container', id))}/changes`)).data ?? [];
  }

  /** `GET /containers/{id}/export`: the tar stream. */
  containerExport(id: string): Promise<IncomingMessage> {
    let cid: string;
    try {
      cid = trimID('container', id);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.stream('GET', `/containers/${escapePath(cid)}/export`);
  }

  /**
   * `GET /containers/{id}/logs`. `since`/`until` must already be in the
   * API's form (see the CLI's timestamp parsing); `tail` is always sent.
   */
  containerLogs(
    id: string,
    opts: { stdout?: boolean; stderr?: boolean; since?: string; until?: string; timestamps?: boolean; details?: boolean; follow?: boolean; tail?: string },
  ): Promise<IncomingMessage> {
    let cid: string;
    try {
      cid = trimID('container', id);
    } catch (e) {
      return Promise.reject(e);
    }
    const query: Query = { stdout: opts.stdout, stderr: opts.stderr };
    if (opts.since) query['since'] = opts.since;
    if (opts.until) query['until'] = opts.until;
    query['timestamps'] = opts.timestamps;
    query['details'] = opts.details;
    query['follow'] = opts.follow;
    query['tail'] = opts.tail ?? '';
    return this.stream('GET', `/containers/${escapePath(cid)}/logs`, { query });
  }

  /** `GET /containers/{id}/stats`; `osType` comes from the `Server` header like the Go client. */
  async containerStats(id: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): Promise<{ body: IncomingMessage; osType: string }> {
    const cid = trimID('container', id);
    const query: Query = { stream: opts.stream ? '1' : '0' };
    if (opts.oneShot) query['one-shot'] = '1';
    const ro: RequestOptions = { query };
    if (opts.signal) ro.signal = opts.signal;
    const body = await this.stream('GET', `/containers/${escapePath(cid)}/stats`, ro);
    const server = body.headers['server'];
    const m = /\(([^)]+)\)/.exec(typeof server === 'string' ? server : '');
    return { body, osType: m ? m[1]! : '' };
  }

  /** `POST /commit`: the reference is normalized into `repo` and `tag` as the Go client does. */
  async containerCommit(
    id: string,
    opts: { reference?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean },
  ): Promise<{ Id: string }> {
    const cid = trimID('container', id);
    let repo = '';
    let tag = '';
    if (opts.reference) {
      const ref = parseNormalized(opts.reference);
      if (ref.digest !== undefined) throw invalidArgument('refusing to create a tag with a digest reference');
      const tagged = withDefaultTag(ref);
      tag = tagged.tag ?? '';
      repo = fullName(tagged);
    }
    const query: Query = {
      author: opts.author ?? '',
      changes: opts.changes ?? [],
      comment: opts.comment ?? '',
      container: cid,
      repo,
      tag,
    };
    if (opts.pause === false) query['pause'] = '0';
    return (await this.post<{ Id: string }>('/commit', { query })).data;
  }

  async containerUpdate(id: string, update: Record<string, unknown>): Promise<ContainerUpdateResponse> {
    const cid = trimID('container', id);
    const r = await this.post<ContainerUpdateResponse>(`/containers/${escapePath(cid)}/update`, {
      data: goJSON(update, { escapeHTML: true }) + '\n',
      contentType: 'application/json',
    });
    return r.data ?? { Warnings: null };
  }

  async containersPrune(filters: Filters = {}): Promise<ContainerPruneReport> {
    const r = await this.post<ContainerPruneReport>('/containers/prune', { query: { filters: encodeFilters(filters) } });
    return r.data ?? { ContainersDeleted: null, SpaceReclaimed: 0 };
  }

  async volumeCreate(opts: { name?: string; driver?: string; driverOpts?: Record<string, string>; labels?: Record<string, string> }): Promise<VolumeSummary> {
    const body = { Driver: opts.driver ?? '', DriverOpts: opts.driverOpts ?? {}, Labels: opts.labels ?? {}, Name: opts.name ?? '' };
    const r = await this.post<VolumeSummary>('/volumes/create', { data: goJSON(body, { escapeHTML: true }) + '\n', contentType: 'application/json' });
    return r.data;
  }

  async volumeList(filters: Filters = {}): Promise<{ Volumes: VolumeSummary[] | null; Warnings: string[] | null }> {
    const r = await this.get<{ Volumes: VolumeSummary[] | null; Warnings: string[] | null }>('/volumes', { query: { filters: encodeFilters(filters) } });
    return r.data ?? { Volumes: null, Warnings: null };
  }

  async volumeRemove(name: string, force = false): Promise<void> {
    await this.del(`/volumes/${escapePath(name)}`, { query: { force } });
  }

  async volumesPrune(filters: Filters = {}): Promise<VolumePruneReport> {
    const r = await this.post<VolumePruneReport>('/volumes/prune', { query: { filters: encodeFilters(filters) } });
    return r.data ?? { VolumesDeleted: null, SpaceReclaimed: 0 };
  }

  /** `HEAD /containers/{id}/archive`: the stat of a path in the container. */
  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const cid = trimID('container', id);
    const r = await this.head(`/containers/${escapePath(cid)}/archive`, { query: { path } });
    return decodePathStat(r.headers);
  }

  /** `GET /containers/{id}/archive`: a tar of the path and its stat. */
  async copyFromContainer(id: string, path: string): Promise<{ body: IncomingMessage; stat: ContainerPathStat }> {
    const cid = trimID('container', id);
    const body = await this.stream('GET', `/containers/${escapePath(cid)}/archive`, { query: { path } });
    let stat: ContainerPathStat;
    try {
      stat = decodePathStat(body.headers);
    } catch (e) {
      body.resume();
      throw new BerthError('Internal', `unable to get resource stat from response: ${(e as Error).message}`);
    }
    return { body, stat };
  }

  /** `PUT /containers/{id}/archive`: extracts a tar into the directory `path`. */
  async copyToContainer(
    id: string,
    path: string,
    content: Readable | Buffer,
    opts: { allowOverwriteDirWithFile?: boolean; copyUIDGID?: boolean } = {},
  ): Promise<void> {
    const cid = trimID('container', id);
    const query: Query = { path };
    if (!opts.allowOverwriteDirWithFile) query['noOverwriteDirNonDir'] = 'true';
    if (opts.copyUIDGID) query['copyUIDGID'] = 'true';
    const res = await this.raw('PUT', `/containers/${escapePath(cid)}/archive`, { query, data: content });
    res.resume();
  }

  /**
   * `POST /build`: sends a build context (a tar, possibly compressed; none
   * for a remote context) and resolves with the JSON message stream. The
   * query is built as the Go client's imageBuildOptionsToQuery does.
   */
  async imageBuild(context: Readable | Buffer | undefined, o: ImageBuildOptions = {}): Promise<IncomingMessage> {
    const query: Query = {};
    if (o.tags && o.tags.length > 0) query['t'] = o.tags;
    if (o.securityOpt && o.securityOpt.length > 0) query['securityopt'] = o.securityOpt;
    if (o.extraHosts && o.extraHosts.length > 0) query['extrahosts'] = o.extraHosts;
    if (o.suppressOutput) query['q'] = '1';
    if (o.remoteContext) query['remote'] = o.remoteContext;
    if (o.noCache) query['nocache'] = '1';
    // the daemon removes intermediate containers by default; only opting out is sent
    if (o.remove === false) query['rm'] = '0';
    if (o.forceRemove) query['forcerm'] = '1';
    if (o.pullParent) query['pull'] = '1';
    if (o.squash) {
      await this.requireVersion('1.25', 'squash');
      query['squash'] = '1';
    }
    if (o.isolation && o.isolation !== 'default') query['isolation'] = o.isolation;
    if (o.cpuSetCpus) query['cpusetcpus'] = o.cpuSetCpus;
    if (o.networkMode && o.networkMode !== 'default') query['networkmode'] = o.networkMode;
    if (o.cpuSetMems) query['cpusetmems'] = o.cpuSetMems;
    if (o.cpuShares) query['cpushares'] = String(o.cpuShares);
    if (o.cpuQuota) query['cpuquota'] = String(o.cpuQuota);
    if (o.cpuPeriod) query['cpuperiod'] = String(o.cpuPeriod);
    if (o.memory) query['memory'] = String(o.memory);
    if (o.memorySwap) query['memswap'] = String(o.memorySwap);
    if (o.cgroupParent) query['cgroupparent'] = o.cgroupParent;
    if (o.shmSize) query['shmsize'] = String(o.shmSize);
    if (o.dockerfile) query['dockerfile'] = o.dockerfile;
    if (o.target) query['target'] = o.target;
    if (o.ulimits && o.ulimits.length > 0) query['ulimits'] = goJSON(o.ulimits, { escapeHTML: true });
    if (o.buildArgs && Object.keys(o.buildArgs).length > 0) query['buildargs'] = goJSON(sortedObject(o.buildArgs), { escapeHTML: true });
    if (o.labels && Object.keys(o.labels).length > 0) query['labels'] = goJSON(sortedObject(o.labels), { escapeHTML: true });
    if (o.cacheFrom && o.cacheFrom.length > 0) query['cachefrom'] = goJSON(o.cacheFrom, { escapeHTML: true });
    if (o.platform) {
      await this.requireVersion('1.32', 'platform');
      query['platform'] = o.platform.toLowerCase();
    }
    query['version'] = o.version ?? '1';
    // base64 with the URL alphabet and padding (Go's base64.URLEncoding)
    const registryConfig = Buffer.from(goJSON(sortedObject(o.authConfigs ?? {}), { escapeHTML: true }))
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    const ro: RequestOptions = { query, contentType: 'application/x-tar', headers: { 'X-Registry-Config': registryConfig } };
    if (context !== undefined) ro.data = context;
    return this.raw('POST', '/build', ro);
  }

  /** The Go client's NewVersionError: a feature the negotiated API version lacks. */
  private async requireVersion(min: string, feature: string): Promise<void> {
    const v = await this.apiVersion();
    if (compareVersions(v, min) < 0) {
      throw invalidArgument(`${JSON.stringify(feature)} requires API version ${min}, but the Docker daemon API version is ${v}`);
    }
  }

  /**
   * `POST /images/create?fromImage=…&tag=…` (pull) for a reference as given
   * by the user; resolves with the JSON message stream. The tag is the
   * reference's digest, tag, or `latest`.
   */
  imagePull(reference: string, opts: { platform?: string; registryAuth?: string; all?: boolean } = {}): Promise<IncomingMessage> {
    let ref: ReturnType<typeof parseNormalized>;
    try {
      ref = parseNormalized(reference);
    } catch (e) {
      return Promise.reject(e);
    }
    const query: Query = { fromImage: fullName(ref) };
    if (!opts.all) query['tag'] = ref.digest ?? ref.tag ?? 'latest';
    if (opts.platform) query['platform'] = opts.platform.toLowerCase();
    return this.stream('POST', '/images/create', { query, headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' } });
  }

  /**
   * `POST /images/{name}/push?tag=…`: the reference's tag (`latest` when it
   * has none), or every tag with `all`; resolves with the JSON message stream.
   */
  imagePush(reference: string, opts: { all?: boolean; registryAuth?: string } = {}): Promise<IncomingMessage> {
    let ref: ReturnType<typeof parseNormalized>;
    try {
      ref = parseNormalized(reference);
    } catch (e) {
      return Promise.reject(e);
    }
    if (ref.digest !== undefined) return Promise.reject(invalidArgument('cannot push a digest reference'));
    const query: Query = {};
    if (!opts.all) query['tag'] = ref.tag ?? 'latest';
    return this.stream('POST', `/images/${escapePath(familiarName(ref))}/push`, {
      query,
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
    });
  }

  /** `POST /auth`: checks credentials against a registry (the daemon keeps nothing). */
  async registryLogin(auth: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): Promise<{ Status: string; IdentityToken?: string }> {
    const r = await this.post<{ Status: string; IdentityToken?: string }>('/auth', { body: auth });
    return r.data ?? { Status: '' };
  }

  // ---- exec -----------------------------------------------------------------

  /** `POST /containers/{id}/exec`; `ConsoleSize` is dropped before API 1.42. */
  async execCreate(id: string, config: ExecCreateConfig): Promise<{ Id: string }> {
    const cid = trimID('container', id);
    const body: Record<string, unknown> = { ...config };
    if (body['ConsoleSize'] === null || compareVersions(await this.apiVersion(), '1.42') < 0) delete body['ConsoleSize'];
    const r = await this.post<{ Id: string }>(`/containers/${escapePath(cid)}/exec`, {
      data: goJSON(body, { escapeHTML: true }) + '\n',
      contentType: 'application/json',
    });
    return r.data ?? { Id: '' };
  }

  /** `POST /exec/{id}/start` without attaching (detached exec). */
  async execStart(execId: string, opts: { Detach: boolean; Tty: boolean; ConsoleSize: [number, number] | null }): Promise<void> {
    const body: Record<string, unknown> = { ...opts };
    if (body['ConsoleSize'] === null || compareVersions(await this.apiVersion(), '1.42') < 0) delete body['ConsoleSize'];
    const res = await this.raw('POST', `/exec/${escapePath(execId)}/start`, {
      data: goJSON(body, { escapeHTML: true }) + '\n',
      contentType: 'application/json',
    });
    res.resume();
  }

  /** `POST /exec/{id}/start` over a hijacked connection. */
  async execAttach(execId: string, opts: { Tty: boolean; ConsoleSize: [number, number] | null }): Promise<HijackedConnection> {
    const body: Record<string, unknown> = { Detach: false, ...opts };
    if (body['ConsoleSize'] === null || compareVersions(await this.apiVersion(), '1.42') < 0) delete body['ConsoleSize'];
    return this.hijack(`/exec/${escapePath(execId)}/start`, { body, contentType: 'application/json' });
  }

  async execResize(execId: string, height: number, width: number): Promise<void> {
    await this.post(`/exec/${escapePath(trimID('exec', execId))}/resize`, { query: { h: String(height), w: String(width) } });
  }

  async execInspect(execId: string): Promise<ExecInspect> {
    return (await this.get<ExecInspect>(`/exec/${escapePath(execId)}/json`)).data;
  }

  // ---- events ---------------------------------------------------------------

  /**
   * `GET /events`: resolves when the headers arrive; read the body with
   * decodeEvents. `since`/`until` must already be in the API's form.
   */
  events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    const query: Query = { filters: encodeFilters(opts.filters) };
    if (opts.since) query['since'] = opts.since;
    if (opts.until) query['until'] = opts.until;
    const ro: RequestOptions = { query };
    if (opts.signal) ro.signal = opts.signal;
    return this.stream('GET', '/events', ro);
  }
}

/** A connection taken over after a 101 answer: raw bytes both ways. */
export class HijackedConnection {
  /** The socket; reading yields the stream, writing sends stdin. */
  readonly socket: Socket;
  /** The reply's Content-Type (`application/vnd.docker.multiplexed-stream` or `…raw-stream`). */
  readonly mediaType: string;

  constructor(socket: Socket, mediaType: string) {
    this.socket = socket;
    this.mediaType = mediaType;
  }

  /** Half-closes: sends FIN and keeps reading (the Go client's CloseWrite). */
  closeWrite(): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The wait was dropped by the caller (`ContainerWaiter.cancel`). */
export class WaitCancelledError extends Error {
  constructor() {
    super('wait cancelled');
  }
}

export interface ContainerWaiter {
  /** Settles with the daemon's answer once the condition is met. */
  result: Promise<ContainerWaitResponse>;
  /** Drops the request. */
  cancel(): void;
}

/** The Go client's trimID: an empty name or ID fails before any request. */
export function trimID(kind: string, id: string): string {
  const t = id.trim();
  if (t === '') throw invalidArgument(`invalid ${kind} name or ID: value is empty`);
  return t;
}

/** Upper-cases, adds `CAP_` (except `ALL`), removes duplicates and sorts, like the Go client. */
export function normalizeCapabilities(caps: readonly string[] | null | undefined): string[] | null {
  if (!caps || caps.length === 0) return null;
  const seen = new Set<string>();
  for (let c of caps) {
    c = c.toUpperCase();
    if (c !== 'ALL' && !c.startsWith('CAP_')) c = 'CAP_' + c;
    seen.add(c);
  }
  return [...seen].sort();
}

/** Decodes `X-Docker-Container-Path-Stat` (std base64 of JSON). */
export function decodePathStat(headers: IncomingHttpHeaders): ContainerPathStat {
  const raw = headers['x-docker-container-path-stat'];
  const text = Buffer.from(typeof raw === 'string' ? raw : '', 'base64').toString('utf8');
  if (text === '') throw new Error('unable to decode container path stat header: EOF');
  let v: Partial<ContainerPathStat>;
  try {
    v = JSON.parse(text) as Partial<ContainerPathStat>;
  } catch (e) {
    throw new Error(`unable to decode container path stat header: ${(e as Error).message}`);
  }
  return { name: v.name ?? '', size: v.size ?? 0, mode: v.mode ?? 0, mtime: v.mtime ?? '', linkTarget: v.linkTarget ?? '' };
}

/** The options of `POST /build` (the Go client's ImageBuildOptions). */
export interface ImageBuildOptions {
  tags?: string[];
  suppressOutput?: boolean;
  remoteContext?: string;
  noCache?: boolean;
  /** Remove intermediate containers after a successful step (the daemon's default: true). */
  remove?: boolean;
  forceRemove?: boolean;
  pullParent?: boolean;
  squash?: boolean;
  isolation?: string;
  cpuSetCpus?: string;
  cpuSetMems?: string;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memory?: number;
  memorySwap?: number;
  cgroupParent?: string;
  networkMode?: string;
  shmSize?: number;
  /** The Dockerfile's path inside the context. */
  dockerfile?: string;
  target?: string;
  ulimits?: Array<{ Name: string; Hard: number; Soft: number }>;
  /** `null` values ask for the ARG's default. */
  buildArgs?: Record<string, string | null>;
  labels?: Record<string, string>;
  cacheFrom?: string[];
  securityOpt?: string[];
  extraHosts?: string[];
  platform?: string;
  /** Registry credentials by server, sent base64-encoded in `X-Registry-Config`. */
  authConfigs?: Record<string, Record<string, string>>;
  /** `1` for the classic builder. */
  version?: string;
}

/** A copy with keys sorted, as Go marshals maps. */
function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** `linux/amd64` → the JSON object form the API takes for `platform` parameters. */
export function platformJSON(spec: string): string {
  const p = parsePlatform(spec);
  const out: Record<string, unknown> = { architecture: p.architecture, os: p.os };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']) out['os.features'] = p['os.features'];
  if (p.variant) out['variant'] = p.variant;
  return JSON.stringify(out);
}

/** Accepts an image id (64 hex), a digest, or a name, as `reference.ParseAnyReference` does. */
export function parseAnyReference(s: string): void {
  if (/^[a-f0-9]{64}$/.test(s)) return;
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/.test(s)) return;
  parseNormalized(s);
}

function methodName(method: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
}

/** Reads a stream fully (stops collecting after `limit` bytes but drains the rest). */
export async function readAll(src: AsyncIterable<Buffer | string>, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    if (n < limit) {
      chunks.push(b);
      n += b.length;
    }
  }
  return Buffer.concat(chunks);
}
