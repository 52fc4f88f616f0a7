/**
 * Small Go standard-library parsers the container options need, with Go's
 * error texts: net.ParseIP / IP.String, net.ParseMAC, strconv integers,
 * path.Clean, encoding/csv (one record) and big.Rat decimals.
 */

/** Go's strconv.ParseUint(s, 10, bits) error text, or the value. */
export function parseUintGo(s: string, bits: number, fn = 'ParseUint'): number {
  const q = JSON.stringify(s);
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.${fn}: parsing ${q}: invalid syntax`);
  const n = BigInt(s);
  if (n > (1n << BigInt(bits)) - 1n) throw new Error(`strconv.${fn}: parsing ${q}: value out of range`);
  return Number(n);
}

/** Go's strconv.ParseInt(s, 10, bits) (and Atoi, which is ParseInt(s, 10, 0) with `strconv.Atoi` in the text). */
export function parseIntGo(s: string, bits = 64, fn = 'ParseInt'): number {
  const q = JSON.stringify(s);
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.${fn}: parsing ${q}: invalid syntax`);
  const n = BigInt(s);
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (n > max || n < -max - 1n) throw new Error(`strconv.${fn}: parsing ${q}: value out of range`);
  return Number(n);
}

/** strconv.Atoi. */
export function atoi(s: string): number {
  return parseIntGo(s, 64, 'Atoi');
}

/** Parses an IPv4 dotted quad the way Go does (no leading zeros); 4 bytes or null. */
function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    if (p.length > 1 && p[0] === '0') return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** Go's net.ParseIP: 16 bytes (IPv4 in IPv4-mapped form, with `v4` set), or null. */
export function parseIP(s: string): { bytes: number[]; v4: boolean } | null {
  const v4 = parseIPv4(s);
  if (v4) return { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4], v4: true };
  if (!s.includes(':')) return null;
  if (s.includes('%')) return null;
  const bytes: number[] = [];
  let ellipsis = -1;
  let rest = s;
  if (rest.startsWith('::')) {
    ellipsis = 0;
    rest = rest.slice(2);
    if (rest === '') return { bytes: new Array(16).fill(0), v4: false };
  }
  while (rest !== '') {
    // an embedded IPv4 at the end
    const m = /^([0-9a-fA-F]{1,4})/.exec(rest);
    if (rest.includes('.') && !/^[0-9a-fA-F]{1,4}:/.test(rest)) {
      if (bytes.length > 12) return null;
      const tail = parseIPv4(rest);
      if (!tail) return null;
      bytes.push(...tail);
      rest = '';
      break;
    }
    if (!m) return null;
    const n = parseInt(m[1]!, 16);
    bytes.push(n >> 8, n & 0xff);
    rest = rest.slice(m[1]!.length);
    if (rest === '') break;
    if (rest[0] !== ':' || rest.length === 1) return null;
    rest = rest.slice(1);
    if (rest[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = bytes.length;
      rest = rest.slice(1);
      if (rest === '') break;
    }
    if (bytes.length >= 16) return null;
  }
  if (bytes.length > 16) return null;
  if (ellipsis < 0) {
    if (bytes.length !== 16) return null;
  } else {
    const n = 16 - bytes.length;
    if (n <= 0 && ellipsis >= 0 && bytes.length === 16) return null;
    bytes.splice(ellipsis, 0, ...new Array(n).fill(0));
  }
  return { bytes, v4: false };
}

/** Go's IP.String for a parsed address: dotted quad for IPv4(-mapped), RFC 5952 otherwise. */
export function formatIP(ip: { bytes: number[] }): string {
  const b = ip.bytes;
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return b.slice(12).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // longest run of zero words (length ≥ 2), first one wins
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16);
  }
  return out;
}

/** Go's net.ParseMAC error text (`address x: invalid MAC address`), or nothing. */
export function validateMAC(s: string): void {
  const ok =
    /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(s) ||
    /^([0-9a-fA-F]{4}\.){3}[0-9a-fA-F]{4}$/.test(s) ||
    /^([0-9a-fA-F]{4}\.){9}[0-9a-fA-F]{4}$/.test(s);
  if (ok) {
    const seps = s.replace(/[0-9a-fA-F]/g, '');
    if (new Set(seps).size <= 1) return;
  }
  throw new Error(`address ${s}: invalid MAC address`);
}

/**
 * One record of Go's encoding/csv reader (comma separated, `"` quoting,
 * LazyQuotes off), with its error texts.
 */
export function readCSVRecord(line: string): string[] {
  const text = line.replace(/\r?\n$/, '');
  if (text === '') throw new Error('EOF');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error(`parse error on line 1, column ${text.length + 1}: extraneous or missing " in quoted-field`);
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        if (i === text.length || text[i] === ',') break;
        throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      }
    } else {
      const comma = text.indexOf(',', i);
      field = comma < 0 ? text.slice(i) : text.slice(i, comma);
      const quote = field.indexOf('"');
      if (quote >= 0) throw new Error(`parse error on line 1, column ${i + quote + 1}: bare " in non-quoted-field`);
      i = comma < 0 ? text.length : comma;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++;
    if (i === text.length) {
      fields.push('');
      return fields;
    }
  }
}

/** big.Rat.SetString for decimals, fractions and exponents; null when it does not parse. */
export function parseRat(s: string): { num: bigint; den: bigint } | null {
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    const den = BigInt(frac[2]!);
    if (den === 0n) return null;
    return { num: BigInt(frac[1]!), den };
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  let num = BigInt((intPart + fracPart) || '0');
  let den = 10n ** BigInt(fracPart.length);
  const exp = m[4] ? Number(m[4]) : 0;
  if (exp > 0) num *= 10n ** BigInt(exp);
  else if (exp < 0) den *= 10n ** BigInt(-exp);
  return { num: sign * num, den };
}
