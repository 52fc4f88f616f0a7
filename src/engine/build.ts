/**
 * The classic builder behind `POST /build`: a Dockerfile's stages run step
 * by step; every step ends in an image (untagged, its parent the step
 * before), which is what the cache hands back when the same step meets the
 * same parent and inputs again. RUN steps run as containers through the
 * container service (runc under conmon, on overlay) and their writable layer
 * is committed; COPY and ADD write into a writable layer mounted on the
 * parent's chain, without a container. Only the target stage and the stages
 * it needs are built, the independent ones at the same time.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ContentStore } from '../core/content.js';
import type { RegistryAuth } from '../core/distribution.js';
import type { ProgressEvent, ProgressSink } from '../core/progress.js';
import type { ImageMetadata } from '../core/images.js';
import type { Snapshotter } from '../core/snapshots.js';
import { ignored, parseDockerignore } from '../build/dockerignore.js';
import { parseDockerfile, type Build, type CommandLine, type Instruction, type Stage } from '../build/instructions.js';
import { parseMount, type Mount } from '../build/mounts.js';
import { chompHeredoc, type Heredoc } from '../build/parser.js';
import { envLookup, expandWords, processWord } from '../build/shell.js';
import { ingestLayer, unpackStoredLayer } from '../distribution/layers.js';
import type { Digest } from '../lib/digest.js';
import { BerthError, invalidArgument, notFound } from '../lib/errors.js';
import { resolveInRoot } from '../lib/fsutil.js';
import { goQuote, sprintf } from '../lib/gofmt.js';
import { goDurationString } from '../lib/units.js';
import type { RWLock } from '../lib/lock.js';
import { chainId } from '../oci/chain.js';
import { mergeEnv, type ContainerDefaults, type ImageConfig, type Manifest } from '../oci/image.js';
import { formatPlatform, matchPlatform, parsePlatform, type Platform } from '../oci/platform.js';
import { fullString, parseRepoTag } from '../oci/reference.js';
import { resolveUser } from '../runtime/user.js';
import { applyLayer } from '../store/layer/apply.js';
import { diffTar } from '../store/layer/diff.js';
import type { DB } from '../store/db.js';
import type { ContainerService } from './containers.js';
import type { Events } from './events.js';
import { glob, HostTree, TarTree, type SourceEntry, type SourceTree } from './buildsource.js';
import { loadSources, matchSource, type CacheSource } from './cachefrom.js';
import type { ImageService } from './images.js';
import { writeImage } from './imagewrite.js';

export interface BuildDeps {
  containers: ContainerService;
  images: ImageService;
  imageStore: ImageMetadata;
  content: ContentStore;
  snapshots: Snapshotter;
  lock: RWLock;
  events: Events;
  db: DB;
  /** Scratch space for contexts (`<data-root>/tmp`). */
  tmp: string;
  /** Where RUN --mount=type=cache directories live (`<data-root>/buildcache`). */
  cacheMounts: string;
  /** Fetches a base image from its registry with the build's credentials (registry → auth); absent when this daemon cannot pull. */
  pull?: (req: { ref: string; platform?: Platform; auths: Record<string, RegistryAuth> }, progress: ProgressSink) => Promise<void>;
}

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  noCache: boolean;
  /** Remove the RUN containers after a successful step (docker's default). */
  remove: boolean;
  /** Remove them after a failed step too. */
  forceRemove: boolean;
  target?: string;
  labels: Record<string, string>;
  networkMode?: string;
  quiet: boolean;
  /** Pull every base image first, even those present. */
  pull: boolean;
  /** Images whose history serves as cache (`--cache-from`). */
  cacheFrom: string[];
  /** The platform to build for (`--platform`); FROM --platform overrides it per stage. */
  platform?: string;
  /** Credentials for pulling base images, by registry (docker's X-Registry-Config). */
  auths?: Record<string, RegistryAuth>;
}

/** One message of docker's legacy build stream. */
export interface BuildMessage {
  stream?: string;
  /** Pull progress of a base image, as the pull stream has it. */
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { ID: string };
  error?: string;
  errorDetail?: { code?: number; message: string };
}

/** A build step failed: the message and the code docker reports. */
export class BuildError extends BerthError {
  constructor(message: string, readonly code?: number) {
    super('InvalidArgument', message);
  }
}

/** Build args docker accepts without an ARG line (proxies), never recorded in history. */
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const DEFAULT_SHELL = ['/bin/sh', '-c'];

interface StepState {
  /** The image the next step builds on; null for scratch before any layer. */
  image: Digest | null;
  config: ImageConfig;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string>;
}

interface StageResult {
  image: Digest | null;
  config: ImageConfig;
}

/** A COPY/ADD source: the path it was named by, the tree it is in and its path there, a digest of its content. */
interface SourceFile {
  rel: string;
  tree: SourceTree;
  /** The canonical path in the tree. */
  path: string;
  digest: string;
  /** Fetched from a URL (ADD): never unpacked. */
  remote?: boolean;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class BuildService {
  constructor(private readonly deps: BuildDeps) {}

  /** What a crash left in the scratch space: contexts and scratch copies of old builds. */
  async init(): Promise<void> {
    await fs.mkdir(this.deps.tmp, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(this.deps.tmp)) {
      if (/^(build|mount|download|heredoc)-/.test(name)) await fs.rm(join(this.deps.tmp, name), { recursive: true, force: true });
    }
  }

  async build(context: Readable, opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<Digest> {
    const spool = join(this.deps.tmp, `build-${randomBytes(8).toString('hex')}`);
    let tree: TarTree | undefined;
    try {
      tree = await TarTree.load(context, spool, this.deps.tmp);
      const dockerfile = opts.dockerfile || 'Dockerfile';
      const at = await tree.resolve(dockerfile);
      const entry = at === undefined ? undefined : await tree.entry(at);
      if (at === undefined || entry?.kind !== 'file') throw new BuildError(`Cannot locate specified Dockerfile: ${dockerfile}`);
      const text = (await tree.head(at, entry.size)).toString('utf8');
      await applyIgnore(tree);
      const build = parseDockerfile(text);
      const names = opts.tags.map((t) => {
        const ref = parseRepoTag(t, '');
        if (!ref) throw invalidArgument(`invalid reference format: ${t}`);
        return fullString(ref);
      });
      const run = new BuildRun(this.deps, this, build, tree, opts, emit);
      const result = await run.execute();
      if (!result.image) throw new BuildError('No image was generated. Is your Dockerfile empty?');
      names.forEach((name, i) => {
        this.deps.imageStore.setName(name, result.image!);
        this.deps.events.publish('image', 'tag', result.image!, { name: opts.tags[i]! });
      });
      return result.image;
    } finally {
      await tree?.close();
      await fs.rm(spool, { force: true });
    }
  }

  cacheGet(key: string): Digest | undefined {
    const row = this.deps.db.prepare('SELECT image FROM build_cache WHERE key = ?').get(key) as { image: string } | undefined;
    if (!row || !this.deps.imageStore.get(row.image as Digest)) return undefined;
    return row.image as Digest;
  }

  cachePut(key: string, image: Digest): void {
    this.deps.db.prepare('INSERT INTO build_cache(key, image, created) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET image = excluded.image').run(key, image, Date.now());
  }

  /** builder prune: the cache is forgotten; the step images no name or container holds are removed. */
  async prune(): Promise<{ deleted: number; reclaimed: number }> {
    const rows = this.deps.db.prepare('SELECT image FROM build_cache').all() as Array<{ image: string }>;
    this.deps.db.prepare('DELETE FROM build_cache').run();
    await fs.rm(this.deps.cacheMounts, { recursive: true, force: true });
    let deleted = 0;
    const before = this.deps.images.layersSize();
    for (const { image } of rows) {
      if (!this.deps.imageStore.get(image as Digest) || this.deps.imageStore.namesOf(image as Digest).length) continue;
      const r = await this.deps.images.remove(image, false, true).catch(() => []);
      deleted += r.length;
    }
    return { deleted, reclaimed: Math.max(0, before - this.deps.images.layersSize()) };
  }
}

/** One build: the stages it needs, their steps, the stream. */
class BuildRun {
  private readonly results = new Map<number, Promise<StageResult>>();
  private readonly total: number;
  /** Step numbers run through the file: each stage's first step number, and the next step of each stage. */
  private readonly nextStep = new Map<number, number>();
  /** Which stage a piece of work belongs to, so its output goes to that stage's place in the stream. */
  private readonly current = new AsyncLocalStorage<number>();
  /** Stages to build, in file order; output of stages after the one printing is held until its turn. */
  private order: number[] = [];
  private live = 0;
  private readonly held = new Map<number, BuildMessage[]>();
  private readonly done = new Set<number>();
  private readonly metaArgs = new Map<string, string>();
  private readonly usedArgs = new Set<string>();
  private sources: CacheSource[] = [];

  constructor(
    private readonly deps: BuildDeps,
    private readonly service: BuildService,
    private readonly build: Build,
    private readonly context: TarTree,
    private readonly opts: BuildOptions,
    private readonly emit: (m: BuildMessage) => void,
  ) {
    this.total = build.stages.reduce((n, s) => n + 1 + s.instructions.length, 0);
    let first = 1;
    for (const s of build.stages) {
      this.nextStep.set(s.index, first);
      first += 1 + s.instructions.length;
    }
    for (const a of build.metaArgs) {
      for (const def of a.args) {
        const given = opts.buildArgs[def.name];
        const value = given ?? (def.default !== undefined ? processWord(def.default, envLookup(Object.fromEntries(this.metaArgs)), { escapeToken: build.escapeToken }) : undefined);
        if (value !== undefined) this.metaArgs.set(def.name, value);
        this.usedArgs.add(def.name);
      }
    }
  }

  private out(text: string, stage = this.current.getStore()): void {
    this.send({ stream: text }, stage);
  }

  /** A message in its stage's place in the stream. */
  private send(msg: BuildMessage, stage = this.current.getStore()): void {
    if (this.opts.quiet) return;
    if (stage === undefined || stage === this.order[this.live]) this.emit(msg);
    else (this.held.get(stage) ?? this.held.set(stage, []).get(stage)!).push(msg);
  }

  private stepLine(original: string): void {
    const stage = this.current.getStore()!;
    const n = this.nextStep.get(stage)!;
    this.nextStep.set(stage, n + 1);
    this.out(`Step ${n}/${this.total} : ${original}\n`);
  }

  /** A stage finished: the stream moves on to the next stage in file order, with what it held. */
  private finished(stage: number): void {
    this.done.add(stage);
    while (this.order[this.live] !== undefined && this.done.has(this.order[this.live]!)) {
      this.live++;
      const next = this.order[this.live];
      if (next === undefined) break;
      for (const m of this.held.get(next) ?? []) this.emit(m);
      this.held.delete(next);
    }
  }

  /** The target and, transitively, the stages it names in FROM and COPY --from. */
  private needed(target: Stage): number[] {
    const seen = new Set<number>();
    const meta = envLookup(Object.fromEntries(this.metaArgs));
    const visit = (s: Stage) => {
      if (seen.has(s.index)) return;
      seen.add(s.index);
      const base = this.stageByRef(processWord(s.from.image, meta, { escapeToken: this.build.escapeToken }));
      if (base && base.index < s.index) visit(base);
      for (const i of s.instructions) {
        if (i.kind !== 'copy' || !i.from) continue;
        const dep = this.stageByRef(i.from);
        if (dep && dep.index < s.index) visit(dep);
      }
    };
    visit(target);
    return [...seen].sort((a, b) => a - b);
  }

  async execute(): Promise<StageResult> {
    const stages = this.build.stages;
    if (!stages.length) throw new BuildError('the Dockerfile (Dockerfile) cannot be empty');
    let target = stages[stages.length - 1]!;
    if (this.opts.target) {
      const t = stages.find((s) => s.name === this.opts.target!.toLowerCase());
      if (!t) throw new BuildError(`failed to reach build target ${this.opts.target} in Dockerfile`);
      target = t;
    }
    this.order = this.needed(target);
    if (this.opts.cacheFrom.length) this.sources = await loadSources(this.deps.images, this.deps.content, this.opts.cacheFrom);
    // Every stage needed starts now: those that do not wait for each other run at the same time.
    const all = this.order.map((i) => this.stage(i));
    const result = await this.stage(target.index);
    await Promise.all(all);
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.includes(k));
    if (unused.length) this.out(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    if (result.image) {
      this.emit({ aux: { ID: result.image } });
      this.out(`Successfully built ${short(result.image)}\n`);
      for (const t of this.opts.tags) this.out(`Successfully tagged ${t}\n`);
    }
    return result;
  }

  /** A stage's result, built once however many stages need it. */
  private stage(index: number): Promise<StageResult> {
    let p = this.results.get(index);
    if (!p) {
      p = this.current.run(index, () => this.runStage(this.build.stages[index]!)).finally(() => this.finished(index));
      p.catch(() => undefined);
      this.results.set(index, p);
    }
    return p;
  }

  private stageByRef(ref: string): Stage | undefined {
    const lower = ref.toLowerCase();
    const byName = this.build.stages.find((s) => s.name === lower);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) return this.build.stages[Number(ref)];
    return undefined;
  }

  private async runStage(s: Stage): Promise<StageResult> {
    const escapeToken = this.build.escapeToken;
    const imageRef = processWord(s.from.image, envLookup(Object.fromEntries(this.metaArgs)), { escapeToken });
    this.stepLine(s.from.original);
    let state: StepState;
    const base = this.stageByRef(imageRef);
    if (imageRef.toLowerCase() === 'scratch') {
      state = { image: null, config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, args: new Map() };
    } else if (base && base.index < s.index) {
      const r = await this.stage(base.index);
      state = { image: r.image, config: structuredClone(r.config), args: new Map() };
      if (r.image) this.out(` ---> ${short(r.image)}\n`);
    } else {
      const platform = s.from.platform ? processWord(s.from.platform, envLookup(Object.fromEntries(this.metaArgs)), { escapeToken }) : this.opts.platform;
      const id = await this.baseImage(imageRef, platform);
      state = { image: id, config: structuredClone(await this.deps.images.config(id)), args: new Map() };
      this.out(` ---> ${short(id)}\n`);
      for (const trigger of state.config.config?.OnBuild ?? []) {
        // ONBUILD triggers of the base run first, as their own steps.
        const inst = parseDockerfile(`FROM scratch\n${trigger}\n`).stages[0]!.instructions[0]!;
        this.out(`# Executing 1 build trigger\n`);
        state = await this.runStep(state, inst, s);
      }
      if (state.config.config?.OnBuild) state.config.config.OnBuild = null;
    }
    for (const inst of s.instructions) state = await this.runStep(state, inst, s);
    if (s.index === (this.opts.target ? this.stageByRef(this.opts.target)?.index : this.build.stages.length - 1) && Object.keys(this.opts.labels).length) {
      state = await this.commitConfig(state, { ...state.config.config, Labels: { ...(state.config.config?.Labels ?? {}), ...this.opts.labels } }, '', true);
    }
    return { image: state.image, config: state.config };
  }

  /**
   * A FROM image: pulled first with --pull, pulled when missing, and checked
   * against the platform asked for.
   */
  private async baseImage(ref: string, platformSpec: string | undefined): Promise<Digest> {
    const want = platformSpec ? parsePlatform(platformSpec) : undefined;
    const denied = () => new BuildError(`pull access denied for ${ref.split(':')[0]}, repository does not exist or may require 'docker login'`);
    const pull = async () => {
      if (!this.deps.pull) throw denied();
      await this.deps.pull({ ref, ...(want ? { platform: want } : {}), auths: this.opts.auths ?? {} }, (ev) => this.send(pullMessage(ev)));
    };
    if (this.opts.pull) await pull();
    let record;
    try {
      record = this.deps.images.resolve(ref);
    } catch {
      if (this.opts.pull) throw denied();
      await pull();
      try {
        record = this.deps.images.resolve(ref);
      } catch {
        throw denied();
      }
    }
    if (want) {
      const cfg = await this.deps.images.config(record.id);
      const have: Platform = { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) };
      if (!matchPlatform(want, have)) {
        throw new BuildError(`image with reference ${ref} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
      }
    }
    return record.id;
  }

  /** Variables visible to a step: the image's ENV, then the stage's ARGs (ENV wins, as in docker). */
  private lookup(state: StepState) {
    const vars = new Map<string, string>(state.args);
    for (const e of state.config.config?.Env ?? []) {
      const i = e.indexOf('=');
      vars.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return envLookup(Object.fromEntries(vars));
  }

  private async runStep(state: StepState, raw: Instruction, s: Stage): Promise<StepState> {
    this.stepLine(raw.original);
    const inst = raw.kind === 'run' || raw.kind === 'cmd' || raw.kind === 'entrypoint' || raw.kind === 'healthcheck' || raw.kind === 'shell' || raw.kind === 'onbuild'
      ? raw
      : expandWords(raw, this.lookup(state), { escapeToken: this.build.escapeToken });
    const cfg: ContainerDefaults = { ...(state.config.config ?? {}) };
    const nop = (text: string) => `/bin/sh -c #(nop) ${text}`;
    switch (inst.kind) {
      case 'env':
        cfg.Env = mergeEnv(cfg.Env ?? [], inst.pairs.map((p) => `${p.key}=${p.value}`));
        return this.commitConfig(state, cfg, nop(` ENV ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`));
      case 'label':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(inst.pairs.map((p) => [p.key, p.value])) };
        return this.commitConfig(state, cfg, nop(` LABEL ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`));
      case 'maintainer':
        return this.commitConfig(state, cfg, nop(` MAINTAINER ${inst.maintainer}`), false, { author: inst.maintainer });
      case 'expose':
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(inst.ports.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) };
        return this.commitConfig(state, cfg, nop(` EXPOSE ${inst.ports.join(' ')}`));
      case 'volume':
        cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(inst.volumes.map((v) => [v, {}])) };
        return this.commitConfig(state, cfg, nop(` VOLUME [${inst.volumes.join(' ')}]`));
      case 'user':
        cfg.User = inst.user;
        return this.commitConfig(state, cfg, nop(` USER ${inst.user}`));
      case 'workdir': {
        const wd = posix.isAbsolute(inst.path) ? posix.normalize(inst.path) : posix.join(cfg.WorkingDir || '/', inst.path);
        cfg.WorkingDir = wd;
        return this.commitConfig(state, cfg, nop(` WORKDIR ${wd}`));
      }
      case 'cmd':
        cfg.Cmd = this.commandArgs(inst.command, cfg);
        return this.commitConfig(state, cfg, nop(` CMD ${sprintf('%q', [cfg.Cmd])}`));
      case 'entrypoint':
        cfg.Entrypoint = this.commandArgs(inst.command, cfg);
        if (!this.cmdSetInStage(s, inst)) cfg.Cmd = null;
        return this.commitConfig(state, cfg, nop(` ENTRYPOINT ${sprintf('%q', [cfg.Entrypoint])}`));
      case 'stopsignal':
        cfg.StopSignal = inst.signal;
        return this.commitConfig(state, cfg, nop(` STOPSIGNAL ${inst.signal}`));
      case 'shell':
        cfg.Shell = inst.shell;
        return this.commitConfig(state, cfg, nop(` SHELL ${sprintf('%v', [inst.shell])}`));
      case 'onbuild':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), inst.expression];
        return this.commitConfig(state, cfg, nop(` ONBUILD ${inst.expression}`));
      case 'healthcheck': {
        const hc: Record<string, unknown> = { Test: inst.test };
        if (inst.interval) hc['Interval'] = inst.interval;
        if (inst.timeout) hc['Timeout'] = inst.timeout;
        if (inst.startPeriod) hc['StartPeriod'] = inst.startPeriod;
        if (inst.startInterval) hc['StartInterval'] = inst.startInterval;
        if (inst.retries) hc['Retries'] = inst.retries;
        cfg.Healthcheck = hc as ContainerDefaults['Healthcheck'];
        // Docker records the config struct as Go's %q prints it.
        const d = (ns?: number) => goQuote(goDurationString((ns ?? 0) / 1e6));
        const shown = `&{${sprintf('%q', [inst.test])} ${d(inst.interval)} ${d(inst.timeout)} ${d(inst.startPeriod)} ${d(inst.startInterval)} ${goQuote(String.fromCodePoint(inst.retries ?? 0), "'")}}`;
        return this.commitConfig(state, cfg, nop(` HEALTHCHECK ${shown}`));
      }
      case 'arg': {
        const args = new Map(state.args);
        for (const def of inst.args) {
          this.usedArgs.add(def.name);
          const given = this.opts.buildArgs[def.name];
          const value = given ?? this.metaArgs.get(def.name) ?? (def.default !== undefined ? processWord(def.default, this.lookup({ ...state, args }), { escapeToken: this.build.escapeToken }) : undefined);
          if (value !== undefined) args.set(def.name, value);
          else args.delete(def.name);
        }
        const next = { ...state, args };
        return this.commitConfig(next, cfg, nop(` ARG ${inst.args.map((a) => (a.default !== undefined ? `${a.name}=${a.default}` : a.name)).join(' ')}`));
      }
      case 'run':
        return this.runCommand(state, inst);
      case 'copy':
      case 'add':
        return this.copy(state, inst);
      case 'from':
        throw new BuildError('unexpected FROM');
    }
  }

  private cmdSetInStage(s: Stage, entry: Instruction): boolean {
    const after = s.instructions.slice(s.instructions.indexOf(entry) + 1);
    return after.some((i) => i.kind === 'cmd');
  }

  private commandArgs(cmd: CommandLine, cfg: ContainerDefaults): string[] {
    return cmd.form === 'exec' ? cmd.args : [...(cfg.Shell?.length ? cfg.Shell : DEFAULT_SHELL), cmd.command];
  }

  /** The step's cache key: its parent image, what it does, and the content of what it reads. */
  private key(state: StepState, what: string): string {
    return createHash('sha256').update(`${state.image ?? 'scratch'}\n${JSON.stringify(state.config.config ?? {})}\n${what}`).digest('hex');
  }

  /**
   * The step's image from the cache: the local step cache first, then the
   * --cache-from images (a match is kept in the local cache too).
   */
  private async cached(state: StepState, key: string, step?: { createdBy: string; config: ContainerDefaults }): Promise<StepState | undefined> {
    if (this.opts.noCache) return undefined;
    let hit = this.service.cacheGet(key);
    if (!hit && step && this.sources.length) {
      hit = await this.fromSource(state, step);
      if (hit) this.service.cachePut(key, hit);
    }
    if (!hit) return undefined;
    this.out(` ---> Using cache\n ---> ${short(hit)}\n`);
    return { ...state, image: hit, config: state.config };
  }

  /** A step's image made from a --cache-from source's history entry and layer. */
  private async fromSource(state: StepState, step: { createdBy: string; config: ContainerDefaults }): Promise<Digest | undefined> {
    const m = matchSource(this.sources, state.config, step.createdBy);
    if (!m) return undefined;
    if (m.whole) return m.source.id;
    const entry = m.source.config.history![m.index]!;
    const config: ImageConfig = {
      architecture: m.source.config.architecture,
      os: m.source.config.os,
      ...(m.source.config.author ? { author: m.source.config.author } : {}),
      config: step.config,
      ...(entry.created ? { created: entry.created } : {}),
      rootfs: { type: 'layers', diff_ids: [...(state.config.rootfs?.diff_ids ?? []), ...(m.layer ? [m.layer.diffId] : [])] },
      history: [...(state.config.history ?? []), entry],
    };
    const d = m.layer?.descriptor;
    return writeImage(this.deps, { parent: state.image, config, ...(d ? { layer: { digest: d.digest, size: d.size, mediaType: d.mediaType } } : {}) });
  }

  private async finish(state: StepState, key: string, image: Digest, config: ImageConfig): Promise<StepState> {
    this.service.cachePut(key, image);
    this.out(` ---> ${short(image)}\n`);
    return { ...state, image, config };
  }

  /** A step that changes only the config: a new image with the same layers and an empty-layer history entry. */
  private async commitConfig(state: StepState, cfg: ContainerDefaults, createdBy: string, quietStep = false, extra: { author?: string } = {}): Promise<StepState> {
    const key = this.key(state, `config\n${JSON.stringify(cfg)}\n${createdBy}`);
    const hit = quietStep ? undefined : await this.cached(state, key, { createdBy, config: cfg });
    if (hit) return { ...hit, config: await this.deps.images.config(hit.image!) };
    const config: ImageConfig = {
      ...state.config,
      ...(extra.author ? { author: extra.author } : {}),
      config: cfg,
      created: new Date().toISOString(),
      history: [...(state.config.history ?? []), ...(createdBy ? [{ created: new Date().toISOString(), created_by: createdBy, empty_layer: true }] : [])],
    };
    const image = await writeImage(this.deps, { parent: state.image, config });
    if (quietStep) return { ...state, image, config };
    return this.finish(state, key, image, config);
  }

  // ── RUN ──

  private async runCommand(state: StepState, inst: Extract<Instruction, { kind: 'run' }>): Promise<StepState> {
    const cfg = state.config.config ?? {};
    let argv: string[];
    let script: { name: string; content: string } | undefined;
    if (inst.command.form === 'exec') argv = inst.command.args;
    else {
      const h = heredocScript(inst.command.command, inst.heredocs);
      argv = [...(cfg.Shell?.length ? cfg.Shell : DEFAULT_SHELL), h.command];
      script = h.file;
    }
    const mounts = inst.mountSpecs.map((spec) => parseMount(spec, (w) => processWord(w, this.lookup(state), { escapeToken: this.build.escapeToken })));
    // Build args in scope reach the command as environment, and the history says which (docker's `|N a=b` prefix).
    const argEnv = [...state.args].filter(([k]) => !(cfg.Env ?? []).some((e) => e.startsWith(`${k}=`))).map(([k, v]) => `${k}=${v}`);
    const shown = argEnv.filter((e) => !PREDEFINED_ARGS.includes(e.split('=')[0]!));
    const createdBy = `${shown.length ? `|${shown.length} ${shown.join(' ')} ` : ''}${inst.command.form === 'exec' ? argv.join(' ') : argv.join(' ')}`;
    const prepared = await this.prepareMounts(mounts, script);
    let id: string;
    try {
      const key = this.key(state, `run\n${createdBy}\n${inst.network}\n${JSON.stringify(mounts)}\n${prepared.digest}\n${script?.content ?? ''}`);
      const hit = await this.cached(state, key, { createdBy, config: cfg });
      if (hit) return { ...hit, config: await this.deps.images.config(hit.image!) };
      if (!state.image) throw new BuildError('failed to run the command: the stage has no filesystem (FROM scratch without files)');
      const created = await this.deps.containers.create({
        config: { Image: state.image, Cmd: argv, Entrypoint: [], Env: mergeEnv(cfg.Env ?? [], argEnv), WorkingDir: cfg.WorkingDir ?? '', User: cfg.User ?? '', Labels: {}, Tty: false, OpenStdin: false, AttachStdout: true, AttachStderr: true },
        hostConfig: { NetworkMode: inst.network === 'none' ? 'none' : inst.network === 'host' ? 'host' : this.opts.networkMode || 'default', Mounts: prepared.mounts } as never,
      });
      id = created.id;
      return await this.runContainer(state, id, key, argv, inst, createdBy);
    } finally {
      await prepared.release();
    }
  }

  /**
   * RUN --mount: cache directories that outlive the build (per id), binds of
   * the context or of another stage or image (read-only unless rw, and then
   * a scratch copy whose changes are dropped), tmpfs. The digest covers the
   * bound content, so the step re-runs when it changes. A shebang heredoc
   * script is bound read-only at /dev/pipes.
   */
  private async prepareMounts(mounts: Mount[], script?: { name: string; content: string }): Promise<{ mounts: object[]; digest: string; release: () => Promise<void> }> {
    const out: object[] = [];
    const releases: Array<() => Promise<void>> = [];
    const digest = createHash('sha256');
    const release = async () => {
      for (const r of releases.reverse()) await r().catch(() => undefined);
    };
    try {
      if (script) {
        const file = join(this.deps.tmp, `heredoc-${randomBytes(8).toString('hex')}`);
        await fs.writeFile(file, script.content, { mode: 0o755 });
        releases.push(() => fs.rm(file, { force: true }));
        out.push({ Type: 'bind', Source: file, Target: `/dev/pipes/${script.name}`, ReadOnly: true });
      }
      for (const m of mounts) {
        const target = m.target ? (posix.isAbsolute(m.target) ? m.target : `/${m.target}`) : undefined;
        if (!target) throw new BuildError('mount target is required');
        if (m.type === 'tmpfs') {
          out.push({ Type: 'tmpfs', Target: target, ...(m.size ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
        } else if (m.type === 'cache') {
          const id = (m.id || target).replace(/[^A-Za-z0-9_.-]/g, '_');
          const dir = join(this.deps.cacheMounts, id);
          await fs.mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
          if (m.uid !== undefined || m.gid !== undefined) await fs.chown(dir, m.uid ?? 0, m.gid ?? 0);
          out.push({ Type: 'bind', Source: dir, Target: target, ReadOnly: m.readonly });
        } else if (m.type === 'bind') {
          let tree: SourceTree = this.context;
          if (m.from) {
            const stage = this.stageByRef(m.from);
            const image = stage ? (await this.stage(stage.index)).image : this.deps.images.resolve(m.from).id;
            if (!image) throw new BuildError(`mount from ${m.from}: the stage has no files`);
            const mounted = await this.mountImage(image);
            releases.push(mounted.release);
            tree = mounted.tree;
          }
          const at = await tree.resolve(m.source ?? '/');
          if (at === undefined) throw new BuildError(`failed to compute cache key: "/${m.source ?? ''}" not found`);
          digest.update(`${target}\0${await tree.digest(at)}\0`);
          const host = await tree.hostPath(at);
          releases.push(host.release);
          let source = host.path;
          if (!m.readonly && !host.owned) {
            // A writable bind writes to a scratch copy: its changes are dropped.
            const copy = join(this.deps.tmp, `mount-${randomBytes(8).toString('hex')}`);
            await fs.cp(source, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
            releases.push(() => fs.rm(copy, { recursive: true, force: true }));
            source = copy;
          }
          out.push({ Type: 'bind', Source: source, Target: target, ReadOnly: m.readonly });
        } else {
          throw new BuildError(`RUN --mount=type=${m.type} needs BuildKit; the classic builder cannot provide it`);
        }
      }
    } catch (err) {
      await release();
      throw err;
    }
    return { mounts: out, digest: digest.digest('hex'), release };
  }

  private async runContainer(state: StepState, id: string, key: string, argv: string[], inst: Extract<Instruction, { kind: 'run' }>, createdBy: string): Promise<StepState> {
    const { containers } = this.deps;
    this.out(` ---> Running in ${short(id)}\n`);
    const stage = this.current.getStore();
    let code: number;
    try {
      await containers.attach(id, {
        stdout: true,
        stderr: true,
        write: (_stream, data) => this.out(data.toString(), stage),
        end: () => undefined,
      });
      const exited = containers.wait(id, 'next-exit');
      await containers.start(id);
      code = (await exited).StatusCode;
    } catch (err) {
      if (this.opts.forceRemove) await containers.remove(id, { force: true }).catch(() => undefined);
      throw err;
    }
    if (code !== 0) {
      if (this.opts.forceRemove) await containers.remove(id, { force: true }).catch(() => undefined);
      const shownCmd = inst.command.form === 'exec' ? JSON.stringify(argv) : argv.join(' ');
      throw new BuildError(`The command '${shownCmd}' returned a non-zero code: ${code}`, code);
    }
    const config: ImageConfig = {
      ...state.config,
      created: new Date().toISOString(),
      history: [...(state.config.history ?? []), { created: new Date().toISOString(), created_by: createdBy }],
    };
    const image = await this.commitRw(id, state, config, { move: this.opts.remove || this.opts.forceRemove });
    if (this.opts.remove || this.opts.forceRemove) {
      await containers.remove(id, { force: true }).catch(() => undefined);
      this.out(`Removing intermediate container ${short(id)}\n`);
    }
    return this.finish(state, key, image, config);
  }

  /**
   * The writable layer of a container or scratch snapshot becomes the next
   * layer of the image. With `move` (the writable layer is dropped after)
   * its upper directory becomes the committed layer as it is; otherwise
   * the layer's tar is extracted into a new one. A --link layer (`onto`)
   * was made on nothing and is extracted onto the stage's layers.
   */
  private async commitRw(rwId: string, state: StepState, config: ImageConfig, opts: { onto?: Digest | null; move?: boolean } = {}): Promise<Digest> {
    const rw = this.deps.snapshots.getRw(rwId);
    if (!rw) throw notFound(`no writable layer for ${rwId}`);
    return this.deps.lock.shared(async () => {
      let diffId: Digest;
      let blob: { digest: Digest; size: number };
      if (opts.move && opts.onto === undefined) {
        await this.deps.snapshots.unmountRw(rwId);
        let size = 0;
        blob = await this.deps.content.write(diffTar(rw.upper, { onFile: (n) => (size += n) }));
        diffId = (await this.deps.snapshots.commitRw(rwId, blob.digest, size, blob.size)).diffId;
      } else {
        const ingested = await ingestLayer(this.deps, diffTar(rw.upper), { parent: opts.onto === undefined ? rw.parent : opts.onto });
        blob = ingested.blob;
        diffId = ingested.layer.diffId;
      }
      config.rootfs = { type: 'layers', diff_ids: [...(state.config.rootfs?.diff_ids ?? []), diffId] };
      return writeImage(this.deps, { parent: state.image, config, layer: { digest: blob.digest, size: blob.size } });
    });
  }

  // ── COPY / ADD ──

  private async copy(state: StepState, inst: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<StepState> {
    const cfg = state.config.config ?? {};
    let tree: SourceTree = this.context;
    let release: (() => Promise<void>) | undefined;
    const from = inst.kind === 'copy' ? inst.from : undefined;
    try {
      if (from) {
        const stage = this.stageByRef(from);
        let image: Digest | null;
        if (stage) image = (await this.stage(stage.index)).image;
        else {
          try {
            image = this.deps.images.resolve(from).id;
          } catch {
            throw new BuildError(`invalid from flag value ${from}: pull access denied for ${from}, repository does not exist or may require 'docker login'`);
          }
        }
        if (!image) throw new BuildError(`COPY --from=${from}: the stage has no files`);
        const mounted = await this.mountImage(image);
        tree = mounted.tree;
        release = mounted.release;
      }
      const urls = inst.kind === 'add' ? inst.sources.filter((x) => /^https?:\/\//.test(x)) : [];
      const files = await this.select(tree, inst.sources.filter((x) => !urls.includes(x)), !from);
      if (urls.length) {
        const dl = join(this.deps.tmp, `download-${randomBytes(8).toString('hex')}`);
        await fs.mkdir(dl, { mode: 0o700 });
        const previous = release;
        release = async () => {
          await fs.rm(dl, { recursive: true, force: true });
          await previous?.();
        };
        for (const url of urls) {
          const rel = posix.basename(await download(url, dl));
          const downloads = new HostTree(dl);
          files.push({ rel, tree: downloads, path: rel, digest: await downloads.digest(rel), remote: true });
        }
      }
      const inputs = createHash('sha256');
      for (const f of files) inputs.update(`${f.rel}\0${f.digest}\0`);
      for (const i of inst.inline) inputs.update(`inline\0${i.path}\0${i.data}\0`);
      const dest = posix.isAbsolute(inst.dest) ? inst.dest : posix.join(cfg.WorkingDir || '/', inst.dest);
      const what = `${inst.kind}\n${inputs.digest('hex')}\n${dest}\n${inst.chown ?? ''}\n${inst.chmod ?? ''}`;
      const key = this.key(state, what);
      const createdBy = `/bin/sh -c #(nop) ${inst.kind.toUpperCase()} ${inst.link ? '--link ' : ''}file:${createHash('sha256').update(what).digest('hex')} in ${dest} `;
      const hit = await this.cached(state, key, { createdBy, config: cfg });
      if (hit) return { ...hit, config: await this.deps.images.config(hit.image!) };
      const history = () => [...(state.config.history ?? []), { created: new Date().toISOString(), created_by: createdBy }];
      // --link: the layer does not depend on what is below it, so one made on another base is reused as it is.
      const linkKey = inst.link ? createHash('sha256').update(`link\n${what}`).digest('hex') : undefined;
      const linked = linkKey && !this.opts.noCache ? await this.linkedLayer(linkKey) : undefined;
      if (linked) {
        const layer = await unpackStoredLayer(this.deps, linked.descriptor.digest, state.image ? chainId(state.config.rootfs?.diff_ids ?? []) : null, linked.diffId);
        const config: ImageConfig = {
          ...state.config,
          created: new Date().toISOString(),
          rootfs: { type: 'layers', diff_ids: [...(state.config.rootfs?.diff_ids ?? []), layer.layer.diffId] },
          history: history(),
        };
        this.out(' ---> Using cache\n');
        const image = await writeImage(this.deps, { parent: state.image, config, layer: { digest: linked.descriptor.digest, size: linked.descriptor.size, mediaType: linked.descriptor.mediaType } });
        return await this.finish(state, key, image, config);
      }
      const rwId = `build-${randomBytes(16).toString('hex')}`;
      const below = state.image ? chainId(state.config.rootfs?.diff_ids ?? []) : null;
      await this.deps.snapshots.createRw(rwId, inst.link ? null : below);
      try {
        const root = await this.deps.snapshots.mountRw(rwId);
        try {
          await this.place(root, files, inst, dest, inst.sources.length > 1 || inst.dest.endsWith('/'), inst.link ? state.image : undefined);
        } finally {
          await this.deps.snapshots.unmountRw(rwId);
        }
        const config: ImageConfig = { ...state.config, created: new Date().toISOString(), history: history() };
        const image = await this.commitRw(rwId, state, config, inst.link ? { onto: below } : { move: true });
        if (linkKey) this.service.cachePut(linkKey, image);
        return await this.finish(state, key, image, config);
      } finally {
        await this.deps.snapshots.removeRw(rwId).catch(() => undefined);
      }
    } finally {
      await release?.();
    }
  }

  /** The layer a --link step made before, on whatever base: its blob and diff ID. */
  private async linkedLayer(linkKey: string): Promise<{ diffId: Digest; descriptor: Manifest['layers'][number] } | undefined> {
    const image = this.service.cacheGet(linkKey);
    const record = image ? this.deps.imageStore.get(image) : undefined;
    if (!image || !record) return undefined;
    const cfg = await this.deps.images.config(image);
    const manifest = JSON.parse((await this.deps.content.read(record.manifest.digest)).toString('utf8')) as Manifest;
    const diffId = cfg.rootfs?.diff_ids?.at(-1);
    const descriptor = manifest.layers?.at(-1);
    if (!diffId || !descriptor || !(await this.deps.content.info(descriptor.digest).catch(() => undefined))) return undefined;
    return { diffId, descriptor };
  }

  /** An image's filesystem, read-only use: a writable layer on its chain, mounted, removed after. */
  private async mountImage(image: Digest): Promise<{ root: string; tree: HostTree; release: () => Promise<void> }> {
    const cfg = await this.deps.images.config(image);
    const id = `build-src-${randomBytes(16).toString('hex')}`;
    await this.deps.snapshots.createRw(id, chainId(cfg.rootfs?.diff_ids ?? []));
    const root = await this.deps.snapshots.mountRw(id);
    return {
      root,
      tree: new HostTree(root),
      release: async () => {
        await this.deps.snapshots.unmountRw(id).catch(() => undefined);
        await this.deps.snapshots.removeRw(id).catch(() => undefined);
      },
    };
  }

  /**
   * The sources a COPY names, with globs, each with a digest of its content
   * (file contents, link targets, modes): the cache compares content, not
   * times. Paths never leave the source root.
   */
  private async select(tree: SourceTree, sources: string[], isContext: boolean): Promise<SourceFile[]> {
    const out: SourceFile[] = [];
    for (const src of sources) {
      const clean = posix.normalize(`/${src}`).slice(1);
      const matches = /[*?[]/.test(clean) ? await glob(tree, clean) : [clean];
      const found = [];
      for (const m of matches) {
        const path = await tree.resolve(m);
        if (path !== undefined) found.push({ rel: m, path });
      }
      if (!found.length) {
        throw new BuildError(isContext ? `COPY failed: file not found in build context or excluded by .dockerignore: stat ${clean}: file does not exist` : `COPY failed: stat ${clean}: file does not exist`);
      }
      for (const f of found) out.push({ rel: f.rel, tree, path: f.path, digest: await tree.digest(f.path) });
    }
    return out;
  }

  /** Writes the sources at dest; user and group names resolve in `namesFrom` when given (a --link layer starts empty). */
  private async place(root: string, files: SourceFile[], inst: Extract<Instruction, { kind: 'copy' | 'add' }>, dest: string, destIsDir: boolean, namesFrom?: Digest | null): Promise<void> {
    let owner = { uid: 0, gid: 0 };
    if (inst.chown && namesFrom) {
      const base = await this.mountImage(namesFrom);
      try {
        owner = await this.owner(base.root, inst.chown);
      } finally {
        await base.release();
      }
    } else if (inst.chown) owner = await this.owner(root, inst.chown);
    const mode = inst.chmod ? parseInt(inst.chmod, 8) : undefined;
    if (inst.chmod && (mode === undefined || Number.isNaN(mode) || mode > 0o7777)) throw new BuildError(`invalid chmod parameter: ${inst.chmod}`);
    const target = async (p: string) => {
      const dir = dirname(p);
      const resolvedDir = await mkdirInRoot(root, dir);
      return join(resolvedDir, posix.basename(p));
    };
    for (const i of inst.inline) {
      const p = await target(posix.join(dest, i.path));
      await fs.writeFile(p, i.data);
      await fs.lchown(p, owner.uid, owner.gid);
      if (mode !== undefined) await fs.chmod(p, mode);
    }
    for (const f of files) {
      const e = (await f.tree.entry(f.path))!;
      if (e.kind === 'dir') {
        // A directory's contents are copied, not the directory itself.
        const d = await mkdirInRoot(root, dest);
        await copyTree(f.tree, f.path, d, owner, mode);
      } else if (inst.kind === 'add' && e.kind === 'file' && !f.remote && isArchive(await f.tree.head(f.path, 512))) {
        const d = await mkdirInRoot(root, dest);
        const head = await f.tree.head(f.path, 2);
        const stream = head[0] === 0x1f && head[1] === 0x8b ? f.tree.open(f.path).pipe(createGunzip()) : f.tree.open(f.path);
        await applyLayer(stream, d);
      } else {
        const p = destIsDir || (await isDirInRoot(root, dest)) ? await target(posix.join(dest, posix.basename(f.rel))) : await target(dest);
        await copyEntry(f.tree, f.path, e, p, owner, mode);
      }
    }
  }

  private async owner(root: string, chown: string): Promise<{ uid: number; gid: number }> {
    const [u, g] = chown.split(':');
    const user = await resolveUser(root, g !== undefined ? `${u}:${g}` : u).catch(() => {
      throw new BuildError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}`);
    });
    return { uid: user.uid, gid: g !== undefined ? user.gid : /^\d+$/.test(u ?? '') ? Number(u) : user.gid };
  }
}

/** A pull's progress as a line of the build stream. */
function pullMessage(ev: ProgressEvent): BuildMessage {
  switch (ev.kind) {
    case 'item':
      return { status: ev.action, id: ev.id, ...(ev.current !== undefined ? { progressDetail: { current: ev.current, ...(ev.total !== undefined ? { total: ev.total } : {}) } } : {}) };
    case 'status':
      return { status: ev.text, ...(ev.id ? { id: ev.id } : {}) };
    case 'line':
      return { stream: `${ev.text}\n` };
    case 'aux':
      return {};
  }
}

/**
 * .dockerignore applied in the daemon too, for clients that send everything:
 * ignored files leave the context, a directory once nothing it holds is
 * kept. The Dockerfile and .dockerignore, already read, leave it as well
 * when listed, so COPY never sees them (docker's rule).
 */
async function applyIgnore(tree: TarTree): Promise<void> {
  const at = await tree.resolve('.dockerignore');
  const e = at === undefined ? undefined : await tree.entry(at);
  if (at === undefined || e?.kind !== 'file') return;
  const patterns = parseDockerignore((await tree.head(at, e.size)).toString('utf8'));
  // Deepest first, so a directory is judged after its contents.
  for (const p of tree.paths().sort((a, b) => b.split('/').length - a.split('/').length)) {
    if (!ignored(patterns, p)) continue;
    const entry = await tree.entry(p);
    if (entry?.kind === 'dir' && (await tree.list(p)).length) continue;
    tree.remove(p);
  }
}

/** ADD unpacks local tar archives (plain or gzip), as docker does. */
function isArchive(head: Buffer): boolean {
  if (head[0] === 0x1f && head[1] === 0x8b) return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

async function isDirInRoot(root: string, path: string): Promise<boolean> {
  const p = await resolveInRoot(root, path);
  return !!p && (await fs.stat(p).then((s) => s.isDirectory(), () => false));
}

/** Makes the directory (and its parents) inside the root, never following a link out of it. */
async function mkdirInRoot(root: string, path: string): Promise<string> {
  const parts = path.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts) {
    cur = `${cur}/${part}`;
    const resolved = await resolveInRoot(root, cur);
    if (resolved) {
      const st = await fs.stat(resolved).catch(() => undefined);
      if (st?.isDirectory()) continue;
      if (st) throw new BuildError(`cannot copy to ${path}: ${cur} is not a directory`);
    }
    const parent = (await resolveInRoot(root, posix.dirname(cur))) ?? root;
    await fs.mkdir(join(parent, part), { mode: 0o755 });
  }
  return (await resolveInRoot(root, path)) ?? root;
}

async function copyEntry(tree: SourceTree, path: string, e: SourceEntry, dst: string, owner: { uid: number; gid: number }, mode: number | undefined): Promise<void> {
  await fs.rm(dst, { recursive: false, force: true }).catch(() => undefined);
  if (e.kind === 'symlink') await fs.symlink(e.linkTarget ?? '', dst);
  else if (e.kind === 'file') await tree.copyFile(path, dst);
  else return;
  await fs.lchown(dst, owner.uid, owner.gid);
  if (e.kind !== 'symlink') {
    await fs.chmod(dst, mode ?? e.mode);
    await fs.utimes(dst, e.mtime, e.mtime);
  }
}

async function copyTree(tree: SourceTree, src: string, dst: string, owner: { uid: number; gid: number }, mode: number | undefined): Promise<void> {
  const names = await tree.list(src);
  // Files of a directory are written several at a time: each is a handful of syscalls waiting on the thread pool.
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map(async (name) => {
        const s = src ? `${src}/${name}` : name;
        const d = join(dst, name);
        const e = (await tree.entry(s))!;
        if (e.kind === 'dir') {
          const existing = await fs.lstat(d).catch(() => undefined);
          if (!existing?.isDirectory()) {
            if (existing) await fs.rm(d, { force: true });
            await fs.mkdir(d);
          }
          await fs.lchown(d, owner.uid, owner.gid);
          await fs.chmod(d, mode ?? e.mode);
          await copyTree(tree, s, d, owner, mode);
          await fs.utimes(d, e.mtime, e.mtime);
        } else await copyEntry(tree, s, e, d, owner, mode);
      }),
    );
  }
}

/**
 * The shell command of a RUN with heredocs. `RUN <<EOF` alone runs the body
 * as the script, or, when it starts with `#!`, as an executable file mounted
 * at /dev/pipes/<name> so its interpreter runs it (BuildKit's place for it).
 * Otherwise the heredocs stay part of the command, each body followed by its
 * terminator, as a shell reads them. The shell expands the bodies, not the
 * builder: `$HOME` in a script is the container's.
 */
function heredocScript(command: string, heredocs: Heredoc[]): { command: string; file?: { name: string; content: string } } {
  if (!heredocs.length) return { command };
  const only = heredocs.length === 1 && /^\s*<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(command);
  if (only) {
    const h = heredocs[0]!;
    const content = h.chomp ? chompHeredoc(h.content) : h.content;
    if (!content.startsWith('#!')) return { command: content };
    return { command: `/dev/pipes/${h.name}`, file: { name: h.name, content } };
  }
  let out = command;
  for (const h of heredocs) out += `\n${h.content}${h.name}`;
  return { command: out };
}

/**
 * ADD <url>: the file is fetched (redirects followed) and named after the
 * URL's last path element; docker gives it mode 0600 and the server's
 * Last-Modified time.
 */
async function download(url: string, dir: string, redirects = 5): Promise<string> {
  const { get } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  const name = posix.basename(new URL(url).pathname) || 'download';
  const path = join(dir, name);
  await new Promise<void>((resolve, reject) => {
    const req = get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        download(new URL(res.headers.location, url).toString(), dir, redirects - 1).then(() => resolve(), reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new BuildError(`failed to GET ${url} with status ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      const file = createWriteStream(path, { mode: 0o600 });
      res.pipe(file);
      file.on('finish', () => {
        const modified = Date.parse(res.headers['last-modified'] ?? '');
        const t = Number.isNaN(modified) ? new Date() : new Date(modified);
        fs.utimes(path, t, t).then(() => resolve(), reject);
      });
      file.on('error', reject);
      res.on('error', reject);
    });
    req.on('error', (e) => reject(new BuildError(`error downloading ${url}: ${e.message}`)));
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
  });
  return path;
}
