import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../errors/index.js';
import { monitorFiles } from './paths.js';
import { runtimeMessage, type MonitorFailure } from './runtime-error.js';
import type { ExitStatus } from './types.js';

/** The exit file of a finished monitor, or undefined while the container still runs. */
export function readExit(stateDir: string): ExitStatus | undefined {
  let text: string;
  try {
    text = readFileSync(monitorFiles(stateDir).exit, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw BerthError.wrap(err, `read exit status in ${JSON.stringify(stateDir)}`);
  }
  try {
    const st = JSON.parse(text) as ExitStatus;
    // a failed restart records the monitor's failure report (JSON) as the error
    if (st.error?.startsWith('{')) {
      try {
        st.error = `restart: ${runtimeMessage(JSON.parse(st.error) as MonitorFailure)}`;
      } catch {
        /* keep it as written */
      }
    }
    return st;
  } catch {
    throw new BerthError('INTERNAL', `read exit status in ${JSON.stringify(stateDir)}: malformed ${JSON.stringify(text)}`);
  }
}

/** The monitor's pid while its pid file exists and the process is alive. */
export function monitorPid(stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(monitorFiles(stateDir).monitorPid, 'utf8').trim());
    if (!(pid > 0)) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Wait until the exit file appears (polling; the file is written by rename, never torn). */
export async function waitExit(stateDir: string, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<ExitStatus> {
  for (;;) {
    const st = readExit(stateDir);
    if (st) return st;
    if (opts.signal?.aborted) throw new BerthError('CANCELED', `wait for exit in ${JSON.stringify(stateDir)}: canceled`);
    if (monitorPid(stateDir) === undefined) {
      // the monitor writes exit before removing its pid file: look once more
      const again = readExit(stateDir);
      if (again) return again;
      throw new BerthError('NOT_FOUND', `wait for exit in ${JSON.stringify(stateDir)}: no monitor and no exit status`);
    }
    await sleep(opts.pollMs ?? 50);
  }
}
