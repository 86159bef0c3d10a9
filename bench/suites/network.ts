/**
 * network: containers with each engine's default network, in one run, interleaved.
 *  - `run --rm IMAGE true`: berth with no `--network` (its default: docker's bridge, CNI
 *    bridge + host-local), podman with its default network (the rootful bridge `podman`,
 *    netavark), docker with its default bridge (`docker0`, a private dockerd; only if Debian's
 *    docker.io is installed); target under 120 ms (issue 5), podman measured 347 ms here
 *    (PEERS.md);
 *  - a loopback HTTP transfer through a published port: a 64 MiB file served by busybox
 *    httpd in the container, fetched from the host's 127.0.0.1 through `-p 127.0.0.1:PORT:80`
 *    (berth: portmap DNAT with route_localnet; podman: netavark DNAT, also route_localnet;
 *    docker: its userland proxy, docker-proxy, which answers on 127.0.0.1).
 * The harness's podman config sets `netns = "none"` (for the engine tests), so podman gets
 * `--network=bridge`, naming its default. Traffic goes only to 127.0.0.1 and the benchmark's
 * own containers. The host's iptables, bridges and ip_forward are recorded and restored by
 * bench/run.ts (bench/lib/hostnet.ts); berth's networks are removed here.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { checkAborted, defer, runTag, tempDir } from '../lib/cleanup.js';
import { rotate } from '../lib/rotate.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run, sleep, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case } from '../lib/result.js';
import { berthCommand } from '../peers/berth.js';
import { dockerMissing, startDockerd, type DockerInstance } from '../peers/docker.js';
import { busyboxImage } from '../peers/image.js';
import { podman, pushed, sharedRegistry } from '../peers/services.js';

const FILE_MB = 64;

interface Leg {
  name: string;
  note: string;
  setup(): Promise<void>;
  /** `run --rm IMAGE ...cmd` with the engine's default network. */
  runRm(cmd: string[]): Promise<CmdResult>;
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
  describe: '`run --rm true` with the default network, and HTTP through a published port on 127.0.0.1: berth vs podman vs docker (if installed)',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const image = await ctx.shared('image:busybox', () => busyboxImage(opts.cache, ctx.log));
    const registry = await sharedRegistry(ctx);
    const ref = await pushed(ctx, registry, image, 'bench/busybox');
    const berth = berthCommand(opts.repo);
    // berth's real default: no BERTH_BRIDGE=none from the caller's environment
    const berthEnv: NodeJS.ProcessEnv = { ...process.env };
    delete berthEnv.BERTH_BRIDGE;
    const dir = tempDir('network-berth').path;
    // containers first, then berth's networks (bridges, shared CNI chains)
    defer('remove berth networks', async () => {
      await run(berth.argv(dir, ['network', 'prune', '-f']), { env: berthEnv, timeoutMs: 60_000 });
    });
    defer('remove berth containers', () => berth.removeContainers(dir));
    const pm = podman(registry);
    const cgroupParent = `/${runTag()}-podman-net`;
    let dk: DockerInstance | undefined;
    const publish = (port: number) => ['-p', `127.0.0.1:${port}:80`];

    const legs: Leg[] = [
      {
        name: 'berth',
        note: 'its default network (no --network): CNI bridge + host-local',
        samples: [],
        transfer: [],
        async setup() {
          const cmds = await berth.commands();
          if (!cmds.has('network')) throw Object.assign(new Error('not implemented yet (no `berth network`)'), { skip: true });
          await must(run(berth.argv(dir, ['pull', ref]), { env: berthEnv, timeoutMs: 120_000 }), 'berth pull');
        },
        runRm: (cmd) => run(berth.argv(dir, ['run', '--rm', ref, ...cmd]), { env: berthEnv, timeoutMs: 60_000 }),
        async serve(port) {
          const r = await must(run(berth.argv(dir, ['run', '-d', ...publish(port), ref, ...SERVE]), { env: berthEnv, timeoutMs: 60_000 }), 'berth run httpd');
          return r.stdout.trim();
        },
        async unserve(id) {
          await run(berth.argv(dir, ['rm', '-f', id]), { env: berthEnv, timeoutMs: 60_000 });
        },
      },
      {
        name: 'podman',
        note: 'runc, cgroupfs, its default network (bridge "podman", netavark)',
        samples: [],
        transfer: [],
        async setup() {
          await must(run(['podman', 'pull', '--quiet', ref], { env: pm.env, timeoutMs: 120_000 }), 'podman pull');
          const backend = (await run(['podman', 'info', '--format', '{{.Host.NetworkBackend}}'], { env: pm.env, timeoutMs: 30_000 })).stdout.trim();
          if (backend) this.note = `runc, cgroupfs, its default network (bridge "podman", ${backend})`;
        },
        runRm: (cmd) => run(['podman', 'run', '--rm', '--network=bridge', `--cgroup-parent=${cgroupParent}`, ref, ...cmd], { env: pm.env, timeoutMs: 60_000 }),
        async serve(port) {
          const r = await must(run(['podman', 'run', '-d', '--network=bridge', `--cgroup-parent=${cgroupParent}`, ...publish(port), ref, ...SERVE], { env: pm.env, timeoutMs: 60_000 }), 'podman run httpd');
          return r.stdout.trim();
        },
        async unserve(id) {
          await run(['podman', 'rm', '-f', '-t', '0', id], { env: pm.env, timeoutMs: 60_000 });
        },
      },
    ];
    const missing = dockerMissing();
    legs.push({
      name: 'docker',
      note: 'dockerd 20.10, its default bridge (docker0, iptables NAT, docker-proxy), --ip-forward=false',
      samples: [],
      transfer: [],
      ...(missing ? { skipped: missing } : {}),
      async setup() {
        dk = await startDockerd(registry.host, { bridge: true });
        await must(run(dk.argv(['pull', '--quiet', ref]), { timeoutMs: 120_000 }), 'docker pull');
      },
      runRm: (cmd) => run(dk!.argv(['run', '--rm', ref, ...cmd]), { timeoutMs: 60_000 }),
      async serve(port) {
        const r = await must(run(dk!.argv(['run', '-d', ...publish(port), ref, ...SERVE]), { timeoutMs: 60_000 }), 'docker run httpd');
        return r.stdout.trim();
      },
      async unserve(id) {
        await run(dk!.argv(['rm', '-f', id]), { timeoutMs: 60_000 });
      },
    });

    for (const leg of legs) {
      if (leg.skipped) continue;
      try {
        await leg.setup();
        // Never time a run without a network by mistake (a config's default can be `none`).
        const links = await leg.runRm(['ls', '/sys/class/net']);
        if (links.code !== 0) throw new Error(`probe run: ${failureLine(links)}`);
        if (!links.stdout.split(/\s+/).includes('eth0')) throw new Error(`its default network gave no eth0 (links: ${links.stdout.trim().replace(/\s+/g, ' ')})`);
      } catch (err) {
        if ((err as { skip?: boolean }).skip) leg.skipped = (err as Error).message;
        else leg.failed = `set-up: ${(err as Error).message.split('\n')[0]}`;
        ctx.log(`network: ${leg.name}: ${leg.skipped ?? leg.failed}`);
      }
    }
    const live = legs.filter((l) => !l.failed && !l.skipped);
    for (let i = -2; i < opts.engineIterations; i++) {
      for (const leg of rotate(live, i)) {
        checkAborted();
        if (leg.failed) continue;
        const r = await leg.runRm(['true']);
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
    if (dk) await dk.stop();
    await pm.cleanup();

    const runCase = newCase('network', 'run --rm IMAGE true, default network', 'per container, image in the store (target < 120 ms)', 'berth');
    const xfer = newCase('network', `HTTP GET of ${FILE_MB} MiB through a published port on 127.0.0.1`, 'per transfer, -p 127.0.0.1:PORT:80', 'berth');
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
        xfer.rows.push(okRow(leg.name, leg.transfer, { note: `${mbps} MiB/s median${leg.name === 'docker' ? ', through docker-proxy' : ''}` }));
      } else xfer.rows.push(failedRow(leg.name, leg.failed ?? 'no sample'));
    }
    return [runCase, xfer];
  },
};
