/**
 * Image commands: images / image ls, inspect, rm (rmi), tag, history, save,
 * load, import, prune. Each run function calls the API; the rows and text
 * they print come from the render functions next to them.
 */
import { writeStreamAtomic } from '../util/files.js';
import { createReadStream, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import {
  DaemonError,
  type DeleteResponseItem,
  type HistoryItem,
  type ImageSummary,
} from '../../client/index.js';
import { familiarName, parseNormalized } from '../../client/index.js';
import { CancelledError, PROG, StatusError } from '../cli.js';
import { exactArgs, maxArgs, minArgs, noArgs, type CommandDef, type RunContext } from '../command.js';
import { renderRows as renderList } from '../output.js';
import { displayJSONMessages, displayOptions } from '../jsonmessage.js';
import { humanSize, humanSizeWithPrecision, timeAgo } from '../../lib/units.js';
import { goTimeString, rfc3339 } from '../util/gotime.js';
import { confirm } from '../prompt.js';
import { inspectOutput } from './inspect.js';
import { imageRegistryCommands } from './registry.js';
import { buildDef } from './build.js';
import {
  checkFilters,
  ellipsis,
  errorText,
  filterFlag,
  FORMAT_HELP,
  INSPECT_FORMAT_HELP,
  parseFilters,
  sortKeys,
  truncateID,
} from './common.js';

// ───────────────────────────── images / image ls ─────────────────────────────

const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const IMAGE_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

/** docker's NewImageFormat: the template for a --format value. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    return digest ? IMAGE_TABLE_DIGEST : IMAGE_TABLE;
  }
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith('table') && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

export function imageRow(img: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, now = new Date()): ImageRow {
  const size = img.Size ?? 0;
  const shared = img.SharedSize ?? -1;
  const containers = img.Containers ?? -1;
  return {
    Containers: containers === -1 ? 'N/A' : String(containers),
    CreatedAt: goTimeString(img.Created),
    CreatedSince: timeAgo(img.Created, now),
    Digest: digest,
    ID: trunc ? truncateID(img.Id) : img.Id,
    Repository: repo,
    SharedSize: shared === -1 ? 'N/A' : humanSizeWithPrecision(shared, 4),
    Size: humanSize(size),
    Tag: tag,
    UniqueSize: size === -1 || shared === -1 ? 'N/A' : humanSizeWithPrecision(size - shared, 4),
    VirtualSize: humanSizeWithPrecision(size, 4),
  };
}

/** One row per repository tag (and per digest when asked), like docker's imageFormat. */
export function imageRows(images: ImageSummary[], o: { trunc: boolean; needDigest: boolean; digestRows: boolean }, now = new Date()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(imageRow(img, o.trunc, '<none>', '<none>', '<none>', now));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const ref = parseNormalized(s);
        if (ref.tag !== undefined && ref.digest === undefined) {
          const name = familiarName(ref);
          repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
        }
      } catch {
        // unparsable entries are skipped, as docker does
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const ref = parseNormalized(s);
        if (ref.digest !== undefined) {
          const name = familiarName(ref);
          repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
        }
      } catch {
        // skipped
      }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!o.needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) {
          rows.push(imageRow(img, o.trunc, repo, tag, '<none>', now));
          continue;
        }
        for (const d of digests) rows.push(imageRow(img, o.trunc, repo, tag, d, now));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (o.digestRows) for (const d of digests) rows.push(imageRow(img, o.trunc, repo, '<none>', d, now));
      else rows.push(imageRow(img, o.trunc, repo, '<none>', '', now));
    }
  }
  return rows;
}

const AMBIGUOUS = new Set(['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']);

async function runImages(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const quiet = flags['quiet'] as boolean;
  const digests = flags['digests'] as boolean;
  const filters = parseFilters(flags['filter'] as string[]);
  const match = args[0];
  if (match !== undefined) (filters['reference'] ??= []).push(match);
  if (flags['tree']) throw new StatusError('--tree is not supported by berth', 1);
  const images = await cli.client().imageList({ all: flags['all'] as boolean, filters });
  let source = flags['format'] as string;
  if (source === '') {
    const cfg = cli.config().imagesFormat;
    source = cfg && !quiet ? cfg : 'table';
  }
  const format = imageFormat(source, quiet, digests);
  const rows = imageRows(images, {
    trunc: !(flags['no-trunc'] as boolean),
    needDigest: digests || format.includes('{{.Digest}}'),
    digestRows: digests,
  });
  cli.out.write(renderList(format, IMAGE_TABLE, rows.map(sortKeys), IMAGE_HEADERS));
  if (match !== undefined && images.length === 0 && ctx.cmd.name === 'images' && AMBIGUOUS.has(match)) {
    cli.err.write(`\nNo images found matching ${JSON.stringify(match)}: did you mean "${PROG} image ${match}"?\n`);
  }
}

function imagesDef(name: string, use: string, aliases: string[] = [], top?: number): CommandDef {
  const d: CommandDef = {
    name,
    use,
    short: 'List images',
    aliasesLine: `${PROG} image ls, ${PROG} image list, ${PROG} images`,
    aliases,
    args: maxArgs(1),
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
      { name: 'all', short: 'a', type: 'bool', usage: 'Show all images (default hides intermediate images)' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'digests', type: 'bool', usage: 'Show digests' },
      { name: 'format', type: 'string', usage: FORMAT_HELP },
      filterFlag(),
      { name: 'tree', type: 'bool', usage: 'List multi-platform images as a tree (EXPERIMENTAL)', hidden: true },
    ],
    check: (f) => checkFilters(f),
    run: runImages,
  };
  if (top !== undefined) d.top = top;
  return d;
}

// ───────────────────────────── image inspect ─────────────────────────────

async function runImageInspect(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const platform = flags['platform'] as string;
  await inspectOutput(cli, args, flags['format'] as string, async (ref) => {
    const r = await cli.client().imageInspect(ref, platform ? { platform } : {});
    return { data: r.data, raw: r.raw };
  });
}

// ───────────────────────────── rmi / image rm ─────────────────────────────

/** `Untagged: x` / `Deleted: sha256:…` lines. */
export function renderRemoved(items: DeleteResponseItem[]): string {
  return items.map((d) => (d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged ?? ''}\n`)).join('');
}

async function runRemove(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const force = flags['force'] as boolean;
  const platforms = flags['platform'] as string[];
  const errs: unknown[] = [];
  let fatal = false;
  for (const img of args) {
    try {
      const opts: { force: boolean; noPrune: boolean; platforms?: string[] } = { force, noPrune: flags['no-prune'] as boolean };
      if (platforms.length > 0) opts.platforms = platforms;
      const dels = await cli.client().imageRemove(img, opts);
      cli.out.write(renderRemoved(dels));
    } catch (e) {
      if (!(e instanceof DaemonError && e.kind === 'NotFound')) fatal = true;
      errs.push(e);
    }
  }
  if (errs.length > 0) {
    const text = errs.map(errorText).join('\n');
    if (!force || fatal) throw new StatusError(text, 1);
    cli.err.write(text + '\n');
  }
}

function removeDef(name: string, aliases: string[]): CommandDef {
  return {
    name,
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Remove one or more images',
    aliases,
    aliasesLine: `${PROG} image rm, ${PROG} image remove, ${PROG} rmi`,
    args: minArgs(1),
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
      { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
      {
        name: 'platform',
        type: 'stringSlice',
        usage: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
        placeholder: 'strings',
      },
    ],
    run: runRemove,
  };
}

// ───────────────────────────── tag ─────────────────────────────

function tagDef(name: string): CommandDef {
  return {
    name,
    use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliasesLine: `${PROG} image tag, ${PROG} tag`,
    args: exactArgs(2),
    interspersed: false,
    run: async ({ cli, args }) => {
      await cli.client().imageTag(args[0]!, args[1]!);
    },
  };
}

// ───────────────────────────── history ─────────────────────────────

const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_TABLE_NON_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export interface HistoryRow {
  Comment: string;
  CreatedAt: string;
  CreatedBy: string;
  CreatedSince: string;
  ID: string;
  Size: string;
}

const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

export function historyRows(items: HistoryItem[], o: { trunc: boolean; human: boolean }, now = new Date()): HistoryRow[] {
  return items.map((h) => {
    const createdAt = rfc3339(h.Created);
    let since: string;
    if (!o.human) since = createdAt;
    else if (h.Created <= EPOCH_2000) since = 'N/A';
    else since = timeAgo(h.Created, now);
    const by = (h.CreatedBy ?? '').replace(/\t/g, ' ');
    return {
      Comment: h.Comment ?? '',
      CreatedAt: createdAt,
      CreatedBy: o.trunc ? ellipsis(by, 45) : by,
      CreatedSince: since,
      ID: o.trunc ? truncateID(h.Id) : h.Id,
      Size: o.human ? humanSize(h.Size) : String(h.Size),
    };
  });
}

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    return human ? HISTORY_TABLE : HISTORY_TABLE_NON_HUMAN;
  }
  return source;
}

async function runHistory(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const platform = flags['platform'] as string;
  const items = await cli.client().imageHistory(args[0]!, platform ? { platform } : {});
  const human = flags['human'] as boolean;
  const format = historyFormat((flags['format'] as string) || 'table', flags['quiet'] as boolean, human);
  const rows = historyRows(items, { trunc: !(flags['no-trunc'] as boolean), human });
  cli.out.write(renderList(format, HISTORY_TABLE, rows, HISTORY_HEADERS));
}

function historyDef(name: string): CommandDef {
  return {
    name,
    use: '[OPTIONS] IMAGE',
    short: 'Show the history of an image',
    aliasesLine: `${PROG} image history, ${PROG} history`,
    args: exactArgs(1),
    flags: [
      { name: 'human', short: 'H', type: 'bool', default: true, usage: 'Print sizes and dates in human readable format' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
      { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      { name: 'format', type: 'string', usage: FORMAT_HELP },
      {
        name: 'platform',
        type: 'string',
        usage: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
    run: runHistory,
  };
}

// ───────────────────────────── save ─────────────────────────────

/** Writes a stream to `path` through a temporary file renamed into place (mode 0600), like docker's atomic writer. */
export async function writeFileAtomically(path: string, src: Readable): Promise<void> {
  const dir = dirname(path);
  if (dir !== '' && dir !== '.' && dir !== '..') {
    let st;
    try {
      st = await fsp.stat(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a directory' : String(code);
      throw new StatusError(`failed to save image: invalid output path: stat ${dir}: ${why}`, 1);
    }
    if (!st.isDirectory()) throw new StatusError(`failed to save image: invalid output path: stat ${dir}: not a directory`, 1);
  }
  let st;
  try {
    st = await fsp.lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new StatusError(`failed to save image: failed to stat output path: ${(e as Error).message}`, 1);
  }
  if (st && !st.isFile()) {
    const what = st.isDirectory()
      ? 'a directory'
      : st.isSymbolicLink()
        ? 'a symbolic link directly'
        : st.isFIFO()
          ? 'a named pipe (FIFO)'
          : st.isSocket()
            ? 'a socket'
            : st.isCharacterDevice()
              ? 'a character device file'
              : 'a block device file';
    throw new StatusError(`failed to save image: cannot write to ${what}`, 1);
  }
  await writeStreamAtomic(path, src);
}

async function runSave(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const output = flags['output'] as string;
  if (output === '' && cli.out.isTTY) {
    throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
  }
  const platform = flags['platform'] as string;
  const body = await cli.client().imageSave(args, platform ? { platform } : {});
  if (output !== '') {
    await writeFileAtomically(output, body);
    return;
  }
  for await (const chunk of body) {
    if (cli.out.broken) {
      body.destroy();
      break;
    }
    cli.out.write(chunk as Buffer);
    if (cli.out.stream.writableNeedDrain) {
      await new Promise<void>((resolve) => cli.out.stream.once('drain', resolve));
    }
  }
}

function saveDef(name: string): CommandDef {
  return {
    name,
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliasesLine: `${PROG} image save, ${PROG} save`,
    args: minArgs(1),
    flags: [
      { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
      {
        name: 'platform',
        type: 'string',
        usage: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
    run: runSave,
  };
}

// ───────────────────────────── load ─────────────────────────────

async function openInput(path: string): Promise<Readable> {
  try {
    const fh = await fsp.open(path, 'r');
    await fh.close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StatusError(`open ${path}: no such file or directory`, 1);
    if (code === 'EACCES') throw new StatusError(`open ${path}: permission denied`, 1);
    throw e;
  }
  return createReadStream(path);
}

async function runLoad(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const input = flags['input'] as string;
  let src: Readable;
  if (input === '') {
    if (cli.in.isTTY) throw new StatusError('requested load from stdin, but stdin is empty', 1);
    src = cli.in.stream;
  } else {
    src = await openInput(input);
  }
  const quiet = (flags['quiet'] as boolean) || !cli.out.isTTY;
  const platform = flags['platform'] as string;
  const opts: { quiet: boolean; platform?: string } = { quiet };
  if (platform) opts.platform = platform;
  const { response, json } = await cli.client().imageLoad(src, opts);
  if (json) {
    await displayJSONMessages(response, cli.out, displayOptions(cli));
    return;
  }
  for await (const chunk of response) cli.out.write(chunk as Buffer);
}

function loadDef(name: string): CommandDef {
  return {
    name,
    use: '[OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    aliasesLine: `${PROG} image load, ${PROG} load`,
    args: noArgs,
    flags: [
      { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
      {
        name: 'platform',
        type: 'string',
        usage: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
    run: runLoad,
  };
}

// ───────────────────────────── import ─────────────────────────────

async function runImport(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const source = args[0]!;
  let body: Readable | string;
  if (source === '-') body = cli.in.stream;
  else if (source.startsWith('http://') || source.startsWith('https://')) body = source;
  else body = await openInput(source);
  const opts: { reference?: string; message?: string; changes?: string[]; platform?: string } = {
    message: flags['message'] as string,
    changes: flags['change'] as string[],
  };
  if (args[1] !== undefined) opts.reference = args[1];
  const platform = flags['platform'] as string;
  if (platform) opts.platform = platform;
  const res = await cli.client().imageImport(body, opts);
  await displayJSONMessages(res, cli.out, displayOptions(cli));
}

function importDef(name: string): CommandDef {
  return {
    name,
    use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    aliasesLine: `${PROG} image import, ${PROG} import`,
    args: minArgs(1),
    flags: [
      { name: 'change', short: 'c', type: 'stringArray', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
      { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
    ],
    run: runImport,
  };
}

// ───────────────────────────── prune ─────────────────────────────

const ALL_IMAGE_WARNING = `WARNING! This will remove all images without at least one container associated to them.
Are you sure you want to continue?`;
const DANGLING_WARNING = `WARNING! This will remove all dangling images.
Are you sure you want to continue?`;

/** `Deleted Images:` block (empty string when nothing was deleted). */
export function renderPruned(deleted: DeleteResponseItem[]): string {
  if (deleted.length === 0) return '';
  let s = 'Deleted Images:\n';
  for (const d of deleted) s += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
  return s;
}

async function runPrune(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const all = flags['all'] as boolean;
  const filters = parseFilters(flags['filter'] as string[]);
  (filters['dangling'] ??= []).push(String(!all));
  if (!(flags['force'] as boolean)) {
    const ok = await confirm(cli, all ? ALL_IMAGE_WARNING : DANGLING_WARNING);
    if (!ok) throw new CancelledError('image prune has been cancelled');
  }
  const report = await cli.client().imagePrune(filters);
  const deleted = report.ImagesDeleted ?? [];
  const output = renderPruned(deleted);
  const reclaimed = deleted.length > 0 ? report.SpaceReclaimed ?? 0 : 0;
  if (output !== '') cli.out.write(output + '\n');
  cli.out.write(`Total reclaimed space: ${humanSizeWithPrecision(reclaimed, 4)}\n`);
}

function pruneDef(): CommandDef {
  return {
    name: 'prune',
    use: '[OPTIONS]',
    short: 'Remove unused images',
    args: noArgs,
    flags: [
      { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
      filterFlag('Provide filter values (e.g. "until=<timestamp>")', null),
    ],
    check: (f) => checkFilters(f, null),
    run: runPrune,
  };
}

// ───────────────────────────── the tree ─────────────────────────────

function inspectDef(): CommandDef {
  return {
    name: 'inspect',
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Display detailed information on one or more images',
    args: minArgs(1),
    flags: [
      { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
      {
        name: 'platform',
        type: 'string',
        usage:
          "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
      },
    ],
    run: runImageInspect,
  };
}

/** `berth image …` */
export function imageGroup(): CommandDef {
  return {
    name: 'image',
    short: 'Manage images',
    args: noArgs,
    sub: [
      buildDef(),
      historyDef('history'),
      importDef('import'),
      inspectDef(),
      loadDef('load'),
      imagesDef('ls', '[OPTIONS] [REPOSITORY[:TAG]]', ['list']),
      pruneDef(),
      ...imageRegistryCommands(),
      removeDef('rm', ['rmi', 'remove']),
      saveDef('save'),
      tagDef('tag'),
    ],
  };
}

/** The top-level shortcuts: images, rmi, tag, history, save, load, import. */
export function imageShortcuts(): CommandDef[] {
  return [
    imagesDef('images', '[OPTIONS] [REPOSITORY[:TAG]]', [], 7),
    removeDef('rmi', []),
    tagDef('tag'),
    historyDef('history'),
    saveDef('save'),
    loadDef('load'),
    importDef('import'),
  ];
}

