/**
 * The import-direction check of ARCHITECTURE.md: which top-level folder under
 * src/ may import which. Edges are read from the TypeScript sources.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const RULES: Record<string, string[]> = {
  lib: [],
  oci: ['lib'],
  core: ['lib', 'oci'],
  store: ['lib', 'oci', 'core'],
  runtime: ['lib', 'oci', 'core'],
  network: ['lib', 'oci', 'core'],
  volume: ['lib', 'oci', 'core'],
  distribution: ['lib', 'oci', 'core'],
  build: ['lib', 'oci', 'core'],
  engine: ['lib', 'oci', 'core', 'store', 'runtime', 'network', 'volume', 'distribution', 'build'],
  api: ['engine', 'lib', 'oci'],
  registry: ['core', 'store', 'distribution', 'lib', 'oci'],
  client: ['lib', 'oci'],
  compose: ['client', 'lib'],
  cli: ['client', 'compose', 'lib'],
  daemon: ['*'],
};

export interface Edge {
  /** Paths relative to the src root, with forward slashes. */
  from: string;
  to: string;
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

export function collectEdges(srcRoot: string): Edge[] {
  const root = resolve(srcRoot);
  const edges: Edge[] = [];
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec || !spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      edges.push({ from: relative(root, file).split(sep).join('/'), to: relative(root, target).split(sep).join('/') });
    }
  }
  return edges;
}

const top = (p: string) => p.split('/')[0]!;

/** Edges the rules forbid, as readable lines. */
export function violations(edges: Edge[], rules: Record<string, string[]> = RULES): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = top(e.from);
    const to = top(e.to);
    if (e.to.startsWith('..')) {
      out.push(`${e.from} imports ${e.to}, outside src/`);
      continue;
    }
    if (from === to) continue;
    const allowed = rules[from];
    if (!allowed) {
      out.push(`${e.from}: folder ${from}/ is not in the architecture table`);
      continue;
    }
    if (allowed.includes('*') || allowed.includes(to)) continue;
    out.push(`${e.from} imports ${e.to}: ${from}/ may import only ${allowed.join(', ') || 'nothing of ours'}`);
  }
  return out;
}
