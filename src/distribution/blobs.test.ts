import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limiter } from './blobs.js';

const tick = () => new Promise((r) => setImmediate(r));

test('limiter: places are given in the order asked, a release is idempotent, cancel fails what has not started', async () => {
  const limit = limiter(2);
  const order: string[] = [];
  const a = await limit.acquire();
  const b = await limit.acquire();
  const c = limit.acquire().then((release) => (order.push('c'), release));
  const d = limit.run(async () => order.push('d'));
  await tick();
  assert.deepEqual(order, [], 'no place while two are held');
  a();
  a();
  const releaseC = await c;
  await tick();
  assert.deepEqual(order, ['c'], 'a double release frees one place only');
  b();
  await d;
  assert.deepEqual(order, ['c', 'd']);
  const e = limit.acquire();
  const f = limit.acquire();
  const releaseE = await e;
  limit.cancel(new Error('pull failed'));
  releaseC();
  await assert.rejects(f, /pull failed/);
  await assert.rejects(limit.run(async () => 1), /pull failed/);
  releaseE();
});
