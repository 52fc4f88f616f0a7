import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, stdCopy, STDERR, STDIN, STDOUT, SYSTEMERR } from './stdcopy.js';

async function* chunks(...bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}

async function copy(...bufs: Buffer[]): Promise<{ out: string; err: string; n: number }> {
  let out = '';
  let err = '';
  const n = await stdCopy(chunks(...bufs), (b) => void (out += b.toString()), (b) => void (err += b.toString()));
  return { out, err, n };
}

test('frames: 8-byte header, big-endian length', () => {
  const f = encodeFrame(STDERR, 'hello');
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(f.subarray(8).toString(), 'hello');
  const big = encodeFrame(STDOUT, Buffer.alloc(0x10203));
  assert.deepEqual([...big.subarray(4, 8)], [0, 1, 2, 3]);
});

test('demultiplexes stdout and stderr, stdin frames go to stdout', async () => {
  const r = await copy(Buffer.concat([encodeFrame(STDOUT, 'a\n'), encodeFrame(STDERR, 'b\n'), encodeFrame(STDIN, 'c\n')]));
  assert.deepEqual(r, { out: 'a\nc\n', err: 'b\n', n: 6 });
});

test('frames split anywhere across reads, even inside the header', async () => {
  const all = Buffer.concat([encodeFrame(STDOUT, 'hello '), encodeFrame(STDERR, 'oops'), encodeFrame(STDOUT, 'world')]);
  for (let cut = 1; cut < all.length; cut++) {
    const r = await copy(all.subarray(0, cut), all.subarray(cut));
    assert.deepEqual(r, { out: 'hello world', err: 'oops', n: 15 }, `cut at ${cut}`);
  }
  // one byte at a time
  const bytes = [...all].map((b) => Buffer.from([b]));
  assert.deepEqual(await copy(...bytes), { out: 'hello world', err: 'oops', n: 15 });
});

test('a truncated last frame is dropped at EOF, like stdcopy', async () => {
  const f = encodeFrame(STDOUT, 'complete');
  const partial = encodeFrame(STDOUT, 'partial').subarray(0, 10);
  assert.deepEqual(await copy(f, partial), { out: 'complete', err: '', n: 8 });
});

test('a system-error frame ends the copy with the daemon\'s message', async () => {
  await assert.rejects(copy(encodeFrame(STDOUT, 'x'), encodeFrame(SYSTEMERR, 'boom')), /^Error: error from daemon in stream: boom$/);
});

test('an unknown stream type is an error', async () => {
  const bad = Buffer.from([7, 0, 0, 0, 0, 0, 0, 1, 65]);
  await assert.rejects(copy(bad), /Unrecognized input header: 7/);
  assert.throws(() => new FrameDecoder().push(bad), /Unrecognized input header: 7/);
});

test('empty frames are skipped', async () => {
  assert.deepEqual(await copy(encodeFrame(STDOUT, ''), encodeFrame(STDERR, 'e')), { out: '', err: 'e', n: 1 });
});
