/**
 * The `berth` entry point: global flags, command lookup, help, and turning
 * errors into docker's messages and exit codes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { ConnectionError, DaemonError, DEFAULT_HOST, parseHost, StreamError, type ClientOptions, type TLSOptions } from '../client/index.js';
import { BerthError } from '../lib/errors.js';
import { CancelledError, CLI, defaultConfigDir, Output, PROG, StatusError, type GlobalOptions } from './cli.js';
import { checkArgs, Command, helpText, parseCommandFlags, type CommandDef } from './command.js';
import type { FlagDef } from './flags.js';
import { buildInfo } from './version.js';
import { commands } from './commands/index.js';

export interface MainIO {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

const ADDITIONAL_HELP = 'For more help on how to use Berth, see the docs/ directory of the Berth sources';

const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'];

function globalFlagDefs(env: Record<string, string | undefined>): FlagDef[] {
  const configDir = defaultConfigDir(env);
  const certDir = env['DOCKER_CERT_PATH'] || configDir;
  return [
    { name: 'config', type: 'string', usage: 'Location of client config files', default: configDir },
    {
      name: 'context',
      short: 'c',
      type: 'string',
      usage: `Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "${PROG} context use")`,
    },
    { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
    { name: 'host', short: 'H', type: 'stringArray', usage: 'Daemon socket to connect to', placeholder: 'list' },
    {
      name: 'log-level',
      short: 'l',
      type: 'string',
      usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
      default: 'info',
    },
    { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify', default: (env['DOCKER_TLS'] ?? '') !== '' },
    { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA', default: join(certDir, 'ca.pem') },
    { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file', default: join(certDir, 'cert.pem') },
    { name: 'tlskey', type: 'string', usage: 'Path to TLS key file', default: join(certDir, 'key.pem') },
    { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote', default: (env['DOCKER_TLS_VERIFY'] ?? '') !== '' },
    { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
  ];
}

/** The whole command tree. */
export function rootCommand(env: Record<string, string | undefined>): Command {
  const def: CommandDef = {
    name: PROG,
    use: '[OPTIONS] COMMAND [ARG...]',
    short: 'A self-sufficient runtime for containers',
    flags: globalFlagDefs(env),
    interspersed: false,
    sub: [...commands()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return new Command(def);
}

function termWidth(io: MainIO): number {
  if (!io.stdin.isTTY) return 80;
  return io.stdout.columns ?? io.stderr.columns ?? 80;
}

/** docker strips one pair of matching quotes from the TLS path flags. */
function trimQuotes(v: string): string {
  if (v.length < 2) return v;
  for (const q of ["'", '"']) if (v.startsWith(q) && v.endsWith(q)) return v.slice(1, -1);
  return v;
}

/** Resolves TLS settings like docker: --tlsverify / DOCKER_TLS_VERIFY implies TLS; defaults only when the files exist. */
function tlsOptions(g: GlobalOptions, set: Set<string>): TLSOptions | undefined {
  if (!g.tls && !g.tlsverify) return undefined;
  const read = (path: string, flag: string): Buffer | undefined => {
    // the CA must exist; a default certificate or key is skipped when absent
    if (flag !== 'tlscacert' && !set.has(flag) && !existsSync(path)) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new StatusError(`Failed to initialize: unable to resolve docker endpoint: open ${path}: ${why}`, 1);
    }
  };
  const t: TLSOptions = { verify: g.tlsverify };
  const ca = read(g.tlscacert, 'tlscacert');
  const cert = read(g.tlscert, 'tlscert');
  const key = read(g.tlskey, 'tlskey');
  if (ca) t.ca = ca;
  if (cert) t.cert = cert;
  if (key) t.key = key;
  return t;
}

/** Runs the CLI; resolves with the exit status. */
export async function main(argv: string[], io: MainIO): Promise<number> {
  const out = new Output(io.stdout);
  const err = new Output(io.stderr);
  const root = rootCommand(io.env);
  const width = termWidth(io);
  let cli: CLI | undefined;
  try {
    // global flags stop at the first command word
    const g = parseCommandFlags(root, argv);
    const flags = g.flags;
    for (const w of g.warnings) err.write(w + '\n');
    if (flags['version']) {
      const b = buildInfo();
      out.write(`Berth version ${b.version}, build ${b.gitCommit}\n`);
      return 0;
    }
    if (flags['help']) {
      out.write(helpText(root, { width, additional: ADDITIONAL_HELP }));
      return 0;
    }
    const globals: GlobalOptions = {
      hosts: flags['host'] as string[],
      config: flags['config'] as string,
      context: flags['context'] as string,
      debug: flags['debug'] as boolean,
      logLevel: flags['log-level'] as string,
      tls: flags['tls'] as boolean,
      tlsverify: flags['tlsverify'] as boolean,
      tlscacert: trimQuotes(flags['tlscacert'] as string),
      tlscert: trimQuotes(flags['tlscert'] as string),
      tlskey: trimQuotes(flags['tlskey'] as string),
    };
    const args = g.args;
    if (args.length === 0) {
      err.write(helpText(root, { width, additional: ADDITIONAL_HELP }));
      return 0;
    }

    // `berth help [COMMAND...]`
    if (args[0] === 'help') {
      let c: Command = root;
      for (const w of args.slice(1)) {
        const next = c.find(w);
        if (!next) throw new StatusError(`unknown help topic: ${args.slice(1).join(' ')}`, 1);
        c = next;
      }
      out.write(helpText(c, { width, additional: ADDITIONAL_HELP }));
      return 0;
    }

    let cmd = root.find(args[0]!);
    if (!cmd) {
      throw new StatusError(`${PROG}: unknown command: ${PROG} ${args[0]}\n\nRun '${PROG} --help' for more information`, 1);
    }
    let rest = args.slice(1);
    while (cmd.hasSubcommands) {
      const word = rest[0];
      if (word === undefined) {
        err.write(helpText(cmd, { width }));
        return 0;
      }
      if (word.startsWith('-') && word !== '-') {
        const p = parseCommandFlags(cmd, rest);
        for (const w of p.warnings) out.write(w + '\n');
        if (p.flags['help']) {
          out.write(helpText(cmd, { width }));
          return 0;
        }
        rest = p.args;
        continue;
      }
      const sub = cmd.find(word);
      if (!sub) {
        throw new StatusError(
          `${PROG}: unknown command: ${cmd.path} ${word}\n\nUsage:  ${cmd.path}\n\nRun '${cmd.path} --help' for more information`,
          1,
        );
      }
      cmd = sub;
      rest = rest.slice(1);
    }

    const parsed = parseCommandFlags(cmd, rest);
    if (parsed.flags['help']) {
      for (const w of parsed.warnings) out.write(w + '\n');
      out.write(helpText(cmd, { width }));
      return 0;
    }
    for (const w of parsed.warnings) err.write(w + '\n');
    checkArgs(cmd, parsed.args);
    if (!cmd.def.run) {
      err.write(helpText(cmd, { width }));
      return 0;
    }

    // what docker's Initialize checks before running any command
    if (!LOG_LEVELS.includes(globals.logLevel.toLowerCase())) {
      throw new StatusError(`Unable to parse logging level: ${globals.logLevel}`, 1);
    }
    const contextName = globals.context || io.env['DOCKER_CONTEXT'] || 'default';
    if (g.set.has('context') && globals.hosts.length > 0) {
      throw new StatusError('conflicting options: cannot specify both --host and --context', 1);
    }
    if (contextName !== 'default') {
      throw new StatusError(
        `Failed to initialize: unable to resolve docker endpoint: context ${JSON.stringify(contextName)}: context not found: berth supports only the "default" context`,
        1,
      );
    }
    const host = globals.hosts[0] ?? (io.env['DOCKER_HOST'] || DEFAULT_HOST);
    const tls = tlsOptions(globals, g.set);
    try {
      parseHost(host, tls !== undefined);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new StatusError(
        msg.startsWith('unable to parse docker host') ? `Failed to initialize: ${msg}` : `Failed to initialize: unable to resolve docker endpoint: ${msg}`,
        1,
      );
    }
    const clientOptions = (): ClientOptions => {
      const o: ClientOptions = { host, userAgent: `Berth-Client/${buildInfo().version} (linux)` };
      if (tls) o.tls = tls;
      const pinned = io.env['DOCKER_API_VERSION'];
      if (pinned) o.version = pinned;
      return o;
    };
    cli = new CLI({
      out,
      err,
      in: { stream: io.stdin, isTTY: io.stdin.isTTY === true },
      env: io.env,
      globals,
      clientOptions,
      contextName,
    });
    const status = await cmd.def.run({ cli, flags: parsed.flags, args: parsed.args, set: parsed.set, cmd });
    return typeof status === 'number' ? status : 0;
  } catch (e) {
    return reportError(err, e, cli?.debug ?? false);
  } finally {
    cli?.close();
    await out.flush();
    await err.flush();
  }
}

/** Prints an error the way docker does and returns the exit status. */
export function reportError(err: Output, e: unknown, debug: boolean): number {
  if (e instanceof CancelledError) return 0;
  if (e instanceof StatusError) {
    if (e.message !== '') err.write(e.message + '\n');
    return e.status === 0 ? 1 : e.status;
  }
  if (e instanceof DaemonError) {
    err.write(`Error response from daemon: ${e.message}\n`);
    return 1;
  }
  if (e instanceof ConnectionError || e instanceof StreamError || e instanceof BerthError) {
    err.write(e.message + '\n');
    return 1;
  }
  if (e instanceof Error) {
    err.write((debug && e.stack ? e.stack : e.message) + '\n');
    return 1;
  }
  err.write(String(e) + '\n');
  return 1;
}

/** Runs the CLI on this process's streams and exits with its status. */
export async function run(): Promise<void> {
  const status = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
  process.exitCode = status;
  // stdin may hold the event loop open after a prompt or an upload
  process.stdin.unref?.();
}

const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href : '';
if (import.meta.url === invoked) void run();
