/**
 * Typed instructions and build stages from the parsed Dockerfile, with
 * BuildKit's checks and messages: flags each instruction accepts, argument
 * counts, stage names, healthcheck durations, RUN mounts. Variables are not
 * expanded here; the executor does that with its build args and ENV state
 * (see `expandWords` in shell.ts).
 */
import { goQuote } from '../lib/gofmt.js';
import { parseGoDuration } from '../lib/units.js';
import { parseMount, type Mount } from './mounts.js';
import { chompHeredoc, DockerfileParseError, parse as parseAst, parseHeredoc, type Directive, type Heredoc, type Node, type Warning } from './parser.js';
import { suggest } from './suggest.js';

/** A command line in shell form (run by the SHELL, `/bin/sh -c` by default) or exec form (a JSON array). */
export type CommandLine = { form: 'shell'; command: string } | { form: 'exec'; args: string[] };

interface Base {
  /** First and last source line. */
  line: number;
  endLine: number;
  /** The instruction's source text (continuations joined). */
  original: string;
}

export interface KeyValue {
  key: string;
  value: string;
  /** Written in the legacy `KEY value` form (no `=`). */
  legacy: boolean;
}

/** An inline source file of COPY/ADD written as a heredoc. */
export interface InlineSource {
  path: string;
  data: string;
  /** Variables in data are to be expanded (the delimiter was not quoted). */
  expand: boolean;
}

export interface From extends Base {
  kind: 'from';
  image: string;
  platform?: string;
  /** The `AS name` of the stage, lower-cased. */
  alias?: string;
}
export interface Run extends Base {
  kind: 'run';
  command: CommandLine;
  heredocs: Heredoc[];
  mounts: Mount[];
  /** The raw --mount values, for parsing again after variable expansion. */
  mountSpecs: string[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
  /** Names of the flags given. */
  flagsUsed: string[];
}
interface CopyLike extends Base {
  sources: string[];
  inline: InlineSource[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}
export interface Copy extends CopyLike {
  kind: 'copy';
  from?: string;
  parents: boolean;
}
export interface Add extends CopyLike {
  kind: 'add';
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
}
export interface Cmd extends Base {
  kind: 'cmd';
  command: CommandLine;
}
export interface Entrypoint extends Base {
  kind: 'entrypoint';
  command: CommandLine;
}
export interface Env extends Base {
  kind: 'env';
  pairs: KeyValue[];
}
export interface Label extends Base {
  kind: 'label';
  pairs: KeyValue[];
}
export interface Expose extends Base {
  kind: 'expose';
  /** Sorted, as docker keeps them. */
  ports: string[];
}
export interface Volume extends Base {
  kind: 'volume';
  volumes: string[];
}
export interface User extends Base {
  kind: 'user';
  user: string;
}
export interface Workdir extends Base {
  kind: 'workdir';
  path: string;
}
export interface ArgDef {
  name: string;
  default?: string;
}
export interface Arg extends Base {
  kind: 'arg';
  args: ArgDef[];
}
export interface Onbuild extends Base {
  kind: 'onbuild';
  /** The trigger's source text, heredoc bodies appended, as stored in the image config. */
  expression: string;
  trigger: Node;
}
export interface Stopsignal extends Base {
  kind: 'stopsignal';
  signal: string;
}
export interface Healthcheck extends Base {
  kind: 'healthcheck';
  /** `['NONE']`, `['CMD', ...args]` or `['CMD-SHELL', command]`. */
  test: string[];
  /** Durations in nanoseconds (as in the image config); 0 or absent means the default. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}
export interface Shell extends Base {
  kind: 'shell';
  shell: string[];
}
export interface Maintainer extends Base {
  kind: 'maintainer';
  maintainer: string;
}

export type Instruction =
  | From | Run | Copy | Add | Cmd | Entrypoint | Env | Label | Expose | Volume | User | Workdir | Arg | Onbuild
  | Stopsignal | Healthcheck | Shell | Maintainer;

export interface Stage {
  /** The `AS` name, lower-cased; undefined for an unnamed stage. */
  name?: string;
  /** Position among the stages, for `--from=<index>`. */
  index: number;
  from: From;
  instructions: Instruction[];
}

export interface Build {
  stages: Stage[];
  /** ARGs before the first FROM: usable in FROM lines. */
  metaArgs: Arg[];
  escapeToken: string;
  directives: Directive[];
  warnings: Warning[];
}

const NAMES = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN',
  'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

class InstructionError extends Error {}
const fail = (message: string): never => {
  throw new InstructionError(message);
};

/** Parses a Dockerfile into stages. Throws DockerfileParseError (`dockerfile parse error on line N: ...`). */
export function parseDockerfile(source: string | Buffer): Build {
  const ast = parseAst(source);
  const stages: Stage[] = [];
  const metaArgs: Arg[] = [];
  for (const node of ast.nodes) {
    const inst = instruction(node);
    if (stages.length === 0 && inst.kind === 'arg') {
      metaArgs.push(inst);
      continue;
    }
    if (inst.kind === 'from') {
      stages.push({ ...(inst.alias !== undefined ? { name: inst.alias } : {}), index: stages.length, from: inst, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new DockerfileParseError('no build stage in current context', node.startLine, node.endLine);
    stage.instructions.push(inst);
  }
  return { stages, metaArgs, escapeToken: ast.escapeToken, directives: ast.directives, warnings: ast.warnings };
}

/** Types one AST node. Throws DockerfileParseError located at the node. */
export function instruction(node: Node): Instruction {
  try {
    return typed(node);
  } catch (err) {
    if (err instanceof InstructionError) throw new DockerfileParseError(err.message, node.startLine, node.endLine);
    throw err;
  }
}

/** The flags one instruction accepts; parse() checks what was given against them, in docker's words. */
class Flags {
  private readonly defs = new Map<string, 'bool' | 'string' | 'strings'>();
  readonly values = new Map<string, string>();
  readonly lists = new Map<string, string[]>();
  readonly used = new Set<string>();

  constructor(private readonly args: string[]) {}

  bool(name: string): this {
    this.defs.set(name, 'bool');
    return this;
  }
  string(name: string): this {
    this.defs.set(name, 'string');
    return this;
  }
  strings(name: string): this {
    this.defs.set(name, 'strings');
    return this;
  }

  parse(): this {
    for (const a of this.args) {
      if (a === '--') break;
      if (!a.startsWith('--')) fail(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flag = eq < 0 ? a : a.slice(0, eq);
      const value = eq < 0 ? '' : a.slice(eq + 1);
      const name = flag.slice(2);
      const type = this.defs.get(name);
      if (!type) fail(suggest(`unknown flag: ${flag}`, name, [...this.defs.keys()], true));
      if (this.used.has(name) && type !== 'strings') fail(`duplicate flag specified: ${flag}`);
      this.used.add(name);
      if (type === 'bool') {
        if (eq >= 0 && value === '') fail(`missing a value on flag: ${flag}`);
        const v = value.toLowerCase();
        if (v !== '' && v !== 'true' && v !== 'false') fail(`expecting boolean value for flag ${flag}, not: ${value}`);
        this.values.set(name, v === 'false' ? 'false' : 'true');
      } else {
        if (eq < 0) fail(`missing a value on flag: ${flag}`);
        if (type === 'string') this.values.set(name, value);
        else this.lists.set(name, [...(this.lists.get(name) ?? []), value]);
      }
    }
    return this;
  }

  str(name: string): string | undefined {
    return this.values.get(name);
  }
  isTrue(name: string): boolean {
    return this.values.get(name) === 'true';
  }
  list(name: string): string[] {
    return this.lists.get(name) ?? [];
  }
}

/** The node's arguments, ONBUILD's trigger name and arguments included. */
function nodeArgs(node: Node): string[] {
  return node.sub ? [node.sub.name, ...nodeArgs(node.sub)] : node.args;
}

function commandLine(node: Node): CommandLine {
  return node.json ? { form: 'exec', args: [...node.args] } : { form: 'shell', command: node.args.join(' ') };
}

const atLeastOne = (name: string) => fail(`${name} requires at least one argument`);
const exactlyOne = (name: string) => fail(`${name} requires exactly one argument`);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function typed(node: Node): Instruction {
  const base: Base = { line: node.startLine, endLine: node.endLine, original: node.original };
  const args = nodeArgs(node);
  const flags = new Flags(node.flags);
  switch (node.name.toLowerCase()) {
    case 'from': {
      let alias: string | undefined;
      if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
        alias = args[2]!.toLowerCase();
        if (!STAGE_NAME.test(alias)) {
          fail(`invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        fail('FROM requires either one or three arguments');
      }
      flags.string('platform').parse();
      const platform = flags.str('platform');
      return { kind: 'from', ...base, image: args[0]!, ...(platform ? { platform } : {}), ...(alias ? { alias } : {}) };
    }
    case 'run': {
      flags.strings('mount').string('network').string('security').parse();
      // Checked in BuildKit's order: mounts, network, security.
      const mountSpecs = flags.list('mount');
      const mounts = mountSpecs.map((spec) => {
        try {
          return parseMount(spec);
        } catch (err) {
          return fail((err as Error).message);
        }
      });
      const network = flags.str('network') ?? 'default';
      if (network !== 'default' && network !== 'none' && network !== 'host') return fail(`invalid network mode ${goQuote(network)}`);
      const security = flags.str('security') ?? 'sandbox';
      if (security !== 'sandbox' && security !== 'insecure') return fail(`security ${goQuote(security)} is not valid`);
      return {
        kind: 'run',
        ...base,
        command: commandLine(node),
        heredocs: node.heredocs.map((h) => ({ ...h })),
        mounts,
        mountSpecs,
        network,
        security,
        flagsUsed: [...flags.used],
      };
    }
    case 'copy':
    case 'add': {
      const add = node.name.toLowerCase() === 'add';
      const upper = add ? 'ADD' : 'COPY';
      if (args.length < 2) {
        fail(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`);
      }
      flags.string('chown').string('chmod').bool('link').strings('exclude');
      if (add) flags.bool('keep-git-dir').string('checksum').bool('unpack');
      else flags.string('from').bool('parents');
      flags.parse();
      const dest = args[args.length - 1]!;
      if (parseHeredoc(dest)) fail(`${upper} cannot accept a heredoc as a destination`);
      const docs = new Map(node.heredocs.map((h) => [h.name, h]));
      const sources: string[] = [];
      const inline: InlineSource[] = [];
      for (const src of args.slice(0, -1)) {
        const h = parseHeredoc(src);
        if (!h) {
          sources.push(src);
          continue;
        }
        const content = docs.get(h.name)?.content ?? '';
        inline.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
      }
      const common = {
        ...base,
        sources,
        inline,
        dest,
        ...opt('chown', flags.str('chown')),
        ...opt('chmod', flags.str('chmod')),
        link: flags.isTrue('link'),
        exclude: flags.list('exclude'),
      };
      if (add) {
        return {
          kind: 'add',
          ...common,
          ...opt('checksum', flags.str('checksum')),
          ...(flags.used.has('keep-git-dir') ? { keepGitDir: flags.isTrue('keep-git-dir') } : {}),
          ...(flags.used.has('unpack') ? { unpack: flags.isTrue('unpack') } : {}),
        };
      }
      return { kind: 'copy', ...common, ...opt('from', flags.str('from')), parents: flags.isTrue('parents') };
    }
    case 'cmd':
      flags.parse();
      return { kind: 'cmd', ...base, command: commandLine(node) };
    case 'entrypoint':
      flags.parse();
      return { kind: 'entrypoint', ...base, command: commandLine(node) };
    case 'env':
    case 'label': {
      flags.parse();
      const upper = node.name.toUpperCase();
      if (args.length === 0) atLeastOne(upper);
      if (args.length % 3 !== 0) fail(`Bad input to ${upper}, too many arguments`);
      const pairs: KeyValue[] = [];
      for (let i = 0; i < args.length; i += 3) {
        if (args[i] === '') fail(`${upper} names can not be blank`);
        pairs.push({ key: args[i]!, value: args[i + 1]!, legacy: args[i + 2] === '' });
      }
      return upper === 'ENV' ? { kind: 'env', ...base, pairs } : { kind: 'label', ...base, pairs };
    }
    case 'maintainer':
      if (args.length !== 1) exactlyOne('MAINTAINER');
      flags.parse();
      return { kind: 'maintainer', ...base, maintainer: args[0]! };
    case 'onbuild': {
      if (args.length === 0) atLeastOne('ONBUILD');
      flags.parse();
      const trigger = args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.sub!.heredocs) expression += '\n' + h.content + h.name;
      return { kind: 'onbuild', ...base, expression, trigger: node.sub! };
    }
    case 'workdir':
      if (args.length !== 1) exactlyOne('WORKDIR');
      flags.parse();
      return { kind: 'workdir', ...base, path: args[0]! };
    case 'healthcheck':
      return healthcheck(node, base, args, flags);
    case 'expose':
      if (args.length === 0) atLeastOne('EXPOSE');
      flags.parse();
      return { kind: 'expose', ...base, ports: [...args].sort() };
    case 'user':
      if (args.length !== 1) exactlyOne('USER');
      flags.parse();
      return { kind: 'user', ...base, user: args[0]! };
    case 'volume': {
      if (args.length === 0) atLeastOne('VOLUME');
      flags.parse();
      const volumes = args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) fail('VOLUME specified can not be an empty string');
      return { kind: 'volume', ...base, volumes };
    }
    case 'stopsignal':
      if (args.length !== 1) exactlyOne('STOPSIGNAL');
      return { kind: 'stopsignal', ...base, signal: args[0]! };
    case 'arg': {
      if (args.length === 0) atLeastOne('ARG');
      const defs = args.map((a): ArgDef => {
        const eq = a.indexOf('=');
        if (eq < 0) return { name: a };
        if (eq === 0) fail('ARG names can not be blank');
        return { name: a.slice(0, eq), default: a.slice(eq + 1) };
      });
      return { kind: 'arg', ...base, args: defs };
    }
    case 'shell': {
      flags.parse();
      if (args.length === 0) atLeastOne('SHELL');
      if (!node.json) fail(`SHELL requires the arguments to be in JSON form`);
      return { kind: 'shell', ...base, shell: [...args] };
    }
    default:
      return fail(suggest(`unknown instruction: ${node.name}`, node.name, NAMES, false));
  }
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string };
}

function healthcheck(node: Node, base: Base, args: string[], flags: Flags): Healthcheck {
  if (args.length === 0) atLeastOne('HEALTHCHECK');
  const type = args[0]!.toUpperCase();
  const rest = args.slice(1);
  if (type === 'NONE') {
    if (rest.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', ...base, test: ['NONE'] };
  }
  flags.string('interval').string('timeout').string('start-period').string('start-interval').string('retries').parse();
  if (type !== 'CMD') fail(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const cmd = node.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) fail('Missing command after HEALTHCHECK CMD');
  const hc: Healthcheck = { kind: 'healthcheck', ...base, test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const durations = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ] as const;
  for (const [flag, field] of durations) {
    const d = interval(flag, flags.str(flag));
    if (d !== undefined) hc[field] = d;
  }
  const retries = flags.str('retries');
  if (retries) {
    if (!/^[+-]?\d+$/.test(retries)) fail(`strconv.ParseInt: parsing ${goQuote(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n > 2 ** 31 - 1 || n < -(2 ** 31)) fail(`strconv.ParseInt: parsing ${goQuote(retries)}: value out of range`);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    hc.retries = n;
  }
  return hc;
}

/** A healthcheck duration flag in nanoseconds; 0 means the default, anything else must be at least 1ms. */
function interval(flag: string, value: string | undefined): number | undefined {
  if (!value) return undefined;
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (ms === 0) return 0;
  if (ms < 1) fail(`Interval ${goQuote(flag)} cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}
