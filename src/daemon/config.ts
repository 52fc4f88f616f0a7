/** berthd's command line, with docker's daemon flag names and defaults. */
import { parseArgs } from 'node:util';
import { DEFAULT_CERT_DIRS } from '../distribution/transport.js';
import { invalidArgument } from '../lib/errors.js';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile?: string;
  debug: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  group: string;
  tls: boolean;
  tlsVerify: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureRegistries: string[];
  /** Where per-registry certificates live (`<dir>/<host:port>/ca.crt`, `client.cert`, `client.key`), first found wins. */
  registryCertsDirs: string[];
  runtime: string;
  conmon: string;
  /** The default bridge network's device; 'none' leaves the default bridge out. */
  bridge: string;
  /** The default bridge's gateway address and prefix (e.g. 172.17.0.1/16); chosen from docker's pools when unset. */
  bip?: string;
}

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export const USAGE = `Usage:\tberthd [OPTIONS]

A container engine that serves the Docker Engine API

Options:
  -H, --host list                 Daemon socket(s) to connect to (default ${DEFAULT_HOST})
      --data-root string          Root directory of persistent state (default "/var/lib/berth")
      --exec-root string          Root directory for execution state files (default "/run/berth")
  -p, --pidfile string            Path to use for daemon PID file
  -G, --group string              Group for the unix socket (default "docker")
  -D, --debug                     Enable debug mode
  -l, --log-level string          Set the logging level ("debug"|"info"|"warn"|"error") (default "info")
      --tls                       Use TLS; implied by --tlsverify
      --tlsverify                 Use TLS and verify the remote
      --tlscacert string          Trust certs signed only by this CA
      --tlscert string            Path to TLS certificate file
      --tlskey string             Path to TLS key file
      --insecure-registry list    Enable insecure registry communication
      --registry-certs-dir list   Directories of per-registry CAs and client certificates, searched in order
                                  (default [${DEFAULT_CERT_DIRS.join(' ')}])
      --runtime string            Path of the OCI runtime (default "runc")
      --conmon string             Path of conmon (default "conmon")
  -b, --bridge string             Attach containers to a network bridge (default "berth0"; "none": no default bridge)
      --bip string                Specify default-bridge IPv4 network (e.g. 172.17.0.1/16)
  -v, --version                   Print version information and quit
`;

export function parseDaemonArgs(argv: string[]): DaemonConfig | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string', short: 'H', multiple: true },
        'data-root': { type: 'string' },
        'exec-root': { type: 'string' },
        pidfile: { type: 'string', short: 'p' },
        group: { type: 'string', short: 'G' },
        debug: { type: 'boolean', short: 'D' },
        'log-level': { type: 'string', short: 'l' },
        tls: { type: 'boolean' },
        tlsverify: { type: 'boolean' },
        tlscacert: { type: 'string' },
        tlscert: { type: 'string' },
        tlskey: { type: 'string' },
        'insecure-registry': { type: 'string', multiple: true },
        'registry-certs-dir': { type: 'string', multiple: true },
        runtime: { type: 'string' },
        conmon: { type: 'string' },
        bridge: { type: 'string', short: 'b' },
        bip: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw invalidArgument((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  const level = v['log-level'] ?? (v.debug ? 'debug' : 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw invalidArgument(`unable to parse logging level: ${level}`);
  const cfg: DaemonConfig = {
    hosts: v.host?.length ? v.host.map(normalizeHost) : [DEFAULT_HOST],
    dataRoot: v['data-root'] ?? '/var/lib/berth',
    execRoot: v['exec-root'] ?? '/run/berth',
    debug: v.debug ?? false,
    logLevel: level as DaemonConfig['logLevel'],
    group: v.group ?? 'docker',
    tls: (v.tls ?? false) || (v.tlsverify ?? false),
    tlsVerify: v.tlsverify ?? false,
    insecureRegistries: v['insecure-registry'] ?? [],
    registryCertsDirs: v['registry-certs-dir']?.length ? v['registry-certs-dir'] : [...DEFAULT_CERT_DIRS],
    runtime: v.runtime ?? 'runc',
    conmon: v.conmon ?? 'conmon',
    bridge: v.bridge ?? 'berth0',
    ...(v.bip ? { bip: v.bip } : {}),
  };
  if (v.pidfile) cfg.pidfile = v.pidfile;
  if (v.tlscacert) cfg.tlsCaCert = v.tlscacert;
  if (v.tlscert) cfg.tlsCert = v.tlscert;
  if (v.tlskey) cfg.tlsKey = v.tlskey;
  return cfg;
}

/** `unix:///p`, `/p`, `tcp://h:p`, `:2375`, `h:p` as docker accepts them for -H. */
export function normalizeHost(h: string): string {
  if (h.startsWith('unix://') || h.startsWith('tcp://')) return h;
  if (h.startsWith('fd://')) throw invalidArgument('fd:// sockets are not supported; use unix:// or tcp://');
  if (h.startsWith('/')) return `unix://${h}`;
  if (/^[^/]*:\d+$/.test(h)) return `tcp://${h.startsWith(':') ? `0.0.0.0${h}` : h}`;
  throw invalidArgument(`invalid bind address format: ${h}`);
}
