/**
 * `ps` / `container ls|list|ps` (docker's list.go and formatter/container.go).
 */
import { PROG, StatusError } from '../cli.js';
import { noArgs, type CommandDef, type RunContext } from '../command.js';
import { renderRows } from '../output.js';
import { compileTemplate, GO_STRUCT, withArity } from '../template.js';
import type { ContainerSummary } from '../../client/index.js';
import { checkFilters, filterFlag, FORMAT_HELP, parseFilters, sortKeys } from './common.js';
import { CONTAINER_HEADERS, containerRow } from './rows.js';

const CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** NewContainerFormat */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === 'table' || source === '') {
    if (quiet) return '{{.ID}}';
    return size ? CONTAINER_TABLE + '\\t{{.Size}}' : CONTAINER_TABLE;
  }
  if (source === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    let f = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;
    if (size) f += 'size: {{.Size}}\\n';
    return f;
  }
  return quiet ? '{{.ID}}' : source;
}

/** formatter.ContainerContext: the row's fields, `Label "key"`, and errors for fields it lacks. */
export class ContainerContext {
  declare [GO_STRUCT]: boolean;
  constructor(c: ContainerSummary, trunc: boolean, now: Date) {
    const row = sortKeys(containerRow(c, trunc, now)) as unknown as Record<string, unknown>;
    Object.assign(this, row);
    const labels = c.Labels ?? null;
    Object.defineProperty(this, 'Label', {
      value: withArity((name: string) => (labels ? (labels[name] ?? '') : ''), 1),
      enumerable: false,
    });
    Object.defineProperty(this, GO_STRUCT, { value: true, enumerable: false });
  }
}
Object.defineProperty(ContainerContext, 'name', { value: '*formatter.ContainerContext' });

const EMPTY_SUMMARY: ContainerSummary = { Id: '', Names: null, Image: '', ImageID: '', Command: '', Created: 0, State: '', Status: '' };

async function runPs(ctx: RunContext): Promise<void> {
  const { cli, flags, set } = ctx;
  const quiet = flags['quiet'] as boolean;
  let format = flags['format'] as string;
  if (format === '') format = (cli.config().psFormat as string | undefined) ?? '';
  else if (quiet) cli.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');

  let size = flags['size'] as boolean;
  const last = flags['last'] as number;
  let limit = last;
  if ((flags['latest'] as boolean) && last === -1) limit = 1;
  if (format !== '') {
    let fields: string[];
    let tmpl;
    try {
      tmpl = compileTemplate(format);
      fields = tmpl.fields();
    } catch (e) {
      throw new StatusError(`failed to parse template: ${(e as Error).message.replace(/^template parsing error: /, '')}`, 1);
    }
    // docker runs the template once on an empty row and notes whether it read .Size (a `json .` reads all)
    const probe = new ContainerContext(EMPTY_SUMMARY, false, new Date());
    let sizeUsed = false;
    const emptySize = (probe as unknown as Record<string, unknown>)['Size'];
    Object.defineProperty(probe, 'Size', {
      get: () => {
        sizeUsed = true;
        return emptySize;
      },
      enumerable: true,
    });
    try {
      tmpl.execute(probe);
    } catch (e) {
      throw new StatusError(`failed to execute template: ${(e as Error).message.replace(/^template parsing error: /, '')}`, 1);
    }
    if (!quiet && !size && !set.has('size') && (sizeUsed || fields.includes('Size'))) size = true;
  }
  const containers = await cli.client().containerList({
    all: flags['all'] as boolean,
    limit,
    size,
    filters: parseFilters(flags['filter'] as string[]),
  });
  const f = containerFormat(format, quiet, size);
  const now = new Date();
  const rows = containers.map((c) => new ContainerContext(c, !(flags['no-trunc'] as boolean), now));
  cli.out.write(renderRows(f, CONTAINER_TABLE, rows, CONTAINER_HEADERS));
}

export function psDef(name: string, aliases: string[] = [], top?: number): CommandDef {
  const d: CommandDef = {
    name,
    aliases,
    use: '[OPTIONS]',
    short: 'List containers',
    aliasesLine: `${PROG} container ls, ${PROG} container list, ${PROG} container ps, ${PROG} ps`,
    args: noArgs,
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
      { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
      { name: 'last', short: 'n', type: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
      { name: 'format', type: 'string', usage: FORMAT_HELP },
      filterFlag(),
    ],
    check: (f) => checkFilters(f),
    run: runPs,
  };
  if (top !== undefined) d.top = top;
  return d;
}
