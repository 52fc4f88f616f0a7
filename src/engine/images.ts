/**
 * The image service: names, lookups, listing, inspection, history, tagging,
 * removal, pruning, import, save and load, over the content store, the image
 * metadata and the snapshotter. Results are neutral domain views; the API
 * edge shapes them into Docker's wire types.
 */
import type { Readable } from 'node:stream';
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata, ImageRecord } from '../core/images.js';
import type { ProgressSink } from '../core/progress.js';
import type { Snapshotter } from '../core/snapshots.js';
import { applyChanges } from '../build/changes.js';
import { loadArchive, type LoadedImage } from '../distribution/archive-load.js';
import { saveArchive } from '../distribution/archive-save.js';
import { ingestLayer } from '../distribution/layers.js';
import { shortId, type Digest } from '../lib/digest.js';
import { conflict, invalidArgument, notFound } from '../lib/errors.js';
import type { RWLock } from '../lib/lock.js';
import { chainIds } from '../oci/chain.js';
import type { ContainerDefaults, ImageConfig, Manifest } from '../oci/image.js';
import { OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST } from '../oci/mediatypes.js';
import { hostPlatform, parsePlatform } from '../oci/platform.js';
import {
  familiarString,
  fullName,
  fullString,
  lookupOrder,
  matchesReference,
  parseNormalized,
  parseRepoTag,
  withDefaultTag,
  type Reference,
} from '../oci/reference.js';
import type { Events } from './events.js';
import { matchesLabels, parseTimestamp } from './filters.js';

export interface ImageDeps {
  content: ContentStore;
  images: ImageMetadata;
  snapshots: Snapshotter;
  /** Held shared by writers, exclusive by garbage collection. */
  lock: RWLock;
  events: Events;
  /** Runs garbage collection; returns the chain IDs of layers it removed. */
  collect: () => Promise<{ layers: Digest[]; bytes: number }>;
}

/** Who uses an image; containers answer this once they exist. */
export interface ImageUsers {
  usersOf(id: Digest): Array<{ id: string; running: boolean }>;
}

export interface ImageView {
  record: ImageRecord;
  config: ImageConfig;
  /** Full references pointing at the image: tags and digests. */
  names: Reference[];
  /** Sum of the image's layer sizes. */
  size: number;
  /** Per-layer sizes, bottom first. */
  layerSizes: number[];
  layerDirs: string[];
}

export interface HistoryItem {
  id: string;
  created: number;
  createdBy: string;
  tags: string[];
  size: number;
  comment: string;
}

export interface DeleteResult {
  untagged?: string;
  deleted?: string;
}

export interface ListOptions {
  all?: boolean;
  filters?: Map<string, string[]>;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
  platform?: string;
  source?: string;
}

const IMAGE_FILTERS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

export class ImageService {
  private readonly configCache = new Map<Digest, ImageConfig>();
  private users: ImageUsers = { usersOf: () => [] };

  constructor(private readonly deps: ImageDeps) {}

  setUsers(users: ImageUsers): void {
    this.users = users;
  }

  async config(id: Digest): Promise<ImageConfig> {
    let cfg = this.configCache.get(id);
    if (!cfg) {
      cfg = JSON.parse((await this.deps.content.read(id)).toString('utf8')) as ImageConfig;
      this.configCache.set(id, cfg);
    }
    return cfg;
  }

  /** Finds an image by name, full ID or unique ID prefix, in docker's order. */
  resolve(input: string): ImageRecord {
    const order = lookupOrder(input);
    if (order.length === 0) parseNormalized(input); // throws docker's invalid reference error
    for (const how of order) {
      if (how === 'name') {
        const ref = parseNormalized(input);
        const name = fullString(ref.digest ? ref : withDefaultTag(ref));
        const id = this.deps.images.resolveName(name);
        if (id) return this.deps.images.get(id)!;
      } else {
        const hex = input.startsWith('sha256:') ? input.slice(7) : input;
        const found = this.deps.images.byPrefix(hex);
        if (found.length === 1) return found[0]!;
        if (found.length > 1 && hex.length < 64) continue;
      }
    }
    throw notFound(`No such image: ${this.displayName(input)}`);
  }

  /** What docker prints for a missing image: the familiar name with its tag, or the input as given. */
  private displayName(input: string): string {
    try {
      const ref = parseNormalized(input);
      return familiarString(ref.digest ? ref : withDefaultTag(ref));
    } catch {
      return input;
    }
  }

  async view(record: ImageRecord): Promise<ImageView> {
    const config = await this.config(record.id);
    const chains = chainIds(config.rootfs?.diff_ids ?? []);
    const layerSizes: number[] = [];
    const layerDirs: string[] = [];
    for (const c of chains) {
      const layer = this.deps.snapshots.get(c);
      layerSizes.push(layer?.size ?? 0);
      if (layer) layerDirs.push(layer.dir);
    }
    return {
      record,
      config,
      names: this.deps.images.namesOf(record.id).map(parseNormalized),
      size: layerSizes.reduce((a, b) => a + b, 0),
      layerSizes,
      layerDirs,
    };
  }

  async inspect(input: string): Promise<ImageView> {
    return this.view(this.resolve(input));
  }

  async list(opts: ListOptions = {}): Promise<ImageView[]> {
    const filters = opts.filters ?? new Map<string, string[]>();
    for (const key of filters.keys()) {
      if (!IMAGE_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    }
    const dangling = filters.get('dangling');
    let danglingOnly: boolean | undefined;
    if (dangling?.length) {
      const v = dangling[0]!.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(v)) throw invalidArgument(`invalid filter 'dangling=${dangling[0]}'`);
      danglingOnly = v === 'true' || v === '1';
    }
    const before = filters.get('before')?.map((b) => this.resolve(b).added);
    const since = filters.get('since')?.map((s) => this.resolve(s).added);
    const until = filters.get('until')?.map(parseTimestamp);
    const records = this.deps.images.list();
    const parents = new Set(records.map((r) => r.parent).filter((p): p is Digest => !!p));
    const views: ImageView[] = [];
    for (const record of records) {
      const view = await this.view(record);
      const tagged = view.names.length > 0;
      if (danglingOnly === true && tagged) continue;
      if (danglingOnly === false && !tagged) continue;
      if (!tagged && !opts.all && parents.has(record.id)) continue;
      if (before && !before.every((t) => record.added < t)) continue;
      if (since && !since.every((t) => record.added > t)) continue;
      const created = createdMs(view.config, record);
      if (until && !until.every((t) => created < t)) continue;
      if (!matchesLabels(view.config.config?.Labels ?? {}, filters.get('label') ?? [])) continue;
      const refs = filters.get('reference');
      if (refs?.length) {
        view.names = view.names.filter((n) => refs.some((p) => matchesReference(p, n)));
        if (view.names.length === 0) continue;
      }
      views.push(view);
    }
    return views.sort((a, b) => createdMs(b.config, b.record) - createdMs(a.config, a.record));
  }

  async history(input: string): Promise<HistoryItem[]> {
    const view = await this.inspect(input);
    const items: HistoryItem[] = [];
    let layer = 0;
    const history = view.config.history ?? [];
    const tags = view.names.filter((n) => n.tag).map((n) => familiarString(n));
    history.forEach((h, i) => {
      const size = h.empty_layer ? 0 : (view.layerSizes[layer++] ?? 0);
      items.push({
        id: i === history.length - 1 ? view.record.id : '<missing>',
        created: Math.floor(Date.parse(h.created ?? '') / 1000) || 0,
        createdBy: h.created_by ?? '',
        tags: i === history.length - 1 ? tags : [],
        size,
        comment: h.comment ?? '',
      });
    });
    if (items.length === 0) {
      items.push({ id: view.record.id, created: Math.floor(createdMs(view.config, view.record) / 1000), createdBy: '', tags, size: view.size, comment: '' });
    }
    return items.reverse();
  }

  tag(source: string, repo: string, tag: string): string {
    const record = this.resolve(source);
    const ref = parseRepoTag(repo, tag);
    if (!ref) throw invalidArgument('repository name must have at least one component');
    const name = fullString(ref);
    this.deps.images.setName(name, record.id);
    this.deps.events.publish('image', 'tag', record.id, { name: familiarString(ref) });
    return name;
  }

  /** Removes a name, or an image and its untagged parents, with docker's conflict rules. */
  async remove(input: string, force = false, prune = true): Promise<DeleteResult[]> {
    const record = this.resolve(input);
    const results: DeleteResult[] = [];
    const names = this.deps.images.namesOf(record.id);
    const byName = lookupOrder(input)[0] === 'name' && this.nameOf(input) !== undefined && names.includes(this.nameOf(input)!);
    const short = shortId(record.id);

    if (byName) {
      const name = this.nameOf(input)!;
      const ref = parseNormalized(name);
      const users = this.users.usersOf(record.id);
      const remaining = names.filter((n) => n !== name);
      if (remaining.length === 0 && users.length > 0 && !force) {
        const u = users[0]!;
        throw conflict(`conflict: unable to remove repository reference "${input}" (must force) - container ${shortId(u.id)} is using its referenced image ${short}`);
      }
      this.untag(name, record.id, results);
      // A repository whose last tag went keeps no digest references of its own.
      if (ref.tag && !remaining.some((n) => { const r = parseNormalized(n); return r.tag && fullName(r) === fullName(ref); })) {
        for (const n of remaining) {
          const r = parseNormalized(n);
          if (r.digest && fullName(r) === fullName(ref)) this.untag(n, record.id, results);
        }
      }
      if (this.deps.images.namesOf(record.id).length > 0) return results;
      if (users.length > 0) return results;
    } else {
      const repos = new Set(names.map((n) => fullName(parseNormalized(n))));
      if (repos.size > 1 && !force) {
        throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
      const users = this.users.usersOf(record.id);
      const running = users.find((u) => u.running);
      if (running) {
        throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${shortId(running.id)}`);
      }
      if (users.length > 0 && !force) {
        throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${shortId(users[0]!.id)}`);
      }
      for (const n of names) this.untag(n, record.id, results);
    }
    if (this.deps.images.list().some((r) => r.parent === record.id)) {
      if (byName) return results;
      throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image has dependent child images`);
    }
    await this.deleteRecord(record, results, prune);
    return results;
  }

  private nameOf(input: string): string | undefined {
    try {
      const ref = parseNormalized(input);
      return fullString(ref.digest ? ref : withDefaultTag(ref));
    } catch {
      return undefined;
    }
  }

  private untag(name: string, id: Digest, results: DeleteResult[]): void {
    this.deps.images.removeName(name);
    const display = familiarString(parseNormalized(name));
    results.push({ untagged: display });
    this.deps.events.publish('image', 'untag', id, { name: display });
  }

  private async deleteRecord(record: ImageRecord, results: DeleteResult[], prune: boolean): Promise<void> {
    this.deps.images.delete(record.id);
    this.configCache.delete(record.id);
    results.push({ deleted: record.id });
    this.deps.events.publish('image', 'delete', record.id, { name: record.id });
    let parent = record.parent;
    while (prune && parent) {
      const p = this.deps.images.get(parent);
      if (!p || this.deps.images.namesOf(p.id).length > 0) break;
      if (this.deps.images.list().some((r) => r.parent === p.id)) break;
      if (this.users.usersOf(p.id).length > 0) break;
      this.deps.images.delete(p.id);
      this.configCache.delete(p.id);
      results.push({ deleted: p.id });
      this.deps.events.publish('image', 'delete', p.id, { name: p.id });
      parent = p.parent;
    }
    const collected = await this.deps.collect();
    for (const l of collected.layers) results.push({ deleted: l });
  }

  /** Removes dangling images (all unused ones with dangling=false); reports what went and the bytes freed. */
  async prune(filters: Map<string, string[]>): Promise<{ deleted: DeleteResult[]; reclaimed: number }> {
    for (const key of filters.keys()) {
      if (!['dangling', 'label', 'label!', 'until'].includes(key)) throw invalidArgument(`invalid filter '${key}'`);
    }
    const danglingOnly = !['false', '0'].includes((filters.get('dangling')?.[0] ?? 'true').toLowerCase());
    const until = filters.get('until')?.map(parseTimestamp);
    const deleted: DeleteResult[] = [];
    let reclaimed = 0;
    const records = this.deps.images.list();
    for (const record of records) {
      if (!this.deps.images.get(record.id)) continue;
      const names = this.deps.images.namesOf(record.id);
      if (danglingOnly && names.length > 0) continue;
      if (this.users.usersOf(record.id).length > 0) continue;
      if (this.deps.images.list().some((r) => r.parent === record.id)) continue;
      const view = await this.view(record);
      if (until && !until.every((t) => createdMs(view.config, record) < t)) continue;
      const labels = view.config.config?.Labels ?? {};
      if (!matchesLabels(labels, filters.get('label') ?? [])) continue;
      if ((filters.get('label!') ?? []).some((l) => matchesLabels(labels, [l]))) continue;
      for (const n of names) this.untag(n, record.id, deleted);
      this.deps.images.delete(record.id);
      this.configCache.delete(record.id);
      deleted.push({ deleted: record.id });
      this.deps.events.publish('image', 'delete', record.id, { name: record.id });
    }
    if (deleted.length > 0) {
      const collected = await this.deps.collect();
      for (const l of collected.layers) deleted.push({ deleted: l });
      reclaimed = collected.bytes;
    }
    this.deps.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /** Creates a one-layer image from a root file system tar (`docker import`). */
  async importImage(source: Readable, opts: ImportOptions, progress: ProgressSink): Promise<Digest> {
    const ref = opts.repo ? parseRepoTag(opts.repo, opts.tag ?? '') : undefined;
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const defaults: ContainerDefaults = applyChanges({}, opts.changes ?? []);
    const id = await this.deps.lock.shared(async () => {
      const { blob, layer, compression } = await ingestLayer(this.deps, source, { parent: null });
      const created = new Date().toISOString();
      const comment = opts.message || `Imported from ${opts.source ?? '-'}`;
      const config: ImageConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        created,
        config: defaults,
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created, comment }],
        comment,
      };
      const cfg = await this.deps.content.put(JSON.stringify(config));
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: cfg.digest, size: cfg.size },
        layers: [{ mediaType: compression === 'gzip' ? OCI_LAYER_GZIP : OCI_LAYER, digest: blob.digest, size: blob.size }],
      };
      const m = await this.deps.content.put(JSON.stringify(manifest));
      const existing = this.deps.images.get(cfg.digest);
      this.deps.images.put(
        { ...(existing ?? { added: Date.now() }), id: cfg.digest, manifest: { mediaType: OCI_MANIFEST, digest: m.digest, size: m.size } },
        ref ? [fullString(ref)] : [],
      );
      return cfg.digest;
    });
    this.deps.events.publish('image', 'import', id, { name: id });
    progress({ kind: 'status', text: id });
    return id;
  }

  async load(source: Readable, progress: ProgressSink): Promise<LoadedImage[]> {
    try {
      const loaded = await this.deps.lock.shared(() => loadArchive(this.deps, source, progress));
      for (const l of loaded) this.deps.events.publish('image', 'load', l.id, { name: l.id });
      return loaded;
    } catch (err) {
      // Blobs spooled before the failure belong to no image.
      await this.deps.collect().catch(() => undefined);
      throw err;
    }
  }

  /** Streams a save archive for names or IDs; a name saves only that name, an ID saves the image untagged. */
  save(inputs: string[]): Readable {
    const items = new Map<Digest, { image: ImageRecord; names: string[] }>();
    for (const input of inputs) {
      const record = this.resolve(input);
      const item = items.get(record.id) ?? { image: record, names: [] };
      const name = this.nameOf(input);
      if (lookupOrder(input)[0] === 'name' && name && this.deps.images.resolveName(name) === record.id) {
        const ref = parseNormalized(name);
        if (ref.tag && !item.names.includes(name)) item.names.push(name);
        if (!ref.tag) {
          for (const n of this.deps.images.namesOf(record.id)) {
            const r = parseNormalized(n);
            if (r.tag && fullName(r) === fullName(ref) && !item.names.includes(n)) item.names.push(n);
          }
        }
      }
      items.set(record.id, item);
    }
    for (const { image } of items.values()) this.deps.events.publish('image', 'save', image.id, { name: image.id });
    return saveArchive(this.deps, [...items.values()]);
  }

  count(): number {
    return this.deps.images.list().length;
  }

  /** Total size of distinct layers, for `system df`. */
  layersSize(): number {
    return this.deps.snapshots.list().reduce((a, l) => a + l.size, 0);
  }

  usersCount(id: Digest): number {
    return this.users.usersOf(id).length;
  }
}

export function createdMs(config: ImageConfig, record: ImageRecord): number {
  const t = Date.parse(config.created ?? '');
  return Number.isNaN(t) ? record.added : t;
}


