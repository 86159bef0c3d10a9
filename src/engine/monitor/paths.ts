import { join } from 'node:path';

/** Files the monitor keeps in its state dir (docs/monitor.md). */
export function monitorFiles(stateDir: string) {
  return {
    attach: join(stateDir, 'attach.sock'),
    console: join(stateDir, 'console.sock'),
    exit: join(stateDir, 'exit'),
    monitorPid: join(stateDir, 'monitor.pid'),
    containerPid: join(stateDir, 'container.pid'),
    runtimeLog: join(stateDir, 'runtime.log'),
  };
}
