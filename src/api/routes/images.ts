/** Image endpoints: list, inspect, history, tag, remove, prune, import, pull, push, save, load. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Engine } from '../../engine/engine.js';
import { invalidArgument } from '../../lib/errors.js';
import { decodeRegistryAuth } from '../registryauth.js';
import type { Ctx } from '../context.js';
import { JsonStream } from '../jsonstream.js';
import type { Router } from '../router.js';
import { deleteItems, historyItems, imageInspect, imageSummary } from '../wire/images.js';

async function list(engine: Engine, ctx: Ctx): Promise<void> {
  const filters = ctx.filters();
  const legacy = ctx.opt('filter');
  if (legacy) filters.set('reference', [...(filters.get('reference') ?? []), legacy]);
  const views = await engine.images.list({ all: ctx.bool('all'), filters });
  ctx.send(
    200,
    views.map((v) => imageSummary(v, ctx.version)),
  );
}

async function create(engine: Engine, ctx: Ctx): Promise<void> {
  const fromSrc = ctx.opt('fromSrc');
  const fromImage = ctx.opt('fromImage');
  if (fromSrc === undefined) {
    if (!fromImage) throw invalidArgument('fromImage or fromSrc is required');
    return pull(engine, ctx, fromImage);
  }
  let source: Readable = ctx.req;
  if (fromSrc !== '-') {
    let url: URL;
    try {
      url = new URL(fromSrc);
    } catch {
      throw invalidArgument(`invalid import source: ${fromSrc}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`invalid import source: ${fromSrc}`);
    const res = await fetch(url);
    if (!res.ok || !res.body) throw invalidArgument(`error downloading ${fromSrc}: ${res.status} ${res.statusText}`);
    source = Readable.fromWeb(res.body as WebReadableStream);
  }
  const out = new JsonStream(ctx.res);
  try {
    await engine.images.importImage(
      source,
      {
        repo: ctx.opt('repo') ?? '',
        tag: ctx.opt('tag') ?? '',
        message: ctx.opt('message') ?? '',
        changes: ctx.all('changes'),
        ...(ctx.opt('platform') ? { platform: ctx.opt('platform')! } : {}),
        source: fromSrc,
      },
      (ev) => out.progress(ev),
    );
  } catch (err) {
    if (!out.isStarted) throw err;
    out.fail(err);
  }
  out.end();
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
function clientGone(ctx: Ctx): AbortSignal {
  const ac = new AbortController();
  ctx.res.on('close', () => {
    if (!ctx.res.writableFinished) ac.abort(new Error('client disconnected'));
  });
  return ac.signal;
}

/** Runs a streamed operation: errors before the first message are HTTP errors, later ones travel in-band. */
async function streamed(ctx: Ctx, run: (out: JsonStream) => Promise<void>): Promise<void> {
  const out = new JsonStream(ctx.res);
  try {
    await run(out);
  } catch (err) {
    if (!out.isStarted) throw err;
    out.fail(err);
  }
  out.end();
}

async function pull(engine: Engine, ctx: Ctx, fromImage: string): Promise<void> {
  const auth = decodeRegistryAuth(ctx.req.headers['x-registry-auth']);
  const platform = ctx.opt('platform');
  const signal = clientGone(ctx);
  ctx.req.resume();
  await streamed(ctx, (out) =>
    engine.distribution.pull(
      { image: fromImage, tag: ctx.opt('tag') ?? '', ...(platform ? { platform } : {}), ...(auth ? { auth } : {}), signal },
      (ev) => out.progress(ev),
    ),
  );
}

async function push(engine: Engine, ctx: Ctx): Promise<void> {
  await ctx.jsonOptions();
  const auth = decodeRegistryAuth(ctx.req.headers['x-registry-auth']);
  const signal = clientGone(ctx);
  await streamed(ctx, (out) =>
    engine.distribution.push({ name: ctx.params.name!, tag: ctx.opt('tag') ?? '', ...(auth ? { auth } : {}), signal }, (ev) => out.progress(ev)),
  );
}

async function load(engine: Engine, ctx: Ctx): Promise<void> {
  const quiet = ctx.bool('quiet');
  // Headers go out with the first message, after the body is consumed: Go clients stop
  // sending a request body once a response has begun.
  const out = new JsonStream(ctx.res);
  try {
    await engine.images.load(ctx.req, (ev) => {
      if (quiet && ev.kind === 'item') return;
      out.progress(ev);
    });
  } catch (err) {
    out.fail(err);
  }
  out.end();
}

async function save(engine: Engine, ctx: Ctx, names: string[]): Promise<void> {
  if (names.length === 0) throw invalidArgument('no images specified');
  const stream = engine.images.save(names);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(stream, ctx.res);
  } catch {
    ctx.res.destroy();
  }
}

async function prune(engine: Engine, ctx: Ctx): Promise<void> {
  await ctx.jsonOptions();
  const { deleted, reclaimed } = await engine.images.prune(ctx.filters());
  ctx.send(200, { ImagesDeleted: deleted.length ? deleteItems(deleted) : null, SpaceReclaimed: reclaimed });
}

export function imageRoutes(r: Router, engine: Engine): void {
  r.get('/images/json', (ctx) => list(engine, ctx));
  r.post('/images/create', (ctx) => create(engine, ctx));
  r.post('/images/load', (ctx) => load(engine, ctx));
  r.get('/images/get', (ctx) => save(engine, ctx, ctx.all('names')));
  r.post('/images/prune', (ctx) => prune(engine, ctx));
  r.get('/images/{name*}/json', async (ctx) => ctx.send(200, imageInspect(await engine.images.inspect(ctx.params.name!), ctx.version)));
  r.get('/images/{name*}/history', async (ctx) => ctx.send(200, historyItems(await engine.images.history(ctx.params.name!))));
  r.get('/images/{name*}/get', (ctx) => save(engine, ctx, [ctx.params.name!]));
  r.post('/images/{name*}/push', (ctx) => push(engine, ctx));
  r.post('/images/{name*}/tag', async (ctx) => {
    await ctx.jsonOptions();
    engine.images.tag(ctx.params.name!, ctx.opt('repo') ?? '', ctx.opt('tag') ?? '');
    ctx.send(201);
  });
  r.delete('/images/{name*}', async (ctx) => {
    await ctx.jsonOptions();
    const results = await engine.images.remove(ctx.params.name!, ctx.bool('force'), !ctx.bool('noprune'));
    ctx.send(200, deleteItems(results));
  });
}
