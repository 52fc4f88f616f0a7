/** The real docker CLI (classic builder, DOCKER_BUILDKIT=0) builds Dockerfiles on berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, docker, startDaemon, type Daemon } from '../helpers/daemon.js';

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

const MULTI = `# a comment
FROM busybox AS base
ARG WHO=world
ENV GREETING="hello \${WHO}"
WORKDIR /app
COPY a.txt sub/ ./
RUN echo "$GREETING" > /app/greet \\
 && ls /app > /app/listing

FROM busybox AS other
RUN echo other > /other

FROM base AS final
COPY --from=base /app/greet /copied
COPY --from=other /other /other
LABEL stage=final
EXPOSE 8080
CMD ["cat", "/copied"]
`;

describe('docker CLI against berthd: build', () => {
  let d: Daemon;
  let ctx: string;
  before(async () => {
    d = await startDaemon();
    assert.equal(berth(d, ['bootstrap', '--only', 'busybox']).code, 0);
    ctx = mkdtempSync(join(tmpdir(), 'berth-build-'));
    write(ctx, { 'Dockerfile': MULTI, 'a.txt': 'hello\n', 'sub/b.txt': 'b\n', 'junk.log': 'no\n', '.dockerignore': '*.log\n' });
  });
  after(async () => {
    rmSync(ctx, { recursive: true, force: true });
    await cleanup(d);
  });

  test('a multi-stage build: steps in order, the image runs, config and history as docker records them', () => {
    const r = docker(d, ['build', '-t', 'multi:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    const steps = r.stdout.split('\n').filter((l) => l.startsWith('Step '));
    assert.equal(steps.length, 14);
    assert.deepEqual(steps.map((l) => l.split(' : ')[0]), Array.from({ length: 14 }, (_, i) => `Step ${i + 1}/14`));
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged multi:1\n/);
    assert.equal(docker(d, ['run', '--rm', 'multi:1']).stdout, 'hello world\n');
    assert.equal(docker(d, ['run', '--rm', 'multi:1', 'cat', '/app/listing', '/other']).stdout, 'a.txt\nb.txt\ngreet\nlisting\nother\n');
    // .dockerignore kept junk.log out of the context.
    assert.notEqual(docker(d, ['run', '--rm', 'multi:1', 'ls', '/app/junk.log']).code, 0);
    const cfg = JSON.parse(docker(d, ['inspect', '-f', '{{json .Config}}', 'multi:1']).stdout);
    assert.equal(cfg.WorkingDir, '/app');
    assert.ok(cfg.Env.includes('GREETING=hello world'));
    assert.deepEqual(cfg.Labels, { stage: 'final' });
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(cfg.Cmd, ['cat', '/copied']);
    const history = docker(d, ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'multi:1']).stdout;
    assert.match(history, /#\(nop\)\s+ENV GREETING=hello world\|0B/);
    assert.match(history, /\|1 WHO=world \/bin\/sh -c echo "\$GREETING"/);
  });

  test('the cache: a rebuild reuses every step; a changed file re-runs only what follows its COPY', () => {
    const first = docker(d, ['build', '-q', ctx]).stdout.trim();
    const again = docker(d, ['build', ctx]);
    assert.equal(again.code, 0, again.stderr);
    const cached = again.stdout.split('\n').filter((l) => l === ' ---> Using cache').length;
    assert.equal(cached, 11, again.stdout);
    assert.match(again.stdout, new RegExp(`Successfully built ${first.replace('sha256:', '').slice(0, 12)}`));
    // Same content, new mtime: still cached (inputs by content).
    write(ctx, { 'a.txt': 'hello\n' });
    assert.equal(docker(d, ['build', '-q', ctx]).stdout.trim(), first);
    write(ctx, { 'a.txt': 'changed\n' });
    const changed = docker(d, ['build', ctx]);
    assert.equal(changed.code, 0, changed.stderr);
    const lines = changed.stdout.split('\n');
    const copyStep = lines.findIndex((l) => l.includes(': COPY a.txt sub/ ./'));
    assert.notEqual(lines[copyStep + 1], ' ---> Using cache');
    assert.ok(lines.slice(0, copyStep).filter((l) => l === ' ---> Using cache').length >= 3);
    assert.match(changed.stdout, /Running in [0-9a-f]{12}/);
    write(ctx, { 'a.txt': 'hello\n' });
  });

  test('the cache survives a berthd restart; --no-cache and builder prune drop it', async () => {
    docker(d, ['build', '-q', ctx]);
    await d.restart();
    const after = docker(d, ['build', ctx]);
    assert.equal(after.stdout.split('\n').filter((l) => l === ' ---> Using cache').length, 11, after.stdout);
    const nocache = docker(d, ['build', '--no-cache', ctx]);
    assert.equal(nocache.code, 0, nocache.stderr);
    assert.doesNotMatch(nocache.stdout, /Using cache/);
    assert.equal(docker(d, ['builder', 'prune', '-f']).code, 0);
    assert.doesNotMatch(docker(d, ['build', ctx]).stdout, /Using cache/);
  });

  test('--target builds the target and what it needs; build args; a Dockerfile from stdin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
    write(dir, {
      'Dockerfile': 'ARG BASE=busybox\nFROM $BASE AS one\nARG MSG\nRUN echo "msg=$MSG" > /msg\nFROM busybox AS broken\nRUN exit 9\nFROM one AS two\nCMD ["cat", "/msg"]\n',
    });
    const r = docker(d, ['build', '--target', 'one', '--build-arg', 'MSG=hi', '--build-arg', 'UNUSED=1', '-t', 'targeted', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /exit 9/);
    assert.match(r.stdout, /One or more build-args \[UNUSED\] were not consumed/);
    assert.equal(docker(d, ['run', '--rm', 'targeted', 'cat', '/msg']).stdout, 'msg=hi\n');
    const stdin = docker(d, ['build', '-t', 'fromstdin', '-'], 'FROM busybox\nRUN echo piped > /p\n');
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(docker(d, ['run', '--rm', 'fromstdin', 'cat', '/p']).stdout, 'piped\n');
    rmSync(dir, { recursive: true, force: true });
  });

  test('errors: a failing RUN gives its exit code; an unknown instruction names its line; a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
    write(dir, { 'Dockerfile': 'FROM busybox\nRUN echo before; exit 7\n' });
    const fail = docker(d, ['build', '--force-rm', dir]);
    assert.equal(fail.code, 7);
    assert.match(fail.stderr, /The command '\/bin\/sh -c echo before; exit 7' returned a non-zero code: 7/);
    write(dir, { 'Dockerfile': 'FROM busybox\n\nFOO bar\n' });
    const unknown = docker(d, ['build', dir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /dockerfile parse error on line 3: unknown instruction: FOO/i);
    write(dir, { 'Dockerfile': 'FROM busybox\nCOPY nothere /x\n' });
    const missing = docker(d, ['build', dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nothere/);
    const ps = docker(d, ['ps', '-aq']).stdout.trim();
    assert.equal(ps, '', 'with --force-rm no build container is left behind');
    rmSync(dir, { recursive: true, force: true });
  });
  test('RUN --mount cache/bind/tmpfs, RUN heredocs (plain, shebang, inline), ADD from a URL and a local tar, COPY --chown/--chmod', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
    write(dir, { 'pkg/p.txt': 'packed\n', 's.txt': 'secret\n', 'www/files/remote.txt': 'from the web\n' });
    chmodSync(join(dir, 's.txt'), 0o600);
    assert.equal(spawnSync('tar', ['czf', join(dir, 'pkg.tar.gz'), '-C', dir, 'pkg']).status, 0);
    // The file server runs in its own process: docker() blocks this event loop.
    const server: ChildProcess = spawn(process.execPath, ['-e', `
      const http = require('node:http'); const fs = require('node:fs'); const path = require('node:path');
      const s = http.createServer((req, res) => { try { res.end(fs.readFileSync(path.join(${JSON.stringify(join(dir, 'www'))}, req.url))); } catch { res.statusCode = 404; res.end(); } });
      s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve) => server.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim())));
      write(dir, {
        'Dockerfile': `FROM busybox
RUN --mount=type=cache,target=/cache n=$(cat /cache/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /cache/count; echo $n > /count
RUN --mount=type=bind,source=pkg,target=/src cat /src/p.txt > /bound
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && mount | grep -c ' /scratch ' > /tmpfs
RUN <<EOF
echo heredoc $HOME > /hd
EOF
RUN <<EOF
#!/bin/awk -f
BEGIN { print "awk ran" > "/awk" }
EOF
RUN cat > /two <<A && cat >> /two <<'B'
one $HOME
A
two $HOME
B
ADD http://127.0.0.1:${port}/files/remote.txt /web/
ADD pkg.tar.gz /unpacked/
COPY --chown=1000:1000 --chmod=640 s.txt /s1
COPY s.txt /s2
RUN stat -c '%u:%g %a' /s1 /s2 > /st && ls /scratch | wc -l > /scratchleft
`,
      });
      const r = docker(d, ['build', '-t', 'features', dir]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = docker(d, ['run', '--rm', 'features', 'cat', '/count', '/bound', '/tmpfs', '/hd', '/awk', '/two', '/web/remote.txt', '/unpacked/pkg/p.txt', '/st', '/scratchleft']);
      assert.equal(out.stdout, '1\npacked\n1\nheredoc /root\nawk ran\none /root\ntwo $HOME\nfrom the web\npacked\n1000:1000 640\n0:0 600\n0\n', out.stderr);
      // The cache mount outlives the build: a rebuild without the step cache counts on.
      assert.equal(docker(d, ['build', '--no-cache', '-t', 'features2', dir]).code, 0);
      assert.equal(docker(d, ['run', '--rm', 'features2', 'cat', '/count']).stdout, '2\n');
      // A changed bound file re-runs the step that mounts it.
      write(dir, { 'pkg/p.txt': 'repacked\n' });
      const again = docker(d, ['build', '-t', 'features3', dir]);
      const lines = again.stdout.split('\n');
      const bindStep = lines.findIndex((l) => l.includes('--mount=type=bind'));
      assert.equal(lines[bindStep - 2], ' ---> Using cache');
      assert.notEqual(lines[bindStep + 1], ' ---> Using cache');
      assert.equal(docker(d, ['run', '--rm', 'features3', 'cat', '/bound']).stdout, 'repacked\n');
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('--cache-from restores steps from an image whose cache is gone; COPY --link reuses its layer on a new base; --platform is checked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
    try {
      write(dir, { 'f': 'v1\n', 'Dockerfile': 'FROM busybox\nENV A=1\nCOPY f /f\nRUN cat /f > /b\nCMD ["cat", "/b"]\n' });
      const first = docker(d, ['build', '-q', '-t', 'cf:1', dir]).stdout.trim();
      const saved = join(dir, 'cf.tar');
      assert.equal(docker(d, ['save', '-o', saved, 'cf:1']).code, 0);
      assert.equal(docker(d, ['rmi', 'cf:1']).code, 0);
      assert.equal(docker(d, ['builder', 'prune', '-af']).code, 0);
      assert.equal(docker(d, ['load', '-i', saved]).code, 0);
      const without = docker(d, ['build', '--no-cache', '-q', dir]).stdout.trim();
      assert.notEqual(without, first, 'a fresh build makes new images');
      assert.equal(docker(d, ['builder', 'prune', '-af']).code, 0);
      const withSource = docker(d, ['build', '--cache-from', 'cf:1', '-t', 'cf:2', dir]);
      assert.equal(withSource.code, 0, withSource.stderr);
      assert.equal(withSource.stdout.split('\n').filter((l) => l === ' ---> Using cache').length, 4, withSource.stdout);
      assert.equal(docker(d, ['inspect', '-f', '{{.Id}}', 'cf:2']).stdout.trim(), first);
      assert.equal(docker(d, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'cf:2']).stdout.split('\n')[0], '/bin/sh -c #(nop)  CMD ["cat" "/b"]');

      write(dir, { 'Dockerfile': 'FROM busybox\nARG X=1\nRUN echo $X > /x\nCOPY --link --chown=nobody f /d/f\n' });
      assert.equal(docker(d, ['build', '-t', 'lk:1', dir]).code, 0);
      const rebased = docker(d, ['build', '--build-arg', 'X=2', '-t', 'lk:2', dir]);
      const lines = rebased.stdout.split('\n');
      const runStep = lines.findIndex((l) => l.includes(': RUN echo'));
      assert.notEqual(lines[runStep + 1], ' ---> Using cache', 'the new build arg re-runs the RUN');
      const linkStep = lines.findIndex((l) => l.includes(': COPY --link'));
      assert.equal(lines[linkStep + 1], ' ---> Using cache', 'the linked layer is reused on the new base');
      assert.equal(docker(d, ['run', '--rm', 'lk:2', 'sh', '-c', 'cat /x /d/f; stat -c %u /d/f']).stdout, '2\nv1\n65534\n');
      const l1 = JSON.parse(docker(d, ['inspect', '-f', '{{json .RootFS.Layers}}', 'lk:1']).stdout) as string[];
      const l2 = JSON.parse(docker(d, ['inspect', '-f', '{{json .RootFS.Layers}}', 'lk:2']).stdout) as string[];
      assert.equal(l1.at(-1), l2.at(-1));
      assert.notEqual(l1.at(-2), l2.at(-2));

      const arm = docker(d, ['build', '-'], 'FROM --platform=linux/arm64 busybox\nRUN true\n');
      assert.equal(arm.code, 1);
      assert.match(arm.stderr, /image with reference busybox was found but does not match the specified platform: wanted linux\/arm64(\/v8)?, actual: linux\/amd64/);
      assert.equal(docker(d, ['build', '--platform', 'linux/amd64', '-q', '-'], 'FROM busybox\nRUN true\n').code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
