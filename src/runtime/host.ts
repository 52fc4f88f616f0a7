/**
 * Facts about the machine and the calling process that shape a container's
 * spec: what "all capabilities" means here, the hard rlimits the daemon can
 * grant, which cgroup v1 knobs exist. Read once, then cached; tests pass their
 * own facts to buildSpec instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';
import { RLIM_INFINITY } from '../oci/runtimespec.js';
import { capName } from './caps.js';

export interface HostFacts {
  /** Go's name for the machine architecture (amd64, arm64, ...), as seccomp profiles use. */
  arch: string;
  /** Kernel release (uname -r), for seccomp minKernel conditions. */
  kernel: string;
  /** Capabilities the daemon holds (its effective set): the set a privileged container gets. */
  caps: string[];
  /** Hard limits of the calling process by RLIMIT_* type; bigint RLIM_INFINITY when unlimited. */
  hardLimits: Record<string, number | bigint>;
  hostname: string;
  cpuCount: number;
  /** memory.memsw.* exists: a swap limit can be set. */
  swapLimit: boolean;
  /** blkio.weight (or blkio.bfq.weight) exists. */
  blkioWeight: boolean;
  /** Sysctls docker sets by default in a private network namespace, if this kernel has them. */
  netSysctls: Record<string, string>;
}

/** /proc/self/limits row labels → RLIMIT_* types. */
const LIMIT_ROWS: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Hard limits from /proc/<pid>/limits text. */
export function parseHardLimits(text: string): Record<string, number | bigint> {
  const out: Record<string, number | bigint> = {};
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s{2,}/);
    const type = LIMIT_ROWS[cols[0] ?? ''];
    if (!type || cols.length < 3) continue;
    out[type] = cols[2] === 'unlimited' ? RLIM_INFINITY : Number(cols[2]);
  }
  return out;
}

/** Capability names of a /proc/<pid>/status Cap* bitmap, up to the kernel's last capability. */
export function capsOfMask(hexMask: string, lastCap: number): string[] {
  const mask = BigInt('0x' + hexMask);
  const out: string[] = [];
  for (let bit = 0; bit <= lastCap; bit++) {
    const name = capName(bit);
    if (name && (mask >> BigInt(bit)) & 1n) out.push(name);
  }
  return out;
}

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
};

let cached: HostFacts | undefined;

/** The facts of this machine and process (read once). */
export function hostFacts(): HostFacts {
  cached ??= probe();
  return cached;
}

function probe(): HostFacts {
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const netSysctls: Record<string, string> = {};
  if (existsSync('/proc/sys/net/ipv4/ping_group_range')) netSysctls['net.ipv4.ping_group_range'] = '0 2147483647';
  if (existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start')) netSysctls['net.ipv4.ip_unprivileged_port_start'] = '0';
  return {
    arch: GO_ARCH[process.arch] ?? process.arch,
    kernel: release(),
    caps: capsOfMask(eff, lastCap),
    hardLimits: parseHardLimits(readFileSync('/proc/self/limits', 'utf8')),
    hostname: hostname(),
    cpuCount: cpus().length,
    swapLimit: existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    blkioWeight:
      existsSync('/sys/fs/cgroup/blkio/blkio.weight') || existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight'),
    netSysctls,
  };
}
