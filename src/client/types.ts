/**
 * Response shapes of the Engine API (1.51) that the client reads. Only the
 * fields the CLI uses are spelled out; the rest pass through untouched.
 */

export interface PingInfo {
  apiVersion: string;
  osType: string;
  experimental: boolean;
  builderVersion: string;
  swarm?: { nodeState: string; controlAvailable: boolean };
}

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface VersionResponse {
  Platform?: { Name: string };
  Components?: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  [extra: string]: unknown;
}

export interface InfoResponse {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  SystemStatus?: [string, string][] | null;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  DockerRootDir?: string;
  Name?: string;
  Labels?: string[] | null;
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; NodeAddr?: string; ControlAvailable?: boolean; Error?: string; [k: string]: unknown };
  LiveRestoreEnabled?: boolean;
  Isolation?: string;
  InitBinary?: string;
  ContainerdCommit?: { ID?: string; Expected?: string };
  RuncCommit?: { ID?: string; Expected?: string };
  InitCommit?: { ID?: string; Expected?: string };
  SecurityOptions?: string[] | null;
  ProductLicense?: string;
  DefaultAddressPools?: { Base: string; Size: number }[] | null;
  Warnings?: string[] | null;
  CDISpecDirs?: string[] | null;
  DiscoveredDevices?: { Source: string; ID: string }[] | null;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  NEventsListener?: number;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name: string; Mirrors?: string[] | null; Secure: boolean; Official?: boolean }> | null;
    Mirrors?: string[] | null;
    [k: string]: unknown;
  } | null;
  [extra: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
  Manifests?: unknown[];
  Descriptor?: unknown;
  [extra: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: string;
  Size?: number;
  Config?: Record<string, unknown> | null;
  [extra: string]: unknown;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImagePruneReport {
  ImagesDeleted: DeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

export interface ContainerSummary {
  Id: string;
  Names: string[] | null;
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: { Type?: string; Name?: string; Source?: string; Destination?: string; Driver?: string; [k: string]: unknown }[] | null;
  [extra: string]: unknown;
}

export interface VolumeSummary {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
  Scope: string;
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
  [extra: string]: unknown;
}

export interface BuildCacheRecord {
  ID: string;
  Parent?: string;
  Parents?: string[] | null;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}

export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeSummary[] | null;
  BuildCache?: BuildCacheRecord[] | null;
  [extra: string]: unknown;
}

// ───────────────────────────── networks ─────────────────────────────

/** One network of `GET /networks` (and the shape of `GET /networks/{id}`; fields the CLI reads). */
export interface NetworkSummary {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  [extra: string]: unknown;
}

/** `POST /networks/create` reply. */
export interface NetworkCreateResponse {
  Id: string;
  Warning?: string;
}

export interface NetworkPruneReport {
  NetworksDeleted: string[] | null;
}

/** `filters` as docker encodes them: name → set of values. */
export type Filters = Record<string, string[]>;

// ───────────────────────────── containers ─────────────────────────────

/** `POST /containers/create` reply. */
export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[] | null;
}

/** `POST /containers/{id}/wait` reply. */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** The parts of `GET /containers/{id}/json` the CLI reads; the rest pass through. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Image?: string;
  State: {
    Status?: string;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    ExitCode?: number;
    [k: string]: unknown;
  };
  Config: {
    Tty: boolean;
    OpenStdin: boolean;
    AttachStdin?: boolean;
    [k: string]: unknown;
  };
  HostConfig: {
    AutoRemove?: boolean;
    [k: string]: unknown;
  };
  NetworkSettings?: {
    Ports?: Record<string, PortBinding[] | null> | null;
    [k: string]: unknown;
  };
  [extra: string]: unknown;
}

/** `POST /containers/{id}/exec` body (docker's ExecOptions as sent). */
export interface ExecCreateConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize: [number, number] | null;
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  Detach: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[] | null;
}

/** `GET /exec/{id}/json` reply. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ContainerID?: string;
  Pid?: number;
  [extra: string]: unknown;
}

/** `GET /containers/{id}/top` reply. */
export interface ContainerTopResponse {
  Titles: string[] | null;
  Processes: string[][] | null;
}

/** One entry of `GET /containers/{id}/changes` (Kind: 0 modified, 1 added, 2 deleted). */
export interface FilesystemChange {
  Path: string;
  Kind: number;
}

export interface VolumePruneReport {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface ContainerPruneReport {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface ContainerUpdateResponse {
  Warnings: string[] | null;
}

/** The decoded `X-Docker-Container-Path-Stat` header; `mode` carries Go's os.FileMode bits. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** One object of `GET /containers/{id}/stats` (Linux fields the CLI reads). */
export interface ContainerStats {
  read?: string;
  preread?: string;
  name?: string;
  id?: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: { io_service_bytes_recursive?: { major?: number; minor?: number; op: string; value: number }[] | null };
  num_procs?: number;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> | null; privateworkingset?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  storage_stats?: { read_size_bytes?: number; write_size_bytes?: number };
  [extra: string]: unknown;
}

/** One object of `GET /events`. */
export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time?: number;
  timeNano?: number;
  status?: string;
  id?: string;
  from?: string;
  [extra: string]: unknown;
}
