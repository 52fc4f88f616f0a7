/**
 * .dockerignore: which paths of a build context are left out. Docker's
 * rules: one pattern per line, `#` comments, a leading `!` re-includes,
 * `*` and `?` stay within one path element, `**` spans any number of them,
 * a pattern that matches a directory leaves out everything under it, and the
 * last pattern that matches a path decides.
 */

interface Pattern {
  re: RegExp;
  exclusion: boolean;
}

/** Go's filepath.Clean for slash-separated relative paths. */
function clean(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/') || '.';
}

function compile(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` matches zero or more whole directories; a trailing `**` matches everything.
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!') || cls.startsWith('^')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      re += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const exclusion = line.startsWith('!');
    if (exclusion) line = line.slice(1).trim();
    line = clean(line.replace(/^\/+/, ''));
    if (!line) continue;
    out.push({ re: compile(line), exclusion });
  }
  return out;
}

/** Whether the context path (slash-separated, relative) is left out. */
export function ignored(patterns: Pattern[], path: string): boolean {
  const p = clean(path);
  const parents: string[] = [];
  const parts = p.split('/');
  for (let i = 1; i <= parts.length; i++) parents.push(parts.slice(0, i).join('/'));
  let out = false;
  for (const pat of patterns) {
    if (parents.some((x) => pat.re.test(x))) out = !pat.exclusion;
  }
  return out;
}
