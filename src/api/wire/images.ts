/** Docker's wire shapes for images, per API version. */
import type { ImageView, HistoryItem, DeleteResult } from '../../engine/images.js';
import { createdMs } from '../../engine/images.js';
import type { ContainerDefaults } from '../../oci/image.js';
import { repoDigest, repoTag } from '../../oci/reference.js';
import { lessThan } from '../version.js';

function tagsAndDigests(view: ImageView): { tags: string[]; digests: string[] } {
  const tags: string[] = [];
  const digests: string[] = [];
  for (const n of view.names) {
    const t = repoTag(n);
    if (t && !n.digest) tags.push(t);
    const d = repoDigest(n);
    if (d) digests.push(d);
  }
  return { tags, digests };
}

export function imageSummary(view: ImageView, version: string) {
  let { tags, digests } = tagsAndDigests(view);
  if (tags.length === 0 && digests.length === 0 && lessThan(version, '1.43')) {
    tags = ['<none>:<none>'];
    digests = ['<none>@<none>'];
  }
  const body: Record<string, unknown> = {
    Containers: -1,
    Created: Math.floor(createdMs(view.config, view.record) / 1000),
    Id: view.record.id,
    Labels: view.config.config?.Labels ?? {},
    ParentId: view.record.parent ?? '',
    RepoDigests: digests,
    RepoTags: tags,
    SharedSize: -1,
    Size: view.size,
  };
  if (lessThan(version, '1.44')) body.VirtualSize = view.size;
  return body;
}

/** The image's container defaults; before API 1.50 docker sent them in the container Config shape. */
function configShape(c: ContainerDefaults | undefined, version: string): Record<string, unknown> {
  const base: Record<string, unknown> = {
    User: c?.User ?? '',
    ExposedPorts: c?.ExposedPorts ?? undefined,
    Env: c?.Env ?? null,
    Cmd: c?.Cmd ?? null,
    Healthcheck: c?.Healthcheck ?? undefined,
    ArgsEscaped: c?.ArgsEscaped ?? undefined,
    Volumes: c?.Volumes ?? null,
    WorkingDir: c?.WorkingDir ?? '',
    Entrypoint: c?.Entrypoint ?? null,
    OnBuild: c?.OnBuild ?? null,
    Labels: c?.Labels ?? null,
    StopSignal: c?.StopSignal ?? undefined,
    Shell: c?.Shell ?? undefined,
  };
  if (lessThan(version, '1.50')) {
    return {
      Hostname: '',
      Domainname: '',
      User: base.User,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: base.ExposedPorts,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: base.Env,
      Cmd: base.Cmd,
      Healthcheck: base.Healthcheck,
      ArgsEscaped: base.ArgsEscaped,
      Image: '',
      Volumes: base.Volumes,
      WorkingDir: base.WorkingDir,
      Entrypoint: base.Entrypoint,
      OnBuild: base.OnBuild,
      Labels: base.Labels,
      StopSignal: base.StopSignal,
      Shell: base.Shell,
    };
  }
  return base;
}

export function imageInspect(view: ImageView, version: string) {
  const { tags, digests } = tagsAndDigests(view);
  const cfg = view.config;
  const dirs = [...view.layerDirs].reverse();
  const data: Record<string, string> = {};
  if (dirs.length > 0) {
    const top = dirs[0]!;
    data.UpperDir = top;
    data.MergedDir = top.replace(/\/fs$/, '/merged');
    data.WorkDir = top.replace(/\/fs$/, '/work');
    if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
  }
  const body: Record<string, unknown> = {
    Id: view.record.id,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: view.record.parent ?? '',
    Comment: cfg.comment ?? (cfg.history?.length ? (cfg.history[cfg.history.length - 1]!.comment ?? '') : ''),
    Created: cfg.created ?? new Date(view.record.added).toISOString(),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: configShape(cfg.config, version),
    Architecture: cfg.architecture,
    Variant: cfg.variant,
    Os: cfg.os,
    OsVersion: cfg['os.version'],
    Size: view.size,
    GraphDriver: { Name: 'overlay2', Data: data },
    RootFS: { Type: 'layers', Layers: cfg.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: view.record.lastTagTime ? new Date(view.record.lastTagTime).toISOString() : '0001-01-01T00:00:00Z' },
  };
  if (lessThan(version, '1.44')) body.VirtualSize = view.size;
  if (lessThan(version, '1.45')) {
    body.Container = cfg.container ?? '';
    body.ContainerConfig = configShape(cfg.container_config, '1.49');
  }
  return body;
}

export function historyItems(items: HistoryItem[]) {
  return items.map((h) => ({ Id: h.id, Created: h.created, CreatedBy: h.createdBy, Tags: h.tags.length ? h.tags : null, Size: h.size, Comment: h.comment }));
}

export function deleteItems(items: DeleteResult[]) {
  return items.map((d) => (d.untagged ? { Untagged: d.untagged } : { Deleted: d.deleted }));
}
