import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import { compileTemplate, formatTemplate as run } from './template.js';

const data = {
  ID: 'abcdef1234567890',
  Name: 'web',
  Names: ['a', 'b', 'c'],
  Labels: { foo: 'bar', 'com.example': 'x' },
  Count: 3,
  Ratio: 0.25,
  Nil: null,
  Empty: [],
  Items: [{ Name: 'one' }, { Name: 'two' }],
};

/** Asserts a BerthError of kind InvalidArgument whose message matches. */
function throwsArg(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError, 'expected a BerthError');
    assert.equal(err.kind, 'InvalidArgument');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('text and simple actions', () => {
  assert.equal(run('plain text', data), 'plain text');
  assert.equal(run('{{.Name}}', data), 'web');
  assert.equal(run('id={{.ID}} n={{.Count}}', data), 'id=abcdef1234567890 n=3');
  assert.equal(run('', data), '');
  assert.equal(run('{{/* a comment */}}x', data), 'x');
  assert.equal(run('a {{/* multi\nline */}} b', data), 'a  b');
});

test('trim markers', () => {
  assert.equal(run('a  {{- .Name -}}  b', data), 'awebb');
  assert.equal(run('a\n\t{{- .Name}}\n', data), 'aweb\n');
  assert.equal(run('{{.Name -}}\n  x', data), 'webx');
  assert.equal(run('x {{- /* c */ -}} y', data), 'xy');
  // Without a following space the dash is a minus sign.
  assert.equal(run('{{-3}}', data), '-3');
  assert.equal(run('{{3 -}} 4', data), '34');
});

test('fields, dot and $', () => {
  assert.equal(run('{{.}}', 'hello'), 'hello');
  assert.equal(run('{{.Labels.foo}}', data), 'bar');
  assert.equal(run('{{$.Name}}', data), 'web');
  assert.equal(run('{{range .Names}}{{$.Name}}{{end}}', data), 'webwebweb');
  assert.equal(run('{{with .Labels}}{{.foo}}{{end}}', data), 'bar');
  assert.equal(run('{{.A.B.C}}', { A: { B: { C: 'deep' } } }), 'deep');
});

test('missing values print <no value>, nil prints <nil>', () => {
  assert.equal(run('{{.Missing}}', data), '<no value>');
  assert.equal(run('{{.Missing.Deeper}}', data), '<no value>');
  assert.equal(run('{{.Labels.nope}}', data), '<no value>');
  assert.equal(run('{{.Nil}}', data), '<nil>');
  assert.equal(run('{{.}}', null), '<no value>');
  assert.equal(run('{{.X}}', null), '<no value>');
  assert.equal(run('{{print .Missing}}', data), '<nil>');
});

test('variables', () => {
  assert.equal(run('{{$x := .Name}}{{$x}}', data), 'web');
  assert.equal(run('{{$x := 1}}{{$x = 2}}{{$x}}', data), '2');
  assert.equal(run('{{$x := 1}}{{range .Names}}{{$x = .}}{{end}}{{$x}}', data), 'c');
  assert.equal(run('{{$x := .Labels}}{{$x.foo}}', data), 'bar');
  assert.equal(run('{{$n := len .Names}}{{$n}}', data), '3');
  throwsArg(() => run('{{$y}}', data), 'template parsing error: template: :1: undefined variable "$y"');
  // A variable declared inside a control ends with it.
  throwsArg(() => run('{{if true}}{{$z := 1}}{{end}}{{$z}}', data), /undefined variable "\$z"/);
});

test('pipelines and parenthesised pipelines', () => {
  assert.equal(run('{{.Name | upper}}', data), 'WEB');
  assert.equal(run('{{.Name | upper | printf "[%s]"}}', data), '[WEB]');
  assert.equal(run('{{"a" | printf "%s-%s" "b"}}', data), 'b-a');
  assert.equal(run('{{(len .Names) | printf "%d items"}}', data), '3 items');
  assert.equal(run('{{printf "%s/%s" (index .Names 0) (upper .Name)}}', data), 'a/WEB');
  assert.equal(run('{{(index .Items 1).Name}}', data), 'two');
  assert.equal(run('{{$v := (index .Items 0)}}{{$v.Name}}', data), 'one');
});

test('literals', () => {
  assert.equal(run('{{"a\\tb\\u00e9\\x41\\101"}}', data), 'a\tbéAA');
  assert.equal(run('{{`a\\tb`}}', data), 'a\\tb');
  assert.equal(run('{{1.5}} {{42}} {{-7}} {{0x10}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{1e3}}', data), '1.5 42 -7 16 15 15 5 1000 1000');
  assert.equal(run("{{'a'}} {{'\\n'}}", data), '97 10');
  assert.equal(run('{{true}} {{false}}', data), 'true false');
  throwsArg(() => run('{{nil}}', data), /nil is not a command/);
});

test('if / else if / else', () => {
  const t = compileTemplate('{{if eq .N 1}}one{{else if eq .N 2}}two{{else}}many{{end}}');
  assert.equal(t.execute({ N: 1 }), 'one');
  assert.equal(t.execute({ N: 2 }), 'two');
  assert.equal(t.execute({ N: 9 }), 'many');
  assert.equal(run('{{if .Nil}}y{{end}}', data), '');
  assert.equal(run('{{if $x := .Name}}{{$x}}{{end}}', data), 'web');
});

test('Go truthiness', () => {
  const truth = (v: unknown) => run('{{if .v}}T{{else}}F{{end}}', { v });
  for (const v of ['', 0, false, null, undefined, [], {}, new Map()]) assert.equal(truth(v), 'F', `${String(v)} is false`);
  for (const v of ['x', 1, -1, 0.5, true, [0], { a: 0 }, new Map([['a', 1]])]) assert.equal(truth(v), 'T', `${String(v)} is true`);
});

test('range over arrays, objects and ints', () => {
  assert.equal(run('{{range .Names}}<{{.}}>{{end}}', data), '<a><b><c>');
  assert.equal(run('{{range $i, $v := .Names}}{{$i}}={{$v}} {{end}}', data), '0=a 1=b 2=c ');
  assert.equal(run('{{range $v := .Names}}{{$v}}{{end}}', data), 'abc');
  // Objects iterate in sorted key order, like Go maps.
  assert.equal(run('{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}', { b: 2, a: 1, c: 3 }), 'a:1 b:2 c:3 ');
  assert.equal(run('{{range .Empty}}x{{else}}none{{end}}', data), 'none');
  assert.equal(run('{{range .Missing}}x{{else}}none{{end}}', data), 'none');
  assert.equal(run('{{range .Nil}}x{{end}}', data), '');
  assert.equal(run('{{range 3}}{{.}}{{end}}', data), '012');
  assert.equal(run('{{range .Items}}{{.Name}},{{end}}', data), 'one,two,');
  assert.equal(run('{{$i := 0}}{{range $j, $_ := .Names}}{{$i = $j}}{{end}}{{$i}}', data), '2');
  throwsArg(() => run('{{range .Name}}{{end}}', data), /range can't iterate over web/);
});

test('break and continue', () => {
  assert.equal(run('{{range .Names}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', data), 'a');
  assert.equal(run('{{range .Names}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', data), 'ac');
  throwsArg(() => run('{{break}}', data), /\{\{break\}\} outside \{\{range\}\}/);
});

test('with / else with / else', () => {
  assert.equal(run('{{with .Name}}[{{.}}]{{end}}', data), '[web]');
  assert.equal(run('{{with .Missing}}[{{.}}]{{else}}none{{end}}', data), 'none');
  assert.equal(run('{{with .Missing}}a{{else with .Name}}{{.}}{{else}}c{{end}}', data), 'web');
  assert.equal(run('{{with $x := .Labels}}{{$x.foo}}{{end}}', data), 'bar');
});

test('define, template and block', () => {
  assert.equal(run('{{define "item"}}<{{.}}>{{end}}{{range .Names}}{{template "item" .}}{{end}}', data), '<a><b><c>');
  assert.equal(run('{{define "t"}}[{{.}}]{{end}}{{template "t"}}', data), '[<no value>]');
  assert.equal(run('{{block "b" .Name}}({{.}}){{end}}', data), '(web)');
  assert.equal(run('{{define "x"}}{{$}}{{end}}{{template "x" .Count}}', data), '3');
  throwsArg(() => run('{{template "nope" .}}', data), 'template: :1:2: executing "" at <{{template "nope" .}...>: template "nope" not defined');
  throwsArg(() => run('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', data), /exceeded maximum template depth/);
  throwsArg(() => run('{{define "a"}}x{{end}}{{define "a"}}y{{end}}', data), /multiple definition of template "a"/);
});

test('builtin and / or / not short-circuit', () => {
  assert.equal(run('{{and 1 2 3}} {{and 1 0 3}} {{or 0 "" "z"}} {{or 0 ""}}', data), '3 0 z ');
  assert.equal(run('{{not 0}} {{not "x"}}', data), 'true false');
  // The deciding argument stops evaluation: the failing index never runs.
  assert.equal(run('{{or .Name (index .Nil 5)}}', data), 'web');
  assert.equal(run('{{and .Missing (index .Nil 5)}}', data), '<no value>');
  assert.equal(run('{{if and .Name (not .Nil)}}ok{{end}}', data), 'ok');
  assert.equal(run('{{.Name | and 1}}', data), 'web');
});

test('builtin len, index, slice', () => {
  assert.equal(run('{{len .Names}} {{len .Labels}} {{len "héllo"}}', data), '3 2 6');
  assert.equal(run('{{index .Names 1}} {{index .Labels "com.example"}} {{index .Items 0 "Name"}}', data), 'b x one');
  assert.equal(run('{{index "abc" 0}}', data), '97');
  // A missing key gives the map's zero value: "" for string maps.
  assert.equal(run('[{{index .Labels "missing"}}]', data), '[]');
  assert.equal(run('{{slice .ID 0 6}} {{slice .Names 1}} {{slice .Names 1 2}}', data), 'abcdef [b c] [b]');
  throwsArg(() => run('{{index .Names 5}}', data), 'template: :1:2: executing "" at <index .Names 5>: error calling index: index out of range: 5');
  throwsArg(() => run('{{index .Nil 0}}', data), /error calling index: index of untyped nil/);
  throwsArg(() => run('{{slice .Names 2 1}}', data), /invalid slice index: 2 > 1/);
  throwsArg(() => run('{{len 3}}', data), /error calling len: len of type int/);
});

test('builtin comparisons', () => {
  assert.equal(run('{{eq 1 1}} {{eq "a" "b"}} {{eq .Name "x" "web"}} {{ne 1 2}}', data), 'true false true true');
  assert.equal(run('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2}}', data), 'true true true false true');
  assert.equal(run('{{eq .Nil nil}} {{eq .Missing 1}}', data), 'true false');
  throwsArg(() => run('{{eq 1 "a"}}', data), /error calling eq: incompatible types for comparison/);
  throwsArg(() => run('{{lt true false}}', data), /invalid type for comparison/);
  throwsArg(() => run('{{eq 1}}', data), /missing argument for comparison/);
});

test('print, println, printf', () => {
  assert.equal(run('{{print "a" 1 2 "b" 3}}', data), 'a1 2b3');
  assert.equal(run('{{println "a" 1}}', data), 'a 1\n');
  assert.equal(run('{{printf "%s is %d" .Name .Count}}', data), 'web is 3');
  assert.equal(run('{{printf "%5.2f|%-6s|%6s|%%" 3.14159 "ab" "cd"}}', data), ' 3.14|ab    |    cd|%');
});

test("values print by Go's default formatting", () => {
  assert.equal(run('{{.}}', [1, 'two', 3.5]), '[1 two 3.5]');
  assert.equal(run('{{.Labels}}', data), 'map[com.example:x foo:bar]');
});

test('docker json function', () => {
  assert.equal(run('{{json .}}', { b: 1, a: [1, 2.5], c: null, d: 'x' }), '{"b":1,"a":[1,2.5],"c":null,"d":"x"}');
  // docker's json does not escape HTML (Encoder.SetEscapeHTML(false)).
  assert.equal(run('{{json .}}', '<a&b>'), '"<a&b>"');
  assert.equal(run('{{json .Missing}}', data), 'null');
  assert.equal(run('{{json .Names}}', data), '["a","b","c"]');
  assert.equal(run('{{json .}}', 'line\u2028sep'), '"line\\u2028sep"');
});

test('docker string functions', () => {
  assert.equal(run('{{join .Names ", "}}', data), 'a, b, c');
  assert.equal(run('{{join . "-"}}', [1, 'x', true]), '1-x-true');
  assert.equal(run('{{join .Labels ","}}', data), 'bar,x');
  assert.equal(run('[{{join .Missing ","}}]', data), '[]');
  assert.equal(run('{{split "a,b,c" ","}} {{len (split "a:b" ":")}}', data), '[a b c] 2');
  assert.equal(run('{{split "héj" ""}}', data), '[h é j]');
  assert.equal(run('{{lower "ABC déF"}} {{upper "abc déf"}}', data), 'abc déf ABC DÉF');
  assert.equal(run('{{title "hello wide-world foo_bar"}}', data), 'Hello Wide-World Foo_bar');
  assert.equal(run('{{truncate .ID 12}} {{truncate "abc" 5}} {{truncate "abc" 3}}', data), 'abcdef123456 abc abc');
  assert.equal(run('[{{pad "x" 2 1}}][{{pad "" 2 1}}]', data), '[  x ][]');
  throwsArg(() => run('{{truncate .ID "3"}}', data), 'template: :1:2: executing "" at <truncate .ID "3">: wrong type for value; expected int; got string');
  throwsArg(() => run('{{upper .Count}}', data), /wrong type for value; expected string; got int/);
  throwsArg(() => run('{{join .Name ","}}', data), /error calling join: expected slice, got string/);
  throwsArg(() => run('{{join .Names}}', data), /wrong number of args for join: want 2 got 1/);
});

test('methods on objects are called with the arguments', () => {
  class Row {
    constructor(private labels: Record<string, string>) {}
    get Size(): string {
      return '1MB';
    }
    Label(name: string): string {
      return this.labels[name] ?? '';
    }
    Greet(a: string, b: string): string {
      return `${a}+${b}`;
    }
  }
  const row = new Row({ env: 'prod' });
  assert.equal(run('{{.Label "env"}} {{.Size}}', row), 'prod 1MB');
  assert.equal(run('{{"y" | .Greet "x"}}', row), 'x+y');
  assert.equal(run('{{.Fn}}', { Fn: () => 'called' }), 'called');
  // Members of JS's own prototypes are not fields.
  assert.equal(run('{{.toString}} {{.constructor}}', {}), '<no value> <no value>');
  throwsArg(() => run('{{.Label.x}}', row), /can't evaluate field x in type string/);
});

test('custom and overridden functions', () => {
  const t = compileTemplate('{{shout .Name}} {{upper .Name}}', { shout: (s: string) => s + '!' });
  assert.equal(t.execute(data), 'web! WEB');
  assert.equal(t.execute(data, { upper: (s: string) => `<${s}>` }), 'web! <web>');
  const failing = compileTemplate('{{boom}}', {
    boom: () => {
      throw new Error('kaput');
    },
  });
  throwsArg(() => failing.execute({}), 'template: :1:2: executing "" at <boom>: error calling boom: kaput');
});

test('fields() lists the top-level fields in order', () => {
  const t = compileTemplate('{{.ID}}\t{{.Name | upper}}{{if .Labels}}{{range .Items}}{{.Inner}}{{end}}{{end}}{{$.Root}}{{(index .Names 0)}}');
  assert.deepEqual(t.fields(), ['ID', 'Name', 'Labels', 'Items', 'Inner', 'Root', 'Names']);
});

test('parse errors read like docker', () => {
  const cases: [string, string][] = [
    ['{{.ID', 'template parsing error: template: :1: unclosed action'],
    ['{{foo}}', 'template parsing error: template: :1: function "foo" not defined'],
    ['{{if .X}}', 'template parsing error: template: :1: unexpected EOF'],
    ['{{end}}', 'template parsing error: template: :1: unexpected {{end}}'],
    ['{{else}}', 'template parsing error: template: :1: unexpected {{else}}'],
    ['{{"a" | "b"}}', 'template parsing error: template: :1: non executable command in pipeline stage 2'],
    ['{{ 3x }}', 'template parsing error: template: :1: bad number syntax: "3x"'],
    ['{{"abc}}', 'template parsing error: template: :1: unterminated quoted string'],
    ['{{/* x }}', 'template parsing error: template: :1: unclosed comment'],
    ['{{(.X}}', 'template parsing error: template: :1: unclosed left paren'],
    ['{{.X)}}', 'template parsing error: template: :1: unexpected right paren'],
    ['{{if}}{{end}}', 'template parsing error: template: :1: missing value for if'],
    ['{{.X @}}', "template parsing error: template: :1: unrecognized character in action: U+0040 '@'"],
    ['line1\n{{.A-b}}', "template parsing error: template: :2: bad character U+002D '-'"],
    ['{{"a".X}}', 'template parsing error: template: :1: unexpected . after term "\\"a\\""'],
  ];
  for (const [src, msg] of cases) throwsArg(() => compileTemplate(src), msg);
});

test('execution errors read like Go', () => {
  throwsArg(() => run('{{.ID.Sub}}', data), 'template: :1:5: executing "" at <.ID.Sub>: can\'t evaluate field Sub in type string');
  throwsArg(() => run('{{.Nil.X}}', data), 'template: :1:6: executing "" at <.Nil.X>: nil pointer evaluating interface {}.X');
  throwsArg(() => run('{{.Names.Len}}', data), /can't evaluate field Len in type \[\]interface \{\}/);
  throwsArg(() => run('{{.Labels.foo 1}}', data), /foo is not a method but has arguments/);
  throwsArg(() => run('{{1 2}}', data), /can't give argument to non-function 1/);
  throwsArg(() => run('x\n  {{.Count.X}}', data), /^template: :2:10: executing "" at <.Count.X>/);
  throwsArg(() => run('{{.ThisIsAVeryLongFieldName.Sub.Sub}}', { ThisIsAVeryLongFieldName: 'x' }), /at <.ThisIsAVeryLongFiel...>/);
});

test('execution errors keep the partial output', () => {
  try {
    run('before {{.Name.X}} after', data);
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof BerthError);
    assert.equal(err.context.output, 'before ');
  }
});
