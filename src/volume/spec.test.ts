import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMount, parseVolumesFrom, validMode } from './spec.js';

test('-v strings: binds, named volumes, anonymous volumes, modes', () => {
  assert.deepEqual(parseBind('/host/dir:/ctr:ro'), { type: 'bind', source: '/host/dir', destination: '/ctr', mode: 'ro', rw: false, propagation: 'rprivate', createSource: true });
  assert.deepEqual(parseBind('/h:/c:rshared,rw').propagation, 'rshared');
  assert.deepEqual(parseBind('data:/var/lib/x/'), { type: 'volume', source: '', destination: '/var/lib/x', mode: '', rw: true, propagation: '', copyData: true, name: 'data', named: true });
  assert.equal(parseBind('data:/x:nocopy').copyData, false);
  assert.deepEqual(parseBind('/only'), { type: 'volume', source: '', destination: '/only', mode: '', rw: true, propagation: '', copyData: true, anonymous: true });
  assert.throws(() => parseBind('/foo:rw'), /invalid volume specification: '\/foo:rw'/);
  assert.throws(() => parseBind('/a:/b:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseBind('/a:/b:ro:x'), /invalid volume specification/);
  assert.throws(() => parseBind('vol:rel'), /invalid mount path: 'rel' mount path must be absolute/);
  assert.throws(() => parseBind('/a:/'), /destination can't be '\/'/);
  assert.throws(() => parseBind('vol:/x:rshared'), /invalid mode: rshared/);
});

test('mode words: one of each group', () => {
  assert.ok(validMode('ro,z,nocopy,rslave'));
  assert.ok(!validMode('ro,rw'));
  assert.ok(!validMode(''));
  assert.ok(!validMode('rx'));
});

test('--mount objects with docker’s checks', () => {
  assert.deepEqual(parseMount({ Type: 'volume', Source: 'v', Target: '/d', ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } }), {
    type: 'volume', source: '', destination: '/d', mode: '', rw: false, propagation: '', copyData: false, name: 'v', named: true, labels: { a: 'b' },
  });
  assert.equal(parseMount({ Type: 'volume', Target: '/d' }).anonymous, true);
  assert.deepEqual(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } }).tmpfsOptions, 'size=1048576,mode=1777');
  assert.equal(parseMount({ Type: 'bind', Source: '/s', Target: '/t', BindOptions: { Propagation: 'rslave' } }).propagation, 'rslave');
  assert.throws(() => parseMount({ Type: 'bind', Target: '/t' }), /invalid mount config for type "bind": field Source must not be empty/);
  assert.throws(() => parseMount({ Type: 'volume', Source: 'v' }), /invalid mount config for type "volume": field Target must not be empty/);
  assert.throws(() => parseMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }), /invalid mount config for type "tmpfs": field Source must not be specified/);
  assert.throws(() => parseMount({ Type: 'bind', Source: '/s', Target: '/t', VolumeOptions: {} }), /field VolumeOptions must not be specified/);
  assert.throws(() => parseMount({ Type: 'nfs', Target: '/t' }), /invalid mount config for type "nfs": mount type unknown/);
});

test('--volumes-from references', () => {
  assert.deepEqual(parseVolumesFrom('web'), { container: 'web', rw: true });
  assert.deepEqual(parseVolumesFrom('web:ro'), { container: 'web', rw: false });
  assert.throws(() => parseVolumesFrom('web:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('web:nocopy'), /invalid mode: nocopy/);
});
