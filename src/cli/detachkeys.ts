/**
 * Detach keys: the key sequence (default ctrl-p,ctrl-q) that, typed into an
 * attached TTY session, leaves the container running and ends the CLI
 * (moby/term's ToBytes and escapeProxy, which the docker CLI uses).
 */

/** moby/term ASCII: ctrl-@ … ctrl-_ name the control codes 0 … 31. */
const ASCII = [
  'ctrl-@', 'ctrl-a', 'ctrl-b', 'ctrl-c', 'ctrl-d', 'ctrl-e', 'ctrl-f', 'ctrl-g',
  'ctrl-h', 'ctrl-i', 'ctrl-j', 'ctrl-k', 'ctrl-l', 'ctrl-m', 'ctrl-n', 'ctrl-o',
  'ctrl-p', 'ctrl-q', 'ctrl-r', 'ctrl-s', 'ctrl-t', 'ctrl-u', 'ctrl-v', 'ctrl-w',
  'ctrl-x', 'ctrl-y', 'ctrl-z', 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_',
];

/** ctrl-p, ctrl-q */
export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]);

/** term.ToBytes: `ctrl-p,ctrl-q` → [16, 17]; single characters stand for themselves, `DEL` is 127. */
export function detachKeysToBytes(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (Buffer.byteLength(key) !== 1) {
      const code = ASCII.indexOf(key);
      if (code >= 0) codes.push(code);
      else if (key === 'DEL') codes.push(127);
      else throw new Error(`Unknown character: '${key}'`);
    } else {
      codes.push(key.charCodeAt(0));
    }
  }
  return Buffer.from(codes);
}

/** The input contained the detach sequence (term.EscapeError). */
export class DetachError extends Error {
  constructor() {
    super('read escape sequence');
  }
}

/**
 * term's escapeProxy for pushed chunks: passes input through, holding back
 * a possible start of the sequence until it is decided. `push` returns the
 * bytes to forward and whether the sequence was completed (the bytes before
 * it are still forwarded; nothing after it is).
 */
export class EscapeMatcher {
  private readonly keys: Buffer;
  private pos = 0;
  private done = false;

  constructor(keys: Buffer = DEFAULT_DETACH_KEYS) {
    this.keys = keys;
  }

  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.done) return { data: Buffer.alloc(0), detached: true };
    if (this.keys.length === 0) return { data: chunk, detached: false };
    let buf = Buffer.from(chunk);
    let n = buf.length;
    for (let i = 0; i < n; i++) {
      if (buf[i] === this.keys[this.pos]) {
        this.pos++;
        if (this.pos === this.keys.length) {
          this.done = true;
          const keep = Math.max(0, i + 1 - this.pos);
          return { data: buf.subarray(0, keep), detached: true };
        }
        continue;
      }
      // the partial sequence began in an earlier chunk and was held back: give it back
      if (i < this.pos) {
        buf = Buffer.concat([this.keys.subarray(0, this.pos), buf.subarray(0, n)]);
        n = buf.length;
        i += this.pos;
      }
      this.pos = 0;
    }
    n = Math.max(0, n - this.pos);
    return { data: buf.subarray(0, n), detached: false };
  }
}
