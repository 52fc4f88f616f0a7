import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ignored, parseDockerignore, PatternMatcher, readIgnoreFile } from './dockerignore.js';
import { cleanPath } from './gopath.js';

const matcher = (...patterns: string[]) => new PatternMatcher(patterns);

test('readIgnoreFile: comments, blank lines, trimming, cleaning, leading slash, BOM, CRLF', () => {
  const text = '\ufeff# comment\n\n  *.log  \r\n !keep.log\n/abs/path\na/../b\n #not-a-comment\n./c/\n';
  assert.deepEqual(readIgnoreFile(text), ['*.log', '!keep.log', 'abs/path', 'b', '#not-a-comment', 'c']);
  assert.deepEqual(readIgnoreFile(''), []);
  assert.deepEqual(readIgnoreFile('x'), ['x']);
});

test('cleanPath follows Go path.Clean', () => {
  assert.equal(cleanPath(''), '.');
  assert.equal(cleanPath('a//b/./c/..'), 'a/b');
  assert.equal(cleanPath('../a'), '../a');
  assert.equal(cleanPath('/../a'), '/a');
  assert.equal(cleanPath('a/../..'), '..');
});

test('a pattern matches a path and everything under it; * and ? stay in one element', () => {
  const m = matcher('*.log', 'build', 'sub/?.txt');
  assert.equal(m.matches('a.log'), true);
  assert.equal(m.matches('dir/a.log'), false);
  assert.equal(m.matches('build'), true);
  assert.equal(m.matches('build/x/y'), true);
  assert.equal(m.matches('builds'), false);
  assert.equal(m.matches('sub/a.txt'), true);
  assert.equal(m.matches('sub/ab.txt'), false);
  assert.equal(m.matches('.'), false, 'the context root is never left out');
});

test('** spans directories: leading, middle, trailing, alone', () => {
  const lead = matcher('**/*.log');
  assert.equal(lead.matches('a.log'), true);
  assert.equal(lead.matches('x/y/a.log'), true);
  assert.equal(lead.matches('x/y/a.txt'), false);
  const middle = matcher('a/**/b');
  assert.equal(middle.matches('a/b'), true);
  assert.equal(middle.matches('a/x/y/b'), true);
  assert.equal(middle.matches('a/x/c'), false);
  const trailing = matcher('docs/**');
  assert.equal(trailing.matches('docs/a'), true);
  assert.equal(trailing.matches('docs/a/b'), true);
  assert.equal(trailing.matches('docs'), false, 'docker: docs/** leaves docs itself in');
  assert.equal(matcher('**').matches('any/thing'), true);
  // docker's suffix shortcut: `**foo` is any path ending in foo
  assert.equal(matcher('**foo').matches('x/barfoo'), true);
  assert.equal(matcher('**/foo').matches('foo'), true);
  assert.equal(matcher('**/foo').matches('barfoo'), false);
});

test('! exceptions: the last matching pattern decides', () => {
  const m = matcher('*', '!keep', '!src/**', 'src/secret');
  assert.equal(m.matches('junk'), true);
  assert.equal(m.matches('keep'), false);
  assert.equal(m.matches('src/a/b.ts'), false);
  assert.equal(m.matches('src/secret'), true);
  assert.equal(m.matches('src'), true, 'src itself is matched by * and not re-included by src/**');
  assert.equal(m.exclusions, true);
});

test('mayReinclude: an excluded directory is walked only when an exception names something in it', () => {
  const m = matcher('dir', '!dir/keep', 'other', '!*/x');
  assert.equal(m.mayReinclude('dir'), true);
  assert.equal(m.mayReinclude('other'), false, 'wildcard exceptions do not reach into an excluded directory');
  assert.equal(matcher('dir').mayReinclude('dir'), false);
});

test('escapes, classes and regexp characters', () => {
  assert.equal(matcher('a\\*b').matches('a*b'), true);
  assert.equal(matcher('a\\*b').matches('axb'), false);
  assert.equal(matcher('[ab].txt').matches('a.txt'), true);
  assert.equal(matcher('[ab].txt').matches('c.txt'), false);
  assert.equal(matcher('[^ab].txt').matches('c.txt'), true);
  assert.equal(matcher('a.b').matches('axb'), false);
  assert.equal(matcher('a+(b)').matches('a+(b)'), true);
  assert.equal(matcher('f$').matches('f$'), true);
});

test('bad patterns: a lone ! and malformed classes, as docker reports them', () => {
  assert.throws(() => matcher('!'), /illegal exclusion pattern: "!"/);
  assert.throws(() => matcher('['), /syntax error in pattern/);
  assert.throws(() => matcher('[a'), /syntax error in pattern/);
  assert.throws(() => matcher('[]'), /syntax error in pattern/);
  assert.throws(() => matcher('a\\'), /syntax error in pattern/);
  // the daemon's reader ignores a bad file rather than failing the build
  assert.equal(ignored(parseDockerignore('[\n*.log\n'), 'a.log'), false);
  assert.equal(ignored(parseDockerignore('*.log\n'), 'a.log'), true);
});
