/**
 * Failed connections to a registry told in the words of docker's Go client,
 * which scripts and users match on: `dial tcp 10.0.0.2:5000: connect:
 * connection refused`, `tls: failed to verify certificate: x509: certificate
 * signed by unknown authority`, `remote error: tls: certificate required`,
 * `EOF`.
 */
import { isIP } from 'node:net';

interface NodeNetError {
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
  host?: string;
  cert?: { subjectaltname?: string; subject?: { CN?: string | string[] } };
}

/** OpenSSL's chain verification codes that Go reports as an unknown authority. */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** TLS alerts the registry sent, by the OpenSSL error code Node gives them, as Go names them. */
const ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'certificate required',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'bad certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'unknown certificate authority',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'expired certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'unknown certificate',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'access denied',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake failure',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol version not supported',
};

/** The names a certificate is good for, from Node's `subjectaltname` string (`DNS:a, IP Address:10.0.0.2`). */
function altNames(cert: NodeNetError['cert']): { dns: string[]; ips: string[] } {
  const out = { dns: [] as string[], ips: [] as string[] };
  for (const part of (cert?.subjectaltname ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) out.dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) out.ips.push(part.slice(11).toLowerCase());
  }
  return out;
}

/** Go's x509.HostnameError text for a certificate that does not name `host`. */
function hostnameMismatch(host: string, cert: NodeNetError['cert']): string {
  const { dns, ips } = altNames(cert);
  if (isIP(host)) {
    if (ips.length === 0) return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    return `x509: certificate is valid for ${ips.join(', ')}, not ${host}`;
  }
  const cn = [cert?.subject?.CN ?? []].flat();
  if (dns.length === 0 && ips.length === 0 && cn.some((n) => n.toLowerCase() === host.toLowerCase())) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  if (dns.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${dns.join(', ')}, not ${host}`;
}

/** Go's words for a TLS failure, or undefined when `err` is not one. */
export function describeTls(err: unknown): string | undefined {
  const e = (err ?? {}) as NodeNetError;
  const code = e.code ?? '';
  if (UNKNOWN_AUTHORITY.has(code)) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (EXPIRED.has(code)) return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = (e.host ?? '').replace(/^\[|\]$/g, '');
    return `tls: failed to verify certificate: ${hostnameMismatch(host, e.cert)}`;
  }
  const alert = ALERTS[code];
  if (alert) return `remote error: tls: ${alert}`;
  return undefined;
}

/** Go's words for a failed connection: `dial tcp 127.0.0.1:5000: connect: connection refused`. */
export function describe(err: unknown): string {
  const tls = describeTls(err);
  if (tls) return tls;
  const e = (err ?? {}) as NodeNetError;
  const msg = err instanceof Error ? err.message : String(err);
  const where = e.address !== undefined ? ` ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? ''}` : '';
  if (e.code === 'ECONNREFUSED') return `dial tcp${where}: connect: connection refused`;
  if (e.code === 'ETIMEDOUT') return `dial tcp${where}: i/o timeout`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `dial tcp: lookup ${e.hostname ?? ''}: no such host`;
  // The server closed the connection before it answered (a TLS server that
  // refuses a client certificate without an alert, as Node's does): Go reads EOF.
  if (e.code === 'ECONNRESET' && msg === 'socket hang up') return 'EOF';
  return msg;
}
