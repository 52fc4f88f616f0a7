/**
 * Who may do what. Three modes: open; HTTP basic against an htpasswd file of
 * bcrypt hashes; and docker's token auth, where the registry answers 401
 * with a `Bearer` challenge naming the scope it needs and accepts JWTs whose
 * `access` claim covers it. With an htpasswd file, token mode also serves the
 * token endpoint itself (TokenIssuer).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import bcrypt from 'bcryptjs';
import { RegistryError } from './errors.js';
import { signJwt, verifyJwt, type Claims, type TokenKey } from './jwt.js';

/** One resource and the actions a request needs on it, e.g. repository `a/b`, [pull, push]. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface Grant {
  /** The authenticated user, when there is one. */
  user?: string;
  /** Whether the credentials also allow `access` (cross-repository mounts check the source this way). */
  can(access: Access): boolean;
}

export interface Authorizer {
  /** Resolves when the request's credentials allow every access in `needed`; UNAUTHORIZED with a challenge otherwise. */
  authorize(headers: IncomingHttpHeaders, needed: Access[]): Promise<Grant>;
}

export function scopeString(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

/** Parses `type:name:actions` (the name may itself hold colons). */
export function parseScope(s: string): Access | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = s.slice(last + 1).split(',').filter((a) => a !== '');
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions };
}

export const openAccess: Authorizer = {
  authorize: async () => ({ can: () => true }),
};

/** Reads `Authorization: Basic`; undefined when absent or malformed. */
export function basicCredentials(headers: IncomingHttpHeaders): { user: string; password: string } | undefined {
  const h = headers.authorization;
  if (!h || !/^basic\s/i.test(h)) return undefined;
  const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Users and bcrypt hashes of an htpasswd file; other hash kinds are refused, as docker's registry does. */
export class Htpasswd {
  /** Outcomes of recent checks, keyed by a hash of user, password and stored hash: bcrypt is slow by design. */
  private readonly checked = new Map<string, boolean>();

  constructor(private readonly users: Map<string, string>) {}

  static parse(text: string): Htpasswd {
    const users = new Map<string, string>();
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const hash = line.slice(colon + 1);
      if (/^\$2[aby]\$\d\d\$/.test(hash)) users.set(line.slice(0, colon), hash);
    }
    return new Htpasswd(users);
  }

  static async load(path: string): Promise<Htpasswd> {
    return Htpasswd.parse(await fs.readFile(path, 'utf8'));
  }

  get size(): number {
    return this.users.size;
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash === undefined) {
      // the same work for unknown users, so that timing does not tell who exists
      await bcrypt.compare(password, '$2b$10$' + 'x'.repeat(53)).catch(() => false);
      return false;
    }
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    const known = this.checked.get(key);
    if (known !== undefined) return known;
    const ok = await bcrypt.compare(password, hash);
    if (this.checked.size > 1000) this.checked.clear();
    this.checked.set(key, ok);
    return ok;
  }
}

function unauthorized(message: string, challenge: string, detail?: unknown): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': challenge }, ...(detail === undefined ? {} : { detail }) });
}

export class BasicAuth implements Authorizer {
  constructor(
    private readonly htpasswd: Htpasswd,
    private readonly realm = 'Berth Registry',
  ) {}

  async authorize(headers: IncomingHttpHeaders): Promise<Grant> {
    const creds = basicCredentials(headers);
    if (!creds || !(await this.htpasswd.verify(creds.user, creds.password))) {
      throw unauthorized('authentication required', `Basic realm=${JSON.stringify(this.realm)}`);
    }
    return { user: creds.user, can: () => true };
  }
}

export interface TokenOptions {
  /** The token service's URL; a bare path is completed with the request's Host (and https when `tls`). */
  realm: string;
  tls?: boolean;
  service: string;
  issuer: string;
  /** Keys whose signatures are trusted. */
  keys: TokenKey[];
}

function covers(claims: Claims, a: Access): boolean {
  return a.actions.every((act) =>
    (claims.access ?? []).some((g) => g.type === a.type && g.name === a.name && Array.isArray(g.actions) && (g.actions.includes(act) || g.actions.includes('*'))),
  );
}

export class TokenAuth implements Authorizer {
  constructor(private readonly opts: TokenOptions) {}

  private challenge(headers: IncomingHttpHeaders, needed: Access[], error?: string): string {
    let realm = this.opts.realm;
    if (realm.startsWith('/')) realm = `${this.opts.tls ? 'https' : 'http'}://${headers.host ?? 'localhost'}${realm}`;
    let c = `Bearer realm=${JSON.stringify(realm)},service=${JSON.stringify(this.opts.service)}`;
    if (needed.length > 0) c += `,scope=${JSON.stringify(needed.map(scopeString).join(' '))}`;
    if (error) c += `,error=${JSON.stringify(error)}`;
    return c;
  }

  async authorize(headers: IncomingHttpHeaders, needed: Access[]): Promise<Grant> {
    const h = headers.authorization;
    if (!h || !/^bearer\s/i.test(h)) throw unauthorized('authentication required', this.challenge(headers, needed));
    let claims: Claims;
    try {
      claims = verifyJwt(h.slice(7).trim(), this.opts.keys);
    } catch (err) {
      throw unauthorized((err as Error).message, this.challenge(headers, needed, 'invalid_token'));
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== this.opts.issuer || !aud.includes(this.opts.service)) {
      throw unauthorized('token not issued for this registry', this.challenge(headers, needed, 'invalid_token'));
    }
    const missing = needed.filter((a) => !covers(claims, a));
    if (missing.length > 0) {
      throw unauthorized('insufficient scope', this.challenge(headers, needed, 'insufficient_scope'), missing.map((a) => ({ Type: a.type, Name: a.name, Action: a.actions.join(',') })));
    }
    const grant: Grant = { can: (a) => covers(claims, a) };
    if (claims.sub) grant.user = claims.sub;
    return grant;
  }
}

export interface TokenReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const GRANTABLE: Record<string, string[]> = {
  repository: ['pull', 'push', 'delete', '*'],
  registry: ['*'],
};

/**
 * The token endpoint: `GET realm?service=S&scope=repository:name:pull,push`
 * with basic credentials checked against the htpasswd file. An
 * authenticated user is granted the requested actions the registry knows.
 */
export class TokenIssuer {
  constructor(
    private readonly htpasswd: Htpasswd,
    private readonly opts: { issuer: string; service: string; key: TokenKey; ttlSeconds?: number },
  ) {}

  async handle(headers: IncomingHttpHeaders, query: URLSearchParams): Promise<TokenReply> {
    const json = { 'Content-Type': 'application/json' };
    const creds = basicCredentials(headers);
    if (!creds || !(await this.htpasswd.verify(creds.user, creds.password))) {
      return {
        status: 401,
        headers: { ...json, 'WWW-Authenticate': 'Basic realm="Berth Registry Token Service"' },
        body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      };
    }
    const access: Access[] = [];
    for (const raw of query.getAll('scope').flatMap((s) => s.split(' '))) {
      const a = parseScope(raw);
      const allowed = a && GRANTABLE[a.type];
      if (!a || !allowed) continue;
      const actions = a.actions.filter((x) => allowed.includes(x));
      if (actions.length > 0) access.push({ type: a.type, name: a.name, actions: [...new Set(actions)] });
    }
    const now = Math.floor(Date.now() / 1000);
    const ttl = this.opts.ttlSeconds ?? 300;
    const token = signJwt(this.opts.key, {
      iss: this.opts.issuer,
      sub: creds.user,
      aud: this.opts.service,
      exp: now + ttl,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    });
    return {
      status: 200,
      headers: json,
      body: JSON.stringify({ token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() }),
    };
  }
}
