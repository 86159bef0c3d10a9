/**
 * Health checks without a daemon. Someone must run the check every interval while the
 * container runs: berth starts one small helper process per container that has a health check
 * (`berth container healthcheck ID`, detached, started by `start`), which execs the check
 * through an exec monitor like `berth exec`, records the result in the container's state
 * (SQLite, docker's State.Health) and exits once the container's monitor is gone. `rm` stops
 * it. Containers without a check cost nothing. (The monitor could run checks itself, in C,
 * later: that saves the Node process, ~40 MiB, per checked container.)
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { monitorPid } from '../monitor/index.js';
import type { ContainerState } from '../containers/store.js';
import type { Engine } from '../engine.js';
import type { HealthConfig } from '../run-config.js';
import { execContainer, removeExecState } from './exec.js';

/** docker's defaults (api/types/container: DefaultHealthInterval...). */
const DEFAULTS = { interval: 30e9, timeout: 30e9, startPeriod: 0, retries: 3 };
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** The image's HEALTHCHECK (config.Healthcheck, docker's field names) under the flags; undefined: none. */
export function effectiveHealthcheck(flags: HealthConfig | undefined, image: unknown): HealthConfig | undefined {
  const img = (image ?? {}) as { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  const h: HealthConfig = {
    ...(img.Test ? { test: img.Test } : {}),
    ...(img.Interval ? { interval: img.Interval } : {}),
    ...(img.Timeout ? { timeout: img.Timeout } : {}),
    ...(img.StartPeriod ? { startPeriod: img.StartPeriod } : {}),
    ...(img.Retries ? { retries: img.Retries } : {}),
    ...Object.fromEntries(Object.entries(flags ?? {}).filter(([, v]) => v !== undefined)),
  };
  if (!h.test?.length || h.test[0] === 'NONE') return undefined;
  return h;
}

function checkArgs(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test; // docker takes a bare list as CMD
}

const pidFile = (engine: Engine, id: string) => join(engine.paths(id).dir, 'health.pid');

/** Start the helper for a just-started container with a health check (needs the engine's selfCommand). */
export function startHealthChecker(engine: Engine, id: string, hc: HealthConfig | undefined): void {
  if (!hc || !engine.selfCommand) return;
  stopHealthChecker(engine, id); // one per container: a restart replaces the old one
  engine.containers.updateState(id, (s) => ({ ...s, health: { status: 'starting', failingStreak: 0, log: [] } }));
  const [cmd, ...args] = engine.selfCommand;
  const child = spawn(cmd, [...args, '--root', engine.root, '--state', engine.state, 'container', 'healthcheck', id], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.unref();
  if (child.pid) writeFileSync(pidFile(engine, id), String(child.pid));
}

/** Stop a container's health helper, if it runs (its cmdline must name the container). */
export function stopHealthChecker(engine: Engine, id: string): void {
  const f = pidFile(engine, id);
  try {
    const pid = Number(readFileSync(f, 'utf8'));
    if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id)) process.kill(pid, 'SIGKILL');
  } catch {
    /* none */
  }
  rmSync(f, { force: true });
}

/** Run the check once: exit code and (at most 4 KiB of) output; -1 on timeout. */
export async function runHealthCheck(engine: Engine, id: string, hc: HealthConfig): Promise<{ start: string; end: string; exitCode: number; output: string }> {
  const start = new Date().toISOString();
  const timeoutMs = (hc.timeout || DEFAULTS.timeout) / 1e6;
  let output = '';
  let exitCode: number;
  try {
    const s = await execContainer(engine, id, { cmd: checkArgs(hc.test!) });
    const a = s.attach!;
    // chunks reach 'data' asynchronously: wait for 'end' after the exit, or output is lost
    const ended = new Promise<void>((r) => {
      a.once('end', () => r());
      a.once('close', () => r());
    });
    a.on('data', (c: { data: Buffer }) => {
      if (output.length < MAX_OUTPUT) output += c.data.toString('utf8');
    });
    a.on('error', () => {});
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const r = await Promise.race([a.exit, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await a.exit;
      exitCode = -1;
      output = `Health check exceeded timeout (${timeoutMs / 1000}s)`;
    } else {
      exitCode = r?.exitCode ?? -1;
      await Promise.race([ended, new Promise((res) => setTimeout(res, 1000))]);
    }
    a.destroy();
    removeExecState(s.stateDir);
  } catch (err) {
    exitCode = -1;
    output = err instanceof Error ? err.message : String(err);
  }
  return { start, end: new Date().toISOString(), exitCode, output: output.slice(0, MAX_OUTPUT) };
}

/** What one result does to State.Health (docker's rules: failures in the start period do not count). */
export function applyHealthResult(s: ContainerState, r: { start: string; end: string; exitCode: number; output: string }, hc: HealthConfig, inStartPeriod: boolean): ContainerState {
  const h = s.health ?? { status: 'starting' as const, failingStreak: 0, log: [] };
  const log = [...h.log, r].slice(-MAX_LOG);
  if (r.exitCode === 0) return { ...s, health: { status: 'healthy', failingStreak: 0, log } };
  if (inStartPeriod && h.status === 'starting') return { ...s, health: { ...h, log } };
  const streak = h.failingStreak + 1;
  const retries = hc.retries || DEFAULTS.retries;
  return { ...s, health: { status: streak >= retries ? 'unhealthy' : h.status, failingStreak: streak, log } };
}

/** The helper's loop: check every interval until the container's monitor is gone. */
export async function healthLoop(engine: Engine, id: string): Promise<void> {
  const rec = engine.containers.find(id);
  const hc = rec.config.healthcheck;
  if (!hc?.test) throw new BerthError('FAILED_PRECONDITION', `container ${JSON.stringify(rec.name)} has no health check`);
  const dir = engine.paths(rec.id).dir;
  const intervalMs = (hc.interval || DEFAULTS.interval) / 1e6;
  const startPeriodMs = (hc.startPeriod || DEFAULTS.startPeriod) / 1e6;
  const started = Date.now();
  const alive = () => monitorPid(dir) !== undefined;
  for (;;) {
    // sleep the interval, looking every 200 ms whether the container still runs
    for (const until = Date.now() + intervalMs; Date.now() < until; ) {
      if (!alive()) return;
      await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
    }
    if (!alive()) return;
    const r = await runHealthCheck(engine, rec.id, hc);
    if (!alive()) return;
    engine.containers.updateState(rec.id, (s) => applyHealthResult(s, r, hc, Date.now() - started < startPeriodMs));
  }
}
