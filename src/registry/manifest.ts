/**
 * What the registry checks in a pushed manifest: its media type (from the
 * Content-Type, agreeing with the body's `mediaType`), its shape, and the
 * descriptors it references, so that they can be checked against the
 * repository before it is stored.
 */
import { isDigest } from '../lib/digest.js';
import type { Descriptor } from '../oci/image.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, isIndex } from '../oci/mediatypes.js';
import { regError } from './errors.js';

export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

/** Manifests larger than this are refused (the spec asks registries to take at least 4 MiB). */
export const MANIFEST_MAX = 4 << 20;

export interface ParsedManifest {
  mediaType: string;
  kind: 'manifest' | 'index';
  /** The config and layers of an image manifest. */
  blobs: Descriptor[];
  /** The manifests an index lists. */
  children: Descriptor[];
  subject?: Descriptor;
  /** The type the referrers API reports: `artifactType`, else an image manifest's config media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const invalid = (message: string) => regError('MANIFEST_INVALID', message);

function descriptor(v: unknown, where: string): Descriptor {
  if (!v || typeof v !== 'object') throw invalid(`${where}: not a descriptor`);
  const d = v as Record<string, unknown>;
  if (typeof d['mediaType'] !== 'string' || d['mediaType'] === '') throw invalid(`${where}: mediaType missing`);
  if (typeof d['digest'] !== 'string' || !isDigest(d['digest'])) throw invalid(`${where}: invalid or unsupported digest ${JSON.stringify(d['digest'])}`);
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) throw invalid(`${where}: invalid size`);
  return v as Descriptor;
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parses and checks a pushed manifest; MANIFEST_INVALID says what is wrong. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('manifest is not a JSON object');
  const m = body as Record<string, unknown>;
  if (m['schemaVersion'] !== 2) throw invalid(`unsupported schemaVersion ${JSON.stringify(m['schemaVersion'])}`);
  const declared = typeof m['mediaType'] === 'string' ? m['mediaType'] : undefined;
  const header = mediaTypeOf(contentType);
  let mediaType: string;
  if (MANIFEST_TYPES.includes(header)) {
    if (declared !== undefined && declared !== header) throw invalid(`mediaType ${declared} does not match Content-Type ${header}`);
    mediaType = header;
  } else if (declared !== undefined) {
    mediaType = declared;
  } else if ('manifests' in m) {
    mediaType = OCI_INDEX;
  } else {
    mediaType = OCI_MANIFEST;
  }
  if (!MANIFEST_TYPES.includes(mediaType)) throw invalid(`unsupported manifest media type ${mediaType}`);

  const out: ParsedManifest = { mediaType, kind: isIndex(mediaType) ? 'index' : 'manifest', blobs: [], children: [] };
  if (out.kind === 'manifest') {
    out.blobs.push(descriptor(m['config'], 'config'));
    if (!Array.isArray(m['layers'])) throw invalid('layers missing');
    m['layers'].forEach((l, i) => out.blobs.push(descriptor(l, `layers[${i}]`)));
  } else {
    if (!Array.isArray(m['manifests'])) throw invalid('manifests missing');
    m['manifests'].forEach((c, i) => out.children.push(descriptor(c, `manifests[${i}]`)));
  }
  if (m['subject'] !== undefined) out.subject = descriptor(m['subject'], 'subject');
  if (m['artifactType'] !== undefined) {
    if (typeof m['artifactType'] !== 'string') throw invalid('artifactType is not a string');
    out.artifactType = m['artifactType'];
  } else if (out.kind === 'manifest') {
    out.artifactType = out.blobs[0]!.mediaType;
  }
  if (m['annotations'] !== undefined) {
    if (!m['annotations'] || typeof m['annotations'] !== 'object' || Array.isArray(m['annotations'])) throw invalid('annotations is not an object');
    out.annotations = m['annotations'] as Record<string, string>;
  }
  return out;
}

/** Whether the registry must have a referenced blob: layers served from elsewhere (`urls`) are not pushed. */
export function mustExist(d: Descriptor): boolean {
  return !(Array.isArray(d.urls) && d.urls.length > 0);
}
