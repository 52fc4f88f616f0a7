/**
 * Linux capabilities the docker way: the default set, --cap-add / --cap-drop
 * (names with or without CAP_, any case, and ALL), and --privileged.
 */
import { invalidArgument } from '../lib/errors.js';

/** Capability names by number (linux/capability.h), through CAP_CHECKPOINT_RESTORE (40). */
const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((n) => 'CAP_' + n);

/** The name of capability number n, or undefined when unknown. */
export function capName(n: number): string | undefined {
  return NAMES[n];
}

/** The capability's number, or -1. */
export function capNumber(name: string): number {
  return NAMES.indexOf(name);
}

/** What docker grants a container that asks for nothing. */
export const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Upper-cases and CAP_-prefixes names, keeping the magic ALL. `available` is
 * what this host can grant; a known name outside it is refused as docker does.
 */
export function normalizeCaps(names: string[], available: string[]): string[] {
  return names.map((raw) => {
    let c = raw.toUpperCase();
    if (c === 'ALL') return c;
    if (!c.startsWith('CAP_')) c = 'CAP_' + c;
    if (!NAMES.includes(c)) throw invalidArgument(`unknown capability: "${c}"`);
    if (!available.includes(c)) {
      throw invalidArgument(`capability not supported by your kernel or not available in the current environment: "${c}"`);
    }
    return c;
  });
}

export interface CapsInput {
  add?: string[];
  drop?: string[];
  privileged?: boolean;
  /** Everything the host can grant (HostFacts.caps); "ALL" and --privileged mean this. */
  available: string[];
}

/**
 * The container's capability set. Adding ALL grants everything except what is
 * dropped; dropping ALL keeps only what is added; otherwise the default set
 * minus drops plus adds.
 */
export function capSet(input: CapsInput): string[] {
  const { available } = input;
  if (input.privileged) return [...available];
  const drop = normalizeCaps(input.drop ?? [], available);
  const add = normalizeCaps(input.add ?? [], available);
  let caps: string[];
  if (add.includes('ALL')) caps = available.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)].filter((c) => c !== 'ALL');
}
