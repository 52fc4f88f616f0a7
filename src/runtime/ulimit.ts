/**
 * --ulimit name=soft[:hard] as docker parses it, and its conversion to OCI
 * rlimits clamped to what the daemon itself may grant: without
 * CAP_SYS_RESOURCE a limit above the daemon's own hard limit makes runc fail.
 */
import { invalidArgument } from '../lib/errors.js';
import { goQuote } from '../lib/gofmt.js';
import { RLIM_INFINITY, type Rlimit } from '../oci/runtimespec.js';

/** A ulimit as the Engine API carries it; -1 means unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** The names docker accepts (it leaves out "as"). */
const NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
]);

/** Go's strconv.ParseInt(s, 10, 64) with its error words; "infinity" is -1. */
function parseValue(s: string): number {
  if (s === 'infinity') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw invalidArgument(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw invalidArgument(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** Parses `nofile=1024:2048`, `nproc=512` (hard = soft) or `core=infinity`. */
export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw invalidArgument(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  const rest = val.slice(eq + 1);
  if (!NAMES.has(name)) throw invalidArgument(`invalid ulimit type: ${name}`);
  const parts = rest.split(':');
  if (parts.length > 2) {
    throw invalidArgument(`too many limit value arguments - ${rest}, can only have up to two, \`soft[:hard]\``);
  }
  const hard = parts.length === 2 ? parseValue(parts[1]!) : undefined;
  const soft = parseValue(parts[0]!);
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) {
      throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    }
    if (soft > h) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { name, soft, hard: h };
}

const toU64 = (v: number): number | bigint => (v < 0 ? RLIM_INFINITY : v);
const min = (a: number | bigint, b: number | bigint): number | bigint => (BigInt(a) <= BigInt(b) ? a : b);

/**
 * OCI rlimits for ulimits. Each hard limit is lowered to the daemon's own
 * (`hardLimits`, by RLIMIT_* type) and each soft limit to its hard limit.
 * The last ulimit of a name wins, as in docker's map of them.
 */
export function toRlimits(ulimits: Ulimit[], hardLimits: Record<string, number | bigint>): Rlimit[] {
  const byName = new Map<string, Ulimit>();
  for (const u of ulimits) {
    if (!NAMES.has(u.name)) throw invalidArgument(`invalid ulimit name ${u.name}`);
    byName.delete(u.name);
    byName.set(u.name, u);
  }
  return [...byName.values()].map((u) => {
    const type = 'RLIMIT_' + u.name.toUpperCase();
    const ceiling = hardLimits[type] ?? RLIM_INFINITY;
    const hard = min(toU64(u.hard), ceiling);
    const soft = min(toU64(u.soft), hard);
    return { type, soft, hard };
  });
}
