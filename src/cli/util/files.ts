/** Writing command output to files the way docker does: whole or not at all. */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Streams into a temporary file beside `path` and renames it into place once complete. */
export async function writeStreamAtomic(path: string, src: Readable): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await pipeline(src, fh.createWriteStream());
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  } finally {
    await fh.close().catch(() => undefined);
  }
}
