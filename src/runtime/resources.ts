/**
 * Cgroup resources of a container (--memory, --cpus, --pids-limit, ...) in
 * the OCI form dockerd writes, and the devices cgroup allow-list.
 */
import type { DeviceRule, Resources } from '../oci/runtimespec.js';

/** Resource limits; unset fields leave the cgroup default. Byte counts are bytes. */
export interface ResourcesInput {
  /** --memory. */
  memory?: number;
  /** --memory-reservation (soft limit). */
  memoryReservation?: number;
  /** --memory-swap: memory plus swap; -1 unlimited; unset or 0 with --memory means twice --memory, as docker. */
  memorySwap?: number;
  /** --memory-swappiness, 0–100; -1 or unset leaves it alone. */
  memorySwappiness?: number;
  /** --oom-kill-disable. */
  oomKillDisable?: boolean;
  /** --cpus: CPUs as a fraction, written as a CFS quota over a 100 ms period. */
  cpus?: number;
  /** --cpu-shares (relative weight). */
  cpuShares?: number;
  /** --cpu-period / --cpu-quota in microseconds, for callers that set CFS directly. */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** --cpuset-cpus / --cpuset-mems, e.g. "0-1". */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** --pids-limit; 0 or negative means unlimited. */
  pidsLimit?: number;
  /** --blkio-weight, 10–1000. */
  blkioWeight?: number;
}

/** What the host cgroups can enforce; what they cannot is left out, as docker discards it with a warning. */
export interface CgroupSupport {
  swapLimit: boolean;
  blkioWeight: boolean;
}

const CFS_PERIOD = 100_000;

const allow = (type: 'c' | 'b', major: number | undefined, minor: number | undefined, access = 'rwm'): DeviceRule => {
  const r: DeviceRule = { allow: true, type };
  if (major !== undefined) r.major = major;
  if (minor !== undefined) r.minor = minor;
  r.access = access;
  return r;
};

/** Deny everything, then allow the standard nodes, ptys, tun, and mknod of any device. */
export function defaultDeviceRules(): DeviceRule[] {
  return [
    { allow: false, access: 'rwm' },
    allow('c', 1, 3), // null
    allow('c', 1, 5), // zero
    allow('c', 1, 7), // full
    allow('c', 1, 8), // random
    allow('c', 1, 9), // urandom
    allow('c', 5, 0), // tty
    allow('c', 5, 1), // console
    allow('c', 5, 2), // ptmx
    allow('c', 136, undefined), // pts/*
    allow('c', 10, 200), // net/tun
    allow('c', undefined, undefined, 'm'),
    allow('b', undefined, undefined, 'm'),
  ];
}

/** The OCI resources object for the limits and the device rules. */
export function resources(r: ResourcesInput, devices: DeviceRule[], host: CgroupSupport): Resources {
  const out: Resources = { devices };

  const memory: NonNullable<Resources['memory']> = {};
  if (r.memory && r.memory > 0) memory.limit = r.memory;
  if (r.memoryReservation && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  let swap = r.memorySwap ?? 0;
  if (swap === 0 && memory.limit) swap = memory.limit * 2;
  if (swap > 0 && memory.limit && host.swapLimit) memory.swap = swap;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable !== undefined) memory.disableOOMKiller = r.oomKillDisable;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<Resources['cpu']> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.cpus && r.cpus > 0) {
    const nano = Math.round(r.cpus * 1e9);
    cpu.period = CFS_PERIOD;
    cpu.quota = Math.floor((nano * CFS_PERIOD) / 1e9);
  } else {
    if (r.cpuPeriod) cpu.period = r.cpuPeriod;
    if (r.cpuQuota) cpu.quota = r.cpuQuota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 };
  if (r.blkioWeight && r.blkioWeight > 0 && host.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}
