/**
 * One berthd per data root: an flock on `<data-root>/berthd.lock`. The kernel
 * drops the lock when the process dies, even by SIGKILL, so a crashed daemon
 * never blocks the next start.
 */
import { closeSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, errnoCode } from '../lib/errors.js';
import { flock, LOCK_EX, LOCK_NB } from '../lib/sys.js';

export interface DataRootLock {
  release(): void;
}

export function lockDataRoot(dataRoot: string): DataRootLock {
  const path = join(dataRoot, 'berthd.lock');
  const fd = openSync(path, 'a+', 0o600);
  try {
    flock(fd, LOCK_EX | LOCK_NB);
  } catch (err) {
    closeSync(fd);
    if (errnoCode(err) === 'EWOULDBLOCK' || errnoCode(err) === 'EAGAIN') {
      throw failedPrecondition(`another berthd is already running with data root ${dataRoot}`);
    }
    throw err;
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  return { release: () => closeSync(fd) };
}
