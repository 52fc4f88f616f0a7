/**
 * The streaming commands besides run: `exec`, `attach` and `logs`
 * (docker's exec.go, attach.go, logs.go).
 */
import { stdCopy, type ContainerInspect, type ExecCreateConfig, type HijackedConnection } from '../../client/index.js';
import { PROG, StatusError, type CLI } from '../cli.js';
import { exactArgs, minArgs, type CommandDef, type RunContext } from '../command.js';
import { diesOfSigpipe, forwardSignals, monitorTtySize, streamHijacked, ttySize, writeOutput } from '../attach.js';
import { DetachError } from '../detachkeys.js';
import { BrokenPipeError } from '../attach.js';
import { getTimestamp } from '../util/timestamp.js';
import { parseKVFile, validateEnv } from './containeropts.js';
import { errorText } from './common.js';

const aliasLine = (name: string) => `${PROG} container ${name}, ${PROG} ${name}`;

// ───────────────────────────── exec ─────────────────────────────

async function runExec(ctx: RunContext): Promise<number> {
  const { cli, flags, args } = ctx;
  const container = args[0]!;
  const detach = flags['detach'] as boolean;
  const tty = flags['tty'] as boolean;
  const interactive = flags['interactive'] as boolean;

  // parseExec
  const envFromFiles: string[] = [];
  try {
    for (const f of flags['env-file'] as string[]) envFromFiles.push(...parseKVFile(f, (k) => cli.env[k]));
  } catch (e) {
    throw new StatusError((e as Error).message, 1);
  }
  const env = [...envFromFiles, ...(flags['env'] as string[])];
  const detachKeys = (flags['detach-keys'] as string) || ((cli.config()['detachKeys'] as string | undefined) ?? '');
  const config: ExecCreateConfig = {
    User: flags['user'] as string,
    Privileged: flags['privileged'] as boolean,
    Tty: tty,
    ConsoleSize: null,
    AttachStdin: !detach && interactive,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: detachKeys,
    Env: env.length > 0 ? env : null,
    WorkingDir: flags['workdir'] as string,
    Cmd: args.slice(1),
  };

  const client = cli.client();
  await client.containerGet(container);
  if (!detach && tty && config.AttachStdin && !cli.in.isTTY) throw new StatusError('the input device is not a TTY', 1);
  if (tty) config.ConsoleSize = ttySize(cli);

  const { Id: execId } = await client.execCreate(container, config);
  if (!execId) throw new StatusError('exec ID empty', 1);

  if (detach) {
    await client.execStart(execId, { Detach: true, Tty: tty, ConsoleSize: config.ConsoleSize });
    return 0;
  }

  let conn: HijackedConnection | undefined;
  let stopResize = () => {};
  try {
    conn = await client.execAttach(execId, { Tty: tty, ConsoleSize: config.ConsoleSize });
    const streaming = streamHijacked({
      cli,
      conn,
      stdin: config.AttachStdin,
      out: cli.out,
      err: tty ? cli.out : cli.err,
      tty,
      detachKeys,
    });
    if (tty && cli.in.isTTY) stopResize = monitorTtySize(cli, (h, w) => client.execResize(execId, h, w));
    try {
      await streaming;
    } catch (e) {
      if (e instanceof DetachError) throw new StatusError(e.message, 1);
      throw e;
    }
  } finally {
    stopResize();
    conn?.close();
  }
  const r = await client.execInspect(execId);
  return r.ExitCode ?? 0;
}

export function execDef(): CommandDef {
  return {
    name: 'exec',
    use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    short: 'Execute a command in a running container',
    aliasesLine: aliasLine('exec'),
    top: 2,
    args: minArgs(2),
    interspersed: false,
    flags: [
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
      { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
      { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
      { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
      { name: 'env', short: 'e', type: 'stringArray', placeholder: 'list', usage: 'Set environment variables', validate: validateEnv(process.env) },
      { name: 'env-file', type: 'stringArray', placeholder: 'list', usage: 'Read in a file of environment variables' },
      { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
    ],
    run: (ctx) => diesOfSigpipe(runExec(ctx)),
  };
}

// ───────────────────────────── attach ─────────────────────────────

/** inspectContainerAndCheckState */
async function inspectRunning(cli: CLI, id: string): Promise<ContainerInspect> {
  const c = await cli.client().containerGet(id);
  if (!c.State.Running) throw new StatusError('You cannot attach to a stopped container, start it first', 1);
  if (c.State.Paused) throw new StatusError('You cannot attach to a paused container, unpause it first', 1);
  if (c.State.Restarting) throw new StatusError('You cannot attach to a restarting container, wait until it is running', 1);
  return c;
}

async function runAttach(ctx: RunContext): Promise<number> {
  const { cli, flags, args } = ctx;
  const id = args[0]!;
  const client = cli.client();
  // the wait is opened first so the exit status is not missed
  let waiter: Awaited<ReturnType<typeof client.containerWait>> | undefined;
  let waitError: unknown;
  try {
    waiter = await client.containerWait(id, '');
  } catch (e) {
    waitError = e;
  }
  let conn: HijackedConnection | undefined;
  let stopSignals = () => {};
  let stopResize = () => {};
  try {
    const c = await inspectRunning(cli, id);
    const noStdin = flags['no-stdin'] as boolean;
    if (!noStdin && c.Config.Tty && !cli.in.isTTY) throw new StatusError('the input device is not a TTY', 1);
    const detachKeys = (flags['detach-keys'] as string) || ((cli.config()['detachKeys'] as string | undefined) ?? '');
    const stdin = !noStdin && c.Config.OpenStdin;
    if ((flags['sig-proxy'] as boolean) && !c.Config.Tty) stopSignals = forwardSignals(client, id);
    conn = await client.containerAttach(id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
    await inspectRunning(cli, id);
    if (c.Config.Tty && cli.out.isTTY) {
      const [h, w] = ttySize(cli);
      // resize to a different size first so the process sees a change
      await client.containerResize(id, h + 1, w + 1).catch(() => undefined);
      stopResize = monitorTtySize(cli, (hh, ww) => client.containerResize(id, hh, ww));
    }
    try {
      await streamHijacked({ cli, conn, stdin, out: cli.out, err: cli.err, tty: c.Config.Tty, detachKeys });
    } catch (e) {
      if (e instanceof DetachError) throw new StatusError(e.message, 1);
      throw e;
    }
    if (waitError) throw waitError;
    const r = await waiter!.result;
    if (r.Error && r.Error.Message) throw new StatusError(r.Error.Message, 1);
    return r.StatusCode;
  } finally {
    stopResize();
    stopSignals();
    conn?.close();
    waiter?.cancel();
  }
}

export function attachDef(): CommandDef {
  return {
    name: 'attach',
    use: '[OPTIONS] CONTAINER',
    short: 'Attach local standard input, output, and error streams to a running container',
    aliasesLine: aliasLine('attach'),
    args: exactArgs(1),
    flags: [
      { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', default: true, usage: 'Proxy all received signals to the process' },
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    ],
    run: (ctx) => ((ctx.flags['sig-proxy'] as boolean) ? runAttach(ctx) : diesOfSigpipe(runAttach(ctx))),
  };
}

// ───────────────────────────── logs ─────────────────────────────

async function runLogs(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const client = cli.client();
  const c = await client.containerGet(args[0]!);
  const now = new Date();
  const ts = (name: 'since' | 'until'): string | undefined => {
    const v = flags[name] as string;
    if (v === '') return undefined;
    try {
      return getTimestamp(v, now);
    } catch (e) {
      throw new StatusError(`invalid value for ${JSON.stringify(name)}: ${(e as Error).message}`, 1);
    }
  };
  const opts: Parameters<typeof client.containerLogs>[1] = {
    stdout: true,
    stderr: true,
    timestamps: flags['timestamps'] as boolean,
    follow: flags['follow'] as boolean,
    tail: flags['tail'] as string,
    details: flags['details'] as boolean,
  };
  const since = ts('since');
  const until = ts('until');
  if (since !== undefined) opts.since = since;
  if (until !== undefined) opts.until = until;
  const body = await client.containerLogs(c.Id, opts);
  if (c.Config.Tty) {
    for await (const chunk of body) await writeOutput(cli.out, chunk as Buffer);
    return;
  }
  try {
    await stdCopy(
      body,
      (b) => writeOutput(cli.out, b),
      (b) => writeOutput(cli.err, b),
    );
  } catch (e) {
    if (e instanceof BrokenPipeError) throw e;
    throw new StatusError(errorText(e), 1);
  }
}

export function logsDef(): CommandDef {
  return {
    name: 'logs',
    use: '[OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    aliasesLine: aliasLine('logs'),
    args: exactArgs(1),
    flags: [
      { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
      {
        name: 'since',
        type: 'string',
        usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
      {
        name: 'until',
        type: 'string',
        usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
      { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
      { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
      { name: 'tail', short: 'n', type: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
    ],
    run: (ctx) => diesOfSigpipe(runLogs(ctx)),
  };
}
