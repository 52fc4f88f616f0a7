/**
 * Daemon addresses as the docker CLI accepts them (`-H`, `DOCKER_HOST`):
 * `unix:///path`, `tcp://host:port`, plus `http://` / `https://` spellings.
 */
import { invalidArgument } from '../lib/errors.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
export const DEFAULT_TCP_PORT = 2375;
export const DEFAULT_TLS_PORT = 2376;

export type HostAddress =
  | { proto: 'unix'; socketPath: string; display: string }
  | { proto: 'tcp'; host: string; port: number; display: string; https: boolean };

/**
 * Parses a host string. `display` is the normalized form used in messages
 * (`Cannot connect to the Docker daemon at <display>`).
 * `tls` selects https for tcp addresses.
 */
export function parseHost(raw: string, tls = false): HostAddress {
  const input = raw.trim();
  if (input === '') return parseHost(DEFAULT_HOST, tls);
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(input);
  if (!m) {
    // docker accepts a bare absolute socket path only via unix://; anything else is a bad address
    if (input.startsWith('/')) return { proto: 'unix', socketPath: input, display: `unix://${input}` };
    throw invalidArgument(`invalid bind address format: ${input}`);
  }
  const proto = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (proto) {
    case 'unix': {
      const path = rest === '' ? '/run/berth/berth.sock' : rest;
      if (!path.startsWith('/')) throw invalidArgument(`invalid bind address format: ${input}`);
      return { proto: 'unix', socketPath: path, display: `unix://${path}` };
    }
    case 'tcp':
    case 'http':
    case 'https': {
      const https = proto === 'https' || (proto === 'tcp' && tls);
      const { host, port } = splitHostPort(rest, input, proto === 'https' || tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT);
      const shown = host.includes(':') ? `[${host}]` : host;
      return { proto: 'tcp', host, port, https, display: `${proto === 'tcp' ? 'tcp' : proto}://${shown}:${port}` };
    }
    case 'fd':
      throw invalidArgument(`unable to parse docker host \`${input}\``);
    case 'ssh':
      throw invalidArgument(`unable to parse docker host \`${input}\`: ssh:// hosts are not supported by berth`);
    case 'npipe':
      throw invalidArgument(`unable to parse docker host \`${input}\`: named pipes are not supported on this platform`);
    default:
      throw invalidArgument(`invalid bind address format: ${input}`);
  }
}

function splitHostPort(rest: string, input: string, defaultPort: number): { host: string; port: number } {
  let hostport = rest;
  const slash = hostport.indexOf('/');
  if (slash >= 0) {
    const path = hostport.slice(slash);
    if (path !== '/' && path !== '') throw invalidArgument(`invalid bind address format: ${input}`);
    hostport = hostport.slice(0, slash);
  }
  let host: string;
  let portStr: string | undefined;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) throw invalidArgument(`invalid bind address format: ${input}`);
    host = hostport.slice(1, end);
    const after = hostport.slice(end + 1);
    if (after.startsWith(':')) portStr = after.slice(1);
    else if (after !== '') throw invalidArgument(`invalid bind address format: ${input}`);
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0) {
      host = hostport.slice(0, colon);
      portStr = hostport.slice(colon + 1);
    } else {
      host = hostport;
    }
  }
  if (host === '') host = '127.0.0.1';
  let port = defaultPort;
  if (portStr !== undefined && portStr !== '') {
    if (!/^\d+$/.test(portStr) || Number(portStr) > 65535 || Number(portStr) === 0) {
      throw invalidArgument(`invalid bind address format: ${input}`);
    }
    port = Number(portStr);
  }
  return { host, port };
}
