/**
 * docker's --user and --group-add, resolved against the container's own
 * /etc/passwd and /etc/group: `name`, `uid`, `name:group`, `uid:gid`,
 * `name:gid`, `uid:group`, `:group`, or empty for root. Symlinks in the
 * image are followed as if the rootfs were /, so they never reach host files.
 */
import { resolveInRoot } from '../lib/fsutil.js';
import { constants, promises as fs } from 'node:fs';
import { errnoCode, invalidArgument } from '../lib/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the user's groups from /etc/group, then --group-add (what docker puts in the spec). */
  additionalGids: number[];
  home: string;
}

/** The user a --user value names: ids, home, and (only when no group was given) the user's supplementary groups. */
export interface ExecUser {
  uid: number;
  gid: number;
  home: string;
  sgids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;
const rangeError = () => invalidArgument(`uids and gids must be in range 0-${MAX_ID}`);

/** Go's strconv.Atoi: a decimal integer with an optional sign, or undefined. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** Numeric fields of the files: unparsable ones read as 0, as runc reads them. */
const field = (s: string | undefined) => atoi(s ?? '') ?? 0;

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', uid: field(f[2]), gid: field(f[3]), home: f[5] ?? '' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', gid: field(f[2]), members: f[3] ? f[3].split(',') : [] }));
}

/**
 * Resolves a --user value against passwd and group file contents (undefined
 * when the image has no such file), the way runc's user lookup does.
 */
export function execUser(spec: string, passwd: string | undefined, group: string | undefined): ExecUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);
  const out: ExecUser = { uid: 0, gid: 0, home: '', sgids: [] };

  const users = parsePasswd(passwd ?? '').filter((u) =>
    userArg === '' ? u.uid === out.uid : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let matched: string | undefined;
  if (users.length > 0) {
    const u = users[0]!;
    matched = u.name;
    out.uid = u.uid;
    out.gid = u.gid;
    out.home = u.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    if (uidArg < 0 || uidArg > MAX_ID) throw rangeError();
    out.uid = uidArg;
  }

  if (groupArg === '' && matched === undefined) return out;
  const groups = parseGroup(group ?? '').filter((g) =>
    groupArg === '' ? g.members.includes(matched!) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg,
  );
  if (groupArg !== '') {
    if (groups.length > 0) out.gid = groups[0]!.gid;
    else {
      if (gidArg === undefined) throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
      if (gidArg < 0 || gidArg > MAX_ID) throw rangeError();
      out.gid = gidArg;
    }
  } else {
    out.sgids = groups.map((g) => g.gid);
  }
  return out;
}

/** --group-add values (names or gids) to gids; a name the image lacks is refused. */
export function additionalGroups(names: string[], group: string | undefined): number[] {
  const groups = parseGroup(group ?? '');
  const gids: number[] = [];
  for (const name of names) {
    const g = groups.find((e) => e.name === name || String(e.gid) === name);
    if (g) {
      if (!gids.includes(g.gid)) gids.push(g.gid);
      continue;
    }
    const n = atoi(name);
    if (n === undefined) throw invalidArgument(`Unable to find group ${name}`);
    if (n < 0 || n > MAX_ID) throw rangeError();
    if (!gids.includes(n)) gids.push(n);
  }
  return gids;
}


/** A file of the image's, or undefined unless it is a regular file inside root. */
export async function readInRoot(root: string, path: string): Promise<string | undefined> {
  const host = await resolveInRoot(root, path);
  if (!host) return undefined;
  let fh;
  try {
    // The resolved path holds no symlinks; O_NOFOLLOW and O_NONBLOCK guard against one or a FIFO swapped in since.
    fh = await fs.open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** Resolves --user and --group-add against the image at `rootfs`. */
export async function resolveUser(rootfs: string, user = '', groupAdd: string[] = []): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readInRoot(rootfs, '/etc/passwd'), readInRoot(rootfs, '/etc/group')]);
  const u = execUser(user, passwd, group);
  const extra = groupAdd.length > 0 ? additionalGroups(groupAdd, group) : [];
  return { uid: u.uid, gid: u.gid, home: u.home, additionalGids: [u.gid, ...u.sgids, ...extra] };
}
