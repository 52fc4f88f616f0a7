import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';
import { lsetxattr, mknod, mount, umount, MNT_DETACH, S_IFBLK, S_IFCHR, XATTR_OPAQUE } from '../../lib/sys.js';
import { applyLayer } from './apply.js';
import { diffTar } from './diff.js';
import { listTree, sandbox, streamOf, tarOf, type Spec } from './testutil.js';

const CAP = Buffer.from('0100000280000000000000000000000000000000', 'hex');

interface Seen {
  name: string;
  type: string;
  linkname: string | null;
  size: number;
  pax: Record<string, string> | null;
  devmajor: number;
  devminor: number;
}

/** The entries of a tar, in order. */
async function entriesOf(buf: Buffer): Promise<Seen[]> {
  const out: Seen[] = [];
  const extract = tar.extract();
  Readable.from([buf]).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const h = entry.header;
    const pax = (h.pax ?? null) as Record<string, string> | null;
    out.push({ name: h.name, type: h.type, linkname: h.linkname || null, size: h.size, pax, devmajor: h.devmajor, devminor: h.devminor });
    entry.resume();
  }
  return out;
}

const longDir = `ünïcödé-${'d'.repeat(90)}`;
const longName = `${longDir}/${'f'.repeat(120)}`;

const RICH: Spec[] = [
  { header: { name: 'bin/', type: 'directory', mode: 0o755 } },
  { header: { name: 'bin/su', mode: 0o4755, uid: 1000, gid: 1000 }, body: 'ELF-su' },
  { header: { name: 'bin/ping', mode: 0o755 }, body: 'ELF-ping', xattrs: { 'security.capability': CAP, 'user.note': 'hi' } },
  { header: { name: 'bin/su-again', type: 'link', linkname: 'bin/su' } },
  { header: { name: `${longDir}/`, type: 'directory', mode: 0o750, uid: 2, gid: 3 } },
  { header: { name: longName, mode: 0o640, pax: { uid: '1000000', gid: '1000001' } }, body: 'long' },
  { header: { name: 'bin/long-link', type: 'link', linkname: longName } },
  { header: { name: 'etc/.wh.old' } },
  { header: { name: 'etc/hosts', mode: 0o644 }, body: '127.0.0.1 localhost\n' },
  { header: { name: 'etc/long-target', type: 'symlink', linkname: `/${'t'.repeat(150)}/ß` } },
  { header: { name: 'lib', type: 'symlink', linkname: 'usr/lib', uid: 5, gid: 6 } },
  { header: { name: 'lib-again', type: 'link', linkname: 'lib' } },
  { header: { name: 'run/fifo', type: 'fifo', mode: 0o620 } },
  { header: { name: 'tmp/', type: 'directory', mode: 0o1777 } },
  { header: { name: 'usr/', type: 'directory', mode: 0o755 }, xattrs: { 'user.dir': Buffer.from([0, 0xff, 0x80]) } },
  { header: { name: 'usr/.wh..wh..opq' } },
  { header: { name: 'usr/empty' }, body: '' },
  { header: { name: 'var/', type: 'directory', mode: 0o2775, gid: 50 } },
];

test('apply, diffTar, apply again gives the same tree, and diffTar is deterministic', async () => {
  const box = await sandbox();
  try {
    const a = join(box.root, 'a');
    const b = join(box.root, 'b');
    await fs.mkdir(a);
    await fs.mkdir(b);
    await applyLayer(streamOf(await tarOf(RICH)), a);
    const tarA = await buffer(diffTar(a));
    await applyLayer(streamOf(tarA), b);
    const treeA = await listTree(a);
    assert.deepEqual(await listTree(b), treeA);
    assert.ok(treeA.some((l) => l.startsWith('bin/ping ') && l.includes(`security.capability=${CAP.toString('hex')}`)));
    assert.ok(treeA.some((l) => l.startsWith('usr ') && l.includes(`${XATTR_OPAQUE}=79`)));
    assert.ok(treeA.some((l) => l.startsWith('etc/old c ')));
    assert.ok(treeA.some((l) => l.startsWith(`${longName} f 640 1000000:1000001 4 n=2`)));
    assert.deepEqual(await buffer(diffTar(b)), tarA);
  } finally {
    await box.cleanup();
  }
});

test('diffTar writes OCI names, whiteouts, opaque markers, hard links and xattrs in order', async () => {
  const box = await sandbox();
  try {
    const d = box.dest;
    await fs.mkdir(join(d, 'a'));
    lsetxattr(join(d, 'a'), XATTR_OPAQUE, 'y');
    mknod(join(d, 'a/gone'), S_IFCHR, 0, 0);
    await fs.writeFile(join(d, 'a.txt'), 'text');
    lsetxattr(join(d, 'a.txt'), 'user.keep', '1');
    lsetxattr(join(d, 'a.txt'), 'trusted.overlay.origin', 'x');
    await fs.mkdir(join(d, 'b'));
    await fs.writeFile(join(d, 'b/x'), 'xx');
    await fs.link(join(d, 'b/x'), join(d, 'b/y'));
    await fs.symlink('b/x', join(d, 'c'));
    mknod(join(d, 'b/null'), S_IFCHR | 0o666, 1, 3);
    mknod(join(d, 'b/odd'), S_IFBLK | 0o600, 260, 70000);

    const seen = await entriesOf(await buffer(diffTar(d)));
    assert.deepEqual(
      seen.map((e) => [e.name, e.type, e.linkname]),
      [
        ['a/', 'directory', null],
        ['a/.wh..wh..opq', 'file', null],
        ['a/.wh.gone', 'file', null],
        ['a.txt', 'file', null],
        ['b/', 'directory', null],
        ['b/null', 'character-device', null],
        ['b/odd', 'block-device', null],
        ['b/x', 'file', null],
        ['b/y', 'link', 'b/x'],
        ['c', 'symlink', 'b/x'],
      ],
    );
    const byName = new Map(seen.map((e) => [e.name, e]));
    assert.deepEqual(byName.get('a.txt')!.pax, { 'SCHILY.xattr.user.keep': '1' });
    assert.equal(byName.get('a/')!.pax, null, 'the opaque xattr itself is not copied');
    assert.equal(byName.get('a/.wh.gone')!.size, 0);
    assert.deepEqual([byName.get('b/null')!.devmajor, byName.get('b/null')!.devminor], [1, 3]);
    assert.deepEqual([byName.get('b/odd')!.devmajor, byName.get('b/odd')!.devminor], [260, 70000]);
  } finally {
    await box.cleanup();
  }
});

test('an overlayfs upper dir round-trips through diffTar and applyLayer', async () => {
  const box = await sandbox();
  const lower = join(box.root, 'lower');
  const upper = join(box.root, 'upper');
  const work = join(box.root, 'work');
  const merged = join(box.root, 'merged');
  try {
    for (const dir of ['etc', 'usr/lib', 'var/log']) await fs.mkdir(join(lower, dir), { recursive: true });
    await fs.writeFile(join(lower, 'etc/old'), 'old');
    await fs.writeFile(join(lower, 'etc/keep'), 'keep');
    await fs.writeFile(join(lower, 'usr/lib/libc.so'), 'libc');
    await fs.writeFile(join(lower, 'var/log/a.log'), 'a');
    for (const dir of [upper, work, merged]) await fs.mkdir(dir);

    // Make changes through a writable overlay, the way a container does.
    mount('overlay', merged, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    let expected: string[];
    try {
      await fs.rm(join(merged, 'etc/old'));
      await fs.rm(join(merged, 'var/log/a.log'));
      await fs.rm(join(merged, 'usr'), { recursive: true });
      await fs.mkdir(join(merged, 'usr'));
      await fs.writeFile(join(merged, 'usr/new'), 'new');
      await fs.writeFile(join(merged, 'etc/keep'), 'changed');
      await fs.link(join(merged, 'etc/keep'), join(merged, 'etc/keep2'));
      await fs.symlink('/etc/keep', join(merged, 'etc/link'));
      expected = await listTree(merged, { mtimes: false });
    } finally {
      umount(merged, MNT_DETACH);
    }

    const layer = await buffer(diffTar(upper));
    const names = (await entriesOf(layer)).map((e) => e.name);
    assert.ok(names.includes('etc/.wh.old'), names.join(' '));
    assert.ok(names.includes('var/log/.wh.a.log'), names.join(' '));
    assert.ok(names.includes('usr/.wh..wh..opq'), names.join(' '));

    const applied = join(box.root, 'applied');
    await fs.mkdir(applied);
    await applyLayer(streamOf(layer), applied);
    mount('overlay', merged, 'overlay', 0, `lowerdir=${applied}:${lower}`);
    try {
      assert.deepEqual(await listTree(merged, { mtimes: false }), expected);
    } finally {
      umount(merged, MNT_DETACH);
    }
  } finally {
    await box.cleanup();
  }
});

test('a reader that stops early ends the walk without errors', async () => {
  const box = await sandbox();
  try {
    for (let i = 0; i < 50; i++) await fs.writeFile(join(box.dest, `f${i}`), Buffer.alloc(256 * 1024, i));
    const out = diffTar(box.dest);
    const errors: unknown[] = [];
    out.on('error', (err) => errors.push(err));
    await new Promise<void>((resolve) => out.once('readable', () => resolve()));
    out.read();
    out.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(errors, []);
  } finally {
    await box.cleanup();
  }
});

test('diffTar of a missing directory fails the stream', async () => {
  await assert.rejects(buffer(diffTar('/tmp/berth-layer-does-not-exist')), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
});
