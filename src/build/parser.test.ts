import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, corpusCases } from './corpus.fixtures.js';
import { chompHeredoc, DockerfileParseError, dump, parse } from './parser.js';

for (const name of corpusCases('parser/testfiles')) {
  test(`corpus parse: ${name}`, () => {
    const dir = join(CORPUS, 'parser/testfiles', name);
    const ast = parse(readFileSync(join(dir, 'Dockerfile')));
    const expected = readFileSync(join(dir, 'result'), 'utf8').replace(/\n$/, '');
    assert.equal(dump(ast), expected);
  });
}

for (const name of corpusCases('parser/testfiles-negative')) {
  test(`corpus negative: ${name}`, () => {
    const file = join(CORPUS, 'parser/testfiles-negative', name, 'Dockerfile');
    assert.throws(() => parse(readFileSync(file)), DockerfileParseError);
  });
}

test('corpus line numbers: each instruction keeps its first and last line', () => {
  const ast = parse(readFileSync(join(CORPUS, 'parser/testfile-line/Dockerfile')));
  assert.equal(ast.startLine, 5);
  assert.equal(ast.endLine, 31);
  assert.deepEqual(
    ast.nodes.map((n) => [n.startLine, n.endLine]),
    [
      [5, 5],
      [11, 12],
      [17, 31],
    ],
  );
});

test('the corpus has the expected number of cases', () => {
  assert.equal(corpusCases('parser/testfiles').length, 33);
  assert.equal(corpusCases('parser/testfiles-negative').length, 4);
});

const df = (...lines: string[]) => lines.join('\n') + '\n';

test('heredocs: bodies, several on one line, quoting and <<-', () => {
  const ast = parse(
    df(
      'FROM scratch',
      'RUN <<EOF',
      'echo $HOME',
      'EOF',
      'RUN 3<<END cat',
      'END',
      'RUN <<-TABS',
      '\tindented',
      '\t\tmore',
      '\tTABS',
      "RUN <<'RAW'",
      "don't $expand",
      'RAW',
      'RUN <<"Q" python3',
      'print(1)',
      'Q',
      'COPY <<ONE <<TWO /dest/',
      'first',
      'ONE',
      'second',
      'TWO',
      'RUN <<a"b"c',
      'x',
      'abc',
      'RUN <<  SPACED  > /out',
      'SPACED',
      'RUN "<<NOT" ["x"]',
      'RUN ["<<EOF"]',
      'USER <<NOPE',
    ),
  );
  const h = ast.nodes.map((n) => n.heredocs.map((d) => [d.name, d.content, d.expand, d.chomp, d.fileDescriptor]));
  assert.deepEqual(h, [
    [],
    [['EOF', 'echo $HOME\n', true, false, 0]],
    [['END', '', true, false, 3]],
    [['TABS', '\tindented\n\t\tmore\n', true, true, 0]],
    [['RAW', "don't $expand\n", false, false, 0]],
    [['Q', 'print(1)\n', false, false, 0]],
    [
      ['ONE', 'first\n', true, false, 0],
      ['TWO', 'second\n', true, false, 0],
    ],
    [['abc', 'x\n', false, false, 0]],
    [['SPACED', '', true, false, 0]],
    [],
    [],
    [],
  ]);
  assert.equal(chompHeredoc(ast.nodes[3]!.heredocs[0]!.content), 'indented\nmore\n');
  // A heredoc body spans the instruction's lines.
  assert.deepEqual([ast.nodes[6]!.startLine, ast.nodes[6]!.endLine], [17, 21]);
  assert.equal(dump([ast.nodes[6]!]), '(copy "<<ONE" "<<TWO" "/dest/")');
});

test('an unterminated heredoc is an error on its instruction', () => {
  assert.throws(() => parse(df('FROM scratch', 'RUN <<EOF', 'echo hi')), {
    message: 'dockerfile parse error on line 2: unterminated heredoc',
  });
});

test('flags are split off before the arguments, with quotes removed', () => {
  const ast = parse(
    df(
      'FROM --platform=linux/amd64 busybox AS base',
      'RUN --mount=type=cache,target=/root/.cache --network=none echo hi',
      'COPY --from=base --chown="a b" -- --weird /dst',
      'HEALTHCHECK --interval=5s CMD true',
    ),
  );
  assert.deepEqual(
    ast.nodes.map((n) => n.flags),
    [['--platform=linux/amd64'], ['--mount=type=cache,target=/root/.cache', '--network=none'], ['--from=base', '--chown=a b'], ['--interval=5s']],
  );
  assert.deepEqual(ast.nodes[2]!.args, ['--weird', '/dst']);
  assert.equal(
    dump(ast),
    [
      '(from ["--platform=linux/amd64"] "busybox" "AS" "base")',
      '(run ["--mount=type=cache,target=/root/.cache" "--network=none"] "echo hi")',
      '(copy ["--from=base" "--chown=a b"] "--weird" "/dst")',
      '(healthcheck ["--interval=5s"] "CMD" "true")',
    ].join('\n'),
  );
});

test('escape directive: backtick continues lines and a backslash is literal', () => {
  const ast = parse(df('# escape=`', 'FROM mcr/windows', 'RUN dir C:\\ `', '  && echo done', 'WORKDIR C:\\app\\'));
  assert.equal(ast.escapeToken, '`');
  assert.deepEqual(ast.directives.map((d) => [d.name, d.value, d.line]), [['escape', '`', 1]]);
  assert.equal(dump(ast), ['(from "mcr/windows")', '(run "dir C:\\\\   && echo done")', '(workdir "C:\\\\app\\\\")'].join('\n'));
});

test('directives: syntax and check are kept; only at the top; each once', () => {
  const ast = parse(df('# syntax=docker/dockerfile:1', '# check=skip=all', 'FROM a', '# escape=`', 'RUN x \\', '  y'));
  assert.deepEqual(ast.directives.map((d) => d.name), ['syntax', 'check']);
  assert.equal(ast.escapeToken, '\\');
  assert.equal(dump(ast.nodes.slice(1)), '(run "x   y")');
  assert.throws(() => parse(df('# escape=`', '# escape=\\', 'FROM a')), {
    message: 'dockerfile parse error on line 2: only one escape parser directive can be used',
  });
  assert.throws(() => parse(df('# escape=x', 'FROM a')), /invalid escape token 'x' does not match ` or \\/);
});

test('ONBUILD nests its trigger, which keeps its own flags and heredocs', () => {
  const ast = parse(df('FROM a', 'onbuild copy --from=x a b', 'ONBUILD RUN <<EOF', 'echo later', 'EOF', 'ONBUILD'));
  assert.equal(dump(ast), ['(from "a")', '(onbuild (copy ["--from=x"] "a" "b"))', '(onbuild (run "<<EOF"))', '(onbuild)'].join('\n'));
  assert.equal(ast.nodes[2]!.sub!.heredocs[0]!.content, 'echo later\n');
  assert.deepEqual([ast.nodes[2]!.startLine, ast.nodes[2]!.endLine], [3, 5]);
});

test('empty and comment lines inside a continuation are skipped, with a warning for empty ones', () => {
  const ast = parse(df('FROM a', 'RUN one \\', '', '  two \\', '  # note', '  three'));
  assert.equal(dump(ast.nodes.slice(1)), '(run "one   two   three")');
  assert.equal(ast.warnings.length, 1);
  assert.match(ast.warnings[0]!.message, /Empty continuation line found in: RUN one/);
});

test('parse errors carry docker words and the line', () => {
  assert.throws(() => parse(''), { message: 'dockerfile parse error on line 1: file with no instructions' });
  assert.throws(() => parse(df('FROM a', '', 'ENV ONLY')), { message: 'dockerfile parse error on line 3: ENV must have two arguments' });
  assert.throws(() => parse(df('FROM a', 'LABEL a=b c')), {
    message: 'dockerfile parse error on line 2: Syntax error - can\'t find = in "c". Must be of the form: name=value',
  });
  assert.throws(() => parse(df('FROM a', 'CMD ["a", 1]')), {
    message: 'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only',
  });
  const err = (() => {
    try {
      parse(df('FROM a', 'RUN a \\', 'b', 'ENV X'));
    } catch (e) {
      return e as DockerfileParseError;
    }
    return undefined;
  })();
  assert.ok(err instanceof DockerfileParseError);
  assert.equal(err.line, 4);
  assert.equal(err.kind, 'InvalidArgument');
});

test('a byte-order mark and CRLF line endings are accepted', () => {
  const ast = parse('\ufeffFROM a\r\nRUN x \\\r\n  y\r\n');
  assert.equal(dump(ast), '(from "a")\n(run "x   y")');
});

test('instruction names are case-insensitive and unknown ones parse with an empty argument', () => {
  const ast = parse(df('from a', 'Run echo', 'FOO bar baz'));
  assert.equal(dump(ast), '(from "a")\n(run "echo")\n(foo "")');
  assert.equal(ast.nodes[1]!.name, 'Run');
});
