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
import { createReadStream, createWriteStream, promises as fs, type Stats } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../core/content.js';
import type { ImageMetadata } from '../core/images.js';
import type { Snapshotter } from '../core/snapshots.js';
import { ignored, parseDockerignore } from '../build/dockerignore.js';
import { parseDockerfile, type Build, type CommandLine, type Instruction, type Stage } from '../build/instructions.js';
import { parseMount, type Mount } from '../build/mounts.js';
import type { Heredoc } from '../build/parser.js';
import { envLookup, expandWords, processWord } from '../build/shell.js';
import { ingestLayer } from '../distribution/layers.js';
import type { Digest } from '../lib/digest.js';
import { BerthError, invalidArgument, notFound } from '../lib/errors.js';
import { resolveInRoot } from '../lib/fsutil.js';
import type { RWLock } from '../lib/lock.js';
import { chainId } from '../oci/chain.js';
import { mergeEnv, type ContainerDefaults, type ImageConfig } from '../oci/image.js';
import { fullString, parseRepoTag } from '../oci/reference.js';
import { resolveUser } from '../runtime/user.js';
import { applyLayer } from '../store/layer/apply.js';
import { diffTar } from '../store/layer/diff.js';
import type { DB } from '../store/db.js';
import type { ContainerService } from './containers.js';
import type { Events } from './events.js';
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
}

/** One message of docker's legacy build stream. */
export interface BuildMessage {
  stream?: string;
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

/** A COPY/ADD source: its path in the source root, where it is on the host, a digest of its content. */
interface SourceFile {
  rel: string;
  source: string;
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
      if (/^(build|mount|download)-/.test(name)) await fs.rm(join(this.deps.tmp, name), { recursive: true, force: true });
    }
  }

  async build(context: Readable, opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<Digest> {
    const dir = join(this.deps.tmp, `build-${randomBytes(8).toString('hex')}`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await applyLayer(context, dir);
      const dockerfilePath = await resolveInRoot(dir, opts.dockerfile || 'Dockerfile');
      const text = dockerfilePath ? await fs.readFile(dockerfilePath, 'utf8').catch(() => undefined) : undefined;
      if (text === undefined) throw new BuildError(`Cannot locate specified Dockerfile: ${opts.dockerfile || 'Dockerfile'}`);
      await this.applyIgnore(dir);
      const build = parseDockerfile(text);
      const names = opts.tags.map((t) => {
        const ref = parseRepoTag(t, '');
        if (!ref) throw invalidArgument(`invalid reference format: ${t}`);
        return fullString(ref);
      });
      const run = new BuildRun(this.deps, this, build, dir, opts, emit);
      const result = await run.execute();
      if (!result.image) throw new BuildError('No image was generated. Is your Dockerfile empty?');
      names.forEach((name, i) => {
        this.deps.imageStore.setName(name, result.image!);
        this.deps.events.publish('image', 'tag', result.image!, { name: opts.tags[i]! });
      });
      return result.image;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** The context's files that .dockerignore leaves out are deleted, the Dockerfile and .dockerignore too (read before). */
  private async applyIgnore(dir: string): Promise<void> {
    const text = await fs.readFile(join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const patterns = parseDockerignore(text);
    const walk = async (rel: string): Promise<void> => {
      for (const e of await fs.readdir(join(dir, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          await walk(p);
          if (ignored(patterns, p) && (await fs.readdir(join(dir, p))).length === 0) await fs.rmdir(join(dir, p));
        } else if (ignored(patterns, p)) await fs.rm(join(dir, p), { force: true });
      }
    };
    await walk('');
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

  constructor(
    private readonly deps: BuildDeps,
    private readonly service: BuildService,
    private readonly build: Build,
    private readonly context: string,
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
    if (this.opts.quiet) return;
    const msg = { stream: text };
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
      let record;
      try {
        record = this.deps.images.resolve(imageRef);
      } catch {
        throw new BuildError(`pull access denied for ${imageRef.split(':')[0]}, repository does not exist or may require 'docker login'`);
      }
      state = { image: record.id, config: structuredClone(await this.deps.images.config(record.id)), args: new Map() };
      this.out(` ---> ${short(record.id)}\n`);
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
        return this.commitConfig(state, cfg, nop(` CMD ${JSON.stringify(cfg.Cmd)}`));
      case 'entrypoint':
        cfg.Entrypoint = this.commandArgs(inst.command, cfg);
        if (!this.cmdSetInStage(s, inst)) cfg.Cmd = null;
        return this.commitConfig(state, cfg, nop(` ENTRYPOINT ${JSON.stringify(cfg.Entrypoint)}`));
      case 'stopsignal':
        cfg.StopSignal = inst.signal;
        return this.commitConfig(state, cfg, nop(` STOPSIGNAL ${inst.signal}`));
      case 'shell':
        cfg.Shell = inst.shell;
        return this.commitConfig(state, cfg, nop(` SHELL ${JSON.stringify(inst.shell)}`));
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
        return this.commitConfig(state, cfg, nop(` HEALTHCHECK &{${JSON.stringify(inst.test)}}`));
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

  private cached(state: StepState, key: string): StepState | undefined {
    if (this.opts.noCache) return undefined;
    const hit = this.service.cacheGet(key);
    if (!hit) return undefined;
    this.out(` ---> Using cache\n ---> ${short(hit)}\n`);
    return { ...state, image: hit, config: state.config };
  }

  private async finish(state: StepState, key: string, image: Digest, config: ImageConfig): Promise<StepState> {
    this.service.cachePut(key, image);
    this.out(` ---> ${short(image)}\n`);
    return { ...state, image, config };
  }

  /** A step that changes only the config: a new image with the same layers and an empty-layer history entry. */
  private async commitConfig(state: StepState, cfg: ContainerDefaults, createdBy: string, quietStep = false, extra: { author?: string } = {}): Promise<StepState> {
    const key = this.key(state, `config\n${JSON.stringify(cfg)}\n${createdBy}`);
    const hit = quietStep ? undefined : this.cached(state, key);
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
    if (inst.command.form === 'exec') argv = inst.command.args;
    else argv = [...(cfg.Shell?.length ? cfg.Shell : DEFAULT_SHELL), heredocScript(inst.command.command, inst.heredocs, this.lookup(state), this.build.escapeToken)];
    const mounts = inst.mountSpecs.map((spec) => parseMount(spec, (w) => processWord(w, this.lookup(state), { escapeToken: this.build.escapeToken })));
    // Build args in scope reach the command as environment, and the history says which (docker's `|N a=b` prefix).
    const argEnv = [...state.args].filter(([k]) => !(cfg.Env ?? []).some((e) => e.startsWith(`${k}=`))).map(([k, v]) => `${k}=${v}`);
    const shown = argEnv.filter((e) => !PREDEFINED_ARGS.includes(e.split('=')[0]!));
    const createdBy = `${shown.length ? `|${shown.length} ${shown.join(' ')} ` : ''}${inst.command.form === 'exec' ? argv.join(' ') : argv.join(' ')}`;
    const prepared = await this.prepareMounts(mounts);
    let id: string;
    try {
      const key = this.key(state, `run\n${createdBy}\n${inst.network}\n${JSON.stringify(mounts)}\n${prepared.digest}`);
      const hit = this.cached(state, key);
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
   * bound content, so the step re-runs when it changes.
   */
  private async prepareMounts(mounts: Mount[]): Promise<{ mounts: object[]; digest: string; release: () => Promise<void> }> {
    const out: object[] = [];
    const releases: Array<() => Promise<void>> = [];
    const digest = createHash('sha256');
    const release = async () => {
      for (const r of releases.reverse()) await r().catch(() => undefined);
    };
    try {
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
          let root = this.context;
          if (m.from) {
            const stage = this.stageByRef(m.from);
            const image = stage ? (await this.stage(stage.index)).image : this.deps.images.resolve(m.from).id;
            if (!image) throw new BuildError(`mount from ${m.from}: the stage has no files`);
            const mounted = await this.mountImage(image);
            releases.push(mounted.release);
            root = mounted.root;
          }
          let source = await resolveInRoot(root, m.source ?? '/');
          if (!source) throw new BuildError(`failed to compute cache key: "/${m.source ?? ''}" not found`);
          digest.update(`${target}\0${await treeDigest(source)}\0`);
          if (!m.readonly) {
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
    const image = await this.commitRw(id, state, config);
    if (this.opts.remove || this.opts.forceRemove) {
      await containers.remove(id, { force: true }).catch(() => undefined);
      this.out(`Removing intermediate container ${short(id)}\n`);
    }
    return this.finish(state, key, image, config);
  }

  /** The writable layer of a container or scratch snapshot becomes the next layer of the image. */
  private async commitRw(rwId: string, state: StepState, config: ImageConfig): Promise<Digest> {
    const rw = this.deps.snapshots.getRw(rwId);
    if (!rw) throw notFound(`no writable layer for ${rwId}`);
    return this.deps.lock.shared(async () => {
      const { blob, layer } = await ingestLayer(this.deps, diffTar(rw.upper), { parent: rw.parent });
      config.rootfs = { type: 'layers', diff_ids: [...(state.config.rootfs?.diff_ids ?? []), layer.diffId] };
      return writeImage(this.deps, { parent: state.image, config, layer: { digest: blob.digest, size: blob.size } });
    });
  }

  // ── COPY / ADD ──

  private async copy(state: StepState, inst: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<StepState> {
    const cfg = state.config.config ?? {};
    let srcRoot = this.context;
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
        srcRoot = mounted.root;
        release = mounted.release;
      }
      const urls = inst.kind === 'add' ? inst.sources.filter((x) => /^https?:\/\//.test(x)) : [];
      const files = await this.select(srcRoot, inst.sources.filter((x) => !urls.includes(x)), !from);
      if (urls.length) {
        const dl = join(this.deps.tmp, `download-${randomBytes(8).toString('hex')}`);
        await fs.mkdir(dl, { mode: 0o700 });
        const previous = release;
        release = async () => {
          await fs.rm(dl, { recursive: true, force: true });
          await previous?.();
        };
        for (const url of urls) {
          const path = await download(url, dl);
          const rel = posix.basename(path);
          files.push({ rel, source: path, digest: await treeDigest(path), remote: true });
        }
      }
      const inputs = createHash('sha256');
      for (const f of files) inputs.update(`${f.rel}\0${f.digest}\0`);
      for (const i of inst.inline) inputs.update(`inline\0${i.path}\0${i.data}\0`);
      const dest = posix.isAbsolute(inst.dest) ? inst.dest : posix.join(cfg.WorkingDir || '/', inst.dest);
      const what = `${inst.kind}\n${inputs.digest('hex')}\n${dest}\n${inst.chown ?? ''}\n${inst.chmod ?? ''}`;
      const key = this.key(state, what);
      const hit = this.cached(state, key);
      if (hit) return { ...hit, config: await this.deps.images.config(hit.image!) };
      const createdBy = `/bin/sh -c #(nop) ${inst.kind.toUpperCase()} file:${createHash('sha256').update(what).digest('hex')} in ${dest} `;
      const rwId = `build-${randomBytes(16).toString('hex')}`;
      await this.deps.snapshots.createRw(rwId, state.image ? chainId(state.config.rootfs?.diff_ids ?? []) : null);
      try {
        const root = await this.deps.snapshots.mountRw(rwId);
        try {
          await this.place(root, files, inst, dest, inst.sources.length > 1 || inst.dest.endsWith('/'));
        } finally {
          await this.deps.snapshots.unmountRw(rwId);
        }
        const config: ImageConfig = {
          ...state.config,
          created: new Date().toISOString(),
          history: [...(state.config.history ?? []), { created: new Date().toISOString(), created_by: createdBy }],
        };
        const image = await this.commitRw(rwId, state, config);
        return await this.finish(state, key, image, config);
      } finally {
        await this.deps.snapshots.removeRw(rwId).catch(() => undefined);
      }
    } finally {
      await release?.();
    }
  }

  /** An image's filesystem, read-only use: a writable layer on its chain, mounted, removed after. */
  private async mountImage(image: Digest): Promise<{ root: string; release: () => Promise<void> }> {
    const cfg = await this.deps.images.config(image);
    const id = `build-src-${randomBytes(16).toString('hex')}`;
    await this.deps.snapshots.createRw(id, chainId(cfg.rootfs?.diff_ids ?? []));
    const root = await this.deps.snapshots.mountRw(id);
    return {
      root,
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
  private async select(root: string, sources: string[], isContext: boolean): Promise<SourceFile[]> {
    const out: SourceFile[] = [];
    for (const src of sources) {
      const clean = posix.normalize(`/${src}`).slice(1);
      const matches = /[*?[]/.test(clean) ? await glob(root, clean) : [clean];
      if (!matches.length || (matches.length === 1 && !(await exists(root, matches[0]!)))) {
        throw new BuildError(isContext ? `COPY failed: file not found in build context or excluded by .dockerignore: stat ${clean}: file does not exist` : `COPY failed: stat ${clean}: file does not exist`);
      }
      for (const m of matches) {
        const path = (await resolveInRoot(root, m))!;
        out.push({ rel: m, source: path, digest: await treeDigest(path) });
      }
    }
    return out;
  }

  private async place(root: string, files: SourceFile[], inst: Extract<Instruction, { kind: 'copy' | 'add' }>, dest: string, destIsDir: boolean): Promise<void> {
    const owner = inst.chown ? await this.owner(root, inst.chown) : { uid: 0, gid: 0 };
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
      const st = await fs.lstat(f.source);
      if (st.isDirectory()) {
        // A directory's contents are copied, not the directory itself.
        const d = await mkdirInRoot(root, dest);
        await copyTree(f.source, d, owner, mode);
      } else if (inst.kind === 'add' && st.isFile() && !f.remote && (await isArchive(f.source))) {
        const d = await mkdirInRoot(root, dest);
        const { createGunzip } = await import('node:zlib');
        const head = await readHead(f.source);
        const stream = head[0] === 0x1f && head[1] === 0x8b ? createReadStream(f.source).pipe(createGunzip()) : createReadStream(f.source);
        await applyLayer(stream, d);
      } else {
        const p = destIsDir || (await isDirInRoot(root, dest)) ? await target(posix.join(dest, posix.basename(f.rel))) : await target(dest);
        await copyEntry(f.source, p, st, owner, mode);
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

async function exists(root: string, path: string): Promise<boolean> {
  const p = await resolveInRoot(root, path, false);
  return !!p && (await fs.lstat(p).then(() => true, () => false));
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await fs.open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** ADD unpacks local tar archives (plain or gzip), as docker does. */
async function isArchive(path: string): Promise<boolean> {
  const head = await readHead(path);
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

async function copyEntry(src: string, dst: string, st: Stats, owner: { uid: number; gid: number }, mode: number | undefined): Promise<void> {
  await fs.rm(dst, { recursive: false, force: true }).catch(() => undefined);
  if (st.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dst);
  else if (st.isFile()) await fs.copyFile(src, dst);
  else return;
  await fs.lchown(dst, owner.uid, owner.gid);
  if (!st.isSymbolicLink()) {
    await fs.chmod(dst, mode ?? st.mode & 0o7777);
    await fs.utimes(dst, st.atime, st.mtime);
  }
}

async function copyTree(src: string, dst: string, owner: { uid: number; gid: number }, mode: number | undefined): Promise<void> {
  for (const e of await fs.readdir(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    const st = await fs.lstat(s);
    if (st.isDirectory()) {
      const existing = await fs.lstat(d).catch(() => undefined);
      if (!existing?.isDirectory()) {
        if (existing) await fs.rm(d, { force: true });
        await fs.mkdir(d);
      }
      await fs.lchown(d, owner.uid, owner.gid);
      await fs.chmod(d, mode ?? st.mode & 0o7777);
      await copyTree(s, d, owner, mode);
      await fs.utimes(d, st.atime, st.mtime);
    } else await copyEntry(s, d, st, owner, mode);
  }
}

/** A digest of a file or tree: names, kinds, modes, link targets and contents. */
async function treeDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  const visit = async (p: string, rel: string): Promise<void> => {
    const st = await fs.lstat(p);
    h.update(`${rel}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(await fs.readlink(p));
    else if (st.isFile()) {
      for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
    } else if (st.isDirectory()) {
      for (const name of (await fs.readdir(p)).sort()) await visit(join(p, name), `${rel}/${name}`);
    }
  };
  await visit(path, '');
  return h.digest('hex');
}

/** Paths under root matching a glob (`*`, `?`, `[...]` within one element), sorted. */
async function glob(root: string, pattern: string): Promise<string[]> {
  const parts = pattern.split('/');
  let current = [''];
  for (const part of parts) {
    const next: string[] = [];
    const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    for (const base of current) {
      const dir = base ? await resolveInRoot(root, base) : root;
      if (!dir) continue;
      if (!/[*?[]/.test(part)) {
        next.push(base ? `${base}/${part}` : part);
        continue;
      }
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      for (const n of names.sort()) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
    }
    current = next;
  }
  const out: string[] = [];
  for (const c of current) if (await exists(root, c)) out.push(c);
  return out;
}

/**
 * The shell command of a RUN with heredocs. `RUN <<EOF` alone runs the body
 * as the script; otherwise the heredocs stay part of the command, each body
 * followed by its terminator, as a shell reads them. Bodies of unquoted
 * delimiters get the build's variables.
 */
function heredocScript(command: string, heredocs: Heredoc[], env: (name: string) => string | undefined, escapeToken: string): string {
  if (!heredocs.length) return command;
  const body = (h: Heredoc) => (h.expand ? processWord(h.content, env, { escapeToken, rawQuotes: true, rawEscapes: true }) : h.content);
  const only = heredocs.length === 1 && /^\s*<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(command);
  if (only) return body(heredocs[0]!);
  let out = command;
  for (const h of heredocs) out += `\n${body(h)}${h.name}`;
  return out;
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
