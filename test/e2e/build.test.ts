/** The real docker CLI (classic builder, DOCKER_BUILDKIT=0) builds Dockerfiles on berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
});
