import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyUp } from './copyup.js';

test('copy-up keeps owners, modes, symlinks, hard links and FIFOs, and takes the source root’s owner and mode', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-copyup-'));
  try {
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await fs.mkdir(join(src, 'sub'), { recursive: true });
    await fs.mkdir(dst);
    await fs.writeFile(join(src, 'sub', 'f'), 'data');
    await fs.chmod(join(src, 'sub', 'f'), 0o640);
    await fs.chown(join(src, 'sub', 'f'), 1234, 5678);
    await fs.link(join(src, 'sub', 'f'), join(src, 'hard'));
    await fs.symlink('sub/f', join(src, 'link'));
    await fs.chmod(src, 0o750);
    await fs.chown(src, 1000, 1000);
    const { spawnSync } = await import('node:child_process');
    spawnSync('mkfifo', [join(src, 'pipe')]);

    assert.equal(await copyUp(src, dst), true);
    const f = await fs.stat(join(dst, 'sub', 'f'));
    assert.equal(f.mode & 0o7777, 0o640);
    assert.equal(f.uid, 1234);
    assert.equal(f.gid, 5678);
    assert.equal(await fs.readFile(join(dst, 'sub', 'f'), 'utf8'), 'data');
    assert.equal((await fs.stat(join(dst, 'hard'))).ino, f.ino);
    assert.equal(await fs.readlink(join(dst, 'link')), 'sub/f');
    assert.ok((await fs.lstat(join(dst, 'pipe'))).isFIFO());
    const top = await fs.stat(dst);
    assert.equal(top.mode & 0o7777, 0o750);
    assert.equal(top.uid, 1000);

    // A volume with content is left alone; a missing or non-directory source copies nothing.
    await fs.writeFile(join(src, 'later'), 'x');
    assert.equal(await copyUp(src, dst), false);
    await assert.rejects(fs.stat(join(dst, 'later')));
    const empty = join(root, 'empty');
    await fs.mkdir(empty);
    assert.equal(await copyUp(join(root, 'missing'), empty), false);
    assert.equal(await copyUp(join(src, 'later'), empty), false);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
