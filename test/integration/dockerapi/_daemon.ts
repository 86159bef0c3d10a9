/**
 * What every Docker API test file shares: the engine test env (own root, state, cgroup
 * parent, a registry serving busybox, pulled into root by the berth CLI) plus a `berth daemon`
 * on a socket in the scope, and the real docker CLI pointed at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec, type ExecOptions, type ExecResult } from '../../harness/index.js';
import { BERTH, engineEnv, type EngineEnv } from '../engine/_env.js';

export const DOCKER = '/usr/local/bin/docker';

export interface Daemon {
  socket: string;
  proc: ChildProcess;
  logFile: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DockerEnv extends EngineEnv {
  daemon: Daemon;
  /** DOCKER_HOST=unix://socket */
  dockerHost: string;
  dockerEnv: NodeJS.ProcessEnv;
  docker(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** docker that must exit 0; returns trimmed stdout. */
  dockerOk(args: string[], opts?: ExecOptions): Promise<string>;
  startDaemon(): Promise<Daemon>;
}

/** Start `berth daemon` on `socket` and wait until it answers. */
export async function startDaemon(e: EngineEnv, socket: string): Promise<Daemon> {
  const logFile = join(e.scope.dir, `daemon-${Date.now()}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(BERTH, ['daemon', '--host', `unix://${socket}`], { env: e.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`berth daemon exited ${proc.exitCode}: ${readFileSync(logFile, 'utf8')}`);
    if (existsSync(socket)) {
      const r = await exec('curl', ['-sf', '--unix-socket', socket, 'http://x/_ping'], { timeoutMs: 5000 });
      if (r.stdout === 'OK') break;
    }
    if (Date.now() > deadline) throw new Error(`berth daemon did not answer on ${socket}: ${readFileSync(logFile, 'utf8')}`);
    await sleep(50);
  }
  return {
    socket,
    proc,
    logFile,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

export function dockerEnv(name: string): { ready: Promise<DockerEnv> } {
  // the daemon keeps the real default (docker clients expect the bridge when they name no network)
  const { scope, ready: engineReady } = engineEnv(`dapi-${name}`, { defaultBridge: true });
  const ready = (async () => {
    const e = await engineReady;
    const socket = join(scope.dir, 'berth.sock');
    const config = join(scope.dir, 'docker-config');
    mkdirSync(config);
    const dockerHost = `unix://${socket}`;
    const env = { ...process.env, DOCKER_HOST: dockerHost, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' };
    const holder: { daemon?: Daemon } = {};
    const start = async () => (holder.daemon = await startDaemon(e, socket));
    await start();
    // registered after the engine env's cleanups, so it runs first: no request in flight while containers go
    // then the containers (their CNI DEL) and every network: the daemon's runs make the default
    // bridge, a host interface that outlives the root dir
    scope.defer('stop daemon, remove containers and networks', async () => {
      await holder.daemon?.stop();
      const ids = (await e.berth(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await e.berth(['rm', '-f', '-v', ...ids]);
      await e.berth(['network', 'prune', '-f']);
    });
    const docker = (args: string[], opts: ExecOptions = {}) => exec(DOCKER, args, { timeoutMs: 60_000, env, ...opts });
    const dockerOk = async (args: string[], opts: ExecOptions = {}) => {
      const r = await docker(args, opts);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}\n--- daemon log:\n${readFileSync(holder.daemon!.logFile, 'utf8').slice(-3000)}`);
      return r.stdout.trim();
    };
    return {
      ...e,
      get daemon() {
        return holder.daemon!;
      },
      dockerHost,
      dockerEnv: env,
      docker,
      dockerOk,
      startDaemon: start,
    } as DockerEnv;
  })();
  ready.catch(() => {});
  return { ready };
}
