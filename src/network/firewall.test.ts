import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { render } from './firewall.js';

const state = {
  networks: [
    { bridge: 'berth0', subnet: '172.17.0.0/16', internal: false },
    { bridge: 'br-inner', subnet: '172.18.0.0/16', internal: true },
  ],
  ports: [{ containerId: 'c', ip: '172.17.0.2', protocol: 'tcp' as const, containerPort: 80, hostIp: '127.0.0.1', hostPort: 8080 }],
};

test('the table masquerades networks that reach out, publishes ports, isolates internal networks', () => {
  const text = render('berth_unit', state);
  assert.match(text, /ip daddr 127\.0\.0\.1 tcp dport 8080 dnat to 172\.17\.0\.2:80/);
  assert.match(text, /ip saddr 172\.17\.0\.0\/16 oifname != "berth0" masquerade/);
  assert.doesNotMatch(text, /ip saddr 172\.18\.0\.0\/16 oifname != "br-inner" masquerade/);
  assert.match(text, /iifname "br-inner" oifname != "br-inner" drop/);
  assert.match(text, /iifname "berth0" oifname \{ "br-inner" \} drop/);
});

test('nft accepts the rendered table', () => {
  const check = spawnSync('nft', ['-c', '-f', '-'], { input: render('berth_unit', state), encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});
