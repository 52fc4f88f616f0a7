/**
 * Docker's JSON message stream (pull, push, load, import, build): HTTP 200,
 * then one JSON object per message, each flushed at once. Once the status line
 * is out, failures travel in-band as `{"errorDetail":…,"error":…}`.
 */
import type { ServerResponse } from 'node:http';
import type { ProgressEvent } from '../engine/engine.js';
import { messageOf } from './errors.js';
import { humanSizeWithPrecision } from '../lib/units.js';

export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { code?: number; message: string };
}

export class JsonStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.flushHeaders();
  }

  get isStarted(): boolean {
    return this.started;
  }

  write(msg: JsonMessage): void {
    this.start();
    if (!this.res.writableEnded) this.res.write(`${JSON.stringify(msg)}\r\n`);
  }

  progress(ev: ProgressEvent): void {
    this.write(renderProgress(ev));
  }

  fail(err: unknown, code?: number): void {
    const message = messageOf(err);
    this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
  }

  end(): void {
    this.start();
    this.res.end();
  }
}

export function renderProgress(ev: ProgressEvent): JsonMessage {
  switch (ev.kind) {
    case 'line':
      return { stream: `${ev.text}\n` };
    case 'status':
      return ev.id === undefined ? { status: ev.text } : { status: ev.text, id: ev.id };
    case 'aux':
      return { aux: ev.data };
    case 'item': {
      const msg: JsonMessage = { status: ev.action, id: ev.id };
      if (ev.current !== undefined) {
        msg.progressDetail = { current: ev.current, ...(ev.total ? { total: ev.total } : {}) };
        msg.progress = progressBar(ev.current, ev.total);
      } else {
        msg.progressDetail = {};
      }
      return msg;
    }
  }
}

/** The text bar docker puts in `progress`: `[=====>     ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total?: number): string {
  if (!total || total <= 0) return humanSizeWithPrecision(current, 4).padStart(8);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar}] ${humanSizeWithPrecision(current, 4).padStart(8)}/${humanSizeWithPrecision(total, 4)}`;
}
