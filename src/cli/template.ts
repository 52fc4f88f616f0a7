/**
 * Go's text/template, as docker's --format flag uses it.
 *
 * A lexer and parser build a small tree; an executor walks it over plain JS
 * data. Values print by Go's fmt rules, Go's builtin functions are here, and
 * so are the functions docker adds to every template (json, join, split,
 * lower, upper, title, pad, truncate).
 *
 * Data model: an object stands for a Go map (field syntax reads its keys), an
 * array for a slice, an integral number for a Go int and any other number for
 * a float64. `undefined` is a missing value (prints `<no value>`), `null` is a
 * nil (prints `<nil>`). A function found on an object is called like a Go
 * method, with the action's arguments.
 */
import { invalidArgument } from '../lib/errors.js';
import {
  formatValue, goJSON, goQuote, goTypeName, hex, isPlain, isTrue, member, runeLen, runes, sortedEntries, sprint, sprintf, sprintln,
} from '../lib/gofmt.js';

/** Functions callable from templates, by name. */
type Funcs = Record<string, Function>;
type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

export interface Template {
  readonly source: string;
  /**
   * Runs the template over data. `funcs` replace functions of the same name
   * for this run only (docker swaps in identity functions for table headers).
   * Errors are BerthErrors (InvalidArgument) whose context.output holds what
   * was written before the failure.
   */
  execute(data: unknown, funcs?: Funcs): string;
  /** Top-level field names the template reads (`.Name`, `$.Name`), in order of first use. */
  fields(): string[];
}

/** Parses a template; parse errors read `template parsing error: template: :LINE: ...` like docker's. */
/**
 * Marks an object as a Go struct: a field it lacks is an execution error
 * (`can't evaluate field X in type T`) instead of a map's missing key.
 */
export const GO_STRUCT: unique symbol = Symbol('goStruct');

/** Declares how many arguments a method or function takes, so calls with another count fail like Go's. */
export function withArity<F extends (...args: never[]) => unknown>(fn: F, min: number, max = min): F {
  arities.set(fn as unknown as AnyFn, [min, max]);
  return fn;
}

export function compileTemplate(src: string, funcs: Funcs = {}): Template {
  const table = funcTable(funcs);
  let prog: Program;
  try {
    prog = new Parser(src, table).parse();
  } catch (err) {
    if (err instanceof Failure) throw invalidArgument(`template parsing error: ${err.message}`);
    throw err;
  }
  return {
    source: src,
    execute: (data, overrides) => execute(prog, overrides ? funcTable(overrides, table) : table, data),
    fields: () => fieldNames(prog),
  };
}

/** Compiles and runs a template in one step. */
export function formatTemplate(src: string, data: unknown): string {
  return compileTemplate(src).execute(data);
}

/** Internal error carrying a finished Go-style message. */
class Failure extends Error {}
/** A function saw an argument of the wrong type; reported without "error calling". */
class ArgTypeError extends Error {}

// ───────────────────────────── lexer ─────────────────────────────

type Kind =
  | 'text' | 'left' | 'right' | 'space' | 'field' | 'var' | 'dot' | 'ident' | 'keyword' | 'string' | 'raw'
  | 'char' | 'number' | 'bool' | 'nil' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';

interface Tok { k: Kind; v: string; pos: number }

const keywords = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);

/** Line number (1-based) of a byte offset, as Go reports in errors. */
function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = src.indexOf('\n'); i >= 0 && i < pos; i = src.indexOf('\n', i + 1)) n++;
  return n;
}

function fail(src: string, pos: number, msg: string): never {
  throw new Failure(`template: :${lineOf(src, pos)}: ${msg}`);
}

/** Go's %#U of a character: U+0040 '@'. */
function fmtU(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  const push = (k: Kind, v: string, pos: number) => toks.push({ k, v, pos });
  let pos = 0;
  while (pos < src.length) {
    const start = src.indexOf('{{', pos);
    if (start < 0) {
      push('text', src.slice(pos), pos);
      break;
    }
    let after = start + 2;
    const trimLeft = src[after] === '-' && isSpace(src[after + 1]);
    let text = src.slice(pos, start);
    if (trimLeft) {
      text = text.replace(/[ \t\r\n]+$/, '');
      after += 2;
    }
    if (text) push('text', text, pos);
    const rightTrim = (p: number) => isSpace(src[p]) && src[p + 1] === '-' && src.startsWith('}}', p + 2);
    const skipSpace = (p: number) => {
      while (isSpace(src[p])) p++;
      return p;
    };

    if (src.startsWith('/*', after)) {
      const close = src.indexOf('*/', after + 2);
      if (close < 0) fail(src, start, 'unclosed comment');
      let p = close + 2;
      const trim = rightTrim(p);
      if (trim) p += 2;
      if (!src.startsWith('}}', p)) fail(src, close, 'comment ends before closing delimiter');
      pos = trim ? skipSpace(p + 2) : p + 2;
      continue;
    }

    push('left', '{{', start);
    pos = after;
    let depth = 0;
    for (;;) {
      const c = src[pos];
      if (rightTrim(pos) || src.startsWith('}}', pos)) {
        if (depth > 0) fail(src, pos, 'unclosed left paren');
        const trim = rightTrim(pos);
        const at = trim ? pos + 2 : pos;
        push('right', '}}', at);
        pos = trim ? skipSpace(at + 2) : at + 2;
        break;
      }
      if (c === undefined) fail(src, pos, 'unclosed action');
      if (isSpace(c)) {
        let p = skipSpace(pos);
        if (src[p] === '-' && src.startsWith('}}', p + 1)) p--; // leave the space of " -}}"
        if (p > pos) push('space', src.slice(pos, p), pos);
        pos = p;
        continue;
      }
      const atTerminator = (p: number) => {
        const t = src[p];
        return t === undefined || isSpace(t) || '.,|:()='.includes(t) || src.startsWith('}}', p);
      };
      const word = (p: number) => {
        while (isAlnum(src[p])) p++;
        return p;
      };
      if (c === '=') push('assign', '=', pos++);
      else if (c === ':') {
        if (src[pos + 1] !== '=') fail(src, pos, 'expected :=');
        push('declare', ':=', pos);
        pos += 2;
      } else if (c === '|') push('pipe', '|', pos++);
      else if (c === ',') push('comma', ',', pos++);
      else if (c === '(') {
        depth++;
        push('lparen', '(', pos++);
      } else if (c === ')') {
        if (--depth < 0) fail(src, pos, 'unexpected right paren');
        push('rparen', ')', pos++);
      } else if (c === '"' || c === "'") {
        let p = pos + 1;
        for (;;) {
          const d = src[p];
          if (d === '\\' && src[p + 1] !== undefined && src[p + 1] !== '\n') {
            p += 2;
            continue;
          }
          if (d === undefined || d === '\n' || d === '\\') {
            fail(src, pos, c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
          }
          if (d === c) break;
          p++;
        }
        push(c === '"' ? 'string' : 'char', src.slice(pos, p + 1), pos);
        pos = p + 1;
      } else if (c === '`') {
        const close = src.indexOf('`', pos + 1);
        if (close < 0) fail(src, pos, 'unterminated raw quoted string');
        push('raw', src.slice(pos, close + 1), pos);
        pos = close + 1;
      } else if (c === '$' || (c === '.' && !/[0-9]/.test(src[pos + 1] ?? ''))) {
        const p = word(pos + 1);
        if (!atTerminator(p)) fail(src, p, `bad character ${fmtU(String.fromCodePoint(src.codePointAt(p)!))}`);
        push(c === '$' ? 'var' : p === pos + 1 ? 'dot' : 'field', src.slice(pos, p), pos);
        pos = p;
      } else if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        const p = scanNumber(src, pos);
        if (isAlnum(src[p])) fail(src, pos, `bad number syntax: ${goQuote(src.slice(pos, p + 1))}`);
        push('number', src.slice(pos, p), pos);
        pos = p;
      } else if (isAlnum(c)) {
        const p = word(pos);
        if (!atTerminator(p)) fail(src, p, `bad character ${fmtU(String.fromCodePoint(src.codePointAt(p)!))}`);
        const w = src.slice(pos, p);
        push(keywords.has(w) ? 'keyword' : w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : 'ident', w, pos);
        pos = p;
      } else {
        fail(src, pos, `unrecognized character in action: ${fmtU(String.fromCodePoint(src.codePointAt(pos)!))}`);
      }
    }
  }
  toks.push({ k: 'eof', v: '', pos: src.length });
  return toks;
}

/** End offset of the Go number literal starting at pos. */
function scanNumber(src: string, pos: number): number {
  let p = pos;
  const accept = (set: string) => (src[p] !== undefined && set.includes(src[p]) ? (p++, true) : false);
  const run = (set: string) => {
    while (src[p] !== undefined && set.includes(src[p])) p++;
  };
  accept('+-');
  let digits = '0123456789_';
  if (accept('0')) {
    if (accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (accept('oO')) digits = '01234567_';
    else if (accept('bB')) digits = '01_';
  }
  run(digits);
  if (accept('.')) run(digits);
  if (digits.length === 11 && accept('eE')) {
    accept('+-');
    run('0123456789_');
  }
  if (digits.length === 23 && accept('pP')) {
    accept('+-');
    run('0123456789_');
  }
  accept('i');
  return p;
}

// ───────────────────────────── parser ─────────────────────────────

interface Pipe { t: 'pipe'; pos: number; decl: string[]; isAssign: boolean; cmds: Cmd[] }
interface Cmd { t: 'cmd'; pos: number; args: Arg[] }
type Arg =
  | { t: 'field'; pos: number; idents: string[] }
  | { t: 'var'; pos: number; idents: string[] }
  | { t: 'dot' | 'nil'; pos: number }
  | { t: 'bool'; pos: number; value: boolean }
  | { t: 'number'; pos: number; value: number; text: string }
  | { t: 'string'; pos: number; value: string; text: string }
  | { t: 'ident'; pos: number; name: string }
  | { t: 'chain'; pos: number; node: Arg; fields: string[] }
  | Pipe;
interface Control { t: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList: Node[] | null }
interface Call { t: 'template'; pos: number; name: string; pipe: Pipe | null }
type Node =
  | { t: 'text'; pos: number; text: string }
  | { t: 'action'; pos: number; pipe: Pipe }
  | Control
  | Call
  | { t: 'break' | 'continue'; pos: number };
type Marker = { t: 'end'; pos: number } | { t: 'else'; pos: number };

interface Program { src: string; root: Node[]; defs: Map<string, Node[]> }

/** Go's String() of a node, shown in execution errors. */
function show(n: Arg | Cmd | Node | Marker): string {
  switch (n.t) {
    case 'field': return '.' + n.idents.join('.');
    case 'var': return n.idents.join('.');
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number':
    case 'string': return n.text;
    case 'ident': return n.name;
    case 'chain': return (n.node.t === 'pipe' ? `(${show(n.node)})` : show(n.node)) + '.' + n.fields.join('.');
    case 'pipe': {
      const decl = n.decl.length ? n.decl.join(', ') + (n.isAssign ? ' = ' : ' := ') : '';
      return decl + n.cmds.map(show).join(' | ');
    }
    case 'cmd': return n.args.map((a) => (a.t === 'pipe' ? `(${show(a)})` : show(a))).join(' ');
    case 'text': return n.text;
    case 'action': return `{{${show(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range': {
      const body = n.list.map(show).join('');
      const alt = n.elseList ? '{{else}}' + n.elseList.map(show).join('') : '';
      return `{{${n.t} ${show(n.pipe)}}}${body}${alt}{{end}}`;
    }
    case 'template': return `{{template ${goQuote(n.name)}${n.pipe ? ' ' + show(n.pipe) : ''}}}`;
    case 'break':
    case 'continue':
    case 'end':
    case 'else': return `{{${n.t}}}`;
  }
}

/** Go's description of a token in "unexpected X in Y" errors. */
function describe(tok: Tok): string {
  if (tok.k === 'eof') return 'EOF';
  if (tok.k === 'keyword' || tok.k === 'dot') return `<${tok.v}>`;
  if (tok.v.length > 10) return goQuote(tok.v.slice(0, 10)) + '...';
  return goQuote(tok.v);
}

class Parser {
  private toks: Tok[];
  private i = 0;
  private vars = ['$'];
  private rangeDepth = 0;
  private defs = new Map<string, Node[]>();

  constructor(private src: string, private funcs: Map<string, AnyFn>) {
    this.toks = lex(src);
  }

  parse(): Program {
    const root: Node[] = [];
    while (this.peek().k !== 'eof') {
      if (this.peek().k === 'left') {
        const save = this.i;
        this.next();
        const t = this.nextNonSpace();
        if (t.k === 'keyword' && t.v === 'define') {
          this.definition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.t === 'end' || n.t === 'else') this.fail(`unexpected ${show(n)}`, n.pos);
      else root.push(n);
    }
    return { src: this.src, root, defs: this.defs };
  }

  private fail(msg: string, pos = this.toks[Math.max(this.i - 1, 0)].pos): never {
    return fail(this.src, pos, msg);
  }
  private unexpected(tok: Tok, context: string): never {
    return this.fail(`unexpected ${describe(tok)} in ${context}`, tok.pos);
  }
  private next(): Tok {
    return this.toks[this.i < this.toks.length - 1 ? this.i++ : this.i];
  }
  private peek(): Tok {
    return this.toks[this.i];
  }
  private backup(): void {
    this.i--;
  }
  private nextNonSpace(): Tok {
    let t = this.next();
    while (t.k === 'space') t = this.next();
    return t;
  }
  private peekNonSpace(): Tok {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }
  private expect(k: Kind, context: string): Tok {
    const t = this.nextNonSpace();
    if (t.k !== k) this.unexpected(t, context);
    return t;
  }

  private definition(): void {
    const context = 'define clause';
    const name = this.nextNonSpace();
    if (name.k !== 'string' && name.k !== 'raw') this.unexpected(name, context);
    this.expect('right', context);
    const vars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.t !== 'end') this.fail(`unexpected ${show(end)} in ${context}`, end.pos);
    this.vars = vars;
    this.addDefinition(this.unquote(name), list);
  }

  private addDefinition(name: string, list: Node[]): void {
    const empty = (l: Node[]) => l.every((n) => n.t === 'text' && n.text.trim() === '');
    const old = this.defs.get(name);
    if (old && !empty(old) && !empty(list)) this.fail(`template: multiple definition of template ${goQuote(name)}`);
    if (!old || !empty(list)) this.defs.set(name, list);
  }

  private itemList(): [Node[], Marker] {
    const list: Node[] = [];
    while (this.peekNonSpace().k !== 'eof') {
      const n = this.textOrAction();
      if (n.t === 'end' || n.t === 'else') return [list, n];
      else list.push(n);
    }
    return this.fail('unexpected EOF');
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.k === 'text') return { t: 'text', pos: t.pos, text: t.v };
    if (t.k === 'left') return this.action();
    return this.unexpected(t, 'input');
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.k === 'keyword') {
      switch (t.v) {
        case 'block': return this.block(t.pos);
        case 'break':
        case 'continue': {
          this.expect('right', `{{${t.v}}}`);
          if (this.rangeDepth === 0) this.fail(`{{${t.v}}} outside {{range}}`, t.pos);
          return { t: t.v, pos: t.pos };
        }
        case 'else': {
          const p = this.peekNonSpace();
          if (p.k === 'keyword' && (p.v === 'if' || p.v === 'with')) return { t: 'else', pos: t.pos };
          this.expect('right', 'else');
          return { t: 'else', pos: t.pos };
        }
        case 'end':
          this.expect('right', 'end');
          return { t: 'end', pos: t.pos };
        case 'if':
        case 'range':
        case 'with':
          return this.control(t.v, t.pos);
        case 'template': return this.templateCall(t.pos);
      }
    }
    this.backup();
    return { t: 'action', pos: this.peekNonSpace().pos, pipe: this.pipeline('command', 'right') };
  }

  private control(context: 'if' | 'range' | 'with', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(context, 'right');
    if (context === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (next.t === 'else') {
      const p = this.peekNonSpace();
      if (context !== 'range' && p.k === 'keyword' && p.v === context) {
        // {{else if x}} / {{else with x}} nest a new control sharing our {{end}}.
        this.next();
        elseList = [this.control(context, p.pos)];
      } else {
        [elseList, next] = this.itemList();
        if (next.t !== 'end') this.fail(`expected end; found ${show(next)}`, next.pos);
      }
    }
    this.vars.length = mark;
    return { t: context, pos, pipe, list, elseList };
  }

  private templateCall(pos: number): Node {
    const context = 'template clause';
    const name = this.nextNonSpace();
    if (name.k !== 'string' && name.k !== 'raw') this.unexpected(name, context);
    let pipe: Pipe | null = null;
    if (this.nextNonSpace().k !== 'right') {
      this.backup();
      pipe = this.pipeline(context, 'right');
    }
    return { t: 'template', pos, name: this.unquote(name), pipe };
  }

  private block(pos: number): Node {
    const context = 'block clause';
    const name = this.nextNonSpace();
    if (name.k !== 'string' && name.k !== 'raw') this.unexpected(name, context);
    const pipe = this.pipeline(context, 'right');
    const vars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.t !== 'end') this.fail(`unexpected ${show(end)} in ${context}`, end.pos);
    this.vars = vars;
    this.addDefinition(this.unquote(name), list);
    return { t: 'template', pos, name: this.unquote(name), pipe };
  }

  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const pipe: Pipe = { t: 'pipe', pos: this.peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: $x := ..., $x = ..., range $i, $v := ...
    for (;;) {
      const v = this.peekNonSpace();
      if (v.k !== 'var') break;
      const save = this.i;
      this.next();
      const next = this.peekNonSpace();
      if (next.k === 'assign' || next.k === 'declare') {
        this.nextNonSpace();
        pipe.isAssign = next.k === 'assign';
        pipe.decl.push(v.v);
        this.vars.push(v.v);
        break;
      }
      if (next.k === 'comma') {
        this.nextNonSpace();
        pipe.decl.push(v.v);
        this.vars.push(v.v);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.k === 'var' || p.k === 'right' || p.k === 'rparen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.k === end) {
        if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
        pipe.cmds.forEach((c, n) => {
          const first = c.args[0].t;
          if (n > 0 && ['bool', 'dot', 'nil', 'number', 'string'].includes(first)) {
            this.fail(`non executable command in pipeline stage ${n + 1}`);
          }
        });
        return pipe;
      }
      if (['bool', 'char', 'dot', 'field', 'ident', 'number', 'nil', 'raw', 'string', 'var', 'lparen'].includes(t.k)) {
        this.backup();
        pipe.cmds.push(this.command());
      } else {
        this.unexpected(t, context);
      }
    }
  }

  private command(): Cmd {
    const cmd: Cmd = { t: 'cmd', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.k === 'space') continue;
      if (t.k === 'right' || t.k === 'rparen') this.backup();
      else if (t.k === 'pipe') {
        const p = this.peekNonSpace();
        if (p.k === 'right' || p.k === 'rparen') this.fail('missing command', p.pos);
      } else this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): Arg | null {
    const node = this.term();
    if (!node || this.peek().k !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().k === 'field') fields.push(this.next().v.slice(1));
    switch (node.t) {
      case 'field':
      case 'var':
        return { t: node.t, pos, idents: [...node.idents, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.fail(`unexpected . after term ${goQuote(show(node))}`);
      default:
        return { t: 'chain', pos, node, fields };
    }
  }

  private term(): Arg | null {
    const t = this.nextNonSpace();
    switch (t.k) {
      case 'ident':
        if (!this.funcs.has(t.v)) this.fail(`function ${goQuote(t.v)} not defined`, t.pos);
        return { t: 'ident', pos: t.pos, name: t.v };
      case 'dot': return { t: 'dot', pos: t.pos };
      case 'nil': return { t: 'nil', pos: t.pos };
      case 'var':
        if (!this.vars.includes(t.v)) this.fail(`undefined variable ${goQuote(t.v)}`, t.pos);
        return { t: 'var', pos: t.pos, idents: [t.v] };
      case 'field': return { t: 'field', pos: t.pos, idents: [t.v.slice(1)] };
      case 'bool': return { t: 'bool', pos: t.pos, value: t.v === 'true' };
      case 'char': return { t: 'number', pos: t.pos, value: this.charValue(t), text: t.v };
      case 'number': return { t: 'number', pos: t.pos, value: this.numberValue(t), text: t.v };
      case 'lparen': return this.pipeline('parenthesized pipeline', 'rparen');
      case 'string':
      case 'raw': return { t: 'string', pos: t.pos, value: this.unquote(t), text: t.v };
    }
    this.backup();
    return null;
  }

  private numberValue(t: Tok): number {
    const text = t.v.replace(/_/g, '');
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)$/.exec(text);
    if (m) {
      let digits = m[2];
      if (/^0[0-7]/.test(digits)) digits = '0o' + digits.slice(1);
      const n = BigInt(digits);
      return Number(m[1] === '-' ? -n : n);
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
    if (text.endsWith('i')) this.fail(`complex numbers are not supported: ${goQuote(t.v)}`, t.pos);
    return this.fail(`illegal number syntax: ${goQuote(t.v)}`, t.pos);
  }

  private charValue(t: Tok): number {
    const s = unquoteBody(t.v.slice(1, -1), "'");
    if (s === null || runeLen(s) !== 1) this.fail(`malformed character constant: ${t.v}`, t.pos);
    return s.codePointAt(0)!;
  }

  private unquote(t: Tok): string {
    if (t.k === 'raw') return t.v.slice(1, -1).replace(/\r/g, '');
    const s = unquoteBody(t.v.slice(1, -1), '"');
    return s ?? this.fail('invalid syntax', t.pos);
  }
}

/** The body of a Go quoted literal with its escapes decoded; null if malformed. */
function unquoteBody(body: string, quote: string): string | null {
  const bytes: number[] = [];
  const put = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  for (let i = 0; i < body.length; ) {
    const c = String.fromCodePoint(body.codePointAt(i)!);
    i += c.length;
    if (c === quote) return null;
    if (c !== '\\') {
      put(c);
      continue;
    }
    const e = body[i++];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e in simple) put(simple[e]);
    else if (e === quote) put(e);
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const h = body.slice(i, i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) return null;
      i += len;
      const n = parseInt(h, 16);
      if (e === 'x') bytes.push(n);
      else if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
      else put(String.fromCodePoint(n));
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const o = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) return null;
      i += 2;
      bytes.push(parseInt(o, 8));
    } else return null;
  }
  return Buffer.from(bytes).toString('utf8');
}

function fieldNames(prog: Program): string[] {
  const names = new Set<string>();
  const arg = (a: Arg): void => {
    if (a.t === 'field') names.add(a.idents[0]);
    else if (a.t === 'var' && a.idents[0] === '$' && a.idents.length > 1) names.add(a.idents[1]);
    else if (a.t === 'chain') arg(a.node);
    else if (a.t === 'pipe') pipe(a);
  };
  const pipe = (p: Pipe | null): void => p?.cmds.forEach((c) => c.args.forEach(arg));
  const list = (l: Node[] | null): void =>
    l?.forEach((n) => {
      if (n.t === 'action' || n.t === 'template') pipe(n.pipe);
      else if (n.t === 'if' || n.t === 'with' || n.t === 'range') {
        pipe(n.pipe);
        list(n.list);
        list(n.elseList);
      }
    });
  list(prog.root);
  prog.defs.forEach(list);
  return [...names];
}

// ───────────────────────────── executor ─────────────────────────────

const MISSING = Symbol('missing'); // no final (piped) argument
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
const MAX_DEPTH = 1000;

function execute(prog: Program, funcs: Map<string, AnyFn>, data: unknown): string {
  // Nil data behaves like a missing value, as in Go ({{.}} prints <no value>).
  const dot = data === null ? undefined : data;
  const ex = new Exec(prog, funcs, dot);
  try {
    ex.walkList(dot, prog.root);
  } catch (err) {
    if (err instanceof Failure) throw invalidArgument(err.message, { output: ex.out });
    throw err;
  }
  return ex.out;
}

type Where = Arg | Cmd | Node;

class Exec {
  out = '';
  private vars: { name: string; value: unknown }[];
  private node: Where | null = null;
  private name = '';
  private depth = 0;

  constructor(private prog: Program, private funcs: Map<string, AnyFn>, data: unknown) {
    this.vars = [{ name: '$', value: data }];
  }

  private at(n: Where): void {
    this.node = n;
  }

  private errorf(msg: string): never {
    const name = goQuote(this.name);
    if (!this.node) throw new Failure(`template: ${name}: ${msg}`);
    const src = this.prog.src;
    const pos = this.node.pos;
    const lineStart = src.lastIndexOf('\n', pos - 1) + 1;
    const col = Buffer.byteLength(src.slice(lineStart, pos));
    let ctx = show(this.node);
    if (runeLen(ctx) > 20) ctx = runes(ctx).slice(0, 20).join('') + '...';
    throw new Failure(`template: :${lineOf(src, pos)}:${col}: executing ${name} at <${ctx}>: ${msg}`);
  }

  walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  private walk(dot: unknown, n: Node): void {
    switch (n.t) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        this.at(n);
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.print(n, v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        try {
          const v = this.evalPipeline(dot, n.pipe);
          if (isTrue(v)) this.walkList(n.t === 'with' ? v : dot, n.list);
          else if (n.elseList) this.walkList(dot, n.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        return this.walkRange(dot, n);
      case 'template':
        return this.walkTemplate(dot, n);
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private print(n: Where, v: unknown): void {
    if (v === undefined) {
      this.out += '<no value>';
      return;
    }
    if (typeof v === 'function') {
      this.at(n);
      this.errorf(`can't print ${show(n)} of type func`);
    }
    this.out += formatValue(v);
  }

  private walkRange(dot: unknown, n: Control): void {
    this.at(n);
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, n.pipe);
      const { decl, isAssign } = n.pipe;
      // Runs the body once; returns false to stop the loop ({{break}}).
      const once = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (isAssign) this.setVar(decl[0], decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1].value = elem;
        }
        if (decl.length > 1) {
          if (isAssign) this.setVar(decl[1], elem);
          else this.vars[this.vars.length - 2].value = index;
        }
        const inner = this.vars.length;
        try {
          this.walkList(elem, n.list);
        } catch (err) {
          if (err === BREAK) return false;
          if (err !== CONTINUE) throw err;
        } finally {
          this.vars.length = inner;
        }
        return true;
      };
      let ran = false;
      if (val === undefined || val === null) {
        // a nil map or slice: nothing to iterate, not an error
      } else if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) {
          ran = true;
          if (!once(i, val[i])) break;
        }
      } else if (val instanceof Map || isPlain(val)) {
        for (const [k, v] of sortedEntries(val)) {
          ran = true;
          if (!once(k, v)) break;
        }
      } else if (typeof val === 'number' && Number.isInteger(val)) {
        if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        for (let i = 0; i < val; i++) {
          ran = true;
          if (!once(i, i)) break;
        }
      } else {
        this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && n.elseList) this.walkList(dot, n.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkTemplate(dot: unknown, n: Call): void {
    this.at(n);
    const list = this.prog.defs.get(n.name);
    if (!list) this.errorf(`template ${goQuote(n.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const value = n.pipe ? this.evalPipeline(dot, n.pipe) : undefined;
    const saved = { vars: this.vars, name: this.name, depth: this.depth };
    this.vars = [{ name: '$', value }]; // templates inherit no variables
    this.name = n.name;
    this.depth++;
    try {
      this.walkList(value, list);
    } finally {
      Object.assign(this, saved);
    }
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    this.at(pipe);
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Cmd, final: unknown): unknown {
    const first = cmd.args[0];
    switch (first.t) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'ident':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'var':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.t) {
      case 'bool':
      case 'number':
      case 'string':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
    }
  }

  private notAFunction(args: Arg[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${show(args[0])}`);
  }

  private evalArg(dot: unknown, n: Arg): unknown {
    this.at(n);
    switch (n.t) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'field': return this.evalFieldChain(dot, dot, n, n.idents, [n], MISSING);
      case 'var': return this.evalVariable(dot, n, [], MISSING);
      case 'pipe': return this.evalPipeline(dot, n);
      case 'ident': return this.evalFunction(dot, n, n, [n], MISSING);
      case 'chain': return this.evalChain(dot, n, [], MISSING);
      default: return n.value;
    }
  }

  private evalVariable(dot: unknown, v: Extract<Arg, { t: 'var' }>, args: Arg[], final: unknown): unknown {
    this.at(v);
    const value = this.varValue(v.idents[0]);
    if (v.idents.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), args, final);
  }

  private evalChain(dot: unknown, c: Extract<Arg, { t: 'chain' }>, args: Arg[], final: unknown): unknown {
    this.at(c);
    if (c.node.t === 'nil') this.errorf(`indirection through explicit nil in ${show(c)}`);
    const value = this.evalArg(dot, c.node);
    this.at(c);
    return this.evalFieldChain(dot, value, c, c.fields, args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Where, idents: string[], args: Arg[], final: unknown): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i], node, [], MISSING, receiver);
    return this.evalField(dot, idents[n - 1], node, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: Where, args: Arg[], final: unknown, receiver: unknown): unknown {
    if (receiver === undefined) return undefined; // missing: stays missing
    this.at(node);
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (receiver instanceof Map) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    if (typeof receiver === 'object' && !Array.isArray(receiver) && !(receiver instanceof Date)) {
      const m = member(receiver, name);
      if (m.found && typeof m.value === 'function') {
        return this.evalCall(dot, m.value as AnyFn, receiver, node, name, args, final);
      }
      if (!m.found && (receiver as { [GO_STRUCT]?: boolean })[GO_STRUCT]) {
        this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
      }
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return m.value;
    }
    return this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(dot: unknown, id: Extract<Arg, { t: 'ident' }>, where: Where, args: Arg[], final: unknown): unknown {
    this.at(id);
    const fn = this.funcs.get(id.name);
    if (!fn) return this.errorf(`${goQuote(id.name)} is not a defined function`);
    return this.evalCall(dot, fn, undefined, where, id.name, args, final);
  }

  private evalCall(dot: unknown, fn: AnyFn, self: unknown, where: Where, name: string, args: Arg[], final: unknown): unknown {
    this.at(where);
    const argNodes = args.slice(1);
    const count = argNodes.length + (final === MISSING ? 0 : 1);
    const arity = arities.get(fn);
    if (arity) {
      const [min, max] = arity;
      if (max === Infinity && count < min) this.errorf(`wrong number of args for ${name}: want at least ${min} got ${argNodes.length}`);
      if (max !== Infinity && (count < min || count > max)) this.errorf(`wrong number of args for ${name}: want ${min} got ${count}`);
    }
    if (fn === builtinAnd || fn === builtinOr) {
      // and/or evaluate their arguments lazily and stop at the deciding one.
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, a);
        if (isTrue(v) === (fn === builtinOr)) return v;
      }
      return final === MISSING ? v : final;
    }
    const argv = argNodes.map((a) => this.evalArg(dot, a));
    if (final !== MISSING) argv.push(final);
    this.at(where);
    try {
      return fn.apply(self, argv);
    } catch (err) {
      if (err instanceof Failure || err === BREAK || err === CONTINUE) throw err;
      this.at(where);
      if (err instanceof ArgTypeError) this.errorf(err.message);
      this.errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
}

// ───────────────────────────── functions ─────────────────────────────

/** Argument counts of the functions defined here: [min, max]. */
const arities = new WeakMap<AnyFn, [number, number]>();

function def(min: number, max: number, fn: (...args: never[]) => unknown): AnyFn {
  arities.set(fn as AnyFn, [min, max]);
  return fn as AnyFn;
}

function wantString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) throw new ArgTypeError('invalid value; expected string');
  throw new ArgTypeError(`wrong type for value; expected string; got ${v === null ? 'interface {}' : goTypeName(v)}`);
}

function wantInt(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v === undefined) throw new ArgTypeError('invalid value; expected int');
  throw new ArgTypeError(`wrong type for value; expected int; got ${v === null ? 'interface {}' : goTypeName(v)}`);
}

/** Kind of a value for Go's comparison functions. */
function basicKind(v: unknown): 'nil' | 'bool' | 'number' | 'string' | 'other' {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (k1 !== 'nil' && k2 !== 'nil') throw new Error('incompatible types for comparison');
      truth = false;
    } else if (k1 === 'other') {
      throw new Error(`non-comparable type ${formatValue(a)}: ${goTypeName(a)}`);
    } else {
      truth = k1 === 'nil' || a === b;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (['nil', 'other', 'bool'].includes(k1) || ['nil', 'other', 'bool'].includes(k2)) {
    throw new Error('invalid type for comparison');
  }
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}

function lenOf(v: unknown): number {
  if (v === undefined || v === null) throw new Error('len of nil pointer');
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (isPlain(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexArg(i: unknown, cap: number): number {
  if (i === undefined || i === null) throw new Error('cannot index slice/array with nil');
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
  if (i < 0 || i > cap) throw new Error(`index out of range: ${i}`);
  return i;
}

function index(item: unknown, ...keys: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (const key of keys) {
    if (item === undefined || item === null) throw new Error('index of nil pointer');
    if (typeof item === 'string' || Array.isArray(item)) {
      const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : null;
      const len = bytes ? bytes.length : (item as unknown[]).length;
      const x = indexArg(key, len);
      if (x >= len) throw new Error(`index out of range: ${x}`);
      item = bytes ? bytes[x] : (item as unknown[])[x];
    } else if (item instanceof Map) {
      item = item.has(key) ? item.get(key) : null;
    } else if (isPlain(item)) {
      const k = typeof key === 'string' ? key : null;
      if (k === null) throw new Error(`value has type ${goTypeName(key)}; should be string`);
      // A missing key gives the zero value: "" when the map holds strings
      // (docker's label and option maps), nil otherwise.
      if (Object.prototype.hasOwnProperty.call(item, k)) item = item[k];
      else item = Object.values(item).every((e) => typeof e === 'string') ? '' : null;
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (idx.length === 3) throw new Error('cannot 3-index slice a string');
    len = Buffer.byteLength(item);
  } else if (Array.isArray(item)) len = item.length;
  else throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const at = [0, len, len];
  idx.forEach((x, i) => (at[i] = indexArg(x, len)));
  if (at[0] > at[1]) throw new Error(`invalid slice index: ${at[0]} > ${at[1]}`);
  if (idx.length === 3 && at[1] > at[2]) throw new Error(`invalid slice index: ${at[1]} > ${at[2]}`);
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(at[0], at[1]).toString('utf8');
  return item.slice(at[0], at[1]);
}

/** Go's strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? oneRune(ch, ch.toUpperCase()) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(c: string): boolean {
  if (c.codePointAt(0)! <= 0x7f) return !/[0-9A-Za-z_]/.test(c);
  if (/[\p{L}\p{Nd}]/u.test(c)) return false;
  return /\s/u.test(c);
}

/** A case mapping that keeps one rune per rune, as Go's unicode mappings do. */
const oneRune = (ch: string, mapped: string): string => (runeLen(mapped) === 1 ? mapped : ch);
const mapRunes = (s: string, f: (c: string) => string): string => runes(s).map((c) => oneRune(c, f(c))).join('');

function htmlEscape(s: string): string {
  const map: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' };
  return s.replace(/[<>&'"\0]/g, (c) => map[c]);
}

const builtinAnd = def(1, Infinity, (...a: unknown[]) => a.find((v) => !isTrue(v)) ?? a[a.length - 1]);
const builtinOr = def(1, Infinity, (...a: unknown[]) => a.find((v) => isTrue(v)) ?? a[a.length - 1]);

/** Go's predeclared template functions. */
const builtins: Record<string, AnyFn> = {
  and: builtinAnd,
  or: builtinOr,
  not: def(1, 1, (v: unknown) => !isTrue(v)),
  len: def(1, 1, lenOf),
  index: def(1, Infinity, index),
  slice: def(1, Infinity, slice),
  print: def(0, Infinity, (...a: unknown[]) => sprint(a)),
  println: def(0, Infinity, (...a: unknown[]) => sprintln(a)),
  printf: def(1, Infinity, (format: unknown, ...a: unknown[]) => sprintf(wantString(format), a)),
  eq: def(1, Infinity, eq),
  ne: def(2, 2, (a: unknown, b: unknown) => !eq(a, b)),
  lt: def(2, 2, lt),
  le: def(2, 2, (a: unknown, b: unknown) => lt(a, b) || eq(a, b)),
  gt: def(2, 2, (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b))),
  ge: def(2, 2, (a: unknown, b: unknown) => !lt(a, b)),
  html: def(0, Infinity, (...a: unknown[]) => htmlEscape(a.length === 1 && typeof a[0] === 'string' ? a[0] : sprint(a))),
  urlquery: def(0, Infinity, (...a: unknown[]) =>
    encodeURIComponent(a.length === 1 && typeof a[0] === 'string' ? a[0] : sprint(a)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + hex(c.charCodeAt(0), 2).toUpperCase()),
  ),
  call: def(1, Infinity, (fn: unknown, ...a: unknown[]) => {
    if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
    return (fn as AnyFn)(...a);
  }),
};

/** The functions docker's templates package adds to every template. */
const dockerFuncs: Record<string, AnyFn> = {
  json: def(1, 1, (v: unknown) => goJSON(v)),
  split: def(2, 2, (s: unknown, sep: unknown) => {
    const str = wantString(s);
    const by = wantString(sep);
    return by === '' ? runes(str) : str.split(by);
  }),
  join: def(2, 2, (elems: unknown, sep: unknown) => {
    const by = wantString(sep);
    if (elems === undefined || elems === null) return '';
    if (Array.isArray(elems)) return elems.map((e) => (typeof e === 'string' ? e : formatValue(e))).join(by);
    if (elems instanceof Map || isPlain(elems)) {
      const values = elems instanceof Map ? [...elems.values()] : Object.values(elems);
      return values.map(formatValue).sort().join(by);
    }
    throw new Error(`expected slice, got ${goTypeName(elems)}`);
  }),
  title: def(1, 1, (s: unknown) => title(wantString(s))),
  lower: def(1, 1, (s: unknown) => mapRunes(wantString(s), (c) => c.toLowerCase())),
  upper: def(1, 1, (s: unknown) => mapRunes(wantString(s), (c) => c.toUpperCase())),
  pad: def(3, 3, (s: unknown, before: unknown, after: unknown) => {
    const str = wantString(s);
    const b = wantInt(before);
    const a = wantInt(after);
    if (str === '') return str;
    if (b < 0 || a < 0) throw new Error('strings: negative Repeat count');
    return ' '.repeat(b) + str + ' '.repeat(a);
  }),
  truncate: def(2, 2, (s: unknown, n: unknown) => {
    const str = wantString(s);
    const len = wantInt(n);
    const bytes = Buffer.from(str, 'utf8');
    if (bytes.length < len) return str;
    if (len < 0) throw new Error(`slice bounds out of range [:${len}]`);
    return bytes.subarray(0, len).toString('utf8');
  }),
};

function funcTable(funcs: Funcs, base?: Map<string, AnyFn>): Map<string, AnyFn> {
  const table = new Map<string, AnyFn>(base ?? [...Object.entries(builtins), ...Object.entries(dockerFuncs)]);
  for (const [name, fn] of Object.entries(funcs)) table.set(name, fn as AnyFn);
  return table;
}
