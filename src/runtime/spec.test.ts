import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../lib/errors.js';
import { capSet, DEFAULT_CAPS } from './caps.js';
import { capsOfMask, parseHardLimits, type HostFacts } from './host.js';
import { mergeTmpfsOptions, parseTmpfs } from './mounts.js';
import { RLIM_INFINITY, specJson } from '../oci/runtimespec.js';
import { kernelAtLeast, toOci, type Profile } from './seccomp.js';
import { buildSpec, INIT_PATH, type SpecInput } from './spec.js';
import { mergeEnv } from '../oci/image.js';
import { parseUlimit, toRlimits } from './ulimit.js';

/** All 41 capabilities of a 6.x kernel except CAP_SYS_RESOURCE, as on the machine these were written on. */
const ALL_BUT_RESOURCE = capsOfMask('000001fffeffffff', 40);

const host: HostFacts = {
  arch: 'amd64',
  kernel: '6.1.0',
  caps: ALL_BUT_RESOURCE,
  hardLimits: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96364, RLIMIT_CORE: RLIM_INFINITY, RLIMIT_NICE: 0 },
  hostname: 'buildhost',
  cpuCount: 2,
  swapLimit: true,
  blkioWeight: false,
  netSysctls: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' },
};

const base: SpecInput = {
  id: '0123456789abcdef0123',
  rootfs: '/var/lib/berth/c/rootfs',
  args: ['sh', '-c', 'true'],
  host,
  seccomp: 'unconfined',
};

const spec = (over: Partial<SpecInput> = {}) => buildSpec({ ...base, ...over });

const invalid = (message: string | RegExp) => (err: unknown) => {
  assert.ok(isKind(err, 'InvalidArgument'), `not InvalidArgument: ${String(err)}`);
  if (typeof message === 'string') assert.equal((err as Error).message, message);
  else assert.match((err as Error).message, message);
  return true;
};

test('defaults: docker caps, private namespaces, masks, shm, cgroup path, hostname', () => {
  const s = spec();
  assert.deepEqual(s.process.capabilities?.bounding, DEFAULT_CAPS);
  assert.deepEqual(s.process.capabilities?.effective, DEFAULT_CAPS);
  assert.equal(s.process.capabilities?.inheritable, undefined);
  assert.deepEqual(
    s.linux.namespaces.map((n) => n.type),
    ['mount', 'network', 'uts', 'pid', 'ipc'],
  );
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux.maskedPaths?.includes('/sys/devices/virtual/powercap'));
  assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.equal(s.linux.cgroupsPath, '/berth/0123456789abcdef0123');
  assert.equal(s.hostname, '0123456789ab');
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=0123456789ab']);
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.oomScoreAdj, 0);
  assert.equal(s.process.rlimits, undefined);
  const shm = s.mounts.find((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
  const dev = s.mounts.find((m) => m.destination === '/dev');
  assert.deepEqual(dev?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  const pts = s.mounts.find((m) => m.destination === '/dev/pts');
  assert.deepEqual(pts?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.ok(s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.ok(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options?.includes('ro'));
  assert.deepEqual(s.linux.sysctl, host.netSysctls);
  const rules = s.linux.resources?.devices ?? [];
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.deepEqual(rules.find((r) => r.major === 136), { allow: true, type: 'c', major: 136, access: 'rwm' });
  assert.deepEqual(rules.slice(-2), [
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
  ]);
  assert.deepEqual(
    s.linux.devices?.map((d) => d.path),
    ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'],
  );
});

test('env: tty adds TERM, user values replace defaults, a bare key removes one', () => {
  assert.deepEqual(spec({ tty: true, hostname: 'h', env: ['A=1', 'PATH=/bin', 'HOSTNAME'] }).process.env, [
    'PATH=/bin',
    'TERM=xterm',
    'A=1',
  ]);
  assert.deepEqual(mergeEnv(['A=1'], ['B=2', 'B=3']), ['A=1', 'B=3']);
});

test('cap-add and cap-drop: prefixes, case, ALL, unknown names', () => {
  const caps = (add: string[], drop: string[]) => capSet({ add, drop, available: ALL_BUT_RESOURCE });
  const added = caps(['sys_admin', 'CAP_NET_ADMIN'], ['chown', 'CAP_KILL']);
  assert.ok(added.includes('CAP_SYS_ADMIN') && added.includes('CAP_NET_ADMIN'));
  assert.ok(!added.includes('CAP_CHOWN') && !added.includes('CAP_KILL'));
  assert.deepEqual(caps([], ['ALL']), []);
  assert.deepEqual(caps(['NET_ADMIN'], ['all']), ['CAP_NET_ADMIN']);
  const all = caps(['ALL'], ['MKNOD']);
  assert.equal(all.length, ALL_BUT_RESOURCE.length - 1);
  assert.ok(!all.includes('CAP_MKNOD'));
  assert.deepEqual(caps(['CHOWN'], []), DEFAULT_CAPS, 'adding a default one does not repeat it');
  assert.throws(() => caps(['FOO'], []), invalid('unknown capability: "CAP_FOO"'));
  assert.throws(
    () => caps(['SYS_RESOURCE'], []),
    invalid('capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"'),
  );
  const s = spec({ capAdd: ['NET_ADMIN'], capDrop: ['NET_RAW'] });
  assert.ok(s.process.capabilities?.bounding?.includes('CAP_NET_ADMIN'));
  assert.ok(!s.process.capabilities?.bounding?.includes('CAP_NET_RAW'));
});

test('a non-root user keeps only the bounding set', () => {
  const s = spec({ user: { uid: 1000, gid: 1000, additionalGids: [1000, 20] } });
  assert.deepEqual(s.process.capabilities, { bounding: DEFAULT_CAPS });
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 20] });
});

test('privileged: every capability the host grants, all devices, no masks, no seccomp, /sys and cgroups writable', () => {
  const s = spec({ privileged: true, seccomp: 'default' });
  assert.deepEqual(s.process.capabilities?.bounding, ALL_BUT_RESOURCE);
  assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.equal(s.linux.seccomp, undefined);
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.ok(!s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options?.includes('ro'));
});

test('ulimits: docker syntax and errors, clamped to the daemon hard limits', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=512'), { name: 'nproc', soft: 512, hard: 512 });
  assert.deepEqual(parseUlimit('core=infinity'), { name: 'core', soft: -1, hard: -1 });
  assert.throws(() => parseUlimit('nofile'), invalid('invalid ulimit argument: nofile'));
  assert.throws(() => parseUlimit('as=1'), invalid('invalid ulimit type: as'));
  assert.throws(() => parseUlimit('nofile=a'), invalid('strconv.ParseInt: parsing "a": invalid syntax'));
  assert.throws(
    () => parseUlimit('nofile=1:2:3'),
    invalid('too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`'),
  );
  assert.throws(
    () => parseUlimit('nofile=20:10'),
    invalid('ulimit soft limit must be less than or equal to hard limit: 20 > 10'),
  );
  const limits = toRlimits(
    [parseUlimit('nofile=1024:99999'), parseUlimit('nproc=100000'), parseUlimit('core=-1'), parseUlimit('nice=5')],
    host.hardLimits,
  );
  assert.deepEqual(limits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 },
    { type: 'RLIMIT_NPROC', soft: 96364, hard: 96364 },
    { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    { type: 'RLIMIT_NICE', soft: 0, hard: 0 },
  ]);
  const s = spec({ ulimits: [parseUlimit('nofile=100000'), parseUlimit('core=-1')] });
  assert.deepEqual(s.process.rlimits?.[0], { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 });
  assert.match(specJson(s), /"soft": 18446744073709551615,\s+"hard": 18446744073709551615/);
});

test('hard limits are read from /proc/<pid>/limits text', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    'Max open files            1024                 20000                files     ',
    'Max nice priority         0                    0                    ',
  ].join('\n');
  assert.deepEqual(parseHardLimits(text), { RLIMIT_CPU: RLIM_INFINITY, RLIMIT_NOFILE: 20000, RLIMIT_NICE: 0 });
});

test('tmpfs: --tmpfs strings, docker option merging and errors', () => {
  assert.deepEqual(parseTmpfs('/run:rw,size=64m'), { type: 'tmpfs', destination: '/run', options: 'rw,size=64m' });
  assert.deepEqual(parseTmpfs('/run'), { type: 'tmpfs', destination: '/run' });
  assert.throws(() => parseTmpfs('run'), invalid(`invalid mount config for type "tmpfs": invalid mount path: 'run' mount path must be absolute`));
  assert.throws(() => parseTmpfs('/'), invalid("invalid specification: destination can't be '/'"));
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m']), [
    'nosuid',
    'nodev',
    'rprivate',
    'exec',
    'size=2m',
  ]);
  assert.throws(() => mergeTmpfsOptions(['size']), invalid('invalid tmpfs option ["size"]'));
  assert.throws(() => mergeTmpfsOptions(['foo=1']), invalid('invalid tmpfs option ["foo" "1"]'));
  const s = spec({ mounts: [parseTmpfs('/scratch:rw,size=64m,mode=1777')] });
  assert.deepEqual(s.mounts.at(-1), {
    destination: '/scratch',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m', 'mode=1777'],
  });
});

test('mounts: binds, shallow first, replacing defaults; read-only root; shared propagation', () => {
  const s = spec({
    readonly: true,
    mounts: [
      { type: 'bind', source: '/srv/a/b', destination: '/data/b', readonly: true },
      { type: 'bind', source: '/srv/a', destination: '/data', propagation: 'rshared' },
      { type: 'tmpfs', destination: '/dev/shm', options: 'size=1m' },
    ],
  });
  assert.equal(s.root.readonly, true);
  const dests = s.mounts.map((m) => m.destination);
  assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
  assert.ok(dests.indexOf('/data') < dests.indexOf('/data/b'));
  assert.deepEqual(s.mounts.find((m) => m.destination === '/data/b')?.options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/data')?.options, ['rbind', 'rshared']);
  assert.ok(s.mounts.find((m) => m.destination === '/dev/mqueue')?.options?.every((o) => o !== 'ro'));
  assert.ok(s.mounts.find((m) => m.destination === '/dev/shm')?.options?.every((o) => o !== 'ro'));
  assert.equal(s.linux.rootfsPropagation, 'shared');
});

test('init runs the command under /sbin/docker-init, only in a private pid namespace', () => {
  const s = spec({ init: '/usr/bin/docker-init', args: ['sleep', '1'] });
  assert.deepEqual(s.process.args, [INIT_PATH, '--', 'sleep', '1']);
  assert.deepEqual(s.mounts.at(-1), { destination: INIT_PATH, type: 'bind', source: '/usr/bin/docker-init', options: ['bind', 'ro'] });
  const h = spec({ init: '/usr/bin/docker-init', pid: 'host', args: ['sleep', '1'] });
  assert.deepEqual(h.process.args, ['sleep', '1']);
  assert.ok(!h.linux.namespaces.some((n) => n.type === 'pid'));
});

test('namespaces: host network takes the host name and no sysctls; joining a path; host ipc and pid', () => {
  const h = spec({ network: 'host', ipc: 'host', pid: 'host' });
  assert.deepEqual(h.linux.namespaces.map((n) => n.type), ['mount', 'uts']);
  assert.equal(h.hostname, 'buildhost');
  assert.deepEqual(h.linux.sysctl, {});
  assert.deepEqual(h.mounts.find((m) => m.destination === '/dev/shm'), {
    destination: '/dev/shm',
    type: 'bind',
    source: '/dev/shm',
    options: ['rbind', 'rprivate'],
  });
  const j = spec({ network: { path: '/run/berth/netns/x' }, sysctls: { 'net.core.somaxconn': '1024' } });
  assert.deepEqual(j.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/berth/netns/x' });
  assert.equal(j.linux.sysctl?.['net.core.somaxconn'], '1024');
  assert.equal(j.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '0');
  const c = spec({ network: { path: '/proc/42/ns/net', shared: true } });
  assert.deepEqual(c.linux.sysctl, {});
  const none = spec({ ipc: 'none' });
  assert.ok(!none.mounts.some((m) => m.destination === '/dev/shm'));
});

test('resources: memory and swap, --cpus as CFS quota, pids, blkio dropped when unsupported', () => {
  const s = spec({
    resources: { memory: 64 << 20, memoryReservation: 32 << 20, cpus: 1.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 50, blkioWeight: 300 },
    oomScoreAdj: 100,
  });
  const r = s.linux.resources!;
  assert.deepEqual(r.memory, { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 });
  assert.deepEqual(r.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0' });
  assert.deepEqual(r.pids, { limit: 50 });
  assert.equal(r.blockIO, undefined);
  assert.equal(s.process.oomScoreAdj, 100);
  const u = spec({ resources: { memory: 64 << 20, memorySwap: -1, pidsLimit: 0 } }).linux.resources!;
  assert.deepEqual(u.memory, { limit: 64 << 20 });
  assert.deepEqual(u.pids, { limit: -1 });
  const noSwap = spec({ host: { ...host, swapLimit: false, blkioWeight: true }, resources: { memory: 8 << 20, blkioWeight: 300 } });
  assert.deepEqual(noSwap.linux.resources?.memory, { limit: 8 << 20 });
  assert.deepEqual(noSwap.linux.resources?.blockIO, { weight: 300 });
});

test('bad input in docker words', () => {
  assert.throws(() => spec({ cwd: 'tmp' }), invalid("the working directory 'tmp' is invalid, it needs to be an absolute path"));
  assert.throws(() => spec({ shmSize: -1 }), invalid('SHM size can not be less than 0'));
  assert.throws(() => spec({ args: [] }), invalid('no command specified'));
});

const profile: Profile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], includes: {}, excludes: {} },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['newer'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.5' } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
  ],
};

test('seccomp: archMap, includes and excludes by arch, caps and kernel', () => {
  const plain = toOci(profile, { caps: DEFAULT_CAPS, arch: 'amd64', kernel: '6.1.0' })!;
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(plain.defaultErrnoRet, 38);
  const names = plain.syscalls!.map((s) => `${s.names[0]}:${s.action}`);
  assert.deepEqual(names, ['read:SCMP_ACT_ALLOW', 'arch_prctl:SCMP_ACT_ALLOW', 'bpf:SCMP_ACT_ERRNO', 'personality:SCMP_ACT_ALLOW']);
  assert.equal(plain.syscalls![2]!.errnoRet, 1);
  assert.deepEqual(plain.syscalls![3]!.args, [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);
  const admin = toOci(profile, { caps: [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], arch: 'arm64', kernel: '6.18.0' })!;
  assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(
    admin.syscalls!.map((s) => `${s.names[0]}:${s.action}`),
    ['read:SCMP_ACT_ALLOW', 'set_tls:SCMP_ACT_ALLOW', 'bpf:SCMP_ACT_ALLOW', 'newer:SCMP_ACT_ALLOW', 'personality:SCMP_ACT_ALLOW'],
  );
  assert.throws(() => toOci({ ...profile, architectures: ['SCMP_ARCH_X86_64'] }, { caps: [], arch: 'amd64', kernel: '6.1' }), invalid(/'architectures' and 'archMap'/));
  assert.equal(toOci({}, { caps: [], arch: 'amd64', kernel: '6.1' }), undefined);
  assert.ok(kernelAtLeast('6.18.0-1-amd64', '4.8'));
  assert.ok(!kernelAtLeast('5.4.0', '5.10'));
});

test('seccomp: the default profile, a profile given as JSON, unconfined', () => {
  const s = spec({ seccomp: 'default' });
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  const allowed = s.linux.seccomp!.syscalls!.filter((c) => c.action === 'SCMP_ACT_ALLOW').flatMap((c) => c.names);
  assert.ok(allowed.includes('read') && allowed.includes('arch_prctl'));
  assert.ok(!allowed.includes('bpf'), 'bpf needs CAP_SYS_ADMIN');
  assert.ok(spec({ seccomp: 'default', capAdd: ['SYS_ADMIN'] }).linux.seccomp!.syscalls!.some((c) => c.action === 'SCMP_ACT_ALLOW' && c.names.includes('bpf')));
  const custom = spec({ seccomp: { json: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] }) } });
  assert.deepEqual(custom.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.throws(() => spec({ seccomp: { json: '{' } }), invalid(/^Decoding seccomp profile failed: /));
  assert.equal(spec({ seccomp: 'unconfined' }).linux.seccomp, undefined);
});
