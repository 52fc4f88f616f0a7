/**
 * The container runtime: creates, starts, signals and removes containers from
 * OCI bundles, and connects to their standard streams. One monitor process per
 * container (conmon) holds the streams, the log and the exit code, so
 * containers and their state outlive the daemon.
 */
import type { Process, Seccomp } from '../oci/runtimespec.js';

export interface CreateOptions {
  id: string;
  /** Directory holding config.json. */
  bundle: string;
  /** Where the monitor writes the container's output (k8s-file format). */
  logPath: string;
  tty: boolean;
  /** Keep the container's stdin open for attach. */
  stdin: boolean;
  /** Truncate the log above this many bytes (0: no limit). */
  logSizeMax?: number;
}

export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface RuntimeState {
  status: RuntimeStatus;
  pid: number;
}

/** A stream attached to a container or exec session: what it writes, and a stdin to write to. */
export interface AttachStream {
  /** Output chunks tagged with their stream. */
  onOutput(fn: (stream: 'stdout' | 'stderr', data: Buffer) => void): void;
  onClose(fn: () => void): void;
  write(data: Buffer): void;
  /** Half-close: the container sees EOF on stdin. */
  closeStdin(): void;
  close(): void;
}

export interface ExecOptions {
  /** The process: the container's own settings (capabilities, rlimits, no_new_privs) with the session's command, environment, user and directory. */
  process: Process;
  /** The container's seccomp filter, which the process gets too; none when unconfined. */
  seccomp?: Seccomp;
  /** Keep a stdin for the session to write to. */
  stdin: boolean;
  /** No one reads the output (exec -d): the session must not depend on the daemon's pipes. */
  detach?: boolean;
}

export interface ExecSession {
  pid: number;
  attach(): Promise<AttachStream | undefined>;
  resize(height: number, width: number): Promise<void>;
  /** Resolves with the exit code once the process ends. */
  wait(): Promise<number>;
}

export interface Runtime {
  create(opts: CreateOptions): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** undefined when the runtime does not know the container. */
  state(id: string): Promise<RuntimeState | undefined>;
  delete(id: string, force?: boolean): Promise<void>;
  attach(id: string): Promise<AttachStream>;
  resize(id: string, height: number, width: number): Promise<void>;
  /** The exit code the monitor recorded, or undefined while it runs. */
  exitCode(id: string): Promise<number | undefined>;
  /** Calls fn with the ID of each container whose monitor records an exit. */
  watchExits(fn: (id: string) => void): () => void;
  /** The monitor's PID, when it is alive. */
  monitorPid(id: string): Promise<number | undefined>;
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  update(id: string, resourcesJson: string): Promise<void>;
  /** Makes the monitor reopen the log file (after the daemon rotated it). */
  reopenLog(id: string): Promise<void>;
  /** PIDs of every process in the container, as the host sees them. */
  pids(id: string): Promise<number[]>;
}
