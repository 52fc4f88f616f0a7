import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../lib/errors.js';
import { parseSignal, signalName } from './signals.js';

test('signal names and numbers', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('sigkill'), 9);
  assert.equal(parseSignal('15'), 15);
  assert.equal(parseSignal('SIGRTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-2'), 62);
  assert.equal(parseSignal('SIGRTMAX'), 64);
  assert.equal(parseSignal('SIGCHLD'), 17);
  assert.equal(parseSignal('SIGIOT'), 6);
  assert.equal(parseSignal('64'), 64);
});

test('anything else is an invalid signal', () => {
  for (const bad of ['0', '-1', '32', '65', 'SIGFOO', '', 'SIG', 'RTMIN+16', 'RTMAX-15', '15x']) {
    assert.throws(
      () => parseSignal(bad),
      (err: unknown) => isKind(err, 'InvalidArgument') && (err as Error).message === `invalid signal: ${bad}`,
      bad,
    );
  }
});

test('names for numbers', () => {
  assert.equal(signalName(15), 'SIGTERM');
  assert.equal(signalName(6), 'SIGABRT');
  assert.equal(signalName(17), 'SIGCHLD');
  assert.equal(signalName(34), 'SIGRTMIN');
  assert.equal(signalName(37), 'SIGRTMIN+3');
  assert.equal(signalName(62), 'SIGRTMAX-2');
  assert.equal(signalName(64), 'SIGRTMAX');
  for (let n = 1; n <= 64; n++) if (n !== 32 && n !== 33) assert.equal(parseSignal(signalName(n)), n);
});
