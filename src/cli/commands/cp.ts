/**
 * `cp` (docker's cp.go): copies between the local file system and a
 * container through `HEAD/GET/PUT /containers/{id}/archive`, with `-` for a
 * tar on stdin or stdout, `-L` to follow a symlink source, `-a` to keep
 * ownership, and the progress line on a terminal.
 */
import { promises as fsp } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import type { ContainerPathStat } from '../../client/index.js';
import { humanSizeWithPrecision } from '../../lib/units.js';
import { PROG, StatusError, type CLI } from '../cli.js';
import { exactArgs, type CommandDef, type RunContext } from '../command.js';
import { diesOfSigpipe, writeOutput } from '../attach.js';
import {
  copyInfoDestinationPath,
  copyInfoSourcePath,
  fsError,
  getRebaseName,
  GO_MODE,
  hasModeBit,
  rebaseArchiveEntries,
  resolveLocalPath,
  splitPathDirEntry,
  tarResource,
  untar,
  assertsDirectory,
  type CopyInfo,
} from '../util/archive.js';
import { cleanPath } from '../../lib/gopath.js';

const progressSize = (n: number) => humanSizeWithPrecision(n, 3);

/** splitCpArg: `CONTAINER:PATH`, unless the argument is an absolute or `.`-relative local path. */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const c = arg.indexOf(':');
  if (c < 0) return ['', arg];
  const ctr = arg.slice(0, c);
  if (ctr.startsWith('.')) return ['', arg];
  return [ctr, arg.slice(c + 1)];
}

/** Counts bytes going through. */
function counter(total: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total.n += chunk.length;
      cb(null, chunk);
    },
  });
}

/**
 * copyProgress. docker 28's version asks whether its stderr *wrapper* is a
 * terminal, which it never is, so the progress line is never drawn; only the
 * `Successfully copied …` line appears. This does the same.
 */
function copyProgress(_cli: CLI, _header: string, _total: { n: number }): () => void {
  return () => {};
}

/** ValidateOutputPath */
async function validateOutputPath(path: string): Promise<void> {
  const dir = splitPathDirEntry(cleanPath(path))[0];
  if (dir !== '' && dir !== '.') {
    try {
      await fsp.stat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
    }
  }
  try {
    const st = await fsp.stat(path);
    if (st.isDirectory() || st.isFile()) return;
    if (st.isBlockDevice() || st.isCharacterDevice()) throw new Error(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: got a device`);
    throw new Error(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: got an irregular file`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((e as NodeJS.ErrnoException).code) throw fsError('stat', path, e);
    throw e;
  }
}

/** ValidateOutputPathFileMode on a container stat's Go mode. */
function fileModeProblem(mode: number): string | undefined {
  if (hasModeBit(mode, GO_MODE.device)) return 'got a device';
  if (hasModeBit(mode, GO_MODE.irregular)) return 'got an irregular file';
  return undefined;
}

/** PrepareArchiveCopy: the directory to extract into and the (renamed) archive. */
export function prepareArchiveCopy(src: Readable, srcInfo: CopyInfo, dstInfo: CopyInfo): [string, Readable] {
  const [dstDir, dstBase] = splitPathDirEntry(dstInfo.path);
  let srcBase = splitPathDirEntry(srcInfo.path)[1];
  if (dstInfo.exists && dstInfo.isDir) return [dstInfo.path, src];
  if (dstInfo.exists && srcInfo.isDir) throw new Error('cannot copy directory');
  if (!dstInfo.exists && !srcInfo.isDir && assertsDirectory(dstInfo.path)) throw new Error('no such directory');
  if (srcInfo.rebaseName !== '') srcBase = srcInfo.rebaseName;
  return [dstDir, rebaseArchiveEntries(src, srcBase, dstBase)];
}

async function copyFromContainer(cli: CLI, container: string, srcPathIn: string, dstPathIn: string, o: { followLink: boolean; quiet: boolean }): Promise<void> {
  let dstPath = dstPathIn;
  let srcPath = srcPathIn;
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath);
  await validateOutputPath(dstPath);
  const client = cli.client();
  let rebaseName = '';
  if (o.followLink) {
    let st: ContainerPathStat | undefined;
    try {
      st = await client.containerStatPath(container, srcPath);
    } catch {
      st = undefined;
    }
    if (st && hasModeBit(st.mode, GO_MODE.symlink)) {
      let linkTarget = st.linkTarget;
      if (!linkTarget.startsWith('/')) linkTarget = cleanPath(`${splitPathDirEntry(srcPath)[0]}/${linkTarget}`);
      [linkTarget, rebaseName] = getRebaseName(srcPath, linkTarget);
      srcPath = linkTarget;
    }
  }
  const { body, stat } = await client.copyFromContainer(container, srcPath);
  if (dstPath === '-') {
    for await (const chunk of body) await writeOutput(cli.out, chunk as Buffer);
    return;
  }
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: hasModeBit(stat.mode, GO_MODE.dir), rebaseName };
  const total = { n: 0 };
  let content: Readable = body;
  if (!o.quiet) content = body.pipe(counter(total));
  if (rebaseName !== '') content = rebaseArchiveEntries(content, splitPathDirEntry(srcInfo.path)[1], rebaseName);
  const stop = o.quiet ? () => {} : copyProgress(cli, 'Copying from container - ', total);
  let err: unknown;
  try {
    const dstInfo = await copyInfoDestinationPath(dstPath);
    const [dstDir, archive] = prepareArchiveCopy(content, srcInfo, dstInfo);
    await untar(archive, dstDir);
  } catch (e) {
    err = e;
    body.destroy();
  }
  stop();
  if (!o.quiet) cli.err.write(`Successfully copied ${progressSize(total.n)} to ${dstPath}\n`);
  if (err) throw err;
}

async function copyToContainer(cli: CLI, container: string, srcPathIn: string, dstPath: string, o: { followLink: boolean; quiet: boolean; copyUIDGID: boolean }): Promise<void> {
  let srcPath = srcPathIn;
  if (srcPath !== '-') srcPath = resolveLocalPath(srcPath);
  const client = cli.client();
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let dstStat: ContainerPathStat | undefined;
  try {
    dstStat = await client.containerStatPath(container, dstPath);
  } catch {
    dstStat = undefined;
  }
  if (dstStat && hasModeBit(dstStat.mode, GO_MODE.symlink)) {
    let linkTarget = dstStat.linkTarget;
    if (!linkTarget.startsWith('/')) linkTarget = cleanPath(`${splitPathDirEntry(dstPath)[0]}/${linkTarget}`);
    dstInfo.path = linkTarget;
    try {
      dstStat = await client.containerStatPath(container, linkTarget);
    } catch {
      dstStat = undefined;
    }
  }
  const problem = dstStat ? fileModeProblem(dstStat.mode) : undefined;
  if (problem) throw new Error(`destination "${container}:${dstPath}" must be a directory or a regular file: ${problem}`);
  if (dstStat) {
    dstInfo.exists = true;
    dstInfo.isDir = hasModeBit(dstStat.mode, GO_MODE.dir);
  }

  let content: Readable;
  let resolvedDst: string;
  const total = { n: 0 };
  if (srcPath === '-') {
    content = cli.in.stream;
    resolvedDst = dstInfo.path;
    if (!dstInfo.isDir) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
  } else {
    const srcInfo = await copyInfoSourcePath(srcPath, o.followLink);
    const archive = tarResource(srcInfo.path, srcInfo.rebaseName);
    const [dir, prepared] = prepareArchiveCopy(archive, srcInfo, dstInfo);
    resolvedDst = dir;
    content = o.quiet ? prepared : prepared.pipe(counter(total));
  }
  if (o.quiet) {
    await client.copyToContainer(container, resolvedDst, content, { copyUIDGID: o.copyUIDGID });
    return;
  }
  const stop = copyProgress(cli, 'Copying to container - ', total);
  let err: unknown;
  try {
    await client.copyToContainer(container, resolvedDst, content, { copyUIDGID: o.copyUIDGID });
  } catch (e) {
    err = e;
  }
  stop();
  cli.err.write(`Successfully copied ${progressSize(total.n)} to ${container}:${dstInfo.path}\n`);
  if (err) throw err;
}

async function runCopy(ctx: RunContext): Promise<void> {
  const { cli, flags, args, set } = ctx;
  if (args[0] === '') throw new StatusError('source can not be empty', 1);
  if (args[1] === '') throw new StatusError('destination can not be empty', 1);
  const quiet = set.has('quiet') ? (flags['quiet'] as boolean) : !cli.out.isTTY;
  const [srcContainer, srcPath] = splitCpArg(args[0]!);
  const [dstContainer, dstPath] = splitCpArg(args[1]!);
  const o = { followLink: flags['follow-link'] as boolean, copyUIDGID: flags['archive'] as boolean, quiet };
  if (srcContainer !== '' && dstContainer !== '') throw new StatusError('copying between containers is not supported', 1);
  if (srcContainer !== '') return copyFromContainer(cli, srcContainer, srcPath, dstPath, o);
  if (dstContainer !== '') return copyToContainer(cli, dstContainer, srcPath, dstPath, o);
  throw new StatusError('must specify at least one container source', 1);
}

export function cpDef(): CommandDef {
  return {
    name: 'cp',
    use: `[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
	${PROG} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`,
    short: 'Copy files/folders between a container and the local filesystem',
    long: `Copy files/folders between a container and the local filesystem

Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.`,
    aliasesLine: `${PROG} container cp, ${PROG} cp`,
    args: exactArgs(2),
    flags: [
      { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
      { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
      {
        name: 'quiet',
        short: 'q',
        type: 'bool',
        usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
      },
    ],
    run: (ctx) => diesOfSigpipe(runCopy(ctx)),
  };
}
