/**
 * List rendering for formatter rows. Like format.ts's renderList, but the
 * `json` template function marshals a row the way docker's formatter
 * contexts do (their MarshalJSON goes through json.Marshal, which escapes
 * <, > and &), while other values keep the json function's plain encoding.
 */
import { BerthError, invalidArgument } from '../lib/errors.js';
import { goJSON } from '../lib/gofmt.js';
import { defaultHeader, parseFormat } from './format.js';
import { tabwriteText } from './tabwriter.js';
import { compileTemplate, type Template } from './template.js';

const rows = new WeakSet<object>();

/** Marks objects as formatter rows (see the module comment). */
export function asRows<T extends object>(items: T[]): T[] {
  for (const i of items) rows.add(i);
  return items;
}

const rowFuncs = {
  json: (v: unknown) => goJSON(v, { escapeHTML: typeof v === 'object' && v !== null && rows.has(v) }),
};

function run(tmpl: Template, data: unknown): string {
  try {
    return tmpl.execute(data);
  } catch (err) {
    if (err instanceof BerthError) throw invalidArgument(`template parsing error: ${err.message}`, err.context);
    throw err;
  }
}

const headerFuncs = Object.fromEntries(
  ['json', 'split', 'join', 'title', 'lower', 'upper', 'truncate'].map((name) => [name, (v: unknown) => v]),
);

function headerLine(tmpl: Template, headers: Record<string, string>): string {
  const ctx: Record<string, unknown> = {};
  for (const field of tmpl.fields()) {
    if (Object.prototype.hasOwnProperty.call(headers, field)) ctx[field] = headers[field];
    else if (field === 'Label') ctx['Label'] = (name: unknown) => String(name).split('.').pop()!.replace(/[-_]/g, ' ');
    else ctx[field] = defaultHeader(field);
  }
  try {
    return tmpl.execute(ctx, headerFuncs);
  } catch (err) {
    if (err instanceof BerthError && typeof err.context['output'] === 'string') return err.context['output'];
    throw err;
  }
}

/**
 * Renders rows for `--format`: tables get a header and aligned columns,
 * other templates one line per row. Template parse errors are InvalidArgument
 * errors reading `template parsing error: …`.
 */
export function renderRows(fmt: string, defaultTable: string, items: object[], headers: Record<string, string>): string {
  const f = parseFormat(fmt, defaultTable);
  const text = f.kind === 'raw' ? 'raw' : f.template;
  const tmpl = compileTemplate(text, rowFuncs);
  asRows(items);
  let body = '';
  for (const row of items) body += run(tmpl, row) + '\n';
  if (f.kind !== 'table') return body;
  return tabwriteText(headerLine(tmpl, headers) + '\n' + body);
}
