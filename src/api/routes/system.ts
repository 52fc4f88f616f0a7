/** /_ping, /version, /info, /system/df, /auth. */
import { readdir } from 'node:fs/promises';
import type { Engine } from '../../engine/engine.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';
import { API_VERSION, MIN_API_VERSION, lessThan } from '../version.js';
import { imageSummary } from '../wire/images.js';
import { hostPlatform } from '../../oci/platform.js';
import { containerSummary } from '../wire/containers.js';
import { volumeBody } from '../wire/volumes.js';
import { toRegistryAuth, type AuthConfig } from '../registryauth.js';
import { invalidArgument } from '../../lib/errors.js';

/** `docker login`: checks the credentials against the registry; the client keeps them. */
async function auth(engine: Engine, ctx: Ctx): Promise<void> {
  const body = await ctx.json<AuthConfig>();
  if (!body || typeof body !== 'object') throw invalidArgument('invalid auth configuration');
  const creds = toRegistryAuth(body) ?? {};
  const { identityToken } = await engine.distribution.login(body.serveraddress ?? '', creds);
  ctx.send(200, { IdentityToken: identityToken, Status: 'Login Succeeded' });
}

/** Insecure registries as docker's info lists them: CIDRs apart, names as insecure index configs. */
function registryConfig(insecure: string[]): Record<string, unknown> {
  const cidrs = ['::1/128', '127.0.0.0/8'];
  const indexes: Record<string, unknown> = { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } };
  for (const r of insecure) {
    if (r.includes('/')) {
      if (!cidrs.includes(r)) cidrs.push(r);
    } else indexes[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  return { InsecureRegistryCIDRs: cidrs, IndexConfigs: indexes, Mirrors: [] };
}

function ping(ctx: Ctx): void {
  ctx.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  ctx.res.setHeader('Pragma', 'no-cache');
  ctx.res.setHeader('Builder-Version', '1');
  ctx.res.setHeader('Swarm', 'inactive');
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
}

export function versionBody(engine: Engine) {
  const id = engine.identity;
  const arch = hostPlatform().architecture;
  return {
    Platform: { Name: 'Berth Engine' },
    Components: [
      {
        Name: 'Engine',
        Version: id.version,
        Details: {
          ApiVersion: API_VERSION,
          Arch: arch,
          BuildTime: '',
          Experimental: 'false',
          GitCommit: id.gitCommit,
          GoVersion: `node${process.versions.node}`,
          KernelVersion: engine.host.kernelVersion,
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
        },
      },
    ],
    Version: id.version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: id.gitCommit,
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: arch,
    KernelVersion: engine.host.kernelVersion,
    BuildTime: '',
  };
}

async function info(engine: Engine, ctx: Ctx): Promise<void> {
  const id = engine.identity;
  const h = engine.host;
  const images = engine.images.count();
  const containers = engine.containers.list();
  const running = containers.filter((c) => c.state.Status === 'running' || c.state.Status === 'restarting').length;
  const paused = containers.filter((c) => c.state.Status === 'paused').length;
  ctx.send(200, {
    ID: id.id,
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: images,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', 'extfs'],
      ['Supports d_type', 'true'],
      ['Using metacopy', 'false'],
      ['Native Overlay Diff', 'true'],
      ['userxattr', 'false'],
    ],
    Plugins: {
      Volume: ['local'],
      Network: ['bridge', 'host', 'null'],
      Authorization: null,
      Log: ['json-file', 'k8s-file'],
    },
    MemoryLimit: h.memoryLimit,
    SwapLimit: h.swapLimit,
    CpuCfsPeriod: h.cpuCfsQuota,
    CpuCfsQuota: h.cpuCfsQuota,
    CPUShares: h.cpuShares,
    CPUSet: h.cpuSet,
    PidsLimit: h.pidsLimit,
    OomKillDisable: h.oomKillDisable,
    IPv4Forwarding: h.ipv4Forwarding,
    Debug: id.debug,
    NFd: await countFds(),
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: h.cgroupVersion,
    NEventsListener: 0,
    KernelVersion: h.kernelVersion,
    OperatingSystem: h.operatingSystem,
    OSVersion: h.osVersion,
    OSType: 'linux',
    Architecture: h.architecture,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: registryConfig(id.insecureRegistries),
    NCPU: h.ncpu,
    MemTotal: h.memTotal,
    GenericResources: null,
    DockerRootDir: id.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: h.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: id.version,
    Runtimes: { runc: { path: id.runtimePath } },
    DefaultRuntime: 'runc',
    Swarm: {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin'],
    CDISpecDirs: [],
    Warnings: [],
  });
}

async function countFds(): Promise<number> {
  return (await readdir('/proc/self/fd').catch(() => [])).length;
}

async function systemDf(engine: Engine, ctx: Ctx): Promise<void> {
  const views = await engine.images.list({ all: true });
  const layerUse = new Map<string, number>();
  for (const v of views) for (const d of v.layerDirs) layerUse.set(d, (layerUse.get(d) ?? 0) + 1);
  const images = views.map((v) => {
    const s = imageSummary(v, ctx.version);
    let shared = 0;
    v.layerDirs.forEach((d, i) => {
      if ((layerUse.get(d) ?? 0) > 1) shared += v.layerSizes[i] ?? 0;
    });
    return { ...s, SharedSize: shared, Containers: engine.images.usersCount(v.record.id) };
  });
  const body: Record<string, unknown> = {
    LayersSize: engine.images.layersSize(),
    Images: images,
    Containers: await Promise.all(
      engine.containers.list().map(async (c) => ({
        ...containerSummary(c, c.config.Image),
        ...(await engine.containers.sizes(c.id)),
      })),
    ),
    Volumes: (await engine.volumes.usage()).map((u) => volumeBody(u.record, engine.volumes.mountpoint(u.record), u)),
    BuildCache: [],
  };
  if (lessThan(ctx.version, '1.42')) delete body.BuildCache;
  ctx.send(200, body);
}

export function systemRoutes(r: Router, engine: Engine): void {
  r.get('/_ping', ping);
  r.head('/_ping', ping);
  r.get('/version', (ctx) => ctx.send(200, versionBody(engine)));
  r.get('/info', (ctx) => info(engine, ctx));
  r.get('/system/df', (ctx) => systemDf(engine, ctx));
  r.post('/auth', (ctx) => auth(engine, ctx));
}
