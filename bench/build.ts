/**
 * Builder benchmarks: the same docker CLI (classic builder, DOCKER_BUILDKIT=0)
 * builds the same Dockerfiles on berthd and, when Debian's docker.io is
 * installed, a real dockerd, alternating runs: a cold build (--no-cache), a
 * fully cached rebuild, and a Dockerfile whose two stages do not depend on
 * each other. Prints medians and ratios.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cleanup, startDaemon } from '../test/helpers/daemon.js';
import { hasDockerd, startRefDockerd } from '../test/helpers/refdocker.js';
import { median, printStalls, timed } from './timing.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** A typical small application: a few hundred source files, some config steps, RUN steps that write files. */
const APP = `FROM busybox
ENV APP_HOME=/app PATH=/app/bin:$PATH
WORKDIR /app
COPY src/ ./src/
RUN mkdir -p bin && for f in src/*.txt; do cat "$f" >> bundle; done && wc -c bundle > size
COPY config.json ./
RUN chown -R 1000:1000 /app
USER 1000
EXPOSE 8080
LABEL org.example.name=app
CMD ["sh", "-c", "cat /app/size"]
`;

/** Two stages that each take a second of work, then a stage that takes from both. */
const TWO = `FROM busybox AS left
RUN sleep 1 && echo left > /left

FROM busybox AS right
RUN sleep 1 && echo right > /right

FROM busybox
COPY --from=left /left /
COPY --from=right /right /
CMD ["cat", "/left", "/right"]
`;

function context(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-build-'));
  mkdirSync(join(dir, 'src'));
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'src', `f${i}.txt`), randomBytes(4096).toString('base64'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ port: 8080 }));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

interface Engine {
  name: string;
  env: NodeJS.ProcessEnv;
}

async function main(): Promise<void> {
  const b = await startDaemon();
  const engines: Engine[] = [{ name: 'berthd', env: { ...b.env, DOCKER_BUILDKIT: '0' } }];
  const ref = hasDockerd() ? await startRefDockerd() : undefined;
  if (ref) engines.push({ name: 'dockerd', env: { ...ref.env, DOCKER_BUILDKIT: '0' } });
  const app = context(APP);
  const two = context(TWO);
  const cases: Array<{ name: string; dir: string; args: string[]; goal: number }> = [
    { name: 'cold build (--no-cache)', dir: app, args: ['build', '--no-cache', '-q'], goal: 0.7 },
    { name: 'fully cached rebuild', dir: app, args: ['build', '-q'], goal: 0.5 },
    { name: 'two independent stages (--no-cache)', dir: two, args: ['build', '--no-cache', '-q'], goal: 0.6 },
  ];
  try {
    for (const e of engines) {
      const r = berth({ env: e.env }, ['bootstrap', '--only', 'busybox']);
      if (r.code !== 0) throw new Error(r.stderr);
      // Warm-up: the first build fills the cache the rebuild case uses.
      timed(e.env, ['build', '-q', app]);
      timed(e.env, ['build', '-q', two]);
    }
    console.log(`builder benchmark (${RUNS} alternating runs, medians)`);
    for (const c of cases) {
      const times: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e.name, []]));
      for (let i = 0; i < RUNS; i++) for (const e of engines) times[e.name]!.push(timed(e.env, [...c.args, c.dir]));
      const mine = median(times['berthd']!);
      let line = `${c.name.padEnd(38)} berthd ${mine.toFixed(0).padStart(6)} ms`;
      if (ref) {
        const theirs = median(times['dockerd']!);
        const ratio = mine / theirs;
        line += `   dockerd ${theirs.toFixed(0).padStart(6)} ms   ratio ${ratio.toFixed(2)} (goal ≤ ${c.goal}) ${ratio <= c.goal ? 'met' : 'not met'}`;
      }
      console.log(line);
    }
    printStalls();
  } finally {
    rmSync(app, { recursive: true, force: true });
    rmSync(two, { recursive: true, force: true });
    await cleanup(b);
    await ref?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
