/**
 * Docker-format seccomp profiles (archMap, includes/excludes by capability,
 * architecture and kernel) turned into the OCI linux.seccomp object for one
 * container, as dockerd does before handing the spec to runc.
 */
import { readFileSync, statSync } from 'node:fs';
import { failedPrecondition, invalidArgument, errnoCode } from '../lib/errors.js';
import type { Seccomp, SeccompAction, SeccompArg, Syscall } from '../oci/runtimespec.js';

/** Debian's copy of the default profile (package golang-github-containers-common). */
export const DEFAULT_PROFILE_PATH = '/usr/share/containers/seccomp.json';

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: Filter;
  excludes?: Filter;
}

/** The profile file's shape (docker's, which containers-common shares). */
export interface Profile {
  defaultAction?: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileSyscall[] | null;
}

export interface Target {
  /** The container's bounding capabilities: syscall groups are kept or left out by these. */
  caps: string[];
  /** Go architecture name of the host (amd64, arm64, ...). */
  arch: string;
  /** Kernel release, for minKernel conditions. */
  kernel: string;
}

/** libseccomp's architecture constants by Go architecture name. */
const SCMP_ARCH: Record<string, string> = {
  '386': 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips: 'SCMP_ARCH_MIPS',
  mipsle: 'SCMP_ARCH_MIPSEL',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390x: 'SCMP_ARCH_S390X',
};

/** Profiles name architectures in includes/excludes the way libseccomp does (x86, mipsel, ...). */
const NATIVE_ARCH: Record<string, string> = { '386': 'x86', mipsle: 'mipsel', mips64le: 'mipsel64' };

/** Parses profile JSON text; bad JSON is the caller's input error, worded as docker words it. */
export function parseProfile(text: string): Profile {
  try {
    return JSON.parse(text) as Profile;
  } catch (err) {
    throw invalidArgument(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
}

const cache = new Map<string, { mtimeMs: number; profile: Profile }>();

/** Reads a profile file, reusing the parsed copy while the file is unchanged. */
export function loadProfile(path: string): Profile {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw failedPrecondition(`seccomp profile ${path} not found`);
    throw err;
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return hit.profile;
  const profile = parseProfile(readFileSync(path, 'utf8'));
  cache.set(path, { mtimeMs, profile });
  return profile;
}

/** Compares two kernel releases by their leading numbers: a >= b. */
export function kernelAtLeast(running: string, wanted: string): boolean {
  const nums = (v: string) => (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v) ?? []).slice(1).map((n) => Number(n ?? 0));
  const want = nums(wanted);
  if (want.length === 0) throw invalidArgument(`invalid kernel version in seccomp profile: ${wanted}`);
  const have = nums(running);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0);
  }
  return true;
}

/** Whether a syscall group applies to this container: every include holds and no exclude does. */
function applies(call: ProfileSyscall, t: Target): boolean {
  const native = NATIVE_ARCH[t.arch] ?? t.arch;
  const ex = call.excludes ?? {};
  const inc = call.includes ?? {};
  if (ex.arches?.length && ex.arches.includes(native)) return false;
  if (ex.caps?.some((c) => t.caps.includes(c))) return false;
  if (ex.minKernel && kernelAtLeast(t.kernel, ex.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes(native)) return false;
  if (inc.caps?.some((c) => !t.caps.includes(c))) return false;
  if (inc.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
  return true;
}

/**
 * The OCI seccomp object of a profile for one container, or undefined when the
 * profile has neither a default action nor syscalls (docker reads that as off).
 */
export function toOci(profile: Profile, t: Target): Seccomp | undefined {
  const calls = profile.syscalls ?? [];
  if (!profile.defaultAction && calls.length === 0) return undefined;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalidArgument(
      "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const out: Seccomp = { defaultAction: profile.defaultAction ?? 'SCMP_ACT_ALLOW' };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  let arches = profile.architectures ? [...profile.architectures] : [];
  const mine = SCMP_ARCH[t.arch];
  const entry = profile.archMap?.find((a) => a.architecture === mine);
  if (entry) arches = [entry.architecture, ...(entry.subArchitectures ?? [])];
  if (arches.length) out.architectures = arches;
  if (profile.flags?.length) out.flags = profile.flags;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  const syscalls: Syscall[] = [];
  for (const call of calls) {
    if (!applies(call, t)) continue;
    if (call.name && call.names?.length) {
      throw invalidArgument("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    }
    const s: Syscall = { names: call.name ? [call.name] : [...(call.names ?? [])], action: call.action };
    if (call.errnoRet !== undefined) s.errnoRet = call.errnoRet;
    if (call.args?.length) s.args = call.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    syscalls.push(s);
  }
  out.syscalls = syscalls;
  return out;
}
