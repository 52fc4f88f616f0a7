/**
 * JSON Web Tokens as docker's token auth uses them: compact JWS signed with
 * ES256 (P-256) or RS256, the key named by a libtrust-style `kid`, made and
 * checked with node:crypto alone.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';

export type Alg = 'ES256' | 'RS256';

export interface TokenKey {
  alg: Alg;
  kid: string;
  public: KeyObject;
  /** Present when this process may sign with the key. */
  private?: KeyObject;
}

export interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  access?: Array<{ type: string; name: string; actions: string[] }>;
  [k: string]: unknown;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function algOf(k: KeyObject): Alg {
  if (k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (k.asymmetricKeyType === 'rsa') return 'RS256';
  throw new Error(`token keys must be EC P-256 or RSA, not ${k.asymmetricKeyType} ${k.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
}

/** The key ID docker's libtrust derives: the first 240 bits of sha256(SPKI DER), base32, in groups of four. */
export function keyId(pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  const sum = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of sum) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** A key from PEM text: a private key (signs and verifies), a public key or a certificate (verifies only). */
export function keyFromPem(pem: string): TokenKey {
  if (pem.includes('PRIVATE KEY')) {
    const priv = createPrivateKey(pem);
    const pub = createPublicKey(priv);
    return { alg: algOf(pub), kid: keyId(pub), public: pub, private: priv };
  }
  const pub = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  return { alg: algOf(pub), kid: keyId(pub), public: pub };
}

/** A fresh P-256 key that lives as long as this process. */
export function generateKey(): TokenKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { alg: 'ES256', kid: keyId(publicKey), public: publicKey, private: privateKey };
}

export function signJwt(key: TokenKey, claims: Claims): string {
  if (!key.private) throw new Error('token key has no private part');
  const input = `${b64url(JSON.stringify({ typ: 'JWT', alg: key.alg, kid: key.kid }))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), key.alg === 'ES256' ? { key: key.private, dsaEncoding: 'ieee-p1363' } : key.private);
  return `${input}.${b64url(sig)}`;
}

/**
 * The claims of a token signed by one of `keys` (chosen by `kid`, else
 * tried in turn) whose algorithm matches the key. Time claims are checked
 * here with a minute of leeway; issuer and audience are the caller's.
 */
export function verifyJwt(token: string, keys: TokenKey[], now = Date.now() / 1000): Claims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token');
  let header: { alg?: string; kid?: string };
  let claims: Claims;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
  } catch {
    throw new Error('malformed token');
  }
  if (!claims || typeof claims !== 'object') throw new Error('malformed token');
  const candidates = keys.filter((k) => k.alg === header.alg && (header.kid === undefined || k.kid === header.kid));
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  const ok = candidates.some((k) => verify('sha256', input, k.alg === 'ES256' ? { key: k.public, dsaEncoding: 'ieee-p1363' } : k.public, sig));
  if (!ok) throw new Error('invalid token signature');
  const leeway = 60;
  if (typeof claims.exp === 'number' && now > claims.exp + leeway) throw new Error('token expired');
  if (typeof claims.nbf === 'number' && now < claims.nbf - leeway) throw new Error('token not yet valid');
  return claims;
}
