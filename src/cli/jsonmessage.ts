/**
 * Rendering a JSON message stream (pull, load, import, build) the way the
 * docker CLI does: plain lines when not on a terminal (progress updates
 * skipped), cursor movement and progress bars on a terminal.
 */
import { decodeJSONStream, messageError, type JSONMessage, type JSONProgressDetail } from '../client/index.js';
import type { Output } from './cli.js';
import { goDurationString } from '../lib/units.js';
import { humanSizeWithPrecision } from '../lib/units.js';

const goHumanSize = (n: number) => humanSizeWithPrecision(n, 4);

/** The progress text docker computes from `progressDetail` (JSONProgress.String). */
export function progressString(p: JSONProgressDetail, width: number, now = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    return p.units ? `${current} ${p.units}` : goHumanSize(current).padStart(8);
  }
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let pbBox = '';
  if (width > 110) {
    pbBox = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  }
  let numbersBox = '';
  if (!p.hidecounts) {
    if (!p.units) {
      numbersBox = current > total ? goHumanSize(current).padStart(8) : `${goHumanSize(current).padStart(8)}/${goHumanSize(total)}`;
    } else {
      numbersBox = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  let timeLeftBox = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStart = now - p.start! * 1000;
    const left = ((total - current) * fromStart) / current;
    timeLeftBox = ' ' + goDurationString(Math.round(left / 1000) * 1000);
  }
  return pbBox + numbersBox + timeLeftBox;
}

/** Where messages are printed: the CLI's output, or a buffer (`build -q` keeps the output for a failure). */
export type Writer = Pick<Output, 'write'>;

export interface DisplayOptions {
  isTerminal: boolean;
  /** Terminal width for progress bars (200 when unknown, like docker). */
  width?: number;
  /** Receives messages with an `aux` field; they are not printed. */
  onAux?: (m: JSONMessage) => void;
}

function display(m: JSONMessage, out: Writer, o: DisplayOptions): void {
  const err = messageError(m);
  if (err) throw err;
  const width = o.width ?? 200;
  const progress = m.progressDetail ? progressString(m.progressDetail, width) : '';
  let endl = '';
  if (o.isTerminal && !m.stream && m.progressDetail) {
    out.write('\x1b[2K\r');
    endl = '\r';
  } else if (m.progressDetail && progress !== '') {
    return; // no progress bars off a terminal
  }
  let s = '';
  if (m.timeNano) s += `${new Date(m.timeNano / 1e6).toISOString()} `;
  else if (m.time) s += `${new Date(m.time * 1000).toISOString()} `;
  if (m.id) s += `${m.id}: `;
  if (m.from) s += `(from ${m.from}) `;
  if (m.progressDetail && o.isTerminal) s += `${m.status ?? ''} ${progress}${endl}`;
  else if (m.progress) s += `${m.status ?? ''} ${m.progress}${endl}`;
  else if (m.stream) s += `${m.stream}${endl}`;
  else s += `${m.status ?? ''}${endl}\n`;
  out.write(s);
}

/** Reads and prints a message stream; throws the first in-band error (after printing what came before). */
export async function displayJSONMessages(src: AsyncIterable<Buffer | string>, out: Writer, o: DisplayOptions): Promise<void> {
  let ids = new Map<string, number>();
  for await (const v of decodeJSONStream(src)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const m = v as JSONMessage;
    if (m.aux !== undefined && m.aux !== null) {
      o.onAux?.(m);
      continue;
    }
    let diff = 0;
    if (m.id && (m.progressDetail || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (o.isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (o.isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    try {
      display(m, out, o);
    } finally {
      if (m.id && o.isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
    }
  }
}

/** Display options for the CLI's stdout: terminal mode and width (200 when unknown, like docker). */
export function displayOptions(cli: { out: Output }): DisplayOptions {
  return { isTerminal: cli.out.isTTY, width: cli.out.isTTY ? cli.out.stream.columns ?? 200 : 200 };
}
