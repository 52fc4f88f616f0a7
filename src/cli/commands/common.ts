/** Pieces shared by the command modules: help strings, filter flags, error text, key ordering. */
import { DaemonError, type Filters } from '../../client/index.js';
import { PROG } from '../cli.js';
import type { FlagDef, FlagValue } from '../flags.js';

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

/** `-f, --filter filter` as docker's list commands define it. */
export function filterFlag(usage = 'Filter output based on conditions provided', short: string | null = 'f'): FlagDef {
  const d: FlagDef = { name: 'filter', type: 'stringArray', usage, placeholder: 'filter' };
  if (short) d.short = short;
  return d;
}

/** Checks `name=value` filter values (docker's FilterOpt.Set), for a command's `check` hook. */
export function checkFilters(flags: Record<string, FlagValue>, short: string | null = 'f'): void {
  const values = (flags['filter'] as string[] | undefined) ?? [];
  for (const v of values) {
    if (!v.includes('=')) {
      const who = short ? `-${short}, --filter` : '--filter';
      throw new Error(`invalid argument ${JSON.stringify(v)} for ${JSON.stringify(who)} flag: bad format of filter (expected name=value)`);
    }
  }
}

/** `name=value` strings → the API's filter map (names lower-cased, both sides trimmed). */
export function parseFilters(values: string[]): Filters {
  const out: Filters = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    (out[name] ??= []).push(value);
  }
  return out;
}

/** The text docker prints for an error (daemon errors get their prefix). */
export function errorText(e: unknown): string {
  if (e instanceof DaemonError) return `Error response from daemon: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Returns a copy with keys in Go's map order (sorted), so `{{json .}}` matches docker. */
export function sortKeys<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = (o as Record<string, unknown>)[k];
  return out as T;
}

/** docker's TruncateID: drop an `algo:` prefix, keep 12 characters. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  const s = i >= 0 ? id.slice(i + 1) : id;
  return s.length > 12 ? s.slice(0, 12) : s;
}

/** docker's Ellipsis for plain ASCII/Unicode text (width counted in code points). */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const rs = [...s];
  if (max === 1) return rs[0] ?? '';
  if (rs.length <= max) return s;
  return rs.slice(0, max - 1).join('') + '…';
}

/** Replaces the product name in docker's help strings. */
export function prog(s: string): string {
  return s.replace(/\bdocker\b/g, PROG);
}
