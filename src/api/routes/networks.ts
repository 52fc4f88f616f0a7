/** Network endpoints: create, list, inspect, remove, connect, disconnect, prune. */
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/engine.js';
import type { CreateNetworkRequest, EndpointConfig } from '../../engine/networks.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';
import { networkInspect, type NetworkView } from '../wire/networks.js';

/** What the container shapes need of the networks. */
export function networkView(engine: Engine, c: ContainerRecord): NetworkView {
  const n = engine.networks;
  return {
    networks: (name) => {
      try {
        return n.get(name);
      } catch {
        return undefined;
      }
    },
    endpoints: n.endpointsOf(c.id),
    ports: n.portsOf(c.id),
  };
}

export function networkRoutes(r: Router, engine: Engine): void {
  const n = engine.networks;
  r.get('/networks', (ctx: Ctx) => {
    ctx.send(200, n.list(ctx.filters()).map((x) => networkInspect(x, n.members(x), false)));
  });
  r.get('/networks/{id}', (ctx: Ctx) => {
    const x = n.get(ctx.params.id!);
    ctx.send(200, networkInspect(x, n.members(x)));
  });
  r.post('/networks/create', async (ctx: Ctx) => {
    const body = await ctx.json<CreateNetworkRequest>();
    const out = await n.create(body);
    ctx.send(201, { Id: out.id, Warning: out.warning });
  });
  r.delete('/networks/{id}', async (ctx: Ctx) => {
    await n.remove(ctx.params.id!);
    ctx.send(204);
  });
  r.post('/networks/{id}/connect', async (ctx: Ctx) => {
    const body = await ctx.json<{ Container: string; EndpointConfig?: EndpointConfig | null }>();
    await n.connect(ctx.params.id!, body.Container, body.EndpointConfig ?? {});
    ctx.send(200);
  });
  r.post('/networks/{id}/disconnect', async (ctx: Ctx) => {
    const body = await ctx.json<{ Container: string; Force?: boolean }>();
    await n.disconnect(ctx.params.id!, body.Container, !!body.Force);
    ctx.send(200);
  });
  r.post('/networks/prune', async (ctx: Ctx) => {
    ctx.send(200, { NetworksDeleted: await n.prune(ctx.filters()) });
  });
}
