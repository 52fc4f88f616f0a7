import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKind } from '../lib/errors.js';
import { readInRoot, resolveUser } from './user.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  '',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');

const GROUP = ['root:x:0:', 'daemon:x:1:', 'wheel:x:10:root,app', 'app:x:1000:', 'audio:x:29:app', 'nogroup:x:65534:'].join(
  '\n',
);

let dir: string;
let rootfs: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-user-'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/passwd'), PASSWD);
  writeFileSync(join(rootfs, 'etc/group'), GROUP);
  writeFileSync(join(dir, 'host-secret'), 'evil:x:0:0::/:/bin/sh\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const invalid = (message: string) => (err: unknown) => {
  assert.ok(isKind(err, 'InvalidArgument'), String(err));
  assert.equal((err as Error).message, message);
  return true;
};

test('--user forms resolve against the image files', async () => {
  assert.deepEqual(await resolveUser(rootfs, ''), { uid: 0, gid: 0, home: '/root', additionalGids: [0, 10] });
  assert.deepEqual(await resolveUser(rootfs, 'app'), { uid: 1000, gid: 1000, home: '/home/app', additionalGids: [1000, 10, 29] });
  assert.deepEqual(await resolveUser(rootfs, '1000'), { uid: 1000, gid: 1000, home: '/home/app', additionalGids: [1000, 10, 29] });
  assert.deepEqual(await resolveUser(rootfs, 'app:audio'), { uid: 1000, gid: 29, home: '/home/app', additionalGids: [29] });
  assert.deepEqual(await resolveUser(rootfs, 'daemon:10'), { uid: 1, gid: 10, home: '/usr/sbin', additionalGids: [10] });
  assert.deepEqual(await resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, home: '', additionalGids: [0] });
  assert.deepEqual(await resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, home: '', additionalGids: [4343] });
  assert.deepEqual(await resolveUser(rootfs, ':app'), { uid: 0, gid: 1000, home: '/root', additionalGids: [1000] });
});

test('--group-add appends groups by name or number', async () => {
  assert.deepEqual((await resolveUser(rootfs, 'nobody', ['audio', '10', '777', 'audio'])).additionalGids, [65534, 29, 10, 777]);
  await assert.rejects(resolveUser(rootfs, 'nobody', ['video']), invalid('Unable to find group video'));
});

test('unknown names fail in docker words', async () => {
  await assert.rejects(resolveUser(rootfs, 'ghost'), invalid('unable to find user ghost: no matching entries in passwd file'));
  await assert.rejects(resolveUser(rootfs, 'app:ghosts'), invalid('unable to find group ghosts: no matching entries in group file'));
  await assert.rejects(resolveUser(rootfs, '-5'), invalid('uids and gids must be in range 0-2147483647'));
});

test('an image without the files still takes numeric users', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.deepEqual(await resolveUser(empty, '123:456'), { uid: 123, gid: 456, home: '', additionalGids: [456] });
  await assert.rejects(resolveUser(empty, 'app'), invalid('unable to find user app: no matching entries in passwd file'));
});

test('symlinks resolve inside the rootfs and never reach host files', async () => {
  const r = join(dir, 'links');
  mkdirSync(join(r, 'etc'), { recursive: true });
  mkdirSync(join(r, 'usr/share'), { recursive: true });
  writeFileSync(join(r, 'usr/share/passwd'), 'inside:x:7:7::/:/bin/sh\n');
  symlinkSync('/usr/share/passwd', join(r, 'etc/passwd'));
  // Climbing out of the rootfs stops at its root: this names <rootfs>/host-secret, which does not exist.
  symlinkSync('../../../../../../host-secret', join(r, 'etc/group'));
  assert.equal(await readInRoot(r, '/etc/passwd'), 'inside:x:7:7::/:/bin/sh\n');
  assert.equal(await readInRoot(r, '/etc/group'), undefined);
  assert.equal((await resolveUser(r, 'inside')).uid, 7);

  const abs = join(dir, 'abs');
  mkdirSync(join(abs, 'etc'), { recursive: true });
  symlinkSync(join(dir, 'host-secret'), join(abs, 'etc/passwd'));
  assert.equal(await readInRoot(abs, '/etc/passwd'), undefined, 'an absolute host path is read inside the rootfs');
  await assert.rejects(resolveUser(abs, 'evil'), invalid('unable to find user evil: no matching entries in passwd file'));

  const d = join(dir, 'dirpasswd');
  mkdirSync(join(d, 'etc/passwd'), { recursive: true });
  assert.equal(await readInRoot(d, '/etc/passwd'), undefined, 'a directory is not a passwd file');
});
