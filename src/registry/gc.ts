/**
 * Garbage collection of a registry root, mark and sweep. Per repository, the
 * manifests reached from its tags, through index children and referrers
 * (manifests whose subject is reached), are kept with the blobs they name;
 * other manifests, blob links and then content no repository reaches are
 * removed. It assumes nothing writes meanwhile: run it with the server
 * stopped or read-only.
 */
import type { Digest } from '../lib/digest.js';
import { mustExist, parseManifest } from './manifest.js';
import type { RegistryStore } from './store.js';

export interface GcOptions {
  dryRun?: boolean;
  /** Keep every manifest a repository holds, tagged or not (and what it names). */
  keepUntagged?: boolean;
  /** Upload sessions older than this many milliseconds are removed (default a day). */
  uploadAge?: number;
  /** Called for each thing removed (or that would be, in a dry run). */
  report?: (line: string) => void;
}

export interface GcResult {
  manifests: Array<{ repo: string; digest: Digest }>;
  links: Array<{ repo: string; digest: Digest }>;
  blobs: Array<{ digest: Digest; size: number }>;
  uploads: string[];
  /** Bytes of the blobs removed. */
  freed: number;
}

/** The manifests a repository keeps and the blobs they name. */
async function mark(store: RegistryStore, repo: string, keepUntagged: boolean): Promise<{ manifests: Set<Digest>; blobs: Set<Digest> }> {
  const manifests = new Set<Digest>();
  const blobs = new Set<Digest>();
  const queue: Digest[] = [];
  for (const tag of await store.tags(repo)) {
    const d = await store.resolve(repo, tag);
    if (d) queue.push(d);
  }
  if (keepUntagged) queue.push(...(await store.revisions(repo)));
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (manifests.has(d)) continue;
    const m = await store.manifest(repo, d);
    if (!m) continue;
    manifests.add(d);
    let parsed;
    try {
      parsed = parseManifest(m.bytes, m.mediaType);
    } catch {
      continue;
    }
    for (const b of parsed.blobs) if (mustExist(b)) blobs.add(b.digest);
    for (const c of parsed.children) queue.push(c.digest);
    for (const r of await store.referrers(repo, d)) queue.push(r.digest);
  }
  return { manifests, blobs };
}

export async function collect(store: RegistryStore, opts: GcOptions = {}): Promise<GcResult> {
  const say = opts.report ?? (() => undefined);
  const verb = opts.dryRun ? 'would remove' : 'removed';
  const result: GcResult = { manifests: [], links: [], blobs: [], uploads: [], freed: 0 };
  const live = new Set<Digest>();

  for (const repo of await store.repositories()) {
    const keep = await mark(store, repo, opts.keepUntagged ?? false);
    for (const d of keep.manifests) live.add(d);
    for (const d of keep.blobs) live.add(d);
    for (const d of await store.revisions(repo)) {
      if (keep.manifests.has(d)) continue;
      result.manifests.push({ repo, digest: d });
      say(`${verb} manifest ${repo}@${d}`);
      if (!opts.dryRun) await store.deleteManifest(repo, d);
    }
    for (const d of await store.blobs(repo)) {
      if (keep.blobs.has(d)) continue;
      result.links.push({ repo, digest: d });
      say(`${verb} blob link ${repo}@${d}`);
      if (!opts.dryRun) await store.unlinkBlob(repo, d);
    }
    if (!opts.dryRun && (await store.removeIfEmpty(repo))) say(`removed empty repository ${repo}`);
  }

  for (const b of await store.content.list()) {
    if (live.has(b.digest)) continue;
    result.blobs.push(b);
    result.freed += b.size;
    say(`${verb} blob ${b.digest} (${b.size} bytes)`);
    if (!opts.dryRun) await store.content.delete(b.digest);
  }

  const cutoff = Date.now() - (opts.uploadAge ?? 24 * 3600_000);
  for (const u of await store.uploads.list()) {
    if (Date.parse(u.started) > cutoff) continue;
    result.uploads.push(u.id);
    say(`${verb} upload ${u.id}${u.repo ? ` of ${u.repo}` : ''} started ${u.started}`);
    if (!opts.dryRun) await store.uploads.remove(u.id);
  }
  return result;
}
