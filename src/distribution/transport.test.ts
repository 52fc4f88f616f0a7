import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKind } from '../lib/errors.js';
import { tlsFor } from './transport.js';

function certsDirs(layout: Record<string, Record<string, string>>): { dirs: string[]; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'berth-certsd-'));
  const dirs: string[] = [];
  for (const [base, files] of Object.entries(layout)) {
    const [dir, host] = base.split('|') as [string, string];
    mkdirSync(join(root, dir, host), { recursive: true });
    if (!dirs.includes(join(root, dir))) dirs.push(join(root, dir));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, dir, host, name), text);
  }
  return { dirs, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('certs.d: *.crt join the host CAs, a NAME.cert/NAME.key pair is the client certificate', () => {
  const { dirs, done } = certsDirs({ 'a|10.0.0.2:5000': { 'ca.crt': 'CA-ONE', 'extra.crt': 'CA-TWO', 'client.cert': 'CERT', 'client.key': 'KEY' } });
  try {
    const base = tlsFor('other:5000', dirs);
    const files = tlsFor('10.0.0.2:5000', dirs);
    assert.deepEqual(files.ca.slice(base.ca.length), ['CA-ONE', 'CA-TWO']);
    assert.equal(files.cert?.toString(), 'CERT');
    assert.equal(files.key?.toString(), 'KEY');
    assert.equal(base.cert, undefined);
    const pair = certsDirs({ 'b|h:1': { 'me.cert': 'C2', 'me.key': 'K2' } });
    try {
      assert.equal(tlsFor('h:1', pair.dirs).key?.toString(), 'K2');
    } finally {
      pair.done();
    }
  } finally {
    done();
  }
});

test('certs.d: the first directory with the host wins; each read sees the files as they are now', () => {
  const { dirs, done } = certsDirs({ 'first|h:1': { 'ca.crt': 'FIRST' }, 'second|h:1': { 'ca.crt': 'SECOND' }, 'second|h:2': { 'ca.crt': 'ONLY' } });
  try {
    assert.equal(tlsFor('h:1', dirs).ca.at(-1), 'FIRST');
    assert.equal(tlsFor('h:2', dirs).ca.at(-1), 'ONLY');
    rmSync(join(dirs[0]!, 'h:1', 'ca.crt'));
    const after = tlsFor('h:1', dirs);
    assert.ok(!after.ca.includes('FIRST') && !after.ca.includes('SECOND'), 'an emptied folder still stops the search, and nothing stale is kept');
  } finally {
    done();
  }
});

test('certs.d: a client certificate without its key, or a key alone, is refused in docker\'s words', () => {
  const { dirs, done } = certsDirs({ 'a|h:1': { 'client.cert': 'C' }, 'a|h:2': { 'client.key': 'K' } });
  try {
    assert.throws(
      () => tlsFor('h:1', dirs),
      (e: unknown) => isKind(e, 'FailedPrecondition') && /^missing key client\.key for client certificate client\.cert\. CA certificates must use the extension \.crt$/.test(e.message),
    );
    assert.throws(() => tlsFor('h:2', dirs), /^.*missing client certificate client\.cert for key client\.key$/);
  } finally {
    done();
  }
});
