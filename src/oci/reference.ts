/**
 * Docker image references (`busybox`, `localhost:5000/a/b:tag`, `x@sha256:…`),
 * parsed and normalised the way docker's reference library does, with its
 * error messages, so the API and CLI reject exactly what docker rejects.
 *
 * Grammar (the OCI distribution one):
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*
 *   component := [a-z0-9]+ ( separator [a-z0-9]+ )*, separator := "." | "_" | "__" | "-"+
 *   domain    := host [ ":" port ], host := dns labels joined by "." | "[" ipv6 "]"
 *   tag       := [\w][\w.-]{0,127}
 */
import { isDigest, type Digest } from '../lib/digest.js';
import { invalidArgument } from '../lib/errors.js';

/**
 * A parsed reference. `domain` is `docker.io` for Docker Hub names; it is ''
 * only in docker's odd corner where the first component looks like a domain
 * to the splitter but not to the grammar (`a_b.c/d` is then all path).
 */
export type Reference = { domain: string; path: string; tag?: string; digest?: Digest };

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL = 'library/';
const DEFAULT_TAG = 'latest';
const MAX_NAME = 255;

// Regular-expression pieces, written to match the grammar above. None of them
// nests an ambiguous repetition, so matching stays fast on long input.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|-+)';
const component = `${alnum}(?:${separator}${alnum})*`;
const remote = `${component}(?:/${component})*`;
const label = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${label}(?:\\.${label})*|\\[[a-fA-F0-9:]+\\])`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '\\w[\\w.-]{0,127}';
// Loose digest shape accepted by the grammar; the algorithm and hex are checked after.
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^((?:${domain}/)?${remote})(?::(${tag}))?(?:@(${digest}))?$`);
const NAME_RE = new RegExp(`^(?:(${domain})/)?(${remote})$`);
const TAG_RE = new RegExp(`^${tag}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;
// What go-digest accepts as the shape of a digest with an algorithm it does not know.
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const FORMAT = 'invalid reference format';

/**
 * Parses a name the way `docker pull NAME` does: adds `docker.io` and
 * `library/` where docker would, maps `index.docker.io` to `docker.io`,
 * keeps any tag and digest.
 */
export function parseNormalized(s: string): Reference {
  if (HEX64_RE.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [dom, rest] = splitDomain(s);
  // Docker checks case on everything before the first ':' of the remainder,
  // so the message names the path (plus whatever junk follows it).
  const colon = rest.indexOf(':');
  const remoteName = colon >= 0 ? rest.slice(0, colon) : rest;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalidArgument(`${FORMAT}: repository name (${remoteName}) must be lowercase`);
  }
  return parse(`${dom}/${rest}`);
}

/**
 * Splits off the domain: the first component is a domain only when it has a
 * '.' or ':', is `localhost`, or has an uppercase letter (path components
 * never may, so docker reads it as a host name). Otherwise it is Docker Hub.
 */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL + name];
  const first = name.slice(0, slash);
  let dom: string;
  let rest: string;
  if (first === LEGACY_DOMAIN) {
    [dom, rest] = [DEFAULT_DOMAIN, name.slice(slash + 1)];
  } else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    [dom, rest] = [first, name.slice(slash + 1)];
  } else {
    [dom, rest] = [DEFAULT_DOMAIN, name];
  }
  if (dom === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL + rest;
  return [dom, rest];
}

/** Parses a fully qualified reference string against the grammar. */
function parse(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) throw invalidArgument('repository name must be lowercase');
    throw invalidArgument(FORMAT);
  }
  const n = NAME_RE.exec(m[1]!)!;
  const ref: Reference = { domain: n[1] ?? '', path: n[2]! };
  if (ref.path.length > MAX_NAME) {
    throw invalidArgument(`repository name must not be more than ${MAX_NAME} characters`);
  }
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = checkDigest(m[3]);
  return ref;
}

/**
 * Validates the digest part in go-digest's order: algorithm, length, hex.
 * Docker also accepts sha384/sha512; Berth addresses content by sha256 only,
 * so those report as unsupported.
 */
function checkDigest(d: string): Digest {
  const i = d.indexOf(':');
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  if (alg !== 'sha256') {
    throw invalidArgument(ANY_DIGEST_RE.test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format');
  }
  if (hex.length !== 64) throw invalidArgument('invalid checksum digest length');
  if (!isDigest(d)) throw invalidArgument('invalid checksum digest format');
  return d;
}

/** True when `t` is a valid tag. */
export function isTag(t: string): boolean {
  return TAG_RE.test(t);
}

/** Sets the tag, keeping any digest (docker's WithTag). */
export function withTag(ref: Reference, t: string): Reference {
  if (!isTag(t)) throw invalidArgument('invalid tag format');
  return { ...ref, tag: t };
}

/** Sets the digest, keeping any tag (docker's WithDigest). */
export function withDigest(ref: Reference, d: string): Reference {
  if (!isDigest(d)) throw invalidArgument('invalid digest format');
  return { ...ref, digest: d };
}

/** The repository alone, without tag or digest. */
export function nameOnly(ref: Reference): Reference {
  return { domain: ref.domain, path: ref.path };
}

/** Adds `latest` when the reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox`; the repository only. */
export function fullName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** `docker.io/library/busybox:latest@sha256:…`; the parts present. */
export function fullString(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/** `busybox`, `foo/bar`, `localhost:5000/x`: Docker Hub's domain and `library/` dropped. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const rest = ref.path.startsWith(OFFICIAL) ? ref.path.slice(OFFICIAL.length) : ref.path;
  // `library/a/b` keeps its prefix: without it the name would mean `a/b`.
  return rest.includes('/') ? ref.path : rest;
}

/** `busybox:latest`, `foo/bar:1@sha256:…`: how docker prints a reference. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The entry docker lists in RepoTags (`busybox:latest`), or undefined when untagged. */
export function repoTag(ref: Reference): string | undefined {
  return ref.tag === undefined ? undefined : `${familiarName(ref)}:${ref.tag}`;
}

/** The entry docker lists in RepoDigests (`busybox@sha256:…`), or undefined without a digest. */
export function repoDigest(ref: Reference): string | undefined {
  return ref.digest === undefined ? undefined : `${familiarName(ref)}@${ref.digest}`;
}

/**
 * The API's image name + `tag` pair as POST /images/create (pull) reads it.
 * `tag` may be empty; `repo` may carry its own tag or digest; a `tag` that is
 * a digest replaces the repo's tag and digest, a plain tag replaces the tag.
 * A trailing ':' on repo is dropped (old `pull -a` clients send one). No
 * default tag is added: the caller decides (`withDefaultTag`).
 */
export function parseTagArgs(repo: string, tag = ''): Reference {
  const ref = parseNormalized(repo.endsWith(':') ? repo.slice(0, -1) : repo);
  if (tag === '') return ref;
  if (isDigest(tag)) return { ...nameOnly(ref), digest: tag };
  return withTag(ref, tag);
}

/**
 * The stricter `repo` + `tag` pair of POST /images/{name}/tag, /commit and
 * import: undefined when repo is empty (nothing to tag), a digest is refused,
 * and the result always has a tag (`latest` by default).
 */
export function parseRepoTag(repo: string, tag = ''): Reference | undefined {
  if (repo === '') return undefined;
  const ref = parseNormalized(repo);
  if (ref.digest !== undefined) throw invalidArgument('cannot import digest reference');
  return tag === '' ? withDefaultTag(ref) : withTag(ref, tag);
}

/**
 * `docker images --filter reference=PATTERN` (and `docker images PATTERN`).
 * The pattern is a path.Match glob: `*` and `?` stop at '/', `[...]` classes
 * (`^` negates), `\` escapes. It is tried against the familiar and the full
 * forms of the name, bare and with the tag (and digest), so `busybox`,
 * `busybox:*`, `docker.io/library/busybox:lat*` and a star before `/foo` all
 * work, and a pattern without a tag matches every tag. A malformed pattern is an error,
 * as in docker.
 */
export function matchesReference(pattern: string, ref: Reference): boolean {
  const glob = compileGlob(pattern);
  const names = [familiarName(ref), fullName(ref)];
  for (const n of names) {
    const forms = [n];
    if (ref.tag !== undefined) forms.push(`${n}:${ref.tag}`);
    if (ref.digest !== undefined) forms.push(n + suffix(ref));
    if (forms.some((f) => glob(f))) return true;
  }
  return false;
}

type Token =
  | { t: 'star' }
  | { t: 'one' }
  | { t: 'char'; c: string }
  | { t: 'class'; neg: boolean; ranges: Array<[string, string]> };

/** Compiles a path.Match pattern, throwing docker's error when it is malformed. */
function compileGlob(pattern: string): (s: string) => boolean {
  const bad = () => invalidArgument('syntax error in pattern');
  const p = Array.from(pattern);
  const toks: Token[] = [];
  let i = 0;
  // One class endpoint: a char other than '-' or ']', or an escaped char.
  const endpoint = (): string => {
    let c = p[i];
    if (c === undefined || c === '-' || c === ']') throw bad();
    if (c === '\\') {
      c = p[++i];
      if (c === undefined) throw bad();
    }
    i++;
    return c;
  };
  while (i < p.length) {
    const c = p[i]!;
    if (c === '*') {
      toks.push({ t: 'star' });
      i++;
    } else if (c === '?') {
      toks.push({ t: 'one' });
      i++;
    } else if (c === '\\') {
      const e = p[i + 1];
      if (e === undefined) throw bad();
      toks.push({ t: 'char', c: e });
      i += 2;
    } else if (c === '[') {
      i++;
      const neg = p[i] === '^';
      if (neg) i++;
      const ranges: Array<[string, string]> = [];
      for (;;) {
        if (p[i] === ']' && ranges.length > 0) {
          i++;
          break;
        }
        const lo = endpoint();
        let hi = lo;
        if (p[i] === '-') {
          i++;
          hi = endpoint();
        }
        ranges.push([lo, hi]);
      }
      toks.push({ t: 'class', neg, ranges });
    } else {
      toks.push({ t: 'char', c });
      i++;
    }
  }
  return (s) => globMatch(toks, Array.from(s));
}

/** Dynamic programming over (token, char): linear in pattern × subject. */
function globMatch(toks: Token[], s: string[]): boolean {
  // ok[j]: the tokens seen so far match s[0..j).
  let ok = s.map(() => false).concat(false);
  ok[0] = true;
  for (const tok of toks) {
    const next = ok.map(() => false);
    if (tok.t === 'star') {
      for (let j = 0; j <= s.length; j++) {
        next[j] = ok[j]! || (j > 0 && next[j - 1]! && s[j - 1] !== '/');
      }
    } else {
      for (let j = 1; j <= s.length; j++) next[j] = ok[j - 1]! && single(tok, s[j - 1]!);
    }
    ok = next;
  }
  return ok[s.length]!;
}

function single(tok: Exclude<Token, { t: 'star' }>, c: string): boolean {
  switch (tok.t) {
    case 'one':
      return c !== '/';
    case 'char':
      return c === tok.c;
    case 'class': {
      const cp = c.codePointAt(0)!;
      const hit = tok.ranges.some(([lo, hi]) => lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!);
      return hit !== tok.neg;
    }
  }
}

/** True for what can name an image by ID: 1–64 lowercase hex, optionally `sha256:`-prefixed. */
export function isShortIdCandidate(s: string): boolean {
  return /^(?:sha256:)?[a-f0-9]{1,64}$/.test(s);
}

/**
 * Where to look a user's image string up, in order. Docker never reports a
 * string as ambiguous: a full ID (64 hex, or `sha256:` + 64 hex) is only an
 * ID; anything else that parses as a name is tried as a name first (with
 * `latest` added when untagged), and then, if it also looks like hex, as a
 * unique ID prefix. So `abc123` is the image tagged `abc123:latest` if there
 * is one, else the image whose ID starts with abc123.
 */
export function lookupOrder(s: string): Array<'name' | 'id'> {
  if (HEX64_RE.test(s) || isDigest(s)) return ['id'];
  const order: Array<'name' | 'id'> = [];
  if (isName(s)) order.push('name');
  if (isShortIdCandidate(s)) order.push('id');
  return order;
}

function isName(s: string): boolean {
  try {
    parseNormalized(s);
    return true;
  } catch {
    return false;
  }
}
