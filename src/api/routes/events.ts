/** GET /events: past events from `since`, then live ones until `until` or the client leaves. */
import type { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { matchesLabels, parseTimestampNano } from '../../engine/filters.js';
import { invalidArgument } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';
import { lessThan } from '../version.js';

const FILTERS = new Set(['type', 'event', 'container', 'image', 'label', 'network', 'volume', 'daemon', 'scope', 'node', 'plugin', 'service', 'config', 'secret']);


export function eventBody(ev: EngineEvent, version: string) {
  const body: Record<string, unknown> = {
    Type: ev.type,
    Action: ev.action,
    Actor: { ID: ev.actor.id, Attributes: ev.actor.attributes },
    scope: ev.scope,
    time: Number(ev.timeNano / 1_000_000_000n),
    timeNano: Number(ev.timeNano),
  };
  if (lessThan(version, '1.52') && (ev.type === 'container' || ev.type === 'image')) {
    body.status = ev.action;
    body.id = ev.actor.id;
    if (ev.type === 'container' && ev.actor.attributes.image) body.from = ev.actor.attributes.image;
  }
  return body;
}

function matcher(filters: Map<string, string[]>): (ev: EngineEvent) => boolean {
  for (const k of filters.keys()) if (!FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`);
  const any = (key: string, test: (v: string) => boolean) => {
    const values = filters.get(key);
    return !values?.length || values.some(test);
  };
  return (ev) => {
    const a = ev.actor.attributes;
    return (
      any('type', (v) => v === ev.type) &&
      any('event', (v) => v === ev.action || ev.action.startsWith(`${v}:`)) &&
      any('container', (v) => ev.type === 'container' && (ev.actor.id.startsWith(v) || a.name === v)) &&
      any('image', (v) => (ev.type === 'image' && (ev.actor.id === v || a.name === v)) || a.image === v || a.image === `${v}:latest`) &&
      any('network', (v) => ev.type === 'network' && (ev.actor.id.startsWith(v) || a.name === v)) &&
      any('volume', (v) => ev.type === 'volume' && ev.actor.id === v) &&
      any('daemon', (v) => ev.type === 'daemon' && (ev.actor.id === v || a.name === v)) &&
      any('scope', (v) => v === ev.scope) &&
      matchesLabels(a, filters.get('label') ?? [])
    );
  };
}

async function events(engine: Engine, ctx: Ctx): Promise<void> {
  const since = parseTimestampNano(ctx.opt('since'));
  const until = parseTimestampNano(ctx.opt('until'));
  const wanted = matcher(ctx.filters());
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  const send = (ev: EngineEvent) => {
    if (!wanted(ev)) return;
    if (until !== undefined && ev.timeNano > until) return;
    ctx.res.write(`${JSON.stringify(eventBody(ev, ctx.version))}\n`);
  };
  if (since !== undefined) engine.events.since(since).forEach(send);
  const now = BigInt(Date.now()) * 1_000_000n;
  if (until !== undefined && until <= now) {
    ctx.res.end();
    return;
  }
  const unsubscribe = engine.events.subscribe(send);
  const timer = until !== undefined ? setTimeout(() => ctx.res.end(), Number((until - now) / 1_000_000n)) : undefined;
  ctx.res.on('close', () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  });
}

export function eventRoutes(r: Router, engine: Engine): void {
  r.get('/events', (ctx) => events(engine, ctx));
}
