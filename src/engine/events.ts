/**
 * The event bus behind `docker events`: every resource service publishes what
 * happened to it; subscribers (the API's event stream) filter and render.
 * A bounded history lets `--since` replay recent events.
 */
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  scope: 'local';
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

const HISTORY = 1024;

export class Events {
  private readonly emitter = new EventEmitter();
  private readonly history: EngineEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const ev: EngineEvent = { type, action, actor: { id, attributes }, scope: 'local', timeNano: nowNano() };
    this.history.push(ev);
    if (this.history.length > HISTORY) this.history.shift();
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Past events, oldest first. */
  since(timeNano: bigint): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= timeNano);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

let last = 0n;
/** Strictly increasing nanosecond timestamps, so events keep their order. */
export function nowNano(): bigint {
  const t = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  last = t > last ? t : last + 1n;
  return last;
}
