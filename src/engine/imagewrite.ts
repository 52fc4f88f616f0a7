/**
 * Writing an image made here (commit, build steps): its config blob, a
 * manifest of the parent's layers plus the new one, and the record, with
 * the names given pointed at it.
 */
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata } from '../core/images.js';
import type { Digest } from '../lib/digest.js';
import type { ImageConfig, Manifest } from '../oci/image.js';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../oci/mediatypes.js';

export interface ImageWriteDeps {
  content: ContentStore;
  imageStore: ImageMetadata;
}

export async function writeImage(
  deps: ImageWriteDeps,
  opts: { parent: Digest | null; config: ImageConfig; layer?: { digest: Digest; size: number; mediaType?: string }; names?: string[] },
): Promise<Digest> {
  const cfg = await deps.content.put(JSON.stringify(opts.config));
  const layers = opts.parent ? await layersOf(deps, opts.parent) : [];
  if (opts.layer) layers.push({ mediaType: opts.layer.mediaType ?? OCI_LAYER, digest: opts.layer.digest, size: opts.layer.size });
  const manifest: Manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: cfg.digest, size: cfg.size }, layers };
  const m = await deps.content.put(JSON.stringify(manifest));
  const existing = deps.imageStore.get(cfg.digest);
  const names = opts.names ?? [];
  deps.imageStore.put(
    {
      ...(existing ?? { added: Date.now() }),
      id: cfg.digest,
      manifest: { mediaType: OCI_MANIFEST, digest: m.digest, size: m.size },
      ...(opts.parent ? { parent: opts.parent } : {}),
      ...(names.length ? { lastTagTime: Date.now() } : {}),
    },
    names,
  );
  return cfg.digest;
}

/** The layer descriptors of an image's manifest (none for an image that is gone or unreadable). */
async function layersOf(deps: ImageWriteDeps, image: Digest): Promise<Manifest['layers']> {
  const record = deps.imageStore.get(image);
  if (!record) return [];
  try {
    const m = JSON.parse((await deps.content.read(record.manifest.digest)).toString('utf8')) as Manifest;
    return [...(m.layers ?? [])];
  } catch {
    return [];
  }
}
