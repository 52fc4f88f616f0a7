/**
 * A token server for docker-registry's `auth: token` mode, run as its own
 * process (`node tokenserver.js`): it hands out RS256 JWTs carrying the x5c
 * certificate the registry trusts. Anonymous callers get pull on any
 * repository outside `private/`; the one user (TOKEN_USER=name:password) gets
 * whatever it asks for, and a refresh token when it asks offline, which the
 * OAuth2 refresh-token grant (POST) takes back.
 * Environment: TOKEN_PORT, TOKEN_KEY, TOKEN_CERT, TOKEN_ISSUER, TOKEN_SERVICE, TOKEN_USER.
 */
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

const key = readFileSync(env('TOKEN_KEY'));
const certDer = new X509Certificate(readFileSync(env('TOKEN_CERT'))).raw.toString('base64');
const issuer = env('TOKEN_ISSUER');
const service = env('TOKEN_SERVICE');
const [user, password] = env('TOKEN_USER').split(':') as [string, string];
const refreshTokens = new Set<string>();

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function jwt(sub: string, access: Array<{ type: string; name: string; actions: string[] }>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
  const claims = b64url(JSON.stringify({ iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${b64url(signer.sign(key))}`;
}

function grant(who: string | undefined, scopes: string[]) {
  const access: Array<{ type: string; name: string; actions: string[] }> = [];
  for (const s of scopes) {
    const [type, name, actions] = s.split(':');
    if (type !== 'repository' || !name || !actions) continue;
    const wanted = actions.split(',');
    const allowed = who ? wanted : name.startsWith('private/') ? [] : wanted.filter((a) => a === 'pull');
    if (allowed.length) access.push({ type, name, actions: allowed });
  }
  return access;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://token');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (url.pathname !== '/token') return reply(res, 404, { details: 'not found' });
    let who: string | undefined;
    let scopes: string[];
    let offline = false;
    if (req.method === 'POST') {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('grant_type') !== 'refresh_token' || !refreshTokens.has(form.get('refresh_token') ?? '')) {
        return reply(res, 401, { details: 'invalid refresh token' });
      }
      who = user;
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    } else {
      const auth = req.headers.authorization;
      if (auth) {
        const plain = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8');
        if (plain !== `${user}:${password}`) return reply(res, 401, { details: 'incorrect username or password' });
        who = user;
        offline = url.searchParams.get('offline_token') === 'true';
      }
      scopes = url.searchParams.getAll('scope');
    }
    const token = jwt(who ?? '', grant(who, scopes));
    const body: Record<string, unknown> = { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
    if (offline && who) {
      const r = randomBytes(16).toString('hex');
      refreshTokens.add(r);
      body['refresh_token'] = r;
    }
    reply(res, 200, body);
  });
});

server.listen(Number(env('TOKEN_PORT')), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
