/**
 * `docker load`: reads an image archive — docker-archive (manifest.json, as
 * written by every docker version) or an OCI image layout (index.json) — as
 * a stream. Every file is spooled into the content store as it arrives
 * (blob paths verified against their names); once the archive ends, layers are
 * extracted through the shared layer step and the images registered. Nothing
 * is named until every piece of an image is in place.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata } from '../core/images.js';
import type { ProgressSink } from '../core/progress.js';
import type { Snapshotter } from '../core/snapshots.js';
import { isDigest, shortId, type Digest } from '../lib/digest.js';
import { invalidArgument, notFound } from '../lib/errors.js';
import { readAll } from '../lib/streams.js';
import { chainIds } from '../oci/chain.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/image.js';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  isIndex,
  isManifest,
  OCI_LAYER_ZSTD,
  sniffCompression,
} from '../oci/mediatypes.js';
import { matchPlatform, hostPlatform } from '../oci/platform.js';
import { familiarString, fullString, parseNormalized, withDefaultTag } from '../oci/reference.js';
import { storeBlob } from './blobs.js';
import { unpackStoredLayer } from './layers.js';
import { peek } from '../lib/streams.js';

export interface ArchiveDeps {
  content: ContentStore;
  images: ImageMetadata;
  snapshots: Snapshotter;
}

export interface LoadedImage {
  id: Digest;
  names: string[];
}

/** Small metadata files are kept in memory; everything else goes to the content store. */
const SMALL = /(^|\/)(manifest\.json|index\.json|oci-layout|repositories|json|VERSION|[a-f0-9]{64}\.json)$/;

interface Spool {
  files: Map<string, Digest>;
  small: Map<string, Buffer>;
  links: Map<string, string>;
}

async function spool(deps: ArchiveDeps, source: Readable): Promise<Spool> {
  const files = new Map<string, Digest>();
  const small = new Map<string, Buffer>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = posix.normalize(header.name).replace(/^\.\//, '').replace(/\/$/, '');
      const finish = (err?: unknown) => (err ? reject(err) : next());
      if (name.startsWith('../') || name.startsWith('/')) {
        stream.resume();
        return finish(invalidArgument(`invalid archive entry: ${header.name}`));
      }
      if (header.type === 'symlink' || header.type === 'link') {
        const target = header.type === 'symlink' ? posix.join(posix.dirname(name), header.linkname ?? '') : posix.normalize(header.linkname ?? '');
        links.set(name, target);
        stream.resume();
        return stream.on('end', () => finish());
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        stream.resume();
        return stream.on('end', () => finish());
      }
      if (SMALL.test(name) && (header.size ?? 0) < 64 << 20) {
        readAll(Readable.from(stream))
          .then((buf) => {
            small.set(name, buf);
            finish();
          })
          .catch(finish);
        return;
      }
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      storeBlob(deps.content, Readable.from(stream), m ? `sha256:${m[1]}` : undefined, header.size ?? 0)
        .then((info) => {
          files.set(name, info.digest);
          finish();
        })
        .catch(finish);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract);
  await done;
  return { files, small, links };
}

function resolvePath(sp: Spool, path: string): string {
  let p = posix.normalize(path).replace(/^\.\//, '');
  for (let i = 0; i < 16 && sp.links.has(p); i++) p = sp.links.get(p)!;
  return p;
}

async function blobAt(deps: ArchiveDeps, sp: Spool, path: string): Promise<{ digest: Digest; data?: Buffer }> {
  const p = resolvePath(sp, path);
  const smallData = sp.small.get(p);
  if (smallData) {
    const info = await deps.content.put(smallData);
    return { digest: info.digest, data: smallData };
  }
  const d = sp.files.get(p);
  if (d) return { digest: d };
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(p);
  if (m && (await deps.content.info(`sha256:${m[1]}`))) return { digest: `sha256:${m[1]}` };
  throw invalidArgument(`invalid archive: ${path} is missing`);
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw invalidArgument(`invalid archive: ${what} is not valid JSON`);
  }
}

/** Extracts every layer of a config's rootfs from the given blobs; returns each layer's blob compression. */
async function unpackLayers(
  deps: ArchiveDeps,
  config: ImageConfig,
  blobs: Digest[],
  progress: ProgressSink,
): Promise<string[]> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== blobs.length) {
    throw invalidArgument(`invalid archive: image has ${diffIds.length} layers in its config but ${blobs.length} in its manifest`);
  }
  const chains = chainIds(diffIds);
  const mediaTypes: string[] = [];
  for (let i = 0; i < blobs.length; i++) {
    const blob = blobs[i]!;
    const { head } = await peek(await deps.content.open(blob), 4);
    const compression = sniffCompression(head);
    mediaTypes.push(compression === 'gzip' ? DOCKER_LAYER_GZIP : compression === 'zstd' ? OCI_LAYER_ZSTD : DOCKER_LAYER);
    const id = shortId(diffIds[i]!);
    if (deps.snapshots.get(chains[i]!)) {
      progress({ kind: 'item', id, action: 'Layer already exists' });
      continue;
    }
    const size = (await deps.content.info(blob))?.size ?? 0;
    progress({ kind: 'item', id, action: 'Loading layer', current: 0, total: size });
    await unpackStoredLayer(deps, blob, i === 0 ? null : chains[i - 1]!, diffIds[i]!);
    progress({ kind: 'item', id, action: 'Loading layer', current: size, total: size });
  }
  return mediaTypes;
}

function renameNotice(deps: ArchiveDeps, name: string, id: Digest, progress: ProgressSink): void {
  const old = deps.images.resolveName(name);
  if (old && old !== id) {
    progress({
      kind: 'line',
      text: `The image ${familiarString(parseNormalized(name))} already exists, renaming the old one with ID ${old} to empty string`,
    });
  }
}

function register(deps: ArchiveDeps, id: Digest, manifest: Descriptor, names: string[], progress: ProgressSink): LoadedImage {
  for (const n of names) renameNotice(deps, n, id, progress);
  const existing = deps.images.get(id);
  deps.images.put({ ...(existing ?? { added: Date.now() }), id, manifest }, names);
  if (names.length === 0) progress({ kind: 'line', text: `Loaded image ID: ${id}` });
  for (const n of names) progress({ kind: 'line', text: `Loaded image: ${familiarString(parseNormalized(n))}` });
  return { id, names };
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function loadDockerArchive(deps: ArchiveDeps, sp: Spool, entries: DockerArchiveEntry[], progress: ProgressSink): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) throw invalidArgument('invalid archive: malformed manifest.json');
    const cfg = await blobAt(deps, sp, entry.Config);
    const configBuf = cfg.data ?? (await deps.content.read(cfg.digest));
    const config = parseJson<ImageConfig>(configBuf, entry.Config);
    const layerBlobs: Digest[] = [];
    for (const l of entry.Layers) layerBlobs.push((await blobAt(deps, sp, l)).digest);
    const mediaTypes = await unpackLayers(deps, config, layerBlobs, progress);
    const layers: Descriptor[] = [];
    for (let i = 0; i < layerBlobs.length; i++) {
      const info = await deps.content.info(layerBlobs[i]!);
      layers.push({ mediaType: mediaTypes[i]!, digest: layerBlobs[i]!, size: info?.size ?? 0 });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest: cfg.digest, size: configBuf.length },
      layers,
    };
    const mbuf = Buffer.from(JSON.stringify(manifest));
    const minfo = await deps.content.put(mbuf);
    const names = (entry.RepoTags ?? []).map((t) => fullString(withDefaultTag(parseNormalized(t))));
    out.push(register(deps, cfg.digest, { mediaType: DOCKER_MANIFEST, digest: minfo.digest, size: minfo.size }, names, progress));
  }
  return out;
}

async function readBlobJson<T>(deps: ArchiveDeps, digest: Digest): Promise<T> {
  const buf = await deps.content.read(digest).catch(() => {
    throw invalidArgument(`invalid archive: blob ${digest} is missing`);
  });
  return parseJson<T>(buf, digest);
}

/** The name an OCI layout gives a manifest: a full name annotation, else a ref name that parses as one. */
function layoutName(desc: Descriptor): string | undefined {
  const full = desc.annotations?.[ANNOTATION_IMAGE_NAME];
  const ref = desc.annotations?.[ANNOTATION_REF_NAME];
  for (const candidate of [full, ref]) {
    if (!candidate) continue;
    try {
      const parsed = parseNormalized(candidate);
      if (candidate === ref && !candidate.includes(':') && !candidate.includes('/')) continue;
      return fullString(withDefaultTag(parsed));
    } catch {
      continue;
    }
  }
  return undefined;
}

async function pickManifest(deps: ArchiveDeps, desc: Descriptor): Promise<{ manifest: Descriptor; index?: Descriptor }> {
  if (isManifest(desc.mediaType)) return { manifest: desc };
  if (!isIndex(desc.mediaType)) throw invalidArgument(`invalid archive: unsupported media type ${desc.mediaType}`);
  const index = await readBlobJson<Index>(deps, desc.digest);
  const want = hostPlatform();
  const match = index.manifests.find((m) => isManifest(m.mediaType) && (!m.platform || matchPlatform(want, m.platform)));
  if (!match) throw notFound(`no matching manifest for ${want.os}/${want.architecture} in the manifest list entries`);
  return { manifest: match, index: desc };
}

async function loadOciLayout(deps: ArchiveDeps, index: Index, progress: ProgressSink): Promise<LoadedImage[]> {
  const byId = new Map<Digest, { manifest: Descriptor; index?: Descriptor; names: string[] }>();
  for (const desc of index.manifests ?? []) {
    if (!isDigest(desc.digest)) throw invalidArgument('invalid archive: bad digest in index.json');
    const picked = await pickManifest(deps, desc);
    const manifest = await readBlobJson<Manifest>(deps, picked.manifest.digest);
    const config = await readBlobJson<ImageConfig>(deps, manifest.config.digest);
    const layers = (manifest.layers ?? []).map((l) => l.digest);
    await unpackLayers(deps, config, layers, progress);
    const id = manifest.config.digest;
    const entry = byId.get(id) ?? { manifest: picked.manifest, ...(picked.index ? { index: picked.index } : {}), names: [] };
    const name = layoutName(desc);
    if (name && !entry.names.includes(name)) entry.names.push(name);
    byId.set(id, entry);
  }
  const out: LoadedImage[] = [];
  for (const [id, e] of byId) {
    const loaded = register(deps, id, e.manifest, e.names, progress);
    if (e.index) deps.images.put({ ...deps.images.get(id)!, index: e.index });
    out.push(loaded);
  }
  return out;
}

export async function loadArchive(deps: ArchiveDeps, source: Readable, progress: ProgressSink): Promise<LoadedImage[]> {
  const sp = await spool(deps, source);
  const manifestJson = sp.small.get('manifest.json');
  if (manifestJson) {
    return loadDockerArchive(deps, sp, parseJson<DockerArchiveEntry[]>(manifestJson, 'manifest.json'), progress);
  }
  const indexJson = sp.small.get('index.json');
  if (indexJson) return loadOciLayout(deps, parseJson<Index>(indexJson, 'index.json'), progress);
  if (sp.files.size === 0 && sp.small.size === 0) throw invalidArgument('unexpected EOF');
  throw invalidArgument('invalid archive: neither manifest.json nor index.json found');
}

