/**
 * Command-line flags with the grammar of spf13/pflag, as docker uses it:
 * `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`, grouped
 * shorthands `-itd` (the last may take a value: `-uroot`), bools that take a
 * value only after `=`, `--` to end flags and `-` as a plain argument.
 * Error messages use pflag's words.
 */
import { invalidArgument } from '../lib/errors.js';
import { goQuote } from '../lib/gofmt.js';
import { goDurationString, parseGoDuration } from '../lib/units.js';

export type FlagType = 'bool' | 'string' | 'int' | 'stringArray' | 'stringSlice' | 'duration';
/** bool → boolean, string → string, int and duration (milliseconds) → number, stringArray/stringSlice → string[]. */
export type FlagValue = boolean | string | number | string[];

export interface FlagDef {
  name: string;
  /** One-character shorthand: `e` for `-e`. */
  short?: string;
  type: FlagType;
  usage?: string;
  /** Value when the flag is not given; a duration may be given as Go text ('10s'). */
  default?: FlagValue;
  /** Help placeholder instead of the type's (`string`, `int`, `list`, `duration`). */
  placeholder?: string;
  /** Accepted but left out of help. */
  hidden?: boolean;
  /** Accepted, left out of help, and warned about on use (pflag MarkDeprecated). */
  deprecated?: string;
  /** The shorthand still works but warns (pflag MarkShorthandDeprecated). */
  shortDeprecated?: string;
  /**
   * Checks (and may rewrite) each value of a string or list flag, like a
   * pflag Value's Set; a thrown Error becomes `invalid argument "v" for "-x, --flag" flag: <message>`.
   */
  validate?: (value: string) => string;
  /** Store values under another flag's name (pflag flags sharing one Value, e.g. `--net` and `--network`). */
  into?: string;
  /** The default shown in help when the flag's Value prints one of its own (`[]`, `map[]`). */
  shownDefault?: string;
}

export interface FlagSet {
  readonly defs: readonly FlagDef[];
  readonly long: ReadonlyMap<string, FlagDef>;
  readonly short: ReadonlyMap<string, FlagDef>;
}

export interface ParsedFlags {
  /** Every defined flag, set or defaulted. */
  flags: Record<string, FlagValue>;
  /** Positional arguments, in order. */
  args: string[];
  /** Names of the flags given on the command line. */
  set: Set<string>;
  /** Deprecation notices to print on stderr, as pflag does. */
  warnings: string[];
}

/**
 * Indexes and checks flag definitions. Like docker's root command, every set
 * also gets a hidden `--help` (with `-h` kept as a deprecated shorthand)
 * unless it defines its own.
 */
export function defineFlags(defs: FlagDef[]): FlagSet {
  const all = [...defs];
  if (!all.some((d) => d.name === 'help')) {
    const h = all.some((d) => d.short === 'h') ? undefined : 'h';
    all.push({ name: 'help', short: h, type: 'bool', usage: 'Print usage', hidden: true, shortDeprecated: 'use --help' });
  }
  const long = new Map<string, FlagDef>();
  const short = new Map<string, FlagDef>();
  for (const d of all) {
    if (long.has(d.name)) throw new Error(`flag redefined: ${d.name}`);
    long.set(d.name, d);
    if (d.short !== undefined) {
      if (d.short.length !== 1) throw new Error(`${goQuote(d.short)} shorthand is more than one ASCII character`);
      const used = short.get(d.short);
      if (used) throw new Error(`unable to redefine ${goQuote(d.short)} shorthand: it's already used for ${goQuote(used.name)} flag`);
      short.set(d.short, d);
    }
  }
  return { defs: all, long, short };
}

/**
 * Parses argv. With `interspersed: false` (docker run/exec) the first
 * positional argument ends the flags and everything after it is returned
 * as-is; with `interspersed: true` (the default) flags may follow positionals.
 */
export function parseFlags(spec: FlagSet | FlagDef[], argv: string[], opts: { interspersed?: boolean } = {}): ParsedFlags {
  const fs = Array.isArray(spec) ? defineFlags(spec) : spec;
  const interspersed = opts.interspersed ?? true;
  const out: ParsedFlags = { flags: {}, args: [], set: new Set(), warnings: [] };
  for (const d of fs.defs) out.flags[d.name] = defaultValue(d);

  let i = 0;
  while (i < argv.length) {
    const s = argv[i++];
    if (s.length < 2 || s[0] !== '-') {
      out.args.push(s);
      if (!interspersed) {
        out.args.push(...argv.slice(i));
        break;
      }
      continue;
    }
    if (s === '--') {
      out.args.push(...argv.slice(i));
      break;
    }
    if (s[1] === '-') {
      // --name, --name=value, --name value
      const body = s.slice(2);
      if (body[0] === '-' || body[0] === '=') throw invalidArgument(`bad flag syntax: ${s}`);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const d = fs.long.get(name);
      if (!d) throw invalidArgument(`unknown flag: --${name}`);
      let value: string;
      if (eq >= 0) value = body.slice(eq + 1);
      else if (d.type === 'bool') value = 'true';
      else if (i < argv.length) value = argv[i++];
      else throw invalidArgument(`flag needs an argument: --${name}`);
      assign(out, d, value);
      continue;
    }
    // -abc: a run of shorthands; the first that takes a value ends the run.
    let sh = s.slice(1);
    while (sh.length > 0) {
      const c = sh[0];
      const d = fs.short.get(c);
      if (!d) throw invalidArgument(`unknown shorthand flag: '${c}' in -${sh}`);
      let value: string;
      if (sh.length > 2 && sh[1] === '=') {
        value = sh.slice(2);
        sh = '';
      } else if (d.type === 'bool') {
        value = 'true';
        sh = sh.slice(1);
      } else if (sh.length > 1) {
        value = sh.slice(1);
        sh = '';
      } else if (i < argv.length) {
        value = argv[i++];
        sh = '';
      } else {
        throw invalidArgument(`flag needs an argument: '${c}' in -${sh}`);
      }
      if (d.shortDeprecated) out.warnings.push(`Flag shorthand -${c} has been deprecated, ${d.shortDeprecated}`);
      assign(out, d, value);
    }
  }
  return out;
}

function defaultValue(d: FlagDef): FlagValue {
  if (d.default !== undefined) {
    if (d.type === 'duration' && typeof d.default === 'string') return parseGoDuration(d.default);
    return Array.isArray(d.default) ? [...d.default] : d.default;
  }
  switch (d.type) {
    case 'bool': return false;
    case 'string': return '';
    case 'int':
    case 'duration': return 0;
    case 'stringArray':
    case 'stringSlice': return [];
  }
}

/** Stores one occurrence of a flag; lists replace their default on first use, then append. */
function assign(out: ParsedFlags, d: FlagDef, raw: string): void {
  const bad = (cause: string) => {
    const who = d.short && !d.shortDeprecated ? `-${d.short}, --${d.name}` : `--${d.name}`;
    return invalidArgument(`invalid argument ${goQuote(raw)} for ${goQuote(who)} flag: ${cause}`);
  };
  const key = d.into ?? d.name;
  const first = !out.set.has(key);
  const list = (items: string[]) => (first ? items : [...(out.flags[key] as string[]), ...items]);
  const check = (v: string): string => {
    if (!d.validate) return v;
    try {
      return d.validate(v);
    } catch (err) {
      throw bad(err instanceof Error ? err.message : String(err));
    }
  };
  let value: FlagValue;
  switch (d.type) {
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw bad(`strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
      value = b;
      break;
    }
    case 'string':
      value = check(raw);
      break;
    case 'int':
      value = parseGoInt(raw, bad);
      break;
    case 'duration':
      try {
        value = parseGoDuration(raw);
      } catch (err) {
        throw bad((err as Error).message);
      }
      break;
    case 'stringArray':
      value = list([check(raw)]);
      break;
    case 'stringSlice':
      value = list(splitCSV(raw, bad).map(check));
      break;
  }
  out.flags[key] = value;
  out.set.add(key);
  if (key !== d.name) out.set.add(d.name);
  if (d.deprecated) out.warnings.push(`Flag --${d.name} has been deprecated, ${d.deprecated}`);
}

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Go's strconv.ParseInt(s, 0, 64): 0x, 0o, 0b and leading-0 octal prefixes, _ between digits. */
function parseGoInt(s: string, bad: (cause: string) => Error): number {
  const syntax = () => bad(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const m = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=[0-7_]))?(.*)$/.exec(s)!;
  const [, sign, prefix = '', body] = m;
  const digits = { '0x': '[0-9a-fA-F]', '0o': '[0-7]', '0b': '[01]', '0': '[0-7]', '': '[0-9]' }[prefix.toLowerCase()]!;
  // Underscores may only separate digits (or follow a base prefix).
  const shape = new RegExp(`^${prefix ? '_?' : ''}${digits}+(_${digits}+)*$`);
  if (!shape.test(body)) throw syntax();
  const clean = body.replace(/_/g, '');
  const base = { '0x': '0x', '0o': '0o', '0b': '0b', '0': '0o', '': '' }[prefix.toLowerCase()]!;
  let n = BigInt(base + clean);
  if (sign === '-') n = -n;
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw bad(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** One CSV record, as pflag's stringSlice reads its value (encoding/csv rules). */
function splitCSV(s: string, bad: (cause: string) => Error): string[] {
  if (s === '') return [];
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) throw bad(`parse error on line 1, column ${s.length + 1}: extraneous or missing " in quoted-field`);
        field += s.slice(i, q);
        i = q + 1;
        if (s[i] === '"') {
          field += '"';
          i++;
        } else if (i === s.length || s[i] === ',') break;
        else throw bad(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      }
    } else {
      const comma = s.indexOf(',', i);
      field = comma < 0 ? s.slice(i) : s.slice(i, comma);
      const quote = field.indexOf('"');
      if (quote >= 0) throw bad(`parse error on line 1, column ${i + quote + 1}: bare " in non-quoted-field`);
      i = comma < 0 ? s.length : comma;
    }
    fields.push(field);
    if (i >= s.length) return fields;
    i++; // the comma
    if (i === s.length) {
      fields.push('');
      return fields;
    }
  }
}

const placeholders: Record<FlagType, string> = {
  bool: '',
  string: 'string',
  int: 'int',
  duration: 'duration',
  stringArray: 'list',
  stringSlice: 'list',
};

/**
 * The Options section of --help, like pflag's FlagUsages as docker prints it:
 * flags sorted by name, `  -e, --env list   usage` with the usage column
 * aligned three spaces after the longest flag, and a `(default ...)` note
 * when the default is not the zero value. A `word` in backquotes in the usage
 * becomes the placeholder.
 */
export function flagUsages(spec: FlagSet | FlagDef[]): string {
  const fs = Array.isArray(spec) ? defineFlags(spec) : spec;
  const visible = fs.defs.filter((d) => !d.hidden && !d.deprecated).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = visible.map((d) => {
    let left = d.short && !d.shortDeprecated ? `  -${d.short}, --${d.name}` : `      --${d.name}`;
    let usage = d.usage ?? '';
    let name = d.placeholder ?? placeholders[d.type];
    const quoted = /`([^`]*)`/.exec(usage);
    if (quoted && d.placeholder === undefined) {
      name = quoted[1];
      usage = usage.slice(0, quoted.index) + name + usage.slice(quoted.index + quoted[0].length);
    }
    if (name) left += ' ' + name;
    const shown = defaultText(d);
    if (shown !== undefined) usage += d.type === 'string' ? ` (default ${goQuote(shown)})` : ` (default ${shown})`;
    return { left, usage };
  });
  const maxlen = Math.max(0, ...rows.map((r) => r.left.length + 1));
  return rows
    .map(({ left, usage }) => {
      const text = usage.replace(/\n/g, '\n' + ' '.repeat(maxlen + 2));
      return `${left} ${' '.repeat(maxlen - left.length)} ${text}`.trimEnd() + '\n';
    })
    .join('');
}

/** The default as pflag shows it, or undefined when it is the type's zero value. */
function defaultText(d: FlagDef): string | undefined {
  if (d.shownDefault !== undefined) return d.shownDefault === '' ? undefined : d.shownDefault;
  const v = defaultValue(d);
  let text: string;
  if (Array.isArray(v)) text = `[${v.join(',')}]`;
  else if (d.type === 'duration') text = goDurationString(v as number);
  else text = String(v);
  return ['', '0', '0s', 'false', '[]'].includes(text) ? undefined : text;
}
