/** berthd: the daemon entry point. */
import { promises as fs, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createServer, type TlsOptions } from '../api/server.js';
import { trimWhenIdle } from './idle.js';
import { BerthError } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/log.js';
import { parseDaemonArgs, USAGE, type DaemonConfig } from './config.js';
import { lockDataRoot } from './lock.js';
import { BERTH_VERSION, wire } from './wire.js';

async function groupId(name: string): Promise<number | undefined> {
  const text = await fs.readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid) return Number(gid);
  }
  return undefined;
}

function tlsOptions(cfg: DaemonConfig): TlsOptions | undefined {
  if (!cfg.tls) return undefined;
  if (!cfg.tlsCert || !cfg.tlsKey) throw new BerthError('InvalidArgument', 'TLS requires --tlscert and --tlskey');
  const opts: TlsOptions = { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) };
  if (cfg.tlsVerify) {
    if (!cfg.tlsCaCert) throw new BerthError('InvalidArgument', '--tlsverify requires --tlscacert');
    opts.ca = readFileSync(cfg.tlsCaCert);
  }
  return opts;
}

async function listen(server: Server, host: string, cfg: DaemonConfig, log: Logger): Promise<() => Promise<void>> {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    await fs.mkdir(dirname(path), { recursive: true, mode: 0o755 });
    // The data-root lock is held, so a socket file left here belongs to a dead daemon.
    await fs.rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await fs.chmod(path, 0o660);
    const gid = await groupId(cfg.group);
    if (gid !== undefined) await fs.chown(path, 0, gid).catch(() => undefined);
    log.info('API listen on', { address: path });
    return async () => {
      await fs.rm(path, { force: true });
    };
  }
  const url = new URL(host);
  if (!cfg.tls) log.warn('binding to a TCP address without TLS: anyone who reaches it has root on this host', { address: host });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(url.port || (cfg.tls ? 2376 : 2375)), url.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log.info('API listen on', { address: `${url.hostname}:${url.port}` });
  return async () => {};
}

export async function main(argv: string[]): Promise<void> {
  const parsed = parseDaemonArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed === 'version') {
    process.stdout.write(`Berth version ${BERTH_VERSION}\n`);
    return;
  }
  const cfg = parsed;
  const log = createLogger(cfg.logLevel);
  if (process.getuid?.() !== 0) log.warn('berthd is not running as root: containers and overlay mounts will fail');
  await fs.mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await fs.mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  const lock = lockDataRoot(cfg.dataRoot);
  log.info('starting berthd', { version: BERTH_VERSION, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot });
  const wired = await wire(cfg, log);
  const tls = tlsOptions(cfg);
  const servers: Server[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const sockets = new Set<Socket>();
  for (const host of cfg.hosts) {
    const server = createServer(wired.engine, { debug: (m) => log.debug(m), error: (m) => log.error(m) }, host.startsWith('tcp://') ? tls : undefined);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    cleanups.push(await listen(server, host, cfg, log));
    servers.push(server);
  }
  if (cfg.pidfile) {
    await fs.mkdir(dirname(cfg.pidfile), { recursive: true });
    await fs.writeFile(cfg.pidfile, `${process.pid}`);
  }
  wired.engine.events.publish('daemon', 'start', wired.engine.identity.id);
  const stopTrimming = trimWhenIdle(servers);
  log.info('daemon has completed initialization');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('processing signal', { signal });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    stopTrimming();
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
    for (const c of cleanups) await c();
    if (cfg.pidfile) await fs.rm(cfg.pidfile, { force: true });
    wired.close();
    lock.release();
    log.info('daemon shut down cleanly');
    process.exit(0);
  };
  // A fault in one request must not take the API down; containers would run on, but unmanaged.
  process.on('uncaughtException', (err) => log.error('unexpected error', { error: err.stack ?? String(err) }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: (err as Error)?.stack ?? String(err) }));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`berthd: ${msg}\n`);
  if (!(err instanceof BerthError)) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  process.exit(1);
});
