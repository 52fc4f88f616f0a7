/**
 * JSON message streams (pull, push, load, import, build): a sequence of JSON
 * objects separated by whitespace (moby ends each with CRLF). Decoded
 * incrementally; a message carrying `error`/`errorDetail` becomes a thrown
 * StreamError holding the daemon's words.
 */
import { StringDecoder } from 'node:string_decoder';
import { BerthError } from '../lib/errors.js';

export interface JSONProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JSONMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: JSONProgressDetail;
  stream?: string;
  aux?: unknown;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  time?: number;
  timeNano?: number;
  from?: string;
  [extra: string]: unknown;
}

/** An error reported in-band by a JSON message stream. `code` is `errorDetail.code` (0 when absent). */
export class StreamError extends BerthError {
  readonly code: number;
  constructor(message: string, code = 0) {
    super('Internal', message, { code });
    this.code = code;
  }
}

/** Returns the in-band error carried by a message, if any. */
export function messageError(msg: JSONMessage): StreamError | undefined {
  if (msg.errorDetail && (msg.errorDetail.message !== undefined || msg.errorDetail.code !== undefined)) {
    return new StreamError(msg.errorDetail.message ?? msg.error ?? '', msg.errorDetail.code ?? 0);
  }
  if (typeof msg.error === 'string' && msg.error !== '') return new StreamError(msg.error);
  return undefined;
}

/**
 * Splits a byte stream into top-level JSON values. Only tracks nesting and
 * string state, then hands each complete value to JSON.parse.
 */
export class JSONValueSplitter {
  private buf = '';
  private pos = 0;
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly decoder = new StringDecoder('utf8');

  /** Feeds bytes; returns the values completed by them. */
  push(chunk: Buffer | string): unknown[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.scan();
  }

  /** Signals the end of input; throws if a value is incomplete. */
  end(): unknown[] {
    this.buf += this.decoder.end();
    const out = this.scan();
    const rest = this.buf.slice(this.pos).trim();
    if (this.start < 0 && rest !== '' && !/[\s{}[\],"]/.test(rest)) {
      out.push(this.parse(rest));
      this.buf = '';
      this.pos = 0;
      return out;
    }
    if (this.start >= 0 || rest !== '') {
      throw new BerthError('Internal', 'unexpected EOF in JSON message stream');
    }
    return out;
  }

  private scan(): unknown[] {
    const out: unknown[] = [];
    const s = this.buf;
    let i = this.pos;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.start < 0) {
        // between values: skip whitespace, anything else starts a value
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        this.start = i;
        if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          this.depth = 1;
          continue;
        }
        if (c === 0x22 /* " */) {
          this.inString = true;
          this.depth = 0;
          continue;
        }
        // scalar: runs until whitespace or a structural character
        let j = i;
        while (j < s.length && !/[\s{}[\],"]/.test(s[j]!)) j++;
        if (j === s.length) {
          // may continue in the next chunk: rescan it from its start next time
          this.buf = s.slice(this.start);
          this.pos = 0;
          this.start = -1;
          return out;
        }
        out.push(this.parse(s.slice(this.start, j)));
        this.start = -1;
        i = j - 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22) {
          this.inString = false;
          if (this.depth === 0) {
            out.push(this.parse(s.slice(this.start, i + 1)));
            this.start = -1;
          }
        }
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.parse(s.slice(this.start, i + 1)));
          this.start = -1;
        }
      }
    }
    // drop consumed text, keep a pending value
    if (this.start >= 0) {
      this.buf = s.slice(this.start);
      this.pos = i - this.start;
      this.start = 0;
    } else {
      this.buf = '';
      this.pos = 0;
    }
    return out;
  }

  private parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new BerthError('Internal', `invalid JSON in message stream: ${(err as Error).message}`);
    }
  }
}

/** Decodes every JSON value from a byte stream. */
export async function* decodeJSONStream(src: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const splitter = new JSONValueSplitter();
  for await (const chunk of src) {
    for (const v of splitter.push(chunk)) yield v;
  }
  for (const v of splitter.end()) yield v;
}

/**
 * Decodes JSON messages; a message with an error is thrown as StreamError
 * after the messages before it have been yielded.
 */
export async function* decodeJSONMessages(src: AsyncIterable<Buffer | string>): AsyncGenerator<JSONMessage> {
  for await (const v of decodeJSONStream(src)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new BerthError('Internal', 'invalid JSON message in stream: not an object');
    }
    const msg = v as JSONMessage;
    const err = messageError(msg);
    if (err) throw err;
    yield msg;
  }
}
