/**
 * dockerapi: `docker run --rm --network none IMAGE true` with one docker CLI (docker 28,
 * /usr/local/bin/docker) against three Docker-API daemons, interleaved in one run:
 *  - berth: `berth daemon --host unix://SOCK` on a private root/state, image pulled first (untimed);
 *  - dockerd: the private dockerd of bench/peers/docker.ts (no bridge, no iptables);
 *  - podman: `podman system service --time=0 unix://SOCK` with the bench's podman env.
 * The difference to the engine suite is the API path: the same client, only the socket changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { checkAborted, defer, removeTree, tempDir } from '../lib/cleanup.js';
import { rotate } from '../lib/rotate.js';
import { recordRun, sampleRow, type FlakyLeg } from '../lib/flaky.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, run, type CmdResult } from '../lib/proc.js';
import { newCase, skippedRow, type Case } from '../lib/result.js';
import { berthCommand } from '../peers/berth.js';
import { dockerMissing, startDockerd } from '../peers/docker.js';
import { busyboxImage } from '../peers/image.js';
import { podman, pushed, sharedRegistry } from '../peers/services.js';

const CLIENT = '/usr/local/bin/docker';

interface Leg extends FlakyLeg {
  note: string;
  host?: string;
  setup(): Promise<string>;
}

async function must(p: Promise<CmdResult>, what: string): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: ${failureLine(r)}`);
}

/** Spawn a daemon serving the Docker API on `sock`; stopped (SIGTERM, then SIGKILL) at cleanup. */
async function serve(what: string, argv: string[], sock: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const child: ChildProcess = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  defer(`stop ${what}`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
  });
  const host = `unix://${sock}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${log.trim().split('\n').pop() ?? ''}`);
    if (existsSync(sock)) {
      const r = await run([CLIENT, '-H', host, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 });
      if (r.code === 0) return host;
    }
    if (Date.now() > deadline) throw new Error(`${what} at ${sock}: not answering after 30 s: ${log.trim().split('\n').pop() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const dockerapiSuite: Suite = {
  name: 'dockerapi',
  describe: '`docker run --rm --network none IMAGE true` (docker 28 CLI) against berth daemon vs dockerd vs podman service',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    if (!existsSync(CLIENT)) {
      const c = newCase('dockerapi', 'docker run --rm', '-', 'berth');
      c.rows.push(skippedRow('all', `no docker 28 client at ${CLIENT}`));
      return [c];
    }
    const image = await ctx.shared('image:busybox', () => busyboxImage(opts.cache, ctx.log));
    const registry = await sharedRegistry(ctx);
    const ref = await pushed(ctx, registry, image, 'bench/busybox');
    // Unix socket paths are limited to 108 bytes (unix(7)): keep them short.
    const sockDir = mkdtempSync('/tmp/bda-');
    defer(`remove ${sockDir}`, () => removeTree(sockDir));

    const berth = berthCommand(opts.repo);
    const berthDir = tempDir('dockerapi-berth').path;
    defer('remove berth containers', () => berth.removeContainers(berthDir));
    const pm = podman(registry);
    const missing = dockerMissing();

    const legs: Leg[] = [
      {
        name: 'berth',
        note: 'berth daemon (Docker API)',
        samples: [],
        failures: 0,
        attempts: 0,
        async setup() {
          const cmds = await berth.commands();
          if (!cmds.has('daemon')) throw Object.assign(new Error('not implemented yet (the berth CLI has no `daemon`)'), { skip: true });
          await must(run(berth.argv(berthDir, ['pull', ref]), { timeoutMs: 120_000 }), 'berth pull');
          const sock = join(sockDir, 'berth.sock');
          return serve('berth daemon', berth.argv(berthDir, ['daemon', '--host', `unix://${sock}`]), sock);
        },
      },
      {
        name: 'dockerd',
        note: 'dockerd 20.10, cgroupfs, overlay2',
        samples: [],
        failures: 0,
        attempts: 0,
        ...(missing ? { skipped: missing } : {}),
        async setup() {
          const dk = await startDockerd(registry.host);
          const argv = dk.argv([]);
          const host = argv[argv.indexOf('-H') + 1];
          await must(run([CLIENT, '-H', host, 'pull', '--quiet', ref], { timeoutMs: 120_000 }), 'docker pull');
          return host;
        },
      },
      {
        name: 'podman',
        note: 'podman system service, runc, cgroupfs, overlay',
        samples: [],
        failures: 0,
        attempts: 0,
        async setup() {
          await must(run(['podman', 'pull', '--quiet', ref], { env: pm.env, timeoutMs: 120_000 }), 'podman pull');
          const sock = join(sockDir, 'podman.sock');
          const host = await serve('podman system service', ['podman', 'system', 'service', '--time=0', `unix://${sock}`], sock, pm.env);
          defer('remove podman service containers', async () => {
            const ids = (await run(['podman', 'ps', '-aq'], { env: pm.env, timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
            if (ids.length) await run(['podman', 'rm', '-f', '-t', '0', ...ids], { env: pm.env, timeoutMs: 120_000 });
          });
          return host;
        },
      },
    ];
    for (const leg of legs) {
      if (leg.skipped) continue;
      try {
        leg.host = await leg.setup();
      } catch (err) {
        const msg = (err as Error).message.split('\n')[0];
        // podman's service is optional: a failure to start it is a skip with its reason.
        if ((err as { skip?: boolean }).skip || leg.name === 'podman') leg.skipped = msg;
        else leg.failed = `set-up: ${msg}`;
        ctx.log(`dockerapi: ${leg.name}: ${leg.skipped ?? leg.failed}`);
      }
    }
    const live = legs.filter((l) => !l.failed && !l.skipped);
    const warmup = 2;
    for (let i = -warmup; i < opts.engineIterations; i++) {
      for (const leg of rotate(live, i)) {
        checkAborted();
        if (leg.failed) continue;
        const r = await run([CLIENT, '-H', leg.host!, 'run', '--rm', '--network', 'none', ref, 'true'], { timeoutMs: 60_000 });
        recordRun(leg, r, i >= 0, (line) => ctx.log(`dockerapi: ${line}`));
      }
    }

    const c = newCase('dockerapi', 'docker run --rm --network none IMAGE true', 'per container, docker 28 CLI, image in the store', 'berth');
    for (const leg of legs) c.rows.push(sampleRow(leg));
    return [c];
  },
};
