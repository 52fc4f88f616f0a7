/**
 * Snapshots: layers extracted on disk, one directory per chain ID, stacked by
 * overlayfs. Image layers are committed and immutable; a container's writable
 * layer is an active snapshot on top of a committed chain.
 */
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../lib/digest.js';

export interface Layer {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  /** Bytes of regular files in this layer alone. */
  size: number;
  /** Length of the uncompressed layer tar, so it can be re-served with a known size. */
  tarSize: number;
  /** The extracted directory, usable as an overlay lowerdir. */
  dir: string;
  created: number;
}

/** A container's writable layer: an overlay upper directory on top of an image's chain. */
export interface RwLayer {
  id: string;
  parent: Digest | null;
  upper: string;
  work: string;
  /** Where the merged view is mounted while the container needs it. */
  merged: string;
}

/** A layer extracted and verified but not yet committed (invisible, removed at start if a crash leaves it). */
export interface PreparedLayer {
  readonly work: string;
  readonly diffId: Digest;
  readonly size: number;
  readonly tarSize: number;
}

export interface Snapshotter {
  get(chainId: Digest): Layer | undefined;
  list(): Layer[];
  /**
   * Extracts an uncompressed layer tar on top of `parent` and commits it. The
   * extraction is invisible until committed; if the chain already exists the
   * new extraction is discarded and the existing layer returned. When
   * `expectedDiffId` is given the tar must hash to it.
   */
  apply(parent: Digest | null, tar: Readable, expectedDiffId?: Digest): Promise<Layer>;
  /**
   * Extracts a stored layer blob (gzip, zstd or plain tar, told by its first
   * bytes) off the main thread, without a parent: layers of one image can be
   * extracted side by side and committed in order with `commitPrepared`.
   * `onData` hears the blob bytes read so far.
   */
  extractBlob(blobPath: string, expectedDiffId?: Digest, onData?: (bytes: number) => void): Promise<PreparedLayer>;
  /**
   * As `extractBlob`, for a layer still arriving: its bytes are written into
   * `input` (a download tees into it). Destroying `input` with an error
   * abandons the extraction, which `prepared` reports.
   */
  extractStream(expectedDiffId?: Digest, onData?: (bytes: number) => void): Promise<{ input: Writable; prepared: Promise<PreparedLayer> }>;
  /** Commits a prepared layer on top of `parent` (which must be committed); as `apply`, an existing chain wins. The preparation is used up either way. */
  commitPrepared(prepared: PreparedLayer, parent: Digest | null): Promise<Layer>;
  /** Drops a prepared layer that will not be committed. */
  discardPrepared(prepared: PreparedLayer): Promise<void>;
  /** Removes a committed layer; FailedPrecondition while another layer sits on it. */
  remove(chainId: Digest): Promise<void>;
  /** Lower directories for a chain, topmost first, as overlay's lowerdir wants them. */
  lowerDirs(chainId: Digest): string[];
  /** An uncompressed tar of one layer's own changes, whiteouts in OCI form. */
  diff(chainId: Digest): Readable;
  /** Removes extractions left by a crash. Called once at start. */
  cleanIncomplete(): Promise<number>;

  /** Creates a writable layer keyed by `id` (a container ID) on top of a committed chain. */
  createRw(id: string, parent: Digest | null): Promise<RwLayer>;
  getRw(id: string): RwLayer | undefined;
  listRw(): RwLayer[];
  /** Mounts the merged view (idempotent) and returns its path. */
  mountRw(id: string): Promise<string>;
  unmountRw(id: string): Promise<void>;
  /** Unmounts and deletes a writable layer. */
  removeRw(id: string): Promise<void>;
  /**
   * Makes an unmounted writable layer's upper directory the committed layer
   * `diffId` on its parent, by moving it, not copying it: the caller has
   * already made the layer's tar from that directory and removes the
   * writable layer afterwards. When the chain exists already it is returned
   * and the upper directory stays where it is. `size` is the sum of its
   * regular files' sizes, `tarSize` the length of its tar.
   */
  commitRw(id: string, diffId: Digest, size: number, tarSize: number): Promise<Layer>;
}
