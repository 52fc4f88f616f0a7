/**
 * Linux system calls Node lacks, from Berth's native module (native/berth_sys.c).
 * Failures throw errors shaped like Node's fs errors (`code`, `syscall`, `path`).
 * The network calls (rtnetlink, native/netlink.c) run on the thread pool and
 * return promises; they reject with an Error carrying `code` and `errno`
 * whose message names the step that failed.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Native {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  lremovexattr(path: string, name: string): void;
  flock(fd: number, operation: number): void;
  seqpacketConnect(path: string): number;
  releaseMemory(): void;
  attachVeth(hostIf: string, peer: string, mac: string, pid: number, bridge: string): Promise<void>;
  configureInterface(pid: number, ifname: string, address: string, prefixLen: number, gateway: string | null): Promise<void>;
  deleteLink(name: string, pid: number): Promise<void>;
  ensureBridge(name: string, address: string, prefixLen: number): Promise<void>;
}

function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native', 'build', 'Release', 'berth_sys.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('berth native module not built: run `make setup`');
}

let native: Native | undefined;
function sys(): Native {
  native ??= createRequire(import.meta.url)(findAddon()) as Native;
  return native;
}

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;

export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export const XATTR_OPAQUE = 'trusted.overlay.opaque';

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  sys().mount(source, target, fstype, flags, data);
}

export function umount(target: string, flags = 0): void {
  sys().umount2(target, flags);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  sys().mknod(path, mode, major, minor);
}

export function lsetxattr(path: string, name: string, value: Buffer | string, flags = 0): void {
  sys().lsetxattr(path, name, typeof value === 'string' ? Buffer.from(value) : value, flags);
}

/** The attribute's value, or null when the file has no such attribute. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return sys().lgetxattr(path, name);
}

export function llistxattr(path: string): string[] {
  return sys().llistxattr(path);
}

export function lremovexattr(path: string, name: string): void {
  sys().lremovexattr(path, name);
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** Takes an advisory lock on an open descriptor; with LOCK_NB it throws EWOULDBLOCK when another holder exists. */
export function flock(fd: number, operation: number): void {
  sys().flock(fd, operation);
}

/** A connected SOCK_SEQPACKET UNIX socket descriptor (conmon's attach socket is one). */
export function seqpacketConnect(path: string): number {
  return sys().seqpacketConnect(path);
}

/**
 * Gives the kernel back memory the process holds without using it: the
 * allocator's free pages, and the executable's clean file pages (start-up
 * code and data), which are read back from the page cache when touched again.
 */
export function releaseMemory(): void {
  sys().releaseMemory();
}

/** A veth pair between the host and the network namespace of a process. */
export interface Veth {
  /** The host's end, made a port of `bridge`. */
  hostIf: string;
  /** The other end, created directly in the namespace of `pid`. */
  peer: string;
  /** The peer's MAC address, aa:bb:cc:dd:ee:ff. */
  mac: string;
  pid: number;
  bridge: string;
}

/**
 * Creates the pair, makes the host's end a port of the bridge with hairpin
 * mode on (frames may go back out the port they came in by), and sets it up.
 * When a step after the creation fails, the pair is deleted again.
 */
export function attachVeth(v: Veth): Promise<void> {
  return sys().attachVeth(v.hostIf, v.peer, v.mac, v.pid, v.bridge);
}

/** An interface inside the network namespace of a process. */
export interface InterfaceConfig {
  ifname: string;
  /** An IPv4 address, given with its prefix length; the broadcast address goes with it below /31. */
  address: string;
  prefixLen: number;
  /** When set, the default route goes through it. */
  gateway?: string;
}

/** Addresses the interface, sets it up and adds the default route, in the network namespace of `pid`. */
export function configureInterface(pid: number, c: InterfaceConfig): Promise<void> {
  return sys().configureInterface(pid, c.ifname, c.address, c.prefixLen, c.gateway ?? null);
}

/** Deletes a link by name, on the host or, with `pid`, in that process's network namespace. Rejects with ENODEV when there is none. */
export function deleteLink(name: string, pid?: number): Promise<void> {
  return sys().deleteLink(name, pid ?? 0);
}

/** A bridge on the host, up, holding the address; what already exists is kept. */
export function ensureBridge(name: string, address: string, prefixLen: number): Promise<void> {
  return sys().ensureBridge(name, address, prefixLen);
}
