import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { sha256 } from '../lib/digest.js';
import { RegistryError } from './errors.js';
import { RegistryStore } from './store.js';
import { Uploads } from './uploads.js';

async function store() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-uploads-'));
  const s = new RegistryStore(dir);
  await s.init();
  return { s, dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const code = (c: string) => (e: unknown) => e instanceof RegistryError && e.code === c;

test('chunks append in order; the digest is checked before the blob appears', async () => {
  const { s, dir, done } = await store();
  try {
    const data = Buffer.from('0123456789abcdef');
    const up = await s.uploads.start('a/b');
    assert.equal((await s.uploads.append('a/b', up.id, Readable.from([data.subarray(0, 6)]), { start: 0, end: 5 })).size, 6);
    await assert.rejects(s.uploads.append('a/b', up.id, Readable.from([data.subarray(10)]), { start: 10, end: 15 }), code('RANGE_INVALID'));
    // a chunk shorter than its range is refused and cut back
    await assert.rejects(s.uploads.append('a/b', up.id, Readable.from([data.subarray(6, 8)]), { start: 6, end: 9 }), code('BLOB_UPLOAD_INVALID'));
    assert.equal((await s.uploads.status('a/b', up.id)).size, 6);
    await s.uploads.append('a/b', up.id, Readable.from([data.subarray(6, 12)]));
    assert.equal(await s.content.info(sha256(data)), undefined);
    const info = await s.uploads.finish('a/b', up.id, sha256(data), Readable.from([data.subarray(12)]));
    assert.deepEqual(info, { digest: sha256(data), size: data.length });
    assert.deepEqual(await s.content.read(info.digest), data);
    assert.deepEqual(readdirSync(join(dir, 'uploads')), []);
  } finally {
    done();
  }
});

test('sessions belong to their repository and ids are checked', async () => {
  const { s, done } = await store();
  try {
    const up = await s.uploads.start('a/b');
    await assert.rejects(s.uploads.status('other', up.id), code('BLOB_UPLOAD_UNKNOWN'));
    await assert.rejects(s.uploads.status('a/b', '../../etc'), code('BLOB_UPLOAD_UNKNOWN'));
    await s.uploads.cancel('a/b', up.id);
    await assert.rejects(s.uploads.status('a/b', up.id), code('BLOB_UPLOAD_UNKNOWN'));
  } finally {
    done();
  }
});

test('a wrong digest drops the session and commits nothing', async () => {
  const { s, dir, done } = await store();
  try {
    const up = await s.uploads.start('r');
    await s.uploads.append('r', up.id, Readable.from([Buffer.from('data')]));
    await assert.rejects(s.uploads.finish('r', up.id, sha256('other')), code('DIGEST_INVALID'));
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), []);
    await assert.rejects(s.uploads.status('r', up.id), code('BLOB_UPLOAD_UNKNOWN'));
  } finally {
    done();
  }
});

test('an empty upload makes the empty blob', async () => {
  const { s, done } = await store();
  try {
    const up = await s.uploads.start('r');
    const info = await s.uploads.finish('r', up.id, sha256(''));
    assert.deepEqual(info, { digest: sha256(''), size: 0 });
    assert.equal((await s.content.info(sha256('')))?.size, 0);
  } finally {
    done();
  }
});

test('a broken-off chunk keeps what arrived, and another process resumes the session', async () => {
  const { s, dir, done } = await store();
  try {
    const data = Buffer.alloc(3 << 20, 7);
    const up = await s.uploads.start('r');
    const body = new PassThrough();
    const appending = s.uploads.append('r', up.id, body);
    body.write(data.subarray(0, 1 << 20));
    await new Promise((r) => setTimeout(r, 50));
    body.destroy(new Error('connection reset'));
    await assert.rejects(appending, /connection reset/);
    const kept = (await s.uploads.status('r', up.id)).size;
    assert.equal(kept, 1 << 20);
    // a new Uploads has no hash state and reads it back from the data file
    const again = new Uploads(join(dir, 'uploads'), s.content);
    await again.append('r', up.id, Readable.from([data.subarray(kept)]), { start: kept, end: data.length - 1 });
    const info = await again.finish('r', up.id, sha256(data));
    assert.equal(info.size, data.length);
    assert.ok(existsSync(s.content.path(sha256(data))));
  } finally {
    done();
  }
});
