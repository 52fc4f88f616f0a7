/**
 * Re-indenting and compacting raw JSON text without parsing it into values,
 * so key order, number spelling and string escapes stay exactly as the
 * daemon sent them (like Go's json.Indent / json.Compact).
 */

/** Splits JSON text into tokens: strings, punctuation, and bare literals; whitespace dropped. */
function* tokens(src: string): Generator<string> {
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length) {
        if (src[j] === '\\') j += 2;
        else if (src[j] === '"') break;
        else j++;
      }
      yield src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if ('{}[],:'.includes(c)) {
      yield c;
      i++;
      continue;
    }
    let j = i;
    while (j < src.length && !' \n\r\t{}[],:"'.includes(src[j]!)) j++;
    yield src.slice(i, j);
    i = j;
  }
}

/** Re-indents JSON text like `json.Indent(dst, src, prefix, indent)`; empty `{}`/`[]` stay compact. */
export function indentJSON(src: string, prefix = '', indent = '    '): string {
  const toks = [...tokens(src)];
  let out = '';
  let depth = 0;
  const newline = () => {
    out += '\n' + prefix + indent.repeat(depth);
  };
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t === '{' || t === '[') {
      const close = t === '{' ? '}' : ']';
      if (toks[k + 1] === close) {
        out += t + close;
        k++;
        continue;
      }
      out += t;
      depth++;
      newline();
    } else if (t === '}' || t === ']') {
      depth--;
      newline();
      out += t;
    } else if (t === ',') {
      out += ',';
      newline();
    } else if (t === ':') {
      out += ': ';
    } else {
      out += t;
    }
  }
  return out;
}

/** Removes insignificant whitespace like `json.Compact`. */
export function compactJSON(src: string): string {
  return [...tokens(src)].join('');
}
