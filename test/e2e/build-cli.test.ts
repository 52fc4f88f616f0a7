/**
 * `berth build` against berthd: contexts (directory, -f inside and outside,
 * stdin Dockerfile and tar, .dockerignore), flags, output and errors; and the
 * real docker CLI (DOCKER_BUILDKIT=0) for the two context cases the daemon
 * must take from it: -f outside the context, .dockerignore listing the
 * Dockerfile.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, docker, hasDocker, REPO, startDaemon, type Daemon, type Run } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

const ID = /^sha256:[0-9a-f]{64}$/;

/** berth without blocking this process (a server here must answer it). */
function berthAsync(d: { env: NodeJS.ProcessEnv }, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--', join(REPO, 'bin/berth'), ...args], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Serves the files under `root` on 127.0.0.1 (what git's dumb HTTP protocol needs, too). */
async function fileServer(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(root) || !existsSync(path) || statSync(path).isDirectory()) {
      res.writeHead(404);
      res.end('not here');
      return;
    }
    res.writeHead(200, { 'Content-Length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('berth build against berthd', () => {
  let d: Daemon;
  let root: string;
  /** Runs a command in a throw-away container of the image. */
  const runIn = (image: string, ...cmd: string[]) => berth(d, ['run', '--rm', '--network', 'none', image, ...cmd]);

  before(async () => {
    d = await startDaemon();
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
    root = mkdtempSync(join(tmpdir(), 'berth-build-cli-'));
  });
  after(async () => {
    rmSync(root, { recursive: true, force: true });
    await cleanup(d);
  });

  test('a directory with -t: docker\'s legacy output, the image tagged and runnable', () => {
    const ctx = join(root, 'basic');
    write(ctx, { 'Dockerfile': 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy\nCMD ["cat", "/copy"]\n', 'hello.txt': 'hello from the context\n' });
    const r = berth(d, ['build', '-t', 'basic:1', '-t', 'basic', ctx]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^Sending build context to Docker daemon +\d+(\.\d+)?[kM]?B\r\r$/);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('Step ')),
      ['Step 1/4 : FROM busybox', 'Step 2/4 : COPY hello.txt /hello.txt', 'Step 3/4 : RUN cat /hello.txt > /copy', 'Step 4/4 : CMD ["cat", "/copy"]'],
    );
    assert.match(r.stdout, /\n ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.stdout, /\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged basic:1\nSuccessfully tagged basic:latest\n$/);
    assert.equal(runIn('basic:1').stdout, 'hello from the context\n');
    assert.equal(runIn('basic').stdout, 'hello from the context\n');
  });

  test('-f inside the context, and -f outside it (added under a random name the build never shows)', () => {
    const ctx = join(root, 'files');
    write(ctx, {
      'a.txt': 'a\n',
      'build/Alt.dockerfile': 'FROM busybox\nCOPY a.txt /from-alt\n',
    });
    write(root, { 'elsewhere/Outside.dockerfile': 'FROM busybox\nCOPY . /ctx\nRUN ls -A /ctx > /listing\n' });
    const inside = berth(d, ['build', '-q', '-f', join(ctx, 'build/Alt.dockerfile'), ctx]);
    assert.equal(inside.code, 0, inside.stderr);
    assert.match(inside.stdout.trim(), ID);
    assert.equal(runIn(inside.stdout.trim(), 'cat', '/from-alt').stdout, 'a\n');

    const outside = berth(d, ['build', '-t', 'outside', '-f', join(root, 'elsewhere/Outside.dockerfile'), ctx]);
    assert.equal(outside.code, 0, outside.stderr + outside.stdout);
    assert.match(outside.stdout, /Step 3\/3 : RUN ls -A \/ctx > \/listing/);
    // neither the added Dockerfile nor the .dockerignore made for it reach COPY
    assert.equal(runIn('outside', 'cat', '/listing').stdout, 'a.txt\nbuild\n');
  });

  test('a Dockerfile from stdin with a directory context (-f -), a Dockerfile alone (-), a tar (-)', async () => {
    const ctx = join(root, 'stdin');
    write(ctx, { 'data.txt': 'data\n' });
    const withCtx = berth(d, ['build', '-t', 'stdin-df', '-f', '-', ctx], 'FROM busybox\nCOPY data.txt /data.txt\n');
    assert.equal(withCtx.code, 0, withCtx.stderr);
    assert.equal(runIn('stdin-df', 'cat', '/data.txt').stdout, 'data\n');

    const alone = berth(d, ['build', '-t', 'stdin-alone', '-'], 'FROM busybox\nRUN echo piped > /p\n');
    assert.equal(alone.code, 0, alone.stderr);
    assert.equal(runIn('stdin-alone', 'cat', '/p').stdout, 'piped\n');

    const tarball = await makeTar([
      { name: 'Dockerfile.tar', content: 'FROM busybox\nCOPY . /t\n' },
      { name: 'dir/', type: 'directory' },
      { name: 'dir/f.txt', content: 'in the tar\n' },
      { name: 'dir/link', type: 'symlink', linkname: 'f.txt' },
    ]);
    const fromTar = berth(d, ['build', '-t', 'stdin-tar', '-f', 'Dockerfile.tar', '-'], tarball);
    assert.equal(fromTar.code, 0, fromTar.stderr);
    assert.equal(runIn('stdin-tar', 'cat', '/t/dir/f.txt').stdout, 'in the tar\n');
    assert.equal(runIn('stdin-tar', 'readlink', '/t/dir/link').stdout, 'f.txt\n');

    const both = berth(d, ['build', '-f', '-', '-'], 'FROM busybox\n');
    assert.equal(both.code, 1);
    assert.equal(both.stderr, "invalid argument: can't use stdin for both build context and dockerfile\n");
  });

  test('.dockerignore: ! exceptions and ** patterns; the Dockerfile and .dockerignore listed but still used', () => {
    const ctx = join(root, 'ignore');
    write(ctx, {
      'Dockerfile': 'FROM busybox\nCOPY . /c\nRUN cd /c && find . | sort > /found\n',
      '.dockerignore': '**/*.log\n!important.log\nnode_modules\n!node_modules/keep/**\ncache/**\nDockerfile\n.dockerignore\n',
      'app.js': 'js\n',
      'debug.log': 'x\n',
      'important.log': 'keep me\n',
      'src/deep/trace.log': 'x\n',
      'src/deep/code.js': 'code\n',
      'node_modules/dep/index.js': 'x\n',
      'node_modules/keep/ok.js': 'ok\n',
      'cache/blob': 'x\n',
    });
    // a link pointing outside the context is sent as a link, never followed
    symlinkSync('/etc/hostname', join(ctx, 'host-link'));
    const r = berth(d, ['build', '-t', 'ignored', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const found = runIn('ignored', 'cat', '/found').stdout.split('\n').filter(Boolean);
    assert.deepEqual(found, [
      '.',
      './app.js',
      './cache',
      './host-link',
      './important.log',
      './node_modules',
      './node_modules/keep',
      './node_modules/keep/ok.js',
      './src',
      './src/deep',
      './src/deep/code.js',
    ]);
    assert.equal(runIn('ignored', 'readlink', '/c/host-link').stdout, '/etc/hostname\n');
  });

  test('--build-arg (KEY=VAL and KEY from the environment), --target, --label, --iidfile', () => {
    const ctx = join(root, 'args');
    write(ctx, {
      'Dockerfile':
        'FROM busybox AS base\nARG GIVEN\nARG FROM_ENV\nARG DEFAULTED=dflt\nRUN echo "$GIVEN $FROM_ENV $DEFAULTED" > /args\n' +
        'FROM base AS later\nRUN echo later > /later\n',
    });
    const iid = join(root, 'iid.txt');
    const env = { ...d.env, BERTH_TEST_ARG: 'env-value' };
    const r = berth({ env }, ['build', '--build-arg', 'GIVEN=given', '--build-arg', 'FROM_ENV=${NOT_EXPANDED}', '--build-arg', 'DEFAULTED', '--target', 'base', '--label', 'org.example.team=build', '--label', 'bare', '--iidfile', iid, ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /echo later/, 'the stage after the target is not built');
    const id = readFileSync(iid, 'utf8');
    assert.match(id, ID);
    assert.equal(runIn(id, 'cat', '/args').stdout, 'given ${NOT_EXPANDED} dflt\n');
    assert.equal(runIn(id, 'ls', '/later').code, 1);
    const labels = JSON.parse(berth(d, ['image', 'inspect', '-f', '{{json .Config.Labels}}', id]).stdout);
    assert.deepEqual(labels, { bare: '', 'org.example.team': 'build' });

    const envCtx = join(root, 'envarg');
    write(envCtx, { 'Dockerfile': 'FROM busybox\nARG BERTH_TEST_ARG\nRUN echo "$BERTH_TEST_ARG" > /v\n' });
    const bare = berth({ env }, ['build', '-q', '--build-arg', 'BERTH_TEST_ARG', envCtx]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(runIn(bare.stdout.trim(), 'cat', '/v').stdout, 'env-value\n');
  });

  test('-q prints only the image ID; --progress=plain prints the stream; --progress=tty draws and finishes', () => {
    const ctx = join(root, 'progress');
    write(ctx, { 'Dockerfile': 'FROM busybox\nRUN echo one && echo two\n' });
    const q = berth(d, ['build', '-q', '--no-cache', ctx]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);

    const plain = berth(d, ['build', '--progress=plain', '--no-cache', ctx]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /Step 2\/2 : RUN echo one && echo two\n ---> Running in [0-9a-f]{12}\none\ntwo\n/);
    assert.doesNotMatch(plain.stdout, /\x1b\[/);

    const tty = berth(d, ['build', '--progress=tty', ctx]);
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stdout, /\[\+\] Building \d+\.\ds \(2\/2\) FINISHED\x1b\[K\n/);
    assert.match(tty.stdout, / => CACHED \[2\/2\] RUN echo one && echo two +\d+\.\ds\x1b\[K\n/);
    assert.match(tty.stdout, / => sending build context \d/);
    assert.match(tty.stdout, /\nSuccessfully built [0-9a-f]{12}\n$/);
  });

  test('a failing RUN: its output, docker\'s message and its exit code; an invalid tag is refused before sending', () => {
    const ctx = join(root, 'fail');
    write(ctx, { 'Dockerfile': 'FROM busybox\nRUN echo about to fail; exit 42\n' });
    const r = berth(d, ['build', ctx]);
    assert.equal(r.code, 42);
    assert.match(r.stdout, /Step 2\/2 : RUN echo about to fail; exit 42\n ---> Running in [0-9a-f]{12}\nabout to fail\n$/);
    assert.equal(r.stderr, "The command '/bin/sh -c echo about to fail; exit 42' returned a non-zero code: 42\n");

    const tty = berth(d, ['build', '--progress=tty', ctx]);
    assert.equal(tty.code, 42);
    assert.match(tty.stdout, / => ERROR \[2\/2\] RUN echo about to fail; exit 42/);
    assert.match(tty.stdout, /------\x1b\[K\n > \[2\/2\] RUN echo about to fail; exit 42:\x1b\[K\nabout to fail\x1b\[K\n------/);

    const q = berth(d, ['build', '-q', ctx]);
    assert.equal(q.code, 42);
    assert.equal(q.stdout, '');
    assert.match(q.stderr, /^Sending build context to Docker daemon .*\r\r\nThe command '\/bin\/sh -c echo about to fail; exit 42' returned a non-zero code: 42\n$/);

    const bad = berth(d, ['build', '-t', 'Bad:Tag', ctx]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^invalid argument "Bad:Tag" for "-t, --tag" flag: invalid reference format: repository name \(library\/Bad\) must be lowercase\n/);
    const missing = berth(d, ['build', join(root, 'no-such-dir')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `unable to prepare context: path "${join(root, 'no-such-dir')}" not found\n`);
  });

  test('URL contexts: a Dockerfile, a tar, a git repository with #ref:subdir; a missing one fails as docker says', async () => {
    const served = join(root, 'served');
    write(served, { 'Dockerfile': 'FROM busybox\nRUN echo from-url > /u\n' });
    writeFileSync(join(served, 'ctx.tar'), await makeTar([{ name: 'Dockerfile', content: 'FROM busybox\nCOPY f /f\n' }, { name: 'f', content: 'tarred\n' }]));
    const src = join(root, 'gitsrc');
    write(src, { 'Dockerfile': 'FROM busybox\n', 'app/Dockerfile': 'FROM busybox\nCOPY . /app\n', 'app/v.txt': 'v2\n' });
    const git = (args: string[], cwd: string) => assert.equal(spawnSync('git', args, { cwd }).status, 0, `git ${args.join(' ')}`);
    git(['init', '-q', '-b', 'main'], src);
    git(['add', '.'], src);
    git(['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'one'], src);
    git(['tag', 'v1'], src);
    git(['clone', '-q', '--bare', src, join(served, 'repo.git')], root);
    git(['update-server-info'], join(served, 'repo.git'));
    const server = await fileServer(served);
    try {
      const df = await berthAsync(d, ['build', '-t', 'url-df', `${server.url}/Dockerfile`]);
      assert.equal(df.code, 0, df.stderr);
      assert.match(df.stdout, /^Downloading build context from remote url: http:\/\/127\.0\.0\.1:\d+\/Dockerfile .*\r/);
      assert.equal(runIn('url-df', 'cat', '/u').stdout, 'from-url\n');

      const tarCtx = await berthAsync(d, ['build', '-q', `${server.url}/ctx.tar`]);
      assert.equal(tarCtx.code, 0, tarCtx.stderr);
      assert.equal(runIn(tarCtx.stdout.trim(), 'cat', '/f').stdout, 'tarred\n');

      const repo = await berthAsync(d, ['build', '-t', 'from-git', `${server.url}/repo.git#v1:app`]);
      assert.equal(repo.code, 0, repo.stderr + repo.stdout);
      assert.equal(runIn('from-git', 'ls', '/app').stdout, 'Dockerfile\nv.txt\n');

      const missing = await berthAsync(d, ['build', `${server.url}/nothing`]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `unable to prepare context: unable to download remote context ${server.url}/nothing: failed to GET ${server.url}/nothing with status 404 Not Found: not here\n`);
    } finally {
      await server.close();
    }
  });

  test('the real docker CLI: -f outside the context, and .dockerignore listing the Dockerfile', { skip: !hasDocker() }, () => {
    const ctx = join(root, 'docker-ctx');
    write(ctx, { 'x.txt': 'x\n' });
    write(root, { 'docker-df/Dockerfile': 'FROM busybox\nCOPY . /ctx\nRUN ls -A /ctx > /listing\n' });
    // the docker CLI's context tar ends without its end blocks here
    const outside = docker(d, ['build', '-t', 'docker-outside', '-f', join(root, 'docker-df/Dockerfile'), ctx]);
    assert.equal(outside.code, 0, outside.stderr + outside.stdout);
    assert.match(outside.stdout, /Successfully tagged docker-outside:latest\n/);
    assert.equal(runIn('docker-outside', 'cat', '/listing').stdout, 'x.txt\n');

    const listed = join(root, 'docker-listed');
    write(listed, {
      'Dockerfile': 'FROM busybox\nCOPY . /ctx\nRUN ls -A /ctx > /listing\n',
      '.dockerignore': 'Dockerfile\n.dockerignore\n*.tmp\n',
      'kept.txt': 'k\n',
      'junk.tmp': 'j\n',
    });
    const r = docker(d, ['build', '-t', 'docker-listed', listed]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(runIn('docker-listed', 'cat', '/listing').stdout, 'kept.txt\n');
    // the same context through berth gives the same image
    const b = berth(d, ['build', '-q', listed]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.trim(), berth(d, ['image', 'inspect', '-f', '{{.Id}}', 'docker-listed']).stdout.trim());
  });
});
