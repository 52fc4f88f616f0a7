import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';

test('change lines set the container defaults like docker import -c', () => {
  const c = applyChanges({}, [
    'CMD ["sh", "-c", "echo hi"]',
    'ENTRYPOINT /bin/entry',
    'ENV A=1 B="two words"',
    'ENV LEGACY value with spaces',
    'ENV A=override',
    'LABEL org.example=yes other=no',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data"]',
    'VOLUME /a /b',
    'USER nobody',
    'WORKDIR /srv',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN echo later',
    'HEALTHCHECK --interval=5s CMD curl -f http://localhost/',
  ]);
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/entry']);
  assert.deepEqual(c.Env, ['A=override', 'B=two words', 'LEGACY=value with spaces']);
  assert.deepEqual(c.Labels, { 'org.example': 'yes', other: 'no' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {}, '/a': {}, '/b': {} });
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN echo later']);
  assert.deepEqual(c.Healthcheck?.Test, ['CMD-SHELL', 'curl -f http://localhost/']);
});

test('instructions that are not changes are refused in docker words', () => {
  assert.throws(() => applyChanges({}, ['RUN echo hi']), /run is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FROM busybox']), /from is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE http']), /invalid containerPort: http/);
});
