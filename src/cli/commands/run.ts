/**
 * `run` and `create` (docker's cli/command/container/run.go and create.go):
 * options → create request, pulling a missing image, then for `run` the
 * attach → wait → start → stream flow with the container's exit status.
 */
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import {
  DaemonError,
  familiarString,
  parseNormalized,
  withDefaultTag,
  WaitCancelledError,
  compareVersions,
  parsePlatform,
  type Platform,
  type ContainerWaiter,
  type HijackedConnection,
  type Reference,
} from '../../client/index.js';
import { BerthError } from '../../lib/errors.js';
import { PROG, StatusError, type CLI, type Output } from '../cli.js';
import { minArgs, type CommandDef, type RunContext } from '../command.js';
import { displayJSONMessages } from '../jsonmessage.js';
import { DetachError } from '../detachkeys.js';
import { forwardSignals, logrusLine, monitorTtySize, streamHijacked, ttySize } from '../attach.js';
import { containerFlags, createFlags, parseContainerOptions, type ContainerConfig } from './containeropts.js';
import { errorText } from './common.js';
import { registryAuthHeader } from '../auth.js';

const PULL_ALWAYS = 'always';
const PULL_MISSING = 'missing';
const PULL_NEVER = 'never';

/** `docker: <err>\n\nRun 'docker run --help' for more information` */
export function withHelp(message: string, command: string): string {
  return `${PROG}: ${message}\n\nRun '${PROG} ${command} --help' for more information`;
}

/** toStatusError: 127 for a missing executable, 126 for a permission problem, 125 otherwise. */
export function toStatusError(e: unknown, command = 'run'): StatusError {
  const msg = errorText(e);
  let status = 125;
  if (msg.includes('executable file not found') || msg.includes('no such file or directory') || msg.includes('system cannot find the file specified')) status = 127;
  else if (msg.includes('permission denied') || msg.includes('is a directory')) status = 126;
  return new StatusError(withHelp(msg, command), status);
}

function validatePullOpt(val: string): void {
  if (![PULL_ALWAYS, PULL_MISSING, PULL_NEVER, ''].includes(val)) {
    throw new Error(`invalid pull option: '${val}': must be one of "${PULL_ALWAYS}", "${PULL_MISSING}" or "${PULL_NEVER}"`);
  }
}

interface CreateOptions {
  name: string;
  platform: string;
  pull: string;
  quiet: boolean;
  useAPISocket: boolean;
}

/** The client config file's `proxies`, `detachKeys`. */
function configValue<T>(cli: CLI, key: string): T | undefined {
  return cli.config()[key] as T | undefined;
}

/** Flags annotated with the API version they need (docker's `version` flag annotation). */
const FLAG_API_VERSIONS: Record<string, string> = {
  annotation: '1.43',
  cgroupns: '1.41',
  'cpu-rt-period': '1.25',
  'cpu-rt-runtime': '1.25',
  cpus: '1.25',
  gpus: '1.40',
  'health-start-interval': '1.44',
  'health-start-period': '1.29',
  init: '1.25',
  platform: '1.32',
  'stop-timeout': '1.25',
};

/** Flags only a Windows daemon takes (the `ostype` annotation). */
const FLAG_OS_TYPES: Record<string, string> = { 'cpu-count': 'windows', 'cpu-percent': 'windows', 'io-maxbandwidth': 'windows', 'io-maxiops': 'windows' };

/** docker's areFlagsSupported: the flags given must suit the daemon's API version and OS (checked in name order). */
export async function checkFlagSupport(cli: CLI, set: Set<string>): Promise<void> {
  const client = cli.client();
  const version = await client.apiVersion();
  const osType = client.pingInfo?.osType ?? '';
  const errs: string[] = [];
  for (const f of [...set].sort()) {
    const need = FLAG_API_VERSIONS[f];
    if (need && compareVersions(version, need) < 0) {
      errs.push(`"--${f}" requires API version ${need}, but the Docker daemon API version is ${version}`);
      continue;
    }
    const os = FLAG_OS_TYPES[f];
    if (os && osType !== '' && osType !== os) {
      errs.push(`"--${f}" is only supported on a Docker daemon running on ${os}, but the Docker daemon is running on ${osType}`);
    }
  }
  if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
}

/** Parses run/create's options into the create request; errors exit 125 with docker's hint. */
function parseOrFail(ctx: RunContext, command: string): { cfg: ContainerConfig; opts: CreateOptions } {
  const { cli, flags, set, args } = ctx;
  try {
    validatePullOpt(flags['pull'] as string);
  } catch (e) {
    throw new StatusError(withHelp((e as Error).message, command), 125);
  }
  let cfg: ContainerConfig;
  try {
    const client = cli.client();
    cfg = parseContainerOptions(flags, set, args[0]!, args.slice(1), {
      env: cli.env,
      cwd: process.cwd(),
      proxies: configValue(cli, 'proxies'),
      daemonHost: client.host,
    });
  } catch (e) {
    throw new StatusError(withHelp(e instanceof Error ? e.message : String(e), command), 125);
  }
  return {
    cfg,
    opts: {
      name: flags['name'] as string,
      platform: flags['platform'] as string,
      pull: flags['pull'] as string,
      quiet: flags['quiet'] as boolean,
      useAPISocket: (flags['use-api-socket'] as boolean | undefined) ?? false,
    },
  };
}

/** The `--cidfile` file: created up front, removed again unless the ID was written. */
class CIDFile {
  private fd: number | undefined;
  private written = false;
  constructor(private readonly path: string) {
    if (path === '') return;
    if (existsSync(path)) throw new Error(`container ID file found, make sure the other container isn't running or delete ${path}`);
    try {
      this.fd = openSync(path, 'w', 0o666);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
      throw new Error(`failed to create the container ID file: open ${path}: ${why}`);
    }
  }
  write(id: string): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, id);
    this.written = true;
  }
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    if (!this.written) rmSync(this.path, { force: true });
  }
}

/** Pulls an image, rendering the progress on stderr (discarded with -q). */
async function pullImage(cli: CLI, image: string, opts: CreateOptions): Promise<void> {
  const registryAuth = registryAuthHeader(cli, parseNormalized(image).domain);
  const body = await cli.client().imagePull(image, { registryAuth, ...(opts.platform ? { platform: opts.platform } : {}) });
  const sink: Output = opts.quiet ? discardOutput() : cli.err;
  await displayJSONMessages(body, sink, { isTerminal: sink.isTTY, width: sink.isTTY ? (sink.stream.columns ?? 200) : 200 });
}

function discardOutput(): Output {
  return { write: () => undefined, isTTY: false, broken: false, stream: { columns: 0 } } as unknown as Output;
}

/** Whether the daemon's create error means the image is missing. */
function isNotFound(e: unknown): boolean {
  return e instanceof DaemonError && e.status === 404;
}

/** A localhost DNS server gets docker's warning. */
function localhostDNSWarning(hostConfig: Record<string, unknown>): string {
  for (const dns of (hostConfig['Dns'] as string[] | undefined) ?? []) {
    if (/^127\./.test(dns) || dns === '::1') return `Localhost DNS (${dns}) may fail in containers.`;
  }
  return '';
}

/**
 * createContainer: cidfile, pull policy, create (pull and retry when the
 * image is missing), warnings. Returns the new container's ID.
 */
export async function createContainer(cli: CLI, cfg: ContainerConfig, opts: CreateOptions): Promise<string> {
  const config = cfg.Config;
  const hostConfig = cfg.HostConfig;
  const cid = new CIDFile((hostConfig['ContainerIDFile'] as string) ?? '');
  try {
    const image = config['Image'] as string;
    let namedRef: Reference | undefined;
    if (!/^[a-f0-9]{64}$/.test(image)) namedRef = withDefaultTag(parseNormalized(image));

    if (opts.useAPISocket) {
      const host = cli.client().host;
      if (!host.startsWith('unix://')) {
        throw new Error(`flag --use-api-socket can only be used with unix sockets: docker endpoint ${host} incompatible`);
      }
      const mounts = (hostConfig['Mounts'] as unknown[] | undefined) ?? [];
      mounts.push({ Type: 'bind', Source: host.slice('unix://'.length), Target: '/var/run/docker.sock', BindOptions: {} });
      hostConfig['Mounts'] = mounts;
    }

    const client = cli.client();
    // the platform is parsed (and normalized) here; the create call gets os/arch[/variant]
    let platform = '';
    if (opts.platform !== '' && compareVersions(await client.apiVersion(), '1.41') >= 0) {
      let p: Platform;
      try {
        p = parsePlatform(opts.platform);
      } catch (e) {
        throw new BerthError('InvalidArgument', `error parsing specified platform: ${(e as Error).message}`);
      }
      platform = [p.os, p.architecture, p.variant].filter((x) => x).join('/');
    }
    if (opts.pull === PULL_ALWAYS) await pullImage(cli, image, opts);

    const [h, w] = ttySize(cli);
    hostConfig['ConsoleSize'] = [h, w];
    const createOpts: { name?: string; platform?: string } = {};
    if (opts.name) createOpts.name = opts.name;
    if (platform) createOpts.platform = platform;
    let response;
    try {
      response = await client.containerCreate(config, hostConfig, cfg.NetworkingConfig, createOpts);
    } catch (e) {
      if (!(isNotFound(e) && namedRef && opts.pull === PULL_MISSING)) throw e;
      if (!opts.quiet) cli.err.write(`Unable to find image '${familiarString(namedRef)}' locally\n`);
      await pullImage(cli, image, opts);
      response = await client.containerCreate(config, hostConfig, cfg.NetworkingConfig, createOpts);
    }
    const warnings = [...(response.Warnings ?? [])];
    const dnsWarning = localhostDNSWarning(hostConfig);
    if (dnsWarning) warnings.push(dnsWarning);
    for (const w of warnings) cli.err.write(`WARNING: ${w}\n`);
    cid.write(response.Id);
    return response.Id;
  } finally {
    cid.close();
  }
}

// ───────────────────────────── create ─────────────────────────────

async function runCreate(ctx: RunContext): Promise<number> {
  const { cli } = ctx;
  await checkFlagSupport(cli, ctx.set);
  const { cfg, opts } = parseOrFail(ctx, 'create');
  const id = await createContainer(cli, cfg, opts);
  cli.out.write(id + '\n');
  return 0;
}

// ───────────────────────────── run ─────────────────────────────

/** Catches SIGINT and SIGTERM without acting on them; returns the function that stops catching. */
function ignoreTermination(): () => void {
  const noop = () => {};
  process.on('SIGINT', noop);
  process.on('SIGTERM', noop);
  return () => {
    process.off('SIGINT', noop);
    process.off('SIGTERM', noop);
  };
}

/** waitExitOrRemoved: the exit status, or 125 (with docker's log line) when waiting fails. */
function statusOf(cli: CLI, waiter: ContainerWaiter | Error): Promise<number> {
  if (waiter instanceof Error) {
    cli.err.write(logrusLine('error', `error waiting for container: ${errorText(waiter)}`));
    return Promise.resolve(125);
  }
  return waiter.result.then(
    (r) => {
      if (r.Error && r.Error.Message) {
        cli.err.write(logrusLine('error', `Error waiting for container: ${r.Error.Message}`));
        return 125;
      }
      return r.StatusCode;
    },
    (e) => {
      // dropped on purpose (the CLI is leaving): Go's status goroutine just returns
      if (e instanceof WaitCancelledError) return new Promise<number>(() => undefined);
      cli.err.write(logrusLine('error', `error waiting for container: ${errorText(e)}`));
      return 125;
    },
  );
}

/** Opens the wait request (the CLI waits for its headers), keeping a failure for later like the Go client's error channel. */
export async function openWait(cli: CLI, id: string, autoRemove: boolean): Promise<ContainerWaiter | Error> {
  try {
    return await cli.client().containerWait(id, autoRemove ? 'removed' : 'next-exit');
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

async function runRun(ctx: RunContext): Promise<number> {
  const { cli, flags } = ctx;
  await checkFlagSupport(cli, ctx.set);
  const { cfg, opts } = parseOrFail(ctx, 'run');
  const config = cfg.Config;
  const detach = flags['detach'] as boolean;
  const tty = config['Tty'] as boolean;

  if (!detach) {
    if (tty && config['AttachStdin'] && !cli.in.isTTY) throw new StatusError('the input device is not a TTY', 1);
  } else {
    if ((flags['attach'] as string[]).length !== 0) throw new StatusError('conflicting options: cannot specify both --attach and --detach', 1);
    config['AttachStdin'] = false;
    config['AttachStdout'] = false;
    config['AttachStderr'] = false;
    config['StdinOnce'] = false;
  }

  let id: string;
  try {
    id = await createContainer(cli, cfg, opts);
  } catch (e) {
    throw toStatusError(e);
  }
  const client = cli.client();
  // without the proxy, docker still catches SIGINT/SIGTERM (its base context is not the one run waits on)
  const stopSignals = (flags['sig-proxy'] as boolean) ? forwardSignals(client, id) : ignoreTermination();
  let conn: HijackedConnection | undefined;
  let stopResize = () => {};
  let waiter: ContainerWaiter | Error | undefined;
  try {
    const attachStdin = config['AttachStdin'] as boolean;
    const attachStdout = config['AttachStdout'] as boolean;
    const attachStderr = config['AttachStderr'] as boolean;
    const attach = attachStdin || attachStdout || attachStderr;
    const detachKeys = (flags['detach-keys'] as string) || (configValue<string>(cli, 'detachKeys') ?? '');

    // docker prints the ID from a goroutine started now, so it shows even when start fails
    if (!attach) cli.out.write(id + '\n');

    let streaming: Promise<unknown> | undefined;
    if (attach) {
      conn = await client.containerAttach(id, {
        stream: true,
        stdin: attachStdin,
        stdout: attachStdout,
        stderr: attachStderr,
        detachKeys,
      });
      const c = conn;
      streaming = streamHijacked({
        cli,
        conn: c,
        stdin: attachStdin,
        out: attachStdout ? cli.out : null,
        err: attachStderr ? (tty ? cli.out : cli.err) : null,
        tty,
        detachKeys,
      }).then(
        () => null,
        (e: unknown) => e,
      );
    }

    const autoRemove = cfg.HostConfig['AutoRemove'] as boolean;
    waiter = await openWait(cli, id, autoRemove);
    const status = statusOf(cli, waiter);

    try {
      await client.containerStart(id);
    } catch (e) {
      if (attach) {
        conn?.close();
        await streaming;
      }
      if (autoRemove) await status;
      throw toStatusError(e);
    }

    if (!attach) return 0;

    if (tty && cli.out.isTTY) stopResize = monitorTtySize(cli, (h, w) => client.containerResize(id, h, w));

    const first = await Promise.race([
      streaming!.then((e) => ({ kind: 'attach' as const, e })),
      status.then((s) => ({ kind: 'status' as const, s })),
    ]);
    if (first.kind === 'attach') {
      const e = first.e;
      if (e) {
        if (e instanceof DetachError) return 0;
        throw e instanceof BerthError || e instanceof StatusError ? e : new StatusError(errorText(e), 1);
      }
      return await status;
    }
    if (!attachStdout && !attachStderr) conn?.close();
    await streaming;
    return first.s;
  } finally {
    stopResize();
    stopSignals();
    conn?.close();
    if (waiter && !(waiter instanceof Error)) waiter.cancel();
  }
}

export function runDef(): CommandDef {
  return {
    name: 'run',
    use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create and run a new container from an image',
    aliasesLine: `${PROG} container run, ${PROG} run`,
    top: 1,
    args: minArgs(1),
    interspersed: false,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
      { name: 'sig-proxy', type: 'bool', default: true, usage: 'Proxy received signals to the process' },
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'use-api-socket', type: 'bool', usage: 'Bind mount Docker API socket and required auth' },
      ...createFlags(process.env, 'Pull image before running ("always", "missing", "never")'),
      ...containerFlags(process.env),
    ],
    run: runRun,
  };
}

export function createDef(): CommandDef {
  return {
    name: 'create',
    use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create a new container',
    aliasesLine: `${PROG} container create, ${PROG} create`,
    args: minArgs(1),
    interspersed: false,
    flags: [
      { name: 'use-api-socket', type: 'bool', usage: 'Bind mount Docker API socket and required auth' },
      ...createFlags(process.env, 'Pull image before creating ("always", "|missing", "never")'),
      ...containerFlags(process.env),
    ],
    run: runCreate,
  };
}
