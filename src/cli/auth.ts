/**
 * Registry credentials the way the docker CLI keeps them: `auths` in
 * config.json, keyed by registry host (Docker Hub under
 * `https://index.docker.io/v1/`), each `auth` the base64 of `user:password`
 * (plus an `identitytoken` when the registry handed one out). Pull, push and
 * run send the matching entry as `X-Registry-Auth`, base64url JSON.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fsutil.js';
import type { CLI } from './cli.js';

export const INDEX_SERVER = 'https://index.docker.io/v1/';

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
}

interface StoredAuth {
  auth?: string;
  identitytoken?: string;
  [k: string]: unknown;
}

/** docker's ConvertToHostname: `https://host:5000/v2/` → `host:5000`. */
export function convertToHostname(address: string): string {
  return address.replace(/^https?:\/\//, '').split('/')[0]!;
}

/** The config.json key for a registry as references name it (`docker.io`, `127.0.0.1:5000`). */
export function authKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === INDEX_SERVER ? INDEX_SERVER : convertToHostname(registry);
}

function configPath(cli: CLI): string {
  return join(cli.globals.config, 'config.json');
}

function readConfigFile(cli: CLI): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(configPath(cli), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The stored credentials for a registry (matched by host, whatever scheme the key was stored with). */
export function storedAuth(cli: CLI, registry: string): AuthConfig | undefined {
  const auths = (readConfigFile(cli)['auths'] ?? {}) as Record<string, StoredAuth>;
  const key = authKey(registry);
  let entry = auths[key];
  if (!entry) {
    for (const [k, v] of Object.entries(auths)) if (authKey(k) === key) entry = v;
  }
  if (!entry) return undefined;
  const out: AuthConfig = { serveraddress: key };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i >= 0) {
      out.username = plain.slice(0, i);
      out.password = plain.slice(i + 1);
    }
  }
  if (entry.identitytoken) {
    out.identitytoken = entry.identitytoken;
    delete out.password;
  }
  return out;
}

/** The `X-Registry-Auth` value for a registry: its stored credentials, or `{}`. */
export function registryAuthHeader(cli: CLI, registry: string): string {
  const a = storedAuth(cli, registry);
  return encodeAuth(a ?? {});
}

export function encodeAuth(a: AuthConfig): string {
  return Buffer.from(JSON.stringify(a)).toString('base64url');
}

/** Writes config.json the way docker does (tab-indented, 0600), keeping every other field. */
async function writeConfigFile(cli: CLI, cfg: Record<string, unknown>): Promise<void> {
  mkdirSync(cli.globals.config, { recursive: true, mode: 0o700 });
  await writeFileAtomic(configPath(cli), JSON.stringify(cfg, null, '\t'), 0o600);
}

export async function saveAuth(cli: CLI, key: string, a: AuthConfig): Promise<void> {
  const cfg = readConfigFile(cli);
  const auths = ((cfg['auths'] as Record<string, StoredAuth> | undefined) ?? {}) as Record<string, StoredAuth>;
  const entry: StoredAuth = { auth: Buffer.from(`${a.username ?? ''}:${a.identitytoken ? '' : (a.password ?? '')}`).toString('base64') };
  if (a.identitytoken) entry.identitytoken = a.identitytoken;
  auths[key] = entry;
  cfg['auths'] = auths;
  await writeConfigFile(cli, cfg);
}

/** Removes a registry's credentials; false when there were none. */
export async function removeAuth(cli: CLI, key: string): Promise<boolean> {
  const cfg = readConfigFile(cli);
  const auths = (cfg['auths'] as Record<string, StoredAuth> | undefined) ?? {};
  let found = false;
  for (const k of Object.keys(auths)) {
    if (k === key || authKey(k) === authKey(key)) {
      delete auths[k];
      found = true;
    }
  }
  if (!found) return false;
  cfg['auths'] = auths;
  await writeConfigFile(cli, cfg);
  return true;
}

export function configFileShown(cli: CLI): string {
  return configPath(cli);
}
