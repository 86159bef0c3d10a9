/**
 * A private containerd 1.6 (PEERS.md): its own root, state, sockets and opt dir in a generated
 * config.toml, CRI and the snapshotters this machine lacks disabled. ctr talks to it by
 * address, in a namespace named with the run's tag (so container cgroups are
 * /<tag>/<id> and removable by name). Shim sockets still go to /run/containerd/s/; each shim
 * removes its own when its container is deleted.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_TAG, defer, tempDir } from '../lib/cleanup.js';
import { run, sleep } from '../lib/proc.js';

export interface Containerd {
  address: string;
  namespace: string;
  /** argv for `ctr -a ADDR -n NS ...args`. */
  ctr(args: readonly string[]): string[];
  /** Stop the daemon and remove its dirs (also done at cleanup). */
  stop(): Promise<void>;
}

export async function startContainerd(label: string): Promise<Containerd> {
  const tmp = tempDir(`containerd-${label}`);
  const dir = tmp.path;
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '  level = "warn"',
      '[metrics]',
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(dir, 'opt')}"`,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'containerd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stopDaemon = defer(`stop containerd (pid ${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
  const namespace = RUN_TAG;
  const ctr = (args: readonly string[]): string[] => ['ctr', '-a', address, '-n', namespace, ...args];
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      const why = readFileSync(logFile, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
      throw new Error(`containerd exited at start: ${why}`);
    }
    const r = await run(ctr(['version']), { timeoutMs: 5000 });
    if (r.code === 0) break;
    if (i > 100) throw new Error(`containerd at ${address} did not answer within 10 s`);
    await sleep(100);
  }
  return {
    address,
    namespace,
    ctr,
    async stop() {
      await stopDaemon();
      await tmp.remove();
    },
  };
}
