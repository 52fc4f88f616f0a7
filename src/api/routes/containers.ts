/** Container endpoints: create, list, inspect, start/stop/kill/restart, wait, attach, logs, remove. */
import type { Engine } from '../../engine/engine.js';
import type { AttachSink } from '../../engine/containers.js';
import { followLog, formatNano, logSize, readLog, type LogEntry } from '../../engine/logs.js';
import { invalidArgument } from '../../lib/errors.js';
import { familiarString, parseNormalized } from '../../oci/reference.js';
import type { Ctx } from '../context.js';
import { frame, hijack, STDERR, STDOUT } from '../hijack.js';
import type { Router } from '../router.js';
import { containerInspect, containerSummary } from '../wire/containers.js';
import type { EndpointConfig } from '../../engine/networks.js';
import { networkView } from './networks.js';
import { isActive } from '../../engine/engine.js';
import { matchesLabels, parseTimestampNano } from '../../engine/filters.js';

async function create(engine: Engine, ctx: Ctx): Promise<void> {
  const body = await ctx.json<Record<string, unknown>>();
  const { HostConfig, NetworkingConfig, ...config } = body;
  const name = ctx.query.get('name') ?? undefined;
  const endpoints = (NetworkingConfig as { EndpointsConfig?: Record<string, EndpointConfig> } | undefined)?.EndpointsConfig ?? null;
  const out = await engine.containers.create({ ...(name ? { name } : {}), config: config as never, hostConfig: (HostConfig ?? {}) as never, endpoints });
  ctx.send(201, { Id: out.id, Warnings: out.warnings });
}

function imageName(engine: Engine, image: string, given: string): string {
  try {
    const resolved = engine.images.resolve(given);
    if (resolved.id === image) return familiarString(parseNormalized(given));
  } catch {
    // The name moved or is gone: docker shows the image ID then.
  }
  return image;
}

async function list(engine: Engine, ctx: Ctx): Promise<void> {
  const all = ctx.bool('all');
  const limit = ctx.int('limit', -1)!;
  const filters = ctx.filters();
  let items = engine.containers.list();
  if (!all && limit <= 0) items = items.filter((c) => isActive(c.state.Status));
  for (const [key, values] of filters) {
    items = items.filter((c) => {
      switch (key) {
        case 'id':
          return values.some((v) => c.id.startsWith(v));
        case 'name':
          return values.some((v) => new RegExp(v.replace(/^\//, '')).test(c.name));
        case 'status':
          return values.includes(c.state.Status);
        case 'exited':
          return c.state.Status === 'exited' && values.includes(String(c.state.ExitCode));
        case 'label':
          return matchesLabels(c.config.Labels, values);
        case 'ancestor':
          return values.some((v) => {
            try {
              return engine.images.resolve(v).id === c.image;
            } catch {
              return false;
            }
          });
        case 'before':
          return values.every((v) => Date.parse(c.created) < Date.parse(engine.containers.get(v).created));
        case 'since':
          return values.every((v) => Date.parse(c.created) > Date.parse(engine.containers.get(v).created));
        case 'is-task':
          return values.includes('false');
        case 'health':
          return values.includes(c.state.Health?.Status ?? 'none');
        case 'volume':
          return values.some((v) => (c.mounts ?? []).some((m) => m.name === v || m.destination === v));
        default:
          throw invalidArgument(`invalid filter '${key}'`);
      }
    });
  }
  if (limit > 0) items = items.slice(0, limit);
  const withSize = ctx.bool('size');
  ctx.send(
    200,
    await Promise.all(
      items.map(async (c) => ({
        ...containerSummary(c, imageName(engine, c.image, c.config.Image), networkView(engine, c)),
        ...(withSize ? await engine.containers.sizes(c.id) : {}),
      })),
    ),
  );
}

async function inspect(engine: Engine, ctx: Ctx): Promise<void> {
  const c = engine.containers.get(ctx.params.id!);
  const body = containerInspect(c, { dir: engine.containers.dir(c), logPath: engine.containers.logPath(c), rootfs: engine.containers.layerPaths(c.id) }, networkView(engine, c));
  ctx.send(200, ctx.bool('size') ? { ...body, ...(await engine.containers.sizes(c.id)) } : body);
}

async function wait(engine: Engine, ctx: Ctx): Promise<void> {
  const condition = (ctx.opt('condition') || 'not-running') as 'not-running' | 'next-exit' | 'removed';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`);
  const pending = engine.containers.wait(ctx.params.id!, condition);
  // The docker CLI blocks until the headers arrive, and only then starts the container.
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  const r = await pending;
  ctx.res.end(`${JSON.stringify(r)}\n`);
}

async function attach(engine: Engine, ctx: Ctx): Promise<void> {
  const c = engine.containers.get(ctx.params.id!);
  const wantStdin = ctx.bool('stdin');
  const stream = hijack(ctx, c.config.Tty);
  if (ctx.bool('logs')) {
    for (const e of await readLog(engine.containers.logPath(c))) {
      if ((e.stream === 'stdout' && ctx.bool('stdout')) || (e.stream === 'stderr' && ctx.bool('stderr'))) stream.write(e.stream, e.data);
    }
  }
  if (!ctx.bool('stream')) {
    stream.end();
    return;
  }
  const sink: AttachSink = {
    stdout: ctx.bool('stdout'),
    stderr: ctx.bool('stderr'),
    ...(wantStdin ? { stdin: stream.input } : {}),
    write: (which, data) => stream.write(which, data),
    end: () => stream.end(),
  };
  stream.onClose(() => {
    try {
      engine.containers.detach(c.id, sink);
    } catch {
      // removed meanwhile
    }
  });
  await engine.containers.attach(c.id, sink);
}

async function logs(engine: Engine, ctx: Ctx): Promise<void> {
  const c = engine.containers.get(ctx.params.id!);
  const stdout = ctx.bool('stdout');
  const stderr = ctx.bool('stderr');
  if (!stdout && !stderr) throw invalidArgument('You must choose at least one stream');
  const follow = ctx.bool('follow');
  const timestamps = ctx.bool('timestamps');
  const tailRaw = ctx.opt('tail') ?? 'all';
  const tail = tailRaw === 'all' || tailRaw === '' ? -1 : Number(tailRaw);
  const since = parseTimestampNano(ctx.opt('since')) ?? 0n;
  const until = parseTimestampNano(ctx.opt('until')) ?? 0n;
  const tty = c.config.Tty;
  ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  ctx.res.flushHeaders();
  const emit = (e: LogEntry) => {
    if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) return;
    if (since && e.time < since) return;
    if (until && e.time > until) return;
    const text = timestamps ? Buffer.concat([Buffer.from(`${formatNano(e.time)} `), e.data]) : e.data;
    ctx.res.write(tty ? text : frame(e.stream === 'stdout' ? STDOUT : STDERR, text));
  };
  const path = engine.containers.logPath(c);
  const offset = await logSize(path);
  let entries = await readLog(path);
  if (tail >= 0) entries = tail === 0 ? [] : entries.slice(-tail);
  entries.forEach(emit);
  const current = engine.containers.get(c.id);
  if (!follow || !isActive(current.state.Status) || (until && until < BigInt(Date.now()) * 1_000_000n)) {
    ctx.res.end();
    return;
  }
  const stop = followLog(path, offset, emit);
  const done = () => {
    stop();
    if (!ctx.res.writableEnded) ctx.res.end();
  };
  ctx.res.on('close', stop);
  engine.containers.wait(c.id, 'next-exit').then(
    () => setTimeout(done, 100),
    () => done(),
  );
}

export function containerRoutes(r: Router, engine: Engine): void {
  r.post('/containers/create', (ctx) => create(engine, ctx));
  r.get('/containers/json', (ctx) => list(engine, ctx));
  r.post('/containers/prune', async (ctx) => {
    const { deleted, reclaimed } = await engine.containers.prune(ctx.filters());
    ctx.send(200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
  r.get('/containers/{id}/json', (ctx) => inspect(engine, ctx));
  r.post('/containers/{id}/start', async (ctx) => {
    await engine.containers.start(ctx.params.id!);
    ctx.send(204);
  });
  r.post('/containers/{id}/stop', async (ctx) => {
    await engine.containers.stop(ctx.params.id!, ctx.int('t'), ctx.opt('signal'));
    ctx.send(204);
  });
  r.post('/containers/{id}/restart', async (ctx) => {
    await engine.containers.restart(ctx.params.id!, ctx.int('t'), ctx.opt('signal'));
    ctx.send(204);
  });
  r.post('/containers/{id}/kill', async (ctx) => {
    await engine.containers.kill(ctx.params.id!, ctx.opt('signal') || 'SIGKILL');
    ctx.send(204);
  });
  r.post('/containers/{id}/pause', async (ctx) => {
    await engine.containers.pause(ctx.params.id!);
    ctx.send(204);
  });
  r.post('/containers/{id}/unpause', async (ctx) => {
    await engine.containers.unpause(ctx.params.id!);
    ctx.send(204);
  });
  r.post('/containers/{id}/rename', (ctx) => {
    engine.containers.rename(ctx.params.id!, ctx.opt('name') ?? '');
    ctx.send(204);
  });
  r.post('/containers/{id}/resize', async (ctx) => {
    await engine.containers.resize(ctx.params.id!, ctx.int('h', 0)!, ctx.int('w', 0)!);
    ctx.send(200);
  });
  r.post('/containers/{id}/wait', (ctx) => wait(engine, ctx));
  r.get('/containers/{id}/top', async (ctx) => ctx.send(200, await engine.containers.top(ctx.params.id!, ctx.opt('ps_args') ?? '-ef')));
  r.post('/containers/{id}/attach', (ctx) => attach(engine, ctx));
  r.get('/containers/{id}/logs', (ctx) => logs(engine, ctx));
  r.delete('/containers/{id}', async (ctx) => {
    await engine.containers.remove(ctx.params.id!, { force: ctx.bool('force'), volumes: ctx.bool('v') });
    ctx.send(204);
  });
}
