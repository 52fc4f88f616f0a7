import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import { defineFlags, flagUsages, parseFlags, type FlagDef } from './flags.js';

const runFlags = defineFlags([
  { name: 'rm', type: 'bool', usage: 'Automatically remove the container when it exits' },
  { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'env', short: 'e', type: 'stringArray', usage: 'Set environment variables' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID' },
  { name: 'name', type: 'string', usage: 'Assign a name to the container' },
  { name: 'dns', type: 'stringSlice', usage: 'Set custom DNS servers' },
  { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
]);

const logsFlags: FlagDef[] = [
  { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
  { name: 'tail', short: 'n', type: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
  { name: 'time', short: 't', type: 'int', default: 10, usage: 'Seconds to wait' },
  { name: 'since', type: 'duration', usage: 'Show logs since' },
  { name: 'format', type: 'string', usage: 'Format output using a custom template' },
];

function throwsArg(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'InvalidArgument');
    assert.equal(err.message, message);
    return true;
  });
}

test('defaults for every flag', () => {
  const r = parseFlags(logsFlags, []);
  assert.deepEqual(r.flags, { follow: false, tail: 'all', time: 10, since: 0, format: '', help: false });
  assert.deepEqual(r.args, []);
  assert.equal(r.set.size, 0);
});

test('long flags: --name value, --name=value, bools', () => {
  const r = parseFlags(runFlags, ['--name', 'web', '--user=root', '--rm', '--detach=false', '--interactive=true', 'img']);
  assert.equal(r.flags.name, 'web');
  assert.equal(r.flags.user, 'root');
  assert.equal(r.flags.rm, true);
  assert.equal(r.flags.detach, false);
  assert.equal(r.flags.interactive, true);
  assert.deepEqual([...r.set].sort(), ['detach', 'interactive', 'name', 'rm', 'user']);
  assert.deepEqual(r.args, ['img']);
  // A bool never takes the next word as its value.
  assert.deepEqual(parseFlags(runFlags, ['--rm', 'false']).args, ['false']);
  // An empty value after = is a value.
  assert.equal(parseFlags(runFlags, ['--name=']).flags.name, '');
  assert.equal(parseFlags(runFlags, ['--name=a=b']).flags.name, 'a=b');
});

test('shorthands: -e value, -evalue, -e=value, groups', () => {
  const r = parseFlags(runFlags, ['-e', 'A=1', '-eB=2', '-e=C=3', '-itd', '-uroot']);
  assert.deepEqual(r.flags.env, ['A=1', 'B=2', 'C=3']);
  assert.equal(r.flags.interactive, true);
  assert.equal(r.flags.tty, true);
  assert.equal(r.flags.detach, true);
  assert.equal(r.flags.user, 'root');
  // A group may end in a flag that takes the rest, or the next word.
  const g = parseFlags(runFlags, ['-du', 'root', '-ie', 'X=1', '-tuadmin']);
  assert.equal(g.flags.detach, true);
  assert.equal(g.flags.user, 'admin');
  assert.deepEqual(g.flags.env, ['X=1']);
  assert.equal(g.flags.tty, true);
  assert.equal(parseFlags(runFlags, ['-d=false']).flags.detach, false);
  assert.equal(parseFlags(runFlags, ['-it=false']).flags.tty, false);
});

test('list flags: stringArray keeps commas, stringSlice splits them', () => {
  const r = parseFlags(runFlags, ['-e', 'A=1,2', '--dns', '1.1.1.1,8.8.8.8', '--dns=9.9.9.9', '--dns', 'a,"b,c"']);
  assert.deepEqual(r.flags.env, ['A=1,2']);
  assert.deepEqual(r.flags.dns, ['1.1.1.1', '8.8.8.8', '9.9.9.9', 'a', 'b,c']);
  assert.deepEqual(parseFlags(runFlags, ['--dns', '']).flags.dns, []);
  assert.deepEqual(parseFlags(runFlags, ['--dns', 'a,,b,']).flags.dns, ['a', '', 'b', '']);
  // Given values replace a default list rather than add to it.
  const withDefault = parseFlags([{ name: 'x', type: 'stringArray', default: ['d'] }], ['--x', 'a', '--x', 'b']);
  assert.deepEqual(withDefault.flags.x, ['a', 'b']);
  assert.deepEqual(parseFlags([{ name: 'x', type: 'stringArray', default: ['d'] }], []).flags.x, ['d']);
  throwsArg(() => parseFlags(runFlags, ['--dns', 'a"b']), 'invalid argument "a\\"b" for "--dns" flag: parse error on line 1, column 2: bare " in non-quoted-field');
});

test('int and duration values', () => {
  const r = parseFlags(logsFlags, ['-t', '0x1f', '--since', '1m30s']);
  assert.equal(r.flags.time, 31);
  assert.equal(r.flags.since, 90_000);
  assert.equal(parseFlags(logsFlags, ['--time=-5']).flags.time, -5);
  assert.equal(parseFlags(logsFlags, ['--time', '1_000']).flags.time, 1000);
  assert.equal(parseFlags(logsFlags, ['--time', '010']).flags.time, 8);
  assert.equal(parseFlags(logsFlags, ['--since', '1.5h']).flags.since, 5_400_000);
  assert.equal(parseFlags([{ name: 'd', type: 'duration', default: '10s' }], []).flags.d, 10_000);
});

test('-- ends flags and - is a positional', () => {
  const r = parseFlags(runFlags, ['--rm', '--', '-e', 'x', '--name']);
  assert.deepEqual(r.args, ['-e', 'x', '--name']);
  assert.deepEqual(parseFlags(runFlags, ['-', '-e', 'A']).args, ['-']);
  assert.deepEqual(parseFlags(runFlags, ['']).args, ['']);
});

test('interspersed: false stops at the first positional (docker run)', () => {
  const r = parseFlags(runFlags, ['--rm', '-it', 'alpine', 'sh', '-c', 'echo hi', '--rm'], { interspersed: false });
  assert.deepEqual(r.args, ['alpine', 'sh', '-c', 'echo hi', '--rm']);
  assert.equal(r.flags.rm, true);
  assert.equal(r.flags.tty, true);
  // Unknown flags after the image are the command's business.
  assert.deepEqual(parseFlags(runFlags, ['img', '--bogus'], { interspersed: false }).args, ['img', '--bogus']);
});

test('interspersed: true allows flags after positionals', () => {
  const r = parseFlags(logsFlags, ['web', '-f', '--tail', '5', 'extra']);
  assert.deepEqual(r.args, ['web', 'extra']);
  assert.equal(r.flags.follow, true);
  assert.equal(r.flags.tail, '5');
});

test('errors use pflag wording', () => {
  throwsArg(() => parseFlags(runFlags, ['--foo']), 'unknown flag: --foo');
  throwsArg(() => parseFlags(runFlags, ['--foo=bar']), 'unknown flag: --foo');
  throwsArg(() => parseFlags(runFlags, ['-x']), "unknown shorthand flag: 'x' in -x");
  throwsArg(() => parseFlags(runFlags, ['-itx']), "unknown shorthand flag: 'x' in -x");
  throwsArg(() => parseFlags(runFlags, ['--name']), 'flag needs an argument: --name');
  throwsArg(() => parseFlags(runFlags, ['-e']), "flag needs an argument: 'e' in -e");
  throwsArg(() => parseFlags(runFlags, ['-ie']), "flag needs an argument: 'e' in -e");
  throwsArg(() => parseFlags(logsFlags, ['-t', 'abc']), 'invalid argument "abc" for "-t, --time" flag: strconv.ParseInt: parsing "abc": invalid syntax');
  throwsArg(() => parseFlags(logsFlags, ['--time=1.5']), 'invalid argument "1.5" for "-t, --time" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  throwsArg(() => parseFlags(logsFlags, ['--time', '99999999999999999999']), 'invalid argument "99999999999999999999" for "-t, --time" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range');
  throwsArg(() => parseFlags(logsFlags, ['--time', '1__0']), 'invalid argument "1__0" for "-t, --time" flag: strconv.ParseInt: parsing "1__0": invalid syntax');
  throwsArg(() => parseFlags(runFlags, ['--rm=yes']), 'invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax');
  throwsArg(() => parseFlags(logsFlags, ['--since', '10']), 'invalid argument "10" for "--since" flag: time: missing unit in duration "10"');
  throwsArg(() => parseFlags(runFlags, ['---rm']), 'bad flag syntax: ---rm');
  throwsArg(() => parseFlags(runFlags, ['--=x']), 'bad flag syntax: --=x');
});

test('help, hidden and deprecated flags', () => {
  assert.equal(parseFlags(runFlags, ['--help']).flags.help, true);
  const h = parseFlags(runFlags, ['-h']);
  assert.equal(h.flags.help, true);
  assert.deepEqual(h.warnings, ['Flag shorthand -h has been deprecated, use --help']);
  // A command that owns -h (docker run --hostname) keeps it.
  const own = parseFlags([{ name: 'hostname', short: 'h', type: 'string' }], ['-h', 'box']);
  assert.equal(own.flags.hostname, 'box');
  const dep = parseFlags([{ name: 'old', type: 'bool', deprecated: 'use --new' }], ['--old']);
  assert.deepEqual(dep.warnings, ['Flag --old has been deprecated, use --new']);
});

test('defineFlags rejects clashes', () => {
  assert.throws(() => defineFlags([{ name: 'a', type: 'bool' }, { name: 'a', type: 'bool' }]), /flag redefined: a/);
  assert.throws(() => defineFlags([{ name: 'a', short: 'x', type: 'bool' }, { name: 'b', short: 'x', type: 'bool' }]), /already used/);
  assert.throws(() => defineFlags([{ name: 'a', short: 'xy', type: 'bool' }]), /more than one/);
});

test('flagUsages renders the Options section like docker', () => {
  // The usage column starts three spaces after the longest flag.
  const rows = (col: number, lines: [string, string][]) => lines.map(([l, u]) => l.padEnd(col) + u + '\n').join('');
  assert.equal(
    flagUsages(logsFlags),
    rows(25, [
      ['  -f, --follow', 'Follow log output'],
      ['      --format string', 'Format output using a custom template'],
      ['      --since duration', 'Show logs since'],
      ['  -n, --tail string', 'Number of lines to show from the end of the logs (default "all")'],
      ['  -t, --time int', 'Seconds to wait (default 10)'],
    ]),
  );
  assert.equal(
    flagUsages([
      { name: 'env', short: 'e', type: 'stringArray', usage: 'Set environment variables' },
      { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', usage: 'Memory limit' },
      { name: 'volume', type: 'string', usage: 'Bind mount a `vol`ume' },
      { name: 'secret', type: 'string', hidden: true },
      { name: 'old', type: 'bool', deprecated: 'gone' },
      { name: 'stop', type: 'duration', default: '1m30s', usage: 'Wait' },
      { name: 'labels', type: 'stringSlice', default: ['a', 'b'], usage: 'Labels' },
      { name: 'multi', type: 'bool', usage: 'First line\nsecond line' },
    ]),
    rows(24, [
      ['  -e, --env list', 'Set environment variables'],
      ['      --labels list', 'Labels (default [a,b])'],
      ['  -m, --memory bytes', 'Memory limit'],
      ['      --multi', 'First line\n' + ' '.repeat(24) + 'second line'],
      ['      --stop duration', 'Wait (default 1m30s)'],
      ['      --volume vol', 'Bind mount a volume'],
    ]),
  );
  assert.equal(flagUsages([]), '');
});
