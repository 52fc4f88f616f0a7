/**
 * Docker's --format flag on top of the template engine: the `table`, `json`
 * and `raw` keywords, table headers and column alignment for list commands,
 * and inspect-style output for single objects.
 */
import { BerthError, invalidArgument } from '../lib/errors.js';
import { goJSON } from '../lib/gofmt.js';
import { tabwriteText, type TabOptions } from './tabwriter.js';
import { compileTemplate, type Template } from './template.js';

export type FormatKind = 'table' | 'raw' | 'json' | 'template';

export interface ParsedFormat {
  kind: FormatKind;
  /** Template text with the `table` prefix removed and literal \t, \n turned into tab and newline. */
  template: string;
}

/**
 * Classifies a --format value as docker does: empty or `table` → the
 * command's default table; `table <tmpl>` → a table with headers; `json` →
 * one JSON object per line; `raw` → the command's raw layout; anything else
 * → a plain template, one line per item.
 */
export function parseFormat(fmt: string | undefined, defaultTable: string): ParsedFormat {
  if (!fmt || fmt === 'table') {
    if (!defaultTable || defaultTable === 'table') return { kind: 'table', template: '' };
    return parseFormat(defaultTable, '');
  }
  if (fmt === 'json') return { kind: 'json', template: '{{json .}}' };
  if (fmt === 'raw') return { kind: 'raw', template: '' };
  const table = fmt.startsWith('table');
  return { kind: table ? 'table' : 'template', template: templateText(table ? fmt.slice(5) : fmt) };
}

/** Docker trims spaces (only spaces) and reads the two-character escapes \t and \n. */
function templateText(s: string): string {
  return s.replace(/^ +| +$/g, '').replace(/\\t|\\n/g, (e) => (e === '\\t' ? '\t' : '\n'));
}

export interface ListOptions {
  /** Template for `--format raw` (docker ps has one); without it `raw` is an ordinary template. */
  raw?: string;
  /** Tab settings; docker's are minwidth 10, tabwidth 1, padding 3, padchar ' '. */
  tab?: TabOptions;
  /** Template functions that replace the builtin ones of the same name for these rows. */
  funcs?: Record<string, (...args: never[]) => unknown>;
}

/**
 * Renders rows for a list command (docker ps, images, volume ls ...). Each
 * row becomes one line; tables get a header line and aligned columns. The
 * header of a column is `headers[field]` for each field the template reads,
 * or the field name split at camel-case breaks and upper-cased.
 */
export function renderList(
  fmt: string | undefined,
  defaultTable: string,
  rows: object[],
  headers: Record<string, string>,
  opts: ListOptions = {},
): string {
  const f = parseFormat(fmt, defaultTable);
  let text = f.template;
  if (f.kind === 'raw') text = opts.raw !== undefined ? templateText(opts.raw) : 'raw';
  const tmpl = compileTemplate(text, opts.funcs);
  let body = '';
  for (const row of rows) body += run(tmpl, row) + '\n';
  if (f.kind !== 'table') return body;
  return tabwriteText(headerLine(tmpl, headers) + '\n' + body, opts.tab);
}

/**
 * Renders one object or a list of them, like docker inspect: with no format,
 * indented JSON (4 spaces); with `json`, compact JSON; otherwise the template
 * once per element, one line each.
 */
export function renderOne(fmt: string | undefined, value: unknown): string {
  if (!fmt) return goJSON(value, { indent: '    ', escapeHTML: true }) + '\n';
  if (fmt === 'json') return goJSON(value, { escapeHTML: true }) + '\n';
  const tmpl = compileTemplate(fmt);
  const items = Array.isArray(value) ? value : [value];
  const out = items.map((item) => run(tmpl, item) + '\n').join('');
  return out === '' ? '\n' : out;
}

/** Runs a template; execution errors read `template parsing error: template: ...` as docker prints them. */
function run(tmpl: Template, data: unknown): string {
  try {
    return tmpl.execute(data);
  } catch (err) {
    if (err instanceof BerthError) throw invalidArgument(`template parsing error: ${err.message}`, err.context);
    throw err;
  }
}

/** Header functions leave the column title as it is (docker's templates.HeaderFunctions). */
const headerFuncs = Object.fromEntries(
  ['json', 'split', 'join', 'title', 'lower', 'upper', 'truncate'].map((name) => [name, (v: unknown) => v]),
);

/**
 * Runs the template over the column titles, as docker does; a header that
 * fails part way keeps what it printed before the failure.
 */
function headerLine(tmpl: Template, headers: Record<string, string>): string {
  const ctx: Record<string, unknown> = {};
  for (const field of tmpl.fields()) {
    if (Object.prototype.hasOwnProperty.call(headers, field)) ctx[field] = headers[field];
    else if (field === 'Label') ctx.Label = labelHeader;
    else ctx[field] = defaultHeader(field);
  }
  try {
    return tmpl.execute(ctx, headerFuncs);
  } catch (err) {
    if (err instanceof BerthError && typeof err.context.output === 'string') return err.context.output;
    throw err;
  }
}

/** `{{.Label "com.example.vendor"}}` heads its column with the key's last dotted part. */
function labelHeader(name: unknown): string {
  const parts = String(name).split('.');
  return parts[parts.length - 1].replace(/[-_]/g, ' ');
}

/** A column title for a field: CreatedSince → CREATED SINCE, IPAddress → IP ADDRESS. */
export function defaultHeader(field: string): string {
  return field
    .replace(/([\p{Ll}\p{Nd}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toUpperCase();
}
