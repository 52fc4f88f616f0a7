/** dockerode, unmodified, against berthd: unversioned paths and options sent in bodies. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { cleanup, startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/tars.js';

describe('dockerode against berthd', () => {
  let d: Daemon;
  let client: Docker;
  before(async () => {
    d = await startDaemon();
    client = new Docker({ socketPath: d.socket });
  });
  after(async () => cleanup(d));

  test('ping, version, info', async () => {
    assert.equal(String(await client.ping()), 'OK');
    assert.equal((await client.version()).ApiVersion, '1.51');
    assert.equal((await client.info()).Driver, 'overlay2');
  });

  test('import, list, inspect, tag, history, remove', async () => {
    const stream = await client.importImage(Readable.from([await busyboxRootfs()]) as unknown as string, { repo: 'dockerode/box', tag: 'v1' });
    const messages: Array<{ status?: string; error?: string }> = await new Promise((resolve, reject) =>
      client.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) => (err ? reject(err) : resolve(out))),
    );
    const id = messages.at(-1)?.status;
    assert.match(id ?? '', /^sha256:/);

    const images = await client.listImages({ filters: { reference: ['dockerode/*'] } });
    assert.deepEqual(images.map((i) => i.RepoTags), [['dockerode/box:v1']]);

    const image = client.getImage('dockerode/box:v1');
    assert.equal((await image.inspect()).Id, id);
    await image.tag({ repo: 'dockerode/other', tag: 'v2' });
    assert.equal((await client.getImage('dockerode/other:v2').inspect()).Id, id);
    const history = await image.history();
    assert.equal(history[0].Id, id);

    const removed = await client.getImage(id!).remove({ force: true });
    assert.ok(removed.some((r: { Deleted?: string }) => r.Deleted === id));
    await assert.rejects(client.getImage('dockerode/box:v1').inspect(), (err: { statusCode?: number; json?: { message?: string } }) => {
      assert.equal(err.statusCode, 404);
      assert.equal(err.json?.message, 'No such image: dockerode/box:v1');
      return true;
    });
  });
});
