/** Layer tar entry names: normalising them and refusing the ones that could reach outside a layer. */
import { invalidArgument } from '../../lib/errors.js';

/** An InvalidArgument error that names the tar entry at fault. */
export function refuse(entry: string, why: string) {
  return invalidArgument(`layer tar entry ${JSON.stringify(entry)}: ${why}`, { entry });
}

/**
 * The entry name as a clean relative path: no leading `./`, no `//`, no
 * trailing `/`, `.` segments dropped and `..` resolved lexically. The layer
 * root is ''. Throws when the name is absolute, contains NUL or climbs out of
 * the layer. `what` says which field of the entry is being read.
 */
export function cleanName(raw: string, entry: string, what = 'name'): string {
  if (raw.includes('\0')) throw refuse(entry, `${what} contains NUL`);
  if (raw.startsWith('/')) throw refuse(entry, `${what} is an absolute path`);
  const parts: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw refuse(entry, `${what} escapes the layer`);
      parts.pop();
    } else {
      parts.push(seg);
    }
  }
  return parts.join('/');
}

/** The parent of a clean relative path ('' for top-level names and the root). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** The last segment of a clean relative path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** Joins a parent and a name as clean relative paths do. */
export function joinRel(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}
