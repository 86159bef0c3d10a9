import { StateRoot } from './container-state.js';
import { openCgroups } from '../sys/cgroup/index.js';
import type { CgroupManager } from '../sys/cgroup/index.js';
import type { ContainerRecord } from './container-state.js';

/** What every runtime operation needs: the state root and a place for warnings. */
export interface RuntimeContext {
  root: StateRoot;
  warn: (message: string) => void;
}

export function newRuntimeContext(rootDir: string, warn: (m: string) => void = () => {}): RuntimeContext {
  return { root: new StateRoot(rootDir), warn };
}

export function cgroupOf(rec: ContainerRecord): CgroupManager {
  return openCgroups(rec.cgroupPath);
}
