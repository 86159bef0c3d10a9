import type { Command } from 'commander';
import type { HealthConfig } from '../../engine/index.js';
import { usageError } from './context.js';

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: string;
  healthcheck?: boolean;
}

/** Go's time.ParseDuration ("1m30s", "500ms"), as docker takes --health-interval; in ns. */
export function parseGoDuration(s: string, flag: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  if (!s || pos !== s.length) throw usageError(`invalid argument ${JSON.stringify(s)} for "${flag}" flag: time: invalid duration`);
  return Math.round(total);
}

export function addHealthFlags(cmd: Command): Command {
  return cmd
    .option('--health-cmd <command>', 'command to run to check health (run by /bin/sh -c)')
    .option('--health-interval <duration>', 'time between running the check (default 30s)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (default 30s)')
    .option('--health-start-period <duration>', 'start period for the container to initialize before failures count (default 0s)')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy (default 3)')
    .option('--no-healthcheck', "disable any container-specified HEALTHCHECK");
}

/** The flags as docker's HealthConfig, or undefined when none was given. */
export function healthConfigFrom(f: HealthFlags): HealthConfig | undefined {
  if (f.healthcheck === false) {
    if (f.healthCmd) throw usageError('--no-healthcheck conflicts with --health-* options');
    return { test: ['NONE'] };
  }
  const h: HealthConfig = {};
  if (f.healthCmd) h.test = ['CMD-SHELL', f.healthCmd];
  if (f.healthInterval) h.interval = parseGoDuration(f.healthInterval, '--health-interval');
  if (f.healthTimeout) h.timeout = parseGoDuration(f.healthTimeout, '--health-timeout');
  if (f.healthStartPeriod) h.startPeriod = parseGoDuration(f.healthStartPeriod, '--health-start-period');
  if (f.healthRetries) {
    h.retries = Number(f.healthRetries);
    if (!Number.isInteger(h.retries) || h.retries < 0) throw usageError(`invalid --health-retries ${JSON.stringify(f.healthRetries)}`);
  }
  return Object.keys(h).length ? h : undefined;
}
