import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import { defaultHeader, parseFormat, renderList, renderOne } from './format.js';

const imagesTable = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' };
const rows = [
  { Repository: 'busybox', Tag: 'latest', ID: 'a416a98b71e2', CreatedSince: '2 weeks ago', Size: '4.26MB' },
  { Repository: 'registry.example.com/team/app', Tag: '1.0', ID: '0123456789ab', CreatedSince: '3 days ago', Size: '1.2GB' },
];

function throwsArg(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'InvalidArgument');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('parseFormat classifies like docker', () => {
  const def = { kind: 'table', template: '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' };
  assert.deepEqual(parseFormat(undefined, imagesTable), def);
  assert.deepEqual(parseFormat('', imagesTable), def);
  assert.deepEqual(parseFormat('table', imagesTable), def);
  assert.deepEqual(parseFormat('table {{.ID}}\\t{{.Tag}}', imagesTable), { kind: 'table', template: '{{.ID}}\t{{.Tag}}' });
  assert.deepEqual(parseFormat('json', imagesTable), { kind: 'json', template: '{{json .}}' });
  assert.deepEqual(parseFormat('raw', imagesTable), { kind: 'raw', template: '' });
  assert.deepEqual(parseFormat('  {{.ID}}\\n ', imagesTable), { kind: 'template', template: '{{.ID}}\n' });
  assert.deepEqual(parseFormat('{{json .}}', imagesTable), { kind: 'template', template: '{{json .}}' });
  // Only spaces are trimmed; a real tab stays.
  assert.deepEqual(parseFormat('\t{{.ID}}', imagesTable), { kind: 'template', template: '\t{{.ID}}' });
});

test('default table: headers and aligned columns', () => {
  assert.equal(
    renderList(undefined, imagesTable, rows, headers),
    'REPOSITORY                      TAG       IMAGE ID       CREATED       SIZE\n' +
      'busybox                         latest    a416a98b71e2   2 weeks ago   4.26MB\n' +
      'registry.example.com/team/app   1.0       0123456789ab   3 days ago    1.2GB\n',
  );
});

test('a table with no rows still prints its header', () => {
  assert.equal(renderList('table', imagesTable, [], headers), 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
});

test('custom table: literal \\t, unknown fields, functions leave headers alone', () => {
  assert.equal(
    renderList('table {{.ID}}\\t{{upper .Repository}}\\t{{.VirtualSize}}', imagesTable, rows.slice(0, 1), headers),
    'IMAGE ID       REPOSITORY   VIRTUAL SIZE\na416a98b71e2   BUSYBOX      <no value>\n',
  );
  assert.equal(
    renderList('table {{truncate .ID 4}}\t{{json .Tag}}\t{{lower .Size}}', imagesTable, rows.slice(0, 1), headers),
    'IMAGE ID   TAG        SIZE\na416       "latest"   4.26mb\n',
  );
  // pad is not a header function: the header is padded like the cells.
  assert.equal(renderList('table {{pad .Tag 1 1}}|', imagesTable, rows.slice(0, 1), headers), ' TAG |\n latest |\n');
});

test('Label method header', () => {
  const row = { Label: (k: string) => ({ 'com.example.my-label': 'v1' })[k] ?? '' };
  assert.equal(renderList('table {{.Label "com.example.my-label"}}', '', [row], {}), 'my label\nv1\n');
});

test('plain templates and json print one line per row, no header', () => {
  assert.equal(renderList('{{.Repository}}:{{.Tag}}', imagesTable, rows, headers), 'busybox:latest\nregistry.example.com/team/app:1.0\n');
  assert.equal(renderList('{{.ID}}', imagesTable, [], headers), '');
  assert.equal(
    renderList('json', imagesTable, [{ A: 1, B: '<x>' }], headers),
    '{"A":1,"B":"<x>"}\n',
  );
});

test('raw uses the command raw layout when given', () => {
  const raw = 'id: {{.ID}}\\ntag: {{.Tag}}\\n';
  assert.equal(renderList('raw', imagesTable, rows.slice(0, 1), headers, { raw }), 'id: a416a98b71e2\ntag: latest\n\n');
  assert.equal(renderList('raw', imagesTable, rows.slice(0, 1), headers), 'raw\n');
});

test('tab options pass through', () => {
  assert.equal(renderList('table {{.Tag}}\t{{.Size}}', '', rows.slice(0, 1), headers, { tab: { minwidth: 20 } }), 'TAG' + ' '.repeat(17) + 'SIZE\nlatest' + ' '.repeat(14) + '4.26MB\n');
});

test('template errors are reported as docker does', () => {
  throwsArg(() => renderList('{{.ID', imagesTable, rows, headers), 'template parsing error: template: :1: unclosed action');
  throwsArg(() => renderList('{{nope .ID}}', imagesTable, rows, headers), 'template parsing error: template: :1: function "nope" not defined');
  throwsArg(
    () => renderList('{{.ID.X}}', imagesTable, rows, headers),
    'template parsing error: template: :1:5: executing "" at <.ID.X>: can\'t evaluate field X in type string',
  );
});

test('renderOne: indented JSON by default, like docker inspect', () => {
  assert.equal(
    renderOne(undefined, [{ Id: 'abc', Config: { Env: [], Labels: {}, Cmd: ['<sh>'] } }]),
    '[\n    {\n        "Id": "abc",\n        "Config": {\n            "Env": [],\n            "Labels": {},\n            "Cmd": [\n                "\\u003csh\\u003e"\n            ]\n        }\n    }\n]\n',
  );
  assert.equal(renderOne('', []), '[]\n');
  assert.equal(renderOne(undefined, { a: 1 }), '{\n    "a": 1\n}\n');
  assert.equal(renderOne('json', [{ a: '&' }]), '[{"a":"\\u0026"}]\n');
});

test('renderOne: templates run once per element', () => {
  const list = [{ Name: 'a', State: { Running: true } }, { Name: 'b', State: { Running: false } }];
  assert.equal(renderOne('{{.Name}} {{.State.Running}}', list), 'a true\nb false\n');
  assert.equal(renderOne('{{.Name}}', { Name: 'solo' }), 'solo\n');
  assert.equal(renderOne('{{.Name}}', []), '\n');
  assert.equal(renderOne('{{json .State}}', list[0]), '{"Running":true}\n');
  throwsArg(() => renderOne('{{.Name', list), /^template parsing error: template: :1: unclosed action$/);
  throwsArg(() => renderOne('{{.State.Health.Status}}', { State: { Health: null } }), /^template parsing error: template: :1:\d+: executing "" at <.State.Health.Status>: nil pointer evaluating/);
});

test('defaultHeader splits camel case and upper-cases', () => {
  assert.equal(defaultHeader('ID'), 'ID');
  assert.equal(defaultHeader('CreatedSince'), 'CREATED SINCE');
  assert.equal(defaultHeader('IPAddress'), 'IP ADDRESS');
  assert.equal(defaultHeader('LocalVolumes'), 'LOCAL VOLUMES');
  assert.equal(defaultHeader('Size2Go'), 'SIZE2 GO');
  assert.equal(defaultHeader('name'), 'NAME');
  assert.equal(defaultHeader('some_field-x'), 'SOME FIELD X');
});
