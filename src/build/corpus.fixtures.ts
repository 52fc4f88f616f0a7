/**
 * Where BuildKit's Dockerfile corpus lives: `../shared/specs/dockerfile-corpus`
 * beside the project root (the directory holding package.json). Tests that
 * use it fail, not skip, when it is missing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('project root (package.json) not found');
    dir = up;
  }
  return dir;
}

export const CORPUS = resolve(projectRoot(), '../shared/specs/dockerfile-corpus');

/** The case directories under one corpus folder; throws when the folder is missing or empty. */
export function corpusCases(sub: string): string[] {
  const dir = join(CORPUS, sub);
  if (!existsSync(dir)) throw new Error(`Dockerfile corpus missing: ${dir}`);
  const names = readdirSync(dir).sort();
  if (names.length === 0) throw new Error(`Dockerfile corpus empty: ${dir}`);
  return names;
}
