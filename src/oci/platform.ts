/**
 * OCI platforms (`linux/arm64/v8`): parsing and normalising the way
 * containerd's platforms package does (docker uses it for `--platform`), and
 * ranking the entries of a manifest list against the platform we want.
 */
import { endianness } from 'node:os';
import { invalidArgument } from '../lib/errors.js';

export type Platform = {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
};

const SPEC_RE = /^[A-Za-z0-9_.-]+$/;

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux',
  'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos',
]);

const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64',
  'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

// Node's process.platform / process.arch names where they differ from Go's.
const NODE_OS: Record<string, string> = { win32: 'windows', sunos: 'solaris' };
const NODE_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', mipsel: 'mipsle' };

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const os = NODE_OS[process.platform] ?? process.platform;
  let arch = NODE_ARCH[process.arch] ?? process.arch;
  if (arch === 'ppc64' && endianness() === 'LE') arch = 'ppc64le';
  if (arch === 'arm64') return { os, architecture: arch, variant: 'v8' };
  if (arch === 'arm') {
    // Node records the ARM version it was built for; v7 when it does not say.
    const v = String((process.config.variables as Record<string, unknown>)['arm_version'] ?? '');
    return { os, architecture: arch, variant: /^[5-8]$/.test(v) ? `v${v}` : 'v7' };
  }
  return { os, architecture: arch };
}

function invalid(msg: string) {
  return invalidArgument(`${msg}: invalid argument`);
}

/**
 * Parses `os`, `arch`, `os/arch` or `os/arch/variant`, with containerd's
 * messages. A lone word is an OS (the host's architecture is added) or an
 * architecture (the host's OS is added). The result is normalised
 * (`aarch64` → arm64, `x86_64` → amd64, `armhf` → arm/v7, `armel` → arm/v6),
 * except that, like containerd, an explicit `arm64` gets variant v8 and a
 * plain `arm`/v7 keeps no variant; compare with `matchPlatform`, which
 * treats those as equal.
 */
export function parsePlatform(spec: string): Platform {
  const q = JSON.stringify(spec);
  if (spec.includes('*')) throw invalid(`${q}: wildcards not yet supported`);
  // At most four parts, the fourth keeping any further '/' (Go's SplitN), so
  // the component check sees the same parts containerd's does.
  const all = spec.split('/');
  const parts = all.length > 4 ? [...all.slice(0, 3), all.slice(3).join('/')] : all;
  for (const part of parts) {
    if (!SPEC_RE.test(part)) {
      throw invalid(`${JSON.stringify(part)} is an invalid component of ${q}: platform specifier component must match "^[A-Za-z0-9_.-]+$"`);
    }
  }
  if (parts.length > 3) throw invalid(`${q}: cannot parse platform specifier`);
  const os = normalizeOS(parts[0]!);
  if (parts.length === 1) {
    const host = hostPlatform();
    if (KNOWN_OS.has(os)) {
      const p: Platform = { os, architecture: host.architecture };
      if (host.architecture === 'arm' && host.variant !== 'v7') p.variant = host.variant!;
      return p;
    }
    const [architecture, variant] = normalizeArch(parts[0]!, '');
    if (KNOWN_ARCH.has(architecture)) return plain(host.os, architecture, architecture === 'arm' && variant === 'v7' ? '' : variant);
    throw invalid(`${q}: unknown operating system or architecture`);
  }
  if (parts.length === 2) {
    const [architecture, variant] = normalizeArch(parts[1]!, '');
    return plain(os, architecture, architecture === 'arm' && variant === 'v7' ? '' : variant);
  }
  const [architecture, variant] = normalizeArch(parts[1]!, parts[2]!);
  return plain(os, architecture, architecture === 'arm64' && variant === '' ? 'v8' : variant);
}

function plain(os: string, architecture: string, variant: string): Platform {
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `linux/arm64/v8`; `unknown` without an OS. */
export function formatPlatform(p: Platform): string {
  if (!p.os) return 'unknown';
  return [p.os, p.architecture, p.variant].filter((s) => s).join('/');
}

function normalizeOS(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

/** Canonical architecture and variant, as containerd compares them. */
function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', v === 'v1' ? '' : v];
    case 'aarch64':
    case 'arm64':
      if (v === '8' || v === 'v8' || v === 'v8.0') return ['arm64', ''];
      if (v === '9' || v === '9.0' || v === 'v9.0') return ['arm64', 'v9'];
      return ['arm64', v];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (v === '' || v === '7') return ['arm', 'v7'];
      if (v === '5' || v === '6' || v === '8') return ['arm', `v${v}`];
      return ['arm', v];
    default:
      return [a, v];
  }
}

/** The canonical form used for comparison: arm64 drops v8, arm defaults to v7. */
export function normalizePlatform(p: Platform): Platform {
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = plain(p.os ? normalizeOS(p.os) : hostPlatform().os, architecture, variant);
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = [...new Set(p['os.features'])].sort();
  return out;
}

/**
 * The platforms a machine of `want` can run, best first (containerd's
 * platforms.Only): the exact platform, then lower variants of the same
 * architecture (amd64 v3→v2→v1, arm v7→v6→v5, arm64 v9.x→v8.x), then the
 * 32-bit sibling (amd64 runs 386, arm64 runs arm v8 and below).
 */
function runnable(want: Platform): Array<[string, string]> {
  const { architecture: arch, variant = '' } = normalizePlatform(want);
  const out: Array<[string, string]> = [[arch, variant]];
  const num = Number(variant.replace(/^v/, ''));
  if (arch === 'amd64') {
    for (let n = Number.isInteger(num) && variant ? num - 1 : 0; n >= 1; n--) out.push(['amd64', `v${n}`]);
    out.push(['386', '']);
  } else if (arch === 'arm') {
    for (let n = Number.isInteger(num) && variant ? num - 1 : 0; n >= 5; n--) out.push(['arm', `v${n}`]);
  } else if (arch === 'arm64') {
    const m = /^v(8|9)(?:\.(\d))?$/.exec(variant || 'v8');
    if (m) {
      const major = Number(m[1]);
      const minor = Number(m[2] ?? 0);
      out.length = 0;
      for (let n = minor; n >= 0; n--) out.push(['arm64', n ? `v${major}.${n}` : `v${major}`]);
      // ARMv9.x includes ARMv8.(x+5), capped at v8.9.
      if (major === 9) for (let n = Math.min(minor + 5, 9); n >= 0; n--) out.push(['arm64', n ? `v8.${n}` : 'v8']);
      for (let n = 8; n >= 5; n--) out.push(['arm', `v${n}`]);
    }
  }
  // Compare in normalised form (arm64/v8 → arm64, amd64/v1 → amd64).
  return out.map(([a, v]) => normalizeArch(a, v));
}

/**
 * How well `have` (a manifest list entry) suits `want`: 0 when it cannot run,
 * otherwise higher is better, the exact variant scoring highest. OS must be
 * equal; os.version is not compared (it only matters for Windows hosts).
 */
export function platformScore(want: Platform, have: Platform): number {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os) return 0;
  const list = runnable(w);
  const i = list.findIndex(([a, v]) => a === h.architecture && v === (h.variant ?? ''));
  return i < 0 ? 0 : list.length - i;
}

/** True when an image for `have` runs on `want`. */
export function matchPlatform(want: Platform, have: Platform): boolean {
  return platformScore(want, have) > 0;
}

/** Index of the best entry for `want` (the first among equals), or -1 if none fits. */
export function pickPlatform(want: Platform, haves: Array<Platform | undefined>): number {
  let best = -1;
  let bestScore = 0;
  haves.forEach((h, i) => {
    const s = h ? platformScore(want, h) : 0;
    if (s > bestScore) [best, bestScore] = [i, s];
  });
  return best;
}
