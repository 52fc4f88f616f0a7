/** Docker's wire shapes for volumes and containers' mount points. */
import type { MountPoint, VolumeRecord } from '../../engine/engine.js';

const orNull = (m: Record<string, string>) => (Object.keys(m).length ? m : null);

/** A volume as inspect and list show it; `usage` adds system df's UsageData. */
export function volumeBody(v: VolumeRecord, mountpoint: string, usage?: { size: number; refCount: number }) {
  return {
    CreatedAt: rfc3339(v.created),
    Driver: v.driver,
    Labels: orNull(v.labels),
    Mountpoint: mountpoint,
    Name: v.name,
    Options: orNull(v.options),
    Scope: 'local',
    ...(usage ? { UsageData: { RefCount: usage.refCount, Size: usage.size } } : {}),
  };
}

/** docker shows volume creation times to the second, in UTC: 2024-05-01T10:00:00Z. */
function rfc3339(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A container's mount as inspect's Mounts and ps's Mounts list it. */
export function mountPointBody(m: MountPoint) {
  return {
    Type: m.type,
    ...(m.type === 'volume' ? { Name: m.name ?? '' } : {}),
    Source: m.source,
    Destination: m.destination,
    ...(m.type === 'volume' ? { Driver: m.driver ?? 'local' } : {}),
    Mode: m.mode,
    RW: m.rw,
    Propagation: m.propagation,
  };
}
