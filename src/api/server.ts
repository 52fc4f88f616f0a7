/**
 * The HTTP edge: listens on UNIX sockets and TCP (optionally TLS), strips the
 * version prefix, dispatches to routes, stamps Docker's headers on every
 * response and maps errors to `{"message"}` bodies.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { UpgradeRequest } from './hijack.js';
import type { Engine } from '../engine/engine.js';
import { notFound, BerthError } from '../lib/errors.js';
import { Ctx } from './context.js';
import { sendError } from './errors.js';
import { Router } from './router.js';
import { imageRoutes } from './routes/images.js';
import { containerRoutes } from './routes/containers.js';
import { networkRoutes } from './routes/networks.js';
import { buildRoutes } from './routes/build.js';
import { execRoutes } from './routes/exec.js';
import { fileRoutes } from './routes/files.js';
import { statsRoutes } from './routes/stats.js';
import { eventRoutes } from './routes/events.js';
import { systemRoutes } from './routes/system.js';
import { volumeRoutes } from './routes/volumes.js';
import { API_VERSION, splitVersion } from './version.js';

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  /** When set, clients must present a certificate signed by this CA. */
  ca?: Buffer;
}

export interface ApiLogger {
  debug(msg: string): void;
  error(msg: string): void;
}

export function buildRouter(engine: Engine): Router {
  const r = new Router();
  systemRoutes(r, engine);
  imageRoutes(r, engine);
  containerRoutes(r, engine);
  networkRoutes(r, engine);
  buildRoutes(r, engine);
  volumeRoutes(r, engine);
  execRoutes(r, engine);
  fileRoutes(r, engine);
  statsRoutes(r, engine);
  eventRoutes(r, engine);
  return r;
}

export function createHandler(engine: Engine, log: ApiLogger) {
  const router = buildRouter(engine);
  const serverHeader = `Berth/${engine.identity.version} (linux)`;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Server', serverHeader);
    const url = new URL(req.url ?? '/', 'http://berth');
    try {
      const { version, path } = splitVersion(url.pathname);
      const found = router.match(req.method ?? 'GET', path);
      log.debug(`${req.method} ${url.pathname}${url.search}`);
      if (found === 'not-found') throw notFound('page not found');
      if (found === 'bad-method') throw new BerthError('NotFound', 'page not found');
      const ctx = new Ctx(req, res, version, found.params, url.searchParams);
      await found.handler(ctx);
    } catch (err) {
      if (!(err instanceof BerthError)) log.error(`${req.method} ${url.pathname}: ${(err as Error)?.stack ?? String(err)}`);
      sendError(res, err);
    }
  };
}

export function createServer(engine: Engine, log: ApiLogger, tls?: TlsOptions): http.Server {
  const handler = createHandler(engine, log);
  const options = { maxHeaderSize: 1 << 20, keepAliveTimeout: 30_000, requestTimeout: 0 };
  const server = tls
    ? https.createServer({ ...options, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(options, handler);
  server.headersTimeout = 60_000;
  // Attach and exec-start ask to upgrade the connection; the route decides whether to take it over.
  server.on('upgrade', async (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const upgraded = req as UpgradeRequest;
    socket.on('error', () => undefined);
    // The request's own body (exec start's JSON) comes before the raw stream.
    const length = Number(req.headers['content-length'] ?? 0);
    const { body, rest } = await readExactly(socket, head, length);
    upgraded.berthBody = body;
    upgraded.berthHead = rest;
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => {
      if (!upgraded.berthHijacked) socket.end();
    });
    void handler(req, res);
  });
  return server;
}

/** The first `length` bytes of an upgraded connection (from what was already read, then the socket), and what follows. */
function readExactly(socket: Socket, head: Buffer, length: number): Promise<{ body: Buffer; rest: Buffer }> {
  if (head.length >= length) return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  return new Promise((resolve) => {
    let buf = head;
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= length) {
        socket.off('data', onData);
        socket.pause();
        resolve({ body: buf.subarray(0, length), rest: buf.subarray(length) });
      }
    };
    socket.on('data', onData);
  });
}
