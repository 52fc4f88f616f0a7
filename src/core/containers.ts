/**
 * Container records: what a container was created with and where its life
 * stands. The configuration keeps docker's Config and HostConfig field names,
 * because they are the vocabulary of the engine's users; the record is stored
 * whole and read back at start, so containers survive daemon restarts.
 */
import type { Digest } from '../lib/digest.js';
import type { HealthConfig } from '../oci/image.js';
import type { EndpointConfig } from './networks.js';
import type { MountPoint } from './volumes.js';

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  [extra: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
  MaximumRetryCount: number;
}

/** docker's HostConfig, kept as sent (with defaults filled in at create). */
export interface HostConfig {
  AutoRemove: boolean;
  RestartPolicy: RestartPolicy;
  NetworkMode: string;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  SecurityOpt: string[] | null;
  Init: boolean | null;
  Memory: number;
  MemoryReservation: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  CpuQuota: number;
  CpuPeriod: number;
  CpusetCpus: string;
  CpusetMems: string;
  PidsLimit: number | null;
  Ulimits: Array<{ Name: string; Soft: number; Hard: number }> | null;
  Tmpfs: Record<string, string> | null;
  ShmSize: number;
  Binds: string[] | null;
  LogConfig: { Type: string; Config: Record<string, string> };
  GroupAdd: string[] | null;
  Sysctls: Record<string, string> | null;
  OomScoreAdj: number;
  PidMode: string;
  IpcMode: string;
  /** The client's terminal size (rows, columns) when it asked for a TTY; [0, 0] when unknown. */
  ConsoleSize?: [number, number];
  [extra: string]: unknown;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** The container's process exists: running, or frozen by pause. */
export function hasProcess(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused';
}

/** Running, frozen, or about to run again: what `ps` lists by default and `rm` refuses without force. */
export function isActive(status: ContainerStatus): boolean {
  return hasProcess(status) || status === 'restarting';
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  OOMKilled: boolean;
  Health?: HealthState;
}

export interface ContainerRecord {
  id: string;
  /** Without docker's leading slash. */
  name: string;
  created: string;
  /** The image ID the container was created from. */
  image: Digest;
  config: ContainerConfig;
  hostConfig: HostConfig;
  path: string;
  args: string[];
  state: ContainerState;
  restartCount: number;
  /** Set when the user stopped it, so `unless-stopped` and `always` know not to restart at daemon start. */
  manuallyStopped: boolean;
  /** The networks it joins when it runs, by name, first the one of its NetworkMode; with what it asked of each. */
  networks?: Record<string, EndpointConfig>;
  /** Volumes, binds and tmpfs mounts resolved at create, by destination (absent on records made before volumes). */
  mounts?: MountPoint[];
}

export interface ContainerStore {
  get(id: string): ContainerRecord | undefined;
  byName(name: string): ContainerRecord | undefined;
  list(): ContainerRecord[];
  /** Inserts or replaces; Conflict when the name belongs to another container. */
  put(record: ContainerRecord): void;
  delete(id: string): void;
}
