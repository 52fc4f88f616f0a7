/**
 * `stats` (docker's stats.go, stats_helpers.go, formatter_stats.go): one
 * collector per container reading `GET /containers/{id}/stats`, the
 * CPU/memory/IO figures computed from each sample (CPU from the sample and
 * its `precpu_stats`), a table redrawn every 500ms (or printed once with
 * --no-stream). Without container names the list follows container events.
 */
import type { IncomingMessage } from 'node:http';
import { decodeEvents, decodeJSONStream, type Client, type ContainerStats } from '../../client/index.js';
import { bytesSize, humanSizeWithPrecision } from '../../lib/units.js';
import { PROG, StatusError } from '../cli.js';
import { type CommandDef, type RunContext } from '../command.js';
import { renderRows } from '../output.js';
import { errorText, FORMAT_HELP, truncateID } from './common.js';

const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const WIN_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.BlockIO}}';

export interface StatsEntry {
  Container: string;
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  IsInvalid: boolean;
}

function emptyEntry(container: string): StatsEntry {
  return {
    Container: container,
    Name: '',
    ID: '',
    CPUPercentage: 0,
    Memory: 0,
    MemoryLimit: 0,
    MemoryPercentage: 0,
    NetworkRx: 0,
    NetworkTx: 0,
    BlockRead: 0,
    BlockWrite: 0,
    PidsCurrent: 0,
    IsInvalid: false,
  };
}

/** calculateCPUPercentUnix */
export function cpuPercentUnix(v: ContainerStats): number {
  const prevCPU = v.precpu_stats?.cpu_usage?.total_usage ?? 0;
  const prevSystem = v.precpu_stats?.system_cpu_usage ?? 0;
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - prevCPU;
  const systemDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - prevSystem;
  let online = v.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = (v.cpu_stats?.cpu_usage?.percpu_usage ?? []).length;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
  return 0;
}

/** calculateCPUPercentWindows */
function cpuPercentWindows(v: ContainerStats): number {
  const read = Date.parse(v.read ?? '') * 1e6;
  const preread = Date.parse(v.preread ?? '') * 1e6;
  let intervals = Math.max(0, read - preread) / 100;
  intervals *= v.num_procs ?? 0;
  const used = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  return intervals > 0 ? (used / intervals) * 100 : 0;
}

/** calculateMemUsageUnixNoCache */
export function memUsageNoCache(mem: ContainerStats['memory_stats']): number {
  const usage = mem?.usage ?? 0;
  const stats = mem?.stats ?? {};
  const total = stats['total_inactive_file'];
  if (total !== undefined && total < usage) return usage - total;
  const inactive = stats['inactive_file'] ?? 0;
  if (inactive < usage) return usage - inactive;
  return usage;
}

/** One sample → the figures the table shows. */
export function entryFromStats(container: string, v: ContainerStats, osType: string): StatsEntry {
  const e = emptyEntry(container);
  e.Name = v.name ?? '';
  e.ID = v.id ?? '';
  if (osType !== 'windows') {
    e.CPUPercentage = cpuPercentUnix(v);
    for (const b of v.blkio_stats?.io_service_bytes_recursive ?? []) {
      const op = b.op ?? '';
      if (op === '') continue;
      if (op[0] === 'r' || op[0] === 'R') e.BlockRead += b.value;
      else if (op[0] === 'w' || op[0] === 'W') e.BlockWrite += b.value;
    }
    e.Memory = memUsageNoCache(v.memory_stats);
    e.MemoryLimit = v.memory_stats?.limit ?? 0;
    e.MemoryPercentage = e.MemoryLimit !== 0 ? (e.Memory / e.MemoryLimit) * 100 : 0;
    e.PidsCurrent = v.pids_stats?.current ?? 0;
  } else {
    e.CPUPercentage = cpuPercentWindows(v);
    e.BlockRead = v.storage_stats?.read_size_bytes ?? 0;
    e.BlockWrite = v.storage_stats?.write_size_bytes ?? 0;
    e.Memory = v.memory_stats?.privateworkingset ?? 0;
  }
  for (const n of Object.values(v.networks ?? {})) {
    e.NetworkRx += n.rx_bytes ?? 0;
    e.NetworkTx += n.tx_bytes ?? 0;
  }
  return e;
}

const pct = (v: number) => v.toFixed(2) + '%';

/** The row a stats entry shows (statsContext), keys in Go's sorted order for `{{json .}}`. */
export function statsRow(s: StatsEntry, osType: string, trunc: boolean): Record<string, string> {
  const win = osType === 'windows';
  return {
    BlockIO: s.IsInvalid ? '--' : `${humanSizeWithPrecision(s.BlockRead, 3)} / ${humanSizeWithPrecision(s.BlockWrite, 3)}`,
    CPUPerc: s.IsInvalid ? '--' : pct(s.CPUPercentage),
    Container: s.Container,
    ID: trunc ? truncateID(s.ID) : s.ID,
    MemPerc: s.IsInvalid || win ? '--' : pct(s.MemoryPercentage),
    MemUsage: s.IsInvalid ? '-- / --' : win ? bytesSize(s.Memory) : `${bytesSize(s.Memory)} / ${bytesSize(s.MemoryLimit)}`,
    Name: s.Name.length > 1 ? s.Name.slice(1) : '--',
    NetIO: s.IsInvalid ? '--' : `${humanSizeWithPrecision(s.NetworkRx, 3)} / ${humanSizeWithPrecision(s.NetworkTx, 3)}`,
    PIDs: s.IsInvalid || win ? '--' : String(s.PidsCurrent),
  };
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** One container's collector: the latest entry and any error. */
class Collector {
  entry: StatsEntry;
  error: unknown = null;
  private body: IncomingMessage | undefined;
  private stopped = false;
  readonly first: Promise<void>;
  private markFirst!: () => void;

  constructor(readonly container: string) {
    this.entry = emptyEntry(container);
    this.first = new Promise((r) => (this.markFirst = r));
  }

  private setErrorAndReset(err: unknown): void {
    this.entry = { ...emptyEntry(this.container), Name: this.entry.Name, ID: this.entry.ID, IsInvalid: true };
    this.error = err;
  }

  /** collect(): reads samples until the stream ends (or one sample without streaming). */
  async run(client: Client, stream: boolean, osType: { value: string }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.setErrorAndReset(new Error('timeout waiting for stats'));
        this.markFirst();
        if (stream) arm();
      }, 2000);
      timer.unref();
    };
    arm();
    try {
      const r = await client.containerStats(this.container, { stream });
      this.body = r.body;
      osType.value = r.osType || osType.value;
      for await (const v of decodeJSONStream(r.body)) {
        if (this.stopped) break;
        if (v === null || typeof v !== 'object') continue;
        this.entry = entryFromStats(this.container, v as ContainerStats, osType.value);
        this.error = null;
        this.markFirst();
        arm();
        if (!stream) break;
      }
    } catch (e) {
      if (!this.stopped) {
        this.error = e;
        this.entry.IsInvalid = true;
      }
    } finally {
      clearTimeout(timer);
      this.markFirst();
    }
  }

  stop(): void {
    this.stopped = true;
    this.body?.destroy();
  }
}

async function runStats(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const client = cli.client();
  const all = flags['all'] as boolean;
  const noStream = flags['no-stream'] as boolean;
  const trunc = !(flags['no-trunc'] as boolean);
  const showAll = args.length === 0;
  const osType = { value: '' };
  const collectors: Collector[] = [];
  const add = (id: string): Collector | undefined => {
    if (collectors.some((c) => c.container === id)) return undefined;
    const c = new Collector(id);
    collectors.push(c);
    void c.run(client, !noStream, osType);
    return c;
  };
  const remove = (id: string) => {
    const i = collectors.findIndex((c) => c.container === id);
    if (i >= 0) collectors.splice(i, 1)[0]!.stop();
  };
  let events: IncomingMessage | undefined;
  let eventsError: unknown = null;
  const ac = new AbortController();
  try {
    if (showAll) {
      events = await client.events({ filters: { type: ['container'] }, signal: ac.signal });
      const ev = events;
      void (async () => {
        try {
          for await (const { event } of decodeEvents(ev)) {
            const id = (event.Actor?.ID ?? '').slice(0, 12);
            if (event.Action === 'start' || (all && event.Action === 'create')) add(id);
            else if (!all && event.Action === 'die') remove(id);
          }
        } catch (e) {
          if (!ac.signal.aborted) eventsError = e;
        }
      })();
      const list = await client.containerList({ all });
      for (const c of list) add(c.Id.slice(0, 12));
      await Promise.all(collectors.map((c) => c.first));
    } else {
      for (const name of args) add(name);
      await Promise.all(collectors.map((c) => c.first));
      const errs = collectors.filter((c) => c.error !== null).map((c) => c.error);
      if (errs.length > 0) throw new StatusError(errs.map(errorText).join('\n'), 1);
    }

    let format = flags['format'] as string;
    if (format === '') format = (cli.config()['statsFormat'] as string | undefined) || 'table';
    if (osType.value === '') osType.value = (await client.ping().catch(() => undefined))?.osType ?? 'linux';
    const table = osType.value === 'windows' ? WIN_STATS_TABLE : STATS_TABLE;
    const source = format === 'table' ? table : format;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      let text = noStream ? '' : '\x1b[H';
      text += renderRows(source, table, collectors.map((c) => statsRow(c.entry, osType.value, trunc)), STATS_HEADERS);
      if (!noStream) {
        for (const line of text.split('\n')) text += `${line} \x1b[K\n`;
        text += '\x1b[J';
      }
      cli.out.write(text);
      if (collectors.length === 0 && !showAll) break;
      if (noStream) break;
      if (eventsError) throw new StatusError(errorText(eventsError), 1);
      if (cli.out.broken) break;
    }
  } finally {
    ac.abort();
    events?.destroy();
    for (const c of collectors) c.stop();
  }
}

export function statsDef(): CommandDef {
  return {
    name: 'stats',
    use: '[OPTIONS] [CONTAINER...]',
    short: 'Display a live stream of container(s) resource usage statistics',
    aliasesLine: `${PROG} container stats, ${PROG} stats`,
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
      { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
      { name: 'format', type: 'string', usage: FORMAT_HELP },
    ],
    run: runStats,
  };
}
