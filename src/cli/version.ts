/** Berth's own version and build, read from package.json and the source tree's git HEAD (files only). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  gitCommit: string;
  buildTime: string;
}

let cached: BuildInfo | undefined;

function findRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const j = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
        if (j.name === 'berth') return dir;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  return undefined;
}

function readCommit(root: string): string {
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 7);
    const ref = head.slice(5);
    const refFile = join(root, '.git', ref);
    if (existsSync(refFile)) return readFileSync(refFile, 'utf8').trim().slice(0, 7);
    const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    return line ? line.slice(0, 7) : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const root = findRoot();
  let version = '0.0.0';
  let gitCommit = 'unknown';
  let buildTime = '';
  if (root) {
    try {
      version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
    } catch {
      // keep the default
    }
    gitCommit = readCommit(root);
    // the compiled entry point's age stands in for the build time
    const built = join(root, 'dist', 'src', 'cli', 'main.js');
    try {
      if (existsSync(built)) buildTime = new Date(Math.floor(statSync(built).mtimeMs / 1000) * 1000).toISOString();
    } catch {
      buildTime = '';
    }
  }
  cached = { version, gitCommit, buildTime };
  return cached;
}

