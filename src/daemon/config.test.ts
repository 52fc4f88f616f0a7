import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CERT_DIRS } from '../distribution/transport.js';
import { parseDaemonArgs, type DaemonConfig } from './config.js';

const parse = (argv: string[]) => parseDaemonArgs(argv) as DaemonConfig;

test('registry flags: --insecure-registry and --registry-certs-dir repeat; certs dirs default to certs.d', () => {
  assert.deepEqual(parse([]).registryCertsDirs, DEFAULT_CERT_DIRS);
  assert.deepEqual(parse([]).insecureRegistries, []);
  const cfg = parse(['--registry-certs-dir', '/a', '--registry-certs-dir=/b', '--insecure-registry', '10.0.0.0/8', '--insecure-registry', 'r:5000']);
  assert.deepEqual(cfg.registryCertsDirs, ['/a', '/b']);
  assert.deepEqual(cfg.insecureRegistries, ['10.0.0.0/8', 'r:5000']);
});
