/** The client's container additions: hijacked connections, wait, events decoding, create adjustments. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, decodePathStat, normalizeCapabilities, trimID } from './client.js';
import { decodeEvents, formatEvent, formatEventTime } from './events.js';

describe('hijack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hijack-'));
  const socket = join(dir, 'd.sock');
  const seen: { url: string; headers: http.IncomingHttpHeaders; head: string }[] = [];
  const server = http.createServer((req, res) => {
    res.setHeader('Api-Version', '1.51');
    if (req.url === '/_ping') return res.end('OK');
    if (req.url?.includes('/wait')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.end('{"StatusCode":3,"Error":null}\n'), 50);
      return;
    }
    // an attach without the upgrade: a plain 200
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' });
    res.end('nope');
  });
  server.on('upgrade', (req: http.IncomingMessage, sock: Socket, head: Buffer) => {
    seen.push({ url: req.url ?? '', headers: req.headers, head: head.toString() });
    if (req.url?.includes('plain')) {
      sock.end('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nContent-Length: 4\r\n\r\nnope');
      return;
    }
    if (req.url?.includes('refuse')) {
      sock.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      return;
    }
    // the 101 headers and the first bytes of the stream in one write
    sock.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly|',
    );
    // a request body (exec start's JSON) arrives with the headers
    const bodyLen = Number(req.headers['content-length'] ?? 0);
    let skip = bodyLen - head.length;
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      if (skip > 0) {
        const n = Math.min(skip, d.length);
        skip -= n;
        d = d.subarray(n);
      }
      if (d.length > 0) got.push(d);
    });
    // the client's half-close: answer with what came in, then close
    sock.on('end', () => sock.end(`got:${Buffer.concat(got).toString()}|bye`));
  });

  before(() => new Promise<void>((r) => server.listen(socket, r)));
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sends Connection: Upgrade / Upgrade: tcp; keeps bytes after the 101; half-close keeps reading', async () => {
    const c = new Client({ host: `unix://${socket}` });
    try {
      const conn = await c.containerAttach('abc', { stream: true, stdin: true, stdout: true, stderr: true, detachKeys: 'ctrl-x' });
      assert.equal(conn.mediaType, 'application/vnd.docker.raw-stream');
      const last = seen[seen.length - 1]!;
      assert.equal(last.url, '/v1.51/containers/abc/attach?detachKeys=ctrl-x&stderr=1&stdin=1&stdout=1&stream=1');
      assert.equal(last.headers['connection'], 'Upgrade');
      assert.equal(last.headers['upgrade'], 'tcp');
      assert.equal(last.headers['content-type'], 'text/plain');
      conn.socket.write('input');
      conn.closeWrite();
      let text = '';
      for await (const chunk of conn.socket) text += (chunk as Buffer).toString();
      assert.equal(text, 'early|got:input|bye');
    } finally {
      c.close();
    }
  });

  test('exec start sends its JSON body on the hijacked request', async () => {
    const c = new Client({ host: `unix://${socket}` });
    try {
      const conn = await c.execAttach('e1', { Tty: true, ConsoleSize: [24, 80] });
      conn.closeWrite();
      for await (const _ of conn.socket) void _;
      const last = seen[seen.length - 1]!;
      assert.equal(last.url, '/v1.51/exec/e1/start');
      assert.equal(last.headers['content-type'], 'application/json');
      assert.equal(last.head, '{"Detach":false,"Tty":true,"ConsoleSize":[24,80]}\n');
    } finally {
      c.close();
    }
  });

  test('anything but 101 fails like the Go client', async () => {
    const c = new Client({ host: `unix://${socket}` });
    try {
      await assert.rejects(c.containerAttach('refuse', { stream: true }), /^Error: unable to upgrade to tcp, received 404$|unable to upgrade to tcp, received 404/);
      await assert.rejects(c.hijack('/plain'), /unable to upgrade to tcp, received 200/);
    } finally {
      c.close();
    }
  });

  test('wait: headers first, the status when the body comes', async () => {
    const c = new Client({ host: `unix://${socket}` });
    try {
      const w = await c.containerWait('abc', 'next-exit');
      assert.deepEqual(await w.result, { StatusCode: 3, Error: null });
    } finally {
      c.close();
    }
  });
});

describe('helpers', () => {
  test('empty IDs fail before any request', () => {
    assert.throws(() => trimID('container', '  '), /^InvalidArgumentError: invalid container name or ID: value is empty$|invalid container name or ID: value is empty/);
    assert.equal(trimID('exec', ' x '), 'x');
  });

  test('capabilities are normalized like the Go client', () => {
    assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_SYS_TIME', 'all', 'NET_ADMIN']), ['ALL', 'CAP_NET_ADMIN', 'CAP_SYS_TIME']);
    assert.equal(normalizeCapabilities([]), null);
  });

  test('the archive stat header', () => {
    const v = { name: 'f', size: 3, mode: 2147484141, mtime: '2026-01-01T00:00:00Z', linkTarget: '' };
    const h = { 'x-docker-container-path-stat': Buffer.from(JSON.stringify(v)).toString('base64') };
    assert.deepEqual(decodePathStat(h), v);
    assert.throws(() => decodePathStat({}), /unable to decode container path stat header/);
  });
});

describe('events', () => {
  async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
    for (const p of parts) yield Buffer.from(p);
  }

  test('timeNano keeps every digit, across chunk boundaries', async () => {
    const line =
      '{"status":"start","id":"abc","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x","image":"busybox"}},"scope":"local","time":1795514400,"timeNano":1795514400123456789}\n';
    const got = [];
    for await (const e of decodeEvents(chunks(line.slice(0, 200), line.slice(200), line))) got.push(e);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.timeNano, 1795514400123456789n);
    assert.equal(got[0]!.event.Action, 'start');
    const prev = process.env['TZ'];
    assert.equal(formatEvent(got[0]!.event, got[0]!.timeNano).replace(/^\S+/, 'T'), 'T container start abc (image=busybox, name=x)\n');
    void prev;
  });

  test('the fixed-width nanosecond time', () => {
    const s = formatEventTime(1795514400000000007n);
    assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000007(Z|[+-]\d\d:\d\d)$/);
  });
});
