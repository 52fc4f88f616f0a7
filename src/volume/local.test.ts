import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalDriver, parseMountOptions } from './local.js';
import { MS_BIND, MS_NOEXEC, MS_RDONLY, MS_REC } from '../lib/sys.js';

test('mount options split into flags and file-system data', () => {
  assert.deepEqual(parseMountOptions('size=64m,uid=1000'), { flags: 0, data: 'size=64m,uid=1000' });
  assert.deepEqual(parseMountOptions('bind'), { flags: MS_BIND, data: '' });
  assert.deepEqual(parseMountOptions('rbind,ro,noexec,mode=755'), { flags: MS_BIND | MS_REC | MS_RDONLY | MS_NOEXEC, data: 'mode=755' });
  assert.deepEqual(parseMountOptions('ro,rw'), { flags: 0, data: '' });
});

test('the local driver checks its options with docker’s words', () => {
  const d = new LocalDriver('/nonexistent');
  d.validate({});
  d.validate({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  assert.throws(() => d.validate({ foo: 'bar' }), /^BerthError|invalid option: "foo"/);
  assert.throws(() => d.validate({ type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => d.validate({ o: 'size=1m', device: 'tmpfs' }), /missing required option: "type"/);
});
