/**
 * What pull and push remember between runs, and the credentials they are
 * given. Blobs keep the repositories they are known to be in, so a push to
 * the same registry can mount them instead of uploading; uncompressed layers
 * keep the compressed form a push made of them, so the next push of the same
 * layer sends (and finds) the same blob.
 */
import type { Digest } from '../lib/digest.js';

/** Credentials for one registry, as docker's AuthConfig carries them. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An OAuth refresh token a token server handed out at login (docker's IdentityToken). */
  identityToken?: string;
  /** A bearer token to send as is. */
  registryToken?: string;
}

/** A repository of a registry: `127.0.0.1:5000` + `team/app`, `docker.io` + `library/busybox`. */
export interface BlobSource {
  registry: string;
  repository: string;
}

export interface CompressedLayer {
  digest: Digest;
  size: number;
  mediaType: string;
}

export interface DistributionMetadata {
  /** Repositories a blob is known to be in, most recently seen first. */
  sources(digest: Digest): BlobSource[];
  /** Records that a blob is in a repository (pulled from it or pushed to it). */
  addSource(digest: Digest, source: BlobSource): void;
  /** Forgets that a blob is in a repository (a mount or HEAD showed it is not). */
  removeSource(digest: Digest, source: BlobSource): void;
  /** The compressed form a push made of an uncompressed layer, if any. */
  compressed(diffId: Digest, mediaType: string): CompressedLayer | undefined;
  setCompressed(diffId: Digest, layer: CompressedLayer): void;
}
