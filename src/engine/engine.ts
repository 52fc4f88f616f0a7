/** The engine: every resource service, composed once by the daemon and handed to the API. */
export type { ProgressEvent } from '../core/progress.js';
export type { ContainerRecord, HostConfig } from '../core/containers.js';
export type { MountPoint, VolumeRecord } from '../core/volumes.js';
export type { RegistryAuth } from '../core/distribution.js';
export { hasProcess, isActive } from '../core/containers.js';
import type { Events } from './events.js';
import type { ImageService } from './images.js';
import type { ContainerService } from './containers.js';
import type { VolumeService } from './volumes.js';
import type { ExecService } from './exec.js';
import type { HostFacts } from './system.js';
import type { FileService } from './files.js';
import type { CommitService } from './commit.js';
import type { HealthMonitor } from './health.js';
import type { NetworkService } from './networks.js';
import type { BuildService } from './build.js';
import type { DistributionService } from './distribution.js';

export interface EngineIdentity {
  /** Stable daemon ID, kept in the data root. */
  id: string;
  version: string;
  gitCommit: string;
  dataRoot: string;
  execRoot: string;
  runtimePath: string;
  /** The -H addresses berthd listens on. */
  hosts: string[];
  debug: boolean;
  startedAt: Date;
  insecureRegistries: string[];
}

export interface Engine {
  identity: EngineIdentity;
  host: HostFacts;
  events: Events;
  images: ImageService;
  containers: ContainerService;
  volumes: VolumeService;
  exec: ExecService;
  health: HealthMonitor;
  files: FileService;
  commit: CommitService;
  networks: NetworkService;
  build: BuildService;
  distribution: DistributionService;
}
