/**
 * `docker pull`: resolves a tag or digest to a manifest (picking the
 * platform's entry from an index), fetches the config, downloads the layers
 * a few at a time into the content store — digest-verified as they stream,
 * resumed with Range from what an interrupted attempt left — extracts each
 * on a worker thread as soon as it is in, while others still download, and
 * commits them in order. The image is named only
 * once every layer is extracted and verified against the config's diff IDs.
 * Progress follows docker's messages, layer by layer.
 */
import type { ContentStore } from '../core/content.js';
import type { DistributionMetadata } from '../core/distribution.js';
import type { ImageMetadata } from '../core/images.js';
import type { ProgressSink } from '../core/progress.js';
import type { PreparedLayer, Snapshotter } from '../core/snapshots.js';
import { shortId, type Digest } from '../lib/digest.js';
import { BerthError, invalidArgument, isKind, notFound } from '../lib/errors.js';
import { chainIds } from '../oci/chain.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/image.js';
import { isIndex, isManifest } from '../oci/mediatypes.js';
import { formatPlatform, hostPlatform, matchPlatform, pickPlatform, type Platform } from '../oci/platform.js';
import { familiarName, familiarString, fullName, fullString, type Reference } from '../oci/reference.js';
import { fetchBlob, limiter, throttled } from './blobs.js';
import { extractStoredLayer } from './layers.js';
import { RegistryError, type RegistryClient } from './remote.js';

export interface PullDeps {
  content: ContentStore;
  images: ImageMetadata;
  snapshots: Snapshotter;
  meta: DistributionMetadata;
}

export interface PullOptions {
  /** A reference with a tag or a digest. */
  ref: Reference;
  client: RegistryClient;
  /** Asked for explicitly (`--platform`); the host's otherwise. */
  platform?: Platform;
  /** Layers downloaded at once (docker's max-concurrent-downloads, 3). */
  concurrency?: number;
}

export interface PullResult {
  id: Digest;
  /** The digest pulled by: the index's when there was one, else the manifest's. */
  digest: Digest;
  /** The name now points at an image it did not point at before. */
  updated: boolean;
}

/** docker's TranslatePullError: the registry's codes in the words `docker pull` prints. */
export function translatePullError(err: unknown, ref: Reference): unknown {
  if (!(err instanceof RegistryError)) return err;
  const first = err.codes[0];
  if (first === 'DENIED' || (first === 'UNAUTHORIZED' && err.codes.includes('DENIED'))) {
    return new BerthError('NotFound', `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${err.message}`);
  }
  if (first === 'MANIFEST_UNKNOWN') return new BerthError('NotFound', `manifest for ${familiarString(ref)} not found: ${err.message}`);
  if (first === 'NAME_UNKNOWN') return new BerthError('NotFound', `repository ${familiarName(ref)} not found: ${err.message}`);
  return new BerthError('Internal', err.message);
}

function parse<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw invalidArgument(`${what}: invalid JSON`);
  }
}

export async function pullImage(deps: PullDeps, opts: PullOptions, progress: ProgressSink): Promise<PullResult> {
  const { ref, client } = opts;
  const repo = ref.path;
  const source = { registry: ref.domain, repository: repo };
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  let top;
  try {
    top = await client.manifest(repo, tagOrDigest);
  } catch (err) {
    throw translatePullError(err, ref);
  }
  progress({ kind: 'status', id: ref.digest ? fullString(ref) : tagOrDigest, text: `Pulling from ${ref.path}` });

  let manifestDesc: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.body.length };
  let manifestBody = top.body;
  let indexDesc: Descriptor | undefined;
  if (isIndex(top.mediaType)) {
    const index = parse<Index>(top.body, 'manifest list');
    const want = opts.platform ?? hostPlatform();
    const entries = (index.manifests ?? []).filter((m) => isManifest(m.mediaType));
    const i = pickPlatform(
      want,
      entries.map((m) => m.platform),
    );
    if (i < 0) throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
    indexDesc = { mediaType: top.mediaType, digest: top.digest, size: top.body.length };
    const entry = entries[i]!;
    let m;
    try {
      m = await client.manifest(repo, entry.digest);
    } catch (err) {
      throw translatePullError(err, ref);
    }
    manifestDesc = { mediaType: m.mediaType, digest: m.digest, size: m.body.length };
    manifestBody = m.body;
  } else if (!isManifest(top.mediaType)) {
    throw invalidArgument(`unsupported manifest media type and no default available: ${top.mediaType}`);
  }
  const manifest = parse<Manifest>(manifestBody, 'manifest');
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw invalidArgument('invalid manifest: config or layers missing');

  const configBlob = await fetchBlob(deps.content, client, repo, manifest.config);
  const config = parse<ImageConfig>(await deps.content.read(configBlob.digest), 'image config');
  if (opts.platform && !matchPlatform(opts.platform, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })) {
    const actual = formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
    throw notFound(`image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(opts.platform)}, actual: ${actual}`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw invalidArgument(`invalid manifest: ${manifest.layers.length} layers for ${diffIds.length} diff IDs in the image config`);
  }
  deps.meta.addSource(configBlob.digest, source);

  await pullLayers(deps, { client, repo, layers: manifest.layers, diffIds, concurrency: opts.concurrency ?? 3 }, progress);
  for (const l of manifest.layers) deps.meta.addSource(l.digest, source);

  await deps.content.put(manifestBody, { expected: manifestDesc.digest });
  if (indexDesc) await deps.content.put(top.body, { expected: indexDesc.digest });
  const id = configBlob.digest;
  const digestName = `${fullName(ref)}@${top.digest}`;
  const tagName = ref.digest ? undefined : fullString({ domain: ref.domain, path: ref.path, tag: tagOrDigest });
  const before = deps.images.resolveName(tagName ?? digestName);
  const existing = deps.images.get(id);
  deps.images.put(
    { ...(existing ?? { added: Date.now() }), id, manifest: manifestDesc, ...(indexDesc ? { index: indexDesc } : existing?.index ? { index: existing.index } : {}) },
    tagName ? [digestName, tagName] : [digestName],
  );
  progress({ kind: 'status', text: `Digest: ${top.digest}` });
  return { id, digest: top.digest, updated: before !== id };
}

interface LayerPlan {
  desc: Descriptor;
  diffId: Digest;
  chain: Digest;
  parent: Digest | null;
  id: string;
  /** Already extracted: only the blob may be missing. */
  extracted: boolean;
  haveBlob: boolean;
}

/**
 * Downloads run `concurrency` at a time in layer order; each layer is
 * extracted as soon as its blob is in, beside the others, and committed
 * once the layer below it is.
 */
async function pullLayers(
  deps: PullDeps,
  o: { client: RegistryClient; repo: string; layers: Descriptor[]; diffIds: Digest[]; concurrency: number },
  progress: ProgressSink,
): Promise<void> {
  const chains = chainIds(o.diffIds);
  const plans: LayerPlan[] = [];
  for (let i = 0; i < o.layers.length; i++) {
    const desc = o.layers[i]!;
    const extracted = deps.snapshots.get(chains[i]!) !== undefined;
    plans.push({
      desc,
      diffId: o.diffIds[i]!,
      chain: chains[i]!,
      parent: i === 0 ? null : chains[i - 1]!,
      id: shortId(desc.digest),
      extracted,
      haveBlob: (await deps.content.info(desc.digest)) !== undefined,
    });
  }
  const todo = plans.filter((p) => !(p.extracted && p.haveBlob));
  for (const p of plans) {
    if (p.extracted && p.haveBlob) progress({ kind: 'item', id: p.id, action: 'Already exists' });
    else progress({ kind: 'item', id: p.id, action: 'Pulling fs layer' });
  }
  todo.slice(o.concurrency).forEach((p) => p.haveBlob || progress({ kind: 'item', id: p.id, action: 'Waiting' }));

  const queue = todo.filter((p) => !p.haveBlob);
  const limit = limiter(o.concurrency);
  const downloads = new Map<LayerPlan, Promise<Downloaded>>();
  for (const p of queue) {
    // A download holds its place until its bytes are in, not through the digest check and the sync to disk.
    const d = limit.acquire().then(async (release) => {
      try {
        return await download(deps, o.client, o.repo, p, progress, release);
      } finally {
        release();
      }
    });
    d.catch((err: unknown) => limit.cancel(err));
    downloads.set(p, d);
  }
  // A layer is extracted as its download streams in (on a worker), or from its stored blob once it is in
  // (a resumed download, a blob already held); they are committed in order.
  const prepared = new Map<LayerPlan, Promise<PreparedLayer | undefined>>();
  for (const p of todo) {
    const ready = (async () => {
      const downloaded = await downloads.get(p);
      if (p.extracted) return undefined;
      const total = p.desc.size;
      const emit = throttled((current: number) => progress({ kind: 'item', id: p.id, action: 'Extracting', current, total }));
      emit(downloaded?.extractedBytes() ?? 0, true);
      const layer = await (downloaded?.streamed ?? extractStoredLayer(deps, p.desc.digest, p.diffId, (n) => emit(n)));
      emit(total, true);
      return layer;
    })();
    ready.catch(() => undefined);
    prepared.set(p, ready);
  }
  try {
    for (const p of todo) {
      const layer = await prepared.get(p);
      if (layer) await deps.snapshots.commitPrepared(layer, p.parent);
      progress({ kind: 'item', id: p.id, action: 'Pull complete' });
    }
  } catch (err) {
    // Queued downloads are dropped; running ones end before the error is reported, and extractions not committed go.
    limit.cancel(err);
    await Promise.allSettled(downloads.values());
    for (const ready of prepared.values()) {
      const layer = await ready.catch(() => undefined);
      if (layer) await deps.snapshots.discardPrepared(layer);
    }
    throw err;
  }
}

interface Downloaded {
  /** The extraction that streamed along with the download, when it started from the first byte. */
  streamed?: Promise<PreparedLayer>;
  extractedBytes(): number;
}

async function download(deps: PullDeps, client: RegistryClient, repo: string, p: LayerPlan, progress: ProgressSink, received: () => void): Promise<Downloaded> {
  const emit = throttled((current: number) => progress({ kind: 'item', id: p.id, action: 'Downloading', current, total: p.desc.size }));
  // One extraction per attempt that starts from byte 0; only the last one's is kept.
  const attempts: Array<Promise<PreparedLayer>> = [];
  let current: Promise<PreparedLayer> | undefined;
  let extracted = 0;
  const drop = async (keep?: Promise<PreparedLayer>) => {
    for (const a of attempts) {
      if (a === keep) continue;
      const layer = await a.catch(() => undefined);
      if (layer) await deps.snapshots.discardPrepared(layer);
    }
  };
  try {
    await fetchBlob(deps.content, client, repo, p.desc, {
      onData: (n) => emit(n),
      onVerify: () => {
        received();
        emit(p.desc.size, true);
        progress({ kind: 'item', id: p.id, action: 'Verifying Checksum' });
      },
      onStream: async (offset) => {
        current = undefined;
        if (offset !== 0 || p.extracted) return undefined;
        const job = await deps.snapshots.extractStream(p.diffId, (n) => (extracted = n));
        attempts.push(job.prepared);
        current = job.prepared;
        return job.input;
      },
    });
  } catch (err) {
    await drop();
    if (isKind(err, 'InvalidArgument') && /mismatch/.test((err as Error).message)) {
      throw invalidArgument(`filesystem layer verification failed for digest ${p.desc.digest}`);
    }
    throw err;
  }
  await drop(current);
  progress({ kind: 'item', id: p.id, action: 'Download complete' });
  return { ...(current ? { streamed: current } : {}), extractedBytes: () => extracted };
}
