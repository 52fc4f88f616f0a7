/**
 * A lock shared by every berthd on the host, held while a subnet is chosen
 * and its bridge brought up: two daemons starting together must not pick the
 * same free range (a bridge's route is what marks a range as taken).
 */
import { closeSync, openSync } from 'node:fs';
import { flock, LOCK_EX, LOCK_NB } from '../lib/sys.js';

const PATH = '/run/berth-networks.lock';

export async function withHostLock<T>(fn: () => Promise<T>, path = PATH): Promise<T> {
  const fd = openSync(path, 'a', 0o600);
  try {
    // Non-blocking attempts: a blocking flock would stall the event loop.
    for (;;) {
      try {
        flock(fd, LOCK_EX | LOCK_NB);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return await fn();
  } finally {
    closeSync(fd);
  }
}
