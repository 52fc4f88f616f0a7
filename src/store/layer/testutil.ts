/** Helpers for the layer tests only: building tars, listing trees, sandboxes on disk. */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';
import { lgetxattr, llistxattr } from '../../lib/sys.js';
import { encodePax, padding, paxHeaderBlock, XATTR_PREFIX } from './pax.js';

export interface Spec {
  header: Partial<tar.Header> & { name: string; pax?: Record<string, string> };
  body?: string | Buffer;
  /** Written as raw PAX records (tar-stream would mangle binary values). */
  xattrs?: Record<string, Buffer | string>;
}

const MTIME = new Date('2020-02-02T02:02:02Z');

/** A whole tar in memory, one entry per spec, in order. */
export async function tarOf(specs: Spec[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = buffer(pack as unknown as Readable);
  for (const s of specs) {
    if (s.xattrs) {
      const payload = encodePax(Object.entries(s.xattrs).map(([k, v]) => [XATTR_PREFIX + k, v]));
      pack.push(Buffer.concat([paxHeaderBlock(payload.length), payload, padding(payload.length)]));
    }
    const header = { mtime: MTIME, ...s.header } as tar.Header;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (s.body !== undefined) pack.entry(header, s.body, cb);
      else if (header.type === undefined || header.type === 'file') pack.entry(header, '', cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  return done;
}

/** The tar as a stream, cut into uneven chunks so entries straddle chunk edges. */
export function streamOf(buf: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 1; at < buf.length; at += n, n = (n * 7 + 3) % 1500 || 1) chunks.push(buf.subarray(at, at + n));
  return Readable.from(chunks);
}

/** A fresh directory under /tmp holding `dest` (empty) and a `canary` directory beside it. */
export async function sandbox(): Promise<{ root: string; dest: string; canary: string; cleanup: () => Promise<void> }> {
  const root = await fs.mkdtemp(join(tmpdir(), 'berth-layer-'));
  const dest = join(root, 'dest');
  const canary = join(root, 'canary');
  await fs.mkdir(dest);
  await fs.mkdir(canary);
  await fs.writeFile(join(canary, 'file'), 'canary\n');
  return { root, dest, canary, cleanup: () => fs.rm(root, { recursive: true, force: true }) };
}

/**
 * One line per path under `dir` (the root itself excluded), sorted: type, mode,
 * owner, size, link count, link target or device, mtime (seconds) and xattrs.
 */
export async function listTree(dir: string, opts: { mtimes?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = await fs.lstat(p);
      const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : '?';
      const extra = st.isSymbolicLink() ? `-> ${await fs.readlink(p)}` : st.isCharacterDevice() || st.isBlockDevice() ? `rdev=${st.rdev}` : '';
      const xattrs = llistxattr(p).sort().map((k) => `${k}=${lgetxattr(p, k)?.toString('hex')}`);
      const size = st.isDirectory() ? '-' : String(st.size);
      const time = opts.mtimes === false ? '' : ` t=${Math.floor(st.mtimeMs / 1000)}`;
      const links = st.isDirectory() ? '' : ` n=${st.nlink}`;
      out.push(`${r} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${size}${links} ${extra}${time} [${xattrs.join(',')}]`.replace(/ +/g, ' '));
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}
