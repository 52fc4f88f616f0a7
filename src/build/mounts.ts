/**
 * `RUN --mount=...` options: a CSV list of `key=value` fields (and a few bare
 * keys such as `ro`) parsed into a Mount with BuildKit's defaults and checks.
 */
import { invalidArgument } from '../lib/errors.js';
import { ramInBytes } from '../lib/units.js';
import { suggest } from './suggest.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

const MOUNT_TYPES: MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: MountSharing[] = ['shared', 'private', 'locked'];
const KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst',
  'destination', 'ro', 'rw', 'readwrite', 'env',
];

export interface Mount {
  type: MountType;
  /** Stage name or image the bind/cache source comes from. */
  from?: string;
  source?: string;
  target?: string;
  /** Defaults to true for bind, secret and ssh mounts, false for cache and tmpfs. */
  readonly: boolean;
  /** tmpfs size in bytes. */
  size?: number;
  /** Cache id (cache), or secret/ssh id. */
  id?: string;
  sharing?: MountSharing;
  /** A secret or ssh mount that must be provided. */
  required: boolean;
  /** Environment variable a secret is exposed as. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * Parses one --mount value. With `expand`, each value goes through it first
 * (the executor passes its variable expander). Without it, fields whose value
 * holds a variable reference are left for the executor to parse again after
 * expansion, as BuildKit defers them; `from` never takes variables.
 */
export function parseMount(spec: string, expand?: (word: string) => string): Mount {
  const m: Mount = { type: 'bind', readonly: false, required: false };
  let roAuto = true;
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    let value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        m.readonly = true;
        roAuto = false;
      } else if (key === 'readwrite' || key === 'rw') {
        m.readonly = false;
        roAuto = false;
      } else if (key === 'required') {
        if (m.type !== 'secret' && m.type !== 'ssh') throw bad(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = true;
      } else {
        throw bad(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    if (expand) {
      value = expand(value);
    } else if (key === 'from') {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) {
        throw bad(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else if (/\$/.test(value)) {
      continue;
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!MOUNT_TYPES.includes(t)) throw bad(suggest(`unsupported mount type "${value}"`, value, MOUNT_TYPES, true));
        m.type = t;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readonly = parseBool(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readonly = !parseBool(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw bad(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBool(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw bad(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.size = ramInBytes(value);
        } catch {
          throw bad(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase() as MountSharing;
        if (!SHARING.includes(s)) throw bad(suggest(`unsupported sharing value "${value}"`, value, SHARING, true));
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = parseUint(value, 8, `invalid value ${value} for mode`);
        break;
      case 'uid':
        m.uid = parseUint(value, 10, `invalid value ${value} for uid`);
        break;
      case 'gid':
        m.gid = parseUint(value, 10, `invalid value ${value} for gid`);
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw bad(suggest(`unexpected key '${key}' in '${field}'`, key, KEYS, true));
    }
  }
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw bad(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (roAuto) m.readonly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== undefined) throw bad('secret mount should not have a from');
    if (m.sharing !== undefined) throw bad('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw bad('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw bad("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw bad(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

const bad = (message: string) => invalidArgument(message);

/** Go's strconv.ParseBool. */
function parseBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw bad(`invalid value for ${key}: ${value}`);
}

/** Go's strconv.ParseUint to 32 bits, base 8 or 10. */
function parseUint(value: string, base: 8 | 10, message: string): number {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  const s = value.replace(/_/g, '');
  if (!re.test(s) || value.startsWith('_') || value.endsWith('_') || value.includes('__')) throw bad(message);
  const n = parseInt(s, base);
  if (n > 0xffffffff) throw bad(message);
  return n;
}

/**
 * One CSV record (encoding/csv rules): fields split at commas, a field that
 * starts with `"` is quoted and `""` inside it is a quote.
 */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let f = '';
      i++;
      for (;;) {
        if (i >= line.length) throw bad(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            f += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        f += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw bad(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
      fields.push(f);
    } else {
      const end = line.indexOf(',', i);
      const f = end < 0 ? line.slice(i) : line.slice(i, end);
      if (f.includes('"')) throw bad(`failed to parse csv mounts: bare " in non-quoted-field`);
      fields.push(f);
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) break;
    i++;
  }
  return fields;
}
