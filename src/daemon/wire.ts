/** Composition root: opens the stores, reconciles them after a crash, and builds the engine. */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import { Events } from '../engine/events.js';
import { ImageService } from '../engine/images.js';
import { ContainerService } from '../engine/containers.js';
import { VolumeService } from '../engine/volumes.js';
import { LocalDriver } from '../volume/local.js';
import { SqliteVolumes } from '../store/volumes.js';
import { ExecService } from '../engine/exec.js';
import { FileService } from '../engine/files.js';
import { CommitService } from '../engine/commit.js';
import { HealthMonitor } from '../engine/health.js';
import { ConmonRuntime } from '../runtime/conmon.js';
import { findExecHelper } from '../runtime/exec.js';
import { SqliteContainers } from '../store/containers.js';
import { SqliteNetworks } from '../store/networks.js';
import { NetworkService, tableName } from '../engine/networks.js';
import { BuildService } from '../engine/build.js';
import { DistributionService, registryOf } from '../engine/distribution.js';
import { formatPlatform } from '../oci/platform.js';
import { parseNormalized } from '../oci/reference.js';
import { SqliteDistribution } from '../store/distribution.js';
import { hasProcess } from '../core/containers.js';
import { constants as fsConstants, existsSync } from 'node:fs';
import { hostFacts } from '../engine/system.js';
import { RWLock } from '../lib/lock.js';
import type { Logger } from '../lib/log.js';
import { FileContentStore } from '../store/content.js';
import { openDb, type DB } from '../store/db.js';
import { collectGarbage } from '../store/gc.js';
import { SqliteImages } from '../store/images.js';
import { OverlaySnapshotter } from '../store/snapshots.js';
import type { DaemonConfig } from './config.js';

export const BERTH_VERSION = '0.1.0';

export interface Wired {
  engine: Engine;
  db: DB;
  close(): void;
}

async function engineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    return (await fs.readFile(path, 'utf8')).trim();
  } catch {
    const id = randomUUID();
    await fs.writeFile(path, `${id}\n`, { mode: 0o600 });
    return id;
  }
}

export async function wire(cfg: DaemonConfig, log: Logger): Promise<Wired> {
  const db = openDb(join(cfg.dataRoot, 'metadata.db'));
  const content = new FileContentStore(join(cfg.dataRoot, 'content'));
  await content.init();
  const snapshots = new OverlaySnapshotter(db, join(cfg.dataRoot, 'snapshots'));
  await snapshots.init();
  const images = new SqliteImages(db);
  const lock = new RWLock();
  const events = new Events();

  // Reconcile what a crash may have left: ingests, half-extracted layers, unreferenced content.
  const ingests = await content.cleanIngests();
  const incomplete = await snapshots.cleanIncomplete();
  const gc = await collectGarbage(content, images, snapshots);
  if (ingests || incomplete || gc.blobsRemoved || gc.layers.length) {
    log.info('cleaned up after an unclean stop', {
      ingests,
      incompleteLayers: incomplete,
      blobs: gc.blobsRemoved,
      layers: gc.layers.length,
    });
  }

  const collect = () =>
    lock.exclusive(async () => {
      const r = await collectGarbage(content, images, snapshots);
      return { layers: r.layers, bytes: r.bytesFreed };
    });
  const imageService = new ImageService({ content, images, snapshots, lock, events, collect });

  const runtime = new ConmonRuntime({
    runc: await lookPath(cfg.runtime),
    conmon: await lookPath(cfg.conmon),
    root: join(cfg.execRoot, 'runc'),
    exitDir: join(cfg.execRoot, 'exits'),
    socketDir: join(cfg.execRoot, 'conmon'),
    execHelper: findExecHelper(),
    seccompDir: join(cfg.execRoot, 'seccomp'),
  });
  await runtime.init();
  const containersRoot = join(cfg.dataRoot, 'containers');
  await fs.mkdir(containersRoot, { recursive: true, mode: 0o710 });
  const initPath = ['/usr/bin/tini-static', '/usr/bin/docker-init'].find((p) => existsSync(p));
  const containerStore = new SqliteContainers(db);
  const volumeDriver = new LocalDriver(join(cfg.dataRoot, 'volumes'));
  await volumeDriver.init();
  const volumes = new VolumeService({ store: new SqliteVolumes(db), driver: volumeDriver, containers: containerStore, events, log });
  const networks = new NetworkService({
    store: new SqliteNetworks(db),
    events,
    log,
    bridge: cfg.bridge,
    ...(cfg.bip ? { bip: cfg.bip } : {}),
    table: tableName(cfg.dataRoot),
    containers: {
      get: (ref) => containers.get(ref),
      list: () => containerStore.list(),
      save: (c) => containerStore.put(c),
      dir: (c) => containers.dir(c),
    },
  });
  const containers: ContainerService = new ContainerService({
    network: networks,
    store: containerStore,
    snapshots,
    runtime,
    images: imageService,
    volumes,
    events,
    log,
    root: containersRoot,
    ...(initPath ? { initPath } : {}),
  });
  imageService.setUsers(containers);
  const exec = new ExecService(containers, runtime, events);
  const health = new HealthMonitor({ exec, store: containerStore, events, log });
  containers.onStarted = (id) => health.start(id);
  containers.onStopped = (id) => {
    health.stop(id);
    exec.stopped(id);
  };
  await networks.init();
  await volumes.restore();
  await containers.restore();
  containers.watch();
  // Containers still running from before the daemon started get their health checks back.
  for (const c of containerStore.list()) if (hasProcess(c.state.Status)) health.start(c.id, true);

  const distribution = new DistributionService({
    content,
    images,
    snapshots,
    meta: new SqliteDistribution(db),
    lock,
    events,
    collect,
    hosts: { insecure: cfg.insecureRegistries, certDirs: cfg.registryCertsDirs, userAgent: `berth/${BERTH_VERSION}` },
  });
  const build = new BuildService({ containers, images: imageService, imageStore: images, content, snapshots, lock, events, db, tmp: join(cfg.dataRoot, 'tmp'), cacheMounts: join(cfg.dataRoot, 'buildcache'),
    pull: ({ ref, platform, auths }, progress) => {
      const registry = parseNormalized(ref).domain;
      const auth = Object.entries(auths).find(([server]) => registryOf(server) === registry)?.[1];
      return distribution.pull({ image: ref, ...(platform ? { platform: formatPlatform(platform) } : {}), ...(auth ? { auth } : {}) }, progress);
    },
  });
  await build.init();
  const engine: Engine = {
    identity: {
      id: await engineId(cfg.dataRoot),
      version: BERTH_VERSION,
      gitCommit: process.env.BERTH_GIT_COMMIT ?? '',
      dataRoot: cfg.dataRoot,
      execRoot: cfg.execRoot,
      runtimePath: cfg.runtime,
      hosts: cfg.hosts,
      debug: cfg.debug,
      startedAt: new Date(),
      insecureRegistries: cfg.insecureRegistries,
    },
    host: await hostFacts(),
    events,
    images: imageService,
    containers,
    volumes,
    exec,
    files: new FileService({ containers, snapshots, events }),
    commit: new CommitService({ containers, images: imageService, imageStore: images, content, snapshots, lock, events }),
    health,
    networks,
    build,
    distribution,
  };
  return {
    engine,
    db,
    close: () => {
      health.close();
      containers.close();
      void networks.close();
      db.close();
    },
  };
}

/** An absolute path for a program named on the command line, searched in PATH like a shell would. */
async function lookPath(name: string): Promise<string> {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = join(dir || '.', name);
    if (await fs.access(candidate, fsConstants.X_OK).then(() => true, () => false)) return candidate;
  }
  return name;
}
