import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { JSONValueSplitter, decodeJSONMessages, StreamError } from './jsonstream.js';

test('splitter handles chunk boundaries, strings with braces, CRLF and multi-byte text', () => {
  const s = new JSONValueSplitter();
  const text = '{"a":"}{\\"x"}\r\n{"b":[1,{"c":2}]}  {"u":"héllo"}\n';
  const bytes = Buffer.from(text);
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...s.push(bytes.subarray(i, i + 1)));
  out.push(...s.end());
  assert.deepEqual(out, [{ a: '}{"x' }, { b: [1, { c: 2 }] }, { u: 'héllo' }]);
});

test('splitter reports truncated input', () => {
  const s = new JSONValueSplitter();
  s.push('{"a":');
  assert.throws(() => s.end(), /unexpected EOF/);
  const t = new JSONValueSplitter();
  assert.deepEqual([...t.push('1 2'), ...t.end()], [1, 2]);
});

test('decodeJSONMessages yields messages then throws the in-band error', async () => {
  const src = Readable.from(['{"status":"a"}\r\n', '{"error":"plain"}']);
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of decodeJSONMessages(src)) got.push(m.status!);
    })(),
    (err: unknown) => err instanceof StreamError && err.message === 'plain',
  );
  assert.deepEqual(got, ['a']);
});
