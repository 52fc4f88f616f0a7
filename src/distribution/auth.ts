/**
 * Registry authentication: reading `WWW-Authenticate` challenges (RFC 7235),
 * and the token flow of the distribution spec — a Bearer challenge names a
 * token server (realm) and service; the client asks it for a token per scope
 * (`repository:team/app:pull,push`), anonymously or with credentials, and
 * sends it as `Authorization: Bearer`. A Basic challenge takes the
 * credentials directly.
 */
import type { RegistryAuth } from '../core/distribution.js';
import { unauthorized } from '../lib/errors.js';

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;

/**
 * Parses one or more `WWW-Authenticate` header values into challenges:
 * `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`.
 * Malformed parts end the challenge they are in; what parsed is kept.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const skipSpace = () => {
      while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    };
    const token = (): string | undefined => {
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(value);
      if (!m) return undefined;
      i = TOKEN.lastIndex;
      return m[0];
    };
    while (i < value.length) {
      skipSpace();
      while (value[i] === ',') {
        i++;
        skipSpace();
      }
      const scheme = token();
      if (!scheme) break;
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      for (;;) {
        skipSpace();
        const start = i;
        const name = token();
        if (!name) break;
        skipSpace();
        if (value[i] !== '=') {
          // The next challenge's scheme, not a parameter.
          i = start;
          break;
        }
        i++;
        skipSpace();
        let v = '';
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === '\\' && i + 1 < value.length) i++;
            v += value[i++];
          }
          i++;
        } else {
          v = token() ?? '';
        }
        challenge.params[name.toLowerCase()] = v;
        skipSpace();
        if (value[i] === ',') {
          i++;
          continue;
        }
        break;
      }
    }
  }
  return out;
}

/** `repository:team/app:pull,push`: the scope a token is asked for. */
export function repositoryScope(repository: string, actions: string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export interface Token {
  token: string;
  /** Milliseconds since the epoch after which it must not be used. */
  expires: number;
  /** A refresh token the server handed out (docker's IdentityToken), when asked for one. */
  refreshToken?: string;
}

/** What asking for a token needs: how to send a request, and who asks. */
export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  auth?: RegistryAuth;
  /** Ask the server for a refresh token as well (login). */
  offline?: boolean;
  clientId: string;
}

export interface TokenResponse {
  status: number;
  body: Buffer;
}

/** Sends one request to a token server; the transport is the caller's. */
export type TokenFetch = (
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string>,
  body?: Buffer,
) => Promise<TokenResponse>;

/**
 * Asks a token server for a token. With an identity token the OAuth2
 * refresh-token grant is POSTed; otherwise a GET with the credentials (when
 * there are any) as Basic auth, as docker does.
 */
export async function fetchToken(req: TokenRequest, send: TokenFetch): Promise<Token> {
  let url: URL;
  try {
    url = new URL(req.realm);
  } catch {
    throw unauthorized(`invalid token realm: ${JSON.stringify(req.realm)}`);
  }
  let res: TokenResponse;
  const now = Date.now();
  if (req.auth?.identityToken) {
    const form = new URLSearchParams();
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', req.auth.identityToken);
    form.set('client_id', req.clientId);
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    if (req.offline) form.set('access_type', 'offline');
    res = await send('POST', url, { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, Buffer.from(form.toString()));
  } else {
    if (req.service) url.searchParams.set('service', req.service);
    for (const s of req.scopes) url.searchParams.append('scope', s);
    url.searchParams.set('client_id', req.clientId);
    const headers: Record<string, string> = {};
    if (req.auth?.username) {
      url.searchParams.set('account', req.auth.username);
      if (req.offline) url.searchParams.set('offline_token', 'true');
      headers['Authorization'] = basicAuth(req.auth.username, req.auth.password ?? '');
    }
    res = await send('GET', url, headers);
  }
  if (res.status < 200 || res.status >= 300) {
    throw unauthorized(tokenError(res));
  }
  let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string; refresh_token?: string };
  try {
    parsed = JSON.parse(res.body.toString('utf8')) as typeof parsed;
  } catch {
    throw unauthorized('unable to decode token response');
  }
  const token = parsed.token || parsed.access_token;
  if (!token) throw unauthorized('authorization server did not include a token in the response');
  // Tokens without a lifetime are good for 60 seconds (the spec's minimum).
  const lifetime = Math.max(parsed.expires_in ?? 60, 60) * 1000;
  const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
  const out: Token = { token, expires: (Number.isNaN(issued) ? now : Math.min(issued, now)) + lifetime - 5_000 };
  if (parsed.refresh_token) out.refreshToken = parsed.refresh_token;
  return out;
}

/** The error text of a failed token request, in the registry's words when it gave some. */
function tokenError(res: TokenResponse): string {
  const text = res.body.toString('utf8');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }>; details?: string; error?: string; error_description?: string };
    const first = body.errors?.[0];
    if (first?.code) return `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message ?? ''}`;
    if (body.details) return `unauthorized: ${body.details}`;
    if (body.error) return `unauthorized: ${body.error_description ?? body.error}`;
  } catch {
    // not JSON
  }
  if (res.status === 401) return 'unauthorized: incorrect username or password';
  return `token request failed with status: ${res.status}`;
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * Tokens by (realm, service, scopes), reused until they expire. One cache
 * lives as long as the credentials it was filled with.
 */
export class TokenCache {
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();

  async get(req: TokenRequest, send: TokenFetch): Promise<Token> {
    const key = `${req.realm}\n${req.service ?? ''}\n${[...req.scopes].sort().join(' ')}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached;
    let p = this.pending.get(key);
    if (!p) {
      p = fetchToken(req, send).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const token = await p;
    this.tokens.set(key, token);
    return token;
  }

  /** Forgets a token the registry refused. */
  drop(token: string): void {
    for (const [k, t] of this.tokens) if (t.token === token) this.tokens.delete(k);
  }
}
