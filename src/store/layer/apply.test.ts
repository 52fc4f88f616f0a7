import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { BerthError } from '../../lib/errors.js';
import { lgetxattr, mount, umount, XATTR_OPAQUE, MNT_DETACH } from '../../lib/sys.js';
import { applyLayer, type LayerEntry } from './apply.js';
import { listTree, sandbox, streamOf, tarOf, type Spec } from './testutil.js';

const T = Date.parse('2020-02-02T02:02:02Z') / 1000;
// A v2 file capability granting cap_setuid: binary, and not valid UTF-8.
const CAP = Buffer.from('0100000280000000000000000000000000000000', 'hex');

async function apply(specs: Spec[], dest: string, onEntry?: (e: LayerEntry) => void) {
  return applyLayer(streamOf(await tarOf(specs)), dest, { onEntry });
}

/** Asserts an InvalidArgument BerthError whose message matches. */
async function refused(p: Promise<unknown>, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.equal(err.kind, 'InvalidArgument');
    assert.match(err.message, message);
    return true;
  });
}

test('extracts files, directories, links and fifos with owners, modes, times and xattrs', async () => {
  const box = await sandbox();
  try {
    const seen: string[] = [];
    const { size } = await apply(
      [
        { header: { name: './', type: 'directory', mode: 0o755 } },
        { header: { name: 'etc/', type: 'directory', mode: 0o755 } },
        { header: { name: 'etc/passwd', mode: 0o644 }, body: 'root:x:0:0::/root:/bin/sh\n' },
        { header: { name: 'bin/su', mode: 0o4755, uid: 1000, gid: 1000 }, body: 'ELF-su' },
        { header: { name: 'usr/bin/newgrp', mode: 0o2711, uid: 0, gid: 1000 }, body: 'ELF-newgrp' },
        { header: { name: 'bin/ping', mode: 0o755 }, body: 'ELF-ping', xattrs: { 'security.capability': CAP, 'user.note': 'hi' } },
        { header: { name: 'tmp/', type: 'directory', mode: 0o1777 } },
        { header: { name: 'home/me/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 } },
        { header: { name: 'home/me/big-id', mode: 0o600, pax: { uid: '1000000', gid: '1000001' } }, body: 'x' },
        { header: { name: 'lib', type: 'symlink', linkname: 'usr/lib', uid: 7, gid: 8 } },
        { header: { name: 'etc/localtime', type: 'symlink', linkname: '/usr/share/zoneinfo/UTC' } },
        { header: { name: 'bin/su2', type: 'link', linkname: 'bin/su' } },
        { header: { name: 'run/fifo', type: 'fifo', mode: 0o620, uid: 3, gid: 4 } },
        // overlayfs's own xattrs from a tar would forge overlay semantics: dropped
        { header: { name: 'var/', type: 'directory', mode: 0o755 }, xattrs: { [XATTR_OPAQUE]: 'y', 'trusted.overlay.redirect': '/etc' } },
      ],
      box.dest,
      (e) => seen.push(`${e.type}:${e.path}`),
    );
    const d = box.dest;
    assert.equal(size, 26 + 6 + 10 + 8 + 1);
    assert.equal(seen.length, 14);
    assert.ok(seen.includes('directory:') && seen.includes('link:bin/su2'));

    assert.equal(await fs.readFile(join(d, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
    const su = await fs.lstat(join(d, 'bin/su'));
    assert.equal(su.mode & 0o7777, 0o4755, 'setuid survives the chown');
    assert.deepEqual([su.uid, su.gid], [1000, 1000]);
    assert.equal(su.mtimeMs / 1000, T);
    const newgrp = await fs.lstat(join(d, 'usr/bin/newgrp'));
    assert.equal(newgrp.mode & 0o7777, 0o2711);
    assert.equal((await fs.lstat(join(d, 'tmp'))).mode & 0o7777, 0o1777);
    const home = await fs.lstat(join(d, 'home/me'));
    assert.deepEqual([home.mode & 0o7777, home.uid, home.gid], [0o700, 1000, 1000]);
    assert.equal(home.mtimeMs / 1000, T, 'directory mtime is set after its children are written');
    assert.equal((await fs.lstat(d)).mode & 0o7777, 0o755, 'the root entry sets dest metadata');
    const big = await fs.lstat(join(d, 'home/me/big-id'));
    assert.deepEqual([big.uid, big.gid], [1000000, 1000001]);

    assert.deepEqual(lgetxattr(join(d, 'bin/ping'), 'security.capability'), CAP);
    assert.equal(lgetxattr(join(d, 'bin/ping'), 'user.note')?.toString(), 'hi');
    assert.equal(lgetxattr(join(d, 'var'), XATTR_OPAQUE), null);
    assert.equal(lgetxattr(join(d, 'var'), 'trusted.overlay.redirect'), null);

    assert.equal(await fs.readlink(join(d, 'lib')), 'usr/lib');
    const lib = await fs.lstat(join(d, 'lib'));
    assert.deepEqual([lib.uid, lib.gid, lib.mtimeMs / 1000], [7, 8, T]);
    assert.equal(await fs.readlink(join(d, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
    const su2 = await fs.lstat(join(d, 'bin/su2'));
    assert.equal(su2.ino, su.ino);
    assert.equal(su2.nlink, 2);
    assert.equal(su2.mode & 0o7777, 0o4755, 'a hard link leaves the shared inode alone');
    const fifo = await fs.lstat(join(d, 'run/fifo'));
    assert.ok(fifo.isFIFO());
    assert.deepEqual([fifo.mode & 0o7777, fifo.uid, fifo.gid], [0o620, 3, 4]);
    // parents the tar never listed are made 0755 root
    const run = await fs.lstat(join(d, 'run'));
    assert.deepEqual([run.mode & 0o7777, run.uid], [0o755, 0]);
  } finally {
    await box.cleanup();
  }
});

test('normalises names: ./, //, trailing /, . segments; . and ./ are the root', async () => {
  const box = await sandbox();
  try {
    await apply(
      [
        { header: { name: '.', type: 'directory', mode: 0o750, uid: 5, gid: 6 } },
        { header: { name: './a//b/', type: 'directory', mode: 0o711 } },
        { header: { name: 'a/./b//c', mode: 0o644 }, body: 'c' },
        { header: { name: 'x/../y', mode: 0o644 }, body: 'y' },
      ],
      box.dest,
    );
    const root = await fs.lstat(box.dest);
    assert.deepEqual([root.mode & 0o7777, root.uid, root.gid, root.mtimeMs / 1000], [0o750, 5, 6, T]);
    assert.equal((await fs.lstat(join(box.dest, 'a/b'))).mode & 0o7777, 0o711);
    assert.equal(await fs.readFile(join(box.dest, 'a/b/c'), 'utf8'), 'c');
    assert.equal(await fs.readFile(join(box.dest, 'y'), 'utf8'), 'y');
  } finally {
    await box.cleanup();
  }
});

test('a later entry replaces an earlier one of the same name', async () => {
  const box = await sandbox();
  try {
    await apply(
      [
        { header: { name: 'f' }, body: 'one' },
        { header: { name: 'f', mode: 0o600 }, body: 'two' },
        { header: { name: 'd/', type: 'directory' } },
        { header: { name: 'd/child' }, body: 'gone' },
        { header: { name: 'd' }, body: 'now a file' },
        { header: { name: 'k/', type: 'directory', mode: 0o755 } },
        { header: { name: 'k/keep' }, body: 'kept' },
        { header: { name: 'k/', type: 'directory', mode: 0o700, uid: 9 } },
        { header: { name: 's', type: 'symlink', linkname: 'f' } },
        { header: { name: 's/', type: 'directory' } },
        { header: { name: 's/inside' }, body: 'in' },
      ],
      box.dest,
    );
    const d = box.dest;
    assert.equal(await fs.readFile(join(d, 'f'), 'utf8'), 'two');
    assert.equal((await fs.lstat(join(d, 'f'))).mode & 0o777, 0o600);
    assert.equal(await fs.readFile(join(d, 'd'), 'utf8'), 'now a file');
    assert.equal(await fs.readFile(join(d, 'k/keep'), 'utf8'), 'kept', 'a directory over a directory keeps its children');
    const k = await fs.lstat(join(d, 'k'));
    assert.deepEqual([k.mode & 0o777, k.uid], [0o700, 9]);
    assert.ok((await fs.lstat(join(d, 's'))).isDirectory());
    assert.equal(await fs.readFile(join(d, 's/inside'), 'utf8'), 'in');
    assert.equal(await fs.readFile(join(d, 'f'), 'utf8'), 'two', 'nothing was written through the old symlink');
  } finally {
    await box.cleanup();
  }
});

test('whiteouts become 0:0 character devices and opaque markers an xattr', async () => {
  const box = await sandbox();
  try {
    await apply(
      [
        { header: { name: 'etc/', type: 'directory', mode: 0o755 } },
        { header: { name: 'etc/.wh.old' } },
        { header: { name: 'usr/.wh..wh..opq' } },
        { header: { name: 'usr/new' }, body: 'new' },
        { header: { name: '.wh..wh.plnk/', type: 'directory' } },
        { header: { name: '.wh..wh.plnk/12.34' }, body: 'aufs' },
        { header: { name: 'etc/.wh..wh.aufs' } },
      ],
      box.dest,
    );
    const d = box.dest;
    const wh = await fs.lstat(join(d, 'etc/old'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(lgetxattr(join(d, 'usr'), XATTR_OPAQUE)?.toString(), 'y');
    assert.deepEqual((await fs.readdir(d)).sort(), ['etc', 'usr']);
    assert.deepEqual((await fs.readdir(join(d, 'etc'))).sort(), ['old']);
  } finally {
    await box.cleanup();
  }
});

test('overlayfs honours the applied whiteouts and opaque directories', async () => {
  const box = await sandbox();
  const lower = join(box.root, 'lower');
  const merged = join(box.root, 'merged');
  try {
    await fs.mkdir(join(lower, 'etc'), { recursive: true });
    await fs.mkdir(join(lower, 'usr/lib'), { recursive: true });
    await fs.writeFile(join(lower, 'etc/old'), 'old');
    await fs.writeFile(join(lower, 'etc/keep'), 'keep');
    await fs.writeFile(join(lower, 'usr/lib/libc.so'), 'libc');
    await fs.writeFile(join(lower, 'usr/top'), 'top');
    await fs.mkdir(merged);
    await apply(
      [
        { header: { name: 'etc/.wh.old' } },
        { header: { name: 'usr/', type: 'directory', mode: 0o755 } },
        { header: { name: 'usr/.wh..wh..opq' } },
        { header: { name: 'usr/new' }, body: 'new' },
      ],
      box.dest,
    );
    mount('overlay', merged, 'overlay', 0, `lowerdir=${box.dest}:${lower}`);
    try {
      assert.deepEqual((await fs.readdir(join(merged, 'etc'))).sort(), ['keep']);
      assert.deepEqual((await fs.readdir(join(merged, 'usr'))).sort(), ['new']);
      assert.equal(await fs.readFile(join(merged, 'etc/keep'), 'utf8'), 'keep');
    } finally {
      umount(merged, MNT_DETACH);
    }
  } finally {
    await box.cleanup();
  }
});

/** Everything in the sandbox except dest, so a test can see that nothing outside dest changed. */
/** Everything outside dest; dest's own mtime is left out, since writing inside dest rightly changes it. */
async function outside(box: { root: string }): Promise<string[]> {
  return (await listTree(box.root)).filter((l) => !l.startsWith('dest/')).map((l) => (l.startsWith('dest ') ? l.replace(/ t=\d+/, '') : l));
}

test('refuses malicious layers and writes nothing outside dest', async (t) => {
  const passwd = await fs.readFile('/etc/passwd');
  const cases: Array<[string, (canary: string) => Spec[], RegExp]> = [
    ['../ name', () => [{ header: { name: '../escape' }, body: 'x' }], /"\.\.\/escape": name escapes the layer/],
    ['absolute name', () => [{ header: { name: '/abs' }, body: 'x' }], /"\/abs": name is an absolute path/],
    ['a/../../ name', () => [{ header: { name: 'a/../../x' }, body: 'x' }], /"a\/\.\.\/\.\.\/x": name escapes the layer/],
    ['NUL in name', () => [{ header: { name: 'ab', pax: { path: 'a\0b' } }, body: 'x' }], /name contains NUL/],
    [
      'file through a symlink to outside',
      (canary) => [
        { header: { name: 'evil', type: 'symlink', linkname: canary } },
        { header: { name: 'evil/pwned' }, body: 'x' },
      ],
      /"evil\/pwned": path passes through symlink "evil"/,
    ],
    [
      'file through a symlink to /etc',
      () => [
        { header: { name: 'evil', type: 'symlink', linkname: '/etc' } },
        { header: { name: 'evil/passwd' }, body: 'hacked::0:0::/:/bin/sh\n' },
      ],
      /"evil\/passwd": path passes through symlink "evil"/,
    ],
    [
      'file through a symlink to ..',
      () => [
        { header: { name: 'up', type: 'symlink', linkname: '..' } },
        { header: { name: 'up/x' }, body: 'x' },
      ],
      /"up\/x": path passes through symlink "up"/,
    ],
    [
      'deep file through a symlinked directory',
      (canary) => [
        { header: { name: 'a/b', type: 'symlink', linkname: canary } },
        { header: { name: 'a/b/c/d' }, body: 'x' },
      ],
      /path passes through symlink "a\/b"/,
    ],
    [
      'hard link through a symlink to an absolute path',
      (canary) => [
        { header: { name: 'abs', type: 'symlink', linkname: canary } },
        { header: { name: 'x', type: 'link', linkname: 'abs/file' } },
      ],
      /"x": hard link target "abs\/file" does not exist in this layer/,
    ],
    [
      'hard link placed through a symlink',
      (canary) => [
        { header: { name: 'f' }, body: 'f' },
        { header: { name: 'abs', type: 'symlink', linkname: canary } },
        { header: { name: 'abs/newlink', type: 'link', linkname: 'f' } },
      ],
      /"abs\/newlink": path passes through symlink "abs"/,
    ],
    [
      'hard link to a file whose directory became a symlink',
      (canary) => [
        { header: { name: 'a/file' }, body: 'f' },
        { header: { name: 'a', type: 'symlink', linkname: canary } },
        { header: { name: 'x', type: 'link', linkname: 'a/file' } },
      ],
      /does not exist in this layer/,
    ],
    ['hard link to /etc/passwd', () => [{ header: { name: 'pw', type: 'link', linkname: '/etc/passwd' } }], /"pw": hard link target is an absolute path/],
    ['hard link to ../x', () => [{ header: { name: 'x', type: 'link', linkname: '../canary/file' } }], /"x": hard link target escapes the layer/],
    [
      'hard link to a directory',
      () => [
        { header: { name: 'd/', type: 'directory' } },
        { header: { name: 'x', type: 'link', linkname: 'd' } },
      ],
      /is not a regular file or symlink/,
    ],
    ['character device outside dev/', () => [{ header: { name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 } }], /"mem": device node outside dev\//],
    ['block device outside dev/', () => [{ header: { name: 'etc/sda', type: 'block-device', devmajor: 8, devminor: 0 } }], /device node outside dev\//],
    [
      'opaque marker through a symlink',
      (canary) => [
        { header: { name: 'evil', type: 'symlink', linkname: canary } },
        { header: { name: 'evil/.wh..wh..opq' } },
      ],
      /path passes through symlink "evil"/,
    ],
    [
      'whiteout through a symlink',
      (canary) => [
        { header: { name: 'evil', type: 'symlink', linkname: canary } },
        { header: { name: 'evil/.wh.file' } },
      ],
      /path passes through symlink "evil"/,
    ],
    ['whiteout of ..', () => [{ header: { name: 'a/.wh...' } }], /invalid whiteout name/],
    ['a symlink as the root', () => [{ header: { name: './', type: 'symlink', linkname: '/' } }], /cannot replace the layer root/],
  ];
  for (const [title, specs, message] of cases) {
    await t.test(title, async () => {
      const box = await sandbox();
      try {
        const before = await outside(box);
        await refused(apply(specs(box.canary), box.dest), message);
        assert.deepEqual(await outside(box), before);
        assert.deepEqual(await fs.readFile('/etc/passwd'), passwd);
      } finally {
        await box.cleanup();
      }
    });
  }
});

test('device nodes under dev/ are skipped, not created', async () => {
  const box = await sandbox();
  try {
    await apply(
      [
        { header: { name: 'dev/', type: 'directory', mode: 0o755 } },
        { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 } },
        { header: { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 } },
        { header: { name: 'dev/shm/', type: 'directory', mode: 0o1777 } },
      ],
      box.dest,
    );
    assert.deepEqual(await fs.readdir(join(box.dest, 'dev')), ['shm']);
  } finally {
    await box.cleanup();
  }
});

test('a file replacing a symlink is written in place, never through the link', async () => {
  const box = await sandbox();
  try {
    const before = await outside(box);
    const target = join(box.canary, 'file');
    await apply(
      [
        { header: { name: 'f', type: 'symlink', linkname: target } },
        { header: { name: 'f', mode: 0o644 }, body: 'pwned' },
        { header: { name: 'g', type: 'symlink', linkname: join(box.canary, 'new') } },
        { header: { name: 'g' }, body: 'pwned' },
        { header: { name: 'h', type: 'symlink', linkname: box.canary } },
        { header: { name: 'h/', type: 'directory' } },
        { header: { name: 'h/file' }, body: 'pwned' },
      ],
      box.dest,
    );
    assert.ok((await fs.lstat(join(box.dest, 'f'))).isFile());
    assert.equal(await fs.readFile(join(box.dest, 'f'), 'utf8'), 'pwned');
    assert.equal(await fs.readFile(join(box.dest, 'h/file'), 'utf8'), 'pwned');
    assert.deepEqual(await outside(box), before);
    assert.equal(await fs.readFile(target, 'utf8'), 'canary\n');
  } finally {
    await box.cleanup();
  }
});

test('a malformed or truncated tar is InvalidArgument; a failing source keeps its own error', async () => {
  const box = await sandbox();
  try {
    const good = await tarOf([{ header: { name: 'f' }, body: Buffer.alloc(5000, 1) }]);
    await refused(applyLayer(Readable.from([good.subarray(0, 2000)]), box.dest), /^invalid layer tar: /);
    const other = join(box.root, 'other');
    await fs.mkdir(other);
    await refused(applyLayer(Readable.from([Buffer.alloc(1024, 0x41)]), other), /^invalid layer tar: /);

    const third = join(box.root, 'third');
    await fs.mkdir(third);
    const src = new PassThrough();
    const boom = Object.assign(new Error('unexpected end of gzip'), { code: 'Z_BUF_ERROR' });
    const p = applyLayer(src, third);
    src.write(good.subarray(0, 1000));
    setTimeout(() => src.destroy(boom), 10);
    await assert.rejects(p, (err) => err === boom);
  } finally {
    await box.cleanup();
  }
});

test('a 50 MB file streams to disk', async () => {
  const box = await sandbox();
  try {
    const size = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    const pack = tar.pack();
    const hash = createHash('sha256');
    // Fed chunk by chunk with backpressure: the tar never exists whole in memory.
    const feeding = (async () => {
      const sink = pack.entry({ name: 'big', size, mode: 0o644 });
      for (let i = 0; i < size / chunk.length; i++) {
        chunk.fill(i & 0xff);
        const copy = Buffer.from(chunk);
        hash.update(copy);
        if (!sink.write(copy)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
      sink.end(undefined);
      pack.entry({ name: 'after' }, 'done');
      pack.finalize();
    })();
    const { size: total } = await applyLayer(Readable.from(pack), box.dest);
    await feeding;
    assert.equal(total, size + 4);
    assert.equal((await fs.stat(join(box.dest, 'big'))).size, size);
    const onDisk = createHash('sha256').update(await fs.readFile(join(box.dest, 'big'))).digest('hex');
    assert.equal(onDisk, hash.digest('hex'));
    assert.equal(await fs.readFile(join(box.dest, 'after'), 'utf8'), 'done');
  } finally {
    await box.cleanup();
  }
});
