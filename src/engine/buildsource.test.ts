import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { glob, HostTree, TarTree } from './buildsource.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '');
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function load(entries: Entry[]) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tartree-'));
  const tree = await TarTree.load(Readable.from([await tarOf(entries)]), join(dir, 'spool'), dir);
  return { dir, tree, done: async () => (await tree.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('a spooled context: files read back, parents implied, hard links share content, .. clamped to the root', async () => {
  const { tree, done } = await load([
    { name: 'a/b.txt', body: 'bee' },
    { name: 'a/hard', type: 'link', linkname: 'a/b.txt' },
    { name: '../../escape.txt', body: 'clamped' },
    { name: '/abs.txt', body: 'abs' },
    { name: 'x.sh', body: '#!/bin/sh\n', mode: 0o755 },
  ]);
  try {
    assert.deepEqual(tree.paths().sort(), ['a', 'a/b.txt', 'a/hard', 'abs.txt', 'escape.txt', 'x.sh']);
    assert.equal((await tree.head('a/hard', 100)).toString(), 'bee');
    assert.equal((await tree.entry('x.sh'))?.mode, 0o755);
    assert.equal((await tree.entry('a'))?.kind, 'dir');
    assert.deepEqual(await glob(tree, '*.txt'), ['abs.txt', 'escape.txt']);
    assert.deepEqual(await glob(tree, 'a/*'), ['a/b.txt', 'a/hard']);
  } finally {
    await done();
  }
});

test('symlinks resolve inside the context, never out of it', async () => {
  const { tree, done } = await load([
    { name: 'data/f.txt', body: 'f' },
    { name: 'up', type: 'symlink', linkname: '../../../etc' },
    { name: 'abs', type: 'symlink', linkname: '/data' },
    { name: 'loop', type: 'symlink', linkname: 'loop' },
  ]);
  try {
    assert.equal(await tree.resolve('abs/f.txt'), 'data/f.txt');
    assert.equal(await tree.resolve('up/passwd'), undefined, '/etc of the context, which it does not have');
    assert.equal(await tree.resolve('up', false), 'up');
    assert.equal(await tree.resolve('loop'), undefined);
    assert.equal(await tree.resolve('data/f.txt/more'), undefined);
  } finally {
    await done();
  }
});

test('digests follow content, names and modes, not times; remove drops a subtree', async () => {
  const one = await load([{ name: 'd/f', body: 'same' }]);
  const two = await load([{ name: 'd/f', body: 'same' }]);
  const other = await load([{ name: 'd/f', body: 'diff' }]);
  try {
    assert.equal(await one.tree.digest('d'), await two.tree.digest('d'));
    assert.notEqual(await one.tree.digest('d'), await other.tree.digest('d'));
    one.tree.remove('d');
    assert.deepEqual(one.tree.paths(), []);
  } finally {
    await one.done();
    await two.done();
    await other.done();
  }
});

test('a bind-mount copy of a context directory, and a host tree of the same files digests alike', async () => {
  const { tree, done } = await load([{ name: 'pkg/p.txt', body: 'packed' }, { name: 'pkg/run', body: 'x', mode: 0o750 }]);
  try {
    const host = await tree.hostPath('pkg');
    assert.equal(host.owned, true);
    assert.equal(readFileSync(join(host.path, 'p.txt'), 'utf8'), 'packed');
    assert.equal(statSync(join(host.path, 'run')).mode & 0o777, 0o750);
    const ht = new HostTree(host.path);
    assert.equal((await ht.head('p.txt', 3)).toString(), 'pac');
    assert.deepEqual(await glob(ht, '*'), ['p.txt', 'run']);
    await host.release();
    assert.throws(() => statSync(host.path));
  } finally {
    await done();
  }
});
