/** Docker's wire shapes for containers. */
import { hasProcess, type ContainerRecord } from '../../engine/engine.js';
import { humanDuration } from '../../lib/units.js';
import { containerNetworkSettings, summaryNetworking, type NetworkView } from './networks.js';
import { mountPointBody } from './volumes.js';

const NO_NETWORK: NetworkView = { networks: () => undefined, endpoints: [], ports: [] };

export function containerInspect(
  c: ContainerRecord,
  paths: { dir: string; logPath: string; rootfs: { upper: string; work: string; merged: string; lower: string[] } | undefined },
  network?: NetworkView,
) {
  const s = c.state;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.Status,
      Running: hasProcess(s.Status),
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: c.image,
    ResolvConfPath: `${paths.dir}/resolv.conf`,
    HostnamePath: `${paths.dir}/hostname`,
    HostsPath: `${paths.dir}/hosts`,
    LogPath: paths.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.hostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: paths.rootfs
        ? { LowerDir: paths.rootfs.lower.join(':'), MergedDir: paths.rootfs.merged, UpperDir: paths.rootfs.upper, WorkDir: paths.rootfs.work }
        : {},
    },
    Mounts: (c.mounts ?? []).map(mountPointBody),
    Config: c.config,
    NetworkSettings: containerNetworkSettings(c, network ?? NO_NETWORK),
  };
}

/** docker ps's Status column text. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  const since = (iso: string) => humanDuration(now - Date.parse(iso));
  switch (s.Status) {
    case 'running':
      return `Up ${since(s.StartedAt)}${s.Health && s.Health.Status !== 'none' ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : ''}`;
    case 'paused':
      return `Up ${since(s.StartedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    default:
      return 'Created';
  }
}

export function containerSummary(c: ContainerRecord, imageName: string, network?: NetworkView) {
  const net = summaryNetworking(c, network ?? NO_NETWORK);
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: imageName,
    ImageID: c.image,
    Command: [c.path, ...c.args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: net.Ports,
    Labels: c.config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode },
    NetworkSettings: net.NetworkSettings,
    Mounts: (c.mounts ?? []).map(mountPointBody),
  };
}

