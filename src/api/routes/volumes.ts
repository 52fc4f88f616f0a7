/** Volume endpoints: create, list, inspect, remove, prune. */
import type { Engine } from '../../engine/engine.js';
import { invalidArgument } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';
import { volumeBody } from '../wire/volumes.js';

const stringMap = (v: unknown, field: string): Record<string, string> | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw invalidArgument(`invalid JSON: ${field} must be a map of strings`);
  }
  return v as Record<string, string>;
};

async function create(engine: Engine, ctx: Ctx): Promise<void> {
  const body = await ctx.json<Record<string, unknown>>();
  const v = await engine.volumes.create({
    ...(typeof body.Name === 'string' && body.Name ? { name: body.Name } : {}),
    ...(typeof body.Driver === 'string' && body.Driver ? { driver: body.Driver } : {}),
    labels: stringMap(body.Labels, 'Labels'),
    options: stringMap(body.DriverOpts, 'DriverOpts'),
  });
  ctx.send(201, volumeBody(v, engine.volumes.mountpoint(v)));
}

export function volumeRoutes(r: Router, engine: Engine): void {
  r.post('/volumes/create', (ctx) => create(engine, ctx));
  r.get('/volumes', (ctx) => {
    const items = engine.volumes.list(ctx.filters()).map((v) => volumeBody(v, engine.volumes.mountpoint(v)));
    ctx.send(200, { Volumes: items, Warnings: null });
  });
  r.post('/volumes/prune', async (ctx) => {
    const { deleted, reclaimed } = await engine.volumes.prune(ctx.filters());
    ctx.send(200, { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
  r.get('/volumes/{name}', (ctx) => {
    const v = engine.volumes.get(ctx.params.name!);
    ctx.send(200, volumeBody(v, engine.volumes.mountpoint(v)));
  });
  r.delete('/volumes/{name}', async (ctx) => {
    await engine.volumes.remove(ctx.params.name!, { force: ctx.bool('force') });
    ctx.send(204);
  });
}
