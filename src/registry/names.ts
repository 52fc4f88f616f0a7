/** Repository names, tags and digests as the distribution spec allows them in URLs. */
import { isDigest, type Digest } from '../lib/digest.js';
import { regError } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_SHAPE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Names longer than this are refused, as docker's distribution does. */
const NAME_MAX = 255;

export function isName(s: string): boolean {
  return s.length <= NAME_MAX && NAME_RE.test(s);
}

export function checkName(s: string): string {
  if (!isName(s)) throw regError('NAME_INVALID', 'invalid repository name', { name: s });
  return s;
}

export function isTagName(s: string): boolean {
  return TAG_RE.test(s);
}

/** A digest the server can verify (sha256); other well-formed algorithms are unsupported, malformed ones invalid. */
export function checkDigest(s: string): Digest {
  if (isDigest(s)) return s;
  if (DIGEST_SHAPE.test(s) && !s.startsWith('sha256:')) {
    throw regError('DIGEST_INVALID', `unsupported digest algorithm: ${s.slice(0, s.indexOf(':'))}`, { digest: s });
  }
  throw regError('DIGEST_INVALID', 'invalid digest', { digest: s });
}

/** A manifest reference is a digest when it has the digest shape, a tag otherwise. */
export function isDigestRef(ref: string): boolean {
  return ref.includes(':');
}
