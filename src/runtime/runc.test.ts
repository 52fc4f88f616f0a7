/**
 * Real runs: specs from buildSpec handed to runc (as root) in a bundle whose
 * rootfs is busybox from the busybox-static package, proving the kernel
 * applies what the spec says.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { capNumber, DEFAULT_CAPS } from './caps.js';
import { hostFacts } from './host.js';
import { specJson } from '../oci/runtimespec.js';
import { parseTmpfs } from './mounts.js';
import { buildSpec, MASKED_PATHS, type SpecInput } from './spec.js';
import { parseUlimit } from './ulimit.js';
import { resolveUser } from './user.js';

const RUNC = '/usr/sbin/runc';
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'cat', 'id', 'hostname', 'grep', 'ls', 'echo', 'touch', 'wc', 'tr', 'head'];

const missing =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync(RUNC) ? `needs ${RUNC}` : !existsSync(BUSYBOX) ? `needs ${BUSYBOX} (busybox-static)` : '';
const skip = missing || false;

let dir: string;
let rootfs: string;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-runc-'));
  rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'home/app']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:2000:app\n');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sh -c script` in a fresh container built from the input, always deleting it afterwards. */
function run(script: string, over: Partial<SpecInput> = {}): Run {
  const id = 'berth-test-' + randomBytes(6).toString('hex');
  const bundle = join(dir, id);
  mkdirSync(bundle);
  const spec = buildSpec({ id, rootfs, args: ['sh', '-c', script], hostname: 'berth-test', ...over });
  writeFileSync(join(bundle, 'config.json'), specJson(spec));
  try {
    const r = spawnSync(RUNC, ['run', '--bundle', bundle, id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  } finally {
    spawnSync(RUNC, ['delete', '-f', id], { stdio: 'ignore' });
    rmSync(bundle, { recursive: true, force: true });
  }
}

/** Runs and insists on success, returning stdout. */
function ok(script: string, over: Partial<SpecInput> = {}): string {
  const r = run(script, over);
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** A /proc/<pid>/status capability mask for a set of names. */
const mask = (caps: string[]) => caps.reduce((m, c) => m | (1n << BigInt(capNumber(c))), 0n).toString(16).padStart(16, '0');

test('default container: docker capability set, read-only /proc/sys, hostname, uid, seccomp', { skip }, () => {
  const out = ok(
    [
      'exec 2>&1',
      'grep CapBnd /proc/self/status',
      'grep Seccomp: /proc/self/status',
      'echo x > /proc/sys/kernel/hostname',
      'hostname',
      'id -u',
    ].join('; ') + ' 2>&1',
  );
  assert.match(out, /^CapBnd:\s+00000000a80425fb$/m);
  assert.match(out, /^Seccomp:\s+2$/m);
  assert.match(out, /can't create \/proc\/sys\/kernel\/hostname: Read-only file system/);
  assert.match(out, /^berth-test$/m);
  assert.match(out, /^0$/m);
});

test('masked paths read empty: files as /dev/null, directories as an empty tmpfs', { skip }, () => {
  // This kernel may lack some (no /proc/kcore without CONFIG_PROC_KCORE); check those the host has.
  const present = MASKED_PATHS.filter((p) => existsSync(p));
  assert.ok(present.length > 0);
  const script = present
    .map((p) => (statSync(p).isDirectory() ? `echo ${p}=$(ls -A ${p} | wc -l)` : `echo ${p}=$(wc -c < ${p})`))
    .join('; ');
  assert.deepEqual(ok(script).split('\n'), present.map((p) => `${p}=0`));
  // The same paths unmasked (privileged) are not all empty, so the zeros above come from the masks.
  assert.ok(ok(script, { privileged: true }).split('\n').some((l) => !l.endsWith('=0')));
});

test('--user from the image passwd and group files', { skip }, async () => {
  const user = await resolveUser(rootfs, 'app');
  const out = ok('id -u; id -g; id -G; grep CapEff /proc/self/status', { user });
  assert.deepEqual(out.split('\n').slice(0, 3), ['1000', '1000', '1000 2000']);
  assert.match(out, /^CapEff:\s+0000000000000000$/m, 'a non-root user starts without effective capabilities');
});

test('memory, cpu and pids limits reach the cgroups', { skip }, () => {
  const out = ok(
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us',
    { resources: { memory: 64 * 1024 * 1024, pidsLimit: 50, cpus: 0.5 } },
  );
  assert.deepEqual(out.split('\n'), ['67108864', '50', '50000', '100000']);
});

test('ulimits apply, and one above the daemon hard limit is clamped instead of failing', { skip }, () => {
  assert.deepEqual(ok('ulimit -n; ulimit -Hn', { ulimits: [parseUlimit('nofile=1024:2048')] }).split('\n'), ['1024', '2048']);
  const hard = hostFacts().hardLimits.RLIMIT_NOFILE;
  const out = ok('ulimit -Hn', { ulimits: [parseUlimit('nofile=999999999:999999999')] });
  assert.equal(out, String(hard));
});

test('--read-only root stays read-only while a --tmpfs mount is writable', { skip }, () => {
  const out = ok('touch /file 2>&1; touch /scratch/file && echo scratch-ok; touch /tmp/x 2>&1; true', {
    readonly: true,
    mounts: [parseTmpfs('/scratch:rw,size=1m')],
  });
  assert.match(out, /touch: \/file: Read-only file system/);
  assert.match(out, /^scratch-ok$/m);
  assert.match(out, /touch: \/tmp\/x: Read-only file system/);
});

test('--init runs the command under /sbin/docker-init', { skip: skip || (!existsSync('/usr/bin/docker-init') && 'needs /usr/bin/docker-init') }, () => {
  const init = realpathSync('/usr/bin/docker-init');
  const out = ok("tr '\\0' ' ' < /proc/1/cmdline", { init });
  assert.equal(out, '/sbin/docker-init -- sh -c tr \'\\0\' \' \' < /proc/1/cmdline');
});

test('--cap-add and --cap-drop change the bounding set', { skip }, () => {
  const out = ok('grep CapBnd /proc/self/status', { capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'mknod'] });
  const want = DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD').concat('CAP_NET_ADMIN');
  assert.match(out, new RegExp(`^CapBnd:\\s+${mask(want)}$`));
});

test('--privileged: every capability the daemon holds, no seccomp, /sys writable', { skip }, () => {
  // All capabilities of this kernel, less any this process lacks: 000001ffffffffff with a full set on a
  // 6.x kernel, 000001fffeffffff where the daemon runs without CAP_SYS_RESOURCE.
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const own = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const all = (((1n << BigInt(last + 1)) - 1n) & own).toString(16).padStart(16, '0');
  const out = ok('grep -E "^(CapBnd|Seccomp):" /proc/self/status; grep " /sys sysfs" /proc/self/mounts', { privileged: true });
  assert.match(out, new RegExp(`^CapBnd:\\s+${all}$`, 'm'));
  assert.match(out, /^Seccomp:\s+0$/m);
  assert.match(out, /^sysfs \/sys sysfs rw,/m);
});

test('--network host keeps the host network namespace and its hostname', { skip }, () => {
  const hostNet = readFileSync('/proc/net/dev', 'utf8').split('\n').length;
  const out = ok('hostname; wc -l < /proc/net/dev', { network: 'host', hostname: undefined });
  const [name, lines] = out.split('\n');
  assert.equal(name, hostFacts().hostname);
  assert.equal(Number(lines), hostNet - 1);
});
