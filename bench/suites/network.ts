/**
 * network: containers with their engine's default network.
 *  - `run --rm IMAGE true`: berth `--network bridge` (CNI bridge, host-local, firewall) vs
 *    podman's default network (netavark); target under 120 ms (issue 5), podman measured
 *    347 ms here (PEERS.md);
 *  - a loopback HTTP transfer through a published port: a 64 MiB file served by busybox
 *    httpd in the container, fetched from the host's 127.0.0.1 through the port mapping.
 * Traffic goes only to 127.0.0.1 and the benchmark's own containers. The host's iptables and
 * ip_forward are recorded and restored by bench/run.ts; berth's networks are removed here.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { checkAborted, defer, runTag, tempDir } from '../lib/cleanup.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run, sleep, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case } from '../lib/result.js';
import { berthCommand } from '../peers/berth.js';
import { busyboxImage } from '../peers/image.js';
import { podman, pushed, sharedRegistry } from '../peers/services.js';

const FILE_MB = 64;

interface Leg {
  name: string;
  note: string;
  setup(): Promise<void>;
  once(): Promise<CmdResult>;
  /** Start a detached httpd publishing container port 80 on 127.0.0.1:port; returns its id. */
  serve(port: number): Promise<string>;
  unserve(id: string): Promise<void>;
  samples: number[];
  transfer: number[];
  failed?: string;
  skipped?: string;
}

async function must(p: Promise<CmdResult>, what: string): Promise<CmdResult> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: ${failureLine(r)}`);
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** GET the file through the mapping; ms for the whole body, or throws. */
function fetchMs(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const req = request({ host: '127.0.0.1', port, path: '/big', timeout: 30_000 }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => (n === FILE_MB * 1024 * 1024 ? resolve(nowMs() - t0) : reject(new Error(`got ${n} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const SERVE = ['sh', '-c', `mkdir /w && dd if=/dev/zero of=/w/big bs=1M count=${FILE_MB} 2>/dev/null && exec httpd -f -p 80 -h /w`];

export const networkSuite: Suite = {
  name: 'network',
  describe: '`run --rm true` with the default network, and HTTP through a published port: berth vs podman',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const image = await ctx.shared('image:busybox', () => busyboxImage(opts.cache, ctx.log));
    const registry = await sharedRegistry(ctx);
    const ref = await pushed(ctx, registry, image, 'bench/busybox');
    const berth = berthCommand(opts.repo);
    const dir = tempDir('network-berth').path;
    // containers first, then berth's networks (bridges, shared CNI chains)
    defer('remove berth networks', async () => {
      await run(berth.argv(dir, ['network', 'prune', '-f']), { timeoutMs: 60_000 });
    });
    defer('remove berth containers', () => berth.removeContainers(dir));
    const pm = podman(registry);
    const cgroupParent = `/${runTag()}-podman-net`;

    const legs: Leg[] = [
      {
        name: 'berth',
        note: 'bridge network: CNI bridge + host-local + firewall',
        samples: [],
        transfer: [],
        async setup() {
          const cmds = await berth.commands();
          if (!cmds.has('network')) throw Object.assign(new Error('not implemented yet (no `berth network`)'), { skip: true });
          await must(run(berth.argv(dir, ['pull', ref]), { timeoutMs: 120_000 }), 'berth pull');
        },
        once: () => run(berth.argv(dir, ['run', '--rm', '--network', 'bridge', ref, 'true']), { timeoutMs: 60_000 }),
        async serve(port) {
          const r = await must(run(berth.argv(dir, ['run', '-d', '--network', 'bridge', '-p', `${port}:80`, ref, ...SERVE]), { timeoutMs: 60_000 }), 'berth run httpd');
          return r.stdout.trim();
        },
        async unserve(id) {
          await run(berth.argv(dir, ['rm', '-f', id]), { timeoutMs: 60_000 });
        },
      },
      {
        name: 'podman',
        note: 'runc, cgroupfs, default network (netavark)',
        samples: [],
        transfer: [],
        async setup() {
          await must(run(['podman', 'pull', '--quiet', ref], { env: pm.env, timeoutMs: 120_000 }), 'podman pull');
        },
        once: () => run(['podman', 'run', '--rm', `--cgroup-parent=${cgroupParent}`, ref, 'true'], { env: pm.env, timeoutMs: 60_000 }),
        async serve(port) {
          const r = await must(run(['podman', 'run', '-d', `--cgroup-parent=${cgroupParent}`, '-p', `${port}:80`, ref, ...SERVE], { env: pm.env, timeoutMs: 60_000 }), 'podman run httpd');
          return r.stdout.trim();
        },
        async unserve(id) {
          await run(['podman', 'rm', '-f', id], { env: pm.env, timeoutMs: 60_000 });
        },
      },
    ];

    for (const leg of legs) {
      try {
        await leg.setup();
      } catch (err) {
        if ((err as { skip?: boolean }).skip) leg.skipped = (err as Error).message;
        else leg.failed = `set-up: ${(err as Error).message.split('\n')[0]}`;
        ctx.log(`network: ${leg.name}: ${leg.skipped ?? leg.failed}`);
      }
    }
    const live = legs.filter((l) => !l.failed && !l.skipped);
    for (let i = -2; i < opts.engineIterations; i++) {
      for (const leg of i % 2 ? [...live].reverse() : live) {
        checkAborted();
        if (leg.failed) continue;
        const r = await leg.once();
        if (r.code !== 0) leg.failed = `run: ${failureLine(r)}`;
        else if (i >= 0) leg.samples.push(r.ms);
      }
    }
    // throughput: one server per leg, several transfers each, alternating
    const servers = new Map<Leg, { id: string; port: number }>();
    for (const leg of live) {
      if (leg.failed) continue;
      try {
        const port = await freePort();
        servers.set(leg, { id: await leg.serve(port), port });
      } catch (err) {
        leg.failed = `serve: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    for (const [leg, s] of servers) {
      // wait for httpd (the file is written first)
      const deadline = nowMs() + 20_000;
      for (;;) {
        try {
          await fetchMs(s.port);
          break;
        } catch (err) {
          if (nowMs() > deadline) {
            leg.failed = `transfer: ${(err as Error).message}`;
            break;
          }
          await sleep(100);
        }
      }
    }
    const rounds = opts.quick ? 3 : 10;
    for (let i = 0; i < rounds; i++) {
      for (const [leg, s] of servers) {
        if (leg.failed) continue;
        try {
          leg.transfer.push(await fetchMs(s.port));
        } catch (err) {
          leg.failed = `transfer: ${(err as Error).message}`;
        }
      }
    }
    for (const [leg, s] of servers) await leg.unserve(s.id);
    await pm.cleanup();

    const runCase = newCase('network', 'run --rm IMAGE true, default network', 'per container, image in the store (target < 120 ms)', 'berth');
    const xfer = newCase('network', `HTTP GET of ${FILE_MB} MiB through a published port on 127.0.0.1`, 'per transfer', 'berth');
    for (const leg of legs) {
      if (leg.skipped) {
        runCase.rows.push(skippedRow(leg.name, leg.skipped));
        xfer.rows.push(skippedRow(leg.name, leg.skipped));
        continue;
      }
      runCase.rows.push(leg.samples.length ? okRow(leg.name, leg.samples, { note: leg.note }) : failedRow(leg.name, leg.failed ?? 'no sample'));
      if (leg.transfer.length) {
        const sorted = [...leg.transfer].sort((a, b) => a - b);
        const mbps = (FILE_MB / (sorted[Math.floor(sorted.length / 2)] / 1000)).toFixed(0);
        xfer.rows.push(okRow(leg.name, leg.transfer, { note: `${mbps} MiB/s median` }));
      } else xfer.rows.push(failedRow(leg.name, leg.failed ?? 'no sample'));
    }
    return [runCase, xfer];
  },
};
