/**
 * Docker's registry credentials on the wire: `X-Registry-Auth` is base64url
 * of a JSON AuthConfig (`{"username","password","auth","serveraddress",
 * "identitytoken","registrytoken"}`). Clients differ in the alphabet and
 * padding, and some send `{}` or nothing when they have no credentials, so
 * decoding is lenient: what cannot be read means anonymous.
 */
import type { RegistryAuth } from '../engine/engine.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Credentials from an AuthConfig; undefined when it carries none. */
export function toRegistryAuth(c: AuthConfig): RegistryAuth | undefined {
  const out: RegistryAuth = {};
  let { username, password } = c;
  if (!username && c.auth) {
    const plain = Buffer.from(c.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
  }
  if (username) out.username = username;
  if (password) out.password = password;
  if (c.identitytoken) out.identityToken = c.identitytoken;
  if (c.registrytoken) out.registryToken = c.registrytoken;
  return Object.keys(out).length ? out : undefined;
}

export function decodeRegistryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const b64 = value.trim().replace(/-/g, '+').replace(/_/g, '/');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const c = parsed as Record<string, unknown>;
  const str = (k: string) => (typeof c[k] === 'string' ? (c[k] as string) : undefined);
  const config: AuthConfig = {};
  for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = str(k);
    if (v !== undefined) config[k] = v;
  }
  return toRegistryAuth(config);
}

/** `X-Registry-Config` (builds): base64url of `{ server: AuthConfig }`, every registry the client has credentials for. */
export function decodeRegistryConfig(header: string | string[] | undefined): Record<string, RegistryAuth> {
  const value = Array.isArray(header) ? header[0] : header;
  const out: Record<string, RegistryAuth> = {};
  if (!value) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return out;
  }
  if (!parsed || typeof parsed !== 'object') return out;
  for (const [server, config] of Object.entries(parsed as Record<string, unknown>)) {
    if (!config || typeof config !== 'object') continue;
    const auth = toRegistryAuth(config as AuthConfig);
    if (auth) out[server] = auth;
  }
  return out;
}
