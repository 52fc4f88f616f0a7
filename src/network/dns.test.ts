import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { errnoCode } from '../lib/errors.js';
import {
  containerResolvConf,
  containerUpstreams,
  defaultBridgeResolvConf,
  DnsServer,
  hostResolvers,
  parseReverse,
  parseUpstream,
  type ListenOptions,
} from './dns.js';
import {
  buildResponse,
  decodeMessage,
  encodeQuery,
  FLAG_AA,
  FLAG_QR,
  FLAG_RA,
  FLAG_RD,
  FLAG_TC,
  formatIPv6,
  parseQuery,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
  TYPE_MX,
  TYPE_OPT,
  TYPE_PTR,
  writeIPv6,
  type Decoded,
} from './dnswire.js';

// Loopback addresses of this file only: 127.53.0.0/24.
const NET_A = '127.53.0.1';
const NET_B = '127.53.0.2';
const NET_INTERNAL = '127.53.0.3';
const UPSTREAM = '127.53.0.10';
const SILENT = '127.53.0.11';

const records: Record<string, Record<string, string[]>> = {
  a: {
    web: ['10.89.0.2'],
    db: ['10.89.0.3', 'fd00:89::3'],
    database: ['10.89.0.3', 'fd00:89::3'],
    many: Array.from({ length: 100 }, (_, i) => `10.89.1.${i}`),
  },
  b: { secret: ['10.90.0.2'] },
  internal: { lonely: ['10.91.0.2'] },
};
const reverses: Record<string, Record<string, string>> = {
  a: { '10.89.0.2': 'web.neta', '10.89.0.3': 'db.neta', 'fd00:89::3': 'db.neta' },
  b: { '10.90.0.2': 'secret.netb' },
};
const lookups: [string, string][] = [];
let upstreams: string[] = [];
let throwOn = '';

const server = new DnsServer({
  lookup: (scope, name) => {
    lookups.push([scope, name]);
    if (name === throwOn) throw new Error('lookup broke');
    return records[scope]?.[name];
  },
  reverse: (scope, ip) => reverses[scope]?.[ip],
  upstreams: () => upstreams,
  timeout: 300,
});
let portA = 0;
let portB = 0;
let portInternal = 0;

/** Listens on a random high port, retrying when another process holds it. */
async function listenSomewhere(s: DnsServer, scope: string, address: string, opts?: ListenOptions): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      await s.listen(scope, address, port, opts);
      return port;
    } catch (err) {
      if (errnoCode(err) !== 'EADDRINUSE' || attempt > 20) throw err;
    }
  }
}

/** A resolver stand-in: answers every A question with 192.0.2.77, over UDP and TCP on one port. */
class FakeUpstream {
  ids: number[] = [];
  names: string[] = [];
  udp = dgram.createSocket('udp4');
  tcp = net.createServer();
  port = 0;

  private reply(msg: Buffer): Buffer | undefined {
    const p = parseQuery(msg);
    if (!p?.ok) return undefined;
    this.ids.push(p.query.id);
    this.names.push(p.query.name);
    return buildResponse(p.query, RCODE_NOERROR, false, 512, TYPE_A, ['192.0.2.77']);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.udp.bind(0, UPSTREAM, () => resolve()));
    this.port = this.udp.address().port;
    this.udp.on('message', (msg, rinfo) => {
      const out = this.reply(msg);
      if (out) this.udp.send(out, rinfo.port, rinfo.address);
    });
    this.tcp.on('connection', (sock) => {
      sock.on('error', () => {});
      sock.once('data', (chunk: Buffer) => {
        const out = this.reply(chunk.subarray(2, 2 + chunk.readUInt16BE(0)));
        if (!out) return;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        sock.end(Buffer.concat([len, out]));
      });
    });
    await new Promise<void>((resolve) => this.tcp.listen(this.port, UPSTREAM, () => resolve()));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

const upstream = new FakeUpstream();
/** Bound and never answering: an upstream that times out. */
const silent = dgram.createSocket('udp4');
let silentPort = 0;

before(async () => {
  await upstream.start();
  await new Promise<void>((resolve) => silent.bind(0, SILENT, () => resolve()));
  silentPort = silent.address().port;
  portA = await listenSomewhere(server, 'a', NET_A, { subnets: ['10.89.0.0/16', 'fd00:89::/64'] });
  portB = await listenSomewhere(server, 'b', NET_B, { subnets: ['10.90.0.0/16'] });
  portInternal = await listenSomewhere(server, 'internal', NET_INTERNAL, { forward: false });
});

after(async () => {
  await server.closeAll();
  await upstream.stop();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

const good = () => `${UPSTREAM}:${upstream.port}`;
const quiet = () => `${SILENT}:${silentPort}`;

function udpAsk(address: string, port: number, msg: Buffer, timeout = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no answer'));
    }, timeout);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(msg, port, address);
  });
}

function tcpAsk(address: string, port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, address);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer'));
    }, 3000);
    sock.on('error', reject);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
  });
}

async function ask(
  name: string,
  type: number,
  opts: { address?: string; port?: number; id?: number; tcp?: boolean; edns?: number } = {},
): Promise<Decoded> {
  const id = opts.id ?? 0x1234;
  const q = encodeQuery(id, name, type, opts.edns === undefined ? {} : { edns: opts.edns });
  const address = opts.address ?? NET_A;
  const port = opts.port ?? portA;
  const raw = opts.tcp ? await tcpAsk(address, port, q) : await udpAsk(address, port, q);
  const d = decodeMessage(raw);
  assert.ok(d, 'the answer decodes');
  return d;
}

const data = (d: Decoded) => d.answers.map((a) => a.data);

// ---- codec ----

test('codec: a query parses back to its name, type and EDNS size; case is kept in the question only', () => {
  const p = parseQuery(encodeQuery(7, 'Web.Example.', TYPE_AAAA, { edns: 4096 }));
  assert.ok(p?.ok);
  assert.equal(p.query.id, 7);
  assert.equal(p.query.name, 'web.example');
  assert.equal(p.query.plain, true);
  assert.equal(p.query.qtype, TYPE_AAAA);
  assert.equal(p.query.edns, true);
  assert.equal(p.query.udpSize, 1232);
  assert.equal(p.query.question.toString('latin1', 1, 4), 'Web');
  const small = parseQuery(encodeQuery(7, 'x', TYPE_A, { edns: 100 }));
  assert.ok(small?.ok);
  assert.equal(small.query.udpSize, 512);
});

test('codec: a compressed question name is followed and re-encoded uncompressed', () => {
  // Bytes 0..4 of the header happen to read as the name "web" (ID 0x0377, flags 0x6562, QDCOUNT 1);
  // the question's name is a pointer to offset 0.
  const msg = Buffer.from([0x03, 0x77, 0x65, 0x62, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0, 1, 0, 1]);
  const p = parseQuery(msg);
  assert.ok(p?.ok);
  assert.equal(p.query.name, 'web');
  assert.deepEqual([...p.query.question], [3, 0x77, 0x65, 0x62, 0, 0, 1, 0, 1]);
});

test('codec: pointer loops, forward pointers and overlong names are FORMERR; short packets and responses get nothing', () => {
  const header = [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  const loop = Buffer.from([...header, 0xc0, 12, 0, 1, 0, 1]);
  const forward = Buffer.from([...header, 0xc0, 14, 0, 1, 0, 1]);
  const long = Buffer.concat([Buffer.from(header), Buffer.alloc(260, 1), Buffer.from([0, 0, 1, 0, 1])]);
  const cut = Buffer.from([...header, 3, 0x77, 0x65]);
  for (const msg of [loop, forward, long, cut]) {
    const p = parseQuery(msg);
    assert.ok(p && !p.ok);
    assert.equal(p.rcode, RCODE_FORMERR);
    assert.equal(p.id, 9);
  }
  assert.equal(parseQuery(Buffer.alloc(11)), undefined);
  const response = encodeQuery(1, 'web', TYPE_A);
  response.writeUInt16BE(FLAG_QR, 2);
  assert.equal(parseQuery(response), undefined);
});

test('codec: labels with dots, backslashes or control bytes are not plain', () => {
  const msg = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1]);
  const p = parseQuery(msg);
  assert.ok(p?.ok);
  assert.equal(p.query.plain, false);
});

test('codec: IPv6 text both ways (RFC 5952), reverse names, upstream addresses', () => {
  const b = new Uint8Array(16);
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['FD00:89:0:0:0:0:0:3', 'fd00:89::3'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::', '2001:db8::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
  ];
  for (const [input, text] of cases) {
    assert.ok(writeIPv6(input, b, 0), input);
    assert.equal(formatIPv6(b), text);
  }
  for (const bad of ['', ':', ':::', '1:2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:', 'g::', '::1.2.3', '1::2:3:4:5:6:7:8']) {
    assert.equal(writeIPv6(bad, b, 0), false, bad);
  }
  assert.equal(parseReverse('4.3.2.1.in-addr.arpa')?.ip, '1.2.3.4');
  assert.equal(parseReverse('3.2.1.in-addr.arpa')?.ip, undefined);
  assert.equal(parseReverse('3.2.1.in-addr.arpa')?.bits, 24);
  assert.equal(parseReverse('256.2.1.1.in-addr.arpa'), undefined);
  assert.equal(parseReverse('01.2.1.1.in-addr.arpa'), undefined);
  const nibbles = '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.9.8.0.0.0.0.d.f.ip6.arpa';
  assert.equal(parseReverse(nibbles)?.ip, 'fd00:89::3');
  assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53 });
  assert.deepEqual(parseUpstream('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353 });
  assert.deepEqual(parseUpstream('fd00::1'), { host: 'fd00::1', port: 53 });
  assert.deepEqual(parseUpstream('[fd00::1]:5353'), { host: 'fd00::1', port: 5353 });
  assert.equal(parseUpstream('resolver.example'), undefined);
  assert.equal(parseUpstream('10.0.0.1:0'), undefined);
});

test('codec: answers past the UDP size are left out and TC is set', () => {
  const p = parseQuery(encodeQuery(1, 'many', TYPE_A));
  assert.ok(p?.ok);
  const addrs = Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`);
  const small = decodeMessage(buildResponse(p.query, RCODE_NOERROR, true, 512, TYPE_A, addrs));
  assert.ok(small);
  assert.ok(small.flags & FLAG_TC);
  assert.equal(small.answers.length, Math.floor((512 - 12 - 10) / 16));
  const big = decodeMessage(buildResponse(p.query, RCODE_NOERROR, true, 65535, TYPE_A, addrs));
  assert.equal(big?.answers.length, 100);
  assert.equal(big.flags & FLAG_TC, 0);
});

test('codec: thousands of random and mutated packets never throw', () => {
  const base = encodeQuery(0x4242, 'web.example.com', TYPE_A, { edns: 1232 });
  for (let i = 0; i < 5000; i++) {
    const random = randomBytes(Math.floor(Math.random() * 80));
    const mutated = Buffer.from(base.subarray(0, Math.floor(Math.random() * (base.length + 1))));
    for (let k = 0; k < 3; k++) mutated[Math.floor(Math.random() * mutated.length)] = Math.floor(Math.random() * 256);
    for (const msg of [random, mutated]) {
      const p = parseQuery(msg);
      if (p?.ok) buildResponse(p.query, RCODE_NOERROR, true, p.query.udpSize, TYPE_A, ['10.0.0.1']);
      decodeMessage(msg);
    }
  }
});

// ---- server ----

test('server: a container name answers A with AA, RD copied, RA, TTL 600 and the client ID', async () => {
  const d = await ask('web', TYPE_A, { id: 0xbeef });
  assert.equal(d.id, 0xbeef);
  assert.equal(d.rcode, RCODE_NOERROR);
  assert.ok(d.flags & FLAG_QR);
  assert.ok(d.flags & FLAG_AA);
  assert.ok(d.flags & FLAG_RD);
  assert.ok(d.flags & FLAG_RA);
  assert.deepEqual(d.questions, [{ name: 'web', type: TYPE_A, class: 1 }]);
  assert.deepEqual(d.answers, [{ name: 'web', type: TYPE_A, class: 1, ttl: 600, data: '10.89.0.2' }]);
});

test('server: aliases resolve; names match in any case, with or without a trailing dot', async () => {
  assert.deepEqual(data(await ask('database', TYPE_A)), ['10.89.0.3']);
  const upper = await ask('DaTaBaSe.', TYPE_A);
  assert.deepEqual(data(upper), ['10.89.0.3']);
  assert.equal(upper.answers[0]!.name, 'DaTaBaSe', 'the owner name keeps the case asked');
  assert.deepEqual(data(await ask('db', TYPE_AAAA)), ['fd00:89::3']);
  assert.deepEqual(data(await ask('db', TYPE_ANY)).sort(), ['10.89.0.3', 'fd00:89::3']);
});

test('server: AAAA of an IPv4-only container and other types of our names are NODATA, not NXDOMAIN', async () => {
  for (const type of [TYPE_AAAA, TYPE_MX]) {
    const before = upstream.names.length;
    const d = await ask('web', type);
    assert.equal(d.rcode, RCODE_NOERROR);
    assert.ok(d.flags & FLAG_AA);
    assert.equal(d.answers.length, 0);
    assert.equal(upstream.names.length, before, 'not forwarded');
  }
});

test('server: an EDNS query gets an OPT record back', async () => {
  const d = await ask('web', TYPE_A, { edns: 4096 });
  assert.deepEqual(data(d), ['10.89.0.2']);
  assert.equal(d.additional.length, 1);
  assert.equal(d.additional[0]!.type, TYPE_OPT);
});

test('server: PTR of a container address; unknown addresses of the subnet are NXDOMAIN and never forwarded', async () => {
  upstreams = [good()];
  const d = await ask('2.0.89.10.in-addr.arpa', TYPE_PTR);
  assert.ok(d.flags & FLAG_AA);
  assert.deepEqual(d.answers.map((a) => [a.type, a.ttl, a.data]), [[TYPE_PTR, 600, 'web.neta']]);
  const v6 = await ask('3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.9.8.0.0.0.0.d.f.ip6.arpa', TYPE_PTR);
  assert.deepEqual(data(v6), ['db.neta']);
  const before = upstream.names.length;
  const unknown = await ask('99.0.89.10.in-addr.arpa', TYPE_PTR);
  assert.equal(unknown.rcode, RCODE_NXDOMAIN);
  assert.ok(unknown.flags & FLAG_AA);
  const zone = await ask('89.10.in-addr.arpa', TYPE_PTR);
  assert.equal(zone.rcode, RCODE_NOERROR);
  assert.equal(zone.answers.length, 0);
  assert.equal(upstream.names.length, before, 'own subnet never forwarded');
  const other = await ask('1.2.0.192.in-addr.arpa', TYPE_PTR);
  assert.equal(upstream.names.at(-1), '1.2.0.192.in-addr.arpa', 'other addresses are forwarded');
  assert.equal(other.rcode, RCODE_NOERROR);
});

test('server: other names go upstream; the answer carries the client ID', async () => {
  upstreams = [good()];
  const d = await ask('www.example.com', TYPE_A, { id: 0x0a0b });
  assert.equal(d.id, 0x0a0b);
  assert.deepEqual(data(d), ['192.0.2.77']);
  assert.equal(d.flags & FLAG_AA, 0);
  assert.equal(upstream.names.at(-1), 'www.example.com');
  // Single-label names that no container has are forwarded too, as docker does.
  const single = await ask('printer', TYPE_A);
  assert.deepEqual(data(single), ['192.0.2.77']);
  assert.equal(upstream.names.at(-1), 'printer');
});

test('server: an upstream that times out is skipped; none answering is SERVFAIL', async () => {
  upstreams = [quiet(), good()];
  const t0 = Date.now();
  const d = await ask('slow.example.com', TYPE_A, { id: 77 });
  assert.ok(Date.now() - t0 >= 280, 'waited for the first upstream');
  assert.equal(d.id, 77);
  assert.deepEqual(data(d), ['192.0.2.77']);
  upstreams = [quiet()];
  const fail = await ask('slow.example.com', TYPE_A, { id: 78 });
  assert.equal(fail.id, 78);
  assert.equal(fail.rcode, RCODE_SERVFAIL);
  upstreams = [];
  assert.equal((await ask('none.example.com', TYPE_A)).rcode, RCODE_SERVFAIL);
  // Ourselves as upstream would be a loop: skipped.
  upstreams = [`${NET_A}:${portA}`];
  assert.equal((await ask('loop.example.com', TYPE_A)).rcode, RCODE_SERVFAIL);
});

test('server: TCP queries are answered locally and forwarded over TCP', async () => {
  upstreams = [good()];
  const local = await ask('web', TYPE_A, { tcp: true, id: 5 });
  assert.equal(local.id, 5);
  assert.deepEqual(data(local), ['10.89.0.2']);
  const many = await ask('many', TYPE_A, { tcp: true });
  assert.equal(many.answers.length, 100);
  assert.equal(many.flags & FLAG_TC, 0);
  const far = await ask('tcp.example.com', TYPE_A, { tcp: true, id: 6 });
  assert.equal(far.id, 6);
  assert.deepEqual(data(far), ['192.0.2.77']);
  assert.equal(upstream.names.at(-1), 'tcp.example.com');
});

test('server: a large answer over UDP is truncated with TC', async () => {
  const d = await ask('many', TYPE_A);
  assert.ok(d.flags & FLAG_TC);
  assert.ok(d.answers.length > 0 && d.answers.length < 100);
});

test('server: networks are isolated from each other', async () => {
  upstreams = [];
  lookups.length = 0;
  const fromB = await ask('web', TYPE_A, { address: NET_B, port: portB });
  assert.equal(fromB.answers.length, 0);
  assert.equal(fromB.flags & FLAG_AA, 0);
  assert.deepEqual(lookups, [['b', 'web']]);
  assert.deepEqual(data(await ask('secret', TYPE_A, { address: NET_B, port: portB })), ['10.90.0.2']);
  assert.equal((await ask('secret', TYPE_A)).rcode, RCODE_SERVFAIL);
  assert.equal((await ask('2.0.90.10.in-addr.arpa', TYPE_PTR)).answers.length, 0);
});

test('server: an internal network answers its names and SERVFAIL for the rest, forwarding nothing', async () => {
  upstreams = [good()];
  const before = upstream.names.length;
  const at = { address: NET_INTERNAL, port: portInternal };
  assert.deepEqual(data(await ask('lonely', TYPE_A, at)), ['10.91.0.2']);
  assert.equal((await ask('www.example.com', TYPE_A, at)).rcode, RCODE_SERVFAIL);
  assert.equal(upstream.names.length, before);
});

test('server: a failing lookup is SERVFAIL; a second listen on an address is refused', async () => {
  throwOn = 'boom';
  try {
    assert.equal((await ask('boom', TYPE_A)).rcode, RCODE_SERVFAIL);
  } finally {
    throwOn = '';
  }
  await assert.rejects(server.listen('x', NET_A, portA), /already listening/);
  assert.deepEqual(data(await ask('web', TYPE_A)), ['10.89.0.2']);
});

test('server: survives thousands of malformed packets over UDP and TCP', async (t) => {
  upstreams = [];
  const sock = dgram.createSocket('udp4');
  let answered = 0;
  sock.on('message', () => answered++);
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const base = encodeQuery(1, 'web.example.com', TYPE_A, { edns: 1232 });
  for (let i = 0; i < 3000; i++) {
    let msg: Buffer;
    if (i % 2 === 0) {
      msg = randomBytes(Math.floor(Math.random() * 600));
    } else {
      msg = Buffer.from(base.subarray(0, Math.floor(Math.random() * (base.length + 1))));
      for (let k = 0; k < 3; k++) msg[Math.floor(Math.random() * msg.length)] = Math.floor(Math.random() * 256);
    }
    sock.send(msg, portA, NET_A);
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 100));
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  assert.ok(answered > 0, 'the damaged queries that still have a header were answered (FORMERR and the like)');
  t.diagnostic(`${answered} of 3000 malformed datagrams answered`);
  for (let i = 0; i < 50; i++) {
    await new Promise<void>((resolve) => {
      const c = net.connect(portA, NET_A, () => {
        c.end(randomBytes(1 + Math.floor(Math.random() * 300)));
      });
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      c.resume();
      setTimeout(() => c.destroy(), 200);
    });
  }
  assert.deepEqual(data(await ask('web', TYPE_A)), ['10.89.0.2']);
  assert.deepEqual(data(await ask('web', TYPE_A, { tcp: true })), ['10.89.0.2']);
});

test('server: 1000 local queries are answered correctly (rate printed)', async (t) => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const total = 1000;
  const window = 50;
  const pending = new Map<number, () => void>();
  let wrong = 0;
  sock.on('message', (m) => {
    const d = decodeMessage(m);
    if (!d || d.answers[0]?.data !== '10.89.0.2') wrong++;
    const done = d && pending.get(d.id);
    if (done) {
      pending.delete(d.id);
      done();
    }
  });
  const t0 = process.hrtime.bigint();
  for (let start = 0; start < total; start += window) {
    const batch: Promise<void>[] = [];
    for (let id = start; id < start + window; id++) {
      batch.push(new Promise<void>((resolve) => pending.set(id, resolve)));
      sock.send(encodeQuery(id, id % 2 ? 'WEB' : 'web', TYPE_A), portA, NET_A);
    }
    await Promise.race([Promise.all(batch), new Promise((r) => setTimeout(r, 2000))]);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  assert.equal(pending.size, 0, 'every query answered');
  assert.equal(wrong, 0);
  t.diagnostic(`${total} local queries in ${(secs * 1000).toFixed(1)} ms: ${Math.round(total / secs)} queries/s`);
});

test('server: close stops one network and leaves the others serving', async () => {
  const s = new DnsServer({ lookup: () => ['10.0.0.9'], reverse: () => undefined, upstreams: () => [] });
  const p1 = await listenSomewhere(s, 'x', '127.53.0.20');
  const p2 = await listenSomewhere(s, 'y', '127.53.0.21');
  await s.close('127.53.0.20');
  await assert.rejects(udpAsk('127.53.0.20', p1, encodeQuery(1, 'any', TYPE_A), 300));
  assert.deepEqual(data(decodeMessage(await udpAsk('127.53.0.21', p2, encodeQuery(1, 'any', TYPE_A)))!), ['10.0.0.9']);
  await s.closeAll();
});

// ---- resolv.conf ----

const HOST = `# managed by someone
nameserver 127.0.0.53
nameserver 10.0.0.2
nameserver fd00::53
nameserver ::1
nameserver not-an-address
; a comment
domain corp.example
search corp.example lab.example
options edns0 trust-ad
`;

test('resolv.conf: hostResolvers reads IPv4 and IPv6 nameservers in order, loopback included', () => {
  assert.deepEqual(hostResolvers(HOST), ['127.0.0.53', '10.0.0.2', 'fd00::53', '::1']);
  assert.deepEqual(hostResolvers(''), []);
  assert.deepEqual(hostResolvers('nameserver\tfe80::1%eth0\n'), ['fe80::1%eth0']);
});

test('resolv.conf: user-defined network points at the embedded server with the host search and options', () => {
  const text = containerResolvConf(HOST, '10.89.0.1');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  assert.deepEqual(lines, ['nameserver 10.89.0.1', 'search corp.example lab.example', 'options edns0 trust-ad ndots:0', '']);
  assert.match(text, /^#.*127\.0\.0\.53 10\.0\.0\.2 fd00::53 ::1 \(host\)/);
});

test('resolv.conf: --dns becomes the upstreams, --dns-search and --dns-option replace the host ones', () => {
  const opts = { dns: ['1.1.1.1'], dnsSearch: ['svc.local'], dnsOptions: ['ndots:2', 'timeout:1'] };
  const text = containerResolvConf(HOST, '10.89.0.1', opts);
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  assert.deepEqual(lines, ['nameserver 10.89.0.1', 'search svc.local', 'options ndots:2 timeout:1', '']);
  assert.match(text, /1\.1\.1\.1 \(--dns\)/);
  assert.deepEqual(containerUpstreams(HOST, opts), ['1.1.1.1']);
  assert.deepEqual(containerUpstreams(HOST), ['127.0.0.53', '10.0.0.2', 'fd00::53', '::1']);
  const none = containerResolvConf('nameserver 10.0.0.2\n', '10.89.0.1', { dnsSearch: ['.'] });
  assert.deepEqual(none.split('\n').filter((l) => !l.startsWith('#')), ['nameserver 10.89.0.1', 'options ndots:0', '']);
});

test('resolv.conf: default bridge drops loopback (and IPv6 without IPv6) nameservers, falls back to 8.8.8.8/8.8.4.4', () => {
  assert.equal(
    defaultBridgeResolvConf(HOST),
    'nameserver 10.0.0.2\nsearch corp.example lab.example\noptions edns0 trust-ad\n',
  );
  assert.equal(
    defaultBridgeResolvConf(HOST, { ipv6: true }),
    'nameserver 10.0.0.2\nnameserver fd00::53\nsearch corp.example lab.example\noptions edns0 trust-ad\n',
  );
  assert.equal(defaultBridgeResolvConf('nameserver 127.0.0.53\nnameserver ::1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(
    defaultBridgeResolvConf('nameserver 127.0.0.1\n', { ipv6: true }),
    'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n',
  );
  assert.equal(
    defaultBridgeResolvConf(HOST, { dns: ['9.9.9.9', '127.0.0.1'], dnsOptions: ['rotate'] }),
    'nameserver 9.9.9.9\nnameserver 127.0.0.1\nsearch corp.example lab.example\noptions rotate\n',
  );
});
