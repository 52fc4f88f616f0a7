/**
 * berth's network commands and `port` against Debian's real dockerd, side by
 * side with the docker CLI on the same daemon: the same stdout, stderr and
 * exit status for ls, inspect, create, rm, connect, disconnect, prune and
 * port, and the same daemon state when both create from the same flags.
 * Networks use 172.29.213-219.0/24 and fd42:29:213-214::/64 to stay clear of
 * the host's own; the reference daemon runs without iptables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { berth, docker, hasDocker, type Run } from '../helpers/daemon.js';
import { hasDockerd, startRefDockerd, type RefDaemon } from '../helpers/refdocker.js';

const skip = !hasDockerd() ? 'needs /usr/sbin/dockerd (Debian docker.io)' : !hasDocker() ? 'needs the docker CLI at /usr/local/bin/docker' : false;

/** docker's output with its name swapped for berth's, to compare messages. */
const asBerth = (r: Run): Run => ({ ...r, stderr: r.stderr.replace(/\bdocker\b/g, 'berth') });

/** An inspect reply with what differs between two networks made from the same flags masked. */
function normalizeNetwork(text: string, name: string): unknown {
  const [n] = JSON.parse(text) as Record<string, unknown>[];
  assert.ok(n, text);
  assert.equal(n['Name'], name);
  assert.match(String(n['Id']), /^[0-9a-f]{64}$/);
  assert.ok(!Number.isNaN(Date.parse(String(n['Created']))));
  const masked = JSON.stringify({ ...n, Name: '<name>', Id: '<id>', Created: '<time>' })
    .replace(/172\.29\.21\d\./g, '172.29.X.')
    .replace(/fd42:29:21\d::/g, 'fd42:29:X::');
  const out = JSON.parse(masked) as { IPAM?: { Config?: unknown[] } };
  // the docker CLI sends the configs in Go map order
  out.IPAM?.Config?.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return out;
}

describe('berth network and port vs the docker CLI on a reference dockerd', { skip }, () => {
  let d: RefDaemon;

  /** Runs both CLIs with the same arguments (berth first) and expects the same answer. */
  const same = (args: string[], input?: string): Run => {
    const b = berth(d, args, input);
    assert.deepEqual(b, asBerth(docker(d, args, input)), args.join(' '));
    return b;
  };

  before(async () => {
    d = await startRefDockerd();
    const b = berth(d, ['bootstrap', '--only', 'busybox']);
    assert.equal(b.code, 0, b.stderr);
  });

  after(async () => {
    if (!d) return;
    const ids = docker(d, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) docker(d, ['rm', '-f', ...ids]);
    docker(d, ['network', 'prune', '-f']);
    await d.stop();
  });

  test('ls: the table, quiet, no-trunc, filters and templates', () => {
    const table = same(['network', 'ls']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^NETWORK ID {5}NAME {6}DRIVER {4}SCOPE\n[0-9a-f]{12} {3}host {6}host {6}local\n[0-9a-f]{12} {3}none {6}null {6}local\n$/);
    same(['network', 'list', '-q']);
    same(['network', 'ls', '--no-trunc']);
    same(['network', 'ls', '-f', 'driver=null']);
    same(['network', 'ls', '--filter', 'name=ho', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    same(['network', 'ls', '--format', 'json']);
    same(['network', 'ls', '--format', 'raw']);
    same(['network', 'ls', '-q', '--format', 'raw']);
    same(['network', 'ls', '--format', 'table {{.Name}}\t{{.CreatedAt}}\t{{.IPv4}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}']);
    // argument and flag errors
    same(['network', 'ls', 'x']);
    same(['network', 'ls', '-f', 'bad']);
    same(['network', 'ls', '--format', '{{.Name']);
  });

  test('create prints the ID, and makes the network docker makes from the same flags', () => {
    const flags = (n: number) => [
      '--subnet', `172.29.21${n}.0/24`, '--gateway', `172.29.21${n}.1`, '--ip-range', `172.29.21${n}.128/25`,
      '--ipv6', '--subnet', `fd42:29:21${n}::/64`,
      '--internal', '--attachable', '--label', 'a=b', '--label', 'c', '-o', 'com.docker.network.driver.mtu=1400',
    ];
    const b = berth(d, ['network', 'create', ...flags(3), 'b-net']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^[0-9a-f]{64}\n$/);
    const k = docker(d, ['network', 'create', ...flags(4), 'd-net']);
    assert.equal(k.code, 0, k.stderr);
    const bi = docker(d, ['network', 'inspect', 'b-net']);
    const di = docker(d, ['network', 'inspect', 'd-net']);
    assert.deepEqual(normalizeNetwork(bi.stdout, 'b-net'), normalizeNetwork(di.stdout, 'd-net'));
    assert.equal(JSON.parse(bi.stdout)[0].Id, b.stdout.trim());
    // a plain network with the defaults, on a given subnet
    const plain = berth(d, ['network', 'create', '--subnet', '172.29.215.0/24', 'b-plain']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(docker(d, ['network', 'create', '--subnet', '172.29.216.0/24', 'd-plain']).code, 0);
    assert.deepEqual(
      normalizeNetwork(docker(d, ['network', 'inspect', 'b-plain']).stdout, 'b-plain'),
      normalizeNetwork(docker(d, ['network', 'inspect', 'd-plain']).stdout, 'd-plain'),
    );
    // the Label function in templates (`.Labels` joins a Go map, in no fixed order for two labels)
    same(['network', 'ls', '-f', 'label=a=b', '--format', '{{.Name}} {{.Label "a"}}|{{.Label "c"}}|{{.Label "x"}} {{.Internal}} {{.IPv6}}']);
  });

  test('create: a taken name, bad IPAM flags and flag errors fail as in docker', () => {
    const dup = same(['network', 'create', '--subnet', '172.29.217.0/24', 'b-net']);
    assert.deepEqual(dup, { code: 1, stdout: '', stderr: 'Error response from daemon: network with name b-net already exists\n' });
    same(['network', 'create', '--subnet', '172.29.217.0/24', '--gateway', '172.29.218.1', 'x']);
    same(['network', 'create', '--gateway', '172.29.218.1', 'x']);
    same(['network', 'create', '--subnet', '172.29.0.0/16', '--subnet', '172.29.217.0/24', 'x']);
    same(['network', 'create', '--subnet', '172.29.217.0/24', '--ip-range', 'bad', 'x']);
    same(['network', 'create', '--label', 'a b', 'x']);
    same(['network', 'create', '-l', 'a=b', 'x']);
    same(['network', 'create']);
    same(['network', 'create', '-d', 'host', 'x']);
  });

  test('inspect: JSON array, templates, several networks, a missing one', () => {
    same(['network', 'inspect', 'b-net']);
    same(['network', 'inspect', 'host', 'none', 'b-net']);
    same(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Internal}} {{range .IPAM.Config}}{{.Subnet}} {{end}}', 'b-net', 'd-net']);
    same(['network', 'inspect', '-f', 'json', 'b-net']);
    same(['network', 'inspect', '--verbose', 'b-net']);
    const missing = same(['network', 'inspect', 'b-net', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error response from daemon: network nope not found\n');
    same(['network', 'inspect', '']);
    same(['network', 'inspect', '-f', '{{.Name', 'b-net']);
    same(['network', 'inspect']);
  });

  test('rm: names printed, failures on stderr with exit 1, --force for missing networks', () => {
    const nope = same(['network', 'rm', 'nope']);
    assert.deepEqual(nope, { code: 1, stdout: '', stderr: 'Error response from daemon: network nope not found\nexit status 1\n' });
    same(['network', 'rm', '-f', 'nope']);
    same(['network', 'rm', '']);
    same(['network', 'rm']);
    // a mix: the found one is removed and printed, the missing one reported
    assert.equal(berth(d, ['network', 'create', '--subnet', '172.29.218.0/24', 'tmp1']).code, 0);
    const b = berth(d, ['network', 'remove', 'nope', 'tmp1']);
    assert.equal(docker(d, ['network', 'create', '--subnet', '172.29.218.0/24', 'tmp1']).code, 0);
    assert.deepEqual(b, asBerth(docker(d, ['network', 'remove', 'nope', 'tmp1'])));
    assert.deepEqual(b, { code: 1, stdout: 'tmp1\n', stderr: 'Error response from daemon: network nope not found\nexit status 1\n' });
  });

  test('connect and disconnect: same endpoint settings, same errors', () => {
    assert.equal(berth(d, ['run', '-d', '--name', 'c1', '--network', 'b-plain', 'busybox', 'sleep', '600']).code, 0);
    assert.equal(berth(d, ['create', '--name', 'c-none', '--network', 'none', 'busybox']).code, 0);
    const endpoint = () =>
      docker(d, ['inspect', '-f', '{{with index .NetworkSettings.Networks "b-net"}}{{json .Aliases}} {{json .IPAMConfig}} {{.IPAddress}} {{json .DriverOpts}}{{end}}', 'c1']);
    const args = ['network', 'connect', '--alias', 'web', '--alias', 'www,w3', '--ip', '172.29.213.200', '--driver-opt', 'k=v', 'b-net', 'c1'];
    const bc = berth(d, args);
    assert.deepEqual(bc, { code: 0, stdout: '', stderr: '' });
    const viaBerth = endpoint();
    assert.match(viaBerth.stdout, /"web","www","w3"/);
    assert.match(viaBerth.stdout, /172\.29\.213\.200/);
    same(['network', 'connect', 'b-net', 'c1']);
    assert.deepEqual(berth(d, ['network', 'disconnect', 'b-net', 'c1']), { code: 0, stdout: '', stderr: '' });
    assert.equal(endpoint().stdout, '\n');
    assert.deepEqual(docker(d, args), bc);
    assert.deepEqual(endpoint(), viaBerth);
    assert.deepEqual(docker(d, ['network', 'disconnect', '-f', 'b-net', 'c1']), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(berth(d, ['network', 'connect', 'b-net', 'c1']), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(berth(d, ['network', 'disconnect', '-f', 'b-net', 'c1']), { code: 0, stdout: '', stderr: '' });
    // errors
    same(['network', 'disconnect', 'b-net', 'c1']);
    same(['network', 'connect', 'nope', 'c1']);
    same(['network', 'connect', 'b-net', 'nope']);
    same(['network', 'disconnect', 'nope', 'c1']);
    same(['network', 'connect', 'b-net', 'c-none']);
    same(['network', 'connect', '--ip', '10.1.1.1', 'b-net', 'c1']);
    same(['network', 'connect', '--driver-opt', 'novalue', 'b-net', 'c1']);
    same(['network', 'connect', '--mac-address', '02:42:ac:11:00:02', 'b-net', 'c1']);
    same(['network', 'connect', 'b-net']);
    same(['network', 'disconnect', '', 'c1']);
  });

  test('prune: the prompt, a refusal, -f and filters', () => {
    const labelled = (cli: typeof berth) => assert.equal(cli(d, ['network', 'create', '--subnet', '172.29.219.0/24', '--label', 'prune=me', 'p1']).code, 0);
    labelled(docker);
    const no = same(['network', 'prune', '--filter', 'label=prune=me'], 'n\n');
    assert.deepEqual(no, {
      code: 0,
      stdout: 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ',
      stderr: '',
    });
    assert.equal(docker(d, ['network', 'inspect', '-f', '{{.Name}}', 'p1']).stdout, 'p1\n');
    same(['network', 'ls', '-f', 'label=prune', '--format', '{{.Name}} {{.Labels}}']);
    const yes = berth(d, ['network', 'prune', '--filter', 'label=prune=me'], 'y\n');
    labelled(docker);
    assert.deepEqual(yes, docker(d, ['network', 'prune', '--filter', 'label=prune=me'], 'y\n'));
    assert.match(yes.stdout, /\[y\/N\] Deleted Networks:\np1\n\n$/);
    labelled(docker);
    const forced = berth(d, ['network', 'prune', '-f', '--filter', 'label=prune=me']);
    assert.deepEqual(forced, { code: 0, stdout: 'Deleted Networks:\np1\n\n', stderr: '' });
    labelled(docker);
    assert.deepEqual(forced, docker(d, ['network', 'prune', '-f', '--filter', 'label=prune=me']));
    // nothing left to prune: no output
    same(['network', 'prune', '-f', '--filter', 'label=prune=me']);
    same(['network', 'prune', '-f', '--filter', 'bad']);
    same(['network', 'prune', 'x']);
  });

  test('port: every mapping, one private port, errors', () => {
    const r = berth(d, ['run', '-d', '--name', 'web', '--network', 'b-plain', '-p', '127.0.0.1::80', '-p', '80', '-p', '127.0.0.1::53/udp', '--expose', '90', 'busybox', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
    const all = same(['port', 'web']);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /^53\/udp -> 127\.0\.0\.1:\d+\n80\/tcp -> 0\.0\.0\.0:\d+\n(80\/tcp -> 127\.0\.0\.1:\d+\n80\/tcp -> \[::\]:\d+\n|80\/tcp -> \[::\]:\d+\n80\/tcp -> 127\.0\.0\.1:\d+\n)$/);
    same(['container', 'port', 'web']);
    const one = same(['port', 'web', '80']);
    assert.match(one.stdout, /^0\.0\.0\.0:\d+\n/);
    same(['port', 'web', '80/tcp']);
    same(['port', 'web', '53/udp']);
    const none = same(['port', 'web', '81']);
    assert.deepEqual(none, { code: 1, stdout: '', stderr: "Error: No public port '81' published for web\n" });
    same(['port', 'web', '81/tcp']);
    same(['port', 'web', '53']);
    same(['port', 'web', '90']);
    same(['port', 'web', 'x']);
    same(['port', 'web', '70000']);
    same(['port', 'c1']);
    same(['port', 'nope']);
    same(['port']);
  });

  test('run/create network flags reach the daemon as docker sends them', () => {
    const flags = [
      '--network', 'b-net', '--network-alias', 'api', '--network-alias', 'api2', '--ip', '172.29.213.77',
      '--dns', '9.9.9.9', '--add-host', 'db:10.0.0.2', '--add-host', 'gw=host-gateway',
      '-p', '8080:80', '-p', '127.0.0.1:8081:81', '-p', '82', '-p', '8000-8001:83-84', '-p', '53:53/udp', '-P', '--expose', '85',
      'busybox',
    ];
    const bc = berth(d, ['create', '--name', 'b-opts', ...flags]);
    assert.equal(bc.code, 0, bc.stderr);
    const dc = docker(d, ['create', '--name', 'd-opts', ...flags]);
    assert.equal(dc.code, 0, dc.stderr);
    const view =
      '{{json .Config.ExposedPorts}} {{json .HostConfig.PortBindings}} {{.HostConfig.PublishAllPorts}} {{json .HostConfig.Dns}} {{json .HostConfig.ExtraHosts}} ' +
      '{{.HostConfig.NetworkMode}} {{with index .NetworkSettings.Networks "b-net"}}{{json .Aliases}} {{json .IPAMConfig}} {{.MacAddress}}{{end}}';
    const b = docker(d, ['inspect', '-f', view, 'b-opts']);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(b, docker(d, ['inspect', '-f', view, 'd-opts']));
    assert.match(b.stdout, /"8080"/);
    // the docker CLI refuses a per-network MAC address below API 1.44 (Debian's dockerd speaks 1.41)
    for (const cmd of ['create', 'run']) same([cmd, '--network', 'b-net', '--mac-address', '02:42:ac:1d:d5:4d', 'busybox']);
  });
});
