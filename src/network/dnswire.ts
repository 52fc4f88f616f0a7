/**
 * DNS message codec (RFC 1035, EDNS(0) of RFC 6891) for the embedded DNS
 * server: reads queries, writes answers, and decodes whole messages for tests
 * and diagnostics. Nothing here throws on hostile input: a parse either
 * succeeds or says what to answer (or that the packet deserves no answer).
 *
 * The answer path is synchronous and writes into one module-level scratch
 * buffer, copied once into the outgoing Buffer; callers must not hold a
 * scratch view across calls (none is ever returned).
 */

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_MX = 15;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** Header flag bits (second 16-bit word of the header). */
export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;
const OPCODE_MASK = 0x7800;

/** Docker's embedded server gives its records this TTL (seconds). */
export const TTL = 600;
/** Largest UDP answer we write whatever the client advertises; the usual safe EDNS size. */
export const MAX_UDP = 1232;
const HEADER = 12;
const MAX_NAME = 255;

export interface Query {
  id: number;
  /** The header's flag word as received. */
  flags: number;
  opcode: number;
  /** Question name, ASCII-lower-cased, labels joined by '.', no trailing dot ('' for the root). */
  name: string;
  /**
   * Every label is printable ASCII without '.' or '\', so `name` stands for
   * exactly one wire name. Other names are never matched locally.
   */
  plain: boolean;
  qtype: number;
  qclass: number;
  /** The question in wire form with an uncompressed name, as the answer repeats it (original case kept). */
  question: Buffer;
  /** The query carried an OPT record. */
  edns: boolean;
  /** Largest UDP answer the client accepts: 512 without EDNS, its advertised size (within 512..MAX_UDP) with it. */
  udpSize: number;
}

/**
 * What a packet parses into: a query; or a header we can answer with an
 * error code (FORMERR for a malformed question); or undefined for a packet
 * that gets no answer at all (shorter than a header, or itself a response).
 */
export type Parsed = { ok: true; query: Query } | { ok: false; id: number; flags: number; rcode: number } | undefined;

const nameBuf = Buffer.alloc(MAX_NAME);
let nameLen = 0;
let nameStr = '';
let namePlain = true;
let nameCompressed = false;

/**
 * Reads the name at `start` into nameBuf/nameStr/namePlain (uncompressed wire
 * form, dotted text) and returns the offset just past it in the message, or
 * -1 when it is malformed: runs past the end, longer than 255 bytes, uses a
 * reserved label type, or a pointer that does not point backwards (which,
 * with the length limit, rules out loops).
 */
function readName(msg: Buffer, start: number): number {
  let pos = start;
  let end = -1;
  let wire = 0;
  let text = '';
  let plain = true;
  nameCompressed = false;
  for (;;) {
    if (pos >= msg.length) return -1;
    const len = msg[pos]!;
    if (len === 0) {
      if (wire + 1 > MAX_NAME) return -1;
      nameBuf[wire++] = 0;
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= msg.length) return -1;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (target >= pos) return -1;
      if (end < 0) end = pos + 2;
      nameCompressed = true;
      pos = target;
      continue;
    }
    if (kind !== 0) return -1;
    const from = pos + 1;
    const to = from + len;
    if (to > msg.length || wire + 1 + len + 1 > MAX_NAME) return -1;
    nameBuf[wire++] = len;
    for (let i = from; i < to; i++) {
      const c = msg[i]!;
      if (c < 0x21 || c > 0x7e || c === 0x2e || c === 0x5c) plain = false;
      nameBuf[wire++] = c;
    }
    const label = msg.toString('latin1', from, to);
    text = text.length === 0 ? label : text + '.' + label;
    pos = to;
  }
  nameLen = wire;
  nameStr = text;
  namePlain = plain;
  return end;
}

/** Offset past the resource record at `off`, or -1 when it overruns the message. */
function skipRecord(msg: Buffer, off: number): number {
  const after = skipName(msg, off);
  if (after < 0 || after + 10 > msg.length) return -1;
  const end = after + 10 + msg.readUInt16BE(after + 8);
  return end > msg.length ? -1 : end;
}

/** Offset past the (possibly compressed) name at `off` without decoding it, or -1. */
function skipName(msg: Buffer, off: number): number {
  let pos = off;
  for (let labels = 0; labels < 128; labels++) {
    if (pos >= msg.length) return -1;
    const len = msg[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= msg.length ? pos + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    pos += 1 + len;
  }
  return -1;
}

/**
 * Parses a query. Only the first question is read (a count other than one is
 * FORMERR, as every server in practice does); the additional section is
 * searched for an OPT record, and damage past the question is ignored since
 * the question alone decides the answer.
 */
export function parseQuery(msg: Buffer): Parsed {
  if (msg.length < HEADER) return undefined;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & FLAG_QR) return undefined;
  const qd = msg.readUInt16BE(4);
  if (qd !== 1) return { ok: false, id, flags, rcode: (flags & OPCODE_MASK) === 0 ? RCODE_FORMERR : RCODE_NOTIMP };
  const qend = readName(msg, HEADER);
  if (qend < 0 || qend + 4 > msg.length) return { ok: false, id, flags, rcode: RCODE_FORMERR };
  const qtype = msg.readUInt16BE(qend);
  const qclass = msg.readUInt16BE(qend + 2);
  let question: Buffer;
  if (nameCompressed) {
    question = Buffer.allocUnsafe(nameLen + 4);
    nameBuf.copy(question, 0, 0, nameLen);
    msg.copy(question, nameLen, qend, qend + 4);
  } else {
    question = msg.subarray(HEADER, qend + 4);
  }
  let edns = false;
  let udpSize = 512;
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8);
  const additional = msg.readUInt16BE(10);
  if (additional > 0) {
    let off = qend + 4;
    for (let i = 0; i < records && off >= 0; i++) off = skipRecord(msg, off);
    for (let i = 0; i < additional && off >= 0; i++) {
      // An OPT record has the root name, so its type sits right after one zero byte.
      if (off + 11 <= msg.length && msg[off] === 0 && msg.readUInt16BE(off + 1) === TYPE_OPT) {
        edns = true;
        udpSize = Math.min(Math.max(msg.readUInt16BE(off + 3), 512), MAX_UDP);
        break;
      }
      off = skipRecord(msg, off);
    }
  }
  const query: Query = {
    id,
    flags,
    opcode: (flags & OPCODE_MASK) >> 11,
    name: nameStr.toLowerCase(),
    plain: namePlain,
    qtype,
    qclass,
    question,
    edns,
    udpSize,
  };
  return { ok: true, query };
}

/** The answer header's flags: QR and RA always, opcode and RD copied from the query. */
function answerFlags(queryFlags: number, aa: boolean, rcode: number): number {
  return FLAG_QR | (queryFlags & (OPCODE_MASK | FLAG_RD)) | (aa ? FLAG_AA : 0) | FLAG_RA | (rcode & 0xf);
}

/** A header-only answer (no question): for queries whose question could not be read. */
export function errorResponse(id: number, queryFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(answerFlags(queryFlags, false, rcode), 2);
  return out;
}

const scratch = Buffer.alloc(65535);

/**
 * Builds the answer to `q`. `values` are written as records of `rtype`:
 * TYPE_A takes the IPv4 strings among them, TYPE_AAAA the IPv6 ones,
 * TYPE_ANY both; TYPE_PTR takes domain names. Values that do not fit the
 * type are skipped, so an address list serves either question. Records that
 * would push the message past `maxSize` are left out and TC is set. Owner
 * names point at the question (offset 12). An OPT record is added when the
 * query had one.
 */
export function buildResponse(
  q: Query,
  rcode: number,
  aa: boolean,
  maxSize: number,
  rtype = 0,
  values: readonly string[] = [],
  ttl = TTL,
): Buffer {
  const limit = Math.min(maxSize, scratch.length) - (q.edns ? 11 : 0);
  let off = HEADER;
  q.question.copy(scratch, off);
  off += q.question.length;
  let count = 0;
  let truncated = false;
  for (let i = 0; i < values.length && rtype !== 0; i++) {
    const v = values[i]!;
    const start = off;
    // Owner (pointer to the question name), type, class, TTL, then RDLENGTH and RDATA.
    scratch[off] = 0xc0;
    scratch[off + 1] = HEADER;
    scratch.writeUInt32BE(ttl, off + 6);
    const rdata = off + 12;
    let type: number;
    let end: number;
    if (rtype === TYPE_PTR) {
      type = TYPE_PTR;
      end = writeName(v, scratch, rdata);
    } else {
      const v6 = v.includes(':');
      if ((v6 && rtype === TYPE_A) || (!v6 && rtype === TYPE_AAAA)) continue;
      type = v6 ? TYPE_AAAA : TYPE_A;
      end = v6 ? (writeIPv6(v, scratch, rdata) ? rdata + 16 : -1) : writeIPv4(v, scratch, rdata) ? rdata + 4 : -1;
    }
    if (end < 0) continue;
    if (end > limit) {
      truncated = true;
      off = start;
      break;
    }
    scratch.writeUInt16BE(type, start + 2);
    scratch.writeUInt16BE(CLASS_IN, start + 4);
    scratch.writeUInt16BE(end - rdata, start + 10);
    off = end;
    count++;
  }
  if (q.edns) {
    // Root owner, TYPE OPT, our UDP size in CLASS, extended rcode/version/flags 0, no options.
    scratch[off] = 0;
    scratch.writeUInt16BE(TYPE_OPT, off + 1);
    scratch.writeUInt16BE(MAX_UDP, off + 3);
    scratch.writeUInt32BE(0, off + 5);
    scratch.writeUInt16BE(0, off + 9);
    off += 11;
  }
  scratch.writeUInt16BE(q.id, 0);
  scratch.writeUInt16BE(answerFlags(q.flags, aa, rcode) | (truncated ? FLAG_TC : 0), 2);
  scratch.writeUInt16BE(1, 4);
  scratch.writeUInt16BE(count, 6);
  scratch.writeUInt16BE(0, 8);
  scratch.writeUInt16BE(q.edns ? 1 : 0, 10);
  const out = Buffer.allocUnsafe(off);
  scratch.copy(out, 0, 0, off);
  return out;
}

/**
 * Writes a dotted name (a trailing dot allowed) uncompressed at `off`;
 * returns the offset past it, or -1 for an empty label, a label over 63 bytes
 * or a name over 255 bytes.
 */
export function writeName(name: string, buf: Buffer, off: number): number {
  const end = name.endsWith('.') ? name.length - 1 : name.length;
  if (end > MAX_NAME - 2 || off + end + 2 > buf.length) return -1;
  let pos = off;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    if (i < end && name.charCodeAt(i) !== 0x2e) continue;
    const len = i - labelStart;
    if (end === 0) break;
    if (len === 0 || len > 63) return -1;
    buf[pos++] = len;
    pos += buf.write(name.slice(labelStart, i), pos, 'latin1');
    labelStart = i + 1;
  }
  buf[pos++] = 0;
  return pos;
}

/** Writes a dotted-quad IPv4 address as 4 bytes at `off`; false when it is not one. */
export function writeIPv4(s: string, buf: Uint8Array, off: number): boolean {
  let octet = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 0x2e) {
      if (digits === 0 || n === 4) return false;
      buf[off + n++] = octet;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return n === 4;
}

const groups = new Uint16Array(8);
const tail4 = new Uint8Array(4);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Writes a textual IPv6 address (RFC 4291 §2.2 forms, an IPv4 tail allowed,
 * no zone) as 16 bytes at `off`; false when it is not one.
 */
export function writeIPv6(s: string, buf: Uint8Array, off: number): boolean {
  const len = s.length;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (len < 2) return false;
  if (s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    if (n === 8) return false;
    let v = 0;
    let j = i;
    while (j < len && j - i < 5) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < len && s.charCodeAt(j) === 0x2e) {
      if (n > 6 || !writeIPv4(s.slice(i), tail4, 0)) return false;
      groups[n++] = (tail4[0]! << 8) | tail4[1]!;
      groups[n++] = (tail4[2]! << 8) | tail4[3]!;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups[n++] = v;
    i = j;
    if (i === len) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < len && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === len) {
      return false;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const zeros = 8 - n;
  for (let g = 0, k = 0; g < 8; g++) {
    const value = gap >= 0 && g >= gap && g < gap + zeros ? 0 : groups[k++]!;
    buf[off + g * 2] = value >> 8;
    buf[off + g * 2 + 1] = value & 0xff;
  }
  return true;
}

/** RFC 5952 text of the 16-byte IPv6 address at `off`: lower case, the longest run of two or more zero groups as '::'. */
export function formatIPv6(buf: Uint8Array, off = 0): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    if (buf[off + g * 2] === 0 && buf[off + g * 2 + 1] === 0) {
      let e = g;
      while (e < 8 && buf[off + e * 2] === 0 && buf[off + e * 2 + 1] === 0) e++;
      if (e - g > bestLen) {
        bestStart = g;
        bestLen = e - g;
      }
      g = e;
    } else {
      g++;
    }
  }
  let out = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += '::';
      g += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += ((buf[off + g * 2]! << 8) | buf[off + g * 2 + 1]!).toString(16);
  }
  return out;
}

/** Encodes a standard query for `name` (for clients and tests); `edns` adds an OPT record advertising that UDP size. */
export function encodeQuery(id: number, name: string, qtype: number, opts: { rd?: boolean; edns?: number } = {}): Buffer {
  const buf = Buffer.alloc(HEADER + MAX_NAME + 4 + 11);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(opts.rd === false ? 0 : FLAG_RD, 2);
  buf.writeUInt16BE(1, 4);
  let off = writeName(name, buf, HEADER);
  if (off < 0) throw new RangeError(`invalid DNS name: ${name}`);
  buf.writeUInt16BE(qtype, off);
  buf.writeUInt16BE(CLASS_IN, off + 2);
  off += 4;
  if (opts.edns !== undefined) {
    buf.writeUInt16BE(1, 10);
    buf[off] = 0;
    buf.writeUInt16BE(TYPE_OPT, off + 1);
    buf.writeUInt16BE(opts.edns, off + 3);
    off += 11;
  }
  return buf.subarray(0, off);
}

export interface DecodedRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A/AAAA: the address; PTR, CNAME, NS: the name; otherwise the RDATA in hex. */
  data: string;
}

export interface Decoded {
  id: number;
  flags: number;
  rcode: number;
  questions: { name: string; type: number; class: number }[];
  answers: DecodedRecord[];
  authority: DecodedRecord[];
  additional: DecodedRecord[];
}

/** Decodes a whole message (names decompressed, in their received case); undefined when it is malformed. */
export function decodeMessage(msg: Buffer): Decoded | undefined {
  if (msg.length < HEADER) return undefined;
  const out: Decoded = {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    rcode: msg.readUInt16BE(2) & 0xf,
    questions: [],
    answers: [],
    authority: [],
    additional: [],
  };
  let off = HEADER;
  for (let i = msg.readUInt16BE(4); i > 0; i--) {
    off = readName(msg, off);
    if (off < 0 || off + 4 > msg.length) return undefined;
    out.questions.push({ name: nameStr, type: msg.readUInt16BE(off), class: msg.readUInt16BE(off + 2) });
    off += 4;
  }
  const sections = [out.answers, out.authority, out.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = msg.readUInt16BE(6 + s * 2); i > 0; i--) {
      off = readName(msg, off);
      if (off < 0 || off + 10 > msg.length) return undefined;
      const name = nameStr;
      const type = msg.readUInt16BE(off);
      const rdlen = msg.readUInt16BE(off + 8);
      const rdata = off + 10;
      if (rdata + rdlen > msg.length) return undefined;
      let data: string;
      if (type === TYPE_A && rdlen === 4) data = `${msg[rdata]}.${msg[rdata + 1]}.${msg[rdata + 2]}.${msg[rdata + 3]}`;
      else if (type === TYPE_AAAA && rdlen === 16) data = formatIPv6(msg, rdata);
      else if (type === TYPE_PTR || type === TYPE_CNAME || type === TYPE_NS) {
        if (readName(msg, rdata) < 0) return undefined;
        data = nameStr;
      } else data = msg.toString('hex', rdata, rdata + rdlen);
      sections[s]!.push({ name, type, class: msg.readUInt16BE(off + 2), ttl: msg.readUInt32BE(off + 4), data });
      off = rdata + rdlen;
    }
  }
  return out;
}
