/** Go's time formats as the docker CLI prints them, in the local time zone. */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const p2 = (n: number) => String(n).padStart(2, '0');

function offsetOf(d: Date): number {
  return -d.getTimezoneOffset();
}

function numericOffset(mins: number, colon: boolean): string {
  const sign = mins < 0 ? '-' : '+';
  const a = Math.abs(mins);
  return `${sign}${p2(Math.floor(a / 60))}${colon ? ':' : ''}${p2(a % 60)}`;
}

/** The zone abbreviation Go prints (`UTC`, `CET`…); falls back to the numeric offset. */
function zoneName(d: Date): string {
  const tz = process.env['TZ'];
  if (offsetOf(d) === 0 && (tz === undefined || tz === '' || /^(UTC|Etc\/UTC|UTC0|GMT|Etc\/GMT|:?\/etc\/localtime)$/.test(tz) || Intl.DateTimeFormat().resolvedOptions().timeZone === 'UTC')) {
    return 'UTC';
  }
  try {
    for (const locale of ['en-US', 'en-GB']) {
      const part = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })
        .formatToParts(d)
        .find((x) => x.type === 'timeZoneName')?.value;
      if (part && !/^(GMT|UTC)[+-]/.test(part)) return part;
    }
  } catch {
    // no Intl zone data
  }
  return numericOffset(offsetOf(d), false);
}

/** `time.Time.String()` without monotonic part: `2026-11-24 10:51:54 +0000 UTC`. */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ` +
    `${numericOffset(offsetOf(d), false)} ${zoneName(d)}`
  );
}

/** `time.RFC3339`: `2026-11-24T10:51:54Z` (UTC) or `…+01:00`. */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = offsetOf(d);
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}` +
    (off === 0 ? 'Z' : numericOffset(off, true))
  );
}

/** `time.ANSIC` of an RFC 3339 string (`Fri May 30 12:07:14 2025`); the input unchanged if unparsable. */
export function ansic(rfc: string): string {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(rfc);
  const ms = Date.parse(rfc);
  if (!m || Number.isNaN(ms)) return rfc;
  // Go keeps the zone written in the string
  let off = 0;
  if (m[1] !== 'Z') off = (m[1]!.startsWith('-') ? -1 : 1) * (Number(m[1]!.slice(1, 3)) * 60 + Number(m[1]!.slice(4, 6)));
  const d = new Date(ms + off * 60_000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Parses an RFC 3339 timestamp to unix seconds (NaN when invalid). */
export function parseRFC3339(s: string): number {
  return Date.parse(s) / 1000;
}

/**
 * `time.Time.String()` of a time the docker CLI decoded from RFC 3339 text:
 * the wall clock and zone as written (`Z` becomes `+0000 UTC`, an offset the
 * local zone has at that instant takes its name, any other offset prints as
 * `+0100 +0100`), with the fraction's trailing zeros dropped. Text that is
 * not RFC 3339 comes back unchanged.
 */
export function goTimeStringOfRFC3339(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return s;
  const [, y, mo, d, h, mi, sec, frac = '', zone] = m;
  const fraction = frac.slice(0, 9).replace(/0+$/, '');
  const wall = `${y}-${mo}-${d} ${h}:${mi}:${sec}${fraction ? '.' + fraction : ''}`;
  if (zone === 'Z' || zone === 'z') return `${wall} +0000 UTC`;
  const off = (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  const numeric = numericOffset(off, false);
  const instant = new Date(Date.parse(s));
  const name = !Number.isNaN(instant.getTime()) && offsetOf(instant) === off ? zoneName(instant) : numeric;
  return `${wall} ${numeric} ${name}`;
}
