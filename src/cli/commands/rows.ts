/**
 * Row objects for list output: the fields docker's formatter contexts expose
 * to `--format` templates (containers, volumes, build cache), computed from
 * API replies. Keys are in Go's sorted map order so `{{json .}}` matches.
 */
import type { BuildCacheRecord, ContainerSummary, VolumeSummary } from '../../client/index.js';
import { familiarString, parseNormalized } from '../../client/index.js';
import { humanSize, humanSizeWithPrecision, timeAgo } from '../../lib/units.js';
import { goTimeString } from '../util/gotime.js';
import { ellipsis, truncateID } from './common.js';

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

type Port = NonNullable<ContainerSummary['Ports']>[number];

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** docker's DisplayablePorts: groups consecutive ports, `0.0.0.0:8080->80/tcp`. */
export function displayablePorts(input: Port[]): string {
  const ports = [...input].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const keys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number): string => {
    const parts = key.split('/');
    let type = parts[0]!;
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0]!;
      type = parts[1]!;
    }
    let group = String(start);
    if (start !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      keys.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const k of keys) {
    const g = groups.get(k)!;
    result.push(formGroup(k, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

/** Go's strconv.Quote for the COMMAND column. */
function goQuoted(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface ContainerRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Platform: unknown;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
  /** `{{.Label "key"}}` */
  Label?: (name: string) => string;
}

export function containerRow(c: ContainerSummary, trunc: boolean, now = new Date()): ContainerRow {
  let names = (c.Names ?? []).map((n) => n.slice(1));
  if (trunc) {
    const plain = names.find((n) => n.split('/').length === 1);
    if (plain !== undefined) names = [plain];
  }
  let image = c.Image;
  if (image === '') image = '<no image>';
  else if (trunc) {
    if (truncateID(c.ImageID ?? '') === truncateID(c.Image)) image = truncateID(c.Image);
    else {
      try {
        const ref = parseNormalized(c.Image);
        image = familiarString({ domain: ref.domain, path: ref.path, ...(ref.tag !== undefined ? { tag: ref.tag } : {}) });
      } catch {
        // keep as is
      }
    }
  }
  const labels = c.Labels ?? null;
  const mounts = c.Mounts ?? [];
  const networks = (c['NetworkSettings'] as { Networks?: Record<string, unknown> } | undefined)?.Networks;
  const srw = humanSize(c.SizeRw ?? 0);
  const sizeRootFs = c.SizeRootFs ?? 0;
  const descriptor = c['ImageManifestDescriptor'] as { platform?: { os?: string; architecture?: string; variant?: string } } | undefined;
  const p = descriptor?.platform;
  const row: ContainerRow = {
    Command: goQuoted(trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? ''),
    CreatedAt: goTimeString(c.Created),
    ID: trunc ? truncateID(c.Id) : c.Id,
    Image: image,
    Labels: labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',') : '',
    LocalVolumes: String(mounts.filter((m) => m.Driver === 'local').length),
    Mounts: mounts.map((m) => (trunc ? ellipsis(m.Name ? m.Name : m.Source ?? '', 15) : m.Name ? m.Name : m.Source ?? '')).join(','),
    Names: names.join(','),
    Networks: networks ? Object.keys(networks).join(',') : '',
    Platform: p ? [p.os, p.architecture, p.variant].filter((x) => x).join('/') : null,
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: timeAgo(c.Created, now),
    Size: sizeRootFs > 0 ? `${srw} (virtual ${humanSize(sizeRootFs)})` : srw,
    State: c.State,
    Status: c.Status,
  };
  Object.defineProperty(row, 'Label', { value: (name: string) => (labels ? labels[name] ?? '' : ''), enumerable: false });
  return row;
}

export const VOLUME_HEADERS: Record<string, string> = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

export function volumeRow(v: VolumeSummary): Record<string, unknown> {
  const labels = v.Labels ?? null;
  const cluster = v['ClusterVolume'] as { Spec?: { Group?: string; Availability?: string } } | undefined;
  const row: Record<string, unknown> = {
    Availability: cluster ? cluster.Spec?.Availability ?? '' : 'N/A',
    Driver: v.Driver,
    Group: cluster ? cluster.Spec?.Group ?? '' : 'N/A',
    Labels: labels ? Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(',') : '',
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? humanSizeWithPrecision(v.UsageData.Size, 4) : 'N/A',
    Status: cluster ? 'created' : 'N/A',
  };
  Object.defineProperty(row, 'Label', { value: (name: string) => (labels ? labels[name] ?? '' : ''), enumerable: false });
  return row;
}

export const BUILD_CACHE_HEADERS: Record<string, string> = {
  ID: 'CACHE ID',
  Parent: 'PARENT',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  InUse: 'IN USE',
  Shared: 'SHARED',
  Description: 'DESCRIPTION',
};

export function sortBuildCache(records: BuildCacheRecord[]): BuildCacheRecord[] {
  return [...records].sort((a, b) => {
    const la = a.LastUsedAt ? Date.parse(a.LastUsedAt) : undefined;
    const lb = b.LastUsedAt ? Date.parse(b.LastUsedAt) : undefined;
    if (la === undefined && lb === undefined) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
    if (la === undefined) return -1;
    if (lb === undefined) return 1;
    if (la === lb) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
    return la - lb;
  });
}

export function buildCacheRow(b: BuildCacheRecord, trunc: boolean, now = new Date()): Record<string, unknown> {
  const id = trunc ? truncateID(b.ID) : b.ID;
  const parents = b.Parents && b.Parents.length > 0 ? b.Parents.join(', ') : b.Parent ?? '';
  const created = Date.parse(b.CreatedAt) / 1000;
  const last = b.LastUsedAt ? Date.parse(b.LastUsedAt) / 1000 : undefined;
  return {
    CacheType: b.Type,
    CreatedAt: goTimeString(created),
    CreatedSince: timeAgo(created, now),
    Description: b.Description,
    ID: b.InUse ? `${id}*` : id,
    InUse: String(b.InUse),
    LastUsedAt: last !== undefined ? goTimeString(last) : '',
    LastUsedSince: last !== undefined ? timeAgo(last, now) : '',
    Parent: trunc ? truncateID(parents) : parents,
    Shared: String(b.Shared),
    Size: humanSize(b.Size),
    UsageCount: String(b.UsageCount),
  };
}
