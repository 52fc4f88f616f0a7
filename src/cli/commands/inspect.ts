/**
 * `inspect` output shared by every inspect command, and the generic
 * `berth inspect` that tries each object type in docker's order.
 */
import { BerthError } from '../../lib/errors.js';
import { DaemonError, type Client } from '../../client/index.js';
import { StatusError, type CLI } from '../cli.js';
import { minArgs, type CommandDef, type RunContext } from '../command.js';
import { compileTemplate, type Template } from '../template.js';
import { compactJSON, indentJSON } from '../util/json.js';
import { errorText, INSPECT_FORMAT_HELP } from './common.js';

export interface Inspected {
  data: unknown;
  /** The daemon's reply bytes; printed re-indented when no template is given. */
  raw?: Buffer;
}

/** Renders inspected objects: indented JSON array, compact JSON (`json`), or a template per object. */
export function renderInspect(format: string, items: Inspected[], tmpl?: Template): { text: string; errors: string[] } {
  const errors: string[] = [];
  if (format === '' || format === 'json') {
    if (items.length === 0) return { text: '[]\n', errors };
    const joined = '[' + items.map((i) => (i.raw ? i.raw.toString('utf8').trim() : JSON.stringify(i.data))).join(',') + ']';
    return { text: (format === '' ? indentJSON(joined, '', '    ') : compactJSON(joined)) + '\n', errors };
  }
  const t = tmpl ?? compileTemplate(format);
  let text = '';
  for (const item of items) {
    try {
      text += t.execute(item.data) + '\n';
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      errors.push(msg.startsWith('template parsing error') ? msg : `template parsing error: ${msg}`);
    }
  }
  return { text: text === '' ? '\n' : text, errors };
}

/**
 * Fetches each reference and prints them like docker's inspect.Inspect:
 * failures are collected, the output is printed, then the errors (exit 1).
 * A template that does not parse fails first with status 64.
 */
export async function inspectOutput(
  cli: CLI,
  refs: string[],
  format: string,
  get: (ref: string) => Promise<Inspected>,
): Promise<void> {
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = compileTemplate(format);
    } catch (e) {
      throw new StatusError(e instanceof Error ? e.message : String(e), 64);
    }
  }
  const items: Inspected[] = [];
  const errs: string[] = [];
  for (const ref of refs) {
    try {
      items.push(await get(ref));
    } catch (e) {
      errs.push(errorText(e));
    }
  }
  const { text, errors } = renderInspect(format, items, tmpl);
  cli.out.write(text);
  errs.push(...errors);
  if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
}

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

interface Finder {
  type: string;
  size?: boolean;
  swarm?: boolean;
  get: (c: Client, ref: string, size: boolean) => Promise<Inspected>;
}

const FINDERS: Finder[] = [
  { type: 'container', size: true, get: (c, ref, size) => c.containerInspect(ref, { size }) },
  { type: 'image', get: (c, ref) => c.imageInspect(ref) },
  { type: 'network', get: (c, ref) => c.networkInspect(ref) },
  { type: 'volume', get: (c, ref) => c.volumeInspect(ref) },
  { type: 'service', swarm: true, get: (c, ref) => c.getRaw(`/services/${encodeURIComponent(ref)}`, { query: { insertDefaults: true } }) },
  { type: 'task', swarm: true, get: (c, ref) => c.getRaw(`/tasks/${encodeURIComponent(ref)}`) },
  { type: 'node', swarm: true, get: (c, ref) => c.getRaw(`/nodes/${encodeURIComponent(ref)}`) },
  { type: 'plugin', get: (c, ref) => c.pluginInspect(ref) },
  { type: 'secret', swarm: true, get: (c, ref) => c.getRaw(`/secrets/${encodeURIComponent(ref)}`) },
  { type: 'config', swarm: true, get: (c, ref) => c.getRaw(`/configs/${encodeURIComponent(ref)}`) },
];

/** Errors that let the generic inspect move on to the next type. */
function skippable(e: unknown): boolean {
  if (e instanceof DaemonError && e.kind === 'NotFound') return true;
  const msg = e instanceof Error ? e.message : String(e);
  return msg.includes('not supported') || msg.includes('invalid reference format');
}

async function runInspect(ctx: RunContext): Promise<void> {
  const { cli, flags, args, set } = ctx;
  const type = flags['type'] as string;
  const size = flags['size'] as boolean;
  if (set.has('type') && type === '') {
    throw new StatusError(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  if (type !== '' && !ALL_TYPES.includes(type)) {
    throw new StatusError(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  const client = cli.client();
  let manager: boolean | undefined;
  const isManager = async (): Promise<boolean> => {
    if (manager !== undefined) return manager;
    try {
      const info = await client.info();
      manager = info.Swarm?.ControlAvailable === true;
    } catch (e) {
      cli.err.write(errorText(e) + '\n');
      manager = false;
    }
    return manager;
  };
  await inspectOutput(cli, args, flags['format'] as string, async (ref) => {
    for (const f of FINDERS) {
      if (type !== '' && f.type !== type) continue;
      if (type === '' && f.swarm && !(await isManager())) continue;
      let found: Inspected;
      try {
        found = await f.get(client, ref, size);
      } catch (e) {
        if (type === '' && skippable(e)) continue;
        throw e;
      }
      if (size && !f.size) cli.err.write(`WARNING: --size ignored for ${f.type}\n`);
      return found;
    }
    throw new BerthError('NotFound', `Error: No such object: ${ref}`);
  });
}

export function inspectDef(): CommandDef {
  return {
    name: 'inspect',
    use: '[OPTIONS] NAME|ID [NAME|ID...]',
    short: 'Return low-level information on Berth objects',
    args: minArgs(1),
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
      { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
    ],
    run: runInspect,
  };
}
