/** Container file endpoints: archive (docker cp), export, changes (docker diff) and commit. */
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine/engine.js';
import type { ContainerDefaults } from '../../oci/image.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(stat: object): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

async function sendTar(ctx: Ctx, stream: NodeJS.ReadableStream & { destroy(): void }, headers: Record<string, string> = {}): Promise<void> {
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  try {
    await pipeline(stream, ctx.res);
  } catch {
    stream.destroy();
    ctx.res.destroy();
  }
}

export function fileRoutes(r: Router, engine: Engine): void {
  r.head('/containers/{id}/archive', async (ctx) => {
    const stat = await engine.files.stat(ctx.params.id!, ctx.query.get('path') ?? '');
    ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json' });
    ctx.res.end();
  });
  r.get('/containers/{id}/archive', async (ctx) => {
    const { stat, tar } = await engine.files.archive(ctx.params.id!, ctx.query.get('path') ?? '');
    await sendTar(ctx, tar, { [STAT_HEADER]: statHeader(stat) });
  });
  r.put('/containers/{id}/archive', async (ctx) => {
    await engine.files.extract(ctx.params.id!, ctx.query.get('path') ?? '', ctx.req, {
      noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'),
      copyUIDGID: ctx.bool('copyUIDGID'),
    });
    ctx.send(200);
  });
  r.get('/containers/{id}/export', async (ctx) => {
    const tar = await engine.files.export(ctx.params.id!);
    await sendTar(ctx, tar);
  });
  r.get('/containers/{id}/changes', async (ctx) => {
    const changes = await engine.files.changes(ctx.params.id!);
    ctx.send(200, changes.length ? changes : null);
  });
  r.post('/commit', async (ctx) => {
    const body = (await ctx.json<ContainerDefaults>()) ?? {};
    const id = await engine.commit.commit(ctx.query.get('container') ?? '', {
      repo: ctx.query.get('repo') ?? '',
      tag: ctx.query.get('tag') ?? '',
      comment: ctx.query.get('comment') ?? '',
      author: ctx.query.get('author') ?? '',
      pause: ctx.query.has('pause') ? ctx.bool('pause') : true,
      changes: ctx.all('changes'),
      config: body && typeof body === 'object' ? body : {},
    });
    ctx.send(201, { Id: id });
  });
}
