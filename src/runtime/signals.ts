/**
 * Signal names and numbers as docker accepts them (--stop-signal, kill -s):
 * SIGTERM, TERM, term, 15, SIGRTMIN+3, RTMAX-2. Linux numbering.
 */
import { invalidArgument } from '../lib/errors.js';

const RTMIN = 34;
const RTMAX = 64;

/** Classic signal numbers by name without the SIG prefix (x86/arm Linux numbering). */
const CLASSIC: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18, STOP: 19, TSTP: 20,
  TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29,
  PWR: 30, SYS: 31,
};

/** The number of a name without SIG, or undefined. Real-time ones follow docker's RTMIN+n / RTMAX-n range. */
function byName(name: string): number | undefined {
  if (name in CLASSIC) return CLASSIC[name];
  if (name === 'RTMIN') return RTMIN;
  if (name === 'RTMAX') return RTMAX;
  const rt = /^RTM(IN\+|AX-)([1-9]\d?)$/.exec(name);
  if (!rt) return undefined;
  const n = Number(rt[2]);
  if (rt[1] === 'IN+') return n <= 15 ? RTMIN + n : undefined;
  return n <= 14 ? RTMAX - n : undefined;
}

/** Whether a number names a Linux signal (1–31, 34–64). */
export function isSignal(n: number): boolean {
  return Number.isInteger(n) && ((n >= 1 && n <= 31) || (n >= RTMIN && n <= RTMAX));
}

/** Parses a signal name or number; anything else is `invalid signal: X`. */
export function parseSignal(raw: string): number {
  const invalid = () => invalidArgument(`invalid signal: ${raw}`);
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (!isSignal(n)) throw invalid();
    return n;
  }
  const upper = raw.toUpperCase();
  const n = byName(upper.startsWith('SIG') ? upper.slice(3) : upper);
  if (n === undefined) throw invalid();
  return n;
}

/** The name docker shows for a signal number: SIGTERM, SIGRTMIN+3, SIGRTMAX-1. */
export function signalName(n: number): string {
  const classic = Object.entries(CLASSIC).find(([name, v]) => v === n && name !== 'IOT' && name !== 'CLD' && name !== 'POLL');
  if (classic) return 'SIG' + classic[0];
  if (n === RTMIN) return 'SIGRTMIN';
  if (n === RTMAX) return 'SIGRTMAX';
  if (n > RTMIN && n <= RTMIN + 15) return `SIGRTMIN+${n - RTMIN}`;
  if (n >= RTMAX - 14 && n < RTMAX) return `SIGRTMAX-${RTMAX - n}`;
  throw invalidArgument(`invalid signal: ${n}`);
}
