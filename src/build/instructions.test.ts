import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instruction, parseDockerfile, type Add, type Copy, type Healthcheck, type Onbuild, type Run } from './instructions.js';
import { parseMount } from './mounts.js';
import { parse } from './parser.js';

const df = (...lines: string[]) => lines.join('\n') + '\n';
/** The one instruction of a line, typed. */
const one = (line: string) => instruction(parse(line).nodes[0]!);
const throwsAt = (text: string, message: string) => assert.throws(() => parseDockerfile(text), { message });

test('stages split at FROM, with global ARGs, aliases lower-cased and platforms', () => {
  const b = parseDockerfile(
    df('ARG BASE=busybox', 'ARG TAG', 'FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS Builder', 'ARG X', 'RUN make', 'FROM scratch', 'COPY --from=builder /out /'),
  );
  assert.deepEqual(b.metaArgs.map((a) => a.args), [[{ name: 'BASE', default: 'busybox' }], [{ name: 'TAG' }]]);
  assert.equal(b.stages.length, 2);
  const [s0, s1] = b.stages as [(typeof b.stages)[0], (typeof b.stages)[0]];
  assert.deepEqual([s0.name, s0.index, s0.from.image, s0.from.platform, s0.from.alias], ['builder', 0, '${BASE}:${TAG}', '$BUILDPLATFORM', 'builder']);
  assert.deepEqual(s0.instructions.map((i) => i.kind), ['arg', 'run']);
  assert.equal(s1.name, undefined);
  assert.equal((s1.instructions[0] as Copy).from, 'builder');
  assert.equal(s1.from.line, 6);
});

test('RUN: shell and exec forms, heredocs, mounts, network and security', () => {
  const r = one(
    'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked,id=apt --mount=type=secret,id=tok,dst=/run/t,mode=0400,uid=1,gid=2 --mount=type=tmpfs,target=/tmp,size=64m --mount=type=bind,from=src,source=/a,target=/b,rw --mount=type=ssh --network=host --security=insecure make',
  ) as Run;
  assert.deepEqual(r.command, { form: 'shell', command: 'make' });
  assert.deepEqual([r.network, r.security], ['host', 'insecure']);
  assert.deepEqual(r.mounts, [
    { type: 'cache', target: '/var/cache/apt', sharing: 'locked', id: 'apt', readonly: false, required: false },
    { type: 'secret', id: 'tok', target: '/run/t', mode: 0o400, uid: 1, gid: 2, readonly: true, required: false },
    { type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024, readonly: false, required: false },
    { type: 'bind', from: 'src', source: '/a', target: '/b', readonly: false, required: false },
    { type: 'ssh', readonly: true, required: false },
  ]);
  assert.deepEqual((one('RUN ["echo", "hi"]') as Run).command, { form: 'exec', args: ['echo', 'hi'] });
  const h = parseDockerfile(df('FROM a', 'RUN <<-EOF bash', '\techo hi', 'EOF')).stages[0]!.instructions[0] as Run;
  assert.deepEqual(h.command, { form: 'shell', command: '<<-EOF bash' });
  assert.deepEqual(h.heredocs.map((d) => [d.name, d.content, d.chomp]), [['EOF', '\techo hi\n', true]]);
});

test('RUN flag and mount errors in docker words', () => {
  throwsAt(df('FROM a', 'RUN --network=bridge x'), 'dockerfile parse error on line 2: invalid network mode "bridge"');
  throwsAt(df('FROM a', 'RUN --security=x x'), 'dockerfile parse error on line 2: security "x" is not valid');
  throwsAt(df('FROM a', 'RUN --mount=type=volume x'), 'dockerfile parse error on line 2: unsupported mount type "volume"');
  throwsAt(df('FROM a', 'RUN --mount=type=bind,uid=1 x'), 'dockerfile parse error on line 2: uid not allowed for "bind" type mounts');
  throwsAt(df('FROM a', 'RUN --mount=type=cache,zzzz=1 x'), "dockerfile parse error on line 2: unexpected key 'zzzz' in 'zzzz=1'");
  throwsAt(df('FROM a', 'RUN --mount=type=cache,targt=/x x'), "dockerfile parse error on line 2: unexpected key 'targt' in 'targt=/x' (did you mean target?)");
  throwsAt(df('FROM a', 'RUN --mount=from=$X,target=/x x'), "dockerfile parse error on line 2: 'from' doesn't support variable expansion, define alias stage instead");
  throwsAt(df('FROM a', 'RUN --mount=type=secret x'), 'dockerfile parse error on line 2: invalid secret mount. one of source, target required');
  assert.throws(() => parseMount('type=cache,sharing=all'), { message: 'unsupported sharing value "all"' });
  // Values with variables wait for the executor.
  assert.deepEqual(parseMount('type=cache,target=$T,uid=$U'), { type: 'cache', readonly: false, required: false });
});

test('COPY and ADD: sources, destination, flags, inline heredoc sources', () => {
  const c = one('COPY --from=build --chown=1:1 --chmod=755 --link --parents --exclude=*.md --exclude=.git a b /dst/') as Copy;
  assert.deepEqual(
    [c.sources, c.dest, c.from, c.chown, c.chmod, c.link, c.parents, c.exclude],
    [['a', 'b'], '/dst/', 'build', '1:1', '755', true, true, ['*.md', '.git']],
  );
  const a = one('ADD --checksum=sha256:abc --keep-git-dir=false --unpack https://x/y.tgz /') as Add;
  assert.deepEqual([a.sources, a.checksum, a.keepGitDir, a.unpack, a.link], [['https://x/y.tgz'], 'sha256:abc', false, true, false]);
  const j = one('COPY ["a b", "/c d/"]') as Copy;
  assert.deepEqual([j.sources, j.dest], [['a b'], '/c d/']);
  const h = parseDockerfile(df('FROM a', 'COPY <<one.sh <<-"two" src /dst/', 'echo $X', 'one.sh', '\tliteral $Y', 'two'))
    .stages[0]!.instructions[0] as Copy;
  assert.deepEqual(h.sources, ['src']);
  assert.deepEqual(h.inline, [
    { path: 'one.sh', data: 'echo $X\n', expand: true },
    { path: 'two', data: 'literal $Y\n', expand: false },
  ]);
  throwsAt(df('FROM a', 'COPY onlyone'), 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  throwsAt(df('FROM a', 'COPY a <<EOF', 'x', 'EOF'), 'dockerfile parse error on line 2: COPY cannot accept a heredoc as a destination');
  throwsAt(df('FROM a', 'COPY --zzzz=1 a b'), 'dockerfile parse error on line 2: unknown flag: --zzzz');
  throwsAt(df('FROM a', 'COPY --chmodd=1 a b'), 'dockerfile parse error on line 2: unknown flag: --chmodd (did you mean chmod?)');
  throwsAt(df('FROM a', 'COPY --from a b'), 'dockerfile parse error on line 2: missing a value on flag: --from');
  throwsAt(df('FROM a', 'COPY --link=maybe a b'), 'dockerfile parse error on line 2: expecting boolean value for flag --link, not: maybe');
  throwsAt(df('FROM a', 'COPY --from=a --from=b a b'), 'dockerfile parse error on line 2: duplicate flag specified: --from');
  throwsAt(df('FROM a', 'ADD --from=x a b'), 'dockerfile parse error on line 2: unknown flag: --from');
});

test('ENV, LABEL, ARG: pairs, legacy form, blank names', () => {
  const b = parseDockerfile(df('FROM a', 'ENV A=1 B="two words"', 'ENV LEGACY some value', 'LABEL "x.y"=z', 'ARG N V=1 =bad'.replace(' =bad', '')));
  const [e1, e2, l, a] = b.stages[0]!.instructions;
  assert.deepEqual(e1, { kind: 'env', line: 2, endLine: 2, original: 'ENV A=1 B="two words"', pairs: [{ key: 'A', value: '1', legacy: false }, { key: 'B', value: '"two words"', legacy: false }] });
  assert.deepEqual((e2 as { pairs: unknown }).pairs, [{ key: 'LEGACY', value: 'some value', legacy: true }]);
  assert.deepEqual((l as { pairs: unknown }).pairs, [{ key: '"x.y"', value: 'z', legacy: false }]);
  assert.deepEqual((a as { args: unknown }).args, [{ name: 'N' }, { name: 'V', default: '1' }]);
  throwsAt(df('FROM a', 'ENV =x'), 'dockerfile parse error on line 2: ENV names can not be blank');
  throwsAt(df('FROM a', 'ARG =x'), 'dockerfile parse error on line 2: ARG names can not be blank');
  throwsAt(df('FROM a', 'LABEL'), 'dockerfile parse error on line 2: LABEL requires at least one argument');
});

test('FROM, stage names and the instruction set', () => {
  throwsAt(df('FROM a AS 1x'), 'dockerfile parse error on line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  throwsAt(df('FROM a AS b!'), 'dockerfile parse error on line 1: invalid name for build stage: "b!", name can\'t start with a number or contain symbols');
  throwsAt(df('FROM a b'), 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  throwsAt(df('FROM --platfrm=x a'), 'dockerfile parse error on line 1: unknown flag: --platfrm (did you mean platform?)');
  throwsAt(df('FROM a', '', 'BOGUS bar'), 'dockerfile parse error on line 3: unknown instruction: BOGUS');
  // FOO is within two edits of FROM, so BuildKit offers it.
  throwsAt(df('FROM a', 'FOO bar'), 'dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)');
  throwsAt(df('FROM a', 'RUNN x'), 'dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
  throwsAt(df('FROM a', 'cpy x y'), 'dockerfile parse error on line 2: unknown instruction: cpy (did you mean copy?)');
  throwsAt(df('RUN x'), 'dockerfile parse error on line 1: no build stage in current context');
  throwsAt(df('FROM a', 'WORKDIR'), 'dockerfile parse error on line 2: WORKDIR requires exactly one argument');
  throwsAt(df('FROM a', 'SHELL /bin/bash -c'), 'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form');
  throwsAt(df('FROM a', 'EXPOSE'), 'dockerfile parse error on line 2: EXPOSE requires at least one argument');
});

test('HEALTHCHECK: NONE, CMD forms, durations and retries', () => {
  const h = one('HEALTHCHECK --interval=5s --timeout=1m30s --start-period=0s --start-interval=500ms --retries=3 CMD curl -f http://x/') as Healthcheck;
  assert.deepEqual(
    [h.test, h.interval, h.timeout, h.startPeriod, h.startInterval, h.retries],
    [['CMD-SHELL', 'curl -f http://x/'], 5e9, 90e9, 0, 5e8, 3],
  );
  assert.deepEqual((one('HEALTHCHECK CMD ["true"]') as Healthcheck).test, ['CMD', 'true']);
  assert.deepEqual((one('healthcheck none') as Healthcheck).test, ['NONE']);
  throwsAt(df('FROM a', 'HEALTHCHECK --interval=5 CMD x'), 'dockerfile parse error on line 2: time: missing unit in duration "5"');
  throwsAt(df('FROM a', 'HEALTHCHECK --interval=1us CMD x'), 'dockerfile parse error on line 2: Interval "interval" cannot be less than 1ms');
  throwsAt(df('FROM a', 'HEALTHCHECK --retries=-1 CMD x'), 'dockerfile parse error on line 2: --retries cannot be negative (-1)');
  throwsAt(df('FROM a', 'HEALTHCHECK NONE x'), 'dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments');
  throwsAt(df('FROM a', 'HEALTHCHECK CMD'), 'dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD');
  throwsAt(df('FROM a', 'HEALTHCHECK CONNECT x'), 'dockerfile parse error on line 2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)');
});

test('ONBUILD keeps the trigger text; chaining and FROM/MAINTAINER triggers are refused', () => {
  const o = one('ONBUILD RUN echo "later"') as Onbuild;
  assert.equal(o.expression, 'RUN echo "later"');
  assert.equal(o.trigger.name, 'RUN');
  const h = parseDockerfile(df('FROM a', 'ONBUILD COPY <<EOF /x', 'hi', 'EOF')).stages[0]!.instructions[0] as Onbuild;
  assert.equal(h.expression, 'COPY <<EOF /x\nhi\nEOF');
  throwsAt(df('FROM a', 'ONBUILD ONBUILD RUN x'), 'dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  throwsAt(df('FROM a', 'ONBUILD FROM b'), "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
});

test('the remaining instructions', () => {
  const b = parseDockerfile(
    df('FROM a', 'CMD ["a"]', 'ENTRYPOINT exec me', 'EXPOSE 8080 80/udp', 'VOLUME ["/a", "/b"]', 'USER app:app', 'WORKDIR /w', 'STOPSIGNAL SIGTERM', 'SHELL ["/bin/bash", "-c"]', 'MAINTAINER me <me@x>'),
  );
  const got = b.stages[0]!.instructions.map((i) => {
    const { line: _l, endLine: _e, original: _o, ...rest } = i;
    return rest;
  });
  assert.deepEqual(got, [
    { kind: 'cmd', command: { form: 'exec', args: ['a'] } },
    { kind: 'entrypoint', command: { form: 'shell', command: 'exec me' } },
    { kind: 'expose', ports: ['80/udp', '8080'] },
    { kind: 'volume', volumes: ['/a', '/b'] },
    { kind: 'user', user: 'app:app' },
    { kind: 'workdir', path: '/w' },
    { kind: 'stopsignal', signal: 'SIGTERM' },
    { kind: 'shell', shell: ['/bin/bash', '-c'] },
    { kind: 'maintainer', maintainer: 'me <me@x>' },
  ]);
});

test('every corpus-style backtick Dockerfile types cleanly', () => {
  const b = parseDockerfile(df('# escape=`', 'FROM mcr/servercore', 'COPY --chown=a `', '  src C:\\dst\\'));
  assert.equal(b.escapeToken, '`');
  assert.deepEqual((b.stages[0]!.instructions[0] as Copy).dest, 'C:\\dst\\');
});
