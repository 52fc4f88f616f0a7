import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELLO_MESSAGE, helloElf } from './elf.js';

const runnable = process.platform === 'linux' && process.arch === 'x64';

test('the generated ELF prints the message and exits 0', { skip: !runnable && 'needs linux/x86-64' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-elf-'));
  try {
    const path = join(dir, 'hello');
    writeFileSync(path, helloElf(HELLO_MESSAGE));
    chmodSync(path, 0o755);
    const r = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, HELLO_MESSAGE);
    assert.equal(r.stderr, '');

    // arbitrary (multi-byte, empty) messages too
    for (const msg of ['', 'x', 'ünïcödé ✓\n'.repeat(500)]) {
      writeFileSync(path, helloElf(msg));
      const q = spawnSync(path, [], { encoding: 'utf8', maxBuffer: 1 << 20 });
      assert.equal(q.status, 0);
      assert.equal(q.stdout, msg);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the ELF is small and well-formed', () => {
  const elf = helloElf(HELLO_MESSAGE);
  assert.ok(elf.length < 64 + 56 + 64 + Buffer.byteLength(HELLO_MESSAGE));
  assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(elf.readUInt16LE(18), 0x3e);
  assert.equal(elf.readBigUInt64LE(24), 0x400078n);
  assert.equal(elf.readBigUInt64LE(64 + 32), BigInt(elf.length));
});
