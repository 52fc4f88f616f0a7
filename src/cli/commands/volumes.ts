/** `berth volume create|ls|inspect|rm|prune`, with docker's flags and output (cli/command/volume). */
import type { VolumeSummary } from '../../client/index.js';
import { humanSizeWithPrecision } from '../../lib/units.js';
import { CancelledError, StatusError } from '../cli.js';
import { maxArgs, minArgs, noArgs, type CommandDef } from '../command.js';
import { renderRows } from '../output.js';
import { confirm } from '../prompt.js';
import { VOLUME_HEADERS, volumeRow } from './rows.js';
import { checkFilters, errorText, filterFlag, INSPECT_FORMAT_HELP, parseFilters } from './common.js';
import { naturalLess, pruneFilters } from './containers.js';
import { inspectOutput } from './inspect.js';

const LS_FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

/** `key=value` (or a bare key, meaning an empty value) into a map, as docker's label and opt flags do. */
function toMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function createDef(): CommandDef {
  return {
    name: 'create',
    use: '[OPTIONS] [VOLUME]',
    short: 'Create a volume',
    args: maxArgs(1),
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'local', usage: 'Specify volume driver name' },
      { name: 'label', type: 'stringArray', placeholder: 'list', usage: 'Set metadata for a volume' },
      { name: 'name', type: 'string', usage: 'Specify volume name', hidden: true },
      { name: 'opt', short: 'o', type: 'stringArray', placeholder: 'map', shownDefault: 'map[]', usage: 'Set driver specific options' },
    ],
    run: async ({ cli, flags, args }) => {
      let name = flags['name'] as string;
      if (args.length === 1) {
        if (name !== '' && name !== args[0]) throw new StatusError('conflicting options: cannot specify a volume-name through both --name and as a positional arg', 1);
        name = args[0]!;
      }
      const v = await cli.client().volumeCreate({
        name,
        driver: flags['driver'] as string,
        driverOpts: toMap(flags['opt'] as string[]),
        labels: toMap(flags['label'] as string[]),
      });
      cli.out.write(`${v.Name}\n`);
    },
  };
}

/** The list format for a --format source, as docker's NewVolumeFormat builds it. */
export function volumeFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  if (source === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\ndriver: {{.Driver}}\n';
  return source;
}

function lsDef(): CommandDef {
  return {
    name: 'ls',
    aliases: ['list'],
    use: '[OPTIONS]',
    short: 'List volumes',
    args: noArgs,
    flags: [
      { name: 'cluster', type: 'bool', usage: 'Display only cluster volumes, and use cluster volume list formatting', hidden: true },
      filterFlag("Provide filter values (e.g. 'dangling=true')"),
      { name: 'format', type: 'string', usage: LS_FORMAT_HELP },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
    ],
    check: (f) => checkFilters(f),
    run: async ({ cli, flags }) => {
      const quiet = flags['quiet'] as boolean;
      const list = await cli.client().volumeList(parseFilters(flags['filter'] as string[]));
      const volumes: VolumeSummary[] = [...(list.Volumes ?? [])].sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
      let source = flags['format'] as string;
      if (source === '') {
        const cfg = cli.config()['volumesFormat'];
        source = typeof cfg === 'string' && cfg && !quiet ? cfg : 'table';
      }
      const format = volumeFormat(source, quiet);
      cli.out.write(renderRows(format, 'table {{.Driver}}\t{{.Name}}', volumes.map(volumeRow), VOLUME_HEADERS));
    },
  };
}

function inspectDef(): CommandDef {
  return {
    name: 'inspect',
    use: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Display detailed information on one or more volumes',
    args: minArgs(1),
    flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
    run: async ({ cli, flags, args }) => {
      await inspectOutput(cli, args, flags['format'] as string, (name) => cli.client().volumeInspect(name));
    },
  };
}

function rmDef(): CommandDef {
  return {
    name: 'rm',
    aliases: ['remove'],
    use: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Remove one or more volumes',
    long: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
    args: minArgs(1),
    flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
    run: async ({ cli, flags, args }) => {
      const client = cli.client();
      const errs: string[] = [];
      for (const name of args) {
        try {
          await client.volumeRemove(name, flags['force'] as boolean);
          cli.out.write(`${name}\n`);
        } catch (e) {
          errs.push(errorText(e));
        }
      }
      if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
    },
  };
}

const PRUNE_ANONYMOUS_WARNING = `WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue?`;
const PRUNE_ALL_WARNING = `WARNING! This will remove all local volumes not used by at least one container.
Are you sure you want to continue?`;

function pruneDef(): CommandDef {
  return {
    name: 'prune',
    use: '[OPTIONS]',
    short: 'Remove unused local volumes',
    args: noArgs,
    flags: [
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
      filterFlag('Provide filter values (e.g. "label=<label>")', null),
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    check: (f) => checkFilters(f, null),
    run: async ({ cli, flags }) => {
      const filters = pruneFilters(cli, parseFilters(flags['filter'] as string[]));
      const all = flags['all'] as boolean;
      if (all) {
        if (filters['all']) throw new StatusError('conflicting options: cannot specify both --all and --filter all=1', 1);
        filters['all'] = ['true'];
      }
      const warning = all || (filters['all'] ?? []).some((v) => v === 'true' || v === '1') ? PRUNE_ALL_WARNING : PRUNE_ANONYMOUS_WARNING;
      if (!(flags['force'] as boolean)) {
        if (!(await confirm(cli, warning))) throw new CancelledError('volume prune has been cancelled');
      }
      const report = await cli.client().volumesPrune(filters);
      const deleted = report.VolumesDeleted ?? [];
      let reclaimed = 0;
      if (deleted.length > 0) {
        cli.out.write('Deleted Volumes:\n' + deleted.map((n) => n + '\n').join('') + '\n');
        reclaimed = report.SpaceReclaimed ?? 0;
      }
      cli.out.write(`Total reclaimed space: ${humanSizeWithPrecision(reclaimed, 4)}\n`);
    },
  };
}

/** `berth volume` */
export function volumeGroup(): CommandDef {
  return {
    name: 'volume',
    short: 'Manage volumes',
    long: `Manage volumes. You can use subcommands to create, inspect, list, remove, or prune volumes.`,
    args: noArgs,
    sub: [createDef(), inspectDef(), lsDef(), pruneDef(), rmDef()],
  };
}
