/**
 * The state a command runs with: output streams, environment, global
 * options, the config file and a lazily created API client.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Client, type ClientOptions } from '../client/index.js';

export const PROG = 'berth';

/** An error that carries the process exit status (cobra's StatusError). Empty message prints nothing. */
export class StatusError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** A user declined a prompt: nothing is printed and the exit status is 0. */
export class CancelledError extends Error {}

/** Output stream wrapper that knows whether it is a terminal and swallows EPIPE. */
export class Output {
  readonly stream: Writable & { isTTY?: boolean; fd?: number; columns?: number };
  broken = false;

  constructor(stream: Writable & { isTTY?: boolean; fd?: number }) {
    this.stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.broken = true;
      else throw err;
    });
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  write(s: string | Buffer): void {
    if (this.broken) return;
    this.stream.write(s);
  }

  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void> {
    if (this.broken || this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }
}

export interface Input {
  stream: Readable & { isTTY?: boolean };
  isTTY: boolean;
}

export interface GlobalOptions {
  hosts: string[];
  config: string;
  context: string;
  debug: boolean;
  logLevel: string;
  tls: boolean;
  tlsverify: boolean;
  tlscacert: string;
  tlscert: string;
  tlskey: string;
}

/** The parts of ~/.docker/config.json the CLI reads. */
export interface ConfigFile {
  imagesFormat?: string;
  psFormat?: string;
  [key: string]: unknown;
}

export interface CLIOptions {
  out: Output;
  err: Output;
  in: Input;
  env: Record<string, string | undefined>;
  globals: GlobalOptions;
  clientOptions: () => ClientOptions;
  contextName: string;
}

export class CLI {
  readonly out: Output;
  readonly err: Output;
  readonly in: Input;
  readonly env: Record<string, string | undefined>;
  readonly globals: GlobalOptions;
  readonly contextName: string;
  private readonly makeClientOptions: () => ClientOptions;
  private apiClient: Client | undefined;
  private configCache: ConfigFile | undefined;

  constructor(o: CLIOptions) {
    this.out = o.out;
    this.err = o.err;
    this.in = o.in;
    this.env = o.env;
    this.globals = o.globals;
    this.makeClientOptions = o.clientOptions;
    this.contextName = o.contextName;
  }

  /** The API client, created on first use. */
  client(): Client {
    this.apiClient ??= new Client(this.makeClientOptions());
    return this.apiClient;
  }

  /** True once a client has been created. */
  get hasClient(): boolean {
    return this.apiClient !== undefined;
  }

  close(): void {
    this.apiClient?.close();
  }

  get debug(): boolean {
    return this.globals.debug;
  }

  /** `~/.docker/config.json` (or `--config DIR/config.json`); empty when absent or unreadable. */
  config(): ConfigFile {
    if (this.configCache) return this.configCache;
    let cfg: ConfigFile = {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(this.globals.config, 'config.json'), 'utf8'));
      if (parsed && typeof parsed === 'object') cfg = parsed as ConfigFile;
    } catch {
      // missing or unreadable: docker carries on with defaults
    }
    this.configCache = cfg;
    return cfg;
  }
}

/** The default client config directory: `$DOCKER_CONFIG` or `~/.docker`. */
export function defaultConfigDir(env: Record<string, string | undefined>): string {
  return env['DOCKER_CONFIG'] || join(homedir(), '.docker');
}
