import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/daemon.js';
import { collectEdges, violations } from './imports.js';

test('src/ follows the import direction of ARCHITECTURE.md', () => {
  const edges = collectEdges(join(REPO, 'src'));
  assert.ok(edges.length > 50, `found ${edges.length} import edges`);
  assert.deepEqual(violations(edges), []);
});

test('the check fails on an edge the architecture forbids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-arch-'));
  try {
    for (const f of ['cli', 'engine', 'lib', 'store', 'runtime']) mkdirSync(join(dir, f));
    writeFileSync(join(dir, 'engine/images.ts'), 'export const x = 1;\n');
    writeFileSync(join(dir, 'lib/errors.ts'), 'export const e = 1;\n');
    writeFileSync(join(dir, 'cli/main.ts'), "import { x } from '../engine/images.js';\nimport { e } from '../lib/errors.js';\n");
    writeFileSync(join(dir, 'store/a.ts'), "export { y } from '../runtime/b.js';\n");
    writeFileSync(join(dir, 'runtime/b.ts'), "const m = await import('../store/a.js');\n");
    const found = violations(collectEdges(dir));
    assert.equal(found.length, 3, found.join('\n'));
    assert.ok(found.some((v) => v.startsWith('cli/main.ts imports engine/images.js')));
    assert.ok(found.some((v) => v.startsWith('store/a.ts imports runtime/b.js')));
    assert.ok(found.some((v) => v.startsWith('runtime/b.ts imports store/a.js')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
