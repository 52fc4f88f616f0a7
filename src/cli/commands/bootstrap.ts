/**
 * `berth bootstrap`: makes the base images without a registry. The rootfs
 * tars are built in this process and imported through
 * `POST /images/create?fromSrc=-`, like `berth import`.
 */
import { StatusError } from '../cli.js';
import { noArgs, type CommandDef, type RunContext } from '../command.js';
import { displayJSONMessages, displayOptions } from '../jsonmessage.js';
import { busyboxRootfs, helloRootfs, loadBusybox, packRootfs, type RootfsEntry } from '../bootstrap/rootfs.js';

interface BaseImage {
  name: string;
  reference: string;
  changes: string[];
  entries: () => RootfsEntry[];
}

export function baseImages(busyboxPath?: string): BaseImage[] {
  let bb: ReturnType<typeof loadBusybox> | undefined;
  const busybox = () => (bb ??= loadBusybox(busyboxPath));
  return [
    {
      name: 'busybox',
      reference: 'busybox:latest',
      changes: ['CMD ["sh"]'],
      entries: () => busyboxRootfs(busybox().binary, busybox().applets),
    },
    {
      name: 'hello-world',
      reference: 'hello-world:latest',
      changes: ['CMD ["/hello"]'],
      entries: () => helloRootfs(process.arch, () => busybox().binary),
    },
  ];
}

async function runBootstrap(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const only = flags['only'] as string;
  const images = baseImages((flags['busybox'] as string) || undefined);
  const selected = only === '' ? images : images.filter((i) => i.name === only);
  if (selected.length === 0) {
    throw new StatusError(`invalid argument ${JSON.stringify(only)} for "--only" flag: must be one of "busybox", "hello-world"`, 125);
  }
  const client = cli.client();
  for (const img of selected) {
    let entries: RootfsEntry[];
    try {
      entries = img.entries();
    } catch (e) {
      throw new StatusError(`${img.reference}: ${e instanceof Error ? e.message : String(e)}`, 1);
    }
    const res = await client.imageImport(packRootfs(entries), { reference: img.reference, changes: img.changes });
    await displayJSONMessages(res, cli.out, displayOptions(cli));
  }
}

export function bootstrapDef(): CommandDef {
  return {
    name: 'bootstrap',
    use: '[OPTIONS]',
    short: 'Make the base images (busybox, hello-world) without a registry',
    args: noArgs,
    flags: [
      { name: 'only', type: 'string', usage: 'Make only this image ("busybox" or "hello-world")' },
      { name: 'busybox', type: 'string', usage: 'Static busybox binary to use (default: the first of /bin/busybox, /usr/bin/busybox)' },
    ],
    run: runBootstrap,
  };
}
