/** Exec endpoints: create, start (hijacked or detached), resize, inspect. */
import type { Engine } from '../../engine/engine.js';
import type { ExecConfig } from '../../engine/exec.js';
import type { Ctx } from '../context.js';
import { hijack } from '../hijack.js';
import type { Router } from '../router.js';

async function start(engine: Engine, ctx: Ctx): Promise<void> {
  const body = await ctx.json<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }>();
  const s = engine.exec.get(ctx.params.id!);
  if (body.Detach) {
    await engine.exec.start(s.id, undefined, body.ConsoleSize);
    ctx.send(200);
    return;
  }
  const tty = body.Tty ?? !!s.config.Tty;
  const stream = hijack(ctx, tty);
  try {
    await engine.exec.start(s.id, {
      stdout: s.config.AttachStdout !== false,
      stderr: s.config.AttachStderr !== false,
      ...(s.config.AttachStdin ? { stdin: stream.input } : {}),
      write: (which, data) => stream.write(which, data),
      end: () => stream.end(),
    }, body.ConsoleSize);
  } catch (err) {
    stream.write('stderr', Buffer.from(`${err instanceof Error ? err.message : String(err)}\r\n`));
    stream.end();
  }
}

export function execRoutes(r: Router, engine: Engine): void {
  r.post('/containers/{id}/exec', async (ctx) => {
    const config = await ctx.json<ExecConfig>();
    ctx.send(201, { Id: engine.exec.create(ctx.params.id!, config) });
  });
  r.post('/exec/{id}/start', (ctx) => start(engine, ctx));
  r.post('/exec/{id}/resize', async (ctx) => {
    await engine.exec.resize(ctx.params.id!, ctx.int('h', 0)!, ctx.int('w', 0)!);
    ctx.send(200);
  });
  r.get('/exec/{id}/json', (ctx) => {
    const s = engine.exec.get(ctx.params.id!);
    ctx.send(200, {
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: {
        tty: !!s.config.Tty,
        entrypoint: s.config.Cmd[0],
        arguments: s.config.Cmd.slice(1),
        privileged: !!s.config.Privileged,
        user: s.config.User ?? '',
      },
      OpenStdin: !!s.config.AttachStdin,
      OpenStderr: s.config.AttachStderr !== false,
      OpenStdout: s.config.AttachStdout !== false,
      CanRemove: false,
      ContainerID: s.containerId,
      DetachKeys: s.config.DetachKeys ?? '',
      Pid: s.pid,
    });
  });
}
