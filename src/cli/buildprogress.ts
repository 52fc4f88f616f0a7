/**
 * `build --progress=tty`: the classic builder's stream shown as a live
 * display redrawn in place: one row per step with its state and time, the
 * last lines of the running step's output under it, and at the end the
 * whole list with the failed step's output, followed by the messages that
 * came after the steps ("Successfully built …").
 *
 * The stream is docker's legacy build stream: `Step N/M : INSTRUCTION`
 * opens a step; ` ---> Using cache`, ` ---> Running in ID` and ` ---> ID`
 * describe it; other lines are the step's output.
 */
import type { Output } from './cli.js';
import { humanSizeWithPrecision } from '../lib/units.js';

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;
const CACHED = /^ ---> Using cache$/;
const RUNNING = /^ ---> Running in ([0-9a-f]+)$/;
const RESULT = /^ ---> ([0-9a-f]{12,64})$/;
const REMOVING = /^Removing intermediate container /;
/** Output lines of the running step shown live. */
const LIVE_LINES = 6;
/** Output lines of a failed step kept in the final display. */
const FAILED_LINES = 20;
const REDRAW_MS = 100;

interface Step {
  n: number;
  total: number;
  text: string;
  start: number;
  end?: number;
  cached: boolean;
  result?: string;
  logs: string[];
}

export interface ProgressOptions {
  /** Terminal width (columns); lines are cut to fit so redrawing stays in place. */
  width: () => number;
  /** Terminal height: the live display keeps to it, dropping the oldest steps. */
  height?: () => number;
  now?: () => number;
  /** Redraw on a timer (default true); tests draw by hand. */
  timer?: boolean;
}

const seconds = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)}s`;

/** Cuts a line to `width` characters (code points). */
function fit(s: string, width: number): string {
  const cps = [...s];
  return cps.length <= width ? s : cps.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** Printable text of an output line: what a terminal would show after carriage returns, without escapes. */
function printable(line: string): string {
  const cr = line.lastIndexOf('\r', line.length - 2);
  const s = cr >= 0 ? line.slice(cr + 1) : line;
  return s.replace(/\r$/, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

export class BuildProgress {
  private readonly out: Output;
  private readonly o: ProgressOptions;
  private readonly now: () => number;
  private readonly started: number;
  private contextBytes = -1;
  private contextDone = false;
  private readonly contextStart: number;
  private contextEnd = 0;
  private readonly steps: Step[] = [];
  /** Lines before the first step. */
  private readonly before: string[] = [];
  /** Lines after the last step's result. */
  private readonly after: string[] = [];
  private partial = '';
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(out: Output, o: ProgressOptions) {
    this.out = out;
    this.o = o;
    this.now = o.now ?? Date.now;
    this.started = this.now();
    this.contextStart = this.started;
    if (o.timer !== false) {
      this.timer = setInterval(() => this.draw(), REDRAW_MS);
      this.timer.unref();
    }
  }

  /** The context upload: bytes sent so far, and whether it is complete. */
  sending(bytes: number, done: boolean): void {
    this.contextBytes = bytes;
    if (done && !this.contextDone) {
      this.contextDone = true;
      this.contextEnd = this.now();
    }
  }

  /** One `stream` text of the build stream (any number of lines, possibly partial). */
  stream(text: string): void {
    const all = this.partial + text;
    const lines = all.split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.line(l);
  }

  private current(): Step | undefined {
    const s = this.steps[this.steps.length - 1];
    return s && s.end === undefined ? s : undefined;
  }

  private line(raw: string): void {
    const text = printable(raw);
    const now = this.now();
    const step = STEP.exec(text);
    if (step) {
      this.close(now);
      this.steps.push({ n: Number(step[1]), total: Number(step[2]), text: step[3]!, start: now, cached: false, logs: [] });
      return;
    }
    const cur = this.current();
    if (cur) {
      if (CACHED.test(text)) cur.cached = true;
      else if (RUNNING.test(text) || REMOVING.test(text)) return;
      else {
        const r = RESULT.exec(text);
        if (r) {
          cur.result = r[1];
          cur.end = now;
        } else cur.logs.push(text);
      }
      return;
    }
    (this.steps.length === 0 ? this.before : this.after).push(text);
  }

  /** A step is done when the next one starts even without a result line (the stream moved on). */
  private close(now: number): void {
    const cur = this.current();
    if (cur) cur.end = now;
  }

  /** The display as lines. `final` shows everything, the failed step's output included. */
  render(final: boolean, failed = false): string[] {
    const width = Math.max(20, this.o.width());
    const now = this.now();
    const rows: string[] = [];
    const row = (left: string, time: string) => {
      const room = width - 1 - (time ? time.length + 1 : 0);
      const l = fit(left, room);
      rows.push(time ? l + ' '.repeat(Math.max(1, room - [...l].length + 1)) + time : l);
    };
    const done = this.steps.filter((s) => s.end !== undefined).length;
    const total = this.steps.length > 0 ? this.steps[this.steps.length - 1]!.total : 0;
    const state = final ? (failed ? ' ERROR' : ' FINISHED') : '';
    rows.push(fit(`[+] Building ${seconds(now - this.started)} (${done}/${total})${state}`, width - 1));
    if (this.contextBytes >= 0) {
      const end = this.contextDone ? this.contextEnd : now;
      row(` => sending build context ${humanSizeWithPrecision(this.contextBytes, 4)}`, seconds(end - this.contextStart));
    }
    const running = this.current();
    let steps = this.steps;
    if (!final && this.o.height) {
      // keep the live display on the screen: the header, the context row, the running step's output
      const room = Math.max(3, this.o.height() - 2 - rows.length - (running ? Math.min(LIVE_LINES, running.logs.length) : 0));
      if (steps.length > room) steps = steps.slice(steps.length - room);
    }
    for (const s of steps) {
      const failedStep = failed && s === running;
      const mark = failedStep ? 'ERROR ' : s.cached ? 'CACHED ' : '';
      const end = s.end ?? (final ? now : undefined);
      row(` => ${mark}[${s.n}/${s.total}] ${s.text}`, seconds((end ?? now) - s.start));
      if (!final && s === running) {
        for (const l of s.logs.slice(-LIVE_LINES)) row(` => => ${l}`, '');
      }
    }
    if (final && failed && running) {
      rows.push('------');
      rows.push(fit(` > [${running.n}/${running.total}] ${running.text}:`, width - 1));
      for (const l of running.logs.slice(-FAILED_LINES)) rows.push(fit(l, width - 1));
      rows.push('------');
    }
    return rows;
  }

  /** Redraws the live display in place (the timer calls it; times move on). */
  draw(): void {
    if (this.finished) return;
    this.paint(this.render(false));
  }

  private paint(lines: string[]): void {
    let s = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    for (const l of lines) s += `${l}\x1b[K\n`;
    if (lines.length < this.drawn) s += '\x1b[J';
    this.out.write(s);
    this.drawn = lines.length;
  }

  /**
   * Draws the final display and prints the lines that followed the steps
   * (and any before them). Stops the timer.
   */
  finish(failed: boolean): void {
    if (this.finished) return;
    if (this.partial !== '') {
      this.line(this.partial);
      this.partial = '';
    }
    if (!failed) this.close(this.now());
    if (this.timer) clearInterval(this.timer);
    this.finished = true;
    // a build that failed before it began (no daemon, a refused request) shows only its error
    if (failed && this.steps.length === 0 && this.drawn === 0) return;
    this.paint(this.render(true, failed));
    const rest = [...this.before, ...this.after];
    if (rest.length > 0) this.out.write(rest.map((l) => l + '\n').join(''));
  }
}
