/**
 * `berth registry serve|gc`: the registry's own entry point, reached from
 * bin/berth when `registry` is the first argument (the CLI folder may not
 * import the registry).
 */
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { createLogger, type Level } from '../lib/log.js';
import { BasicAuth, Htpasswd, TokenAuth, TokenIssuer, type Authorizer } from './auth.js';
import { collect } from './gc.js';
import { generateKey, keyFromPem, type TokenKey } from './jwt.js';
import { listen, type ListenOptions } from './server.js';
import { RegistryStore } from './store.js';

interface FlagSpec {
  name: string;
  bool?: boolean;
  usage: string;
  default?: string;
}

const SERVE_FLAGS: FlagSpec[] = [
  { name: 'addr', usage: 'Address to listen on (HOST:PORT; port 0 picks a free one)', default: '127.0.0.1:5000' },
  { name: 'root', usage: 'Storage directory', default: '/var/lib/berth/registry' },
  { name: 'htpasswd', usage: 'htpasswd file of bcrypt hashes: require HTTP basic auth (or sign tokens, with --token-realm)' },
  { name: 'tls-cert', usage: 'TLS certificate (PEM); serve HTTPS' },
  { name: 'tls-key', usage: 'TLS private key (PEM)' },
  { name: 'tls-client-ca', usage: 'Require a client certificate signed by this CA (PEM) on every connection (needs --tls-cert)' },
  { name: 'token-realm', usage: 'Token auth: URL of the token service, or a path served by this registry (needs --htpasswd)' },
  { name: 'token-issuer', usage: 'Token auth: the issuer tokens must name', default: 'berth-registry' },
  { name: 'token-service', usage: 'Token auth: the service (audience) tokens must name (default: --addr)' },
  { name: 'token-key', usage: 'Token auth: PEM private key (EC P-256 or RSA) to sign and check tokens (default: a new key per start)' },
  { name: 'token-public-key', usage: 'Token auth: PEM public key or certificate of an external token service' },
  { name: 'read-only', bool: true, usage: 'Refuse every write' },
  { name: 'log-level', usage: 'Logging level (debug logs each request)', default: 'info' },
];

const GC_FLAGS: FlagSpec[] = [
  { name: 'root', usage: 'Storage directory', default: '/var/lib/berth/registry' },
  { name: 'dry-run', bool: true, usage: 'Print what would be removed, remove nothing' },
  { name: 'keep-untagged', bool: true, usage: 'Keep manifests no tag reaches' },
  { name: 'force', bool: true, usage: 'Run even though a writable server seems to be serving the root' },
];

class UsageError extends Error {}

function usage(cmd: string, specs: FlagSpec[], what: string): string {
  const lines = specs.map((f) => {
    const left = `  --${f.name}${f.bool ? '' : ' string'}`;
    return `${left.padEnd(28)}${f.usage}${f.default !== undefined ? ` (default ${JSON.stringify(f.default)})` : ''}`;
  });
  return `Usage:  berth registry ${cmd} [OPTIONS]\n\n${what}\n\nOptions:\n${lines.join('\n')}\n`;
}

const TOP_USAGE = `Usage:  berth registry COMMAND

Berth's own registry server (OCI distribution spec 1.1, docker registry v2)

Commands:
  serve       Serve a registry from a storage directory
  gc          Remove blobs and manifests no tag reaches

Run 'berth registry COMMAND --help' for more information on a command.
See docs/registry.md of the Berth sources for auth, TLS and garbage collection.
`;

function parseFlags(specs: FlagSpec[], argv: string[]): { flags: Record<string, string | boolean | undefined>; help: boolean } {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const s of specs) flags[s.name] = s.bool ? false : s.default;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown flag: --${name}`);
    if (spec.bool) {
      const v = eq < 0 ? 'true' : a.slice(eq + 1);
      if (v !== 'true' && v !== 'false') throw new UsageError(`invalid value ${JSON.stringify(v)} for --${name}`);
      flags[name] = v === 'true';
    } else if (eq >= 0) {
      flags[name] = a.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
      flags[name] = argv[++i]!;
    }
  }
  return { flags, help };
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

interface PidFile {
  pid: number;
  readOnly: boolean;
}

const pidPath = (root: string) => join(root, 'registry.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function serve(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { flags, help } = parseFlags(SERVE_FLAGS, argv);
  if (help) {
    out.write(usage('serve', SERVE_FLAGS, 'Serve a registry from a storage directory'));
    return 0;
  }
  const level = String(flags['log-level']).toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`invalid --log-level ${JSON.stringify(level)}`);
  const log = createLogger(level as Level, err);
  const root = str(flags['root'])!;
  const addr = str(flags['addr'])!;
  const store = new RegistryStore(root);
  await store.init();
  // what an earlier process left half-written is not visible; drop it
  await store.content.cleanIngests();

  const htpasswd = str(flags['htpasswd']) ? await Htpasswd.load(str(flags['htpasswd'])!) : undefined;
  if (htpasswd && htpasswd.size === 0) log.warn('htpasswd file has no bcrypt entries: nobody can log in');
  const certPath = str(flags['tls-cert']);
  const keyPath = str(flags['tls-key']);
  const clientCaPath = str(flags['tls-client-ca']);
  if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (clientCaPath && !certPath) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');

  const opts: ListenOptions = { addr, store, log, readOnly: flags['read-only'] === true };
  if (certPath && keyPath) {
    opts.tls = { cert: readFileSync(certPath), key: readFileSync(keyPath), ...(clientCaPath ? { clientCa: readFileSync(clientCaPath) } : {}) };
  }
  let auth: Authorizer | undefined;
  const realm = str(flags['token-realm']);
  if (realm) {
    const issuer = str(flags['token-issuer'])!;
    const service = str(flags['token-service']) ?? addr;
    const keys: TokenKey[] = [];
    let signing: TokenKey | undefined;
    if (str(flags['token-key'])) {
      const k = keyFromPem(readFileSync(str(flags['token-key'])!, 'utf8'));
      if (!k.private) throw new UsageError('--token-key must be a private key');
      keys.push(k);
      signing = k;
    }
    if (str(flags['token-public-key'])) keys.push(keyFromPem(readFileSync(str(flags['token-public-key'])!, 'utf8')));
    if (htpasswd) {
      if (!signing) {
        signing = generateKey();
        keys.push(signing);
      }
      const path = realm.startsWith('/') ? realm : new URL(realm).pathname;
      if (path.startsWith('/v2')) throw new UsageError('the token realm path may not be under /v2');
      opts.tokens = { path, issuer: new TokenIssuer(htpasswd, { issuer, service, key: signing }) };
    }
    if (keys.length === 0) throw new UsageError('token auth needs --htpasswd (built-in token service), --token-key or --token-public-key');
    auth = new TokenAuth({ realm, service, issuer, keys, tls: opts.tls !== undefined });
  } else if (htpasswd) {
    auth = new BasicAuth(htpasswd);
  }
  if (auth) opts.auth = auth;

  const listening = await listen(opts);
  const pid: PidFile = { pid: process.pid, readOnly: opts.readOnly === true };
  await fs.writeFile(pidPath(root), JSON.stringify(pid));
  out.write(`berth registry listening on ${listening.url}\n`);
  log.info('registry serving', { root, url: listening.url, auth: realm ? 'token' : htpasswd ? 'basic' : 'none', readOnly: pid.readOnly });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await listening.close();
  await fs.rm(pidPath(root), { force: true });
  return 0;
}

async function gc(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { flags, help } = parseFlags(GC_FLAGS, argv);
  if (help) {
    out.write(
      usage(
        'gc',
        GC_FLAGS,
        'Remove manifests no tag reaches (through index children and referrers), the blobs only they used, and upload\nsessions older than a day. Run it with the server stopped or read-only.',
      ),
    );
    return 0;
  }
  const root = str(flags['root'])!;
  const pid = await fs
    .readFile(pidPath(root), 'utf8')
    .then((t) => JSON.parse(t) as PidFile)
    .catch(() => undefined);
  if (pid && !pid.readOnly && alive(pid.pid) && flags['force'] !== true && flags['dry-run'] !== true) {
    throw new UsageError(`a writable registry server (pid ${pid.pid}) serves ${root}: stop it or restart it with --read-only first (or pass --force)`);
  }
  const store = new RegistryStore(root);
  await store.init();
  const result = await collect(store, {
    dryRun: flags['dry-run'] === true,
    keepUntagged: flags['keep-untagged'] === true,
    report: (line) => out.write(line + '\n'),
  });
  const mb = (result.freed / 1e6).toFixed(1);
  out.write(
    `${flags['dry-run'] ? 'would remove' : 'removed'} ${result.blobs.length} blobs (${mb} MB), ${result.manifests.length} manifests, ` +
      `${result.links.length} blob links, ${result.uploads.length} uploads\n`,
  );
  return 0;
}

/** Runs `berth registry ARGS`; resolves with the exit status. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve':
        return await serve(rest, out, err);
      case 'gc':
        return await gc(rest, out);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.write(TOP_USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command: berth registry ${cmd}\n\nRun 'berth registry --help' for more information`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`berth registry: ${e.message}\n`);
      return 125;
    }
    err.write(`berth registry: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

export async function run(argv: string[]): Promise<void> {
  process.exitCode = await main(argv);
}
