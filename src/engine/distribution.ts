/**
 * The distribution service: pull, push and login against registries, over
 * the stores the image service uses. It names what the user typed the way
 * docker does (a name without a tag pulls or pushes every tag), holds the
 * store's shared lock while blobs are written but not yet referenced, and
 * reports in docker's final words ("Status: Downloaded newer image for …").
 */
import type { ContentStore } from '../core/content.js';
import type { DistributionMetadata, RegistryAuth } from '../core/distribution.js';
import type { ImageMetadata } from '../core/images.js';
import type { ProgressSink } from '../core/progress.js';
import type { Snapshotter } from '../core/snapshots.js';
import { pullImage, translatePullError } from '../distribution/pull.js';
import { pushImage } from '../distribution/push.js';
import { RegistryClient } from '../distribution/remote.js';
import type { HostsConfig } from '../distribution/transport.js';
import type { Digest } from '../lib/digest.js';
import { BerthError, invalidArgument, isKind, notFound } from '../lib/errors.js';
import type { RWLock } from '../lib/lock.js';
import { parsePlatform, type Platform } from '../oci/platform.js';
import {
  familiarName,
  familiarString,
  fullName,
  parseNormalized,
  parseTagArgs,
  withTag,
  type Reference,
} from '../oci/reference.js';
import type { Events } from './events.js';

export interface DistributionDeps {
  content: ContentStore;
  images: ImageMetadata;
  snapshots: Snapshotter;
  meta: DistributionMetadata;
  lock: RWLock;
  events: Events;
  collect: () => Promise<unknown>;
  hosts: HostsConfig;
}

export interface PullRequest {
  /** `fromImage`: a name, possibly with a tag or digest. */
  image: string;
  /** `tag`: a tag or a digest; empty pulls every tag when the image has neither. */
  tag?: string;
  platform?: string;
  auth?: RegistryAuth;
  signal?: AbortSignal;
}

export interface PushRequest {
  name: string;
  /** Empty pushes every local tag of the repository. */
  tag?: string;
  auth?: RegistryAuth;
  signal?: AbortSignal;
}

/** The registry a login names: `localhost:5000`, `https://host/v1/` → `host`; docker's index → docker.io. */
export function registryOf(serverAddress: string): string {
  let s = serverAddress.trim();
  if (s === '' || /^(https?:\/\/)?(index\.)?docker\.io(\/|$)/.test(s) || s === 'registry-1.docker.io') return 'docker.io';
  s = s.replace(/^https?:\/\//, '');
  return s.split('/')[0]!;
}

export class DistributionService {
  constructor(private readonly deps: DistributionDeps) {}

  private client(registry: string, auth?: RegistryAuth, signal?: AbortSignal): RegistryClient {
    return new RegistryClient(registry, { hosts: this.deps.hosts, ...(auth ? { auth } : {}), ...(signal ? { signal } : {}) });
  }

  async pull(req: PullRequest, progress: ProgressSink): Promise<void> {
    const ref = parseTagArgs(req.image, req.tag ?? '');
    let platform: Platform | undefined;
    if (req.platform) {
      try {
        platform = parsePlatform(req.platform);
      } catch (err) {
        throw invalidArgument(`"${req.platform}": ${(err as Error).message.replace(/^.*?: /, '')}`);
      }
    }
    const client = this.client(ref.domain, req.auth, req.signal);
    const all = ref.tag === undefined && ref.digest === undefined;
    const tags = all ? await this.allTags(client, ref) : [ref];
    let updated = false;
    for (const one of tags) updated = (await this.pullOne(client, one, platform, progress)) || updated;
    const shown = all ? familiarName(ref) : familiarString(ref);
    progress({ kind: 'status', text: updated ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}` });
  }

  private async allTags(client: RegistryClient, ref: Reference): Promise<Reference[]> {
    let tags: string[];
    try {
      tags = await client.tags(ref.path);
    } catch (err) {
      throw translatePullError(err, ref);
    }
    return tags.sort().map((t) => withTag(ref, t));
  }

  private async pullOne(client: RegistryClient, ref: Reference, platform: Platform | undefined, progress: ProgressSink): Promise<boolean> {
    try {
      const result = await this.deps.lock.shared(() =>
        pullImage(this.deps, { ref, client, ...(platform ? { platform } : {}) }, progress),
      );
      this.deps.events.publish('image', 'pull', familiarString(ref), { name: familiarName(ref) });
      return result.updated;
    } catch (err) {
      // Blobs of a pull that failed belong to no image; keep them only when the network
      // cut it short, so the next pull continues instead of starting over.
      if (!isKind(err, 'Unavailable')) await this.deps.collect().catch(() => undefined);
      throw err;
    }
  }

  async push(req: PushRequest, progress: ProgressSink): Promise<void> {
    let ref = parseNormalized(req.name);
    if (req.tag) ref = withTag(ref, req.tag);
    const repo = fullName(ref);
    const targets: Array<{ tag: string; id: Digest }> = [];
    if (ref.tag !== undefined) {
      const id = this.deps.images.resolveName(`${repo}:${ref.tag}`);
      if (id) targets.push({ tag: ref.tag, id });
    } else {
      for (const n of this.deps.images.names()) {
        const r = parseNormalized(n.name);
        if (r.tag !== undefined && r.digest === undefined && fullName(r) === repo) targets.push({ tag: r.tag, id: n.id });
      }
    }
    progress({ kind: 'status', text: `The push refers to repository [${repo}]` });
    if (targets.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    const client = this.client(ref.domain, req.auth, req.signal);
    for (const t of targets) {
      const image = this.deps.images.get(t.id);
      if (!image) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
      const result = await this.deps.lock.shared(() =>
        pushImage(this.deps, { client, registry: ref.domain, repository: ref.path, tag: t.tag, image }, progress),
      ).catch((err: unknown) => {
        throw translatePushError(err);
      });
      this.deps.images.setName(`${repo}@${result.digest}`, t.id);
      this.deps.events.publish('image', 'push', familiarString({ ...ref, tag: t.tag }), { name: familiarName(ref) });
    }
  }

  /** Checks credentials against a registry (docker login). */
  async login(serverAddress: string, auth: RegistryAuth): Promise<{ identityToken: string }> {
    const client = this.client(registryOf(serverAddress), auth);
    const r = await client.login();
    return { identityToken: r.identityToken ?? '' };
  }
}

/** A push refused for lack of rights reads as docker prints it. */
function translatePushError(err: unknown): unknown {
  if (err instanceof BerthError && (err as { codes?: string[] }).codes?.includes('DENIED')) {
    return new BerthError('Forbidden', err.message);
  }
  return err;
}
