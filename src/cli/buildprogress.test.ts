import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { BuildProgress } from './buildprogress.js';
import { Output } from './cli.js';

function setup(width = 60, height?: number) {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (c: Buffer) => (written += c.toString()));
  let clock = 1_000_000;
  const p = new BuildProgress(new Output(stream), {
    width: () => width,
    ...(height !== undefined ? { height: () => height } : {}),
    now: () => clock,
    timer: false,
  });
  return {
    p,
    tick: (ms: number) => (clock += ms),
    output: () => written,
  };
}

/** The screen after the escape sequences are applied: the last frame's lines. */
function lastFrame(out: string): string[] {
  const frames = out.split(/\x1b\[\d+F/);
  return frames[frames.length - 1]!.split('\n').map((l) => l.replace(/\x1b\[K/g, '').replace(/\x1b\[J/g, ''));
}

test('steps, cache hits and times; the running step shows its last lines; the final frame lists everything', () => {
  const { p, tick, output } = setup();
  p.sending(3072, false);
  tick(200);
  p.sending(3072, true);
  p.stream('Step 1/3 : FROM busybox\n ---> 480a196c78ec\n');
  p.stream('Step 2/3 : COPY . /app\n');
  p.stream(' ---> Using cache\n ---> 1111111111aa\n');
  p.stream('Step 3/3 : RUN make\n ---> Running in 2222222222bb\n');
  for (let i = 1; i <= 8; i++) p.stream(`line ${i}\n`);
  p.stream('partial');
  tick(1500);
  p.draw();
  const live = lastFrame(output());
  assert.deepEqual(
    live.slice(0, 5).map((l) => l.replace(/ {2,}/, ' … ')),
    ['[+] Building 1.7s (2/3)', ' => sending build context 3.072kB … 0.2s', ' => [1/3] FROM busybox … 0.0s', ' => CACHED [2/3] COPY . /app … 0.0s', ' => [3/3] RUN make … 1.5s'],
  );
  // times line up at the right edge, within the width
  assert.deepEqual(new Set(live.slice(1, 5).map((l) => l.length)), new Set([59]));
  assert.deepEqual(live.slice(5, 11), ['line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8'].map((l) => ` => => ${l}`));

  p.stream(' more\nRemoving intermediate container 2222222222bb\n ---> 3333333333cc\nSuccessfully built 3333333333cc\nSuccessfully tagged app:latest\n');
  tick(100);
  p.finish(false);
  const out = output();
  // each redraw moves up over the previous frame
  assert.match(out, /\x1b\[11F\[\+\] Building 1\.8s \(3\/3\) FINISHED\x1b\[K\n/);
  const final = lastFrame(out);
  assert.equal(final.length, 8);
  assert.equal(final[4]!.replace(/ {2,}/, ' … '), ' => [3/3] RUN make … 1.5s');
  assert.equal(final[5], 'Successfully built 3333333333cc');
  assert.equal(final[6], 'Successfully tagged app:latest');
  assert.ok(final.every((l) => l.length < 60), 'lines fit the terminal');
});

test('a failed step is marked and its output shown in a box', () => {
  const { p, tick, output } = setup(50);
  p.stream('Step 1/2 : FROM busybox\n ---> 480a196c78ec\nStep 2/2 : RUN false\n ---> Running in 2222222222bb\n');
  p.stream('oops\r\n');
  tick(300);
  p.finish(true);
  const final = lastFrame(output());
  assert.equal(final[0], '[+] Building 0.3s (1/2) ERROR');
  assert.match(final[2]!, /^ => ERROR \[2\/2\] RUN false +0\.3s$/);
  assert.deepEqual(final.slice(3, 7), ['------', ' > [2/2] RUN false:', 'oops', '------']);
});

test('long lines are cut to the width; the live view keeps to the terminal height', () => {
  const { p, output } = setup(30, 8);
  for (let i = 1; i <= 10; i++) p.stream(`Step ${i}/10 : RUN echo ${'x'.repeat(40)}\n ---> ${'a'.repeat(12)}\n`);
  p.draw();
  const live = lastFrame(output()).filter(Boolean);
  assert.ok(live.length <= 8, `${live.length} lines`);
  assert.ok(live.every((l) => [...l].length <= 29));
  assert.match(live[live.length - 1]!, /^ => \[10\/10\] RUN echo x+… +0\.0s$/);
  p.finish(false);
  const final = lastFrame(output()).filter(Boolean);
  assert.equal(final.length, 11, 'the final frame lists every step');
});
