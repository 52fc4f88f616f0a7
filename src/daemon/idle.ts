/**
 * Memory hand-back when the daemon goes quiet. A daemon that mostly waits
 * should not keep what a burst of work (an image load, a hundred starts) or
 * its own start-up left behind: once no request has arrived for a while and
 * none is in flight, the JavaScript heap is collected and the process returns
 * unused memory to the kernel (see lib/sys releaseMemory). Long-lived streams
 * (attach, logs -f, events) do not keep the daemon busy.
 */
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseMemory } from '../lib/sys.js';

/**
 * Quiet time before memory is handed back. Memory handed back is faulted in
 * again by the next burst (a pull after a trim costs about a third more CPU),
 * so commands a few seconds apart (a script, compose, CI) keep what they use.
 */
export const IDLE_MS = 8000;

/** V8's collector, exposed without a command-line flag (berthd is started as a plain node script). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function trimWhenIdle(servers: Server[], idleMs = IDLE_MS): () => void {
  const gc = collector();
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  const trim = () => {
    timer = undefined;
    if (inFlight > 0) return;
    gc();
    releaseMemory();
  };
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(trim, idleMs);
    timer.unref();
  };
  const onRequest = (_req: unknown, res: { once(event: 'close', fn: () => void): void }) => {
    inFlight++;
    arm();
    res.once('close', () => {
      inFlight--;
      arm();
    });
  };
  const onUpgrade = () => arm();
  for (const s of servers) {
    s.on('request', onRequest);
    s.on('upgrade', onUpgrade);
  }
  // What start-up read is not needed again.
  arm();
  return () => {
    if (timer) clearTimeout(timer);
    for (const s of servers) {
      s.off('request', onRequest);
      s.off('upgrade', onUpgrade);
    }
  };
}
