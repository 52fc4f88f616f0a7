/**
 * System commands: version, info (system info), system df.
 */
import { eventsDef } from './events.js';
import { ConnectionError, MAX_API_VERSION, type DiskUsage, type InfoResponse, type VersionResponse } from '../../client/index.js';
import { hostPlatform } from '../../client/index.js';
import { PROG, StatusError, type CLI } from '../cli.js';
import { noArgs, type CommandDef, type RunContext } from '../command.js';
import { renderRows as renderList } from '../output.js';
import { tabwriteText } from '../tabwriter.js';
import { compileTemplate } from '../template.js';
import { bytesSize, humanSizeWithPrecision } from '../../lib/units.js';
import { ansic } from '../util/gotime.js';
import { buildInfo } from '../version.js';
import { errorText, FORMAT_HELP, INSPECT_FORMAT_HELP, sortKeys } from './common.js';
import { imageRow, IMAGE_HEADERS } from './images.js';
import {
  BUILD_CACHE_HEADERS,
  buildCacheRow,
  CONTAINER_HEADERS,
  containerRow,
  sortBuildCache,
  VOLUME_HEADERS,
  volumeRow,
} from './rows.js';
import { parseNormalized, familiarName } from '../../client/index.js';

const goHumanSize = (n: number) => humanSizeWithPrecision(n, 4);

// ───────────────────────────── version ─────────────────────────────

const VERSION_TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`.replace(/\\t/g, '\t');

/** The client half of `version`; `APIVersion` reads the JSON field `ApiVersion`, as Go's struct does. */
export class ClientVersion {
  Platform?: { Name: string };
  Version: string;
  ApiVersion: string;
  DefaultAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  BuildTime: string;
  Context: string;

  constructor(cli: CLI, apiVersion: string | undefined) {
    const b = buildInfo();
    this.Version = b.version;
    this.ApiVersion = apiVersion ?? MAX_API_VERSION;
    this.DefaultAPIVersion = MAX_API_VERSION;
    this.GitCommit = b.gitCommit;
    this.GoVersion = process.version;
    this.Os = hostPlatform().os;
    this.Arch = hostPlatform().architecture;
    this.BuildTime = b.buildTime ? ansic(b.buildTime) : '';
    this.Context = cli.contextName;
  }

  get APIVersion(): string {
    return this.ApiVersion;
  }
}
// the template compares .Platform with nil; Go sees a nil pointer when it is unset
Object.defineProperty(ClientVersion.prototype, 'Platform', { value: null, writable: true, enumerable: false });

function detailsOrder(c: { Details?: Record<string, string> }): string[] {
  return Object.keys(c.Details ?? {}).sort();
}

/** Completes the server half like docker: an Engine component and ANSIC build times. */
export function normalizeServerVersion(sv: VersionResponse): VersionResponse {
  const v: VersionResponse = { ...sv, Platform: sv.Platform ?? { Name: '' } };
  const comps = (sv.Components ?? []).map((c) => ({ ...c, Details: { ...(c.Details ?? {}) } }));
  let engine = false;
  for (const c of comps) {
    if (c.Name === 'Engine') {
      engine = true;
      if (c.Details['BuildTime'] !== undefined) c.Details['BuildTime'] = ansic(c.Details['BuildTime']);
    }
  }
  if (!engine) {
    comps.push({
      Name: 'Engine',
      Version: sv.Version,
      Details: {
        ApiVersion: sv.ApiVersion,
        MinAPIVersion: sv.MinAPIVersion ?? '',
        GitCommit: sv.GitCommit ?? '',
        GoVersion: sv.GoVersion ?? '',
        Os: sv.Os,
        Arch: sv.Arch,
        BuildTime: ansic(sv.BuildTime ?? ''),
        Experimental: String(sv.Experimental ?? false),
      },
    });
  }
  v.Components = comps;
  return v;
}

export function renderVersion(format: string, data: { Client: ClientVersion; Server: VersionResponse | null }): string {
  let src = format;
  if (src === '') src = VERSION_TEMPLATE;
  else if (src === 'json') src = '{{json .}}';
  let tmpl;
  try {
    tmpl = compileTemplate(src, { getDetailsOrder: detailsOrder });
  } catch (e) {
    throw new StatusError(e instanceof Error ? e.message : String(e), 64);
  }
  let text: string;
  let failure: unknown;
  try {
    text = tmpl.execute(data);
  } catch (e) {
    failure = e;
    const ctx = (e as { context?: { output?: unknown } }).context;
    text = typeof ctx?.output === 'string' ? ctx.output : '';
  }
  const out = tabwriteText(text + '\n', { minwidth: 20, tabwidth: 1, padding: 1, padchar: ' ' });
  if (failure) {
    const msg = failure instanceof Error ? failure.message : String(failure);
    throw Object.assign(new StatusError(msg.startsWith('template') ? msg : `template: ${msg}`, 1), { partial: out });
  }
  return out;
}

async function runVersion(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const format = flags['format'] as string;
  // validate the template before talking to the daemon
  if (format !== '' && format !== 'json') {
    try {
      compileTemplate(format, { getDetailsOrder: detailsOrder });
    } catch (e) {
      throw new StatusError(e instanceof Error ? e.message : String(e), 64);
    }
  }
  const client = cli.client();
  let apiVersion: string | undefined;
  let serverErr: unknown;
  let server: VersionResponse | null = null;
  try {
    apiVersion = await client.apiVersion();
    server = normalizeServerVersion(await client.version());
  } catch (e) {
    serverErr = e;
  }
  const data = { Client: new ClientVersion(cli, apiVersion ?? client.currentVersion), Server: server };
  try {
    cli.out.write(renderVersion(format, data));
  } catch (e) {
    const partial = (e as { partial?: string }).partial;
    if (partial) cli.out.write(partial);
    if (serverErr) throw serverErr;
    throw e;
  }
  if (serverErr) throw serverErr;
}

// ───────────────────────────── info ─────────────────────────────

/** Go's fmt.Println of a few operands: space separated, newline ended. */
function println(...a: unknown[]): string {
  return a.map((x) => (x === undefined || x === null ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ') + '\n';
}

function nonEmpty(label: string, value: string | undefined): string {
  return value ? println(label, value) : '';
}

/** Decodes `name=seccomp,profile=default` security options. */
export function decodeSecurityOptions(opts: string[]): { name: string; options: { key: string; value: string }[] }[] {
  return opts.map((o) => {
    if (!o.includes('=')) return { name: o, options: [] };
    let name = '';
    const options: { key: string; value: string }[] = [];
    for (const kv of o.split(',')) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new Error(`invalid security option ${JSON.stringify(kv)}`);
      const k = kv.slice(0, eq);
      const v = kv.slice(eq + 1);
      if (k === 'name') name = v;
      else options.push({ key: k, value: v });
    }
    return { name, options };
  });
}

export function renderServerInfo(info: InfoResponse, clientDebug: boolean): { text: string; warnings: string[]; errors: string[] } {
  let s = '';
  const errors: string[] = [];
  s += println(' Containers:', info.Containers ?? 0);
  s += println('  Running:', info.ContainersRunning ?? 0);
  s += println('  Paused:', info.ContainersPaused ?? 0);
  s += println('  Stopped:', info.ContainersStopped ?? 0);
  s += println(' Images:', info.Images ?? 0);
  s += nonEmpty(' Server Version:', info.ServerVersion);
  s += nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) s += `  ${k}: ${v}\n`;
  for (const [k, v] of info.SystemStatus ?? []) s += ` ${k}: ${v}\n`;
  s += nonEmpty(' Logging Driver:', info.LoggingDriver);
  s += nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  s += nonEmpty(' Cgroup Version:', info.CgroupVersion);
  s += println(' Plugins:');
  s += println('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  s += println('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if ((info.Plugins?.Authorization ?? []).length > 0) s += println('  Authorization:', info.Plugins!.Authorization!.join(' '));
  s += println('  Log:', (info.Plugins?.Log ?? []).join(' '));
  if ((info.CDISpecDirs ?? []).length > 0) {
    s += println(' CDI spec directories:');
    for (const d of info.CDISpecDirs!) s += `  ${d}\n`;
  }
  if ((info.DiscoveredDevices ?? []).length > 0) {
    s += println(' Discovered Devices:');
    for (const d of info.DiscoveredDevices!) s += `  ${d.Source}: ${d.ID}\n`;
  }
  const swarm = info.Swarm ?? {};
  s += println(' Swarm:', swarm.LocalNodeState ?? '');
  if (swarm.LocalNodeState && swarm.LocalNodeState !== 'inactive' && swarm.LocalNodeState !== 'locked') {
    s += println('  NodeID:', swarm.NodeID ?? '');
    if (swarm.Error) s += println('  Error:', swarm.Error);
    s += println('  Is Manager:', swarm.ControlAvailable ?? false);
    s += println('  Node Address:', swarm.NodeAddr ?? '');
  }
  const runtimes = Object.keys(info.Runtimes ?? {}).sort();
  if (runtimes.length > 0) {
    s += println(' Runtimes:', runtimes.join(' '));
    s += println(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    s += println(' Init Binary:', info.InitBinary ?? '');
    s += println(' containerd version:', info.ContainerdCommit?.ID ?? '');
    s += println(' runc version:', info.RuncCommit?.ID ?? '');
    s += println(' init version:', info.InitCommit?.ID ?? '');
    if ((info.SecurityOptions ?? []).length > 0) {
      try {
        const kvs = decodeSecurityOptions(info.SecurityOptions!);
        s += println(' Security Options:');
        for (const so of kvs) {
          s += println('  ' + so.name);
          for (const o of so.options) if (o.key === 'profile') s += println('   Profile:', o.value);
        }
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  }
  if (info.OSType === 'windows') s += println(' Default Isolation:', info.Isolation ?? '');
  s += nonEmpty(' Kernel Version:', info.KernelVersion);
  s += nonEmpty(' Operating System:', info.OperatingSystem);
  s += nonEmpty(' OSType:', info.OSType);
  s += nonEmpty(' Architecture:', info.Architecture);
  s += println(' CPUs:', info.NCPU ?? 0);
  s += println(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  s += nonEmpty(' Name:', info.Name);
  s += nonEmpty(' ID:', info.ID);
  s += println(' Docker Root Dir:', info.DockerRootDir ?? '');
  s += println(' Debug Mode:', info.Debug ?? false);
  if (info.Debug || clientDebug) {
    s += println('  File Descriptors:', info.NFd ?? 0);
    s += println('  Goroutines:', info.NGoroutines ?? 0);
    s += println('  System Time:', info.SystemTime ?? '');
    s += println('  EventsListeners:', info.NEventsListener ?? 0);
  }
  s += nonEmpty(' HTTP Proxy:', info.HttpProxy);
  s += nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  s += nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    s += println(' Labels:');
    for (const l of info.Labels!) s += println('  ' + l);
  }
  s += println(' Experimental:', info.ExperimentalBuild ?? false);
  const reg = info.RegistryConfig;
  const indexConfigs = Object.values(reg?.IndexConfigs ?? {});
  const cidrs = reg?.InsecureRegistryCIDRs ?? [];
  if (reg && (cidrs.length > 0 || indexConfigs.length > 0)) {
    s += println(' Insecure Registries:');
    for (const ic of indexConfigs) if (!ic.Secure) s += println('  ' + ic.Name);
    for (const c of cidrs) s += `  ${typeof c === 'string' ? c : JSON.stringify(c)}\n`;
  }
  if (reg && (reg.Mirrors ?? []).length > 0) {
    s += println(' Registry Mirrors:');
    for (const m of reg.Mirrors!) s += println('  ' + m);
  }
  s += println(' Live Restore Enabled:', info.LiveRestoreEnabled ?? false);
  if (info.ProductLicense) s += println(' Product License:', info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length > 0) {
    s += println(' Default Address Pools:');
    for (const p of info.DefaultAddressPools!) s += `   Base: ${p.Base}, Size: ${p.Size}\n`;
  }
  s += '\n';
  return { text: s, warnings: info.Warnings ?? [], errors };
}

interface ClientInfo {
  Debug: boolean;
  Version: string;
  ApiVersion?: string;
  DefaultAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  BuildTime: string;
  Context: string;
  Plugins: unknown[];
  Warnings: string[] | null;
}

function clientInfo(cli: CLI): ClientInfo {
  const v = new ClientVersion(cli, undefined);
  return {
    Debug: cli.debug,
    Version: v.Version,
    DefaultAPIVersion: v.DefaultAPIVersion,
    GitCommit: v.GitCommit,
    GoVersion: v.GoVersion,
    Os: v.Os,
    Arch: v.Arch,
    BuildTime: v.BuildTime,
    Context: v.Context,
    Plugins: [],
    Warnings: null,
  };
}

async function runInfo(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const format = flags['format'] as string;
  const ci = clientInfo(cli);
  const client = cli.client();

  if (format === '') {
    let s = 'Client:\n';
    s += nonEmpty(' Version:   ', ci.Version);
    s += println(' Context:   ', ci.Context);
    s += println(' Debug Mode:', ci.Debug);
    s += '\n';
    s += 'Server:\n';
    cli.out.write(s);
    let info: InfoResponse;
    try {
      info = await client.info();
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      cli.err.write(`ERROR: ${errorText(e)}\n`);
      throw new StatusError('errors pretty printing info', 1);
    }
    const r = renderServerInfo(info, cli.debug);
    cli.out.write(r.text);
    for (const w of r.warnings) cli.err.write(w + '\n');
    if (r.errors.length > 0) {
      for (const e of r.errors) cli.err.write(`ERROR: ${e}\n`);
      throw new StatusError('errors pretty printing info', 1);
    }
    return;
  }

  const src = format === 'json' ? '{{json .}}' : format;
  let tmpl;
  try {
    tmpl = compileTemplate(src);
  } catch (e) {
    throw new StatusError(e instanceof Error ? e.message : String(e), 64);
  }
  // a template that only reads client fields needs no daemon
  const fields = tmpl.fields();
  const clientOnly = src !== '{{json .}}' && fields.length > 0 && fields.every((f) => f === 'ClientInfo' || f === 'ClientErrors');
  let data: Record<string, unknown> = {};
  let connErr: unknown;
  if (!clientOnly) {
    try {
      data = { ...(await client.info()) };
    } catch (e) {
      if (e instanceof ConnectionError) connErr = e;
      else {
        cli.err.write(errorText(e) + '\n');
        data['ServerErrors'] = [errorText(e)];
      }
    }
  }
  data['ClientInfo'] = ci;
  let text = '';
  let tmplErr: unknown;
  try {
    text = tmpl.execute(data);
  } catch (e) {
    tmplErr = e;
    const c = (e as { context?: { output?: unknown } }).context;
    if (typeof c?.output === 'string') text = c.output;
  }
  cli.out.write(text + '\n');
  if (connErr) throw connErr;
  if (tmplErr) throw tmplErr;
}

// ───────────────────────────── system df ─────────────────────────────

const DU_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DU_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const DU_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const DU_VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const DU_BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const DU_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const DU_RAW = 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';

function pct(part: number, total: number): string {
  return total > 0 ? `${goHumanSize(part)} (${Math.trunc((part * 100) / total)}%)` : goHumanSize(part);
}

/** The four summary rows of `system df`. */
export function diskUsageRows(du: DiskUsage): Record<string, string>[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  let usedByContainers = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) !== 0) {
      if (i.Size === -1 || i.SharedSize === -1) continue;
      usedByContainers += i.Size - i.SharedSize;
    }
  }
  const active = (s: string) => s === 'running' || s === 'paused' || s === 'restarting';
  let cSize = 0;
  let cReclaim = 0;
  for (const c of containers) {
    cSize += c.SizeRw ?? 0;
    if (!active(c.State)) cReclaim += c.SizeRw ?? 0;
  }
  let vSize = 0;
  let vReclaim = 0;
  for (const v of volumes) {
    const u = v.UsageData;
    if (u && u.Size !== -1) {
      vSize += u.Size;
      if (u.RefCount === 0) vReclaim += u.Size;
    }
  }
  let builder = 0;
  let inUse = 0;
  for (const b of cache) {
    if (!b.Shared) builder += b.Size;
    if (b.InUse && !b.Shared) inUse += b.Size;
  }
  return [
    {
      Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length),
      Reclaimable: pct(layers - usedByContainers, layers),
      Size: goHumanSize(layers),
      TotalCount: String(images.length),
      Type: 'Images',
    },
    {
      Active: String(containers.filter((c) => active(c.State)).length),
      Reclaimable: pct(cReclaim, cSize),
      Size: goHumanSize(cSize),
      TotalCount: String(containers.length),
      Type: 'Containers',
    },
    {
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Reclaimable: pct(vReclaim, vSize),
      Size: goHumanSize(vSize),
      TotalCount: String(volumes.length),
      Type: 'Local Volumes',
    },
    {
      Active: String(cache.filter((b) => b.InUse).length),
      Reclaimable: goHumanSize(builder - inUse),
      Size: goHumanSize(builder),
      TotalCount: String(cache.length),
      Type: 'Build Cache',
    },
  ];
}

/** The rows `system df -v` lists, per section. */
export function diskUsageDetail(du: DiskUsage, trunc: boolean, now = new Date()) {
  const images = (du.Images ?? []).map((i) => {
    let repo = '<none>';
    let tag = '<none>';
    const tags = i.RepoTags ?? [];
    const dangling =
      (tags.length === 0 && (i.RepoDigests ?? []).length === 0) ||
      (tags.length === 1 && tags[0] === '<none>:<none>' && (i.RepoDigests ?? [])[0] === '<none>@<none>');
    if (tags.length > 0 && !dangling) {
      try {
        const ref = parseNormalized(tags[0]!);
        if (ref.tag !== undefined) {
          repo = familiarName(ref);
          tag = ref.tag;
        }
      } catch {
        return undefined;
      }
    }
    return sortKeys(imageRow(i, trunc, repo, tag, '', now));
  }).filter((x) => x !== undefined);
  const containers = (du.Containers ?? []).map((c) => containerRow({ ...c, SizeRootFs: 0 }, trunc, now));
  const volumes = (du.Volumes ?? []).map(volumeRow);
  const buildCache = sortBuildCache(du.BuildCache ?? []).map((b) => buildCacheRow(b, trunc, now));
  return { Images: images, Containers: containers, Volumes: volumes, BuildCache: buildCache };
}

async function runDf(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const verbose = flags['verbose'] as boolean;
  let format = (flags['format'] as string) || 'table';
  const du = await cli.client().systemDf();
  if (!verbose) {
    if (format === 'raw') format = DU_RAW;
    cli.out.write(renderList(format === 'table' ? DU_TABLE : format, DU_TABLE, diskUsageRows(du), DU_HEADERS));
    return;
  }
  const detail = diskUsageDetail(du, format === 'table' || format.startsWith('table'), new Date());
  if (format === 'table') {
    let builder = 0;
    for (const b of du.BuildCache ?? []) if (!b.Shared) builder += b.Size;
    let s = 'Images space usage:\n\n';
    s += renderList(DU_IMAGE_TABLE, DU_IMAGE_TABLE, detail.Images, IMAGE_HEADERS);
    s += '\nContainers space usage:\n\n';
    s += renderList(DU_CONTAINER_TABLE, DU_CONTAINER_TABLE, detail.Containers, CONTAINER_HEADERS);
    s += '\nLocal Volumes space usage:\n\n';
    s += renderList(DU_VOLUME_TABLE, DU_VOLUME_TABLE, detail.Volumes, VOLUME_HEADERS);
    s += `\nBuild cache usage: ${goHumanSize(builder)}\n\n`;
    s += renderList(DU_BUILD_CACHE_TABLE, DU_BUILD_CACHE_TABLE, detail.BuildCache, BUILD_CACHE_HEADERS);
    cli.out.write(s);
    return;
  }
  // a custom template runs once over the whole report
  let src = format;
  if (src === 'json') src = '{{json .}}';
  else if (src.startsWith('table')) src = src.slice(5);
  src = src.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let tmpl;
  try {
    tmpl = compileTemplate(src);
  } catch (e) {
    throw new StatusError(e instanceof Error ? e.message : String(e), 1);
  }
  cli.out.write(tmpl.execute(detail));
}

// ───────────────────────────── definitions ─────────────────────────────

export function versionDef(): CommandDef {
  return {
    name: 'version',
    use: '[OPTIONS]',
    short: 'Show the Berth version information',
    top: 10,
    args: noArgs,
    flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
    run: runVersion,
  };
}

function infoDef(top?: number): CommandDef {
  const d: CommandDef = {
    name: 'info',
    use: '[OPTIONS]',
    short: 'Display system-wide information',
    aliasesLine: `${PROG} system info, ${PROG} info`,
    args: noArgs,
    flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
    run: runInfo,
  };
  if (top !== undefined) d.top = top;
  return d;
}

export function infoTopDef(): CommandDef {
  return infoDef(12);
}

export function systemGroup(): CommandDef {
  return {
    name: 'system',
    short: 'Manage Berth',
    args: noArgs,
    sub: [
      {
        name: 'df',
        use: '[OPTIONS]',
        short: 'Show berth disk usage',
        args: noArgs,
        flags: [
          { name: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
          { name: 'format', type: 'string', usage: FORMAT_HELP },
        ],
        run: runDf,
      },
      eventsDef(),
      infoDef(),
    ],
  };
}

