/**
 * Test certificates made with openssl: a CA, and server or client
 * certificates it signs (EC P-256, valid two days).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pair {
  cert: string;
  key: string;
}

export interface Ca extends Pair {
  /** A certificate for a server at these IP addresses, or for a client when `ips` is empty. */
  issue(name: string, ips?: string[]): Pair;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

export function makeCa(dir: string, name: string): Ca {
  mkdirSync(dir, { recursive: true });
  const ca: Pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl(
    ['req', '-x509', ...EC, '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  let serial = 1;
  return {
    ...ca,
    issue(leaf, ips = []) {
      const out: Pair = { cert: join(dir, `${leaf}.cert.pem`), key: join(dir, `${leaf}.key.pem`) };
      const csr = join(dir, `${leaf}.csr`);
      const ext = join(dir, `${leaf}.ext`);
      openssl(['req', '-new', ...EC, '-keyout', out.key, '-out', csr, '-subj', `/CN=${ips[0] ?? leaf}`], dir);
      writeFileSync(
        ext,
        ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
          ips.length ? `extendedKeyUsage=serverAuth\nsubjectAltName=${ips.map((i) => `IP:${i}`).join(',')}` : 'extendedKeyUsage=clientAuth'].join('\n') + '\n',
      );
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(++serial), '-days', '2', '-out', out.cert, '-extfile', ext], dir);
      return out;
    },
  };
}
