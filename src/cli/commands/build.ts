/**
 * `build` with the classic builder, as the docker CLI 28 runs it with
 * DOCKER_BUILDKIT=0 (cli/command/image/build.go): the context prepared on
 * this side (a directory, a tar or Dockerfile on stdin, a URL, a git
 * repository), sent to `POST /build`, and the daemon's legacy stream shown
 * as it comes (`--progress=plain`) or as a display redrawn in place
 * (`--progress=tty`, the default on a terminal).
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { decodeJSONStream, messageError, parseNormalized, StreamError, type ImageBuildOptions, type JSONMessage } from '../../client/index.js';
import { ramInBytes } from '../../lib/units.js';
import { BuildProgress } from '../buildprogress.js';
import { PROG, StatusError, type CLI } from '../cli.js';
import { exactArgs, type CommandDef, type RunContext } from '../command.js';
import type { FlagDef, FlagValue } from '../flags.js';
import { displayJSONMessages, progressString, type Writer } from '../jsonmessage.js';
import { humanSizeWithPrecision } from '../../lib/units.js';
import {
  addDockerfileToTar,
  contextEntries,
  contextFromLocalDir,
  contextFromReader,
  countBytes,
  dockerfileRelPath,
  outsideContext,
  randomDockerfileName,
  readDockerignore,
  resolveContextDir,
  tarContext,
  trimBuildFilesFromExcludes,
} from '../util/buildcontext.js';
import { fsError } from '../util/archive.js';
import { parseUlimit, validateEnv, validateExtraHost, validateLabel, validateMemBytes, validateMemSwap, validateUlimit } from './containeropts.js';

const PROGRESS_MODES = ['auto', 'plain', 'tty'];
/** The progress reader reports every 512 KiB (and at the end). */
const PROGRESS_EVERY = 512 * 1024;

function validateTag(value: string): string {
  parseNormalized(value);
  return value;
}

export function buildFlags(env: Record<string, string | undefined>): FlagDef[] {
  return [
    { name: 'tag', short: 't', type: 'stringArray', placeholder: 'list', usage: 'Name and optionally a tag in the "name:tag" format', validate: validateTag },
    { name: 'build-arg', type: 'stringArray', placeholder: 'list', usage: 'Set build-time variables', validate: validateEnv(env) },
    { name: 'ulimit', type: 'stringArray', placeholder: 'ulimit', usage: 'Ulimit options', shownDefault: '[]', validate: validateUlimit },
    { name: 'file', short: 'f', type: 'string', usage: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', usage: 'Memory limit', validate: validateMemBytes },
    { name: 'memory-swap', type: 'string', placeholder: 'bytes', usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', validate: validateMemSwap },
    { name: 'shm-size', type: 'string', placeholder: 'bytes', usage: 'Size of "/dev/shm"', validate: validateMemBytes },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpu-period', type: 'int', usage: 'Limit the CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit the CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'cgroup-parent', type: 'string', usage: 'Set the parent cgroup for the "RUN" instructions during build' },
    { name: 'isolation', type: 'string', usage: 'Container isolation technology' },
    { name: 'label', type: 'stringArray', placeholder: 'list', usage: 'Set metadata for an image', validate: validateLabel },
    { name: 'no-cache', type: 'bool', usage: 'Do not use cache when building the image' },
    { name: 'rm', type: 'bool', default: true, usage: 'Remove intermediate containers after a successful build' },
    { name: 'force-rm', type: 'bool', usage: 'Always remove intermediate containers' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the build output and print image ID on success' },
    { name: 'pull', type: 'bool', usage: 'Always attempt to pull a newer version of the image' },
    { name: 'cache-from', type: 'stringSlice', placeholder: 'strings', usage: 'Images to consider as cache sources' },
    { name: 'compress', type: 'bool', usage: 'Compress the build context using gzip' },
    { name: 'security-opt', type: 'stringSlice', placeholder: 'strings', usage: 'Security options' },
    { name: 'network', type: 'string', default: 'default', usage: 'Set the networking mode for the RUN instructions during build' },
    { name: 'add-host', type: 'stringArray', placeholder: 'list', usage: 'Add a custom host-to-IP mapping ("host:ip")', validate: validateExtraHost },
    { name: 'target', type: 'string', usage: 'Set the target build stage to build.' },
    { name: 'iidfile', type: 'string', usage: 'Write the image ID to the file' },
    { name: 'disable-content-trust', type: 'bool', default: true, usage: 'Skip image verification' },
    { name: 'platform', type: 'string', default: env['DOCKER_DEFAULT_PLATFORM'] ?? '', usage: 'Set platform if server is multi-platform capable' },
    { name: 'squash', type: 'bool', usage: 'Squash newly built layers into a single new layer' },
    {
      name: 'progress',
      type: 'string',
      default: 'auto',
      usage: 'Set type of progress output ("auto", "plain", "tty")',
      validate: (v) => {
        if (!PROGRESS_MODES.includes(v)) throw new Error('must be one of "auto", "plain", "tty"');
        return v;
      },
    },
  ];
}

/** ConvertKVStringsToMapWithNil: `KEY` alone (not set in the environment either) is null, the ARG's default. */
export function buildArgsMap(values: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = null;
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** ConvertKVStringsToMap: `KEY` alone is an empty value. */
export function labelsMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/**
 * ParseProxyConfig: the proxies of config.json (for this daemon's host, or
 * `default`) become build args, upper and lower case, unless given.
 */
export function withProxyArgs(args: Record<string, string | null>, proxies: unknown, host: string): Record<string, string | null> {
  if (!proxies || typeof proxies !== 'object') return args;
  const all = proxies as Record<string, Record<string, string> | undefined>;
  const cfg = all[host] ?? all['default'];
  if (!cfg) return args;
  const out = { ...args };
  const fields: Record<string, string> = { HTTP_PROXY: 'httpProxy', HTTPS_PROXY: 'httpsProxy', NO_PROXY: 'noProxy', FTP_PROXY: 'ftpProxy', ALL_PROXY: 'allProxy' };
  for (const [k, field] of Object.entries(fields)) {
    const v = cfg[field];
    if (typeof v !== 'string' || v === '') continue;
    if (!(k in out)) out[k] = v;
    if (!(k.toLowerCase() in out)) out[k.toLowerCase()] = v;
  }
  return out;
}

/** The request options for the flags (imageBuildOptions). */
export function buildOptions(flags: Record<string, FlagValue>): ImageBuildOptions {
  const str = (k: string) => flags[k] as string;
  const list = (k: string) => flags[k] as string[];
  const ulimits = new Map<string, { Name: string; Hard: number; Soft: number }>();
  for (const u of list('ulimit')) {
    const p = parseUlimit(u);
    ulimits.set(p.Name, p);
  }
  const memSwap = str('memory-swap');
  return {
    memory: str('memory') ? ramInBytes(str('memory')) : 0,
    memorySwap: memSwap === '-1' ? -1 : memSwap ? ramInBytes(memSwap) : 0,
    tags: list('tag'),
    suppressOutput: flags['quiet'] as boolean,
    noCache: flags['no-cache'] as boolean,
    remove: flags['rm'] as boolean,
    forceRemove: flags['force-rm'] as boolean,
    pullParent: flags['pull'] as boolean,
    isolation: str('isolation'),
    cpuSetCpus: str('cpuset-cpus'),
    cpuSetMems: str('cpuset-mems'),
    cpuShares: flags['cpu-shares'] as number,
    cpuQuota: flags['cpu-quota'] as number,
    cpuPeriod: flags['cpu-period'] as number,
    cgroupParent: str('cgroup-parent'),
    shmSize: str('shm-size') ? ramInBytes(str('shm-size')) : 0,
    ulimits: [...ulimits.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)),
    buildArgs: buildArgsMap(list('build-arg')),
    labels: labelsMap(list('label')),
    cacheFrom: list('cache-from'),
    securityOpt: list('security-opt'),
    networkMode: str('network'),
    squash: flags['squash'] as boolean,
    extraHosts: list('add-host'),
    target: str('target'),
    platform: str('platform'),
    version: '1',
  };
}

/** Output kept in memory (`-q`): printed only when the build fails. */
class Collected {
  private readonly parts: Buffer[] = [];
  write(s: string | Buffer): void {
    this.parts.push(typeof s === 'string' ? Buffer.from(s) : s);
  }
  text(): string {
    return Buffer.concat(this.parts).toString();
  }
}

/** urlutil.IsURL */
const isURL = (s: string) => s.startsWith('http://') || s.startsWith('https://');
/** urlutil.IsGitURL */
const isGitURL = (s: string) => (isURL(s) && /\.git(?:#.+)?$/.test(s)) || ['git://', 'github.com/', 'git@'].some((p) => s.startsWith(p));

/** http.Get with redirects; a status of 400 or more is an error with the body's text. */
function httpGet(url: string, redirects = 10): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const mod = url.startsWith('https://') ? https : http;
    const req = mod.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new Error('stopped after 10 redirects'));
        return resolvePromise(httpGet(new URL(res.headers.location, url).toString(), redirects - 1));
      }
      if (status < 400) return resolvePromise(res);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const statusText = `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
        reject(new Error(`failed to GET ${url} with status ${statusText}: ${Buffer.concat(chunks).toString().trim()}`));
      });
    });
    req.on('error', reject);
  });
}

/** Runs git quietly in `cwd`; rejects with its stderr. */
function git(args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => reject(e.message.includes('ENOENT') ? new Error('unable to find \'git\': exec: "git": executable file not found in $PATH') : e));
    p.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`failed to run git ${args.join(' ')}: exit status ${code}\n${err.trim()}`))));
  });
}

/** Whether an http(s) git remote speaks the smart protocol (shallow fetches need it). */
async function smartHTTP(remote: string): Promise<boolean> {
  try {
    const res = await httpGet(`${remote.replace(/\/$/, '')}/info/refs?service=git-upload-pack`);
    res.resume();
    return res.headers['content-type'] === 'application/x-git-upload-pack-advertisement';
  } catch {
    return false;
  }
}

/**
 * git.Clone: the repository at a git URL (`URL#ref:subdir`) fetched into a
 * temporary directory; resolves with it and the directory of the context.
 */
async function cloneGitContext(gitURL: string): Promise<{ tmp: string; dir: string }> {
  let remote = gitURL;
  let fragment = '';
  const hash = remote.indexOf('#');
  if (hash >= 0) {
    fragment = remote.slice(hash + 1);
    remote = remote.slice(0, hash);
  }
  if (remote.startsWith('github.com/')) remote = 'https://' + remote;
  const colon = fragment.indexOf(':');
  const ref = colon >= 0 ? fragment.slice(0, colon) : fragment;
  const subdir = colon >= 0 ? fragment.slice(colon + 1) : '';
  const tmp = await fsp.mkdtemp(join(tmpdir(), 'docker-build-git'));
  try {
    await git(['init', '-q'], tmp);
    await git(['remote', 'add', 'origin', remote], tmp);
    const shallow = !isURL(remote) || (await smartHTTP(remote));
    await git(['fetch', '-q', ...(shallow ? ['--depth', '1'] : []), 'origin', '--', ref || 'HEAD'], tmp);
    await git(['checkout', '-q', 'FETCH_HEAD'], tmp);
    await git(['submodule', 'update', '-q', '--init', '--recursive', '--depth=1'], tmp);
    const root = await fsp.realpath(tmp);
    let dir = root;
    if (subdir !== '') {
      dir = await fsp.realpath(join(root, subdir)).catch(() => {
        throw new Error(`error setting git context, not a directory: ${subdir}`);
      });
      const rel = relative(root, dir);
      if (rel.startsWith('..')) throw new Error(`error setting git context, subdirectory ${subdir} is outside the repository`);
      if (!(await fsp.stat(dir)).isDirectory()) throw new Error(`error setting git context, not a directory: ${subdir}`);
    }
    return { tmp, dir };
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new Error(`unable to 'git clone' to temporary context directory: ${(e as Error).message}`);
  }
}

/** Reads a whole stream. */
async function readAllStream(src: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of src) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

function progressMode(cli: CLI, flags: Record<string, FlagValue>): 'plain' | 'tty' {
  const mode = flags['progress'] as string;
  if (mode === 'auto') return cli.out.isTTY ? 'tty' : 'plain';
  return mode as 'plain' | 'tty';
}

/** What is sent: the context, the Dockerfile's name in it, and a checkout to remove afterwards. */
interface PreparedContext {
  body: Readable;
  relDockerfile: string;
  tempDir: string;
}

/**
 * The context for PATH | URL | - and `-f`, as RunBuild prepares it; errors
 * come back as docker words them (mostly `unable to prepare context: …`).
 */
async function prepareContext(cli: CLI, specified: string, dockerfileName: string, progBuff: Writer, progKept: Collected | undefined): Promise<PreparedContext> {
  const dockerfileFromStdin = dockerfileName === '-';
  let body: Readable | undefined;
  let relDockerfile = '';
  let contextDir = '';
  let tempDir = '';
  let dockerfileContent: Buffer | undefined;
  try {
    const exists = await fsp.stat(specified).then(
      () => true,
      () => false,
    );
    if (specified === '-') {
      ({ body, relDockerfile } = await contextFromReader(cli.in.stream, dockerfileName));
    } else if (exists) {
      ({ dir: contextDir, relDockerfile } = await contextFromLocalDir(specified, dockerfileName));
      if (outsideContext(relDockerfile)) {
        try {
          dockerfileContent = await fsp.readFile(dockerfileName);
        } catch (e) {
          throw new StatusError(`unable to open Dockerfile: ${fsError('open', dockerfileName, e).message}`, 1);
        }
      }
    } else if (isGitURL(specified)) {
      const cloned = await cloneGitContext(specified);
      tempDir = cloned.tmp;
      contextDir = await resolveContextDir(cloned.dir);
      relDockerfile = await dockerfileRelPath(contextDir, dockerfileName);
      if (outsideContext(relDockerfile)) throw new Error(`the Dockerfile (${dockerfileName}) must be within the build context`);
    } else if (isURL(specified)) {
      ({ body, relDockerfile } = await contextFromURL(cli, specified, dockerfileName, progBuff));
    } else {
      throw new Error(`path ${JSON.stringify(specified)} not found`);
    }
  } catch (e) {
    if (tempDir !== '') await fsp.rm(tempDir, { recursive: true, force: true });
    if (e instanceof StatusError) throw e;
    if (progKept && isURL(specified)) cli.err.write(progKept.text() + '\n');
    throw new StatusError(`unable to prepare context: ${(e as Error).message}`, 1);
  }
  try {
    if (dockerfileFromStdin) dockerfileContent = await readAllStream(cli.in.stream);
    if (body !== undefined) {
      if (dockerfileContent === undefined) return { body, relDockerfile, tempDir };
      const name = randomDockerfileName();
      return { body: addDockerfileToTar(body, { name, content: dockerfileContent }), relDockerfile: name, tempDir };
    }
    let excludes: string[];
    try {
      excludes = trimBuildFilesFromExcludes(await readDockerignore(contextDir), relDockerfile, dockerfileFromStdin);
    } catch (e) {
      throw new StatusError((e as Error).message, 1);
    }
    let entries;
    try {
      entries = await contextEntries(contextDir, excludes);
    } catch (e) {
      throw new StatusError((e as Error).message, 1);
    }
    if (dockerfileContent === undefined) return { body: tarContext(entries), relDockerfile, tempDir };
    const name = randomDockerfileName();
    return { body: tarContext(entries, { dockerfile: { name, content: dockerfileContent } }), relDockerfile: name, tempDir };
  } catch (e) {
    if (tempDir !== '') await fsp.rm(tempDir, { recursive: true, force: true });
    throw e;
  }
}

/** GetContextFromURL: the download, with docker's progress lines, read as a tar or a Dockerfile. */
async function contextFromURL(cli: CLI, url: string, dockerfileName: string, progBuff: Writer): Promise<{ body: Readable; relDockerfile: string }> {
  const res = await httpGet(url).catch((e: Error) => {
    throw new Error(`unable to download remote context ${url}: ${e.message}`);
  });
  const total = Number(res.headers['content-length'] ?? -1);
  const action = `Downloading build context from remote url: ${url}`;
  const width = cli.out.isTTY ? (cli.out.stream.columns ?? 200) : 200;
  const show = (n: number, end: boolean) => {
    const p = progressString({ current: n, total: total > 0 ? total : 0 }, width);
    progBuff.write(`${action} ${p}\r${p === '' ? '\n' : ''}${end ? '\r\n' : ''}`);
  };
  let last = 0;
  const counted = res.pipe(
    countBytes(
      (n) => {
        if (n - last > PROGRESS_EVERY) {
          last = n;
          show(n, false);
        }
      },
      // Go's reader sees the data and the end of the body in one read, then the end again: two reports
      (n) => {
        show(n, false);
        show(n, true);
      },
    ),
  );
  return contextFromReader(counted, dockerfileName);
}

/**
 * Sends the context and shows the reply; resolves with the image ID the
 * daemon reported. An error in the stream becomes docker's StatusError
 * (its message, its code or 1).
 */
async function sendAndShow(cli: CLI, flags: Record<string, FlagValue>, ctx: PreparedContext, out: { prog: Writer; build: Writer; kept: () => string }): Promise<string> {
  const quiet = flags['quiet'] as boolean;
  const terminal = cli.out.isTTY;
  const display =
    !quiet && progressMode(cli, flags) === 'tty'
      ? new BuildProgress(cli.out, { width: () => cli.out.stream.columns || 80, height: () => (cli.out.stream as { rows?: number }).rows || 24 })
      : undefined;
  let body = ctx.body;
  if (flags['compress']) body = body.pipe(createGzip());

  // "Sending build context": on a terminal every 512 KiB and at the end, otherwise only at the end
  const sending = (n: number) => `Sending build context to Docker daemon ${humanSizeWithPrecision(n, 4).padStart(8)}\r`;
  let sent = -1;
  let last = 0;
  const finishSending = () => {
    if (sent < 0 || display) return;
    out.prog.write(sending(sent) + '\r\n');
    sent = -1;
  };
  const counted = body.pipe(
    countBytes(
      (n) => {
        display?.sending(n, false);
        if (terminal && !display && n - last > PROGRESS_EVERY) {
          last = n;
          out.prog.write(sending(n));
        }
      },
      (n) => {
        display?.sending(n, true);
        sent = n;
        finishSending();
      },
    ),
  );
  body.on('error', (e) => counted.destroy(e));

  const client = cli.client();
  const opts = buildOptions(flags);
  opts.dockerfile = ctx.relDockerfile;
  opts.buildArgs = withProxyArgs(opts.buildArgs ?? {}, cli.config()['proxies'], client.host);
  opts.authConfigs = authConfigs(cli.config()['auths']);

  let imageID = '';
  let response: IncomingMessage;
  try {
    response = await client.imageBuild(counted, opts);
  } catch (e) {
    display?.finish(true);
    if (quiet) cli.err.write(out.kept());
    throw e;
  }
  try {
    if (display) {
      for await (const v of decodeJSONStream(response)) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
        const m = v as JSONMessage;
        const err = messageError(m);
        if (err) throw err;
        if (m.aux !== undefined && m.aux !== null) {
          imageID = auxID(m, cli) ?? imageID;
          continue;
        }
        if (typeof m.stream === 'string') display.stream(m.stream);
        else if (typeof m.status === 'string' && !(m.progressDetail?.current || m.progressDetail?.total)) {
          // a pull inside the build (dockerd): its status lines, without the progress bars
          display.stream(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
        }
      }
      display.finish(false);
    } else {
      finishSending();
      await displayJSONMessages(response, out.build, {
        isTerminal: terminal,
        width: terminal ? (cli.out.stream.columns ?? 200) : 200,
        onAux: (m) => {
          imageID = auxID(m, cli) ?? imageID;
        },
      });
    }
  } catch (e) {
    display?.finish(true);
    if (e instanceof StreamError) {
      if (quiet) cli.err.write(out.kept());
      throw new StatusError(e.message, e.code === 0 ? 1 : e.code);
    }
    throw e;
  }
  return imageID;
}

async function runBuild(ctx: RunContext): Promise<void> {
  const { cli, flags, args } = ctx;
  const dockerfileName = flags['file'] as string;
  const iidfile = flags['iidfile'] as string;
  if (dockerfileName === '-' && args[0] === '-') throw new StatusError("invalid argument: can't use stdin for both build context and dockerfile", 1);

  // with -q the output is kept, and shown only when the build fails
  const progKept = flags['quiet'] ? new Collected() : undefined;
  const buildKept = flags['quiet'] ? new Collected() : undefined;
  const out = {
    prog: progKept ?? cli.out,
    build: buildKept ?? cli.out,
    kept: () => (progKept?.text() ?? '') + (buildKept?.text() ?? ''),
  };
  if (iidfile !== '') {
    // no stale file when the build fails
    try {
      await fsp.rm(iidfile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StatusError(`Removing image ID file: ${(e as Error).message}`, 1);
    }
  }

  const prepared = await prepareContext(cli, args[0]!, dockerfileName, out.prog, progKept);
  let imageID: string;
  try {
    imageID = await sendAndShow(cli, flags, prepared, out);
  } finally {
    if (prepared.tempDir !== '') await fsp.rm(prepared.tempDir, { recursive: true, force: true });
  }
  if (buildKept) {
    // the daemon's quiet stream is the image ID
    imageID = buildKept.text();
    cli.out.write(imageID);
  }
  if (iidfile !== '') {
    if (imageID === '') throw new StatusError(`Server did not provide an image ID. Cannot write ${iidfile}`, 1);
    await fsp.writeFile(iidfile, imageID, { mode: 0o666 });
  }
}

/** The image ID of an `aux` message (types.BuildResult); undefined when it carries none. */
function auxID(m: JSONMessage, cli: CLI): string | undefined {
  const aux = m.aux as { ID?: unknown };
  if (typeof aux !== 'object' || Array.isArray(aux) || (aux.ID !== undefined && typeof aux.ID !== 'string')) {
    cli.err.write('Failed to parse aux message: the aux message is not a build result');
    return undefined;
  }
  return aux.ID as string | undefined;
}

/** config.json `auths` as the daemon takes them (GetAllCredentials for credentials stored in the file). */
function authConfigs(auths: unknown): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (!auths || typeof auths !== 'object') return out;
  for (const [server, v] of Object.entries(auths as Record<string, Record<string, unknown>>)) {
    if (!v || typeof v !== 'object') continue;
    const c: Record<string, string> = {};
    if (typeof v['auth'] === 'string' && v['auth'] !== '') {
      const plain = Buffer.from(v['auth'], 'base64').toString();
      const colon = plain.indexOf(':');
      if (colon > 0) {
        c['username'] = plain.slice(0, colon);
        c['password'] = plain.slice(colon + 1);
      }
    }
    if (typeof v['identitytoken'] === 'string' && v['identitytoken'] !== '') c['identitytoken'] = v['identitytoken'];
    c['serveraddress'] = server;
    out[server] = c;
  }
  return out;
}

/** `berth build` (and `berth image build`). */
export function buildDef(top?: number): CommandDef {
  const def: CommandDef = {
    name: 'build',
    use: '[OPTIONS] PATH | URL | -',
    short: 'Build an image from a Dockerfile',
    aliasesLine: `${PROG} image build, ${PROG} build`,
    args: exactArgs(1),
    flags: buildFlags(process.env),
    run: runBuild,
  };
  if (top !== undefined) def.top = top;
  return def;
}
