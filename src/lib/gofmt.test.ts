import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatValue, goJSON, goQuote, sprintf } from './gofmt.js';

test('printf verbs', () => {
  const cases: [string, unknown[], string][] = [
    ['%s', ['x'], 'x'],
    ['%d', [42], '42'],
    ['%v', [[1, 'a']], '[1 a]'],
    ['%v', [{ b: 1, a: 'x' }], 'map[a:x b:1]'],
    ['%q', ['a"b\n'], '"a\\"b\\n"'],
    ['%t', [true], 'true'],
    ['%x %X %x', [255, 255, 'hi'], 'ff FF 6869'],
    ['%o %b %#x %#o', [8, 5, 255, 8], '10 101 0xff 010'],
    ['%f %.1f %.0f %.0f', [1.5, 0.25, 0.5, 1.5], '1.500000 0.2 0 2'],
    ['%e %E %g %G', [1234.5678, 0.000123, 1e21, 1e-7], '1.234568e+03 1.230000E-04 1e+21 1E-07'],
    ['%8.3f|%-8d|%08.3f|%+d|% d', [3.14159, 7, -3.14159, 5, 5], '   3.142|7       |-003.142|+5| 5'],
    ['%05d %5d %-5d| %.3d', [-42, 42, 42, 7], '-0042    42 42   | 007'],
    ['%c %U %q', [65, 0x1f600, 97], 'A U+1F600 \'a\''],
    ['%.2s %5.1s|', ['hello', 'world'], 'he     w|'],
    ['%T %T %T %T %T', ['s', 1, 1.5, true, null], 'string int float64 bool <nil>'],
    ['%v %s %d', [null, null, 'x'], '<nil> %!s(<nil>) %!d(string=x)'],
    ['%d %s', [1], '1 %!s(MISSING)'],
    ['%d', [1, 'extra', 2], '1%!(EXTRA string=extra, int=2)'],
    ['%[2]s %[1]s', ['a', 'b'], 'b a'],
    ['%*d|%-*d|', [4, 7, 3, 1], '   7|1  |'],
    ['%!', [], '%!!(MISSING)'],
    ['100%', [], '100%!(NOVERB)'],
    ['%v %v %v', [1.5, 1500000000.5, 1e-5], '1.5 1.5000000005e+09 1e-05'],
    ['%+v', [{ a: 1 }], 'map[a:1]'],
  ];
  for (const [format, args, want] of cases) assert.equal(sprintf(format, args), want, format);
});

test('default formatting of values', () => {
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(-7), '-7');
  assert.equal(formatValue(1.5), '1.5');
  assert.equal(formatValue(0.1), '0.1');
  assert.equal(formatValue(1500000000.5), '1.5000000005e+09');
  assert.equal(formatValue(1234567.25), '1.23456725e+06');
  assert.equal(formatValue(1e21), '1e+21');
  assert.equal(formatValue(0.00001), '1e-05');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(true), 'true');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue(['a', 'b', 'c']), '[a b c]');
  assert.equal(formatValue([[1, 2], [3]]), '[[1 2] [3]]');
  assert.equal(formatValue([]), '[]');
  assert.equal(formatValue({ b: 'y', a: 'x' }), 'map[a:x b:y]');
  assert.equal(formatValue({ a: { c: [1] } }), 'map[a:map[c:[1]]]');
  assert.equal(formatValue({}), 'map[]');
  assert.equal(formatValue(new Map([['z', 1], ['y', 2]])), 'map[y:2 z:1]');
  assert.equal(formatValue([null, undefined]), '[<nil> <nil>]');
  assert.equal(formatValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 600))), '2024-01-02 03:04:05.6 +0000 UTC');
});

test('formatFloat matches strconv.FormatFloat', () => {
  const cases: [number, 'e' | 'E' | 'f' | 'g' | 'G', number, string][] = [
    [1.25, 'f', 1, '1.2'], // ties round to even on the exact value
    [1.35, 'f', 1, '1.4'], // 1.35 is really 1.350000000000000088...
    [0.5, 'f', 0, '0'],
    [2.5, 'f', 0, '2'],
    [3.5, 'f', 0, '4'],
    [0.125, 'g', 2, '0.12'],
    [12.25, 'g', 3, '12.2'],
    [999.5, 'g', 3, '1e+03'],
    [100, 'g', 3, '100'],
    [1.5, 'g', 3, '1.5'],
    [123456789, 'g', -1, '1.23456789e+08'],
    [100000, 'g', -1, '100000'],
    [1e6, 'g', -1, '1e+06'],
    [0.0001, 'g', -1, '0.0001'],
    [0.00001, 'g', -1, '1e-05'],
    [1234.5678, 'e', 2, '1.23e+03'],
    [0, 'e', 3, '0.000e+00'],
    [0, 'g', -1, '0'],
    [-0, 'g', -1, '-0'],
    [1e100, 'g', 3, '1e+100'],
    [-3.14159, 'f', 2, '-3.14'],
    [0.006, 'f', 2, '0.01'],
    [0.004, 'f', 2, '0.00'],
    [99.99, 'f', 1, '100.0'],
    [5e-324, 'g', -1, '5e-324'],
    [1.7976931348623157e308, 'g', -1, '1.7976931348623157e+308'],
  ];
  for (const [x, f, p, want] of cases) assert.equal(formatFloat(x, f, p), want, `${x} ${f} ${p}`);
});

test('goQuote', () => {
  assert.equal(goQuote('plain'), '"plain"');
  assert.equal(goQuote('tab\there "q" \\'), '"tab\\there \\"q\\" \\\\"');
  assert.equal(goQuote('\x01\x7f é \u200b'), '"\\x01\\x7f é \\u200b"');
  assert.equal(goQuote("it's", "'"), "'it\\'s'");
});

test('goJSON', () => {
  assert.equal(goJSON({ s: '<x>&' }, { escapeHTML: true }), '{"s":"\\u003cx\\u003e\\u0026"}');
  assert.equal(goJSON([{ a: 1 }], { indent: '    ' }), '[\n    {\n        "a": 1\n    }\n]');
  assert.equal(goJSON(new Map([['k', 1]])), '{"k":1}');
});
