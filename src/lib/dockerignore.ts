/**
 * .dockerignore: which paths of a build context are left out, with the rules
 * of docker's ignore file reader and pattern matcher (moby/patternmatcher):
 *
 * - one pattern per line; a line starting with `#` is a comment; blank lines
 *   are skipped; patterns are trimmed and cleaned (`a/../b` is `b`, a leading
 *   `/` is dropped);
 * - `!` in front re-includes what an earlier pattern left out;
 * - `*` and `?` stay within one path element, `[...]` is a character class,
 *   `\` escapes the next character;
 * - `**` spans any number of directories (`**` at the end matches everything
 *   below, `**` at the start matches at any depth);
 * - a pattern that matches a directory also matches everything under it, and
 *   the last pattern that matches a path decides.
 *
 * The CLI uses it to leave files out of the context it sends; the daemon to
 * remove the Dockerfile and `.dockerignore` from what COPY and ADD see when
 * they are listed.
 */

import { cleanPath } from './gopath.js';

/**
 * The patterns of a .dockerignore text, as docker's ignorefile.ReadAll gives
 * them: comments and blank lines dropped, each cleaned, `!` kept in front.
 */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  // a final newline does not start another line
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (pattern === '') return;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  });
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** One compiled pattern. */
export interface Pattern {
  /** The cleaned pattern, without its `!`. */
  readonly text: string;
  /** A `!` pattern: re-includes what it matches. */
  readonly exclusion: boolean;
  match(path: string): boolean;
}

/** Characters that mean something to a regular expression but not to a glob. */
const REGEXP_ONLY = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(text: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        const start = i;
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          // `**` at the end: everything below
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (start === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (REGEXP_ONLY.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        re += chars[++i]!.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  let regexp: RegExp | undefined;
  if (type === 'regexp') {
    try {
      regexp = new RegExp(re + '$');
    } catch {
      throw new Error('syntax error in pattern');
    }
  }
  const match = (path: string): boolean => {
    switch (type) {
      case 'exact':
        return path === text;
      case 'prefix':
        return path.startsWith(text.slice(0, -2));
      case 'suffix': {
        const suffix = text.slice(2);
        if (path.endsWith(suffix)) return true;
        // `**/foo` matches `foo`
        return suffix.startsWith('/') && path === suffix.slice(1);
      }
      case 'regexp':
        return regexp!.test(path);
    }
  };
  return { text, exclusion, match };
}

/** Checks a pattern's syntax the way Go's filepath.Match does: classes must close and hold ranges, `\` must escape something. */
function checkSyntax(p: string): void {
  const bad = () => new Error('syntax error in pattern');
  const chars = [...p];
  let i = 0;
  // one class member (getEsc): not `-` or `]`, an escape must have a character, something must follow
  const esc = (): string => {
    let c = chars[i];
    if (c === undefined || c === '-' || c === ']') throw bad();
    if (c === '\\') {
      i++;
      c = chars[i];
      if (c === undefined) throw bad();
    }
    i++;
    if (i >= chars.length) throw bad();
    return c;
  };
  while (i < chars.length) {
    const c = chars[i++];
    if (c === '\\') {
      if (i >= chars.length) throw bad();
      i++;
    } else if (c === '[') {
      if (chars[i] === '^') i++;
      for (let n = 0; ; n++) {
        if (chars[i] === ']' && n > 0) {
          i++;
          break;
        }
        esc();
        if (chars[i] === '-') {
          i++;
          esc();
        }
      }
    }
  }
}

/** A list of patterns, matched as docker's PatternMatcher does. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Whether any pattern is a `!` exception. */
  readonly exclusions: boolean;

  /** Throws on a bad pattern (`illegal exclusion pattern: "!"`, `syntax error in pattern`). */
  constructor(patterns: readonly string[]) {
    const out: Pattern[] = [];
    let exclusions = false;
    for (let p of patterns) {
      p = p.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      checkSyntax(p);
      out.push(compile(p, exclusion));
    }
    this.patterns = out;
    this.exclusions = exclusions;
  }

  /**
   * Whether `path` (slash-separated, relative to the context) is left out:
   * the last pattern matching it or one of its parent directories decides.
   * The context root itself is never left out.
   */
  matches(path: string): boolean {
    const file = cleanPath(path);
    if (file === '.') return false;
    const slash = file.lastIndexOf('/');
    const parents = slash < 0 ? [] : file.slice(0, slash).split('/');
    let matched = false;
    for (const pat of this.patterns) {
      // an inclusion cannot change a match, an exclusion cannot change a non-match
      if (pat.exclusion !== matched) continue;
      let hit = pat.match(file);
      for (let i = 0; !hit && i < parents.length; i++) hit = pat.match(parents.slice(0, i + 1).join('/'));
      if (hit) matched = !pat.exclusion;
    }
    return matched;
  }

  /**
   * For a directory that is left out: whether it must still be walked
   * because an exception names something inside it (docker checks the
   * exception's text, so wildcard exceptions do not reach into it).
   */
  mayReinclude(dir: string): boolean {
    if (!this.exclusions) return false;
    const prefix = cleanPath(dir) + '/';
    return this.patterns.some((p) => p.exclusion && (p.text + '/').startsWith(prefix));
  }
}

/**
 * The patterns of a .dockerignore text, compiled for the daemon: like
 * docker's daemon, which ignores the matcher's errors there, a file with a
 * bad pattern leaves everything in (the CLI reports it before sending).
 */
export function parseDockerignore(text: string): PatternMatcher {
  try {
    return new PatternMatcher(readIgnoreFile(text));
  } catch {
    return new PatternMatcher([]);
  }
}

/** Whether the context path (slash-separated, relative) is left out. */
export function ignored(patterns: PatternMatcher, path: string): boolean {
  return patterns.matches(path);
}
