import { constants } from 'node:os';
import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import { disableRestart, monitorFiles, monitorPid } from '../monitor/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { livePid } from './status.js';

/** A signal by name ("TERM", "SIGTERM") or number, as docker and kill(1) take it. */
export function parseSignalName(s: string): { name: string; number: number } {
  const t = s.trim().toUpperCase();
  const sigs = constants.signals as Record<string, number>;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    const name = Object.keys(sigs).find((k) => sigs[k] === n);
    if (!name || n <= 0 || n > 64) throw new BerthError('INVALID_ARGUMENT', `invalid signal: ${s}`);
    return { name, number: n };
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  const n = sigs[name];
  if (n === undefined) throw new BerthError('INVALID_ARGUMENT', `invalid signal: ${s}`);
  return { name, number: n };
}

/** The signal's number as text, as docker puts it on kill events ("15"). */
export function signalNumber(s: string): string {
  try {
    return String(parseSignalName(s).number);
  } catch {
    return s;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Send a signal to the container's init. kill(2) from here, as `<runtime> kill` would do it,
 * without starting a runtime process: the init's pid comes from the runtime's pid file and
 * is trusted only while the monitor is its parent (so a recycled pid is never hit). With no
 * monitor (it was killed), the runtime is asked.
 */
export async function signalContainer(engine: Engine, rec: ContainerRecord, signal: string): Promise<void> {
  const sig = parseSignalName(signal);
  const dir = engine.paths(rec.id).dir;
  const mpid = monitorPid(dir);
  const pid = livePid(monitorFiles(dir).containerPid);
  if (mpid && pid && parentOf(pid) === mpid) {
    try {
      process.kill(pid, sig.number);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw BerthError.wrap(err, `kill container ${JSON.stringify(rec.name)}`);
    }
    return;
  }
  await engine.runtime(rec.config.runtime).kill(rec.id, sig.name.replace(/^SIG/, ''));
}

/** Tell the monitor not to restart after the next exit; quiet when it is already gone. */
export async function noRestart(engine: Engine, rec: ContainerRecord): Promise<void> {
  const dir = engine.paths(rec.id).dir;
  if (!rec.config.restart || rec.config.restart === 'no' || monitorPid(dir) === undefined) return;
  try {
    await disableRestart(dir, rec.name);
  } catch {
    /* it just exited */
  }
}
