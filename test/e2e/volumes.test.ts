/** Volumes and mounts with the real docker CLI against berthd: named, anonymous, binds, tmpfs, --volumes-from. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { berth, cleanup, docker, rm, startDaemon, type Daemon } from '../helpers/daemon.js';

/** Mount points under a directory, from this process's mount table. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

function ok(r: { code: number; stdout: string; stderr: string }, what = ''): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

const lines = (s: string) => s.split('\n').filter(Boolean);

/** One JSON request to the daemon's socket. */
function apiCall(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    // agent: false — a kept-alive socket the server closes just then would fail the request (EPIPE).
    const req = request({ socketPath: socket, method, path, agent: false, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('docker CLI against berthd: volumes', () => {
  let d: Daemon;
  let host: string;
  const volumesDir = () => join(d.dataRoot, 'volumes');
  const volumeNames = () => lines(docker(d, ['volume', 'ls', '-q']).stdout);

  before(async () => {
    d = await startDaemon();
    ok(berth(d, ['bootstrap']), 'bootstrap');
    // An image with content under a VOLUME: owned by 1000, a symlink, mode 0750.
    ok(
      docker(d, ['run', '--name', 'seed', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo seed > /data/sub/f && ln -s sub/f /data/link && chown -R 1000:1000 /data && chmod 0750 /data']),
      'seed',
    );
    ok(docker(d, ['commit', '--change', 'VOLUME /data', 'seed', 'volimg']), 'commit');
    ok(docker(d, ['rm', 'seed']));
    host = mkdtempSync(join(tmpdir(), 'berth-vol-host-'));
  });
  after(async () => {
    docker(d, ['rm', '-f', ...lines(docker(d, ['ps', '-aq']).stdout)]);
    await cleanup(d);
    rm(host);
  });

  test('data written to a named volume is read by the next container; create, inspect, ls', () => {
    assert.equal(ok(docker(d, ['volume', 'create', '--label', 'team=a', 'shared'])), 'shared\n');
    ok(docker(d, ['run', '--rm', '-v', 'shared:/v', 'busybox', 'sh', '-c', 'echo persisted > /v/note']));
    assert.equal(ok(docker(d, ['run', '--rm', '-v', 'shared:/v:ro', 'busybox', 'cat', '/v/note'])), 'persisted\n');
    const v = JSON.parse(ok(docker(d, ['volume', 'inspect', 'shared'])))[0];
    assert.equal(v.Name, 'shared');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, join(volumesDir(), 'shared', '_data'));
    assert.deepEqual(v.Labels, { team: 'a' });
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(readFileSync(join(v.Mountpoint, 'note'), 'utf8'), 'persisted\n');
    // -v with a new name creates the volume on first use; so does --mount.
    ok(docker(d, ['run', '--rm', '--mount', 'type=volume,source=bymount,target=/m', 'busybox', 'true']));
    assert.ok(volumeNames().includes('bymount'));
    assert.match(ok(docker(d, ['volume', 'ls'])), /^DRIVER\s+VOLUME NAME\nlocal\s+bymount\nlocal\s+shared\n$/);
    assert.equal(ok(docker(d, ['volume', 'ls', '-q', '--filter', 'label=team=a'])), 'shared\n');
    const missing = docker(d, ['volume', 'inspect', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /get nosuch: no such volume/);
    const bad = docker(d, ['volume', 'create', 'bad!name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /includes invalid characters for a local volume name/);
    ok(docker(d, ['volume', 'rm', 'shared', 'bymount']));
  });

  test("the image's content under VOLUME is copied into a new anonymous volume, owners and links kept", () => {
    const out = ok(docker(d, ['run', '--name', 'anon', 'volimg', 'sh', '-c', 'stat -c "%u:%g %a" /data /data/sub/f; readlink /data/link; cat /data/link']));
    assert.equal(out, '1000:1000 750\n1000:1000 644\nsub/f\nseed\n');
    const mounts = JSON.parse(ok(docker(d, ['inspect', '-f', '{{json .Mounts}}', 'anon'])));
    assert.equal(mounts.length, 1);
    const m = mounts[0];
    assert.equal(m.Type, 'volume');
    assert.match(m.Name, /^[a-f0-9]{64}$/);
    assert.equal(m.Destination, '/data');
    assert.equal(m.Mode, '');
    assert.equal(m.RW, true);
    const v = JSON.parse(ok(docker(d, ['volume', 'inspect', m.Name])))[0];
    assert.deepEqual(v.Labels, { 'com.docker.volume.anonymous': '' });
    assert.equal(readFileSync(join(v.Mountpoint, 'sub', 'f'), 'utf8'), 'seed\n');
    // A volume that already has content is not overwritten; nocopy leaves a new one empty.
    ok(docker(d, ['run', '--rm', '-v', 'filled:/data', 'busybox', 'sh', '-c', 'echo mine > /data/own']));
    assert.equal(ok(docker(d, ['run', '--rm', '-v', 'filled:/data', 'volimg', 'ls', '/data'])), 'own\n');
    assert.equal(ok(docker(d, ['run', '--rm', '--mount', 'type=volume,source=empty,target=/data,volume-nocopy', 'volimg', 'ls', '-A', '/data'])), '');
    ok(docker(d, ['rm', '-v', 'anon']));
    ok(docker(d, ['volume', 'rm', 'filled', 'empty']));
  });

  test('a read-only bind refuses writes; a read-write bind writes through; a missing -v source is made', () => {
    writeFileSync(join(host, 'hello'), 'from host\n');
    const ro = docker(d, ['run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/hello; echo x > /h/new']);
    assert.equal(ro.code, 1);
    assert.equal(ro.stdout, 'from host\n');
    assert.match(ro.stderr, /Read-only file system/);
    assert.ok(!existsSync(join(host, 'new')));
    ok(docker(d, ['run', '--rm', '--mount', `type=bind,source=${host},target=/h`, 'busybox', 'sh', '-c', 'echo y > /h/written']));
    assert.equal(readFileSync(join(host, 'written'), 'utf8'), 'y\n');
    const roMount = docker(d, ['run', '--rm', '--mount', `type=bind,source=${host},target=/h,readonly`, 'busybox', 'touch', '/h/z']);
    assert.equal(roMount.code, 1);
    assert.match(roMount.stderr, /Read-only file system/);
    const made = join(host, 'made', 'here');
    ok(docker(d, ['run', '--rm', '-v', `${made}:/m`, 'busybox', 'true']));
    assert.ok(existsSync(made));
  });

  test('--mount type=bind with a missing source gives docker’s error and leaves no container', () => {
    const before = lines(docker(d, ['ps', '-aq']).stdout).length;
    const r = docker(d, ['run', '--name', 'nobind', '--mount', 'type=bind,source=/nonexistent/x,target=/x', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid mount config for type "bind": bind source path does not exist: \/nonexistent\/x/);
    assert.equal(lines(docker(d, ['ps', '-aq']).stdout).length, before);
    const dup = docker(d, ['create', '-v', 'dupa:/x', '--mount', 'type=volume,source=dupb,target=/x', 'busybox']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /Duplicate mount point: \/x/);
    assert.deepEqual(volumeNames(), [], 'a refused create makes no volume');
  });

  test('a volume in use by a container, even a stopped one, is not removed: 409 with docker’s words', () => {
    const id = ok(docker(d, ['create', '-v', 'busy:/b', 'busybox', 'true'])).trim();
    const r = docker(d, ['volume', 'rm', 'busy']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `Error response from daemon: remove busy: volume is in use - [${id}]`);
    const forced = docker(d, ['volume', 'rm', '-f', 'busy']);
    assert.equal(forced.code, 1, 'force does not override use, as with docker');
    assert.equal(ok(docker(d, ['volume', 'ls', '-q', '--filter', 'dangling=false'])), 'busy\n');
    ok(docker(d, ['rm', id]));
    assert.equal(ok(docker(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])), 'busy\n');
    assert.equal(ok(docker(d, ['volume', 'rm', 'busy'])), 'busy\n');
    assert.equal(docker(d, ['volume', 'rm', '-f', 'busy']).code, 0, 'force: a missing volume is no error');
  });

  test('rm -v removes anonymous volumes and keeps named ones; run --rm removes its anonymous volumes', () => {
    ok(docker(d, ['run', '--name', 'mixed', '-v', '/anon', '-v', 'kept:/kept', '--mount', 'type=volume,target=/anon2', 'busybox', 'true']));
    const names = JSON.parse(ok(docker(d, ['inspect', '-f', '{{json .Mounts}}', 'mixed']))).map((m: { Name: string }) => m.Name);
    assert.equal(names.length, 3);
    const anon = names.filter((n: string) => n !== 'kept');
    ok(docker(d, ['rm', '-v', 'mixed']));
    const left = volumeNames();
    assert.ok(left.includes('kept'));
    for (const n of anon) {
      assert.ok(!left.includes(n), `anonymous ${n} removed`);
      assert.ok(!existsSync(join(volumesDir(), n)));
    }
    const beforeRm = volumeNames();
    ok(docker(d, ['run', '--rm', '-v', '/scratch', 'volimg', 'true']));
    assert.deepEqual(volumeNames(), beforeRm);
    // Without -v the anonymous volume stays.
    ok(docker(d, ['run', '--name', 'plain', '-v', '/stay', 'busybox', 'true']));
    ok(docker(d, ['rm', 'plain']));
    assert.equal(volumeNames().length, beforeRm.length + 1);
    ok(docker(d, ['volume', 'prune', '-af']));
  });

  test('prune removes unused anonymous volumes, and with -a every unused one; label filters narrow it', () => {
    ok(docker(d, ['volume', 'create', 'named1']));
    ok(docker(d, ['volume', 'create', '--label', 'keep=yes', 'named2']));
    ok(docker(d, ['run', '--name', 'holder', '-v', 'held:/h', '-v', '/anonheld', 'busybox', 'true']));
    ok(docker(d, ['run', '--name', 'gone', '-v', '/anonfree', 'busybox', 'true']));
    const freeAnon = JSON.parse(ok(docker(d, ['inspect', '-f', '{{json .Mounts}}', 'gone'])))[0].Name;
    ok(docker(d, ['rm', 'gone']));
    const pruned = ok(docker(d, ['volume', 'prune', '-f']));
    assert.equal(pruned, `Deleted Volumes:\n${freeAnon}\n\nTotal reclaimed space: 0B\n`);
    assert.ok(volumeNames().includes('named1'));
    const byLabel = ok(docker(d, ['volume', 'prune', '-af', '--filter', 'label=keep=yes']));
    assert.match(byLabel, /^Deleted Volumes:\nnamed2\n/);
    const all = ok(docker(d, ['volume', 'prune', '-af']));
    assert.match(all, /named1/);
    assert.doesNotMatch(all, /held/);
    assert.ok(volumeNames().includes('held'), 'in use by a stopped container');
    ok(docker(d, ['rm', '-v', 'holder']));
    ok(docker(d, ['volume', 'rm', 'held']));
    assert.deepEqual(volumeNames(), []);
  });

  test('a tmpfs-backed volume (-o type=tmpfs) is mounted while a container uses it and unmounted after', () => {
    ok(docker(d, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=64m', 'ram']));
    const v = JSON.parse(ok(docker(d, ['volume', 'inspect', 'ram'])))[0];
    assert.deepEqual(v.Options, { device: 'tmpfs', o: 'size=64m', type: 'tmpfs' });
    ok(docker(d, ['run', '-d', '--name', 'ramuser', '-v', 'ram:/r', 'busybox', 'sh', '-c', 'echo in-ram > /r/f; sleep 30']));
    const df = ok(docker(d, ['exec', 'ramuser', 'df', '-k', '/r']));
    assert.match(df, /^tmpfs\s+65536\s/m);
    assert.deepEqual(mountsUnder(volumesDir()), [v.Mountpoint]);
    assert.equal(ok(docker(d, ['run', '--rm', '-v', 'ram:/r', 'busybox', 'cat', '/r/f'])), 'in-ram\n', 'a second user shares the mount');
    assert.deepEqual(mountsUnder(volumesDir()), [v.Mountpoint], 'still mounted for the first user');
    ok(docker(d, ['rm', '-f', 'ramuser']));
    assert.deepEqual(mountsUnder(volumesDir()), []);
    ok(docker(d, ['volume', 'rm', 'ram']));
    // A bind-backed volume shows the host directory, and its removal leaves the directory's content alone.
    writeFileSync(join(host, 'bound'), 'host file\n');
    ok(docker(d, ['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'hostdir']));
    assert.equal(ok(docker(d, ['run', '--rm', '-v', 'hostdir:/b', 'busybox', 'cat', '/b/bound'])), 'host file\n');
    ok(docker(d, ['volume', 'rm', 'hostdir']));
    assert.ok(existsSync(join(host, 'bound')));
    const badOpt = docker(d, ['volume', 'create', '-o', 'nope=1', 'badopt']);
    assert.equal(badOpt.code, 1);
    assert.match(badOpt.stderr, /create badopt: invalid option: "nope"/);
  });

  test('--volumes-from shares the mounts of another container, read-only with :ro', async () => {
    ok(docker(d, ['run', '--name', 'source', '-v', 'vf:/shared', '-v', `${host}:/hostbind`, 'busybox', 'sh', '-c', 'echo shared > /shared/f']));
    assert.equal(ok(docker(d, ['run', '--rm', '--volumes-from', 'source', 'busybox', 'sh', '-c', 'cat /shared/f; ls /hostbind/hello'])), 'shared\n/hostbind/hello\n');
    const ro = docker(d, ['run', '--name', 'reader', '--volumes-from', 'source:ro', 'busybox', 'touch', '/shared/g']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const mounts = JSON.parse(ok(docker(d, ['inspect', '-f', '{{json .Mounts}}', 'reader'])));
    assert.deepEqual(
      mounts.map((m: Record<string, unknown>) => [m.Type, m.Destination, m.RW]),
      [
        ['bind', '/hostbind', false],
        ['volume', '/shared', false],
      ],
    );
    // Through the API: the docker CLI takes any 404 from create for a missing image and tries a pull.
    const missing = await apiCall(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumesFrom: ['nosuchcontainer'] } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { message: 'No such container: nosuchcontainer' });
    ok(docker(d, ['rm', 'reader', 'source']));
    ok(docker(d, ['volume', 'rm', 'vf']));
  });

  test('inspect lists Mounts as docker does for each kind', () => {
    const id = ok(
      docker(d, [
        'create',
        '-v', 'insp:/named',
        '-v', 'inspro:/namedro:ro',
        '-v', `${host}:/bind:ro`,
        '--mount', 'type=tmpfs,target=/tmp1,tmpfs-size=1m',
        '--mount', `type=bind,source=${host},target=/bind2`,
        'busybox', 'true',
      ]),
    ).trim();
    const mounts = JSON.parse(ok(docker(d, ['inspect', '-f', '{{json .Mounts}}', id])));
    const by = (dest: string) => mounts.find((m: { Destination: string }) => m.Destination === dest);
    assert.deepEqual(by('/named'), { Type: 'volume', Name: 'insp', Source: join(volumesDir(), 'insp', '_data'), Destination: '/named', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    assert.deepEqual(by('/namedro'), { Type: 'volume', Name: 'inspro', Source: join(volumesDir(), 'inspro', '_data'), Destination: '/namedro', Driver: 'local', Mode: 'ro', RW: false, Propagation: '' });
    assert.deepEqual(by('/bind'), { Type: 'bind', Source: host, Destination: '/bind', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(by('/bind2'), { Type: 'bind', Source: host, Destination: '/bind2', Mode: '', RW: true, Propagation: 'rprivate' });
    assert.deepEqual(by('/tmp1'), { Type: 'tmpfs', Source: '', Destination: '/tmp1', Mode: '', RW: true, Propagation: '' });
    const psMounts = ok(docker(d, ['ps', '-a', '--no-trunc', '--filter', `id=${id}`, '--format', '{{.Mounts}}'])).trim();
    assert.deepEqual(psMounts.split(',').sort(), ['', host, host, 'insp', 'inspro'].sort());
    assert.equal(ok(docker(d, ['ps', '-aq', '--no-trunc', '--filter', 'volume=insp'])).trim(), id);
    assert.equal(ok(docker(d, ['ps', '-aq', '--no-trunc', '--filter', 'volume=/tmp1'])).trim(), id);
    assert.equal(ok(docker(d, ['ps', '-aq', '--filter', 'volume=other'])), '');
    ok(docker(d, ['rm', id]));
    ok(docker(d, ['volume', 'rm', 'insp', 'inspro']));
  });

  test('system df counts volumes with their size and links', () => {
    ok(docker(d, ['run', '--name', 'dfuser', '-v', 'dfvol:/d', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /d/blob']));
    ok(docker(d, ['volume', 'create', 'dfidle']));
    const df = ok(docker(d, ['system', 'df', '--format', '{{json .}}']));
    const row = lines(df).map((l) => JSON.parse(l)).find((r) => r.Type === 'Local Volumes');
    assert.equal(row.TotalCount, '2');
    assert.equal(row.Active, '1');
    assert.equal(row.Size, '5kB');
    const verbose = ok(docker(d, ['system', 'df', '-v']));
    assert.match(verbose, /^dfvol\s+1\s+5kB$/m);
    assert.match(verbose, /^dfidle\s+0\s+0B$/m);
    ok(docker(d, ['rm', '-v', 'dfuser']));
    ok(docker(d, ['volume', 'rm', 'dfvol', 'dfidle']));
  });

  test('volume events: create, mount, unmount, destroy', () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    ok(docker(d, ['run', '--rm', '-v', 'evvol:/e', 'busybox', 'true']));
    ok(docker(d, ['volume', 'rm', 'evvol']));
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const out = ok(docker(d, ['events', '--since', since, '--until', until, '--filter', 'type=volume', '--filter', 'volume=evvol', '--format', '{{.Action}}']));
    assert.deepEqual(lines(out), ['create', 'mount', 'unmount', 'destroy']);
  });

  test('the berth CLI drives the volume API the same way', () => {
    assert.equal(ok(berth(d, ['volume', 'create', '--label', 'k=v', 'bv'])), 'bv\n');
    assert.equal(ok(berth(d, ['volume', 'ls'])), 'DRIVER    VOLUME NAME\nlocal     bv\n');
    assert.equal(ok(berth(d, ['volume', 'inspect', '-f', '{{.Name}} {{.Labels}}', 'bv'])), 'bv map[k:v]\n');
    assert.equal(ok(berth(d, ['volume', 'ls', '--format', '{{.Name}}:{{.Label "k"}}'])), 'bv:v\n');
    const prompt = berth(d, ['volume', 'prune', '-a'], 'n\n');
    assert.match(prompt.stdout, /WARNING! This will remove all local volumes not used by at least one container\./);
    assert.ok(volumeNames().includes('bv'));
    assert.equal(ok(berth(d, ['volume', 'rm', 'bv'])), 'bv\n');
    const gone = berth(d, ['volume', 'rm', 'bv']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim(), 'Error response from daemon: get bv: no such volume');
  });

  test('50 create/run/remove cycles with volumes leave no mounts and no anonymous volume directories', () => {
    ok(docker(d, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'cyc']));
    for (let i = 0; i < 50; i++) {
      ok(docker(d, ['run', '--rm', '-v', 'cyc:/c', '-v', '/anon', '--mount', 'type=tmpfs,target=/t', 'volimg', 'sh', '-c', `echo ${i} > /c/n; ls /data >/dev/null`]), `cycle ${i}`);
    }
    const id = ok(docker(d, ['create', '-v', 'cyc:/c', 'volimg', 'true'])).trim();
    ok(docker(d, ['start', '-a', id]));
    ok(docker(d, ['rm', '-v', id]));
    assert.deepEqual(mountsUnder(volumesDir()), []);
    assert.deepEqual(mountsUnder(d.dataRoot).filter((m) => m.includes('/volumes/')), []);
    assert.deepEqual(readdirSync(volumesDir()), ['cyc']);
    assert.deepEqual(volumeNames(), ['cyc']);
    ok(docker(d, ['volume', 'rm', 'cyc']));
  });

  test('a running container keeps its tmpfs-backed volume over a daemon restart, and lets go of it after', async () => {
    ok(docker(d, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'live']));
    ok(docker(d, ['run', '-d', '--name', 'liver', '-v', 'live:/l', 'busybox', 'sh', '-c', 'echo kept > /l/f; sleep 60']));
    await d.restart();
    const mp = join(volumesDir(), 'live', '_data');
    assert.deepEqual(mountsUnder(volumesDir()), [mp]);
    assert.equal(ok(docker(d, ['exec', 'liver', 'cat', '/l/f'])), 'kept\n');
    ok(docker(d, ['rm', '-f', 'liver']));
    assert.deepEqual(mountsUnder(volumesDir()), []);
    ok(docker(d, ['volume', 'rm', 'live']));
  });
});
