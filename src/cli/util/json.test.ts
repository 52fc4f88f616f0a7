import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactJSON, indentJSON } from './json.js';
import { progressString } from '../jsonmessage.js';
import { wrapFlagUsages } from '../command.js';

test('indentJSON keeps bytes, order and empty containers like json.Indent', () => {
  const raw = '[{"b":1e+21,"a":"x\\u003cy","e":[],"o":{},"n":[1,{"k":null}]}]';
  assert.equal(
    indentJSON(raw),
    '[\n    {\n        "b": 1e+21,\n        "a": "x\\u003cy",\n        "e": [],\n        "o": {},\n        "n": [\n            1,\n            {\n                "k": null\n            }\n        ]\n    }\n]',
  );
  assert.equal(compactJSON(' { "a" : [ 1 , 2 ] }\n'), '{"a":[1,2]}');
});

test('progressString follows JSONProgress.String', () => {
  assert.equal(progressString({ current: 32768, total: 1996800 }, 80), ' 32.77kB/1.997MB');
  assert.equal(progressString({ current: 1996800, total: 1996800 }, 120), `[${'='.repeat(50)}>]  1.997MB/1.997MB`);
  assert.equal(progressString({ current: 5 }, 200), '      5B');
  assert.equal(progressString({}, 200), '');
});

test('wrapFlagUsages wraps usage text at the terminal width like pflag', () => {
  const text =
    '      --format string   Format output using a custom template:\n' +
    "                        'table':            Print output in table format with column headers (default)\n" +
    '  -q, --quiet           Only show image IDs\n';
  assert.equal(
    wrapFlagUsages(text, 79),
    '      --format string   Format output using a custom template:\n' +
      "                        'table':            Print output in table format\n" +
      '                        with column headers (default)\n' +
      '  -q, --quiet           Only show image IDs\n',
  );
});
