/**
 * The command tree: definitions, lookup, argument checks and help text in the
 * shape cobra gives the docker CLI.
 */
import { defineFlags, flagUsages, parseFlags, type FlagDef, type FlagSet, type FlagValue, type ParsedFlags } from './flags.js';
import { PROG, StatusError, type CLI } from './cli.js';

export type ArgRule =
  | { kind: 'none' }
  | { kind: 'any' }
  | { kind: 'min'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'exact'; n: number }
  | { kind: 'range'; min: number; max: number };

export const noArgs: ArgRule = { kind: 'none' };
export const anyArgs: ArgRule = { kind: 'any' };
export const minArgs = (n: number): ArgRule => ({ kind: 'min', n });
export const maxArgs = (n: number): ArgRule => ({ kind: 'max', n });
export const exactArgs = (n: number): ArgRule => ({ kind: 'exact', n });
export const rangeArgs = (min: number, max: number): ArgRule => ({ kind: 'range', min, max });

export interface RunContext {
  cli: CLI;
  flags: Record<string, FlagValue>;
  args: string[];
  /** Flags given on the command line. */
  set: Set<string>;
  cmd: Command;
}

export interface CommandDef {
  /** The command word, e.g. `ls`. */
  name: string;
  /** What follows the name in the usage line, e.g. `[OPTIONS] [REPOSITORY[:TAG]]`. */
  use?: string;
  short: string;
  long?: string;
  /** Other words that select this command under the same parent. */
  aliases?: string[];
  /** The "Aliases:" help line, like docker's annotation (`docker image ls, docker images`); `PROG` is substituted. */
  aliasesLine?: string;
  /** Position in the root help's "Common Commands" (docker's category-top). */
  top?: number;
  flags?: FlagDef[];
  args?: ArgRule;
  /** Flags may follow positional arguments (default true). */
  interspersed?: boolean;
  hidden?: boolean;
  /** Validates flag values after parsing; a thrown Error becomes a flag error (exit 125). */
  check?: (flags: Record<string, FlagValue>) => void;
  run?: (ctx: RunContext) => Promise<number | void>;
  sub?: CommandDef[];
  example?: string;
}

/** A node of the tree, linked to its parent. */
export class Command {
  readonly def: CommandDef;
  readonly parent: Command | undefined;
  readonly children: Command[];
  readonly flagSet: FlagSet;

  constructor(def: CommandDef, parent?: Command, extraFlags: FlagDef[] = []) {
    this.def = def;
    this.parent = parent;
    this.flagSet = defineFlags([...(def.flags ?? []), ...extraFlags]);
    this.children = (def.sub ?? []).map((d) => new Command(d, this));
  }

  get name(): string {
    return this.def.name;
  }

  /** `berth image ls` */
  get path(): string {
    return this.parent ? `${this.parent.path} ${this.name}` : this.name;
  }

  /** cobra's UseLine: the path plus what the usage string adds. */
  get useLine(): string {
    const use = this.def.use ?? '';
    return use ? `${this.path} ${use}` : this.path;
  }

  get hasSubcommands(): boolean {
    return this.children.some((c) => !c.def.hidden);
  }

  /** Child selected by a word (name or alias). */
  find(word: string): Command | undefined {
    return this.children.find((c) => c.name === word || (c.def.aliases ?? []).includes(word));
  }

  get hasVisibleFlags(): boolean {
    return this.flagSet.defs.some((d) => !d.hidden && !d.deprecated);
  }
}

/** Parses a command's flags; flag errors come back as StatusError 125 with docker's usage hint. */
export function parseCommandFlags(cmd: Command, argv: string[]): ParsedFlags {
  try {
    const parsed = parseFlags(cmd.flagSet, argv, { interspersed: cmd.def.interspersed ?? true });
    if (!parsed.flags['help']) cmd.def.check?.(parsed.flags);
    return parsed;
  } catch (err) {
    throw flagError(cmd, err instanceof Error ? err.message : String(err));
  }
}

export function flagError(cmd: Command, message: string): StatusError {
  return new StatusError(`${message}\n\nUsage:  ${usageLineFor(cmd)}\n\nRun '${cmd.path} --help' for more information`, 125);
}

/** The usage line as shown in errors: for groups `berth image`, for leaves the UseLine. */
function usageLineFor(cmd: Command): string {
  return cmd.useLine;
}

/** Checks the positional argument count with cobra/docker's messages (exit 1). */
export function checkArgs(cmd: Command, args: string[]): void {
  const rule = cmd.def.args ?? anyArgs;
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  const tail = `\n\nUsage:  ${cmd.useLine}\n\n`;
  switch (rule.kind) {
    case 'any':
      return;
    case 'none':
      if (args.length === 0) return;
      if (cmd.hasSubcommands) {
        throw new StatusError(`${PROG}: unknown command: ${cmd.path} ${args[0]}${tail}Run '${cmd.path} --help' for more information`, 1);
      }
      throw new StatusError(`${PROG}: '${cmd.path}' accepts no arguments${tail}Run '${cmd.path} --help' for more information`, 1);
    case 'min':
      if (args.length >= rule.n) return;
      throw new StatusError(`${PROG}: '${cmd.path}' requires at least ${rule.n} ${plural(rule.n)}${tail}See '${cmd.path} --help' for more information`, 1);
    case 'max':
      if (args.length <= rule.n) return;
      throw new StatusError(`${PROG}: '${cmd.path}' requires at most ${rule.n} ${plural(rule.n)}${tail}Run '${cmd.path} --help' for more information`, 1);
    case 'exact':
      if (args.length === rule.n) return;
      throw new StatusError(`${PROG}: '${cmd.path}' requires ${rule.n} ${plural(rule.n)}${tail}Run '${cmd.path} --help' for more information`, 1);
    case 'range':
      if (args.length >= rule.min && args.length <= rule.max) return;
      throw new StatusError(
        `${PROG}: '${cmd.path}' requires at least ${rule.min} and at most ${rule.max} ${plural(rule.max)}${tail}Run '${cmd.path} --help' for more information`,
        1,
      );
  }
}

// ───────────────────────────── help ─────────────────────────────

const MIN_NAME_PADDING = 11;

function namePadding(cmd: Command): number {
  const siblings = cmd.parent?.children ?? [];
  const longest = Math.max(0, ...siblings.map((c) => c.name.length));
  return Math.max(MIN_NAME_PADDING, longest);
}

function rpad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * Wraps pflag usage text the way FlagUsagesWrapped does: the text after the
 * flag column is wrapped at `width` with continuation lines indented to it.
 */
export function wrapFlagUsages(text: string, width: number): string {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines.length === 0 || lines[0] === '') return '';
  // group into entries: a flag line plus its continuation lines
  const entries: { left: string; body: string[] }[] = [];
  const leftRe = /^( {2}-\S, --\S+| {6}--\S+)( \S+)?/;
  let col = 0;
  for (const line of lines) {
    const m = leftRe.exec(line);
    if (m && /^ {2}-|^ {6}--/.test(line)) {
      const left = m[0];
      col = Math.max(col, left.length + 3);
      entries.push({ left, body: [line] });
    } else if (entries.length > 0) {
      entries[entries.length - 1]!.body.push(line);
    }
  }
  const out: string[] = [];
  for (const e of entries) {
    const first = e.body[0]!.slice(col);
    const rest = e.body.slice(1).map((l) => l.slice(col));
    const usage = [first, ...rest].join('\n');
    out.push(`${rpad(e.left, col)}${wrap(col, width, usage)}`.trimEnd());
  }
  return out.join('\n') + '\n';
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

function wrap(indent: number, width: number, s: string): string {
  if (width === 0) return s.replace(/\n/g, '\n' + ' '.repeat(indent));
  let i = indent;
  let room = width - i;
  let r = '';
  if (room < 24) {
    i = 16;
    room = width - i;
    r += '\n' + ' '.repeat(i);
  }
  if (room < 24) return s.replace(/\n/g, r);
  const slop = 5;
  room -= slop;
  let l: string;
  [l, s] = wrapN(room, slop, s);
  r += l.replace(/\n/g, '\n' + ' '.repeat(i));
  while (s !== '') {
    let t: string;
    [t, s] = wrapN(room, slop, s);
    r += '\n' + ' '.repeat(i) + t.replace(/\n/g, '\n' + ' '.repeat(i));
  }
  return r;
}

export interface HelpOptions {
  /** Terminal width (docker uses 80 when unknown). */
  width?: number;
  /** Shown at the end of the root help. */
  additional?: string;
}

/** The help text of a command, in cobra/docker's layout. */
export function helpText(cmd: Command, opts: HelpOptions = {}): string {
  const width = (opts.width ?? 80) - 1;
  const d = cmd.def;
  let s = 'Usage:';
  if (!cmd.hasSubcommands) s += `  ${cmd.useLine}`;
  else s += `  ${cmd.path}${cmd.hasVisibleFlags ? ' [OPTIONS]' : ''} COMMAND`;
  s += '\n\n' + (d.long ?? d.short).trim();
  if (d.aliasesLine || (d.aliases && d.aliases.length > 0)) {
    const line = d.aliasesLine
      ? d.aliasesLine
      : [cmd.path, ...(d.aliases ?? []).map((a) => (cmd.parent ? `${cmd.parent.path} ${a}` : a))].join(', ');
    s += `\n\nAliases:\n  ${line}`;
  }
  if (d.example) s += `\n\nExamples:\n${d.example}`;
  if (cmd.parent && cmd.hasVisibleFlags) {
    s += `\n\nOptions:\n${wrapFlagUsages(flagUsages(cmd.flagSet), width).trimEnd()}`;
  }
  const visible = cmd.children.filter((c) => !c.def.hidden);
  if (!cmd.parent) {
    const top = visible.filter((c) => c.def.top !== undefined).sort((a, b) => a.def.top! - b.def.top!);
    if (top.length > 0) {
      s += '\n\nCommon Commands:';
      for (const c of top) s += `\n  ${rpad(c.name + ' ', namePadding(c) + 1)}${c.def.short}`;
    }
  }
  const management = visible.filter((c) => c.hasSubcommands);
  if (management.length > 0) {
    s += '\n\nManagement Commands:';
    for (const c of management) s += `\n  ${rpad(c.name + ' ', namePadding(c) + 1)}${c.def.short}`;
  }
  const operations = visible.filter((c) => !c.hasSubcommands && (cmd.parent !== undefined || c.def.top === undefined));
  if (operations.length > 0) {
    s += '\n\nCommands:';
    for (const c of operations) s += `\n  ${rpad(c.name, namePadding(c))} ${c.def.short}`;
  }
  if (!cmd.parent && cmd.hasVisibleFlags) {
    s += `\n\nGlobal Options:\n${wrapFlagUsages(flagUsages(cmd.flagSet), width).trimEnd()}`;
  }
  if (cmd.hasSubcommands) s += `\n\nRun '${cmd.path} COMMAND --help' for more information on a command.`;
  if (!cmd.parent && opts.additional) s += `\n\n${opts.additional}`;
  return s + '\n';
}
