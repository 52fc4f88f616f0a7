/**
 * Garbage collection: marks every blob and layer reachable from an image
 * record (or from extra roots such as containers), then removes the rest.
 * Runs under the store's exclusive lock so no operation in flight loses
 * content it has written but not yet referenced.
 */
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata } from '../core/images.js';
import type { Snapshotter } from '../core/snapshots.js';
import type { Digest } from '../lib/digest.js';
import { isKind } from '../lib/errors.js';
import type { ImageConfig, Index, Manifest } from '../oci/image.js';
import { chainIds } from '../oci/chain.js';
import { isIndex, isManifest } from '../oci/mediatypes.js';

export interface GcRoots {
  blobs: Iterable<Digest>;
  layers: Iterable<Digest>;
}

export interface GcResult {
  blobsRemoved: number;
  /** Chain IDs of the layers removed, top layers first. */
  layers: Digest[];
  bytesFreed: number;
}

export async function collectGarbage(
  content: ContentStore,
  images: ImageMetadata,
  snapshots: Snapshotter,
  extraRoots: GcRoots[] = [],
): Promise<GcResult> {
  const blobs = new Set<Digest>();
  const layers = new Set<Digest>();
  for (const root of extraRoots) {
    for (const b of root.blobs) blobs.add(b);
    for (const l of root.layers) layers.add(l);
  }

  const markManifest = async (digest: Digest, mediaType: string | undefined): Promise<void> => {
    if (blobs.has(digest)) return;
    blobs.add(digest);
    const raw = await content.read(digest).catch((err: unknown) => {
      if (isKind(err, 'NotFound')) return undefined;
      throw err;
    });
    if (!raw) return;
    const doc = JSON.parse(raw.toString('utf8')) as Partial<Manifest & Index>;
    const mt = mediaType ?? doc.mediaType;
    if (isIndex(mt) || Array.isArray(doc.manifests)) {
      for (const m of doc.manifests ?? []) {
        if (isManifest(m.mediaType) || isIndex(m.mediaType)) await markManifest(m.digest, m.mediaType);
        else blobs.add(m.digest);
      }
      return;
    }
    if (doc.config) {
      blobs.add(doc.config.digest);
      const config = await content.read(doc.config.digest).catch(() => undefined);
      if (config) {
        const parsed = JSON.parse(config.toString('utf8')) as ImageConfig;
        for (const c of chainIds(parsed.rootfs?.diff_ids ?? [])) layers.add(c);
      }
    }
    for (const l of doc.layers ?? []) blobs.add(l.digest);
  };

  for (const rw of snapshots.listRw()) if (rw.parent) layers.add(rw.parent);
  for (const image of images.list()) {
    blobs.add(image.id);
    if (image.index) await markManifest(image.index.digest, image.index.mediaType);
    await markManifest(image.manifest.digest, image.manifest.mediaType);
  }

  const result: GcResult = { blobsRemoved: 0, layers: [], bytesFreed: 0 };
  for (const blob of await content.list()) {
    if (blobs.has(blob.digest)) continue;
    await content.delete(blob.digest);
    result.blobsRemoved++;
    result.bytesFreed += blob.size;
  }

  // Children before parents: a layer can only go once nothing sits on it.
  const all = snapshots.list();
  const depth = new Map<Digest, number>();
  const byChain = new Map(all.map((l) => [l.chainId, l]));
  const depthOf = (id: Digest): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const parent = byChain.get(id)?.parent ?? null;
    const d = parent === null ? 0 : depthOf(parent) + 1;
    depth.set(id, d);
    return d;
  };
  // A kept layer keeps its ancestors.
  for (const id of [...layers]) {
    let cur = byChain.get(id)?.parent ?? null;
    while (cur !== null && !layers.has(cur)) {
      layers.add(cur);
      cur = byChain.get(cur)?.parent ?? null;
    }
  }
  const garbage = all.filter((l) => !layers.has(l.chainId)).sort((a, b) => depthOf(b.chainId) - depthOf(a.chainId));
  for (const layer of garbage) {
    await snapshots.remove(layer.chainId);
    result.layers.push(layer.chainId);
    result.bytesFreed += layer.size;
  }
  return result;
}
