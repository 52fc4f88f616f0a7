/**
 * The `GET /events` stream: one JSON object per event, sent as they happen
 * (the daemon flushes the headers first, then writes each event).
 */
import { StringDecoder } from 'node:string_decoder';
import { JSONValueSplitter } from './jsonstream.js';
import type { EventMessage } from './types.js';

/** An event with its `timeNano` kept exactly (it does not fit a double). */
export interface DecodedEvent {
  event: EventMessage;
  timeNano: bigint;
}

/** Quotes `"timeNano":123…` so JSON.parse keeps every digit. */
function quoteTimeNano(text: string): string {
  return text.replace(/("timeNano"\s*:\s*)(-?\d+)/g, '$1"$2"');
}

/**
 * Decodes event objects from the response body until it ends. Moby ends
 * each event with a newline; the text is handed on line by line so a
 * number is never cut in two.
 */
export async function* decodeEvents(src: AsyncIterable<Buffer | string>): AsyncGenerator<DecodedEvent> {
  const splitter = new JSONValueSplitter();
  const text = new StringDecoder('utf8');
  let carry = '';
  const emit = function* (values: unknown[]): Generator<DecodedEvent> {
    for (const v of values) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
      const e = v as EventMessage & { timeNano?: unknown };
      let timeNano = 0n;
      if (typeof e.timeNano === 'string') {
        timeNano = BigInt(e.timeNano);
        e.timeNano = Number(e.timeNano);
      } else if (typeof e.timeNano === 'number') timeNano = BigInt(Math.trunc(e.timeNano));
      e.Actor ??= { ID: '' };
      yield { event: e, timeNano };
    }
  };
  for await (const chunk of src) {
    carry += typeof chunk === 'string' ? chunk : text.write(chunk);
    const nl = carry.lastIndexOf('\n');
    if (nl < 0) continue;
    const ready = carry.slice(0, nl + 1);
    carry = carry.slice(nl + 1);
    yield* emit(splitter.push(quoteTimeNano(ready)));
  }
  carry += text.end();
  if (carry !== '') yield* emit(splitter.push(quoteTimeNano(carry)));
  yield* emit(splitter.end());
}

const RFC3339_NANO_FIXED_PAD = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * `2006-01-02T15:04:05.000000000Z07:00` in the local zone, from nanoseconds
 * since the epoch (docker's rfc3339NanoFixed, used by `events`).
 */
export function formatEventTime(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const nanos = Number(((timeNano % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const p = RFC3339_NANO_FIXED_PAD;
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60), 2)}:${p(Math.abs(off) % 60, 2)}`;
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1, 2)}-${p(d.getDate(), 2)}T` +
    `${p(d.getHours(), 2)}:${p(d.getMinutes(), 2)}:${p(d.getSeconds(), 2)}.${p(nanos, 9)}${zone}`
  );
}

/** docker's pretty event line: `<time> <type> <action> <id> (k=v, …)`. */
export function formatEvent(e: EventMessage, timeNano?: bigint): string {
  let s = '';
  const tn = timeNano ?? (e.timeNano ? BigInt(e.timeNano) : 0n);
  if (tn !== 0n) s += `${formatEventTime(tn)} `;
  else if (e.time) s += `${formatEventTime(BigInt(e.time) * 1_000_000_000n)} `;
  s += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s + '\n';
}
