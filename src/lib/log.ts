/** Daemon logging: leveled lines on stderr in logfmt, as dockerd writes them. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function fmt(fields: Record<string, unknown> = {}): string {
  return Object.entries(fields)
    .map(([k, v]) => ` ${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`)
    .join('');
}

export function createLogger(level: Level, out: NodeJS.WritableStream = process.stderr): Logger {
  const emit = (l: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    out.write(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(msg)}${fmt(fields)}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
