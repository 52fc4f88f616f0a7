import { test } from 'node:test';
import assert from 'node:assert/strict';
import tar from 'tar-stream';
import { busyboxRootfs, helloRootfs, isStaticElf, packRootfs } from './rootfs.js';
import { helloElf } from './elf.js';

async function listTar(entries: ReturnType<typeof busyboxRootfs>) {
  const ex = tar.extract();
  const seen: { name: string; type: string; mode: number; linkname?: string | null; size: number }[] = [];
  const done = (async () => {
    for await (const e of ex) {
      let size = 0;
      for await (const c of e) size += (c as Buffer).length;
      seen.push({ name: e.header.name, type: e.header.type ?? '', mode: e.header.mode ?? 0, linkname: e.header.linkname, size });
    }
  })();
  for await (const chunk of packRootfs(entries)) ex.write(chunk);
  ex.end(undefined);
  await done;
  return seen;
}

test('busybox rootfs: binary, applet symlinks, /etc files, sticky /tmp', async () => {
  const fake = Buffer.from('not really busybox');
  const got = await listTar(busyboxRootfs(fake, ['ls', 'sh', 'cat']));
  const byName = new Map(got.map((e) => [e.name, e]));
  assert.equal(byName.get('bin/busybox')?.size, fake.length);
  assert.equal(byName.get('bin/busybox')?.mode, 0o755);
  for (const a of ['ls', 'sh', 'cat']) {
    assert.equal(byName.get(`bin/${a}`)?.type, 'symlink');
    assert.equal(byName.get(`bin/${a}`)?.linkname, 'busybox');
  }
  assert.equal(byName.get('tmp/')?.mode, 0o1777);
  assert.equal(byName.get('root/')?.mode, 0o700);
  for (const f of ['etc/passwd', 'etc/group', 'etc/hostname']) assert.ok(byName.has(f), f);
  for (const dir of ['dev/', 'proc/', 'sys/', 'home/', 'usr/bin/', 'var/']) assert.equal(byName.get(dir)?.type, 'directory', dir);
});

test('hello-world rootfs is just /hello on x86-64, a script plus busybox elsewhere', async () => {
  const x = helloRootfs('x64');
  assert.deepEqual(x.map((e) => e.name), ['hello']);
  assert.ok(isStaticElf(x[0]!.data!));
  const arm = helloRootfs('arm64', () => Buffer.from('bb'));
  assert.deepEqual(arm.map((e) => e.name), ['bin', 'bin/busybox', 'hello']);
  assert.match(arm[2]!.data!.toString(), /^#!\/bin\/busybox sh\n/);
});

test('isStaticElf tells static from dynamic executables', () => {
  assert.equal(isStaticElf(helloElf('x')), true);
  assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
});
