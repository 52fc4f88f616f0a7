/**
 * Container resource statistics (`docker stats`) read from the cgroup v1
 * hierarchies the runtime puts each container in (`<controller>/berth/<id>`),
 * in the shape of docker's StatsResponse.
 */
import { promises as fs } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { ContainerRecord } from '../core/containers.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** USER_HZ: cpuacct.stat and /proc/stat count in these ticks. */
const TICK_NS = 1e9 / 100;
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface CpuUsage {
  total_usage: number;
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface StatsSample {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
}

const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
] as const;

function zeroCpu(): CpuStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

/** What docker answers for a container that does not run: only the name and ID are set. */
export function emptyStats(c: ContainerRecord): StatsSample {
  return {
    name: `/${c.name}`,
    id: c.id,
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
  };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const t = (await readText(path))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function blkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 3) {
      const [dev, op, value] = parts as [string, string, string];
      const [major, minor] = dev.split(':').map(Number);
      if (major === undefined || minor === undefined || Number.isNaN(major)) continue;
      out.push({ major, minor: minor ?? 0, op, value: Number(value) });
    } else if (parts.length === 2 && /^\d+:\d+$/.test(parts[0]!)) {
      const [major, minor] = parts[0]!.split(':').map(Number);
      out.push({ major: major!, minor: minor!, op: '', value: Number(parts[1]) });
    }
  }
  return out;
}

/** The host's CPU time (all CPUs, all states) in nanoseconds, and the count of online CPUs, from /proc/stat. */
export async function systemCpu(): Promise<{ usage: number; online: number }> {
  const text = (await readText('/proc/stat')) ?? '';
  let usage = 0;
  let online = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const fields = line.trim().split(/\s+/).slice(1, 8).map(Number);
      usage = fields.reduce((a, b) => a + b, 0) * TICK_NS;
    } else if (/^cpu\d+ /.test(line)) {
      online++;
    }
  }
  return { usage, online };
}

/** The directory of a container's cgroup under one controller. */
async function cgroupDir(controller: string, c: ContainerRecord): Promise<string> {
  const direct = join(CGROUP_ROOT, controller, 'berth', c.id);
  if (await fs.access(direct).then(() => true, () => false)) return direct;
  // Fall back to where the container's init process really is.
  if (c.state.Pid > 0) {
    const text = (await readText(`/proc/${c.state.Pid}/cgroup`)) ?? '';
    for (const line of text.split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers && path && controllers.split(',').includes(controller)) return join(CGROUP_ROOT, controller, path);
    }
  }
  return direct;
}

/** One sample of a running container's cgroup counters, with `precpu_stats` taken from the previous sample. */
export async function sample(c: ContainerRecord, prev?: StatsSample): Promise<StatsSample> {
  const [cpuacct, cpu, memory, pids, blkio] = await Promise.all(['cpuacct', 'cpu', 'memory', 'pids', 'blkio'].map((ctl) => cgroupDir(ctl, c)));
  const sys = await systemCpu();
  const [usage, percpuText, cpuacctStat, cpuStat] = await Promise.all([
    readNumber(join(cpuacct!, 'cpuacct.usage')),
    readText(join(cpuacct!, 'cpuacct.usage_percpu')),
    readText(join(cpuacct!, 'cpuacct.stat')),
    readText(join(cpu!, 'cpu.stat')),
  ]);
  const ticks = keyValues(cpuacctStat);
  const throttle = keyValues(cpuStat);
  const percpu = (percpuText ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  const cpuStats: CpuStats = {
    cpu_usage: {
      total_usage: usage ?? 0,
      ...(percpu.length ? { percpu_usage: percpu } : {}),
      usage_in_kernelmode: (ticks.system ?? 0) * TICK_NS,
      usage_in_usermode: (ticks.user ?? 0) * TICK_NS,
    },
    system_cpu_usage: sys.usage,
    online_cpus: sys.online,
    throttling_data: {
      periods: throttle.nr_periods ?? 0,
      throttled_periods: throttle.nr_throttled ?? 0,
      throttled_time: throttle.throttled_time ?? 0,
    },
  };

  const [memUsage, memMax, memFail, memLimit, memStat] = await Promise.all([
    readNumber(join(memory!, 'memory.usage_in_bytes')),
    readNumber(join(memory!, 'memory.max_usage_in_bytes')),
    readNumber(join(memory!, 'memory.failcnt')),
    readNumber(join(memory!, 'memory.limit_in_bytes')),
    readText(join(memory!, 'memory.stat')),
  ]);
  const machine = totalmem();
  let limit = memLimit ?? machine;
  // An unlimited cgroup reports a huge number: docker shows the host's memory then.
  if (limit > machine && machine > 0) limit = machine;
  const memoryStats: StatsSample['memory_stats'] = {};
  if (memUsage !== undefined) memoryStats.usage = memUsage;
  if (memMax !== undefined) memoryStats.max_usage = memMax;
  if (memStat !== undefined) memoryStats.stats = keyValues(memStat);
  if (memFail) memoryStats.failcnt = memFail;
  memoryStats.limit = limit;

  const [pidsCurrent, pidsMax] = await Promise.all([readNumber(join(pids!, 'pids.current')), readNumber(join(pids!, 'pids.max'))]);
  const pidsStats: StatsSample['pids_stats'] = {};
  if (pidsCurrent) pidsStats.current = pidsCurrent;
  if (pidsMax) pidsStats.limit = pidsMax;

  const file = async (name: string) => blkioEntries(await readText(join(blkio!, name)));
  let serviceBytes = await file('blkio.io_service_bytes_recursive');
  let serviced = await file('blkio.io_serviced_recursive');
  // Without the CFQ scheduler's counters, the throttle policy's are the ones kept.
  if (serviceBytes.length === 0) serviceBytes = await file('blkio.throttle.io_service_bytes_recursive');
  if (serviced.length === 0) serviced = await file('blkio.throttle.io_serviced_recursive');
  const blkioStats: Record<string, BlkioEntry[] | null> = {
    io_service_bytes_recursive: serviceBytes,
    io_serviced_recursive: serviced,
    io_queue_recursive: await file('blkio.io_queued_recursive'),
    io_service_time_recursive: await file('blkio.io_service_time_recursive'),
    io_wait_time_recursive: await file('blkio.io_wait_time_recursive'),
    io_merged_recursive: await file('blkio.io_merged_recursive'),
    io_time_recursive: await file('blkio.time_recursive'),
    sectors_recursive: await file('blkio.sectors_recursive'),
  };

  return {
    name: `/${c.name}`,
    id: c.id,
    read: new Date().toISOString(),
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: pidsStats,
    blkio_stats: blkioStats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats,
    precpu_stats: prev?.cpu_stats ?? zeroCpu(),
    memory_stats: memoryStats,
  };
}
