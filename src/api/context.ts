/** One API request: its version, path parameters, query and body, read the way Docker clients send them. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../lib/errors.js';
import { readAll } from '../lib/streams.js';

export class Ctx {
  private bodyJson: unknown;
  private bodyRead = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly version: string,
    readonly params: Record<string, string>,
    readonly query: URLSearchParams,
  ) {}

  /** A query option; dockerode may send options in a JSON body instead, so a parsed body is the fallback. */
  opt(name: string): string | undefined {
    const q = this.query.get(name);
    if (q !== null) return q;
    if (this.bodyRead && this.bodyJson && typeof this.bodyJson === 'object') {
      const v = (this.bodyJson as Record<string, unknown>)[name];
      if (v !== undefined && v !== null) return typeof v === 'string' ? v : JSON.stringify(v);
    }
    return undefined;
  }

  all(name: string): string[] {
    return this.query.getAll(name);
  }

  /** Docker's boolean query values: 1/true/True are true; absent, empty, 0 and false are false. */
  bool(name: string, dflt = false): boolean {
    const v = this.opt(name);
    if (v === undefined) return dflt;
    const lower = v.toLowerCase();
    if (lower === '' || lower === '0' || lower === 'false' || lower === 'no') return false;
    return true;
  }

  int(name: string, dflt?: number): number | undefined {
    const v = this.opt(name);
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalidArgument(`invalid value for ${name}: ${v}`);
    return n;
  }

  /** The `filters` parameter: `{"key":["v"]}` or the legacy `{"key":{"v":true}}`. */
  filters(): Map<string, string[]> {
    const raw = this.opt('filters');
    const out = new Map<string, string[]>();
    if (!raw) return out;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalidArgument(`invalid filter: ${raw}`);
    }
    if (!parsed || typeof parsed !== 'object') return out;
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out.set(k, v.map(String));
      else if (v && typeof v === 'object') out.set(k, Object.keys(v as object).filter((x) => (v as Record<string, unknown>)[x]));
      else throw invalidArgument(`invalid filter: ${raw}`);
    }
    return out;
  }

  /** Reads a JSON body when one was sent, so `opt` can fall back to it (dockerode puts options there). */
  async jsonOptions(): Promise<void> {
    if ((this.req.headers['content-type'] ?? '').startsWith('application/json')) await this.json();
  }

  /** The JSON body, or {} when empty. */
  async json<T = Record<string, unknown>>(): Promise<T> {
    if (!this.bodyRead) {
      const early = (this.req as { berthBody?: Buffer }).berthBody;
      const buf = early ?? (await readAll(this.req, 16 << 20));
      this.bodyRead = true;
      const text = buf.toString('utf8').trim();
      try {
        this.bodyJson = text === '' ? {} : JSON.parse(text);
      } catch (err) {
        throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
      }
    }
    return (this.bodyJson ?? {}) as T;
  }

  send(status: number, body?: unknown): void {
    if (body === undefined) {
      this.res.writeHead(status);
      this.res.end();
      return;
    }
    const text = JSON.stringify(body);
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }
}
