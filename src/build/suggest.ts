/**
 * "(did you mean x?)" hints in BuildKit's manner: the closest option within
 * an edit distance of 2 is offered; an exact match offers nothing.
 */

/** Levenshtein distance, each insertion, deletion and substitution costing 1. */
function distance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length]!;
}

/** The option closest to value, or undefined; options are tried in sorted order so ties are stable. */
export function closest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let match: string | undefined;
  let min = 3;
  for (const o of [...options].sort()) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (v === opt) return undefined;
    const d = distance(v, opt);
    if (d < min) {
      min = d;
      match = caseSensitive ? opt : matchCase(opt, value);
    }
  }
  return match;
}

function matchCase(option: string, orig: string): string {
  if (orig === orig.toLowerCase()) return option.toLowerCase();
  if (orig === orig.toUpperCase()) return option.toUpperCase();
  return option;
}

/** message, with a hint appended when an option is close to value. */
export function suggest(message: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const m = closest(value, options, caseSensitive);
  return m === undefined ? message : `${message} (did you mean ${m}?)`;
}
