/**
 * List rendering for formatter rows: renderList with docker's row `json`,
 * which marshals a row the way docker's formatter contexts do (their
 * MarshalJSON goes through json.Marshal, escaping <, > and &), while other
 * values keep the json function's plain encoding.
 */
import { goJSON } from '../lib/gofmt.js';
import { renderList } from './format.js';

const rows = new WeakSet<object>();

const rowFuncs = {
  json: (v: unknown) => goJSON(v, { escapeHTML: typeof v === 'object' && v !== null && rows.has(v) }),
};

/** Renders formatter rows for `--format`; see renderList. */
export function renderRows(fmt: string | undefined, defaultTable: string, items: object[], headers: Record<string, string>): string {
  for (const i of items) rows.add(i);
  return renderList(fmt, defaultTable, items, headers, { funcs: rowFuncs });
}
