/**
 * Health checks without a daemon and without a process per container: the container's monitor
 * (native/berth-monitor.c, docs/monitor.md "Health checks") runs the check every interval as
 * `<runtime> exec --process <state>/health-process.json ID`, applies docker's rules (retries,
 * start period, the last 5 results, 4 KiB of output, -1 on timeout) and writes State.Health
 * with docker's field names to `<state>/health.json` (atomically). `start` hands the monitor
 * the check; `inspect` and `ps` read the file. Containers without a check cost nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import type { Spec } from '../../spec/runtime.js';
import type { ContainerRecord, ContainerState } from '../containers/store.js';
import type { Engine } from '../engine.js';
import type { MonitorHealth } from '../monitor/index.js';
import type { HealthConfig } from '../run-config.js';
import { execProcess } from './exec.js';

/** docker's defaults (api/types/container: DefaultHealthInterval...), in ns. */
const DEFAULTS = { interval: 30e9, timeout: 30e9, startPeriod: 0, retries: 3 };

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

const healthFile = (engine: Engine, id: string) => join(engine.paths(id).dir, 'health.json');

/**
 * What the monitor needs to run a container's check: its exec process (the container's
 * process with the check's args, as `berth exec` builds it) written beside the bundle, and
 * the timings in ms (docker's defaults for 0).
 */
export function monitorHealth(engine: Engine, rec: ContainerRecord): MonitorHealth | undefined {
  const hc = rec.config.healthcheck;
  if (!hc?.test?.length || hc.test[0] === 'NONE') return undefined;
  const paths = engine.paths(rec.id);
  const what = `start container ${JSON.stringify(rec.name)}: health check`;
  let spec: Spec;
  try {
    spec = JSON.parse(readFileSync(paths.config, 'utf8')) as Spec;
  } catch (err) {
    throw BerthError.wrap(err, `${what}: read its config.json`);
  }
  const processPath = join(paths.dir, 'health-process.json');
  writeFileSync(processPath, JSON.stringify(execProcess(spec, paths.rootfs, { cmd: checkArgs(hc.test) })));
  const ms = (ns: number | undefined, d: number) => Math.max(1, Math.round((ns || d) / 1e6));
  return {
    processPath,
    intervalMs: ms(hc.interval, DEFAULTS.interval),
    timeoutMs: ms(hc.timeout, DEFAULTS.timeout),
    startPeriodMs: hc.startPeriod ? ms(hc.startPeriod, 0) : 0,
    retries: hc.retries || DEFAULTS.retries,
  };
}

/** docker's State.Health as the monitor wrote it; undefined without a check or a file. */
export function readHealth(engine: Engine, id: string): ContainerState['health'] {
  try {
    const h = JSON.parse(readFileSync(healthFile(engine, id), 'utf8')) as {
      Status: 'starting' | 'healthy' | 'unhealthy';
      FailingStreak: number;
      Log: { Start: string; End: string; ExitCode: number; Output: string }[];
    };
    return { status: h.Status, failingStreak: h.FailingStreak, log: h.Log.map((l) => ({ start: l.Start, end: l.End, exitCode: l.ExitCode, output: l.Output })) };
  } catch {
    return undefined;
  }
}

/** The record with State.Health from the monitor's file (a check not yet begun: "starting"). */
export function withHealth(engine: Engine, rec: ContainerRecord): ContainerRecord {
  if (!rec.config.healthcheck) return rec.state.health ? { ...rec, state: { ...rec.state, health: undefined } } : rec;
  const health = readHealth(engine, rec.id) ?? (rec.state.status === 'created' ? undefined : { status: 'starting' as const, failingStreak: 0, log: [] });
  return { ...rec, state: { ...rec.state, health } };
}
