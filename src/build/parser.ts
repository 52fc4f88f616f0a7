/**
 * Dockerfile text → AST, with BuildKit's parsing rules: parser directives
 * (`# syntax=`, `# escape=`, `# check=`) before anything else, comments, line
 * continuations with the escape character (empty and comment lines inside a
 * continuation are skipped), instruction names in any case, `--flags` split
 * off, JSON (exec) form detected, heredocs read for RUN, COPY and ADD, and the
 * per-instruction argument shapes (ENV/LABEL key-value triples, ONBUILD's
 * nested instruction, HEALTHCHECK's type word).
 *
 * The AST keeps words as written: no variable expansion and no quote
 * removal beyond what JSON decoding does. `instructions.ts` turns nodes into
 * typed instructions; `dump` prints the S-expression form of BuildKit's
 * parser test corpus.
 */
import { BerthError } from '../lib/errors.js';
import { goQuote } from '../lib/gofmt.js';
import { processWords } from './shell.js';

/** An inline file of a RUN, COPY or ADD: `<<EOF ... EOF`. */
export interface Heredoc {
  /** The delimiter word, with its quotes removed. */
  name: string;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when absent. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body's lines (and the terminator may be indented with tabs). */
  chomp: boolean;
  /** The body as written, each line with its newline, without the terminator line. */
  content: string;
}

/** One instruction of the Dockerfile. */
export interface Node {
  /** The instruction name as written (`RUN`, `run`, `Run`...). */
  name: string;
  /** `--flag[=value]` words before the arguments, quotes removed. */
  flags: string[];
  /**
   * The arguments as the instruction's parser shaped them: the words of a
   * JSON array; the one string of a shell-form CMD/RUN/ENTRYPOINT/SHELL;
   * whitespace-split words for FROM, EXPOSE, COPY, ADD, VOLUME;
   * `key, value, "=" | ""` triples for ENV and LABEL; `type, command` for
   * HEALTHCHECK. Empty for ONBUILD, whose instruction is `sub`.
   */
  args: string[];
  /** ONBUILD's trigger instruction. */
  sub?: Node;
  /** The arguments were a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  /** The logical line (continuations joined), as the instruction's source text. */
  original: string;
  /** 1-based first and last line of the instruction, heredoc bodies included. */
  startLine: number;
  endLine: number;
  /** The comment lines right above the instruction (without `#`). */
  comments: string[];
}

export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface Warning {
  message: string;
  line: number;
}

export interface Dockerfile {
  nodes: Node[];
  /** The escape character in effect: `\` or backtick. */
  escapeToken: string;
  directives: Directive[];
  /** Empty continuation lines, which docker warns about. */
  warnings: Warning[];
  /** Line range of all instructions. */
  startLine: number;
  endLine: number;
}

/** A syntax error in a Dockerfile; the message reads `dockerfile parse error on line N: detail`. */
export class DockerfileParseError extends BerthError {
  readonly line: number;
  readonly endLine: number;
  readonly detail: string;

  constructor(detail: string, line: number, endLine = line) {
    super('InvalidArgument', `dockerfile parse error on line ${line}: ${detail}`, { line, endLine });
    this.line = line;
    this.endLine = Math.max(line, endLine);
    this.detail = detail;
  }
}

/** An error in one instruction's arguments, located by the caller. */
class SyntaxError extends Error {}

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/s;
/** Go's unicode.IsSpace. */
const isSpace = (ch: string) => /^\p{White_Space}$/u.test(ch);
const trimLeftSpace = (s: string) => s.replace(/^\p{White_Space}+/u, '');
const trimSpace = (s: string) => s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (line: string) => trimLeftSpace(line).startsWith('#');
/** Splits at runs of blanks (not newlines), at most `limit` parts. */
function splitBlanks(s: string, limit = Infinity): string[] {
  const out: string[] = [];
  const re = /[\t\v\f\r ]+/g;
  let last = 0;
  for (let m = re.exec(s); m && out.length < limit - 1; m = re.exec(s)) {
    out.push(s.slice(last, m.index));
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out;
}

/** The parser directives state: which were seen, and whether they may still appear. */
class Directives {
  escapeToken = '\\';
  continuation = continuationRegex('\\');
  readonly found: Directive[] = [];
  private done = false;
  private line = 0;

  /** Looks at a line for a directive; directives stop at the first line that is not one. */
  check(line: string): boolean {
    this.line++;
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE_RE.exec(trimLeftSpace(line.slice(1)));
    const name = m?.[1]!.toLowerCase();
    if (!m || (name !== 'syntax' && name !== 'escape' && name !== 'check')) {
      this.done = true;
      return false;
    }
    if (this.found.some((d) => d.name === name)) throw new SyntaxError(`only one ${name} parser directive can be used`);
    const value = m[2]!;
    this.found.push({ name, value, line: this.line });
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw new SyntaxError(`invalid escape token '${value}' does not match \` or \\`);
      this.escapeToken = value;
      this.continuation = continuationRegex(value);
    }
    return true;
  }
}

/**
 * The escape character as the last non-blank of a line continues it, unless
 * it is itself escaped by the character before it.
 */
function continuationRegex(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Lines with their line endings, as BuildKit's scanner yields them. */
function scanLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

/** Parses a Dockerfile. Throws DockerfileParseError with the line of the fault. */
export function parse(source: string | Buffer): Dockerfile {
  const text = typeof source === 'string' ? source : source.toString('utf8');
  const lines = scanLines(text);
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: Warning[] = [];
  let comments: string[] = [];
  let current = 0;
  let i = 0;

  const processLine = (raw: string, stripLeft: boolean): [string, boolean] => {
    let line = trimNewline(raw);
    if (stripLeft) line = trimLeftSpace(line);
    let directive: boolean;
    try {
      directive = d.check(line);
    } catch (err) {
      if (err instanceof SyntaxError) throw new DockerfileParseError(err.message, current + 1);
      throw err;
    }
    return [isComment(line) ? '' : line, directive];
  };
  const trimContinuation = (line: string): [string, boolean] => {
    if (d.continuation.test(line)) return [line.replace(d.continuation, '$1'), false];
    return [line, true];
  };

  while (i < lines.length) {
    let raw = lines[i++]!;
    if (current === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    if (isComment(raw)) {
      const c = trimSpace(trimLeftSpace(raw).slice(1));
      if (c === '') comments = [];
      else comments.push(c);
    }
    const [first, isDirective] = processLine(raw, true);
    if (isDirective) comments.pop();
    current++;
    const startLine = current;
    let [line, complete] = trimContinuation(first);
    if (complete && line.length === 0) continue;

    let hasEmptyContinuation = false;
    while (!complete && i < lines.length) {
      const next = lines[i++]!;
      const [processed] = processLine(next, false);
      current++;
      // Comment lines inside a continuation are dropped; empty ones too, with a warning.
      if (isComment(next)) continue;
      if (trimLeftSpace(trimNewline(processed)).length === 0) {
        hasEmptyContinuation = true;
        continue;
      }
      let part: string;
      [part, complete] = trimContinuation(processed);
      line += part;
    }
    if (hasEmptyContinuation) warnings.push({ message: `Empty continuation line found in: ${line}`, line: current });

    let node: Node;
    try {
      node = nodeFromLine(line, d.escapeToken, comments);
    } catch (err) {
      if (err instanceof SyntaxError) throw new DockerfileParseError(err.message, startLine, current);
      throw err;
    }

    if (canContainHeredoc(node) && line.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(line);
      } catch (err) {
        if (err instanceof SyntaxError || err instanceof BerthError) throw new DockerfileParseError(err.message, startLine, current);
        throw err;
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        while (i < lines.length) {
          const body = lines[i++]!;
          current++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) throw new DockerfileParseError('unterminated heredoc', startLine, current);
        const target = node.sub ?? node;
        target.heredocs.push({ ...doc, content });
      }
    }
    node.startLine = startLine;
    node.endLine = current;
    if (node.sub) {
      node.sub.startLine = startLine;
      node.sub.endLine = current;
    }
    nodes.push(node);
    comments = [];
  }

  if (nodes.length === 0) throw new DockerfileParseError('file with no instructions', Math.max(current, 1));
  return {
    nodes,
    escapeToken: d.escapeToken,
    directives: d.found,
    warnings,
    startLine: nodes[0]!.startLine,
    endLine: nodes[nodes.length - 1]!.endLine,
  };
}

function canContainHeredoc(node: Node): boolean {
  const n = node.name.toLowerCase() === 'onbuild' && node.sub ? node.sub : node;
  return HEREDOC_INSTRUCTIONS.has(n.name.toLowerCase()) && !n.json;
}

/** Splits a logical line into instruction name, flags and arguments, and shapes the arguments. */
function nodeFromLine(line: string, escape: string, comments: string[]): Node {
  const parts = splitBlanks(trimSpace(line), 2);
  const name = parts[0]!;
  let flags: string[] = [];
  let args = '';
  if (parts.length === 2) [args, flags] = extractFlags(parts[1]!, escape);
  args = trimSpace(args);
  const node: Node = {
    name,
    flags,
    args: [],
    json: false,
    heredocs: [],
    original: line,
    startLine: 0,
    endLine: 0,
    comments: [...comments],
  };
  const shape = SHAPES[name.toLowerCase()];
  if (!shape) {
    // Unknown instructions parse (their arguments dropped) and fail when typed.
    node.args = [''];
    return node;
  }
  if (shape === 'sub') {
    if (args !== '') node.sub = nodeFromLine(args, escape, []);
    return node;
  }
  const { args: a, json } = shape(args, escape);
  node.args = a;
  node.json = json;
  return node;
}

/**
 * Flags are the leading words that start with `--`; `--` alone ends them.
 * Quotes group a flag's characters and are removed, the escape character
 * escapes the next one.
 */
function extractFlags(line: string, escape: string): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      ch = line[++pos]!;
    }
    word += ch;
  }
  return ['', words];
}

type Shape = (rest: string, escape: string) => { args: string[]; json: boolean };

const SHAPES: Record<string, Shape | 'sub'> = {
  add: maybeJsonToList,
  arg: (rest, escape) => ({ args: parseWords(rest, escape), json: false }),
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: (rest, escape) => ({ args: nameValues(rest, 'ENV', escape), json: false }),
  expose: (rest) => ({ args: blankDelimited(rest), json: false }),
  from: (rest) => ({ args: blankDelimited(rest), json: false }),
  healthcheck: healthConfig,
  label: (rest, escape) => ({ args: nameValues(rest, 'LABEL', escape), json: false }),
  maintainer: single,
  onbuild: 'sub',
  run: maybeJson,
  shell: maybeJson,
  stopsignal: single,
  user: single,
  volume: maybeJsonToList,
  workdir: single,
};

function single(rest: string): { args: string[]; json: boolean } {
  return { args: rest === '' ? [] : [rest], json: false };
}

function blankDelimited(rest: string): string[] {
  return rest === '' ? [] : splitBlanks(rest);
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** The words of a JSON array of strings, undefined when rest is not a JSON array. */
function parseJson(rest: string): string[] | undefined {
  const t = trimLeftSpace(rest);
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new SyntaxError(NOT_STRINGS);
  return v as string[];
}

/** A JSON array, or else the whole text as one argument. */
function maybeJson(rest: string): { args: string[]; json: boolean } {
  if (rest === '') return { args: [], json: false };
  const j = parseJson(rest);
  if (j) return { args: j, json: true };
  return { args: [rest], json: false };
}

/** A JSON array, or else whitespace-separated words. */
function maybeJsonToList(rest: string): { args: string[]; json: boolean } {
  const j = parseJson(rest);
  if (j) return { args: j, json: true };
  return { args: blankDelimited(rest), json: false };
}

/** HEALTHCHECK: the type word (CMD, NONE), then a command like CMD's. */
function healthConfig(rest: string): { args: string[]; json: boolean } {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/**
 * Splits at unquoted whitespace keeping quotes and escapes in the words
 * (they are removed later, at expansion).
 */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        // An escape outside quotes is kept with the character it escapes, even a quote.
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

/**
 * ENV and LABEL: `name=value ...` pairs, or the legacy `name value` (the rest
 * of the line is the value) when the first word has no `=`. Each pair becomes
 * the triple `name, value, "="` (or `""` for the legacy form).
 */
function nameValues(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const parts = splitBlanks(rest, 2);
    if (parts.length < 2) throw new SyntaxError(`${key} must have two arguments`);
    return [parts[0]!, parts[1]!, ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new SyntaxError(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return out;
}

const NO_ENV = () => undefined;
const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * The heredoc introduced by a word such as `<<EOF`, `<<-"EOF"` or `3<<'END'`,
 * or undefined when the word is not one.
 */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const opts = { skipUnsetEnv: true };
  const words = processWords(rest, NO_ENV, { ...opts, rawQuotes: false });
  if (words.length !== 1) return undefined;
  const raw = processWords(rest, NO_ENV, { ...opts, rawQuotes: true });
  if (raw.length !== words.length) throw new SyntaxError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  // Quotes that lexing removed mean some of the delimiter was quoted: no expansion in the body.
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: words[0]!,
    fileDescriptor: m[1] ? Number(m[1]) : 0,
    expand: quotes(words[0]!) === quotes(raw[0]!),
    chomp: m[2] === '-',
  };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = processWords(line, NO_ENV, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    words = [];
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const doc = parseHeredoc(w);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** A heredoc body with `<<-` applied: leading tabs removed from every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/**
 * The AST in the S-expression form of BuildKit's parser corpus: one line per
 * instruction, `(name ["--flags"] "arg" ...)`, strings quoted as Go quotes them.
 */
export function dump(ast: Dockerfile | Node[]): string {
  const nodes = Array.isArray(ast) ? ast : ast.nodes;
  return nodes.map((n) => `(${dumpNode(n)})`).join('\n');
}

function dumpNode(n: Node): string {
  let s = n.name.toLowerCase();
  if (n.flags.length > 0) s += ` [${n.flags.map((f) => goQuote(f)).join(' ')}]`;
  if (n.sub) s += ` (${dumpNode(n.sub)})`;
  for (const a of n.args) s += ' ' + goQuote(a);
  return trimSpace(s);
}
