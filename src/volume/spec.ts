/**
 * The three ways a container asks for mounts, parsed into mount points with
 * docker's rules and words: `-v` strings (HostConfig.Binds), `--mount`
 * objects (HostConfig.Mounts) and `--volumes-from` references. Volume mount
 * points come back without a source; the engine creates or finds the volume.
 */
import { posix } from 'node:path';
import type { MountPoint } from '../core/volumes.js';
import { invalidArgument } from '../lib/errors.js';

/** A mount point still to be resolved: a volume may bring options and labels for its creation. */
export interface MountRequest extends MountPoint {
  /** Volume driver asked for (volumes only); empty means the default. */
  driverName?: string;
  driverOptions?: Record<string, string>;
  labels?: Record<string, string>;
  /** The volume name was given (not generated). */
  named?: boolean;
}

/** docker's Mount object (HostConfig.Mounts[]), the fields Berth reads. */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const DEFAULT_PROPAGATION = 'rprivate';

/** Each mode word with its group; a mode may hold one word of each group. */
const MODE_GROUP: Record<string, string> = {
  rw: 'rw', ro: 'rw',
  z: 'label', Z: 'label',
  nocopy: 'copy',
  consistent: 'consistency', cached: 'consistency', delegated: 'consistency',
  ...Object.fromEntries([...PROPAGATION].map((p) => [p, 'propagation'])),
};

export function validMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const word of mode.split(',')) {
    const group = MODE_GROUP[word];
    if (!group || seen.has(group)) return false;
    seen.add(group);
  }
  return true;
}

/** Go's path.Clean: normalized, without a trailing slash. */
function clean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const modeWords = (mode: string) => (mode ? mode.split(',') : []);

function checkTarget(type: string, target: string): void {
  if (!posix.isAbsolute(target)) {
    throw invalidArgument(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  }
  if (clean(target) === '/') throw invalidArgument(`invalid specification: destination can't be '/'`);
}

/** A `-v` value: `/host:/ctr[:mode]` binds, `name:/ctr[:mode]` names a volume, `/ctr` asks for an anonymous one. */
export function parseBind(spec: string): MountRequest {
  const parts = spec.split(':');
  let source = '';
  let target: string;
  let mode = '';
  switch (parts.length) {
    case 1:
      target = parts[0]!;
      break;
    case 2:
      // "/foo:rw" is a destination with a mode, which a volume cannot be.
      if (validMode(parts[1]!)) throw invalidArgument(`invalid volume specification: '${spec}'`);
      [source, target] = parts as [string, string];
      break;
    case 3:
      [source, target, mode] = parts as [string, string, string];
      if (!validMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
      break;
    default:
      throw invalidArgument(`invalid volume specification: '${spec}'`);
  }
  if (target === '') throw invalidArgument(`invalid volume specification: '${spec}'`);
  const words = modeWords(mode);
  const rw = !words.includes('ro');
  const bind = posix.isAbsolute(source);
  checkTarget(bind ? 'bind' : 'volume', target);
  const destination = clean(target);
  if (bind) {
    const propagation = words.find((w) => PROPAGATION.has(w)) ?? DEFAULT_PROPAGATION;
    if (words.includes('nocopy')) throw invalidArgument(`invalid mode: ${mode}`);
    return { type: 'bind', source: clean(source), destination, mode, rw, propagation, createSource: true };
  }
  if (words.some((w) => PROPAGATION.has(w))) throw invalidArgument(`invalid mode: ${mode}`);
  return {
    type: 'volume',
    source: '',
    destination,
    mode,
    rw,
    propagation: '',
    copyData: !words.includes('nocopy'),
    ...(source ? { name: source, named: true } : { anonymous: true }),
  };
}

/** A `--mount` object, checked as docker checks it (the bind source's existence is the caller's check). */
export function parseMount(m: ApiMount): MountRequest {
  const type = m.Type ?? '';
  const fail = (msg: string) => invalidArgument(`invalid mount config for type "${type}": ${msg}`);
  const target = m.Target ?? '';
  if (target === '') throw fail('field Target must not be empty');
  const rw = !m.ReadOnly;
  switch (type) {
    case 'bind': {
      if (!m.Source) throw fail('field Source must not be empty');
      if (m.VolumeOptions) throw fail('field VolumeOptions must not be specified');
      if (m.TmpfsOptions) throw fail('field TmpfsOptions must not be specified');
      checkTarget(type, target);
      const propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
      if (!PROPAGATION.has(propagation)) throw fail(`invalid propagation mode: ${propagation}`);
      if (!posix.isAbsolute(m.Source)) throw fail(`invalid mount path: '${m.Source}' mount path must be absolute`);
      return {
        type: 'bind',
        source: clean(m.Source),
        destination: clean(target),
        mode: '',
        rw,
        propagation,
        ...(m.BindOptions?.NonRecursive ? { nonRecursive: true } : {}),
        ...(m.BindOptions?.CreateMountpoint ? { createSource: true } : {}),
      };
    }
    case 'volume': {
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      if (m.TmpfsOptions) throw fail('field TmpfsOptions must not be specified');
      if (m.VolumeOptions?.Subpath) throw fail('volume subpaths are not supported');
      checkTarget(type, target);
      const v = m.VolumeOptions ?? {};
      return {
        type: 'volume',
        source: '',
        destination: clean(target),
        mode: '',
        rw,
        propagation: '',
        copyData: !v.NoCopy,
        ...(m.Source ? { name: m.Source, named: true } : { anonymous: true }),
        ...(v.DriverConfig?.Name ? { driverName: v.DriverConfig.Name } : {}),
        ...(v.DriverConfig?.Options ? { driverOptions: v.DriverConfig.Options } : {}),
        ...(v.Labels ? { labels: v.Labels } : {}),
      };
    }
    case 'tmpfs': {
      if (m.Source) throw fail('field Source must not be specified');
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      if (m.VolumeOptions) throw fail('field VolumeOptions must not be specified');
      checkTarget(type, target);
      const t = m.TmpfsOptions ?? {};
      if ((t.SizeBytes ?? 0) < 0) throw fail('invalid tmpfs size');
      const opts: string[] = [];
      if (!rw) opts.push('ro');
      if (t.SizeBytes) opts.push(`size=${t.SizeBytes}`);
      if (t.Mode) opts.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
      return {
        type: 'tmpfs',
        source: '',
        destination: clean(target),
        mode: '',
        rw,
        propagation: '',
        ...(opts.length ? { tmpfsOptions: opts.join(',') } : {}),
      };
    }
    default:
      throw invalidArgument(`invalid mount config for type "${type}": mount type unknown`);
  }
}

/** A `--volumes-from` value: `container[:ro|:rw]`. */
export function parseVolumesFrom(spec: string): { container: string; rw: boolean } {
  if (spec === '') throw invalidArgument(`volumes-from specification cannot be an empty string`);
  const parts = spec.split(':');
  if (parts.length > 2) throw invalidArgument(`invalid volumes-from specification: ${spec}`);
  const mode = parts[1] ?? 'rw';
  const words = modeWords(mode);
  // Propagation and copy modes stay as the source container set them.
  if (!validMode(mode) || words.some((w) => PROPAGATION.has(w) || w === 'nocopy')) throw invalidArgument(`invalid mode: ${mode}`);
  return { container: parts[0]!, rw: !words.includes('ro') };
}

/** docker's rule for local volume names. */
export function validVolumeName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name);
}
