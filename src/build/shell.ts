/**
 * The word lexer Dockerfile instructions use for variable expansion, with
 * BuildKit's rules: `$VAR`, `${VAR}`, the modifiers `:-` `-` `:+` `+` `:?` `?`,
 * pattern removal `#` `##` `%` `%%`, substitution `/pat/repl` and `//pat/repl`,
 * single quotes literal, double quotes expanding, the active escape character
 * (`\` or backtick) escaping. It is not a shell: no command substitution, no
 * arithmetic, no globbing.
 *
 * `processWord` expands one word keeping its spaces (ENV values, WORKDIR...);
 * `processWords` expands and then splits on unquoted whitespace (EXPOSE, the
 * heredoc detection). `expandWords` applies the right one to each expandable
 * field of a typed instruction, for the executor.
 */
import { invalidArgument } from '../lib/errors.js';
import { goQuote } from '../lib/gofmt.js';
import type { Instruction } from './instructions.js';
import { parseMount } from './mounts.js';

/** Looks a variable up: its value, or undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** The Dockerfile's escape character: `\` (default) or backtick. */
  escapeToken?: string;
  /** Keep the quote characters in the output (they still group words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to nothing. */
  skipUnsetEnv?: boolean;
}

export interface WordResult {
  /** The expanded word, spaces kept. */
  result: string;
  /** The expanded word split at unquoted whitespace. */
  words: string[];
  /** Names looked up and found. */
  matched: Set<string>;
  /** Names looked up and not set. */
  unmatched: Set<string>;
}

/** A variable map as a lookup; on Windows variable names compare case-insensitively. */
export function envLookup(env: Iterable<string> | Record<string, string>, opts: { caseInsensitive?: boolean } = {}): EnvLookup {
  const norm = (k: string) => (opts.caseInsensitive ? k.toUpperCase() : k);
  const map = new Map<string, string>();
  if (Symbol.iterator in Object(env)) {
    for (const kv of env as Iterable<string>) {
      const i = kv.indexOf('=');
      if (i < 0) map.set(norm(kv), '');
      else map.set(norm(kv.slice(0, i)), kv.slice(i + 1));
    }
  } else {
    for (const [k, v] of Object.entries(env as Record<string, string>)) map.set(norm(k), v);
  }
  return (name) => map.get(norm(name));
}

/** Expands variables in word; spaces are kept. Throws InvalidArgument on bad syntax or a `?` modifier that fires. */
export function processWord(word: string, env: EnvLookup, opts: LexOptions = {}): string {
  return process(word, env, opts).result;
}

/** Expands variables in word, then splits it at unquoted whitespace. */
export function processWords(word: string, env: EnvLookup, opts: LexOptions = {}): string[] {
  return process(word, env, opts).words;
}

/** processWord that also reports which variables were found and which were not. */
export function processWordWithMatches(word: string, env: EnvLookup, opts: LexOptions = {}): WordResult {
  return process(word, env, opts);
}

function process(word: string, env: EnvLookup, opts: LexOptions): WordResult {
  const lexer = new Lexer(word, env, opts);
  try {
    const [result, words] = lexer.processStopOn(EOF, opts.rawEscapes ?? false);
    return { result, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (err) {
    if (err instanceof LexError) throw invalidArgument(`failed to process ${goQuote(word)}: ${err.message}`);
    throw err;
  }
}

class LexError extends Error {}

const EOF = '';
const isSpace = (ch: string) => /^\p{White_Space}$/u.test(ch);
const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);
/** POSIX special parameters: `$@ $* $# $? $- $$ $! $0`. */
const isSpecialParam = (ch: string) => '@*#?-$!0'.includes(ch) && ch !== '';

/** Collects words: unquoted whitespace ends a word; quoted text and escaped characters never split. */
class Words {
  private buf = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private readonly escape: string;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: EnvLookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(word);
    this.escape = opts.escapeToken ?? '\\';
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** Reads up to stopChar (consumed) or the end; returns the text and its words. */
  processStopOn(stopChar: string, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stopChar);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stopChar: string): [string, string[]] {
    let result = '';
    const words = new Words();
    const quotes = !this.opts.skipProcessQuotes;
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stopChar !== EOF && ch === stopChar) {
        this.next();
        return [result, words.get()];
      }
      if (ch === '$') {
        const v = this.processDollar();
        result += v;
        words.addString(v);
      } else if (ch === '<') {
        const v = this.processPossibleHeredoc();
        result += v;
        words.addRawString(v);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const v = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += v;
        words.addRawString(v);
      } else {
        ch = this.next();
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          // The escape character escapes the next one, except at the very end.
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stopChar !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stopChar}`);
    return [result, words.get()];
  }

  /** Everything up to the next single quote is literal; a single quote cannot be escaped. */
  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  /** Variables expand; the escape character escapes only `"`, `$` and itself, otherwise it stays. */
  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        if (q === '"' || q === '$' || q === this.escape) ch = this.next();
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go renders a missing rune as U+FFFD in this message.
    let chs = ch === EOF ? '\ufffd' : ch;
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return value ?? '';
    }
    if (ch === '/') return this.processSubstitution(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? '\ufffd' : ch;
    } else if (!'+-?#%'.includes(ch) || ch === EOF) {
      throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
    // Patterns keep their escapes so that `\*` stays a literal star.
    const rawEscapes = ch === '#' || ch === '%';
    if (nullIsUnset && rawEscapes) throw new LexError(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      [word] = this.processStopOn('}', rawEscapes);
    } catch (err) {
      if (err instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    const set = value !== undefined;
    if (this.opts.skipUnsetEnv && !set) return '${' + name + chs + word + '}';
    const v = value ?? '';
    switch (ch) {
      case '-':
        return !set || (nullIsUnset && v === '') ? word : v;
      case '+':
        return !set || (nullIsUnset && v === '') ? '' : word;
      case '?':
        if (!set) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && v === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return v;
      case '%':
      case '#': {
        // One `%`/`#` removes the shortest match, two the longest.
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        return ch === '%' ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` replaces the first match, `${name//pattern/replacement}` all. */
  private processSubstitution(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      [pattern] = this.processStopOn('/', true);
    } catch (err) {
      if (err instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      [replacement] = this.processStopOn('}', true);
    } catch (err) {
      if (err instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
    const re = patternRegex(pattern, true, false, all);
    return (value ?? '').replace(re, () => replacement);
  }

  /** A name: letters, digits and `_`; or a run of digits; or one special parameter. */
  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  /** `<<` with the blanks after it stays one word, so `<<  EOF` is seen as a heredoc marker. */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === '\t' || this.peek() === '\r' || this.peek() === ' ') space += this.next();
    return '<<' + space;
  }

  private getEnv(name: string): string | undefined {
    const v = this.env(name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }
}

/**
 * A shell wildcard pattern (`?` one character, `*` any run, `\` escaping
 * `*`, `?` and `\`) as a regular expression; no bracket expressions.
 */
function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  // Go's `.` does not match a newline.
  const any = '[^\\n]';
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === '*') {
      out += greedy ? any + '*' : any + '*?';
    } else if (tok === '?') {
      out += any;
    } else if (tok === '\\') {
      const nx = chars[i + 1];
      // `\}` and `\/` escape the ${} syntax, not the pattern.
      if (nx === '}' || nx === '/') continue;
      i++;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
    } else if ('[]{}.+()|^$/'.includes(tok)) {
      out += '\\' + tok;
    } else {
      out += tok;
    }
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern keeping each escape before the character it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = chars[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string) => Array.from(s).reverse().join('');

/** The shortest (or longest) matching suffix, found as a prefix of the reversed value. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

/**
 * The instruction with its variables expanded, as docker does before running
 * it: ENV and LABEL keys and values, ARG names and defaults, COPY/ADD sources,
 * destination, --chown, --chmod (and ADD's --checksum), WORKDIR, USER,
 * VOLUME, STOPSIGNAL, EXPOSE (split into words), FROM's image and --platform,
 * and the options of RUN --mount. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and
 * ONBUILD are returned as they are: their shell does its own expansion.
 * Heredoc bodies are not expanded here; those with `expand` set are for the
 * executor to pass through processWord (with rawEscapes) when it writes them.
 */
export function expandWords<T extends Instruction>(inst: T, env: EnvLookup, opts: { escapeToken?: string } = {}): T {
  const lex: LexOptions = { escapeToken: opts.escapeToken ?? '\\' };
  const w = (s: string) => processWord(s, env, lex);
  const i = inst as Instruction;
  let out: Instruction;
  switch (i.kind) {
    case 'env':
      out = { ...i, pairs: i.pairs.map((p) => ({ ...p, key: w(p.key), value: w(p.value) })) };
      break;
    case 'label':
      out = { ...i, pairs: i.pairs.map((p) => ({ ...p, key: w(p.key), value: w(p.value) })) };
      break;
    case 'arg':
      out = {
        ...i,
        args: i.args.map((a) => ({ ...a, name: w(a.name), ...(a.default !== undefined ? { default: w(a.default) } : {}) })),
      };
      break;
    case 'copy':
      out = {
        ...i,
        sources: i.sources.map(w),
        dest: w(i.dest),
        ...(i.chown !== undefined ? { chown: w(i.chown) } : {}),
        ...(i.chmod !== undefined ? { chmod: w(i.chmod) } : {}),
      };
      break;
    case 'add':
      out = {
        ...i,
        sources: i.sources.map(w),
        dest: w(i.dest),
        ...(i.chown !== undefined ? { chown: w(i.chown) } : {}),
        ...(i.chmod !== undefined ? { chmod: w(i.chmod) } : {}),
        ...(i.checksum !== undefined ? { checksum: w(i.checksum) } : {}),
      };
      break;
    case 'workdir':
      out = { ...i, path: w(i.path) };
      break;
    case 'user':
      out = { ...i, user: w(i.user) };
      break;
    case 'volume':
      out = { ...i, volumes: i.volumes.map(w) };
      break;
    case 'stopsignal':
      out = { ...i, signal: w(i.signal) };
      break;
    case 'expose':
      out = { ...i, ports: i.ports.flatMap((p) => processWords(p, env, lex)) };
      break;
    case 'from':
      out = { ...i, image: w(i.image), ...(i.platform !== undefined ? { platform: w(i.platform) } : {}) };
      break;
    case 'run':
      out = { ...i, mounts: i.mountSpecs.map((spec) => parseMount(spec, w)) };
      break;
    default:
      out = i;
  }
  return out as T;
}
