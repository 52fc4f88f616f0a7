import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './corpus.fixtures.js';
import { parseDockerfile, type Copy, type Env, type Expose, type Run, type Workdir } from './instructions.js';
import { envLookup, expandWords, processWord, processWordWithMatches, processWords } from './shell.js';

interface VarCase {
  line: number;
  platform: string;
  source: string;
  expected: string;
}

function envVarCases(): VarCase[] {
  const text = readFileSync(join(CORPUS, 'shell/envVarTest'), 'utf8');
  const cases: VarCase[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.startsWith('#')) return;
    const line = raw.trim();
    if (line === '') return;
    const parts = line.split('|');
    assert.equal(parts.length, 3, `envVarTest line ${i + 1}`);
    const [platform, source, expected] = parts.map((p) => p.trim()) as [string, string, string];
    assert.ok(['A', 'U', 'W'].includes(platform), `envVarTest line ${i + 1}: platform ${platform}`);
    cases.push({ line: i + 1, platform, source, expected });
  });
  return cases;
}

const cases = envVarCases();
const unixEnv = envLookup(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);

test('envVarTest: every A and U case (unix)', () => {
  let n = 0;
  for (const c of cases.filter((x) => x.platform !== 'W')) {
    n++;
    if (c.expected === 'error') {
      assert.throws(() => processWord(c.source, unixEnv), Error, `line ${c.line}: ${c.source}`);
    } else {
      assert.equal(processWord(c.source, unixEnv), c.expected, `line ${c.line}: ${c.source}`);
    }
  }
  assert.equal(n, 228);
});

// BuildKit runs the W cases only on Windows, where the difference is that
// variable names compare case-insensitively; a case-insensitive lookup gives it.
test('envVarTest: W cases pass with a case-insensitive lookup', () => {
  const winEnv = envLookup(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='], { caseInsensitive: true });
  const w = cases.filter((x) => x.platform === 'W');
  assert.equal(w.length, 2);
  for (const c of w) assert.equal(processWord(c.source, winEnv), c.expected, `line ${c.line}`);
});

test('wordsTest: word splitting after expansion', () => {
  const text = readFileSync(join(CORPUS, 'shell/wordsTest'), 'utf8');
  const env: string[] = [];
  let n = 0;
  text.split('\n').forEach((line, i) => {
    if (line.startsWith('#') || line === '') return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const parts = line.split('|');
    assert.equal(parts.length, 2, `wordsTest line ${i + 1}`);
    const input = parts[0]!.trim();
    const expected = parts[1]!.replace(/^ +/, '').split(',');
    let got: string[];
    try {
      got = processWords(input, envLookup(env));
    } catch {
      got = ['error'];
    }
    n++;
    assert.deepEqual(got, expected, `wordsTest line ${i + 1}: ${input}`);
  });
  assert.equal(n, 24);
});

test('errors name the word and the cause', () => {
  assert.throws(() => processWord('${X:?must be set}', envLookup([])), { message: 'failed to process "${X:?must be set}": X: must be set' });
  assert.throws(() => processWord('${', envLookup([])), /syntax error: missing '}'/);
  assert.throws(() => processWord('${X:-a', envLookup([])), /syntax error: missing '}'/);
  assert.throws(() => processWord('${X', envLookup([])), /unsupported modifier/);
  assert.throws(() => processWord('${}', envLookup([])), /bad substitution/);
  assert.throws(() => processWord("'open", envLookup([])), /matching single-quote/);
});

test('pattern forms: # ## % %% / //', () => {
  const env = envLookup(['P=/usr/local/bin/tool.tar.gz']);
  assert.equal(processWord('${P#*/}', env), 'usr/local/bin/tool.tar.gz');
  assert.equal(processWord('${P##*/}', env), 'tool.tar.gz');
  assert.equal(processWord('${P%.*}', env), '/usr/local/bin/tool.tar');
  assert.equal(processWord('${P%%.*}', env), '/usr/local/bin/tool');
  assert.equal(processWord('${P/l/L}', env), '/usr/Local/bin/tool.tar.gz');
  assert.equal(processWord('${P//l/L}', env), '/usr/LocaL/bin/tooL.tar.gz');
  assert.equal(processWord('${P/\\*/x}', envLookup(['P=a*b'])), 'axb');
});

test('splitting keeps the text around a ${VAR:-word} form', () => {
  assert.deepEqual(processWords('hello${X:-a b}c d', envLookup([])), ['helloa', 'bc', 'd']);
  assert.deepEqual(processWords('"x${X:-a b}" y', envLookup([])), ['xa b', 'y']);
});

test('backtick escape token', () => {
  const env = envLookup(['A=1']);
  assert.equal(processWord('`$A $A', env, { escapeToken: '`' }), '$A 1');
  assert.equal(processWord('C:\\dir', env, { escapeToken: '`' }), 'C:\\dir');
});

test('skipUnsetEnv and matches', () => {
  const env = envLookup(['SET=1']);
  assert.equal(processWord('$SET $UNSET ${UNSET:-x}', env, { skipUnsetEnv: true }), '1 $UNSET ${UNSET:-x}');
  const r = processWordWithMatches('$SET$NOPE', env);
  assert.deepEqual([...r.matched], ['SET']);
  assert.deepEqual([...r.unmatched], ['NOPE']);
});

test('expandWords expands the fields docker expands and leaves RUN to the shell', () => {
  const b = parseDockerfile(
    [
      'FROM busybox',
      'ENV DIR=/srv NAME="my app"',
      'WORKDIR $DIR/${NAME// /_}',
      'COPY --chown=$U:$U a${X} $DIR/',
      'EXPOSE $PORTS',
      'RUN --mount=type=cache,target=$CACHE,uid=$UID echo $DIR',
    ].join('\n'),
  );
  const env = envLookup(['DIR=/srv', 'NAME=my app', 'U=app', 'X=1', 'PORTS=80 443/udp', 'CACHE=/c', 'UID=10']);
  const [envI, wd, cp, ex, run] = b.stages[0]!.instructions as [Env, Workdir, Copy, Expose, Run];
  assert.deepEqual(expandWords(envI, env).pairs.map((p) => [p.key, p.value]), [['DIR', '/srv'], ['NAME', 'my app']]);
  assert.equal(expandWords(wd, env).path, '/srv/my_app');
  const c = expandWords(cp, env);
  assert.deepEqual([c.chown, c.sources, c.dest], ['app:app', ['a1'], '/srv/']);
  assert.deepEqual(expandWords(ex, env).ports, ['80', '443/udp']);
  const r = expandWords(run, env);
  assert.deepEqual([r.mounts[0]!.target, r.mounts[0]!.uid], ['/c', 10]);
  assert.deepEqual(r.command, { form: 'shell', command: 'echo $DIR' });
});
