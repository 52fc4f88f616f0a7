/**
 * Go's fmt, as docker's Go code prints values: fmt verbs (Sprint, Sprintln,
 * Sprintf), strconv float formatting and quoting, encoding/json output,
 * template truthiness and Go type names. Shared by the CLI (its text/template
 * engine and flag messages) and the API edge.
 *
 * Data model: an object stands for a Go map, an array for a slice, an
 * integral number for a Go int and any other number for a float64, a bigint
 * for an int64. `undefined` and `null` are nil. A class instance stands for a
 * Go struct; a toString method makes it a Go Stringer.
 */

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  wid?: number;
  prec?: number;
}
const noFlags: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false };

/** Prototypes whose members are not template fields or methods. */
const builtinProtos = new Set<unknown>([
  Object.prototype, Array.prototype, Map.prototype, Set.prototype, Function.prototype, Date.prototype, Error.prototype,
]);

export function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** An own or class-defined member of obj (not one inherited from a JS builtin). */
export function member(obj: object, name: string): { found: boolean; value?: unknown } {
  for (let o: object | null = obj; o !== null && !builtinProtos.has(o); o = Object.getPrototypeOf(o)) {
    if (Object.prototype.hasOwnProperty.call(o, name)) return { found: true, value: (obj as Record<string, unknown>)[name] };
  }
  return { found: false };
}

/** Go's name for the type of a value, as %T and template errors show it. */
export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int' : 'float64';
    case 'bigint': return 'int64';
    case 'function': return 'func';
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map || isPlain(v)) return 'map[string]interface {}';
  if (v instanceof Date) return 'time.Time';
  return (v as object).constructor?.name || 'struct';
}

export const runes = (s: string): string[] => Array.from(s);
export const runeLen = (s: string): number => runes(s).length;

function pad(s: string, f: Flags): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeLen(s);
  if (n <= 0) return s;
  return f.minus ? s + ' '.repeat(n) : ' '.repeat(n) + s;
}

// Floats. Go rounds exact decimal values half-to-even; JS's toFixed and
// toPrecision round ties up, so digits come from the exact binary value.

interface Digits { d: string; dp: number } // value = 0.d × 10^dp, d without trailing zeros

function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exp = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let d: string;
  let dp: number;
  if (exp >= 0) {
    d = (mant << BigInt(exp)).toString();
    dp = d.length;
  } else {
    d = (mant * 5n ** BigInt(-exp)).toString();
    dp = d.length + exp;
  }
  return { d: d.replace(/0+$/, ''), dp };
}

function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [m, e] = x.toExponential().split('e');
  return { d: m.replace('.', '').replace(/0+$/, ''), dp: Number(e) + 1 };
}

function roundDigits(a: Digits, nd: number): Digits {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d[nd];
  const up = c === '5' && nd + 1 === a.d.length ? nd > 0 && Number(a.d[nd - 1]) % 2 === 1 : c >= '5';
  if (!up) {
    const d = a.d.slice(0, nd).replace(/0+$/, '');
    return { d, dp: d ? a.dp : 0 };
  }
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String(Number(a.d[i]) + 1), dp: a.dp };
}

function fmtE(g: Digits, prec: number, e: string): string {
  let s = g.d[0] ?? '0';
  if (prec > 0) s += '.' + g.d.slice(1, prec + 1).padEnd(prec, '0');
  const exp = g.d.length === 0 ? 0 : g.dp - 1;
  return s + e + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
}

function fmtF(g: Digits, prec: number): string {
  let s = g.dp > 0 ? g.d.slice(0, g.dp).padEnd(g.dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = g.dp + i - 1;
      s += j >= 0 && j < g.d.length ? g.d[j] : '0';
    }
  }
  return s;
}

/**
 * Go's strconv.FormatFloat(x, fmt, prec, 64): fmt is e, E, f, g or G; a
 * negative prec means the fewest digits that read back as x.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const ax = Math.abs(x);
  const lower = fmt.toLowerCase();
  const shortest = prec < 0;
  let g: Digits;
  if (shortest) {
    g = shortestDigits(ax);
    prec = lower === 'e' ? Math.max(g.d.length - 1, 0) : lower === 'f' ? Math.max(g.d.length - g.dp, 0) : g.d.length;
  } else {
    const exact = exactDigits(ax);
    if (lower === 'e') g = roundDigits(exact, prec + 1);
    else if (lower === 'f') g = roundDigits(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      g = roundDigits(exact, prec);
    }
  }
  const e = fmt === 'E' || fmt === 'G' ? 'E' : 'e';
  if (lower === 'e') return sign + fmtE(g, prec, e);
  if (lower === 'f') return sign + fmtF(g, prec);
  let eprec = prec;
  if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
  if (shortest) eprec = 6;
  const exp = g.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > g.d.length) prec = g.d.length;
    return sign + fmtE(g, prec - 1, e);
  }
  if (prec > g.dp) prec = g.d.length;
  return sign + fmtF(g, Math.max(prec - g.dp, 0));
}

function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** Go's strconv.Quote (or QuoteRune with quote `'`). */
export function goQuote(s: string, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
    else if (isPrint(ch)) out += ch;
    else {
      const esc: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
      if (esc[ch]) out += esc[ch];
      else if (r < 0x20 || r === 0x7f) out += '\\x' + hex(r, 2);
      else if (r < 0x10000) out += '\\u' + hex(r, 4);
      else out += '\\U' + hex(r, 8);
    }
  }
  return out + quote;
}

function fmtInteger(n: bigint, verb: string, f: Flags): string {
  if (verb === 'c') return pad(codePoint(n), f);
  if (verb === 'q') return pad(goQuote(codePoint(n), "'"), f);
  if (verb === 'U') {
    let s = 'U+' + n.toString(16).toUpperCase().padStart(4, '0');
    if (f.sharp && isPrint(codePoint(n))) s += ` '${codePoint(n)}'`;
    return pad(s, f);
  }
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (f.prec !== undefined) {
    if (f.prec === 0 && n === 0n) return pad('', f);
    digits = digits.padStart(f.prec, '0');
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    digits = digits.padStart(f.wid - (neg || f.plus || f.space ? 1 : 0), '0');
  }
  let prefix = '';
  if (verb === 'O') prefix = '0o';
  else if (f.sharp) {
    if (base === 2) prefix = '0b';
    else if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
    else if (base === 8 && digits[0] !== '0') prefix = '0';
  }
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return pad(sign + prefix + digits, f);
}

function codePoint(n: bigint): string {
  const r = Number(n);
  return r >= 0 && r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff) ? String.fromCodePoint(r) : '\ufffd';
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  const fmt = verb === 'v' ? 'g' : verb === 'F' ? 'f' : (verb as 'e' | 'E' | 'f' | 'g' | 'G');
  const prec = f.prec ?? (fmt === 'g' || fmt === 'G' ? -1 : 6);
  let num = formatFloat(x, fmt, prec);
  let sign = '+';
  if (num[0] === '-' || num[0] === '+') {
    sign = num[0];
    num = num.slice(1);
  }
  if (f.space && sign === '+' && !f.plus) sign = ' ';
  if (num === 'Inf' || num === 'NaN') {
    if (num === 'NaN' && !f.space && !f.plus) sign = '';
    return pad(sign + num, f);
  }
  if (sign === '+' && !f.plus) sign = '';
  // Zero padding goes between the sign and the digits.
  if (f.zero && !f.minus && f.wid !== undefined && f.wid > sign.length + num.length) {
    return sign + '0'.repeat(f.wid - sign.length - num.length) + num;
  }
  return pad(sign + num, f);
}

function fmtString(s: string, verb: string, f: Flags): string | undefined {
  const cut = (t: string) => (f.prec === undefined ? t : runes(t).slice(0, f.prec).join(''));
  switch (verb) {
    case 'v':
    case 's':
      return pad(cut(s), f);
    case 'q':
      return pad(f.sharp && !/[`\p{Cc}]/u.test(s) ? '`' + s + '`' : goQuote(cut(s)), f);
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')].map((b) => hex(b, 2));
      if (verb === 'X') bytes = bytes.map((b) => b.toUpperCase());
      const pre = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      return pad(f.space ? bytes.map((b) => pre + b).join(' ') : pre + bytes.join(''), f);
    }
  }
  return undefined;
}

function badVerb(v: unknown, verb: string): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${fmtArg(v, 'v', noFlags)})`;
}

/** Sorted [key, value] pairs of a map-like value, as Go's fmt and range order them. */
export function sortedEntries(v: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  const list: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return list.sort(([a], [b]) => compareKeys(a, b));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function goTime(d: Date): string {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  const frac = iso.slice(19, 23).replace(/\.?0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** Formats one argument for one verb, like Go's fmt. */
function fmtArg(v: unknown, verb: string, f: Flags): string {
  if (verb === 'T') return pad(goTypeName(v), f);
  if (v === undefined || v === null) return verb === 'v' ? pad('<nil>', f) : badVerb(v, verb);
  switch (typeof v) {
    case 'boolean':
      return verb === 'v' || verb === 't' ? pad(String(v), f) : badVerb(v, verb);
    case 'bigint':
      return 'vdbcoOqxXU'.includes(verb) ? fmtInteger(v, verb === 'v' ? 'd' : verb, f) : badVerb(v, verb);
    case 'number':
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) {
        if ('vdbcoOqxXU'.includes(verb)) return fmtInteger(BigInt(v), verb === 'v' ? 'd' : verb, f);
        if ('eEfFgG'.includes(verb)) return fmtFloatVerb(v, verb, f);
      } else if ('veEfFgG'.includes(verb)) return fmtFloatVerb(v, verb, f);
      return badVerb(v, verb);
    case 'string':
      return fmtString(v, verb, f) ?? badVerb(v, verb);
    case 'function':
      return badVerb(v, verb);
  }
  if (Array.isArray(v)) return '[' + v.map((e) => fmtArg(e, verb, f)).join(' ') + ']';
  if (v instanceof Map || isPlain(v)) {
    return 'map[' + sortedEntries(v).map(([k, e]) => fmtArg(k, verb, f) + ':' + fmtArg(e, verb, f)).join(' ') + ']';
  }
  if (v instanceof Date) return fmtString(goTime(v), verb, f) ?? badVerb(v, verb);
  if (v instanceof Error) return fmtString(v.message, verb, f) ?? badVerb(v, verb);
  const str = member(v as object, 'toString');
  if (str.found && typeof str.value === 'function') {
    return fmtString(String((str.value as AnyFn).call(v)), verb, f) ?? badVerb(v, verb);
  }
  // A class instance stands for a Go struct: {v1 v2}, or {K1:v1 K2:v2} with %+v.
  const parts = Object.entries(v as object).map(([k, e]) => (f.plusV ? k + ':' : '') + fmtArg(e, verb, f));
  return '{' + parts.join(' ') + '}';
}

/** Go's default formatting of a value (fmt's %v). */
export function formatValue(v: unknown): string {
  return fmtArg(v, 'v', noFlags);
}

/** Go's fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** Go's fmt.Sprintln: spaces between all operands and a final newline. */
export function sprintln(args: unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}

/** Go's fmt.Sprintf, with Go's %!verb(...) markers for mistakes. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { ...noFlags };
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    let goodArgNum = true;
    // [n] picks the argument explicitly.
    const argIndex = () => {
      if (format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i);
      const n = close < 0 ? NaN : Number(format.slice(i + 1, close));
      if (close < 0 || !/^\d+$/.test(format.slice(i + 1, close)) || n < 1 || n > args.length) {
        goodArgNum = false;
        i = close < 0 ? i + 1 : close + 1;
        return;
      }
      argNum = n - 1;
      i = close + 1;
    };
    const intArg = (): number | undefined => {
      const a = args[argNum];
      if (argNum >= args.length || typeof a !== 'number' || !Number.isInteger(a)) return undefined;
      argNum++;
      return a;
    };
    argIndex();
    if (format[i] === '*') {
      i++;
      const w = intArg();
      if (w === undefined) out += '%!(BADWIDTH)';
      else if (w < 0) {
        f.minus = true;
        f.zero = false;
        f.wid = -w;
      } else f.wid = w;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        f.wid = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      argIndex();
      if (format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else f.prec = p;
      } else {
        const m = /^\d*/.exec(format.slice(i))!;
        f.prec = Number(m[0] || '0');
        i += m[0].length;
      }
    }
    argIndex();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'v') {
      if (f.plus) {
        f.plus = false;
        f.plusV = true;
      }
      f.sharp = false;
    }
    out += fmtArg(args[argNum++], verb === 'w' ? 'v' : verb, f);
  }
  if (!reordered && argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (a === undefined || a === null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/**
 * Go's encoding/json output: compact unless indent is given; `escapeHTML`
 * writes <, > and & as \u003c, \u003e, \u0026 (json.Marshal does, docker's
 * `json` template function does not). Keys keep insertion order.
 */
export function goJSON(v: unknown, opts: { escapeHTML?: boolean; indent?: string } = {}): string {
  const replacer = (_key: string, val: unknown): unknown => {
    if (val instanceof Map) return Object.fromEntries([...val.entries()].map(([k, e]) => [String(k), e]));
    if (val instanceof Set) return [...val];
    if (typeof val === 'bigint') return Number(val);
    return val;
  };
  const s = JSON.stringify(v === undefined ? null : v, replacer, opts.indent) ?? 'null';
  const special = opts.escapeHTML ? /[<>&\u2028\u2029]/g : /[\u2028\u2029]/g;
  return s.replace(special, (c) => '\\u' + hex(c.charCodeAt(0), 4));
}

/** Go's template truth: false, 0, nil and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
    case 'string': return v.length > 0;
    case 'function': return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlain(v)) return Object.keys(v).length > 0;
  return true; // a struct is always true
}
