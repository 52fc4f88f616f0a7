/** Tar archives built in memory for tests: small root file systems and crafted layers. */
import tar from 'tar-stream';
import { readFileSync } from 'node:fs';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  devmajor?: number;
  devminor?: number;
}

export async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((res, rej) => {
    pack.on('end', () => res());
    pack.on('error', rej);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
    await new Promise<void>((res, rej) =>
      pack.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
          ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
          ...(type === 'file' ? { size: body?.length ?? 0 } : {}),
          mtime: new Date(1_700_000_000_000),
        },
        type === 'file' ? (body ?? Buffer.alloc(0)) : Buffer.alloc(0),
        (err) => (err ? rej(err) : res()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A minimal busybox root file system from Debian's busybox-static. */
export async function busyboxRootfs(extra: Entry[] = []): Promise<Buffer> {
  const applets = ['sh', 'ls', 'echo', 'cat', 'true', 'false', 'id', 'sleep', 'env', 'hostname'];
  return makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    ...extra,
  ]);
}
