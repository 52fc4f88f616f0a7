/**
 * Go's text/tabwriter (elastic tabstops), as docker's table output uses it.
 *
 * Text is cut into cells at tabs and into lines at newlines. A cell ended by
 * a tab belongs to a column; the text after a line's last tab does not, so it
 * is never padded. A column is a run of adjacent lines that all have a cell
 * in it; every cell of the run is padded to the widest cell plus `padding`,
 * and to at least `minwidth`.
 */

export interface TabOptions {
  /** Minimal cell width, padding included. Docker's formatter uses 10. */
  minwidth?: number;
  /** Width of a tab when padchar is a tab. */
  tabwidth?: number;
  /** Added to the widest cell of a column. */
  padding?: number;
  /** ' ' pads with spaces; '\t' pads with tabs. */
  padchar?: string;
}

/** Docker's settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const dockerTab: Required<TabOptions> = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' };

/** Aligns rows of cells; each row becomes one output line ending in a newline. */
export function tabwrite(lines: string[][], opts: TabOptions = {}): string {
  return tabwriteText(lines.map((cells) => cells.join('\t') + '\n').join(''), opts);
}

/** Aligns tab-separated text, like writing it to a Go tabwriter and flushing. */
export function tabwriteText(text: string, opts: TabOptions = {}): string {
  const o = { ...dockerTab, ...opts };
  const segments = text.split('\n');
  const lines = segments.map((seg, i) => {
    const cells = seg.split('\t');
    // After the last newline only tab-terminated cells and non-empty text count.
    if (i === segments.length - 1 && cells[cells.length - 1] === '') cells.pop();
    return cells;
  });
  const out: string[] = [];
  format(out, lines, [], 0, lines.length, o);
  return out.join('');
}

/** Display width of a string: wide East Asian characters and emoji count 2, combining marks 0. */
export function cellWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r < 0x20 || (r >= 0x7f && r < 0xa0) || /[\p{Mn}\p{Me}\p{Cf}]/u.test(ch)) continue;
    w += isWide(r) || /\p{Emoji_Presentation}/u.test(ch) ? 2 : 1;
  }
  return w;
}

function isWide(r: number): boolean {
  return (
    (r >= 0x1100 && r <= 0x115f) ||
    (r >= 0x2e80 && r <= 0x303e) ||
    (r >= 0x3041 && r <= 0x33ff) ||
    (r >= 0x3400 && r <= 0x4dbf) ||
    (r >= 0x4e00 && r <= 0x9fff) ||
    (r >= 0xa000 && r <= 0xa4cf) ||
    (r >= 0xac00 && r <= 0xd7a3) ||
    (r >= 0xf900 && r <= 0xfaff) ||
    (r >= 0xfe30 && r <= 0xfe4f) ||
    (r >= 0xff00 && r <= 0xff60) ||
    (r >= 0xffe0 && r <= 0xffe6) ||
    (r >= 0x20000 && r <= 0x3fffd)
  );
}

type Opts = Required<TabOptions>;

/**
 * Formats lines [line0, line1): finds each block of lines sharing the next
 * column, sizes it, and recurses for the columns to its right (Go's format).
 */
function format(out: string[], lines: string[][], widths: number[], line0: number, line1: number, o: Opts): void {
  const column = widths.length;
  for (let i = line0; i < line1; i++) {
    if (column >= lines[i].length - 1) continue;
    // Lines before this block are done: they have no cell in this column.
    writeLines(out, lines, widths, line0, i, o);
    line0 = i;
    let width = o.minwidth;
    for (; i < line1 && column < lines[i].length - 1; i++) {
      width = Math.max(width, cellWidth(lines[i][column]) + o.padding);
    }
    widths.push(width);
    format(out, lines, widths, line0, i, o);
    widths.pop();
    line0 = i;
  }
  writeLines(out, lines, widths, line0, line1, o);
}

function writeLines(out: string[], lines: string[][], widths: number[], line0: number, line1: number, o: Opts): void {
  for (let i = line0; i < line1; i++) {
    lines[i].forEach((cell, j) => {
      out.push(cell);
      if (j < widths.length) out.push(padding(cellWidth(cell), widths[j], o));
    });
    // The last line is what followed the final newline: it gets none.
    if (i + 1 < lines.length) out.push('\n');
  }
}

function padding(textw: number, cellw: number, o: Opts): string {
  if (o.padchar === '\t') {
    if (o.tabwidth === 0) return '';
    const w = Math.ceil(cellw / o.tabwidth) * o.tabwidth;
    return '\t'.repeat(Math.ceil((w - textw) / o.tabwidth));
  }
  return o.padchar.repeat(Math.max(cellw - textw, 0));
}
