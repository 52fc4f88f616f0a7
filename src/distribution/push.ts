/**
 * `docker push`: sends an image's layers, config and manifest to a
 * repository. Each blob is looked for first (HEAD) and skipped when there;
 * a blob known to be in another repository of the same registry is mounted
 * from it; the rest are uploaded. Layers stored compressed go as they are;
 * a layer stored uncompressed is gzipped on the way and the compressed
 * digest remembered, so the next push of it finds it in the registry. The
 * stored manifest is pushed unchanged when every layer went as stored;
 * otherwise a Docker schema2 manifest for what was sent (OCI when a layer
 * is zstd). Progress follows docker's messages.
 */
import type { ContentStore } from '../core/content.js';
import type { BlobSource, DistributionMetadata } from '../core/distribution.js';
import type { ImageRecord } from '../core/images.js';
import type { ProgressSink } from '../core/progress.js';
import { sha256, shortId, type Digest } from '../lib/digest.js';
import { internal } from '../lib/errors.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/image.js';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  layerCompression,
  OCI_CONFIG,
  OCI_LAYER_ZSTD,
  OCI_MANIFEST,
} from '../oci/mediatypes.js';
import { repositoryScope } from './auth.js';
import { limiter, openLayer, throttled } from './blobs.js';
import type { RegistryClient } from './remote.js';

export interface PushDeps {
  content: ContentStore;
  meta: DistributionMetadata;
}

export interface PushOptions {
  client: RegistryClient;
  /** The registry as references name it, and the repository path. */
  registry: string;
  repository: string;
  tag: string;
  image: ImageRecord;
  /** Layers uploaded at once (docker's max-concurrent-uploads, 5). */
  concurrency?: number;
  /** Upload converted layers in PATCH chunks of this many bytes instead of one streamed PATCH. */
  chunkSize?: number;
}

export interface PushResult {
  digest: Digest;
  size: number;
}

interface LayerJob {
  stored: Descriptor;
  diffId: Digest;
  id: string;
  /** What the manifest lists once the layer is in the registry. */
  sent?: Descriptor;
}

export async function pushImage(deps: PushDeps, opts: PushOptions, progress: ProgressSink): Promise<PushResult> {
  const { client, repository } = opts;
  const target: BlobSource = { registry: opts.registry, repository };
  const configBuf = await deps.content.read(opts.image.id);
  const config = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
  const storedBuf = await deps.content.read(opts.image.manifest.digest);
  const stored = JSON.parse(storedBuf.toString('utf8')) as Manifest;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== stored.layers.length) throw internal(`image ${opts.image.id}: manifest and config disagree on its layers`);

  // Docker lists layers top first.
  const jobs: LayerJob[] = stored.layers.map((l, i) => ({ stored: l, diffId: diffIds[i]!, id: shortId(diffIds[i]!) }));
  const shown = [...jobs].reverse();
  for (const j of shown) progress({ kind: 'item', id: j.id, action: 'Preparing' });
  const concurrency = opts.concurrency ?? 5;
  shown.slice(concurrency).forEach((j) => progress({ kind: 'item', id: j.id, action: 'Waiting' }));

  const limit = limiter(concurrency);
  const done = new Set<Digest>();
  const results = shown.map((j) =>
    limit.run(async () => {
      j.sent = await pushLayer(deps, opts, target, j, done, progress);
    }),
  );
  for (const r of results) r.catch((err: unknown) => limit.cancel(err));
  const settled = await Promise.allSettled(results);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;

  const configScopes = [repositoryScope(repository, ['pull', 'push'])];
  if (!(await client.hasBlob(repository, opts.image.id, configScopes))) await client.uploadMonolithic(repository, configBuf, opts.image.id, configBuf.length);
  deps.meta.addSource(opts.image.id, target);

  const unchanged = jobs.every((j) => j.sent!.digest === j.stored.digest);
  let body: Buffer;
  let mediaType: string;
  if (unchanged) {
    body = storedBuf;
    mediaType = stored.mediaType ?? opts.image.manifest.mediaType;
  } else {
    const oci = jobs.some((j) => j.sent!.mediaType === OCI_LAYER_ZSTD);
    mediaType = oci ? OCI_MANIFEST : DOCKER_MANIFEST;
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: oci ? OCI_CONFIG : DOCKER_CONFIG, digest: opts.image.id, size: configBuf.length },
      layers: jobs.map((j) => j.sent!),
    };
    body = Buffer.from(JSON.stringify(manifest, null, 3));
  }
  const digest = (await client.putManifest(repository, opts.tag, mediaType, body)) ?? sha256(body);
  progress({ kind: 'status', text: `${opts.tag}: digest: ${digest} size: ${body.length}` });
  progress({ kind: 'aux', data: { Tag: opts.tag, Digest: digest, Size: body.length } });
  return { digest, size: body.length };
}

/** The descriptor a layer goes out with: the stored blob, or its remembered (or new) gzip form. */
async function pushLayer(deps: PushDeps, opts: PushOptions, target: BlobSource, j: LayerJob, done: Set<Digest>, progress: ProgressSink): Promise<Descriptor> {
  const { client, repository } = opts;
  const scopes = [repositoryScope(repository, ['pull', 'push'])];
  const convert = layerCompression(j.stored.mediaType) === 'none';
  const known: Descriptor | undefined = convert
    ? (() => {
        const c = deps.meta.compressed(j.diffId, DOCKER_LAYER_GZIP);
        return c && { mediaType: c.mediaType, digest: c.digest, size: c.size };
      })()
    : { mediaType: j.stored.mediaType, digest: j.stored.digest, size: j.stored.size };

  if (known) {
    if (done.has(known.digest) || (await client.hasBlob(repository, known.digest, scopes))) {
      progress({ kind: 'item', id: j.id, action: 'Layer already exists' });
      deps.meta.addSource(known.digest, target);
      return known;
    }
    for (const src of deps.meta.sources(known.digest)) {
      if (src.registry !== target.registry || src.repository === target.repository) continue;
      if (await client.mount(repository, known.digest, src.repository)) {
        progress({ kind: 'item', id: j.id, action: `Mounted from ${src.repository}` });
        deps.meta.addSource(known.digest, target);
        return known;
      }
    }
  }

  const total = convert ? (await deps.content.info(j.stored.digest))?.size ?? j.stored.size : j.stored.size;
  const emit = throttled((current: number) => progress({ kind: 'item', id: j.id, action: 'Pushing', current, total }));
  emit(0, true);
  const layer = await openLayer(deps.content, j.stored, convert ? 'gzip' : 'stored', (n) => emit(n));
  if (convert) {
    await client.upload(repository, layer.stream, { digest: () => layer.digest(), ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}) });
  } else {
    await client.uploadMonolithic(repository, layer.stream, known!.digest, known!.size);
  }
  emit(total, true);
  const sent: Descriptor = { mediaType: convert ? DOCKER_LAYER_GZIP : j.stored.mediaType, digest: layer.digest(), size: layer.size() };
  if (convert) deps.meta.setCompressed(j.diffId, { mediaType: DOCKER_LAYER_GZIP, digest: sent.digest, size: sent.size });
  deps.meta.addSource(sent.digest, target);
  done.add(sent.digest);
  progress({ kind: 'item', id: j.id, action: 'Pushed' });
  return sent;
}
