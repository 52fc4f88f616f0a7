import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileContentStore } from './content.js';
import { sha256 } from '../lib/digest.js';
import { isKind } from '../lib/errors.js';

async function store() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
  const s = new FileContentStore(dir);
  await s.init();
  return { s, dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('write streams, hashes and commits a blob', async () => {
  const { s, done } = await store();
  try {
    const data = Buffer.from('hello blob');
    const info = await s.write(Readable.from([data.subarray(0, 3), data.subarray(3)]));
    assert.deepEqual(info, { digest: sha256(data), size: data.length });
    assert.deepEqual(await s.read(info.digest), data);
    assert.deepEqual(await s.info(info.digest), info);
    assert.deepEqual((await s.list()).map((b) => b.digest), [info.digest]);
  } finally {
    done();
  }
});

test('a digest or size mismatch commits nothing and leaves no ingest', async () => {
  const { s, dir, done } = await store();
  try {
    const wrong = sha256('other');
    await assert.rejects(s.write(Readable.from([Buffer.from('data')]), { expected: wrong }), (e) => isKind(e, 'InvalidArgument') && /digest mismatch/.test((e as Error).message));
    await assert.rejects(s.write(Readable.from([Buffer.from('data')]), { size: 99 }), /size mismatch/);
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  } finally {
    done();
  }
});

test('a source that fails mid-stream leaves nothing behind', async () => {
  const { s, dir, done } = await store();
  try {
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    }
    await assert.rejects(s.write(Readable.from(broken())), /connection reset/);
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  } finally {
    done();
  }
});

test('put is idempotent, read of a missing blob is NotFound, cleanIngests clears leftovers', async () => {
  const { s, dir, done } = await store();
  try {
    const a = await s.put('same');
    const b = await s.put('same');
    assert.deepEqual(a, b);
    await assert.rejects(s.read(sha256('absent')), (e) => isKind(e, 'NotFound'));
    await assert.rejects(s.open(sha256('absent')), (e) => isKind(e, 'NotFound'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'ingest', 'leftover'), 'x');
    writeFileSync(join(dir, 'blobs', 'sha256', '.tmp-123'), 'x');
    assert.equal(await s.cleanIngests(), 1);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), [a.digest.slice(7)]);
    await s.delete(a.digest);
    assert.equal(await s.info(a.digest), undefined);
  } finally {
    done();
  }
});

test('resumable ingest: an interrupted write keeps its bytes, the next continues, a mismatch drops them', async () => {
  const { s, dir, done } = await store();
  try {
    const data = Buffer.from('0123456789abcdefghij');
    const digest = sha256(data);
    const first = await s.resume(digest, data.length);
    assert.equal(first.offset, 0);
    let sent = false;
    const failing = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(data.subarray(0, 8));
        setTimeout(() => this.destroy(new Error('connection reset')), 50);
      },
    });
    await assert.rejects(first.commit(failing), /connection reset/);
    assert.equal(await s.info(digest), undefined);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), [`resume-${digest.slice(7)}`]);
    // Kept across a restart's cleanup while fresh.
    assert.equal(await s.cleanIngests(), 0);

    const second = await s.resume(digest, data.length);
    assert.equal(second.offset, 8);
    assert.deepEqual(await second.commit(Readable.from([data.subarray(8)])), { digest, size: data.length });
    assert.deepEqual(await s.read(digest), data);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);

    const other = Buffer.from('some other content');
    const od = sha256(other);
    const bad = await s.resume(od, other.length);
    await assert.rejects(bad.commit(Readable.from([Buffer.from('different content!')])), /digest mismatch/);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
    assert.equal(await s.info(od), undefined);
  } finally {
    done();
  }
});

test('resumable ingest: one holder at a time', async () => {
  const { s, done } = await store();
  try {
    const data = Buffer.from('held');
    const digest = sha256(data);
    const first = await s.resume(digest);
    let secondOpened = false;
    const second = s.resume(digest).then((i) => {
      secondOpened = true;
      return i;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(secondOpened, false);
    first.close();
    const i = await second;
    await i.commit(Readable.from([data]));
    assert.deepEqual(await s.read(digest), data);
  } finally {
    done();
  }
});
