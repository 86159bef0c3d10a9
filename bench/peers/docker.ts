/**
 * A private dockerd (Debian's docker.io, 20.10) for the bench, started as PEERS.md says: own
 * data root, exec root, pidfile and socket, the cgroupfs driver (no systemd here), the bench's
 * registry marked insecure. `--iptables=false --ip-forward=false --ip-masq=false --bridge=none`
 * keep the host's packet filter, ip_forward and links untouched (dockerd(8)); the legs that use
 * it run with `--network none`. With `{ bridge: true }` (the network suite) dockerd keeps its
 * default bridge `docker0`, its iptables rules and its userland proxy, and only
 * `--ip-forward=false` stays: dockerd then leaves ip_forward and the FORWARD policy alone
 * (with ip_forward off it would turn it on and set FORWARD to DROP, which would change how the
 * other engines' containers are set up in the same run); bench/lib/hostnet.ts removes the
 * bridge, chains and rules afterwards. Containers go below a cgroup parent named with the
 * run's tag, so the bench's cgroup sweep finds whatever is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { defer, removeTree, runTag, tempDir, unmountBelow } from '../lib/cleanup.js';
import { failureLine, run, type CmdResult, type CmdOptions } from '../lib/proc.js';

export const DOCKERD = '/usr/sbin/dockerd';

/** Why docker cannot be measured here, or undefined when it can. */
export function dockerMissing(): string | undefined {
  if (!existsSync(DOCKERD)) return 'docker.io not installed (apt-get install docker.io)';
  if (!dockerClient()) return 'no docker client (/usr/bin/docker or /usr/local/bin/docker)';
  return undefined;
}

function dockerClient(): string | undefined {
  return ['/usr/bin/docker', '/usr/local/bin/docker'].find((p) => existsSync(p));
}

export interface DockerInstance {
  /** `docker -H unix://SOCK ARGS...` */
  argv(args: readonly string[]): string[];
  version: string;
  stop(): Promise<void>;
}

export async function startDockerd(insecureRegistry: string, opts: { bridge?: boolean } = {}): Promise<DockerInstance> {
  const client = dockerClient();
  if (!client) throw new Error(dockerMissing());
  // another dockerd's bridge: two daemons would fight over its addresses and rules
  if (opts.bridge && existsSync('/sys/class/net/docker0')) throw new Error('docker0 exists already (another dockerd?): not starting a second one on it');
  const dataRoot = tempDir('dockerd').path;
  // Unix socket paths are limited to 108 bytes (unix(7)) and dockerd puts its containerd's
  // sockets below the exec root: keep both short.
  const execRoot = mkdtempSync('/tmp/bdx-');
  defer(`remove dockerd exec root ${execRoot}`, () => removeTree(execRoot));
  const sock = join(execRoot, 'docker.sock');
  const host = `unix://${sock}`;
  const argv = (args: readonly string[]): string[] => [client, '-H', host, ...args];
  const child: ChildProcess = spawn(
    DOCKERD,
    [
      '--data-root', dataRoot,
      '--exec-root', execRoot,
      '--pidfile', join(execRoot, 'docker.pid'),
      '-H', host,
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--cgroup-parent', `/${runTag()}-docker`,
      '--insecure-registry', insecureRegistry,
      ...(opts.bridge ? ['--ip-forward=false'] : ['--iptables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none']),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const docker = (args: readonly string[], o: CmdOptions = {}): Promise<CmdResult> => run(argv(args), { timeoutMs: 60_000, ...o });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    // overlay2 leaves a bind mount of its data root behind (PEERS.md).
    await unmountBelow(dataRoot);
    await unmountBelow(execRoot);
  };
  defer('stop dockerd', stop);
  const deadline = Date.now() + 30_000;
  let version = '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}: ${log.trim().split('\n').pop() ?? ''}`);
    if (existsSync(sock)) {
      const r = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 });
      if (r.code === 0) {
        version = r.stdout.trim();
        break;
      }
    }
    if (Date.now() > deadline) throw new Error(`dockerd at ${sock}: not answering after 30 s: ${log.trim().split('\n').pop() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { argv, version, stop };
}

export function mustOk(r: CmdResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: ${failureLine(r)}`);
}
