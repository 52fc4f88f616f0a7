/**
 * Sizes and durations the way docker prints and parses them
 * (github.com/docker/go-units, plus Go's time.ParseDuration / Duration.String).
 */
import { invalidArgument } from './errors.js';
import { formatFloat, goQuote } from './gofmt.js';

const decimalAbbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binaryAbbrs = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Divides by base until below it (or out of units). */
function scale(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i]];
}

/** go-units HumanSizeWithPrecision: decimal units, Go's %.<precision>g. */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [n, unit] = scale(size, 1000, decimalAbbrs);
  return formatFloat(n, 'g', precision) + unit;
}

/** Docker's SIZE column: HumanSizeWithPrecision(size, 3), e.g. 4.26MB, 123MB, 1.2kB, 0B. */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 3);
}

/** go-units BytesSize: binary units, 4 significant digits, e.g. 1.5MiB. */
export function bytesSize(bytes: number): string {
  const [n, unit] = scale(bytes, 1024, binaryAbbrs);
  return formatFloat(n, 'g', 4) + unit;
}

const decimalMap: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const binaryMap: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** go-units FromHumanSize: '10m' → 10000000 (decimal multipliers). */
export function fromHumanSize(s: string): number {
  return parseSize(s, decimalMap);
}

/** go-units RAMInBytes: '512m' → 536870912 (binary multipliers; b, k, m, g, t, p with optional b / ib, any case). */
export function ramInBytes(s: string): number {
  return parseSize(s, binaryMap);
}

function parseSize(sizeStr: string, units: Record<string, number>): number {
  let num: string;
  let sfx: string;
  const space = sizeStr.indexOf(' ');
  if (space >= 0) {
    num = sizeStr.slice(0, space);
    sfx = sizeStr.slice(space + 1);
  } else {
    // The number ends at the last digit or dot.
    const sep = Math.max(...[...'0123456789.'].map((c) => sizeStr.lastIndexOf(c)));
    if (sep < 0) throw invalidArgument(`invalid size: '${sizeStr}'`);
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  }
  let size = parseGoFloat(num);
  if (size < 0) throw invalidArgument(`invalid size: '${sizeStr}'`);
  if (sfx === '') return Math.trunc(size);
  const bad = () => invalidArgument(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = units[sfx[0]];
  if (mul === undefined) throw bad();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  size *= mul;
  return Math.trunc(size);
}

/** Go's strconv.ParseFloat for decimal text (and inf/nan). */
function parseGoFloat(s: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  throw invalidArgument(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
}

/** go-units HumanDuration: 'Less than a second', 'About a minute', '3 hours', '2 weeks', ... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** Docker's CREATED column: HumanDuration(now - created) + ' ago'. */
export function timeAgo(unixSeconds: number, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - unixSeconds * 1000)} ago`;
}

const durationUnits: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in milliseconds: '300ms', '1.5h', '2h45m', '-10s', '0'. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const invalid = () => invalidArgument(`time: invalid duration ${goQuote(orig)}`);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let ns = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const [whole, int = '', frac] = m;
    if (int === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(whole.length);
    const unitMatch = /^[^\d.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === '') throw invalidArgument(`time: missing unit in duration ${goQuote(orig)}`);
    const mul = durationUnits[unit];
    if (mul === undefined) throw invalidArgument(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    s = s.slice(unit.length);
    ns += Number(int || '0') * mul;
    if (frac) ns += Math.trunc(Number('0.' + frac) * mul);
    if (ns > 2 ** 63 - 1) throw invalid();
  }
  return (neg ? -ns : ns) / 1e6;
}

/** Go's time.Duration.String for a count of milliseconds: '1m30s', '1h0m0s', '500ms', '0s'. */
export function goDurationString(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  if (ns < 0n) ns = -ns;
  // fraction renders v / 10^digits with trailing zeros dropped.
  const fraction = (v: bigint, digits: number) => {
    const s = v.toString().padStart(digits + 1, '0');
    const frac = s.slice(-digits).replace(/0+$/, '');
    return s.slice(0, -digits) + (frac ? '.' + frac : '');
  };
  if (ns < 1_000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fraction(ns, 3)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${fraction(ns, 6)}ms`;
  const secs = ns / 1_000_000_000n;
  const frac = fraction(ns % 1_000_000_000n, 9).replace(/^0/, '');
  let out = `${secs % 60n}${frac}s`;
  const mins = secs / 60n;
  if (mins > 0n) {
    out = `${mins % 60n}m` + out;
    const hours = mins / 60n;
    if (hours > 0n) out = `${hours}h` + out;
  }
  return sign + out;
}
