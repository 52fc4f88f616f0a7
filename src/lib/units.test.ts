import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from './errors.js';
import {
  bytesSize,
  fromHumanSize,
  goDurationString,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseGoDuration,
  ramInBytes,
  timeAgo,
} from './units.js';

function throwsArg(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'InvalidArgument');
    assert.equal(err.message, message);
    return true;
  });
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

test('humanSize: decimal units, 3 significant digits (docker SIZE column)', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1200, '1.2kB'],
    [1024, '1.02kB'],
    [12345, '12.3kB'],
    [12250, '12.2kB'], // an exact tie rounds to even, as Go does
    [4_260_000, '4.26MB'],
    [4_264_999, '4.26MB'],
    [123_456_789, '123MB'],
    [1_500_000_000, '1.5GB'],
    [999_500, '1e+03kB'], // Go's %.3g switches to exponent form
    [1e12, '1TB'],
    [1e30, '1e+06YB'],
  ];
  for (const [n, want] of cases) assert.equal(humanSize(n), want, String(n));
});

test('humanSizeWithPrecision matches go-units HumanSize at 4 digits', () => {
  const cases: [number, string][] = [
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1_000_000, '1MB'],
    [1_048_576, '1.049MB'],
    [2_000_000, '2MB'],
    [3.42e9, '3.42GB'],
    [5.372e12, '5.372TB'],
    [2.22e15, '2.22PB'],
    [1e28, '1e+04YB'],
  ];
  for (const [n, want] of cases) assert.equal(humanSizeWithPrecision(n, 4), want, String(n));
});

test('bytesSize: binary units, 4 significant digits', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1023, '1023B'],
    [KiB, '1KiB'],
    [1536, '1.5KiB'],
    [MiB, '1MiB'],
    [1.5 * MiB, '1.5MiB'],
    [3.42 * GiB, '3.42GiB'],
    [5.372 * TiB, '5.372TiB'],
    [2.22 * PiB, '2.22PiB'],
    [KiB ** 5 * PiB, '1.049e+06YiB'],
  ];
  for (const [n, want] of cases) assert.equal(bytesSize(n), want, String(n));
});

test('fromHumanSize: decimal multipliers', () => {
  const cases: [string, number][] = [
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32_000],
    ['32K', 32_000],
    ['32kb', 32_000],
    ['32Kb', 32_000],
    ['32Mb', 32_000_000],
    ['32Gb', 32e9],
    ['32Tb', 32e12],
    ['32Pb', 32e15],
    ['32.5kB', 32_500],
    ['32.5 kB', 32_500],
    ['.3kB', 300],
    ['10m', 10_000_000],
    ['1g', 1e9],
    ['512k', 512_000],
    ['100', 100],
  ];
  for (const [s, want] of cases) assert.equal(fromHumanSize(s), want, s);
  throwsArg(() => fromHumanSize(''), "invalid size: ''");
  throwsArg(() => fromHumanSize('hello'), "invalid size: 'hello'");
  throwsArg(() => fromHumanSize('-32'), "invalid size: '-32'");
  throwsArg(() => fromHumanSize('32.3.3kb'), 'strconv.ParseFloat: parsing "32.3.3": invalid syntax');
  throwsArg(() => fromHumanSize('32x'), "invalid suffix: 'x'");
});

test('ramInBytes: binary multipliers, any case, optional b / ib', () => {
  const cases: [string, number][] = [
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32 * KiB],
    ['32K', 32 * KiB],
    ['32kb', 32 * KiB],
    ['32Kb', 32 * KiB],
    ['32KiB', 32 * KiB],
    ['32Mb', 32 * MiB],
    ['32MiB', 32 * MiB],
    ['32Gb', 32 * GiB],
    ['32Tb', 32 * TiB],
    ['32Pb', 32 * PiB],
    ['32PB', 32 * PiB],
    ['32P', 32 * PiB],
    ['512m', 512 * MiB],
    ['1.5g', 1.5 * GiB],
    ['0.5k', 512],
  ];
  for (const [s, want] of cases) assert.equal(ramInBytes(s), want, s);
  throwsArg(() => ramInBytes(''), "invalid size: ''");
  throwsArg(() => ramInBytes('hello'), "invalid size: 'hello'");
  throwsArg(() => ramInBytes('-32'), "invalid size: '-32'");
  throwsArg(() => ramInBytes(' 32 '), 'strconv.ParseFloat: parsing "": invalid syntax');
  throwsArg(() => ramInBytes('32m b'), 'strconv.ParseFloat: parsing "32m": invalid syntax');
  throwsArg(() => ramInBytes('32bm'), "invalid suffix: 'bm'");
  throwsArg(() => ramInBytes('32mbb'), "invalid suffix: 'mbb'");
  // The number runs to the last digit, so a digit after the unit spoils it.
  throwsArg(() => ramInBytes('32mib2'), 'strconv.ParseFloat: parsing "32mib2": invalid syntax');
});

test('humanDuration matches go-units', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const w = 7 * d;
  const cases: [number, string][] = [
    [-5 * s, 'Less than a second'],
    [450, 'Less than a second'],
    [s, '1 second'],
    [45 * s, '45 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [m + 59 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [35 * m + 10 * s, '35 minutes'],
    [59 * m, '59 minutes'],
    [h, 'About an hour'],
    [h + 29 * m, 'About an hour'],
    [h + 31 * m, '2 hours'],
    [3 * h + 29 * m, '3 hours'],
    [3 * h + 31 * m, '4 hours'],
    [24 * h, '24 hours'],
    [d + 12 * h, '36 hours'],
    [2 * d, '2 days'],
    [7 * d, '7 days'],
    [13 * d + 5 * h, '13 days'],
    [2 * w, '2 weeks'],
    [2 * w + 4 * d, '2 weeks'],
    [3 * w, '3 weeks'],
    [4 * w, '4 weeks'],
    [4 * w + 3 * d, '4 weeks'],
    [30 * d, '4 weeks'],
    [30 * d + 2 * w, '6 weeks'],
    [60 * d, '2 months'],
    [60 * d + 2 * w, '2 months'],
    [90 * d + w, '3 months'],
    [150 * d + 2 * w, '5 months'],
    [365 * d, '12 months'],
    [13 * 30 * d, '13 months'],
    [23 * 30 * d, '23 months'],
    [24 * 30 * d, '24 months'],
    [24 * 30 * d + 2 * w, '2 years'],
    [3 * 365 * d + 2 * 30 * d, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('timeAgo is the CREATED column', () => {
  const now = new Date(1_700_000_000_000);
  assert.equal(timeAgo(1_700_000_000 - 3 * 3600, now), '3 hours ago');
  assert.equal(timeAgo(1_700_000_000, now), 'Less than a second ago');
  assert.equal(timeAgo(1_700_000_000 - 14 * 86400, now), '2 weeks ago');
  assert.match(timeAgo(Date.now() / 1000 - 120), /^2 minutes ago$/);
});

test('parseGoDuration returns milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['-0', 0],
    ['300ms', 300],
    ['10s', 10_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['1h2m3s4ms', 3_723_004],
    ['-1.5s', -1500],
    ['+5m', 300_000],
    ['1.5us', 0.0015],
    ['2µs', 0.002],
    ['100ns', 0.0001],
    ['.5s', 500],
    ['1.s', 1000],
  ];
  for (const [s, want] of cases) assert.equal(parseGoDuration(s), want, s);
  throwsArg(() => parseGoDuration(''), 'time: invalid duration ""');
  throwsArg(() => parseGoDuration('abc'), 'time: invalid duration "abc"');
  throwsArg(() => parseGoDuration('.s'), 'time: invalid duration ".s"');
  throwsArg(() => parseGoDuration('10'), 'time: missing unit in duration "10"');
  throwsArg(() => parseGoDuration('10x'), 'time: unknown unit "x" in duration "10x"');
  throwsArg(() => parseGoDuration('1d'), 'time: unknown unit "d" in duration "1d"');
});

test('goDurationString prints like Go time.Duration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [0.0001, '100ns'],
    [0.0015, '1.5µs'],
    [1.5, '1.5ms'],
    [500, '500ms'],
    [1500, '1.5s'],
    [10_000, '10s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [9_900_000, '2h45m0s'],
    [-61_000, '-1m1s'],
  ];
  for (const [ms, want] of cases) assert.equal(goDurationString(ms), want, String(ms));
});
