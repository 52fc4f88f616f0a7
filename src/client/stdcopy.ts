/**
 * The Engine API's multiplexed stream (attach and logs without a TTY, exec
 * without a TTY): frames of an 8-byte header `[type, 0, 0, 0, len(4, big
 * endian)]` followed by `len` bytes. Type 0 is stdin, 1 stdout, 2 stderr,
 * 3 an error from the daemon that ends the stream (moby's pkg/stdcopy).
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export type StreamType = typeof STDIN | typeof STDOUT | typeof STDERR | typeof SYSTEMERR;

export interface Frame {
  type: StreamType;
  payload: Buffer;
}

/** The header length of a frame. */
export const HEADER_LEN = 8;

/** Builds one frame (what the daemon writes; used by tests and fakes). */
export function encodeFrame(type: StreamType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_LEN);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A stream error with stdcopy's words (`Unrecognized input header: 7`, `error from daemon in stream: …`). */
export class StdCopyError extends Error {}

/**
 * Splits bytes into frames as they arrive; keeps a partial frame until the
 * rest comes. Throws on an unknown stream type; a type-3 frame is returned
 * like the others (the caller decides to stop).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.buf.length < HEADER_LEN) break;
      const type = this.buf[0]!;
      if (type > SYSTEMERR) throw new StdCopyError(`Unrecognized input header: ${type}`);
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER_LEN + len) break;
      frames.push({ type: type as StreamType, payload: this.buf.subarray(HEADER_LEN, HEADER_LEN + len) });
      this.buf = this.buf.subarray(HEADER_LEN + len);
    }
    return frames;
  }

  /** Bytes of an incomplete frame still held (stdcopy drops them at EOF). */
  get pending(): number {
    return this.buf.length;
  }
}

export type Sink = (chunk: Buffer) => void | Promise<void>;

/**
 * docker's StdCopy: copies stdin/stdout frames to `stdout`, stderr frames to
 * `stderr`, until the source ends (a truncated last frame is dropped, as
 * stdcopy does). A system-error frame ends the copy with
 * `error from daemon in stream: <text>`. Resolves with the bytes written.
 */
export async function stdCopy(src: AsyncIterable<Buffer | string>, stdout: Sink | null, stderr: Sink | null): Promise<number> {
  const dec = new FrameDecoder();
  let written = 0;
  for await (const chunk of src) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const f of dec.push(b)) {
      if (f.type === SYSTEMERR) throw new StdCopyError(`error from daemon in stream: ${f.payload.toString('utf8')}`);
      const sink = f.type === STDERR ? stderr : stdout;
      if (sink && f.payload.length > 0) await sink(f.payload);
      written += f.payload.length;
    }
  }
  return written;
}
