/**
 * `docker commit`: the container's writable layer becomes a new layer on top
 * of its image's chain, and a new image config is written from the
 * container's config with the requested changes.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata } from '../core/images.js';
import type { Snapshotter } from '../core/snapshots.js';
import { applyChanges } from '../build/changes.js';
import { ingestLayer } from '../distribution/layers.js';
import type { Digest } from '../lib/digest.js';
import { notFound } from '../lib/errors.js';
import type { RWLock } from '../lib/lock.js';
import type { ContainerDefaults, ImageConfig } from '../oci/image.js';
import { familiarString, fullString, parseRepoTag } from '../oci/reference.js';
import { diffTar } from '../store/layer/diff.js';
import type { ContainerService } from './containers.js';
import type { Events } from './events.js';
import type { ImageService } from './images.js';
import { INIT_PATHS } from './files.js';
import { writeImage } from './imagewrite.js';

export interface CommitDeps {
  containers: ContainerService;
  images: ImageService;
  imageStore: ImageMetadata;
  content: ContentStore;
  snapshots: Snapshotter;
  lock: RWLock;
  events: Events;
}

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
  config?: ContainerDefaults;
}

const CONFIG_KEYS = ['User', 'ExposedPorts', 'Env', 'Cmd', 'Entrypoint', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell', 'ArgsEscaped'] as const;

export class CommitService {
  constructor(private readonly deps: CommitDeps) {}

  async commit(ref: string, opts: CommitOptions): Promise<Digest> {
    const { containers, images, snapshots } = this.deps;
    const c = containers.get(ref);
    const target = opts.repo ? parseRepoTag(opts.repo, opts.tag ?? '') : undefined;
    // The changes apply to the request's config; the container's config fills what is left unset.
    const requested = applyChanges(pick(opts.config ?? {}), opts.changes ?? []);
    const containerConfig = pick(c.config as unknown as ContainerDefaults);
    const newConfig = merge(requested, containerConfig);

    const rw = snapshots.getRw(c.id);
    if (!rw) throw notFound(`No such container: ${ref}`);
    const parentConfig = await images.config(c.image);
    const parentChain = rw.parent;

    const pause = opts.pause !== false && c.state.Status === 'running';
    if (pause) await containers.pause(c.id);
    let id: Digest;
    try {
      id = await this.deps.lock.shared(async () => {
        const tarStream = withoutInitPaths(diffTar(rw.upper));
        const { blob, layer } = await ingestLayer(this.deps, tarStream, { parent: parentChain });
        const created = new Date().toISOString();
        const history = [...(parentConfig.history ?? [])];
        history.push({
          created,
          created_by: (c.config.Cmd ?? []).join(' '),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.comment ? { comment: opts.comment } : {}),
        });
        const config: ImageConfig = {
          architecture: parentConfig.architecture,
          os: parentConfig.os,
          ...(parentConfig.variant ? { variant: parentConfig.variant } : {}),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.comment ? { comment: opts.comment } : {}),
          config: newConfig,
          container: c.id,
          created,
          history,
          parent: c.image,
          rootfs: { type: 'layers', diff_ids: [...(parentConfig.rootfs?.diff_ids ?? []), layer.diffId] },
        };
        return writeImage(this.deps, { parent: c.image, config, layer: { digest: blob.digest, size: blob.size }, names: target ? [fullString(target)] : [] });
      });
    } finally {
      if (pause) await containers.unpause(c.id).catch(() => undefined);
    }
    this.deps.events.publish('container', 'commit', c.id, {
      comment: opts.comment ?? '',
      imageID: id,
      imageRef: target ? familiarString(target) : '',
      image: c.config.Image,
      name: c.name,
    });
    return id;
  }
}

function pick(cfg: ContainerDefaults): ContainerDefaults {
  const out: ContainerDefaults = {};
  for (const k of CONFIG_KEYS) {
    const v = cfg[k];
    if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** docker's merge of a commit's config with the container's: the request wins, the container fills gaps. */
function merge(user: ContainerDefaults, base: ContainerDefaults): ContainerDefaults {
  const out: ContainerDefaults = { ...user };
  if (!out.User) out.User = base.User ?? '';
  if (!out.Env || out.Env.length === 0) out.Env = base.Env ?? [];
  else {
    const keys = new Set(out.Env.map((e) => e.split('=')[0]));
    out.Env = [...out.Env, ...(base.Env ?? []).filter((e) => !keys.has(e.split('=')[0]))];
  }
  if (base.Labels || out.Labels) out.Labels = { ...(base.Labels ?? {}), ...(out.Labels ?? {}) };
  if (base.ExposedPorts || out.ExposedPorts) out.ExposedPorts = { ...(base.ExposedPorts ?? {}), ...(out.ExposedPorts ?? {}) };
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = base.Cmd ?? null;
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = base.Entrypoint ?? null;
  }
  if (!out.WorkingDir) out.WorkingDir = base.WorkingDir ?? '';
  if (base.Volumes || out.Volumes) out.Volumes = { ...(base.Volumes ?? {}), ...(out.Volumes ?? {}) };
  if (!out.StopSignal && base.StopSignal) out.StopSignal = base.StopSignal;
  if (!out.Healthcheck && base.Healthcheck) out.Healthcheck = base.Healthcheck;
  if (!out.OnBuild && base.OnBuild) out.OnBuild = base.OnBuild;
  return out;
}

/**
 * Drops the runtime's mount points (docker keeps them in the init layer) from
 * a layer tar: a raw pass over the 512-byte blocks, so the entries kept are
 * byte for byte what diffTar wrote.
 */
function withoutInitPaths(src: Readable): Readable {
  let buf = Buffer.alloc(0);
  let pending: Buffer[] = []; // PAX/GNU long-name blocks waiting for their entry
  let skip = 0; // data bytes (padded) of a dropped entry still to discard
  let pass = 0; // data bytes (padded) of a kept entry still to copy
  let ended = false;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      buf = Buffer.concat([buf, chunk]);
      const out: Buffer[] = [];
      for (;;) {
        if (pass > 0) {
          const n = Math.min(pass, buf.length);
          out.push(buf.subarray(0, n));
          buf = buf.subarray(n);
          pass -= n;
          if (pass > 0) break;
          continue;
        }
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.subarray(n);
          skip -= n;
          if (skip > 0) break;
          continue;
        }
        if (ended) {
          out.push(buf);
          buf = Buffer.alloc(0);
          break;
        }
        if (buf.length < 512) break;
        const block = buf.subarray(0, 512);
        if (block.every((b) => b === 0)) {
          ended = true;
          out.push(...pending);
          pending = [];
          continue;
        }
        const size = parseOctal(block.subarray(124, 136));
        const padded = Math.ceil(size / 512) * 512;
        const type = String.fromCharCode(block[156]!);
        if (type === 'x' || type === 'L' || type === 'K') {
          if (buf.length < 512 + padded) break;
          pending.push(Buffer.from(buf.subarray(0, 512 + padded)));
          buf = buf.subarray(512 + padded);
          continue;
        }
        const name = cstr(block.subarray(0, 100));
        const prefix = cstr(block.subarray(345, 500));
        const full = `/${prefix ? `${prefix}/` : ''}${name}`.replace(/\/+$/, '');
        const drop = INIT_PATHS.has(full) && type !== '5';
        buf = buf.subarray(512);
        if (drop) {
          pending = [];
          skip = padded;
        } else {
          out.push(...pending, Buffer.from(block));
          pending = [];
          pass = padded;
        }
      }
      cb(null, Buffer.concat(out));
    },
    flush(cb) {
      cb(null, buf);
    },
  });
  src.on('error', (err) => t.destroy(err));
  src.pipe(t);
  return t;
}

function parseOctal(b: Buffer): number {
  const s = cstr(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function cstr(b: Buffer): string {
  const i = b.indexOf(0);
  return b.subarray(0, i < 0 ? b.length : i).toString('utf8');
}
