/**
 * Health checks (`HEALTHCHECK`, `--health-*`): a probe process run in the
 * container through the exec service on a timer while the container runs,
 * its results kept in `State.Health` as docker keeps them.
 */
import type { ContainerRecord, ContainerStore, HealthState } from '../core/containers.js';
import type { HealthConfig } from '../oci/image.js';
import type { Logger } from '../lib/log.js';
import type { Events } from './events.js';
import type { ExecService } from './exec.js';

const SECOND = 1e9;
const DEFAULT_INTERVAL = 30 * SECOND;
const DEFAULT_TIMEOUT = 30 * SECOND;
const DEFAULT_START_INTERVAL = 5 * SECOND;
const DEFAULT_RETRIES = 3;
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

interface Monitor {
  timer?: NodeJS.Timeout;
  stopped: boolean;
  health: HealthState;
  startedAt: number;
  running?: number;
}

/** The probe's command line, or undefined when the container has no active health check. */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const test = h?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return test.length > 1 ? ['/bin/sh', '-c', test.slice(1).join(' ')] : undefined;
  if (test[0] === 'CMD') return test.length > 1 ? test.slice(1) : undefined;
  return test;
}

function seconds(ns: number): string {
  return `${ns / SECOND}s`;
}

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();

  constructor(
    private readonly deps: { exec: ExecService; store: ContainerStore; events: Events; log: Logger },
  ) {}

  /** Starts probing a container that just started (or was found running at daemon start, with `keep`). */
  start(id: string, keep = false): void {
    this.stop(id, false);
    const c = this.deps.store.get(id);
    if (!c || !probeCommand(c.config.Healthcheck)) return;
    const health: HealthState =
      keep && c.state.Health && c.state.Health.Status !== 'none'
        ? c.state.Health
        : { Status: 'starting', FailingStreak: 0, Log: c.state.Health?.Log ?? [] };
    const m: Monitor = { stopped: false, health, startedAt: Date.parse(c.state.StartedAt) || Date.now() };
    this.monitors.set(id, m);
    this.persist(id, health);
    this.schedule(id, m);
  }

  /** Stops probing; docker marks the check unhealthy once its monitor stops. */
  stop(id: string, markUnhealthy = true): void {
    const m = this.monitors.get(id);
    if (!m) return;
    m.stopped = true;
    if (m.timer) clearTimeout(m.timer);
    this.monitors.delete(id);
    if (markUnhealthy) {
      m.health = { ...m.health, Status: 'unhealthy' };
      this.persist(id, m.health);
    }
  }

  close(): void {
    for (const m of this.monitors.values()) {
      m.stopped = true;
      if (m.timer) clearTimeout(m.timer);
    }
    this.monitors.clear();
  }

  private config(c: ContainerRecord) {
    const h = c.config.Healthcheck ?? {};
    return {
      interval: h.Interval && h.Interval > 0 ? h.Interval : DEFAULT_INTERVAL,
      timeout: h.Timeout && h.Timeout > 0 ? h.Timeout : DEFAULT_TIMEOUT,
      startPeriod: h.StartPeriod && h.StartPeriod > 0 ? h.StartPeriod : 0,
      startInterval: h.StartInterval && h.StartInterval > 0 ? h.StartInterval : DEFAULT_START_INTERVAL,
      retries: h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES,
    };
  }

  private schedule(id: string, m: Monitor): void {
    if (m.stopped) return;
    const c = this.deps.store.get(id);
    if (!c) return this.stop(id, false);
    const cfg = this.config(c);
    const inStart = m.health.Status === 'starting' && Date.now() - m.startedAt < cfg.startPeriod / 1e6;
    const wait = (inStart ? cfg.startInterval : cfg.interval) / 1e6;
    m.timer = setTimeout(() => void this.probe(id, m), wait);
    m.timer.unref();
  }

  private async probe(id: string, m: Monitor): Promise<void> {
    if (m.stopped) return;
    const c = this.deps.store.get(id);
    if (!c) return this.stop(id, false);
    if (c.state.Status !== 'running') {
      // Paused: no probe this round.
      this.schedule(id, m);
      return;
    }
    const cfg = this.config(c);
    const cmd = probeCommand(c.config.Healthcheck)!;
    const start = new Date();
    const { exitCode, output } = await this.run(c, cmd, cfg.timeout);
    if (m.stopped) return;
    const entry = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output };
    const before = m.health.Status;
    const health: HealthState = { ...m.health, Log: [...m.health.Log, entry].slice(-MAX_LOG) };
    if (exitCode === 0) {
      health.FailingStreak = 0;
      health.Status = 'healthy';
    } else {
      const inStart = health.Status === 'starting' && Date.now() - m.startedAt < cfg.startPeriod / 1e6;
      if (!inStart) {
        health.FailingStreak++;
        if (health.FailingStreak >= cfg.retries) health.Status = 'unhealthy';
      }
    }
    m.health = health;
    this.persist(id, health);
    if (health.Status !== before) {
      const cur = this.deps.store.get(id) ?? c;
      this.deps.events.publish('container', `health_status: ${health.Status}`, id, { image: cur.config.Image, name: cur.name, ...cur.config.Labels });
    }
    this.schedule(id, m);
  }

  /** Runs the probe as an exec session and collects its output, bounded in time. */
  private async run(c: ContainerRecord, cmd: string[], timeoutNs: number): Promise<{ exitCode: number; output: string }> {
    const { exec } = this.deps;
    let execId: string;
    try {
      execId = exec.create(c.id, { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
    } catch (err) {
      return { exitCode: -1, output: (err as Error).message };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let finished!: () => void;
    const ended = new Promise<void>((r) => (finished = r));
    try {
      await exec.start(execId, {
        stdout: true,
        stderr: true,
        write: (_which, data) => {
          if (size < MAX_OUTPUT) {
            chunks.push(data);
            size += data.length;
          }
        },
        end: () => finished(),
      });
    } catch (err) {
      const exitCode = exec.get(execId).exitCode ?? 126;
      this.forget(execId);
      return { exitCode, output: (err as Error).message };
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutNs / 1e6);
      }),
    ]);
    if (timer) clearTimeout(timer);
    const session = exec.get(execId);
    this.forget(execId);
    if (timedOut) {
      if (session.pid > 0) {
        try {
          process.kill(session.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return { exitCode: -1, output: `Health check exceeded timeout (${seconds(timeoutNs)})` };
    }
    const out = Buffer.concat(chunks).subarray(0, MAX_OUTPUT).toString('utf8');
    return { exitCode: session.exitCode ?? -1, output: out };
  }

  /** Health probes are not kept as exec sessions once done, as with docker. */
  private forget(execId: string): void {
    this.deps.exec.forget(execId);
  }

  /** Writes the health state into the stored record, leaving the rest of it as it is now. */
  private persist(id: string, health: HealthState): void {
    const cur = this.deps.store.get(id);
    if (!cur) return;
    cur.state.Health = health;
    this.deps.store.put(cur);
  }
}
