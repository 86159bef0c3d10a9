import { readFileSync } from 'node:fs';
import { monitorFiles, monitorPid, readExit } from '../monitor/index.js';
import type { ContainerRecord, ContainerState } from '../containers/store.js';
import type { Engine } from '../engine.js';

const LIVE = new Set(['running', 'paused', 'restarting']);

/** The pid in a pid file if that process is alive. */
export function livePid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!(pid > 0)) return undefined;
    process.kill(pid, 0);
    // a zombie counts as gone
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * The container's real status, from what is on disk rather than what the store last said: the
 * monitor's exit file (it finished), its pid file (it runs), else the init's pid (running with
 * no monitor, e.g. the monitor was SIGKILLed) or nothing (the monitor died with it: exited).
 * A changed status is written back in one transaction, so every berth command sees the same.
 */
export function refreshContainer(engine: Engine, rec: ContainerRecord): ContainerRecord {
  if (!LIVE.has(rec.state.status)) return rec;
  const dir = engine.paths(rec.id).dir;
  const exit = readExit(dir);
  let next: ContainerState | undefined;
  if (exit) {
    next = {
      ...rec.state,
      status: 'exited',
      pid: 0,
      exitCode: exit.exitCode,
      oomKilled: exit.oomKilled,
      startedAt: exit.startedAt ?? rec.state.startedAt,
      finishedAt: exit.finishedAt,
      restartCount: exit.restartCount,
      error: exit.error ?? '',
    };
  } else if (monitorPid(dir) === undefined) {
    const pid = livePid(monitorFiles(dir).containerPid);
    if (pid) {
      if (rec.state.error !== 'monitor is gone' || rec.state.pid !== pid) next = { ...rec.state, pid, error: 'monitor is gone' };
    } else {
      // look once more: the monitor writes exit before it removes its pid file
      const again = readExit(dir);
      if (again) return refreshContainer(engine, rec);
      next = { ...rec.state, status: 'exited', pid: 0, exitCode: rec.state.exitCode || 137, finishedAt: new Date().toISOString(), error: 'the container\'s monitor died' };
    }
  } else {
    const pid = livePid(monitorFiles(dir).containerPid);
    const restarts = !!rec.config.restart && rec.config.restart !== 'no';
    if (pid && (pid !== rec.state.pid || rec.state.status === 'restarting')) {
      next = { ...rec.state, pid, status: rec.state.status === 'restarting' ? 'running' : rec.state.status };
    } else if (!pid && restarts && rec.state.status === 'running') {
      // the monitor is between two runs (docker's back-off): "Restarting"
      next = { ...rec.state, status: 'restarting', pid: 0, finishedAt: new Date().toISOString() };
    }
  }
  if (!next) return rec;
  const want = next;
  let changed = false;
  const state = engine.containers.updateState(rec.id, (s) => {
    if (!LIVE.has(s.status)) return s;
    changed = s.status !== want.status;
    return want;
  });
  // the process whose transaction ended the run says so, once (docker's oom and die events)
  if (changed && state.status === 'exited') {
    if (state.oomKilled) engine.containerEvent(rec, 'oom');
    engine.containerEvent(rec, 'die', { exitCode: String(state.exitCode) });
  }
  return { ...rec, state };
}
