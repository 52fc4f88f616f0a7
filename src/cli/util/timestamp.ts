/**
 * docker's `GetTimestamp` (api/types/time): turns a `--since`/`--until`
 * value — a Go duration (`42m`), an RFC 3339 date or time (with or without
 * zone, seconds or fraction) or a unix timestamp — into the API's
 * `seconds[.nanoseconds]` form, with Go's error texts.
 */
import { parseGoDuration } from '../../lib/units.js';

type Elem = '2006' | '01' | '02' | '15' | '04' | '05' | '.999999999' | 'Z07:00' | '-' | ':' | 'T';

const LAYOUTS: Record<string, Elem[]> = {
  '2006-01-02T15:04:05.999999999Z07:00': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05', '.999999999', 'Z07:00'],
  '2006-01-02T15:04:05Z07:00': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05', 'Z07:00'],
  '2006-01-02T15:04:05.999999999': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05', '.999999999'],
  '2006-01-02T15:04:05': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05'],
  '2006-01-02T15:04': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04'],
  '2006-01-02T15': ['2006', '-', '01', '-', '02', 'T', '15'],
  '2006-01-02T15:04Z07:00': ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', 'Z07:00'],
  '2006-01-02T15Z07:00': ['2006', '-', '01', '-', '02', 'T', '15', 'Z07:00'],
  '2006-01-02Z07:00': ['2006', '-', '01', '-', '02', 'Z07:00'],
  '2006-01-02': ['2006', '-', '01', '-', '02'],
};

interface Parsed {
  /** Milliseconds since the epoch, plus the nanoseconds within the second. */
  seconds: bigint;
  nanos: number;
}

/** A minimal time.Parse / ParseInLocation for the layouts above. */
function goParseTime(layout: string, value: string, offsetMinutes: number | null): Parsed {
  const elems = LAYOUTS[layout]!;
  const fail = (rest: string, elem: string, extra = ''): never => {
    throw new Error(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}${extra}`);
  };
  let s = value;
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nanos = 0;
  let zone: number | null = null;
  const num = (n: number, elem: string): number => {
    const m = new RegExp(`^\\d{${n}}`).exec(s);
    if (!m) return fail(s, elem);
    s = s.slice(n);
    return Number(m[0]);
  };
  const fraction = () => {
    const m = /^[.,](\d{1,9})/.exec(s);
    if (!m) return;
    nanos = Number(m[1]!.padEnd(9, '0'));
    s = s.slice(m[0].length);
  };
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i]!;
    switch (e) {
      case '2006':
        year = num(4, e);
        break;
      case '01':
        month = num(2, e);
        if (month < 1 || month > 12) throw new Error(`parsing time ${JSON.stringify(value)}: month out of range`);
        break;
      case '02':
        day = num(2, e);
        break;
      case '15':
        hour = num(2, e);
        if (hour > 23) throw new Error(`parsing time ${JSON.stringify(value)}: hour out of range`);
        break;
      case '04':
        min = num(2, e);
        if (min > 59) throw new Error(`parsing time ${JSON.stringify(value)}: minute out of range`);
        break;
      case '05':
        sec = num(2, e);
        if (sec > 59) throw new Error(`parsing time ${JSON.stringify(value)}: second out of range`);
        // Go accepts a fraction after the seconds even when the layout has none
        if (elems[i + 1] !== '.999999999') fraction();
        break;
      case '.999999999':
        fraction();
        break;
      case 'Z07:00': {
        if (s.startsWith('Z')) {
          zone = 0;
          s = s.slice(1);
          break;
        }
        const m = /^([+-])(\d{2}):(\d{2})/.exec(s);
        if (!m) return fail(s, e);
        zone = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
        s = s.slice(m[0].length);
        break;
      }
      default:
        if (!s.startsWith(e)) return fail(s, e);
        s = s.slice(e.length);
    }
  }
  if (s !== '') throw new Error(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(s)}`);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) throw new Error(`parsing time ${JSON.stringify(value)}: day out of range`);
  const offset = zone ?? offsetMinutes ?? 0;
  const ms = Date.UTC(year, month - 1, day, hour, min, sec) - offset * 60_000;
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos };
}

/** `1234` or `1234.5678` (seconds and fraction). */
function parseUnixTimestamp(value: string): boolean {
  const [s, n] = value.split(/\.(.*)/s, 2);
  if (!/^[+-]?\d+$/.test(s ?? '')) return false;
  if (n !== undefined && !/^[+-]?\d+$/.test(n)) return false;
  return true;
}

/**
 * Converts a user's time value into what the API takes, relative to
 * `reference` (now). Throws Go's parse errors.
 */
export function getTimestamp(value: string, reference: Date = new Date()): string {
  if (value !== '0') {
    try {
      const ms = parseGoDuration(value);
      return String(Math.floor((reference.getTime() - ms) / 1000));
    } catch {
      // not a duration
    }
  }
  const parseInLocation = !/[zZ+]/.test(value) && value.split('-').length - 1 !== 3;
  let format: string;
  if (value.includes('.')) {
    format = parseInLocation ? '2006-01-02T15:04:05.999999999' : '2006-01-02T15:04:05.999999999Z07:00';
  } else if (value.includes('T')) {
    let tcolons = value.split(':').length - 1;
    if (!parseInLocation && !/[zZ]/.test(value) && tcolons > 0) tcolons--;
    if (parseInLocation) format = tcolons === 0 ? '2006-01-02T15' : tcolons === 1 ? '2006-01-02T15:04' : '2006-01-02T15:04:05';
    else format = tcolons === 0 ? '2006-01-02T15Z07:00' : tcolons === 1 ? '2006-01-02T15:04Z07:00' : '2006-01-02T15:04:05Z07:00';
  } else {
    format = parseInLocation ? '2006-01-02' : '2006-01-02Z07:00';
  }
  let t: Parsed;
  try {
    t = goParseTime(format, value, parseInLocation ? -reference.getTimezoneOffset() : null);
  } catch (err) {
    if (value.includes('-')) throw err;
    if (!parseUnixTimestamp(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
    return value;
  }
  return `${t.seconds}.${String(t.nanos).padStart(9, '0')}`;
}
