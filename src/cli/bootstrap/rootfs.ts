/**
 * The root filesystems `berth bootstrap` imports: a busybox userland built
 * from the host's static busybox binary, and a hello-world image holding a
 * single program. Built in memory as lists of entries and packed as tar.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { failedPrecondition } from '../../lib/errors.js';
import { HELLO_MESSAGE, helloElf } from './elf.js';

export interface RootfsEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  data?: Buffer;
  linkname?: string;
}

/** A fixed timestamp so the same inputs give the same layer digest. */
export const ROOTFS_MTIME = new Date('2024-01-01T00:00:00Z');

/** Packs entries (parents before children) into an uncompressed tar stream. */
export function packRootfs(entries: RootfsEntry[]): Readable {
  const pack = tar.pack();
  const common = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: ROOTFS_MTIME };
  (async () => {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.type === 'directory') pack.entry({ ...common, name: `${e.name}/`, type: 'directory', mode: e.mode }, cb);
        else if (e.type === 'symlink') pack.entry({ ...common, name: e.name, type: 'symlink', mode: e.mode, linkname: e.linkname ?? '' }, cb);
        else pack.entry({ ...common, name: e.name, type: 'file', mode: e.mode, size: e.data?.length ?? 0 }, e.data ?? Buffer.alloc(0), cb);
      });
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** True when an ELF file has no program interpreter (PT_INTERP), i.e. is statically linked. */
export function isStaticElf(buf: Buffer): boolean {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = is64 ? u16(54) : u16(42);
  const phnum = is64 ? u16(56) : u16(44);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > buf.length) return false;
    if (u32(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

const SHADOW = PASSWD.split('\n')
  .filter((l) => l !== '')
  .map((l) => `${l.split(':')[0]}:${l.startsWith('root:') ? '' : '*'}:10933:0:99999:7:::`)
  .join('\n') + '\n';

const NSSWITCH = `hosts:    files dns
networks: files
passwd:   files
group:    files
shadow:   files
`;

/** Where `berth bootstrap` looks for a static busybox. */
export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox', '/sbin/busybox'];

/** Reads a static busybox and its applet list; explains what to install otherwise. */
export function loadBusybox(path?: string): { binary: Buffer; applets: string[]; path: string } {
  const candidates = path ? [path] : BUSYBOX_CANDIDATES;
  for (const p of candidates) {
    let binary: Buffer;
    try {
      binary = readFileSync(realpathSync(p));
    } catch {
      continue;
    }
    if (!isStaticElf(binary)) {
      throw failedPrecondition(`${p} is not a statically linked executable: install a static busybox (Debian/Ubuntu: apt-get install busybox-static)`);
    }
    const r = spawnSync(p, ['--list'], { encoding: 'utf8' });
    if (r.status !== 0 || typeof r.stdout !== 'string') {
      throw failedPrecondition(`${p} --list failed: ${r.error?.message ?? r.stderr}`);
    }
    const applets = r.stdout
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== 'busybox' && !s.includes('/'))
      .sort();
    return { binary, applets, path: p };
  }
  throw failedPrecondition(`no busybox binary found (looked in ${candidates.join(', ')}): install busybox-static (Debian/Ubuntu: apt-get install busybox-static)`);
}

/** The busybox image's filesystem: the binary, one symlink per applet in /bin, and a small /etc. */
export function busyboxRootfs(binary: Buffer, applets: string[]): RootfsEntry[] {
  const dir = (name: string, mode = 0o755): RootfsEntry => ({ name, type: 'directory', mode });
  const file = (name: string, data: string | Buffer, mode = 0o644): RootfsEntry => ({
    name,
    type: 'file',
    mode,
    data: typeof data === 'string' ? Buffer.from(data) : data,
  });
  const entries: RootfsEntry[] = [
    dir('bin'),
    file('bin/busybox', binary, 0o755),
    ...applets.map((a): RootfsEntry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    dir('dev'),
    dir('etc'),
    file('etc/passwd', PASSWD),
    file('etc/group', GROUP),
    file('etc/shadow', SHADOW, 0o600),
    file('etc/nsswitch.conf', NSSWITCH),
    file('etc/hostname', ''),
    file('etc/hosts', ''),
    file('etc/resolv.conf', ''),
    dir('etc/network'),
    dir('home'),
    dir('proc'),
    dir('root', 0o700),
    dir('sys'),
    dir('tmp', 0o1777),
    dir('usr'),
    dir('usr/bin'),
    dir('usr/sbin'),
    dir('var'),
    dir('var/spool'),
    dir('var/spool/mail'),
    dir('var/www'),
  ];
  return entries;
}

/**
 * The hello-world image's filesystem: just `/hello`. On x86-64 it is a
 * generated static ELF; elsewhere a script run by a bundled busybox.
 */
export function helloRootfs(arch: string = process.arch, busybox?: () => Buffer): RootfsEntry[] {
  if (arch === 'x64') {
    return [{ name: 'hello', type: 'file', mode: 0o755, data: helloElf(HELLO_MESSAGE) }];
  }
  const bb = busybox ? busybox() : loadBusybox().binary;
  const script = `#!/bin/busybox sh\n/bin/busybox cat <<'EOF'\n${HELLO_MESSAGE}EOF\n`;
  return [
    { name: 'bin', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: bb },
    { name: 'hello', type: 'file', mode: 0o755, data: Buffer.from(script) },
  ];
}
