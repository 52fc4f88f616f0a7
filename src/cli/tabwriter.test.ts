import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellWidth, tabwrite, tabwriteText } from './tabwriter.js';

test('docker settings: minwidth 10, padding 3, last column unpadded', () => {
  const out = tabwrite([
    ['REPOSITORY', 'TAG', 'SIZE'],
    ['busybox', 'latest', '4.26MB'],
    ['a-much-longer-name', '1', '1GB'],
  ]);
  assert.equal(
    out,
    'REPOSITORY           TAG       SIZE\n' +
      'busybox              latest    4.26MB\n' +
      'a-much-longer-name   1         1GB\n',
  );
});

test('options change the layout', () => {
  const lines = [['a', 'bb', 'c'], ['aaa', 'b', 'c']];
  assert.equal(tabwrite(lines, { minwidth: 0, padding: 1 }), 'a   bb c\naaa b  c\n');
  assert.equal(tabwrite(lines, { minwidth: 20, padding: 3 }), 'a' + ' '.repeat(19) + 'bb' + ' '.repeat(18) + 'c\naaa' + ' '.repeat(17) + 'b' + ' '.repeat(19) + 'c\n');
  assert.equal(tabwrite([['ab', 'c']], { padchar: '\t', tabwidth: 8, minwidth: 0, padding: 1 }), 'ab\tc\n');
});

test('columns are blocks of adjacent lines', () => {
  // The line without a tab ends the block; the columns below are sized afresh.
  const text = 'a\tb\n' + 'aaaaaaaaaaaaaa\tb\n' + 'no tabs here\n' + 'x\ty\n';
  assert.equal(
    tabwriteText(text, { minwidth: 0, padding: 1 }),
    'a              b\n' + 'aaaaaaaaaaaaaa b\n' + 'no tabs here\n' + 'x y\n',
  );
  // A column only spans the lines that have a cell in it.
  assert.equal(tabwriteText('a\tb\tc\naa\tbbbb\naaa\n', { minwidth: 0, padding: 1 }), 'a  b c\naa bbbb\naaa\n');
});

test('empty cells, trailing text and no final newline', () => {
  assert.equal(tabwriteText('a\t\tc\nxx\ty\tz\n', { minwidth: 0, padding: 1 }), 'a    c\nxx y z\n');
  assert.equal(tabwriteText('a\tb\nc\td', { minwidth: 0, padding: 1 }), 'a b\nc d');
  assert.equal(tabwriteText('a\tb\nc\t', { minwidth: 0, padding: 1 }), 'a b\nc');
  assert.equal(tabwriteText(''), '');
  assert.equal(tabwrite([]), '');
});

test('cell width counts wide characters twice and marks not at all', () => {
  assert.equal(cellWidth('abc'), 3);
  assert.equal(cellWidth('日本'), 4);
  assert.equal(cellWidth('e\u0301'), 1);
  assert.equal(cellWidth('…'), 1);
  assert.equal(tabwrite([['日本', 'x'], ['abcd', 'y']], { minwidth: 0, padding: 1 }), '日本 x\nabcd y\n');
});
