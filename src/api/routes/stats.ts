/** `GET /containers/{id}/stats` and `POST /containers/{id}/update`. */
import type { Engine } from '../../engine/engine.js';
import { hasProcess, type HostConfig } from '../../engine/engine.js';
import { emptyStats, sample, type StatsSample } from '../../engine/stats.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';

const INTERVAL = 1000;

const isRunning = (engine: Engine, id: string): boolean => {
  try {
    return hasProcess(engine.containers.get(id).state.Status);
  } catch {
    return false;
  }
};

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function stats(engine: Engine, ctx: Ctx): Promise<void> {
  const c = engine.containers.get(ctx.params.id!);
  const stream = ctx.bool('stream', true);
  const oneShot = ctx.bool('one-shot');
  const running = hasProcess(c.state.Status);
  if (!stream) {
    // docker answers a container that does not run with empty stats (only name and ID).
    if (!running) return ctx.send(200, emptyStats(c));
    let s = await sample(c);
    if (!oneShot) {
      await delay(INTERVAL);
      if (isRunning(engine, c.id)) s = await sample(engine.containers.get(c.id), s);
    }
    return ctx.send(200, s);
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  let gone = false;
  ctx.res.on('close', () => (gone = true));
  if (!running) {
    ctx.res.end(`${JSON.stringify(emptyStats(c))}\n`);
    return;
  }
  let prev: StatsSample | undefined;
  while (!gone && isRunning(engine, c.id)) {
    try {
      prev = await sample(engine.containers.get(c.id), prev);
    } catch {
      break;
    }
    if (gone) break;
    ctx.res.write(`${JSON.stringify(prev)}\n`);
    await delay(INTERVAL);
  }
  if (!ctx.res.writableEnded) ctx.res.end();
}

export function statsRoutes(r: Router, engine: Engine): void {
  r.get('/containers/{id}/stats', (ctx) => stats(engine, ctx));
  r.post('/containers/{id}/update', async (ctx) => {
    const body = await ctx.json<Partial<HostConfig>>();
    ctx.send(200, await engine.containers.update(ctx.params.id!, body));
  });
}
