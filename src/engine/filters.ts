/** Pieces of docker's `--filter` language shared by the resource services and the event stream. */
import { invalidArgument } from '../lib/errors.js';

/** `label=key` (present) and `label=key=value` (equal), every one of `wanted` must hold. */
export function matchesLabels(labels: Record<string, string> | null | undefined, wanted: readonly string[]): boolean {
  const have = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? w in have : have[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** Docker's filter timestamps: unix seconds (with fraction), RFC 3339, or a Go duration back from now. */
export function parseTimestamp(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (!Number.isNaN(t)) return t;
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(s);
  if (m) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
    return Date.now() - Number(m[1]) * unit[m[2]!]!;
  }
  throw invalidArgument(`failed to parse value as time or duration: "${s}"`);
}

/** The same, in nanoseconds since the epoch (event and log times); undefined for an absent or `0` value. */
export function parseTimestampNano(s: string | undefined): bigint | undefined {
  if (!s || s === '0') return undefined;
  return BigInt(Math.floor(parseTimestamp(s) * 1e6));
}
