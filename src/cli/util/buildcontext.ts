/**
 * The build context the CLI sends, as the docker CLI prepares it
 * (cli/command/image/build/context.go, moby's TarWithOptions and
 * ReplaceFileTarWrapper): a local directory archived without what
 * .dockerignore leaves out (the Dockerfile and .dockerignore always kept), a
 * Dockerfile from outside the directory or from stdin added under a random
 * name, a tar or a lone Dockerfile read from stdin or a URL.
 *
 * Only what is under the context directory is archived: the walk never
 * follows a symbolic link (links are archived as links) and files are opened
 * with O_NOFOLLOW.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import tar from 'tar-stream';
import { PatternMatcher, readIgnoreFile } from '../../lib/dockerignore.js';
import { fsError } from './archive.js';

export const DEFAULT_DOCKERFILE = 'Dockerfile';

type EntryHeader = Partial<tar.Header> & { name: string };

/** ResolveAndValidateContextPath: the absolute, symlink-free path of a context directory. */
export async function resolveContextDir(given: string): Promise<string> {
  let abs = resolve(given);
  try {
    abs = await fsp.realpath(abs);
  } catch (e) {
    throw new Error(`unable to evaluate symlinks in context path: ${fsError('lstat', abs, e).message}`);
  }
  let st: Stats;
  try {
    st = await fsp.lstat(abs);
  } catch (e) {
    throw new Error(`unable to stat context directory ${JSON.stringify(abs)}: ${fsError('lstat', abs, e).message}`);
  }
  if (!st.isDirectory()) throw new Error(`context must be a directory: ${abs}`);
  return abs;
}

/**
 * getDockerfileRelPath: where the Dockerfile is relative to the context
 * (`../x` when outside it). Without a name, `Dockerfile`, or `dockerfile`
 * when only that exists. `-` stays `-`.
 */
export async function dockerfileRelPath(absContextDir: string, given: string): Promise<string> {
  if (given === '-') return given;
  let abs = given;
  if (abs === '') {
    abs = join(absContextDir, DEFAULT_DOCKERFILE);
    const exists = await fsp.lstat(abs).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const alt = join(absContextDir, DEFAULT_DOCKERFILE.toLowerCase());
      if (await fsp.lstat(alt).then(() => true, () => false)) abs = alt;
    }
  }
  if (!isAbsolute(abs)) abs = join(absContextDir, abs);
  try {
    abs = await fsp.realpath(abs);
  } catch (e) {
    throw new Error(`unable to evaluate symlinks in Dockerfile path: ${fsError('lstat', abs, e).message}`);
  }
  return relative(absContextDir, abs);
}

/**
 * GetContextFromLocalDir: the context directory and the Dockerfile's path
 * in it. A `-f` path is relative to the working directory, not the context.
 */
export async function contextFromLocalDir(dir: string, dockerfileName: string): Promise<{ dir: string; relDockerfile: string }> {
  const abs = await resolveContextDir(dir);
  const name = dockerfileName !== '' && dockerfileName !== '-' ? resolve(dockerfileName) : dockerfileName;
  return { dir: abs, relDockerfile: await dockerfileRelPath(abs, name) };
}

/** Whether a Dockerfile path relative to the context points outside it. */
export function outsideContext(relDockerfile: string): boolean {
  return relDockerfile.startsWith('../');
}

/** ReadDockerignore: the patterns of `<dir>/.dockerignore`, none when it is absent. */
export async function readDockerignore(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsError('open', join(dir, '.dockerignore'), e);
  }
  return readIgnoreFile(text);
}

/**
 * TrimBuildFilesFromExcludes: the Dockerfile and .dockerignore go to the
 * daemon even when listed (it reads them, then removes them from the
 * context), unless the Dockerfile comes from stdin.
 */
export function trimBuildFilesFromExcludes(excludes: string[], dockerfile: string, dockerfileFromStdin: boolean): string[] {
  const out = [...excludes];
  let m: PatternMatcher;
  try {
    m = new PatternMatcher(excludes);
  } catch {
    return out; // contextEntries reports the bad pattern
  }
  if (m.matches('.dockerignore')) out.push('!.dockerignore');
  if (!dockerfileFromStdin && m.matches(dockerfile)) out.push('!' + dockerfile);
  return out;
}

/** One file-system object to archive. */
export interface ContextEntry {
  /** Slash-separated path relative to the context. */
  rel: string;
  abs: string;
  st: Stats;
}

/**
 * What the context holds after .dockerignore: the walk of docker's
 * ValidateContextDirectory (unreadable files are errors) and TarWithOptions
 * (a left-out directory is still entered when an exception names something
 * in it), in lexical order.
 */
export async function contextEntries(dir: string, excludes: string[]): Promise<ContextEntry[]> {
  let pm: PatternMatcher;
  try {
    pm = new PatternMatcher(excludes);
  } catch (e) {
    throw new Error(`error checking context: ${(e as Error).message}`);
  }
  const out: ContextEntry[] = [];
  const walk = async (absDir: string, relDir: string): Promise<void> => {
    let names: string[];
    try {
      names = (await fsp.readdir(absDir)).sort();
    } catch (e) {
      throw checkError(absDir, e);
    }
    for (const name of names) {
      const abs = join(absDir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      let st: Stats;
      try {
        st = await fsp.lstat(abs);
      } catch (e) {
        throw checkError(abs, e);
      }
      if (pm.matches(rel)) {
        if (st.isDirectory() && pm.mayReinclude(rel)) await walk(abs, rel);
        continue;
      }
      if (st.isSocket()) continue; // tar has no sockets; docker skips them too
      if (st.isFile()) {
        try {
          const fh = await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
          await fh.close();
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`error checking context: no permission to read from '${abs}'`);
          throw checkError(abs, e);
        }
      }
      out.push({ rel, abs, st });
      if (st.isDirectory()) await walk(abs, rel);
    }
  };
  await walk(dir, '');
  return out;
}

function checkError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new Error(`error checking context: can't stat '${path}'`);
  if (code === 'ENOENT') return new Error(`error checking context: file ('${path}') not found or excluded by .dockerignore`);
  return new Error(`error checking context: ${(e as Error).message}`);
}

/** `.dockerfile.` and 20 hex characters: the name a Dockerfile from elsewhere gets in the context. */
export function randomDockerfileName(): string {
  return '.dockerfile.' + randomBytes(10).toString('hex');
}

export interface TarContextOptions {
  /**
   * A Dockerfile from outside the context (or stdin) to add under `name`;
   * `.dockerignore` gets the name appended (or is made, listing itself and
   * the name) so the daemon removes both from what the build sees.
   */
  dockerfile?: { name: string; content: Buffer };
  /** Time stamp of the added entries (now). */
  now?: Date;
}

function tarType(st: Stats): tar.Header['type'] {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return 'file';
}

/**
 * The tar of the entries, as TarWithOptions writes it with ChownOpts 0:0:
 * directories named `dir/`, modes and second-truncated times kept, owners
 * 0:0, symbolic links as links, a file's second hard link as a link to the
 * first. Resolves to a stream; errors reading a file end it with the error.
 */
export function tarContext(entries: ContextEntry[], opts: TarContextOptions = {}): Readable {
  const pack = tar.pack();
  const now = new Date(Math.floor((opts.now ?? new Date()).getTime() / 1000) * 1000);
  const links = new Map<string, string>();
  const add = (header: EntryHeader, body?: Buffer) =>
    new Promise<void>((res, rej) => {
      if (body) pack.entry(header, body, (err) => (err ? rej(err) : res()));
      else pack.entry(header, (err) => (err ? rej(err) : res()));
    });
  const addFile = async (e: ContextEntry, header: EntryHeader) => {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(e.abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      // gone since the walk: left out, as docker's archiver skips a file it cannot add
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      await new Promise<void>((res, rej) => {
        const entry = pack.entry(header, (err) => (err ? rej(err) : res()));
        const src = fh.createReadStream({ start: 0, end: Math.max(0, e.st.size - 1), autoClose: false });
        src.on('error', rej);
        src.pipe(entry);
      });
    } finally {
      await fh.close();
    }
  };
  const run = async () => {
    let sawIgnore = false;
    for (const e of entries) {
      const type = tarType(e.st);
      const header: EntryHeader = {
        name: type === 'directory' ? `${e.rel}/` : e.rel,
        mode: e.st.mode & 0o7777,
        uid: 0,
        gid: 0,
        mtime: new Date(Math.floor(e.st.mtimeMs / 1000) * 1000),
        type,
        size: 0,
      };
      if (type === 'symlink') header.linkname = await fsp.readlink(e.abs);
      if (type === 'character-device' || type === 'block-device') {
        header.devmajor = Math.floor(e.st.rdev / 256) & 0xfff;
        header.devminor = (e.st.rdev & 0xff) | (Math.floor(e.st.rdev / 4096) & 0xfff00);
      }
      if (type === 'file' && e.st.nlink > 1) {
        const key = `${e.st.dev}:${e.st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          header.type = 'link';
          header.linkname = first;
        } else links.set(key, e.rel);
      }
      if (opts.dockerfile && e.rel === '.dockerignore' && header.type === 'file') {
        sawIgnore = true;
        const text = Buffer.concat([await fsp.readFile(e.abs), Buffer.from(`\n${opts.dockerfile.name}\n`)]);
        await add({ ...header, size: text.length }, text);
        continue;
      }
      if (header.type === 'file' && e.st.size > 0) {
        await addFile(e, { ...header, size: e.st.size });
        continue;
      }
      await add(header);
    }
    if (opts.dockerfile) {
      const { name, content } = opts.dockerfile;
      await add({ name, mode: 0o600, uid: 0, gid: 0, mtime: now, type: 'file', size: content.length }, content);
      if (!sawIgnore) {
        const text = Buffer.from(`.dockerignore\n${name}\n`);
        await add({ name: '.dockerignore', mode: 0o600, uid: 0, gid: 0, mtime: now, type: 'file', size: text.length }, text);
      }
    }
    pack.finalize();
  };
  run().catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/**
 * AddDockerfileToBuildContext for a context that is already a tar (from a
 * URL): the entries pass through, `.dockerignore` gets the Dockerfile's
 * name appended (or is added), and the Dockerfile is added at the end.
 */
export function addDockerfileToTar(src: Readable, dockerfile: { name: string; content: Buffer }, now = new Date()): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const mtime = new Date(Math.floor(now.getTime() / 1000) * 1000);
  let sawIgnore = false;
  extract.on('entry', (header, stream, next) => {
    const done = (err?: Error | null) => (err ? extract.destroy(err) : next());
    if (header.name.replace(/^(\.\/)+/, '') === '.dockerignore' && header.type === 'file') {
      sawIgnore = true;
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const text = Buffer.concat([...chunks, Buffer.from(`\n${dockerfile.name}\n`)]);
        pack.entry({ ...header, size: text.length }, text, done);
      });
      return;
    }
    stream.pipe(pack.entry(header, done));
  });
  extract.on('finish', () => {
    pack.entry({ name: dockerfile.name, mode: 0o600, mtime, type: 'file', size: dockerfile.content.length }, dockerfile.content);
    if (!sawIgnore) {
      const text = Buffer.from(`.dockerignore\n${dockerfile.name}\n`);
      pack.entry({ name: '.dockerignore', mode: 0o600, mtime, type: 'file', size: text.length }, text);
    }
    pack.finalize();
  });
  extract.on('error', (err) => pack.destroy(err));
  src.on('error', (err) => extract.destroy(err));
  src.pipe(extract);
  return pack as unknown as Readable;
}

/** The tar holding only a Dockerfile, for a Dockerfile read from stdin or a URL. */
export function dockerfileOnlyTar(content: Buffer, now = new Date()): Readable {
  const pack = tar.pack();
  pack.entry(
    { name: DEFAULT_DOCKERFILE, mode: 0o644, uid: 0, gid: 0, mtime: new Date(Math.floor(now.getTime() / 1000) * 1000), type: 'file', size: content.length },
    content,
  );
  pack.finalize();
  return pack as unknown as Readable;
}

// ───────────────────────────── stdin and URL contexts ─────────────────────────────

/** The magic numbers of the compressions docker recognises (gzip, bzip2, xz, zstd). */
function compressed(head: Buffer): boolean {
  const starts = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b, 0x08]) || starts([0x42, 0x5a, 0x68]) || starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || starts([0x28, 0xb5, 0x2f, 0xfd])) return true;
  // a zstd skippable frame
  return head.length >= 4 && (head.readUInt32LE(0) & 0xfffffff0) === 0x184d2a50;
}

/** Whether a tar header block parses: a valid checksum, and not the zero block that ends an archive. */
function tarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  const block = head.subarray(0, 512);
  if (block.every((b) => b === 0)) return false;
  const field = block.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** IsArchive: a compressed stream or a tar, judged from the first bytes. */
export function isArchive(head: Buffer): boolean {
  return compressed(head) || tarHeader(head);
}

/** Reads up to `n` bytes from the front of a stream; returns them and a stream of everything (them included). */
export async function peek(src: AsyncIterable<Buffer | string>, n: number): Promise<{ head: Buffer; all: Readable }> {
  const it = src[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  return { head: head.subarray(0, n), all: Readable.from(rest(), { objectMode: false }) };
}

/**
 * GetContextFromReader: a tar (or compressed tar) is the context as it is;
 * anything else is a Dockerfile, sent as a context holding only it.
 */
export async function contextFromReader(src: AsyncIterable<Buffer | string>, dockerfileName: string): Promise<{ body: Readable; relDockerfile: string }> {
  const { head, all } = await peek(src, 1024);
  if (isArchive(head)) return { body: all, relDockerfile: dockerfileName };
  if (dockerfileName === '-') throw new Error('build context is not an archive');
  if (dockerfileName !== '') throw new Error('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
  const chunks: Buffer[] = [];
  for await (const c of all) chunks.push(c as Buffer);
  return { body: dockerfileOnlyTar(Buffer.concat(chunks)), relDockerfile: DEFAULT_DOCKERFILE };
}

/** Counts the bytes flowing through; `onBytes` hears the running total, `onEnd` the final one. */
export function countBytes(onBytes: (n: number) => void, onEnd: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
    flush(cb) {
      onEnd(n);
      cb();
    },
  });
}
