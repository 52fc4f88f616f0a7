/**
 * Container lifecycle commands: start, stop, kill, restart, rm, wait,
 * pause, unpause, rename, port, top, diff, commit, update, export,
 * container inspect and container prune (docker's cli/command/container).
 */
import { writeStreamAtomic } from '../util/files.js';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { DaemonError, type HijackedConnection } from '../../client/index.js';
import { humanSizeWithPrecision } from '../../lib/units.js';
import { CancelledError, PROG, StatusError, type CLI } from '../cli.js';
import { exactArgs, minArgs, noArgs, rangeArgs, type CommandDef, type RunContext } from '../command.js';
import { renderRows } from '../output.js';
import { confirm } from '../prompt.js';
import { tabwriteText } from '../tabwriter.js';
import { diesOfSigpipe, forwardSignals, monitorTtySize, streamHijacked, writeOutput } from '../attach.js';
import { DetachError } from '../detachkeys.js';
import { checkFilters, errorText, filterFlag, INSPECT_FORMAT_HELP, parseFilters } from './common.js';
import { inspectOutput } from './inspect.js';
import { openWait } from './run.js';
import { parseCPUs, parseRestartPolicy, validateMemBytes, validateMemSwap, validateUint16 } from './containeropts.js';
import { ramInBytes } from '../../lib/units.js';
import { parseUintGo } from '../util/goparse.js';

/** Throws the joined error texts (errors.Join) with exit status 1 when there are any. */
export function joinErrors(errs: unknown[]): void {
  if (errs.length > 0) throw new StatusError(errs.map(errorText).join('\n'), 1);
}

/**
 * parallelOperation: runs `op` for every container at once (docker caps it
 * at 50), then reports in argument order: the name on stdout for a success,
 * the error collected otherwise.
 */
export async function eachInParallel(cli: CLI, names: string[], op: (name: string) => Promise<void>, onError?: (name: string, e: unknown) => boolean): Promise<void> {
  const results = names.map((n) => op(n).then(
    () => null,
    (e: unknown) => e,
  ));
  const errs: unknown[] = [];
  for (let i = 0; i < names.length; i++) {
    const e = await results[i];
    if (e === null) {
      cli.out.write(names[i] + '\n');
      continue;
    }
    if (onError?.(names[i]!, e)) continue;
    errs.push(e);
  }
  joinErrors(errs);
}

const aliasLine = (name: string, ...more: string[]) => [`${PROG} container ${name}`, ...more.map((m) => `${PROG} ${m}`)].join(', ');

// ───────────────────────────── start ─────────────────────────────

async function runStart(ctx: RunContext): Promise<number> {
  const { cli, flags, args } = ctx;
  const attach = flags['attach'] as boolean;
  const openStdin = flags['interactive'] as boolean;
  const client = cli.client();
  if (attach || openStdin) {
    if (args.length > 1) throw new StatusError('you cannot start and attach multiple containers at once', 1);
    const c = await client.containerGet(args[0]!);
    const stopSignals = !c.Config.Tty ? forwardSignals(client, c.Id) : () => {};
    const detachKeys = (flags['detach-keys'] as string) || ((cli.config()['detachKeys'] as string | undefined) ?? '');
    const stdin = openStdin && c.Config.OpenStdin;
    let conn: HijackedConnection | undefined;
    let stopResize = () => {};
    let waiter: Awaited<ReturnType<typeof openWait>> | undefined;
    try {
      conn = await client.containerAttach(c.Id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
      const streaming = streamHijacked({ cli, conn, stdin, out: cli.out, err: cli.err, tty: c.Config.Tty, detachKeys }).then(
        () => null,
        (e: unknown) => e,
      );
      waiter = await openWait(cli, c.Id, c.HostConfig.AutoRemove === true);
      const w = waiter;
      const status =
        w instanceof Error
          ? Promise.resolve(125)
          : w.result.then(
              (r) => r.StatusCode,
              () => 125,
            );
      try {
        await client.containerStart(c.Id, { checkpoint: flags['checkpoint'] as string, checkpointDir: flags['checkpoint-dir'] as string });
      } catch (e) {
        conn.close();
        await streaming;
        if (c.HostConfig.AutoRemove) await status;
        throw e;
      }
      if (c.Config.Tty && cli.out.isTTY) stopResize = monitorTtySize(cli, (h, wd) => client.containerResize(c.Id, h, wd));
      const e = await streaming;
      if (e) {
        if (e instanceof DetachError) return 0;
        throw e;
      }
      const s = await status;
      if (s !== 0) return s;
      return 0;
    } finally {
      stopResize();
      stopSignals();
      conn?.close();
      if (waiter && !(waiter instanceof Error)) waiter.cancel();
    }
  }
  if (flags['checkpoint']) {
    if (args.length > 1) throw new StatusError('you cannot restore multiple containers at once', 1);
    await client.containerStart(args[0]!, { checkpoint: flags['checkpoint'] as string, checkpointDir: flags['checkpoint-dir'] as string });
    return 0;
  }
  const failed: string[] = [];
  for (const c of args) {
    try {
      await client.containerStart(c);
      cli.out.write(c + '\n');
    } catch (e) {
      cli.err.write(errorText(e) + '\n');
      failed.push(c);
    }
  }
  if (failed.length > 0) throw new StatusError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
  return 0;
}

function startDef(): CommandDef {
  return {
    name: 'start',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Start one or more stopped containers',
    aliasesLine: aliasLine('start', 'start'),
    args: minArgs(1),
    flags: [
      { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
      { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
      { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'checkpoint', type: 'string', usage: 'Restore from this checkpoint', hidden: true },
      { name: 'checkpoint-dir', type: 'string', usage: 'Use a custom checkpoint storage directory', hidden: true },
    ],
    run: runStart,
  };
}

// ───────────────────────────── stop / restart / kill ─────────────────────────────

function timeoutFlags(): CommandDef['flags'] {
  return [
    { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
    { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
    { name: 'time', type: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', deprecated: 'use --timeout instead' },
  ];
}

function stopOptions(ctx: RunContext): { signal?: string; timeout?: number } {
  const { flags, set } = ctx;
  if (set.has('time') && set.has('timeout')) throw new StatusError('conflicting options: cannot specify both --timeout and --time', 1);
  const o: { signal?: string; timeout?: number } = {};
  if (flags['signal']) o.signal = flags['signal'] as string;
  if (set.has('timeout')) o.timeout = flags['timeout'] as number;
  else if (set.has('time')) o.timeout = flags['time'] as number;
  return o;
}

function stopDef(): CommandDef {
  return {
    name: 'stop',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Stop one or more running containers',
    aliasesLine: aliasLine('stop', 'stop'),
    args: minArgs(1),
    flags: timeoutFlags(),
    run: async (ctx) => {
      const o = stopOptions(ctx);
      const client = ctx.cli.client();
      await eachInParallel(ctx.cli, ctx.args, (id) => client.containerStop(id, o));
    },
  };
}

function restartDef(): CommandDef {
  return {
    name: 'restart',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Restart one or more containers',
    aliasesLine: aliasLine('restart', 'restart'),
    args: minArgs(1),
    flags: timeoutFlags(),
    run: async (ctx) => {
      const o = stopOptions(ctx);
      const client = ctx.cli.client();
      const errs: unknown[] = [];
      for (const name of ctx.args) {
        try {
          await client.containerRestart(name, o);
          ctx.cli.out.write(name + '\n');
        } catch (e) {
          errs.push(e);
        }
      }
      joinErrors(errs);
    },
  };
}

function killDef(): CommandDef {
  return {
    name: 'kill',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Kill one or more running containers',
    aliasesLine: aliasLine('kill', 'kill'),
    args: minArgs(1),
    flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
    run: async ({ cli, flags, args }) => {
      const client = cli.client();
      await eachInParallel(cli, args, (id) => client.containerKill(id, flags['signal'] as string));
    },
  };
}

// ───────────────────────────── rm ─────────────────────────────

function rmDef(name: string, aliases: string[]): CommandDef {
  return {
    name,
    aliases,
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Remove one or more containers',
    aliasesLine: `${PROG} container rm, ${PROG} container remove, ${PROG} rm`,
    args: minArgs(1),
    flags: [
      { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
      { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
      { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
    ],
    run: async ({ cli, flags, args }) => {
      const client = cli.client();
      const force = flags['force'] as boolean;
      await eachInParallel(
        cli,
        args,
        async (raw) => {
          const id = raw.replace(/^\/+|\/+$/g, '');
          if (id === '') throw new Error('container name cannot be empty');
          await client.containerRemove(id, { volumes: flags['volumes'] as boolean, link: flags['link'] as boolean, force });
        },
        (_name, e) => {
          if (force && e instanceof DaemonError && e.status === 404) {
            cli.err.write(errorText(e) + '\n');
            return true;
          }
          return false;
        },
      );
    },
  };
}

// ───────────────────────────── wait ─────────────────────────────

function waitDef(): CommandDef {
  return {
    name: 'wait',
    use: 'CONTAINER [CONTAINER...]',
    short: 'Block until one or more containers stop, then print their exit codes',
    aliasesLine: aliasLine('wait', 'wait'),
    args: minArgs(1),
    run: async ({ cli, args }) => {
      const client = cli.client();
      const errs: unknown[] = [];
      for (const c of args) {
        try {
          const w = await client.containerWait(c, '');
          const r = await w.result;
          cli.out.write(`${r.StatusCode}\n`);
        } catch (e) {
          errs.push(e);
        }
      }
      joinErrors(errs);
    },
  };
}

// ───────────────────────────── pause / unpause ─────────────────────────────

function pauseDef(name: 'pause' | 'unpause'): CommandDef {
  return {
    name,
    use: 'CONTAINER [CONTAINER...]',
    short: name === 'pause' ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers',
    aliasesLine: aliasLine(name, name),
    args: minArgs(1),
    run: async ({ cli, args }) => {
      const client = cli.client();
      await eachInParallel(cli, args, (id) => (name === 'pause' ? client.containerPause(id) : client.containerUnpause(id)));
    },
  };
}

// ───────────────────────────── rename ─────────────────────────────

function renameDef(): CommandDef {
  return {
    name: 'rename',
    use: 'CONTAINER NEW_NAME',
    short: 'Rename a container',
    aliasesLine: aliasLine('rename', 'rename'),
    args: exactArgs(2),
    run: async ({ cli, args }) => {
      const oldName = args[0]!.trim();
      const newName = args[1]!.trim();
      if (oldName === '' || newName === '') throw new StatusError('Error: Neither old nor new names may be empty', 1);
      try {
        await cli.client().containerRename(oldName, newName);
      } catch (e) {
        cli.err.write(errorText(e) + '\n');
        throw new StatusError(`Error: failed to rename container named ${oldName}`, 1);
      }
    },
  };
}

// ───────────────────────────── port ─────────────────────────────

/** sortorder.NaturalLess: digit runs compare by value. */
export function naturalLess(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  while (i < a.length && j < b.length) {
    const ca = a[i]!;
    const cb = b[j]!;
    if (isDigit(ca) && isDigit(cb)) {
      // skip leading zeros, compare lengths, then digits
      let si = i;
      while (si < a.length && a[si] === '0') si++;
      let sj = j;
      while (sj < b.length && b[sj] === '0') sj++;
      let ei = si;
      while (isDigit(a[ei])) ei++;
      let ej = sj;
      while (isDigit(b[ej])) ej++;
      const na = a.slice(si, ei);
      const nb = b.slice(sj, ej);
      if (na.length !== nb.length) return na.length < nb.length;
      if (na !== nb) return na < nb;
      if (ei - i !== ej - j) return ei - i < ej - j;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb;
    i++;
    j++;
  }
  return a.length - i < b.length - j;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function portDef(): CommandDef {
  return {
    name: 'port',
    use: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
    short: 'List port mappings or a specific mapping for the container',
    aliasesLine: aliasLine('port', 'port'),
    args: rangeArgs(1, 2),
    run: async ({ cli, args }) => {
      const c = await cli.client().containerGet(args[0]!);
      const ports = c.NetworkSettings?.Ports ?? {};
      const out: string[] = [];
      if (args[1] !== undefined) {
        const spec = args[1];
        const slash = spec.indexOf('/');
        const port = slash < 0 ? spec : spec.slice(0, slash);
        const proto = (slash < 0 ? '' : spec.slice(slash + 1)) || 'tcp';
        try {
          parseUintGo(port, 16);
        } catch (e) {
          throw new StatusError(`Error: invalid port (${port}): ${(e as Error).message}`, 1);
        }
        const frontends = ports[`${port}/${proto}`];
        if (!frontends || frontends.length === 0) throw new StatusError(`Error: No public port '${spec}' published for ${args[0]}`, 1);
        for (const f of frontends) out.push(joinHostPort(f.HostIp, f.HostPort));
      } else {
        for (const [from, frontends] of Object.entries(ports)) {
          for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
        }
      }
      if (out.length > 0) {
        out.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
        cli.out.write(out.join('\n') + '\n');
      }
    },
  };
}

// ───────────────────────────── top ─────────────────────────────

function topDef(): CommandDef {
  return {
    name: 'top',
    use: 'CONTAINER [ps OPTIONS]',
    short: 'Display the running processes of a container',
    aliasesLine: aliasLine('top', 'top'),
    args: minArgs(1),
    interspersed: false,
    run: async ({ cli, args }) => {
      const r = await cli.client().containerTop(args[0]!, args.slice(1));
      let text = (r.Titles ?? []).join('\t') + '\n';
      for (const p of r.Processes ?? []) text += p.join('\t') + '\n';
      cli.out.write(tabwriteText(text, { minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' }));
    },
  };
}

// ───────────────────────────── diff ─────────────────────────────

const CHANGE_KINDS = ['C', 'A', 'D'];

function diffDef(): CommandDef {
  return {
    name: 'diff',
    use: 'CONTAINER',
    short: "Inspect changes to files or directories on a container's filesystem",
    aliasesLine: aliasLine('diff', 'diff'),
    args: exactArgs(1),
    run: async ({ cli, args }) => {
      if (args[0] === '') throw new StatusError('Container name cannot be empty', 1);
      const changes = await cli.client().containerDiff(args[0]!);
      const rows = changes.map((c) => ({ Path: c.Path, Type: CHANGE_KINDS[c.Kind] ?? '' }));
      cli.out.write(renderRows('{{.Type}} {{.Path}}', 'table {{.Type}}\t{{.Path}}', rows, { Type: 'CHANGE TYPE', Path: 'PATH' }));
    },
  };
}

// ───────────────────────────── commit ─────────────────────────────

function commitDef(): CommandDef {
  return {
    name: 'commit',
    use: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    aliasesLine: aliasLine('commit', 'commit'),
    args: rangeArgs(1, 2),
    interspersed: false,
    flags: [
      { name: 'pause', short: 'p', type: 'bool', default: true, usage: 'Pause container during commit' },
      { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
      { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { name: 'change', short: 'c', type: 'stringArray', placeholder: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    ],
    run: async ({ cli, flags, args }) => {
      const r = await cli.client().containerCommit(args[0]!, {
        reference: args[1] ?? '',
        comment: flags['message'] as string,
        author: flags['author'] as string,
        changes: flags['change'] as string[],
        pause: flags['pause'] as boolean,
      });
      cli.out.write(r.Id + '\n');
    },
  };
}

// ───────────────────────────── update ─────────────────────────────

function updateDef(): CommandDef {
  return {
    name: 'update',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Update configuration of one or more containers',
    aliasesLine: aliasLine('update', 'update'),
    args: minArgs(1),
    flags: [
      {
        name: 'blkio-weight',
        type: 'string',
        placeholder: 'uint16',
        usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)',
        validate: validateUint16,
      },
      { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
      { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
      { name: 'cpu-rt-period', type: 'int', usage: 'Limit the CPU real-time period in microseconds' },
      { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
      { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
      { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
      { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
      { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', usage: 'Memory limit', validate: validateMemBytes },
      { name: 'memory-reservation', type: 'string', placeholder: 'bytes', usage: 'Memory soft limit', validate: validateMemBytes },
      {
        name: 'memory-swap',
        type: 'string',
        placeholder: 'bytes',
        usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
        validate: validateMemSwap,
      },
      { name: 'kernel-memory', type: 'string', placeholder: 'bytes', usage: 'Kernel memory limit (deprecated)', hidden: true, validate: validateMemBytes },
      { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
      { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
      { name: 'cpus', type: 'string', placeholder: 'decimal', usage: 'Number of CPUs', validate: (v) => (parseCPUs(v), v) },
    ],
    run: async ({ cli, flags, args, set }) => {
      const given = [...set].filter((f) => f !== 'help');
      if (given.length === 0) throw new StatusError('you must provide one or more flags when using this command', 1);
      let restart = { Name: '', MaximumRetryCount: 0 };
      if (flags['restart']) {
        try {
          restart = parseRestartPolicy(flags['restart'] as string);
        } catch (e) {
          throw new StatusError((e as Error).message, 1);
        }
      }
      const str = (k: string) => flags[k] as string;
      const bytes = (k: string) => (str(k) === '' ? 0 : ramInBytes(str(k)));
      const num = (k: string) => flags[k] as number;
      // container.UpdateConfig: Resources (in struct order), then RestartPolicy
      const update: Record<string, unknown> = {
        CpuShares: num('cpu-shares'),
        Memory: bytes('memory'),
        NanoCpus: str('cpus') === '' ? 0 : parseCPUs(str('cpus')),
        CgroupParent: '',
        BlkioWeight: str('blkio-weight') === '' ? 0 : Number(str('blkio-weight')),
        BlkioWeightDevice: null,
        BlkioDeviceReadBps: null,
        BlkioDeviceWriteBps: null,
        BlkioDeviceReadIOps: null,
        BlkioDeviceWriteIOps: null,
        CpuPeriod: num('cpu-period'),
        CpuQuota: num('cpu-quota'),
        CpuRealtimePeriod: num('cpu-rt-period'),
        CpuRealtimeRuntime: num('cpu-rt-runtime'),
        CpusetCpus: str('cpuset-cpus'),
        CpusetMems: str('cpuset-mems'),
        Devices: null,
        DeviceCgroupRules: null,
        DeviceRequests: null,
      };
      if (bytes('kernel-memory') !== 0) update['KernelMemory'] = bytes('kernel-memory');
      Object.assign(update, {
        MemoryReservation: bytes('memory-reservation'),
        MemorySwap: str('memory-swap') === '-1' ? -1 : bytes('memory-swap'),
        MemorySwappiness: null,
        OomKillDisable: null,
        PidsLimit: num('pids-limit') !== 0 ? num('pids-limit') : null,
        Ulimits: null,
        CpuCount: 0,
        CpuPercent: 0,
        IOMaximumIOps: 0,
        IOMaximumBandwidth: 0,
        RestartPolicy: restart,
      });
      const client = cli.client();
      const warns: string[] = [];
      const errs: string[] = [];
      for (const c of args) {
        try {
          const r = await client.containerUpdate(c, update);
          cli.out.write(c + '\n');
          warns.push(...(r.Warnings ?? []));
        } catch (e) {
          errs.push(errorText(e));
        }
      }
      if (warns.length > 0) cli.out.write(warns.join('\n') + '\n');
      if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
    },
  };
}

// ───────────────────────────── export ─────────────────────────────

/** atomicwriter.New + copy: the file appears only once complete (mode 0600). */
async function writeAtomically(path: string, src: Readable, what: string): Promise<void> {
  const dir = dirname(path);
  const why = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a directory' : String(code);
  };
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new StatusError(`${what}: invalid output path: stat ${dir}: not a directory`, 1);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw new StatusError(`${what}: invalid output path: stat ${dir}: ${why(e)}`, 1);
  }
  try {
    const st = await fsp.lstat(path);
    if (!st.isFile()) throw new StatusError(`${what}: cannot write to a ${st.isDirectory() ? 'directory' : 'non-regular file'}`, 1);
  } catch (e) {
    if (e instanceof StatusError) throw e;
  }
  await writeStreamAtomic(path, src);
}

function exportDef(): CommandDef {
  return {
    name: 'export',
    use: '[OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    aliasesLine: aliasLine('export', 'export'),
    args: exactArgs(1),
    flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
    run: (ctx) => diesOfSigpipe(runExport(ctx)),
  };
}

async function runExport({ cli, flags, args }: RunContext): Promise<void> {
  const output = flags['output'] as string;
  if (output === '' && cli.out.isTTY) throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
  const body = await cli.client().containerExport(args[0]!);
  if (output !== '') {
    await writeAtomically(output, body, 'failed to export container');
    return;
  }
  try {
    for await (const chunk of body) await writeOutput(cli.out, chunk as Buffer);
  } finally {
    body.destroy();
  }
}

// ───────────────────────────── container inspect ─────────────────────────────

function containerInspectDef(): CommandDef {
  return {
    name: 'inspect',
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Display detailed information on one or more containers',
    args: minArgs(1),
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
    ],
    run: async ({ cli, flags, args }) => {
      const size = flags['size'] as boolean;
      await inspectOutput(cli, args, flags['format'] as string, async (ref) => {
        if (ref.trim() === '') throw new StatusError('invalid container name or ID: value is empty', 1);
        return cli.client().containerInspect(ref.trim(), { size });
      });
    },
  };
}

// ───────────────────────────── container prune ─────────────────────────────

const PRUNE_WARNING = `WARNING! This will remove all stopped containers.
Are you sure you want to continue?`;

/** command.PruneFilters: the config file's `pruneFilters` added to the given ones (label filters only when not given). */
export function pruneFilters(cli: CLI, filters: Record<string, string[]>): Record<string, string[]> {
  const extra = cli.config()['pruneFilters'];
  if (!Array.isArray(extra)) return filters;
  const out: Record<string, string[]> = { ...filters };
  for (const f of extra as string[]) {
    const eq = f.indexOf('=');
    if (eq < 0) continue;
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    if (k === 'label' && (out['label!'] ?? []).includes(v)) continue;
    if (k === 'label!' && (out['label'] ?? []).includes(v)) continue;
    (out[k] ??= []).push(v);
  }
  return out;
}

function pruneDef(): CommandDef {
  return {
    name: 'prune',
    use: '[OPTIONS]',
    short: 'Remove all stopped containers',
    args: noArgs,
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      filterFlag('Provide filter values (e.g. "until=<timestamp>")', null),
    ],
    check: (f) => checkFilters(f, null),
    run: async ({ cli, flags }) => {
      const filters = pruneFilters(cli, parseFilters(flags['filter'] as string[]));
      if (!(flags['force'] as boolean)) {
        const ok = await confirm(cli, PRUNE_WARNING);
        if (!ok) throw new CancelledError('container prune has been cancelled');
      }
      const report = await cli.client().containersPrune(filters);
      const deleted = report.ContainersDeleted ?? [];
      let reclaimed = 0;
      if (deleted.length > 0) {
        cli.out.write('Deleted Containers:\n' + deleted.map((id) => id + '\n').join('') + '\n');
        reclaimed = report.SpaceReclaimed ?? 0;
      }
      cli.out.write(`Total reclaimed space: ${humanSizeWithPrecision(reclaimed, 4)}\n`);
    },
  };
}

export {
  commitDef,
  containerInspectDef,
  diffDef,
  exportDef,
  killDef,
  pauseDef,
  portDef,
  pruneDef,
  renameDef,
  restartDef,
  rmDef,
  startDef,
  stopDef,
  topDef,
  updateDef,
  waitDef,
};
