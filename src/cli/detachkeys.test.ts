import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETACH_KEYS, detachKeysToBytes, EscapeMatcher } from './detachkeys.js';

/** Feeds chunks; returns what is forwarded and whether it detached. */
function feed(keys: Buffer, ...chunks: (string | number[])[]): { data: number[]; detached: boolean } {
  const m = new EscapeMatcher(keys);
  const data: number[] = [];
  let detached = false;
  for (const c of chunks) {
    const r = m.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    data.push(...r.data);
    if (r.detached) {
      detached = true;
      break;
    }
  }
  return { data, detached };
}

test('key sequences: ctrl- names, single characters, DEL', () => {
  assert.deepEqual([...detachKeysToBytes('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...DEFAULT_DETACH_KEYS], [16, 17]);
  assert.deepEqual([...detachKeysToBytes('ctrl-@,ctrl-_,ctrl-\\,a,DEL')], [0, 31, 28, 97, 127]);
  assert.throws(() => detachKeysToBytes('ctrl-ä'), /^Error: Unknown character: 'ctrl-ä'$/);
  assert.throws(() => detachKeysToBytes('ab'), /Unknown character: 'ab'/);
});

test('plain input passes through', () => {
  assert.deepEqual(feed(DEFAULT_DETACH_KEYS, 'hello', ' world'), { data: [...Buffer.from('hello world')], detached: false });
});

test('the sequence detaches; the bytes before it are still sent', () => {
  assert.deepEqual(feed(DEFAULT_DETACH_KEYS, [104, 105, 16, 17, 120]), { data: [104, 105], detached: true });
  // split across reads
  assert.deepEqual(feed(DEFAULT_DETACH_KEYS, [104, 16], [17]), { data: [104], detached: true });
});

test('a started sequence that does not complete is given back', () => {
  // in one read
  assert.deepEqual(feed(DEFAULT_DETACH_KEYS, [16, 65]), { data: [16, 65], detached: false });
  // held back at the end of a read, returned with the next
  const m = new EscapeMatcher(DEFAULT_DETACH_KEYS);
  assert.deepEqual([...m.push(Buffer.from([97, 16])).data], [97]);
  assert.deepEqual([...m.push(Buffer.from([98])).data], [16, 98]);
});

test('a lone ctrl-p followed by the full sequence later still detaches', () => {
  assert.deepEqual(feed(DEFAULT_DETACH_KEYS, [16, 65, 16, 17]), { data: [16, 65], detached: true });
});

test('custom and single-key sequences', () => {
  const keys = detachKeysToBytes('ctrl-a,b');
  assert.deepEqual(feed(keys, [1, 98]), { data: [], detached: true });
  assert.deepEqual(feed(keys, [1, 99]), { data: [1, 99], detached: false });
  assert.deepEqual(feed(detachKeysToBytes('x'), 'abcxdef'), { data: [...Buffer.from('abc')], detached: true });
});

test('after detaching nothing more is forwarded', () => {
  const m = new EscapeMatcher(DEFAULT_DETACH_KEYS);
  assert.equal(m.push(Buffer.from([16, 17])).detached, true);
  assert.deepEqual(m.push(Buffer.from('more')), { data: Buffer.alloc(0), detached: true });
});
