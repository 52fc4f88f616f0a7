/**
 * Image metadata: which images exist and which names point at them. Blobs
 * (manifests, configs, layers) live in the content store; an image record ties
 * a config digest (the image ID) to its manifest and its layers' chain.
 */
import type { Digest } from '../lib/digest.js';
import type { Descriptor } from '../oci/image.js';

export interface ImageRecord {
  /** The image ID: the digest of its config blob. */
  id: Digest;
  /** The manifest this image was stored or loaded with. */
  manifest: Descriptor;
  /** The manifest list or index it came from, when pulled or loaded through one. */
  index?: Descriptor;
  /** The image this one was built or committed from, docker's "Parent". */
  parent?: Digest;
  /** Milliseconds since the epoch when the image entered this store. */
  added: number;
  /** When a name was last pointed at it (docker's Metadata.LastTagTime), ms. */
  lastTagTime?: number;
}

/** A name is a full normalised reference: `docker.io/library/busybox:latest` or `...@sha256:...`. */
export interface ImageTag {
  name: string;
  id: Digest;
}

export interface ImageMetadata {
  get(id: Digest): ImageRecord | undefined;
  list(): ImageRecord[];
  /** Images whose ID starts with the given hex prefix. */
  byPrefix(hexPrefix: string): ImageRecord[];
  /** Stores the record and points `names` at it, in one transaction. */
  put(record: ImageRecord, names?: string[]): void;
  delete(id: Digest): void;
  resolveName(name: string): Digest | undefined;
  setName(name: string, id: Digest): void;
  removeName(name: string): void;
  names(): ImageTag[];
  namesOf(id: Digest): string[];
}
