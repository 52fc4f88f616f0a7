/**
 * Volumes: named directories that outlive containers, and the mount points
 * that tie them (and host binds and tmpfs mounts) to containers.
 *
 * A volume's metadata (name, driver, labels, options, creation time) lives in
 * a VolumeStore; its data lives with its driver. The engine's volume service
 * owns both and is the only caller of either.
 */

export interface VolumeRecord {
  name: string;
  /** The driver that holds the data; only "local" exists. */
  driver: string;
  labels: Record<string, string>;
  /** Driver options as given at create (the local driver knows type, device and o). */
  options: Record<string, string>;
  /** ISO 8601 time of creation. */
  created: string;
}

export interface VolumeStore {
  get(name: string): VolumeRecord | undefined;
  list(): VolumeRecord[];
  /** Inserts; Conflict when the name exists. */
  add(record: VolumeRecord): void;
  delete(name: string): void;
}

/**
 * A volume driver keeps each volume's data in a directory the engine binds
 * into containers. Mounting is counted per holder (a container ID): a volume
 * whose options ask for a file system (tmpfs, a bind of a host directory) is
 * mounted when its first holder mounts it and unmounted when its last holder
 * lets go. The driver keeps the holders in memory; the engine re-declares
 * them after a daemon restart with `adopt`.
 */
export interface VolumeDriver {
  readonly name: string;
  /** Checks the options; InvalidArgument with docker's words when one is unknown or missing. */
  validate(options: Record<string, string>): void;
  /** Makes the volume's directory; idempotent. */
  create(name: string, options: Record<string, string>): Promise<void>;
  /** The host directory holding the volume's data (docker's Mountpoint). */
  path(name: string): string;
  /** Makes the data available for `holder` and returns its host path. */
  mount(name: string, options: Record<string, string>, holder: string): Promise<string>;
  /** Drops `holder`; the last one out unmounts what `mount` mounted. True when `holder` held the volume. */
  unmount(name: string, holder: string): Promise<boolean>;
  /** Records a holder of an already mounted volume (live restore), without mounting. */
  adopt(name: string, holder: string): void;
  /** Unmounts volumes nobody holds (left mounted by a crash). */
  sweep(names: string[]): Promise<void>;
  /** Unmounts if needed and deletes the data. */
  remove(name: string): Promise<void>;
  /** Bytes used by the volume's data. */
  size(name: string): Promise<number>;
}

/** Label docker puts on volumes it made for a container without a name. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/**
 * A container's mount as recorded at create and reported by inspect
 * (docker's MountPoint). Volumes carry their name; their source is resolved
 * again at each start from the driver.
 */
export interface MountPoint {
  type: 'volume' | 'bind' | 'tmpfs';
  /** The volume's name (volumes only). */
  name?: string;
  /** Host path for binds; the volume's data directory for volumes; empty for tmpfs. */
  source: string;
  destination: string;
  /** The volume driver (volumes only). */
  driver?: string;
  /** The mode string docker reports ("z", "ro", "rw,z", or empty). */
  mode: string;
  rw: boolean;
  /** Bind propagation ("rprivate" by default for binds, empty otherwise). */
  propagation: string;
  /** Copy the image's content at the destination into the volume when it is empty. */
  copyData?: boolean;
  /** The volume was made for this container alone (`-v /path`, image VOLUME, --mount without source). */
  anonymous?: boolean;
  /** A missing bind source is made at start (`-v`); otherwise it is an error (`--mount`). */
  createSource?: boolean;
  /** Bind without the mounts below the source (bind-nonrecursive). */
  nonRecursive?: boolean;
  /** tmpfs mount options (size=, mode=), as --tmpfs takes them. */
  tmpfsOptions?: string;
}
