/** The OCI image data model: descriptors, manifests, indexes and image configs. */
import type { Digest } from '../lib/digest.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config: the defaults a container starts from. */
export interface ContainerDefaults {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
  Shell?: string[];
  [extra: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerDefaults;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  /** Docker's own fields, kept when present. */
  comment?: string;
  docker_version?: string;
  parent?: string;
  container?: string;
  container_config?: ContainerDefaults;
  [extra: string]: unknown;
}

/** Layers whose history entries are not empty_layer, in order, paired with their diff IDs. */
export function layerHistory(config: ImageConfig): Array<{ entry: HistoryEntry; diffId: Digest | undefined }> {
  const out: Array<{ entry: HistoryEntry; diffId: Digest | undefined }> = [];
  let layer = 0;
  for (const entry of config.history ?? []) {
    if (entry.empty_layer) out.push({ entry, diffId: undefined });
    else out.push({ entry, diffId: config.rootfs.diff_ids[layer++] });
  }
  return out;
}

/**
 * Lays `overrides` over `defaults` as docker merges environments: a variable
 * keeps its place when replaced, new ones are appended, and a bare `NAME`
 * (no `=`) removes it.
 */
export function mergeEnv(defaults: string[], overrides: string[]): string[] {
  const out = [...defaults];
  const key = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  for (const e of overrides) {
    const i = out.findIndex((d) => key(d) === key(e));
    if (!e.includes('=')) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
