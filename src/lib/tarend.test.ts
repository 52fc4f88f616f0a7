import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { completeTar } from './tarend.js';

async function makeTar(files: Array<{ name: string; body: string; pax?: boolean }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const f of files) {
    const body = Buffer.from(f.body);
    // a name too long for ustar makes tar-stream write a PAX header first
    const name = f.pax ? `${f.name}-${'n'.repeat(120)}` : f.name;
    await new Promise<void>((res, rej) => pack.entry({ name, size: body.length, mode: 0o644 }, body, (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function through(input: Buffer, chunkSize = 100): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) parts.push(input.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(completeTar())) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function entries(buf: Buffer): Promise<Record<string, string>> {
  const ex = tar.extract();
  const out: Record<string, string> = {};
  const done = new Promise<void>((res, rej) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out[h.name] = Buffer.concat(chunks).toString();
        next();
      });
    });
    ex.on('finish', res);
    ex.on('error', rej);
  });
  ex.end(buf);
  await done;
  return out;
}

test('a complete tar passes through unchanged', async () => {
  const t = await makeTar([{ name: 'a', body: 'hello' }, { name: 'b', body: 'x'.repeat(1000) }]);
  assert.deepEqual(await through(t), t);
  assert.deepEqual(await through(t, 7), t);
});

test('a tar cut after the last data (no padding, no end blocks) is completed', async () => {
  const t = await makeTar([{ name: 'Dockerfile', body: 'FROM busybox\n' }, { name: '.dockerignore', body: '.dockerignore\n' }]);
  // what the docker CLI sends: header + data of the last entry, then nothing
  const cut = t.subarray(0, 512 * 3 + '.dockerignore\n'.length);
  await assert.rejects(entries(cut), /Unexpected end of data/);
  const fixed = await through(cut, 64);
  assert.equal(fixed.length % 512, 0);
  assert.deepEqual(await entries(fixed), { 'Dockerfile': 'FROM busybox\n', '.dockerignore': '.dockerignore\n' });
});

test('a tar ending at an entry boundary, or after one zero block, gets its end blocks', async () => {
  const t = await makeTar([{ name: 'a', body: 'x'.repeat(512) }]);
  const boundary = t.subarray(0, 1024);
  assert.equal((await through(boundary)).length, 2048);
  assert.deepEqual(await entries(await through(boundary)), { a: 'x'.repeat(512) });
  const oneZero = t.subarray(0, 1536);
  assert.equal((await through(oneZero)).length, 2048);
});

test('PAX headers: the entry after them is sized correctly', async () => {
  const t = await makeTar([{ name: 'long', body: 'data', pax: true }]);
  assert.equal(String.fromCharCode(t[156]!), 'x');
  const end = t.length - 1024 - (512 - 4);
  const fixed = await through(t.subarray(0, end), 33);
  assert.deepEqual(Object.values(await entries(fixed)), ['data']);
});

test('a tar cut inside data or inside a header stays cut', async () => {
  const t = await makeTar([{ name: 'a', body: 'x'.repeat(600) }]);
  const inData = t.subarray(0, 512 + 300);
  assert.deepEqual(await through(inData), inData);
  const inHeader = t.subarray(0, 200);
  assert.deepEqual(await through(inHeader), inHeader);
});

test('an empty body becomes an empty archive', async () => {
  assert.deepEqual(await through(Buffer.alloc(0)), Buffer.alloc(1024));
});
