/**
 * `docker save`: writes images as one tar that is both a docker-archive
 * (manifest.json, repositories) and an OCI image layout (oci-layout,
 * index.json, blobs/sha256), the shape docker 25 and later write. Layers are
 * written uncompressed, as docker-archive readers expect; a stored manifest is
 * kept as-is when its layers already are, otherwise an OCI manifest for the
 * uncompressed layers is generated.
 */
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ContentStore } from '../core/content.js';
import type { ImageRecord } from '../core/images.js';
import type { Snapshotter } from '../core/snapshots.js';
import { hexOf, sha256, type Digest } from '../lib/digest.js';
import { internal } from '../lib/errors.js';
import { chainIds } from '../oci/chain.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/image.js';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  layerCompression,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_LAYER_GZIP,
  OCI_LAYOUT_VERSION,
  OCI_MANIFEST,
} from '../oci/mediatypes.js';
import { familiarName, parseNormalized, repoTag, type Reference } from '../oci/reference.js';
import { openLayer } from './blobs.js';

export interface SaveDeps {
  content: ContentStore;
  snapshots: Snapshotter;
}

export interface SaveItem {
  image: ImageRecord;
  /** The names the user asked for that point at this image (full references); empty when saved by ID. */
  names: string[];
}

interface Planned {
  image: ImageRecord;
  names: Reference[];
  configDigest: Digest;
  config: Buffer;
  manifest: Buffer;
  layers: Array<{ diffId: Digest; blob: Digest; compressed: boolean; size: number }>;
}

async function plan(deps: SaveDeps, item: SaveItem): Promise<Planned> {
  const config = await deps.content.read(item.image.id);
  const parsed = JSON.parse(config.toString('utf8')) as ImageConfig;
  const stored = JSON.parse((await deps.content.read(item.image.manifest.digest)).toString('utf8')) as Manifest;
  const diffIds = parsed.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  const layers = diffIds.map((diffId, i) => {
    const desc = stored.layers[i];
    const layer = deps.snapshots.get(chains[i]!);
    if (!desc || !layer) throw internal(`image ${item.image.id} is missing layer ${diffId}`);
    const compressed = layerCompression(desc.mediaType) !== 'none' || desc.digest !== diffId;
    return { diffId, blob: desc.digest, compressed, size: layer.tarSize };
  });
  let manifest: Buffer;
  if (layers.every((l) => !l.compressed)) {
    manifest = await deps.content.read(item.image.manifest.digest);
  } else {
    const generated: Manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: item.image.id, size: config.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.diffId, size: l.size })),
    };
    manifest = Buffer.from(JSON.stringify(generated));
  }
  return { image: item.image, names: item.names.map(parseNormalized), configDigest: item.image.id, config, manifest, layers };
}

function entryOpts(name: string, size: number, mtime: Date): Parameters<tar.Pack['entry']>[0] {
  return { name, size, mode: 0o644, mtime, type: 'file', uid: 0, gid: 0 };
}

async function addBuffer(pack: tar.Pack, name: string, data: Buffer, mtime: Date): Promise<void> {
  await new Promise<void>((resolve, reject) => pack.entry(entryOpts(name, data.length, mtime), data, (err) => (err ? reject(err) : resolve())));
}

async function addStream(pack: tar.Pack, name: string, size: number, source: Readable, mtime: Date): Promise<void> {
  let done!: (err?: Error | null) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = (err) => (err ? reject(err) : resolve());
  });
  const sink = pack.entry(entryOpts(name, size, mtime), done);
  for await (const chunk of source) {
    if (!sink.write(chunk as Buffer)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  sink.end(undefined);
  await finished;
}

/** Streams the archive for the given images into the returned Readable. */
export function saveArchive(deps: SaveDeps, items: SaveItem[]): Readable {
  const pack = tar.pack();
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pack.pipe(out);
  const write = async () => {
    const planned: Planned[] = [];
    for (const item of items) planned.push(await plan(deps, item));
    const written = new Set<Digest>();
    const epoch = new Date(0);
    const dir = (name: string) =>
      new Promise<void>((resolve, reject) =>
        pack.entry({ name, type: 'directory', mode: 0o755, mtime: epoch }, (err) => (err ? reject(err) : resolve())),
      );
    await dir('blobs/');
    await dir('blobs/sha256/');
    for (const p of planned) {
      for (const l of p.layers) {
        if (written.has(l.diffId)) continue;
        written.add(l.diffId);
        const stored = { mediaType: l.compressed ? OCI_LAYER_GZIP : OCI_LAYER, digest: l.blob, size: l.size };
        const { stream } = await openLayer(deps.content, stored, 'uncompressed');
        await addStream(pack, `blobs/sha256/${hexOf(l.diffId)}`, l.size, stream, epoch);
      }
      if (!written.has(p.configDigest)) {
        written.add(p.configDigest);
        await addBuffer(pack, `blobs/sha256/${hexOf(p.configDigest)}`, p.config, epoch);
      }
      const md = sha256(p.manifest);
      if (!written.has(md)) {
        written.add(md);
        await addBuffer(pack, `blobs/sha256/${hexOf(md)}`, p.manifest, epoch);
      }
    }
    const index: Index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const p of planned) {
      const md = sha256(p.manifest);
      const base: Descriptor = { mediaType: OCI_MANIFEST, digest: md, size: p.manifest.length };
      if (p.names.length === 0) index.manifests.push(base);
      for (const ref of p.names) {
        const annotations: Record<string, string> = { [ANNOTATION_IMAGE_NAME]: `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}` };
        if (ref.tag) annotations[ANNOTATION_REF_NAME] = ref.tag;
        index.manifests.push({ ...base, annotations });
        const top = p.layers[p.layers.length - 1];
        if (ref.tag && top) (repositories[familiarName(ref)] ??= {})[ref.tag] = hexOf(top.diffId);
      }
      manifestJson.push({
        Config: `blobs/sha256/${hexOf(p.configDigest)}`,
        RepoTags: p.names.length ? p.names.map((r) => repoTag(r) ?? familiarName(r)) : null,
        Layers: p.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`),
      });
    }
    await addBuffer(pack, 'index.json', Buffer.from(JSON.stringify(index)), epoch);
    await addBuffer(pack, 'manifest.json', Buffer.from(JSON.stringify(manifestJson)), epoch);
    await addBuffer(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION })), epoch);
    if (Object.keys(repositories).length > 0) await addBuffer(pack, 'repositories', Buffer.from(JSON.stringify(repositories)), epoch);
    pack.finalize();
  };
  write().catch((err: unknown) => {
    pack.destroy(err as Error);
    out.destroy(err as Error);
  });
  return out;
}
