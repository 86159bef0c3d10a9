/**
 * engine: `run --rm IMAGE true` of a one-layer busybox image already in each engine's store
 * (pulled untimed first), without a network (podman `--network=none`; ctr's default is an
 * empty network namespace; berth `--network none` once it has networks).
 *  - berth: `berth run --rm` (reports "not implemented yet" until the CLI has `run`);
 *  - podman: `podman run --rm --network=none` with runc and cgroupfs;
 *  - ctr: `ctr run --rm` against a private containerd (shim + runc);
 *  - docker: `docker run --rm --network none` against a private dockerd (bench/peers/docker.ts:
 *    no bridge, no iptables), only if Debian's docker.io is installed (it is not part of setup).
 */
import { checkAborted, defer, runTag, tempDir } from '../lib/cleanup.js';
import { rotate } from '../lib/rotate.js';
import { recordRun, sampleRow, type FlakyLeg } from '../lib/flaky.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case } from '../lib/result.js';
import { berthCommand } from '../peers/berth.js';
import { dockerMissing, startDockerd, type DockerInstance } from '../peers/docker.js';
import { busyboxImage } from '../peers/image.js';
import { containerd, ctrArgv, podman, pushed, sharedRegistry, type ContainerdInstance } from '../peers/services.js';

interface Leg extends FlakyLeg {
  /** Untimed: get the image into the store. Throws with one line on failure. */
  setup(): Promise<void>;
  once(i: number): Promise<CmdResult>;
  /** `run -d` of a container running `sleep`; removed (untimed) by `removeAll`. */
  detached(id: string): Promise<CmdResult>;
  removeAll(): Promise<void>;
  parSamples: number[];
  parFailure?: string;
}

/** The detached containers' command: long enough to outlive a round of `run -d`. */
const SLEEP = ['sleep', '300'];

async function must(p: Promise<CmdResult>, what: string): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: ${failureLine(r)}`);
}

export const engineSuite: Suite = {
  name: 'engine',
  describe: '`run --rm IMAGE true` of a busybox image: berth vs podman vs ctr vs docker (if installed)',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const image = await ctx.shared('image:busybox', () => busyboxImage(opts.cache, ctx.log));
    const registry = await sharedRegistry(ctx);
    const ref = await pushed(ctx, registry, image, 'bench/busybox');

    const berth = berthCommand(opts.repo);
    const berthDir = tempDir('engine-berth').path;
    // Runs before the dir's removal (registered after it): whatever `run --rm` left behind.
    defer('remove berth containers', () => berth.removeContainers(berthDir));
    const pm = podman(registry);
    const cgroupParent = `/${runTag()}-podman`;
    let cd: ContainerdInstance | undefined;
    let dk: DockerInstance | undefined;

    const legs: Leg[] = [
      {
        name: 'berth',
        samples: [],
        failures: 0,
        attempts: 0,
        async setup() {
          const cmds = await berth.commands();
          if (!cmds.has('run')) throw Object.assign(new Error('not implemented yet (the berth CLI has no `run`)'), { skip: true });
          await must(run(berth.argv(berthDir, ['pull', ref]), { timeoutMs: 120_000 }), 'berth pull');
        },
        once: () => run(berth.argv(berthDir, ['run', '--rm', '--network', 'none', ref, 'true']), { timeoutMs: 60_000 }),
        detached: (id) => run(berth.argv(berthDir, ['run', '-d', '--name', id, '--network', 'none', ref, ...SLEEP]), { timeoutMs: 120_000 }),
        removeAll: () => berth.removeContainers(berthDir),
        parSamples: [],
      },
      {
        name: 'podman',
        note: 'runc, cgroupfs, overlay, --network=none',
        samples: [],
        failures: 0,
        attempts: 0,
        async setup() {
          await must(run(['podman', 'pull', '--quiet', ref], { env: pm.env, timeoutMs: 120_000 }), 'podman pull');
        },
        once: () =>
          run(['podman', 'run', '--rm', '--network=none', `--cgroup-parent=${cgroupParent}`, ref, 'true'], {
            env: pm.env,
            timeoutMs: 60_000,
          }),
        detached: (id) =>
          run(['podman', 'run', '-d', '--name', id, '--network=none', `--cgroup-parent=${cgroupParent}`, ref, ...SLEEP], {
            env: pm.env,
            timeoutMs: 120_000,
          }),
        async removeAll() {
          const ids = (await run(['podman', 'ps', '-aq'], { env: pm.env, timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
          if (ids.length) await run(['podman', 'rm', '-f', '-t', '0', ...ids], { env: pm.env, timeoutMs: 120_000 });
        },
        parSamples: [],
      },
      {
        name: 'ctr',
        note: 'containerd 1.6 + runc v2 shim, no network',
        samples: [],
        failures: 0,
        attempts: 0,
        async setup() {
          cd = await containerd();
          await must(run(ctrArgv(cd, ['images', 'pull', '--plain-http', ref]), { timeoutMs: 120_000 }), 'ctr pull');
        },
        once: (i) => run(ctrArgv(cd!, ['run', '--rm', ref, `${runTag()}-${i}`, 'true']), { timeoutMs: 60_000 }),
        detached: (id) => run(ctrArgv(cd!, ['run', '-d', ref, id, ...SLEEP]), { timeoutMs: 120_000 }),
        async removeAll() {
          const tasks = (await run(ctrArgv(cd!, ['tasks', 'list', '--quiet']))).stdout.split('\n').filter(Boolean);
          await Promise.all(tasks.map((id) => run(ctrArgv(cd!, ['tasks', 'kill', '--signal', 'SIGKILL', id]))));
          await Promise.all(tasks.map((id) => run(ctrArgv(cd!, ['tasks', 'delete', '--force', id]), { timeoutMs: 60_000 })));
          const cs = (await run(ctrArgv(cd!, ['containers', 'list', '--quiet']))).stdout.split('\n').filter(Boolean);
          if (cs.length) await run(ctrArgv(cd!, ['containers', 'delete', ...cs]), { timeoutMs: 60_000 });
        },
        parSamples: [],
      },
    ];
    const missing = dockerMissing();
    legs.push({
      name: 'docker',
      note: 'dockerd 20.10 (its own containerd, runc), cgroupfs, overlay2, --network none',
      samples: [],
      failures: 0,
      attempts: 0,
      ...(missing ? { skipped: missing } : {}),
      async setup() {
        dk = await startDockerd(registry.host);
        await must(run(dk.argv(['pull', '--quiet', ref]), { timeoutMs: 120_000 }), 'docker pull');
      },
      once: () => run(dk!.argv(['run', '--rm', '--network', 'none', ref, 'true']), { timeoutMs: 60_000 }),
      detached: (id) => run(dk!.argv(['run', '-d', '--name', id, '--network', 'none', ref, ...SLEEP]), { timeoutMs: 120_000 }),
      async removeAll() {
        const ids = (await run(dk!.argv(['ps', '-aq']), { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
        if (ids.length) await run(dk!.argv(['rm', '-f', ...ids]), { timeoutMs: 120_000 });
      },
      parSamples: [],
    });
    for (const leg of legs) {
      if (leg.skipped) continue;
      try {
        await leg.setup();
      } catch (err) {
        if ((err as { skip?: boolean }).skip) leg.skipped = (err as Error).message;
        else leg.failed = `set-up: ${(err as Error).message.split('\n')[0]}`;
        ctx.log(`engine: ${leg.name}: ${leg.skipped ?? leg.failed}`);
      }
    }
    const live = legs.filter((l) => !l.failed && !l.skipped);
    const warmup = 2;
    for (let i = -warmup; i < opts.engineIterations; i++) {
      for (const leg of rotate(live, i)) {
        checkAborted();
        if (leg.failed) continue;
        recordRun(leg, await leg.once(i + warmup), i >= 0, (line) => ctx.log(`engine: ${line}`));
      }
    }
    // N `run -d` at once per engine, one sample = the wall time until all N commands returned
    // (every container started); the containers are removed untimed after each batch.
    const n = opts.concurrency;
    for (let round = 0; round < opts.rounds; round++) {
      for (const leg of rotate(live, round)) {
        checkAborted();
        if (leg.failed || leg.parFailure) continue;
        const t0 = nowMs();
        const results = await Promise.all(Array.from({ length: n }, (_, j) => leg.detached(`${runTag()}-d${round}-${j}`)));
        const ms = nowMs() - t0;
        const bad = results.filter((r) => r.code !== 0);
        if (bad.length) {
          // A batch that did not start all of its containers is no sample; the case is given up.
          leg.parFailure = `${bad.length} of ${n} failed, first: ${failureLine(bad[0])}`;
          ctx.log(`engine: ${leg.name}: ${n} run -d at once: ${leg.parFailure}`);
        } else leg.parSamples.push(ms);
        await leg.removeAll();
      }
    }
    if (cd) await cd.stop();
    if (dk) await dk.stop();
    await pm.cleanup();

    const c = newCase('engine', 'run --rm IMAGE true', 'per container, image already in the store', 'berth');
    for (const leg of legs) c.rows.push(sampleRow(leg));
    const par = newCase('engine', `${n} run -d at once`, `wall time until all ${n} containers run \`${SLEEP.join(' ')}\``, 'berth');
    for (const leg of legs) {
      if (leg.skipped) par.rows.push(skippedRow(leg.name, leg.skipped));
      else if (leg.parSamples.length === 0) par.rows.push(failedRow(leg.name, leg.failed ?? leg.parFailure ?? 'no sample'));
      else par.rows.push(okRow(leg.name, leg.parSamples, leg.note ? { note: leg.note } : {}));
    }
    return [c, par];
  },
};
