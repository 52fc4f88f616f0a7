/**
 * Registry commands: pull, push, login, logout, with docker 28's flags,
 * messages and output. Credentials live in the client's config.json; pull
 * and push send the registry's entry as `X-Registry-Auth`.
 */
import { familiarString, fullName, fullString, parseNormalized, withDefaultTag, type Reference } from '../../client/index.js';
import { authKey, configFileShown, convertToHostname, INDEX_SERVER, registryAuthHeader, removeAuth, saveAuth, storedAuth, type AuthConfig } from '../auth.js';
import { PROG, StatusError, type CLI, type Output } from '../cli.js';
import { exactArgs, maxArgs, type CommandDef, type RunContext } from '../command.js';
import { displayJSONMessages, displayOptions } from '../jsonmessage.js';
import { readLine } from '../prompt.js';

const CONTENT_TRUST = { name: 'disable-content-trust', type: 'bool' as const, default: true, usage: 'Skip image verification' };

function discard(): Output {
  return { write: () => undefined, isTTY: false, broken: false, stream: { columns: 0 } } as unknown as Output;
}

function parseRef(s: string): Reference {
  try {
    return parseNormalized(s);
  } catch (e) {
    throw new StatusError((e as Error).message, 1);
  }
}

// ───────────────────────────── pull ─────────────────────────────

async function runPull(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const all = flags['all-tags'] as boolean;
  const quiet = flags['quiet'] as boolean;
  let ref = parseRef(args[0]!);
  if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw new StatusError('tag can\'t be used with --all-tags/-a', 1);
  if (!all && ref.tag === undefined && ref.digest === undefined) {
    ref = withDefaultTag(ref);
    if (!quiet) cli.out.write(`Using default tag: ${ref.tag}\n`);
  }
  const platform = flags['platform'] as string;
  const body = await cli.client().imagePull(fullString(ref), {
    registryAuth: registryAuthHeader(cli, ref.domain),
    ...(platform ? { platform } : {}),
    ...(all ? { all: true } : {}),
  });
  await displayJSONMessages(body, quiet ? discard() : cli.out, displayOptions(cli));
  cli.out.write(`${all ? fullName(ref) : fullString(ref)}\n`);
}

function pullDef(top?: number): CommandDef {
  const d: CommandDef = {
    name: 'pull',
    use: '[OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    aliasesLine: `${PROG} image pull, ${PROG} pull`,
    args: exactArgs(1),
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', usage: 'Download all tagged images in the repository' },
      CONTENT_TRUST,
      { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
    ],
    run: runPull,
  };
  if (top !== undefined) d.top = top;
  return d;
}

// ───────────────────────────── push ─────────────────────────────

async function runPush(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const all = flags['all-tags'] as boolean;
  const quiet = flags['quiet'] as boolean;
  let ref = parseRef(args[0]!);
  if (all && ref.tag !== undefined) throw new StatusError('tag can\'t be used with --all-tags/-a', 1);
  if (ref.digest !== undefined) throw new StatusError('cannot push a digest reference', 1);
  if (!all && ref.tag === undefined) {
    ref = withDefaultTag(ref);
    if (!quiet) cli.out.write(`Using default tag: ${ref.tag}\n`);
  }
  const body = await cli.client().imagePush(familiarString(ref), { registryAuth: registryAuthHeader(cli, ref.domain), ...(all ? { all: true } : {}) });
  await displayJSONMessages(body, quiet ? discard() : cli.out, displayOptions(cli));
  if (quiet) cli.out.write(`${fullString(ref)}\n`);
}

function pushDef(top?: number): CommandDef {
  const d: CommandDef = {
    name: 'push',
    use: '[OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    aliasesLine: `${PROG} image push, ${PROG} push`,
    args: exactArgs(1),
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push all tags of an image to the repository' },
      CONTENT_TRUST,
      { name: 'platform', type: 'string', usage: 'Push a platform-specific manifest as a single-platform image to the registry.' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
    ],
    run: runPush,
  };
  if (top !== undefined) d.top = top;
  return d;
}

// ───────────────────────────── login / logout ─────────────────────────────

const PLAIN_TEXT_WARNING = (path: string) =>
  `WARNING! Your credentials are stored unencrypted in '${path}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

async function prompt(cli: CLI, text: string): Promise<string> {
  cli.out.write(text);
  return ((await readLine(cli.in.stream)) ?? '').trim();
}

/** Reads a password from a terminal without echoing it. */
async function promptPassword(cli: CLI): Promise<string> {
  cli.out.write('Password: ');
  const stdin = cli.in.stream as NodeJS.ReadStream;
  if (typeof stdin.setRawMode !== 'function') return ((await readLine(stdin)) ?? '').trim();
  stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let pw = '';
      const finish = () => {
        stdin.off('data', onData);
        stdin.pause();
      };
      const onData = (b: Buffer) => {
        for (const ch of b.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            finish();
            return resolve(pw);
          }
          if (ch === '\u0003') {
            finish();
            return reject(new StatusError('', 130));
          }
          pw = ch === '\u007f' ? pw.slice(0, -1) : pw + ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode(false);
    cli.out.write('\n');
  }
}

async function runLogin(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  let username = (flags['username'] as string).trim();
  let password = flags['password'] as string;
  const fromStdin = flags['password-stdin'] as boolean;
  if (password !== '') {
    cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (fromStdin) throw new StatusError('--password and --password-stdin are mutually exclusive', 1);
  }
  if (fromStdin) {
    if (username === '') throw new StatusError('Must provide --username with --password-stdin', 1);
    const chunks: Buffer[] = [];
    for await (const c of cli.in.stream) chunks.push(Buffer.from(c as Buffer));
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const server = args[0] ?? INDEX_SERVER;
  const key = authKey(server);
  let auth: AuthConfig;
  if (username === '' && password === '') {
    const stored = storedAuth(cli, server);
    if (stored?.username || stored?.identitytoken) {
      try {
        await cli.client().registryLogin({ ...stored, serveraddress: key });
        cli.out.write('Login Succeeded\n');
        return;
      } catch {
        // stored credentials no longer work: ask again
      }
    }
    if (!cli.in.isTTY) throw new StatusError('Error: Cannot perform an interactive login from a non TTY device', 1);
    username = await prompt(cli, stored?.username ? `Username (${stored.username}): ` : 'Username: ');
    if (username === '' && stored?.username) username = stored.username;
    if (username === '') throw new StatusError('Error: Non-null Username Required', 1);
    password = await promptPassword(cli);
    if (password === '') throw new StatusError('Error: Password Required', 1);
  } else if (password === '') {
    if (!cli.in.isTTY) throw new StatusError('Error: Cannot perform an interactive login from a non TTY device', 1);
    password = await promptPassword(cli);
    if (password === '') throw new StatusError('Error: Password Required', 1);
  }
  auth = { username, password, serveraddress: key };
  const res = await cli.client().registryLogin(auth);
  if (res.IdentityToken) auth = { username, identitytoken: res.IdentityToken, serveraddress: key };
  await saveAuth(cli, key, auth);
  cli.err.write(PLAIN_TEXT_WARNING(configFileShown(cli)));
  cli.out.write(`${res.Status || 'Login Succeeded'}\n`);
}

function loginDef(top?: number): CommandDef {
  const d: CommandDef = {
    name: 'login',
    use: '[OPTIONS] [SERVER]',
    short: 'Authenticate to a registry',
    long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
    args: maxArgs(1),
    flags: [
      { name: 'password', short: 'p', type: 'string', usage: 'Password or Personal Access Token (PAT)' },
      { name: 'password-stdin', type: 'bool', usage: 'Take the Password or Personal Access Token (PAT) from stdin' },
      { name: 'username', short: 'u', type: 'string', usage: 'Username' },
    ],
    run: runLogin,
  };
  if (top !== undefined) d.top = top;
  return d;
}

async function runLogout(ctx: RunContext): Promise<void> {
  const { cli, args } = ctx;
  const server = args[0] ?? INDEX_SERVER;
  const key = server === INDEX_SERVER ? INDEX_SERVER : authKey(convertToHostname(server));
  cli.out.write(`Removing login credentials for ${key}\n`);
  await removeAuth(cli, key);
}

function logoutDef(top?: number): CommandDef {
  const d: CommandDef = {
    name: 'logout',
    use: '[SERVER]',
    short: 'Log out from a registry',
    long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
    args: maxArgs(1),
    run: runLogout,
  };
  if (top !== undefined) d.top = top;
  return d;
}

/** `image pull`, `image push` (no `top`: those positions belong to the root's shortcuts). */
export function imageRegistryCommands(): CommandDef[] {
  return [pullDef(), pushDef()];
}

export function registryCommands(): CommandDef[] {
  return [pullDef(5), pushDef(6), loginDef(8), logoutDef(9)];
}
