/**
 * The registry's storage under its root directory:
 *
 *     blobs/sha256/<hex>, ingest/             the content store (store/content.ts): each blob and manifest once
 *     uploads/<id>/{meta.json,data}           upload sessions (uploads.ts)
 *     repositories/<name>/
 *       _layers/sha256/<hex>                  blobs this repository serves (empty files)
 *       _manifests/revisions/sha256/<hex>     manifests it holds: {"mediaType","subject"?}
 *       _manifests/tags/<tag>                 the digest the tag points at
 *       _referrers/sha256/<subject hex>/<hex> descriptors of manifests whose subject is that digest
 *
 * A blob or manifest is served from a repository only through its links, so
 * access is per repository even though content is stored once. Repository
 * path components never start with `_`, so link folders cannot clash with a
 * nested repository. Links are written after the content they name and
 * removed before it; the garbage collector (gc.ts) removes content no link
 * reaches.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { BlobInfo } from '../core/content.js';
import { hexOf, isDigest, type Digest } from '../lib/digest.js';
import { errnoCode } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/fsutil.js';
import type { Descriptor } from '../oci/image.js';
import { FileContentStore } from '../store/content.js';
import { Uploads } from './uploads.js';

export interface Revision {
  mediaType: string;
  /** The manifest's `subject`, kept so that deleting it also drops its referrer entry. */
  subject?: Digest;
}

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

const missing = (err: unknown) => errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (missing(err)) return [];
    throw err;
  }
}

async function removed(path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (err) {
    if (missing(err)) return false;
    throw err;
  }
}

async function link(path: string, data = ''): Promise<void> {
  await fs.mkdir(join(path, '..'), { recursive: true });
  await writeFileAtomic(path, data, 0o644);
}

function digestsIn(list: string[]): Digest[] {
  return list.map((n) => `sha256:${n}`).filter(isDigest);
}

export class RegistryStore {
  readonly content: FileContentStore;
  readonly uploads: Uploads;
  private readonly repos: string;

  constructor(readonly root: string) {
    this.content = new FileContentStore(root);
    this.uploads = new Uploads(join(root, 'uploads'), this.content);
    this.repos = join(root, 'repositories');
  }

  async init(): Promise<void> {
    await this.content.init();
    await this.uploads.init();
    await fs.mkdir(this.repos, { recursive: true });
  }

  private dir(name: string): string {
    return join(this.repos, ...name.split('/'));
  }

  private layerPath(name: string, d: Digest): string {
    return join(this.dir(name), '_layers', 'sha256', hexOf(d));
  }

  private revisionPath(name: string, d: Digest): string {
    return join(this.dir(name), '_manifests', 'revisions', 'sha256', hexOf(d));
  }

  private tagPath(name: string, tag: string): string {
    return join(this.dir(name), '_manifests', 'tags', tag);
  }

  private referrerDir(name: string, subject: Digest): string {
    return join(this.dir(name), '_referrers', 'sha256', hexOf(subject));
  }

  /** A blob the repository may serve, when its content is present. */
  async blob(name: string, d: Digest): Promise<BlobInfo | undefined> {
    if ((await readText(this.layerPath(name, d))) === undefined) return undefined;
    return this.content.info(d);
  }

  async linkBlob(name: string, d: Digest): Promise<void> {
    await link(this.layerPath(name, d));
  }

  async unlinkBlob(name: string, d: Digest): Promise<boolean> {
    return removed(this.layerPath(name, d));
  }

  /** Blobs linked to the repository. */
  async blobs(name: string): Promise<Digest[]> {
    return digestsIn(await names(join(this.dir(name), '_layers', 'sha256')));
  }

  async revision(name: string, d: Digest): Promise<Revision | undefined> {
    const text = await readText(this.revisionPath(name, d));
    return text === undefined ? undefined : (JSON.parse(text) as Revision);
  }

  async manifest(name: string, d: Digest): Promise<StoredManifest | undefined> {
    const rev = await this.revision(name, d);
    if (!rev) return undefined;
    try {
      return { digest: d, mediaType: rev.mediaType, bytes: await this.content.read(d) };
    } catch {
      return undefined;
    }
  }

  /** Manifests the repository holds, tagged or not. */
  async revisions(name: string): Promise<Digest[]> {
    return digestsIn(await names(join(this.dir(name), '_manifests', 'revisions', 'sha256')));
  }

  /**
   * Stores a manifest already validated: content, revision, then the
   * referrer entry for its subject and the tag.
   */
  async putManifest(name: string, m: { bytes: Buffer; mediaType: string; subject?: Descriptor; referrer: Descriptor }, tag?: string): Promise<Digest> {
    const { digest } = await this.content.put(m.bytes);
    const rev: Revision = { mediaType: m.mediaType };
    if (m.subject) rev.subject = m.subject.digest;
    await link(this.revisionPath(name, digest), JSON.stringify(rev));
    if (m.subject) await link(join(this.referrerDir(name, m.subject.digest), hexOf(digest)), JSON.stringify(m.referrer));
    if (tag !== undefined) await link(this.tagPath(name, tag), digest);
    return digest;
  }

  /** Drops a manifest from the repository, with the tags that point at it and its referrer entry. */
  async deleteManifest(name: string, d: Digest): Promise<boolean> {
    const rev = await this.revision(name, d);
    if (!rev) return false;
    for (const tag of await this.tags(name)) {
      if ((await this.resolve(name, tag)) === d) await removed(this.tagPath(name, tag));
    }
    if (rev.subject) await removed(join(this.referrerDir(name, rev.subject), hexOf(d)));
    return removed(this.revisionPath(name, d));
  }

  async resolve(name: string, tag: string): Promise<Digest | undefined> {
    const text = (await readText(this.tagPath(name, tag)))?.trim();
    return text !== undefined && isDigest(text) ? text : undefined;
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    return removed(this.tagPath(name, tag));
  }

  /** Tags in lexical order. */
  async tags(name: string): Promise<string[]> {
    return (await names(join(this.dir(name), '_manifests', 'tags'))).filter((t) => !t.startsWith('.tmp-')).sort();
  }

  async exists(name: string): Promise<boolean> {
    const found = await Promise.all(['_layers', '_manifests'].map((d) => fs.stat(join(this.dir(name), d)).then(() => true, () => false)));
    return found.some(Boolean);
  }

  /** Descriptors of the manifests whose subject is `subject`, in digest order. */
  async referrers(name: string, subject: Digest): Promise<Descriptor[]> {
    const dir = this.referrerDir(name, subject);
    const out: Descriptor[] = [];
    for (const hex of (await names(dir)).sort()) {
      const text = await readText(join(dir, hex));
      if (text !== undefined && !hex.startsWith('.tmp-')) out.push(JSON.parse(text) as Descriptor);
    }
    return out;
  }

  /** Every repository, in lexical order. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (missing(err)) return;
        throw err;
      }
      if (entries.some((e) => e.isDirectory() && (e.name === '_layers' || e.name === '_manifests'))) out.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(this.repos, '');
    return out.filter((n) => n !== '').sort();
  }

  /** Removes the repository's folder when it links nothing any more, and parents left empty. */
  async removeIfEmpty(name: string): Promise<boolean> {
    if ((await this.blobs(name)).length > 0 || (await this.revisions(name)).length > 0 || (await this.tags(name)).length > 0) return false;
    for (const sub of ['_layers', '_manifests', '_referrers']) await fs.rm(join(this.dir(name), sub), { recursive: true, force: true });
    const parts = name.split('/');
    while (parts.length > 0) {
      try {
        await fs.rmdir(join(this.repos, ...parts));
      } catch {
        break;
      }
      parts.pop();
    }
    return true;
  }
}
