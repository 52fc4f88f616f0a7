/**
 * Hijacked connections (attach, exec start): the client asks to upgrade, the
 * daemon answers `101 UPGRADED` and the socket carries raw streams. Without
 * an upgrade request (dockerode's plain attach) the reply is a normal 200 whose
 * body is the stream. Output is framed with docker's 8-byte headers unless the
 * container has a TTY.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Ctx } from './context.js';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSERR = 3;

export function frame(stream: number, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** A request that arrived through the server's 'upgrade' event, with the bytes read past its headers. */
export interface UpgradeRequest extends IncomingMessage {
  /** The request body, read off the connection before it was taken over. */
  berthBody?: Buffer;
  berthHead?: Buffer;
  berthHijacked?: boolean;
}

export interface Hijacked {
  /** What the client sends (its stdin), until it half-closes. */
  input: PassThrough;
  write(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** Ends the response: the client sees EOF. */
  end(): void;
  onClose(fn: () => void): void;
}

/** Takes over the connection of an attach or exec-start request. */
export function hijack(ctx: Ctx, tty: boolean): Hijacked {
  const { req, res } = ctx;
  const input = new PassThrough();
  const contentType = tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  const upgrade = (req.headers.connection ?? '').toLowerCase().includes('upgrade') && !!req.headers.upgrade;
  const socket = req.socket as Socket;
  let ended = false;
  const encode = (stream: 'stdout' | 'stderr', data: Buffer) => (tty ? data : frame(stream === 'stdout' ? STDOUT : STDERR, data));

  if (upgrade) {
    res.detachSocket(socket);
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${apiHeaders(res)}\r\n`);
    (req as UpgradeRequest).berthHijacked = true;
    // Some clients (dockerode) open a chunked body they never fill: its terminator is not stdin.
    let skip = (req.headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked' ? Buffer.from('0\r\n\r\n') : undefined;
    const feed = (d: Buffer) => {
      if (skip) {
        const n = Math.min(skip.length, d.length);
        if (d.subarray(0, n).equals(skip.subarray(0, n))) {
          skip = n < skip.length ? skip.subarray(n) : undefined;
          d = d.subarray(n);
        } else {
          skip = undefined;
        }
      }
      if (d.length) input.write(d);
    };
    const head = (req as UpgradeRequest).berthHead;
    if (head?.length) feed(head);
    socket.on('data', feed);
    socket.resume();
    socket.on('end', () => input.end());
    socket.on('error', () => input.end());
    return {
      input,
      write: (stream, data) => {
        if (!ended && !socket.destroyed) socket.write(encode(stream, data));
      },
      end: () => {
        if (ended) return;
        ended = true;
        socket.end();
      },
      onClose: (fn) => socket.on('close', fn),
    };
  }
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  req.on('data', (d: Buffer) => input.write(d));
  req.on('end', () => input.end());
  return {
    input,
    write: (stream, data) => {
      if (!ended) res.write(encode(stream, data));
    },
    end: () => {
      if (ended) return;
      ended = true;
      res.end();
    },
    onClose: (fn) => res.on('close', fn),
  };
}

function apiHeaders(res: ServerResponse): string {
  const names = ['Api-Version', 'Ostype', 'Docker-Experimental', 'Server'];
  return names
    .map((n) => [n, res.getHeader(n)] as const)
    .filter(([, v]) => v !== undefined)
    .map(([n, v]) => `${n}: ${String(v)}\r\n`)
    .join('');
}
