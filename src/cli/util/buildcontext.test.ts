import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { addDockerfileToTar, contextEntries, contextFromReader, dockerfileRelPath, isArchive, outsideContext, peek, tarContext, trimBuildFilesFromExcludes } from './buildcontext.js';

async function collect(src: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of src) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listTar(buf: Buffer): Promise<Array<{ name: string; type: string; body: string; linkname?: string }>> {
  const out: Array<{ name: string; type: string; body: string; linkname?: string }> = [];
  const ex = tar.extract();
  const done = new Promise<void>((res, rej) => {
    ex.on('entry', (h, stream, next) => {
      void collect(stream).then((b) => {
        out.push({ name: h.name, type: h.type ?? '', body: b.toString(), ...(h.linkname ? { linkname: h.linkname } : {}) });
        next();
      });
    });
    ex.on('finish', res);
    ex.on('error', rej);
  });
  ex.end(buf);
  await done;
  return out;
}

async function oneFileTar(name: string, body: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name }, body);
  pack.finalize();
  return collect(pack as unknown as AsyncIterable<unknown>);
}

test('isArchive: tar and compressed streams are contexts; text and an empty archive are not', async () => {
  const t = await oneFileTar('Dockerfile', 'FROM x\n');
  assert.equal(isArchive(t.subarray(0, 1024)), true);
  assert.equal(isArchive(gzipSync(t).subarray(0, 1024)), true);
  assert.equal(isArchive(Buffer.from('FROM busybox\nRUN true\n')), false);
  assert.equal(isArchive(Buffer.alloc(1024)), false);
  const corrupt = Buffer.from(t.subarray(0, 512));
  corrupt[0] = 0x41;
  assert.equal(isArchive(corrupt), false, 'a bad checksum is text');
});

test('peek hands back the head and the whole stream', async () => {
  const parts = [Buffer.from('abc'), Buffer.from('def'), Buffer.from('ghi')];
  const { head, all } = await peek(Readable.from(parts), 4);
  assert.equal(head.toString(), 'abcd');
  assert.equal((await collect(all)).toString(), 'abcdefghi');
  const short = await peek(Readable.from([Buffer.from('x')]), 10);
  assert.equal(short.head.toString(), 'x');
  assert.equal((await collect(short.all)).toString(), 'x');
});

test('contextFromReader: text becomes a context holding only Dockerfile', async () => {
  const r = await contextFromReader(Readable.from([Buffer.from('FROM busybox\n')]), '');
  assert.equal(r.relDockerfile, 'Dockerfile');
  assert.deepEqual(await listTar(await collect(r.body)), [{ name: 'Dockerfile', type: 'file', body: 'FROM busybox\n' }]);
  const t = await oneFileTar('Custom', 'FROM y\n');
  const passed = await contextFromReader(Readable.from([t]), 'Custom');
  assert.equal(passed.relDockerfile, 'Custom');
  assert.deepEqual(await collect(passed.body), t);
});

test('addDockerfileToTar: the Dockerfile added, .dockerignore extended or made', async () => {
  const withIgnore = await oneFileTar('.dockerignore', '*.log');
  const a = await listTar(await collect(addDockerfileToTar(Readable.from([withIgnore]), { name: '.dockerfile.0123', content: Buffer.from('FROM z\n') })));
  assert.deepEqual(a.map((e) => [e.name, e.body]), [
    ['.dockerignore', '*.log\n.dockerfile.0123\n'],
    ['.dockerfile.0123', 'FROM z\n'],
  ]);
  const without = await oneFileTar('a', 'a');
  const b = await listTar(await collect(addDockerfileToTar(Readable.from([without]), { name: '.dockerfile.0123', content: Buffer.from('FROM z\n') })));
  assert.deepEqual(b.map((e) => [e.name, e.body]), [
    ['a', 'a'],
    ['.dockerfile.0123', 'FROM z\n'],
    ['.dockerignore', '.dockerignore\n.dockerfile.0123\n'],
  ]);
});

test('a directory context: Dockerfile paths, excludes trimmed, links never followed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  try {
    const ctx = join(root, 'ctx');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    writeFileSync(join(ctx, 'dockerfile'), 'FROM x\n');
    writeFileSync(join(ctx, 'sub/f'), 'f');
    writeFileSync(join(root, 'secret'), 'outside');
    symlinkSync(join(root, 'secret'), join(ctx, 'sub/escape'));
    symlinkSync(root, join(ctx, 'dirlink'));
    assert.equal(await dockerfileRelPath(ctx, ''), 'dockerfile', 'the lower-case name is found');
    const out = await dockerfileRelPath(ctx, join(root, 'secret'));
    assert.equal(out, '../secret');
    assert.equal(outsideContext(out), true);
    await assert.rejects(dockerfileRelPath(ctx, join(ctx, 'nope')), /unable to evaluate symlinks in Dockerfile path: lstat .*nope: no such file or directory/);

    assert.deepEqual(trimBuildFilesFromExcludes(['dockerfile', '.dockerignore'], 'dockerfile', false), ['dockerfile', '.dockerignore', '!.dockerignore', '!dockerfile']);
    assert.deepEqual(trimBuildFilesFromExcludes(['*'], 'dockerfile', true), ['*', '!.dockerignore']);

    const entries = await contextEntries(ctx, []);
    const listed = await listTar(await collect(tarContext(entries)));
    assert.deepEqual(
      listed.map((e) => [e.name, e.type, e.linkname ?? e.body]),
      [
        ['dirlink', 'symlink', root],
        ['dockerfile', 'file', 'FROM x\n'],
        ['sub/', 'directory', ''],
        ['sub/escape', 'symlink', join(root, 'secret')],
        ['sub/f', 'file', 'f'],
      ],
    );
    await assert.rejects(contextEntries(ctx, ['[']), /error checking context: syntax error in pattern/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
