import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { readAll } from '../lib/streams.js';
import { decompress } from './compression.js';

const hasZstd = spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;

test('zstd layers decompress as a stream, whatever the chunking', { skip: hasZstd ? false : 'zstd is not installed' }, async () => {
  const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 'a')]);
  const z = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 16 << 20 });
  assert.equal(z.status, 0);
  const compressed = z.stdout;
  const pieces: Buffer[] = [];
  for (let i = 0; i < compressed.length; i += 4093) pieces.push(compressed.subarray(i, i + 4093));
  const out = await readAll(decompress(Readable.from(pieces), 'zstd'));
  assert.ok(out.equals(data));
  await assert.rejects(readAll(decompress(Readable.from([compressed.subarray(0, compressed.length >> 1)]), 'zstd')));
});
