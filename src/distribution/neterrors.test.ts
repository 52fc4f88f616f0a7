import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, describeTls } from './neterrors.js';

const err = (fields: Record<string, unknown>) => Object.assign(new Error('node words'), fields);

test("TLS failures read as docker's Go client words them", () => {
  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
    assert.equal(describe(err({ code })), 'tls: failed to verify certificate: x509: certificate signed by unknown authority');
  }
  assert.equal(describe(err({ code: 'CERT_HAS_EXPIRED' })), 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid');
  assert.equal(describe(err({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })), 'remote error: tls: certificate required');
  assert.equal(describe(err({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' })), 'remote error: tls: bad certificate');
  assert.equal(describe(err({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' })), 'remote error: tls: unknown certificate authority');
  assert.equal(describeTls(err({ code: 'ECONNREFUSED' })), undefined);
});

test('a certificate for other names: the names it is valid for, as x509.HostnameError says', () => {
  const altname = (host: string, subjectaltname?: string, CN?: string) =>
    describe(err({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', host, cert: { ...(subjectaltname ? { subjectaltname } : {}), subject: CN ? { CN } : {} } }));
  const v = 'tls: failed to verify certificate: x509: ';
  assert.equal(altname('10.0.0.2', 'IP Address:10.0.0.3, DNS:reg.test'), `${v}certificate is valid for 10.0.0.3, not 10.0.0.2`);
  assert.equal(altname('10.0.0.2', 'DNS:reg.test'), `${v}cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs`);
  assert.equal(altname('reg.test', 'DNS:a.test, DNS:b.test'), `${v}certificate is valid for a.test, b.test, not reg.test`);
  assert.equal(altname('reg.test', 'IP Address:10.0.0.3'), `${v}certificate is not valid for any names, but wanted to match reg.test`);
  assert.equal(altname('reg.test', undefined, 'reg.test'), `${v}certificate relies on legacy Common Name field, use SANs instead`);
});

test('dial failures keep their Go shape', () => {
  assert.equal(describe(err({ code: 'ECONNREFUSED', address: '10.0.0.2', port: 5000 })), 'dial tcp 10.0.0.2:5000: connect: connection refused');
  assert.equal(describe(err({ code: 'ENOTFOUND', hostname: 'nowhere.test' })), 'dial tcp: lookup nowhere.test: no such host');
  assert.equal(describe(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'EOF');
  assert.equal(describe(err({ code: 'EPIPE' })), 'node words');
});
