/** Facts about the host and the daemon, for /info and /version. */
import { promises as fs } from 'node:fs';
import os from 'node:os';

export interface HostFacts {
  hostname: string;
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  architecture: string;
  ncpu: number;
  memTotal: number;
  cgroupVersion: '1' | '2';
  memoryLimit: boolean;
  swapLimit: boolean;
  cpuCfsQuota: boolean;
  cpuShares: boolean;
  cpuSet: boolean;
  pidsLimit: boolean;
  oomKillDisable: boolean;
  ipv4Forwarding: boolean;
}

async function readText(path: string): Promise<string | undefined> {
  return fs.readFile(path, 'utf8').catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

function osRelease(text: string | undefined): { name: string; version: string } {
  const vars = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.replace(/^"|"$/g, ''));
  }
  return { name: vars.get('PRETTY_NAME') ?? 'Linux', version: vars.get('VERSION_ID') ?? '' };
}

/** Docker's names for Node's architectures, as `docker info` prints them (uname -m style). */
export function unameMachine(): string {
  const map: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' };
  return map[process.arch] ?? process.arch;
}

export async function hostFacts(): Promise<HostFacts> {
  const release = osRelease(await readText('/etc/os-release'));
  const v2 = await exists('/sys/fs/cgroup/cgroup.controllers');
  const mem = v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory';
  return {
    hostname: os.hostname(),
    kernelVersion: os.release(),
    operatingSystem: release.name,
    osVersion: release.version,
    architecture: unameMachine(),
    ncpu: os.cpus().length,
    memTotal: os.totalmem(),
    cgroupVersion: v2 ? '2' : '1',
    memoryLimit: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : '/sys/fs/cgroup/memory/memory.limit_in_bytes'),
    swapLimit: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : `${mem}/memory.memsw.limit_in_bytes`),
    cpuCfsQuota: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'),
    cpuShares: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : '/sys/fs/cgroup/cpu/cpu.shares'),
    cpuSet: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : '/sys/fs/cgroup/cpuset/cpuset.cpus'),
    pidsLimit: await exists(v2 ? '/sys/fs/cgroup/cgroup.controllers' : '/sys/fs/cgroup/pids'),
    oomKillDisable: !v2 && (await exists('/sys/fs/cgroup/memory/memory.oom_control')),
    ipv4Forwarding: (await readText('/proc/sys/net/ipv4/ip_forward'))?.trim() === '1',
  };
}
