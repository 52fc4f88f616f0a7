/**
 * `--cache-from`: images whose history stands in for the step cache, as the
 * classic builder does it. A step matches a source image when the parent's
 * history and layers are a prefix of the source's and the source's next
 * history entry records the same command. The step's image is then made from
 * that entry (and its layer, when it has one) without running anything.
 */
import type { ContentStore } from '../core/content.js';
import type { Digest } from '../lib/digest.js';
import type { ImageConfig, Manifest } from '../oci/image.js';
import type { ImageService } from './images.js';

export interface CacheSource {
  id: Digest;
  config: ImageConfig;
  layers: Manifest['layers'];
}

export interface CacheMatch {
  source: CacheSource;
  /** The history entry of the source that the step reproduces. */
  index: number;
  /** The entry's layer (absent for an empty-layer entry). */
  layer?: { diffId: Digest; descriptor: Manifest['layers'][number] };
  /** The step reproduces the source's last entry: the source itself is the result. */
  whole: boolean;
}

/** The cache sources that exist locally; names that resolve to nothing are skipped, as docker does. */
export async function loadSources(images: ImageService, content: ContentStore, refs: string[]): Promise<CacheSource[]> {
  const out: CacheSource[] = [];
  for (const ref of refs) {
    let record;
    try {
      record = images.resolve(ref);
    } catch {
      continue;
    }
    const config = await images.config(record.id);
    const manifest = JSON.parse((await content.read(record.manifest.digest)).toString('utf8')) as Manifest;
    out.push({ id: record.id, config, layers: manifest.layers ?? [] });
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The first source whose history continues the parent's with `createdBy`. */
export function matchSource(sources: CacheSource[], parent: ImageConfig | null, createdBy: string): CacheMatch | undefined {
  const parentHistory = parent?.history ?? [];
  const parentLayers = parent?.rootfs?.diff_ids ?? [];
  for (const source of sources) {
    const history = source.config.history ?? [];
    const diffIds = source.config.rootfs?.diff_ids ?? [];
    const n = parentHistory.length;
    if (history.length <= n || diffIds.length < parentLayers.length) continue;
    if (!parentHistory.every((h, i) => same(h, history[i]))) continue;
    if (!parentLayers.every((d, i) => d === diffIds[i])) continue;
    const entry = history[n]!;
    if (entry.created_by !== createdBy) continue;
    let layer: CacheMatch['layer'];
    if (!entry.empty_layer) {
      const at = history.slice(0, n).filter((h) => !h.empty_layer).length;
      const diffId = diffIds[at];
      const descriptor = source.layers[at];
      if (!diffId || !descriptor) continue;
      layer = { diffId, descriptor };
    }
    return { source, index: n, ...(layer ? { layer } : {}), whole: n === history.length - 1 };
  }
  return undefined;
}
