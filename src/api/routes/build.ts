/** `POST /build` (the classic builder's legacy stream) and `POST /build/prune`. */
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Engine } from '../../engine/engine.js';
import { BuildError } from '../../engine/build.js';
import { invalidArgument } from '../../lib/errors.js';
import { parsePlatform } from '../../oci/platform.js';
import { decodeRegistryConfig } from '../registryauth.js';
import { completeTar } from '../../lib/tarend.js';
import { familiarString, parseNormalized, withDefaultTag } from '../../oci/reference.js';
import type { Ctx } from '../context.js';
import { JsonStream } from '../jsonstream.js';
import type { Router } from '../router.js';

function jsonParam<T>(ctx: Ctx, name: string, fallback: T): T {
  const v = ctx.opt(name);
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw invalidArgument(`invalid ${name} parameter: ${v}`);
  }
}

/**
 * The context as sent: a tar, possibly gzip-compressed (the docker CLI sends
 * it plain unless asked), completed when it lacks its end blocks, as the
 * docker CLI's does when `-f` names a Dockerfile outside the context.
 */
function contextStream(req: Readable): Readable {
  const out = completeTar();
  let seen = false;
  req.once('data', (first: Buffer) => {
    seen = true;
    req.pause();
    let sink: Writable = out;
    if (first[0] === 0x1f && first[1] === 0x8b) {
      const gunzip = createGunzip();
      gunzip.on('error', (e) => out.destroy(e));
      gunzip.pipe(out);
      sink = gunzip;
    }
    sink.write(first);
    req.pipe(sink);
    req.resume();
  });
  req.once('end', () => {
    if (!seen) out.end();
  });
  req.on('error', (e) => out.destroy(e));
  return out;
}

/**
 * docker's sanitizeRepoAndTags: each `t` in familiar form with a tag
 * (`app` → `app:latest`, what "Successfully tagged" prints), no digests, no
 * repeats.
 */
function buildTags(names: string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (name === '') continue;
    const ref = parseNormalized(name);
    if (ref.digest !== undefined) throw invalidArgument('build tag cannot contain a digest');
    const tagged = familiarString(withDefaultTag(ref));
    if (!out.includes(tagged)) out.push(tagged);
  }
  return out;
}

async function build(engine: Engine, ctx: Ctx): Promise<void> {
  const out = new JsonStream(ctx.res);
  try {
    const tags = buildTags(ctx.all('t'));
    const opts = {
      dockerfile: ctx.opt('dockerfile') || 'Dockerfile',
      tags,
      buildArgs: jsonParam<Record<string, string | null>>(ctx, 'buildargs', {}),
      noCache: ctx.bool('nocache'),
      remove: ctx.bool('rm', true),
      forceRemove: ctx.bool('forcerm'),
      labels: jsonParam<Record<string, string>>(ctx, 'labels', {}),
      quiet: ctx.bool('q'),
      pull: ctx.bool('pull'),
      auths: decodeRegistryConfig(ctx.req.headers['x-registry-config']),
      cacheFrom: jsonParam<string[]>(ctx, 'cachefrom', []),
      ...(ctx.opt('platform') ? { platform: ctx.opt('platform')! } : {}),
      ...(ctx.opt('target') ? { target: ctx.opt('target')! } : {}),
      ...(ctx.opt('networkmode') ? { networkMode: ctx.opt('networkmode')! } : {}),
    };
    if (opts.platform) parsePlatform(opts.platform);
    const id = await engine.build.build(contextStream(ctx.req), opts, (m) => out.write(m));
    if (opts.quiet) out.write({ stream: `${id}\n` });
  } catch (err) {
    // Drain what the client still sends, so it reads the error instead of failing to write.
    ctx.req.resume();
    out.fail(err, err instanceof BuildError ? err.code : undefined);
  }
  out.end();
}

export function buildRoutes(r: Router, engine: Engine): void {
  r.post('/build', (ctx) => build(engine, ctx));
  r.post('/build/prune', async (ctx) => {
    const r2 = await engine.build.prune();
    ctx.send(200, { CachesDeleted: [], SpaceReclaimed: r2.reclaimed });
  });
}
