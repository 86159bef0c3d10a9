import { existsSync } from 'node:fs';
import type { Resources } from '../../spec/runtime.js';
import { BerthError, withCleanupError } from '../../errors/index.js';
import type { CgroupManager, CgroupStats } from './types.js';
import type { Hierarchy } from './mounts.js';
import { applyWrite, keyValues, limitNumber, readCg, rmdirIfEmpty, signalAll, sleepMs, writeRaw } from './_fs.js';
import { checkUsage, enableControllers, killPids, killUntilEmpty, mergePids, mkdirChain, placeOf, removeDirs, type Place } from './_common.js';
import { checkDevicesV2, translateV2 } from './translate-v2.js';
import { deviceProgram } from './devices-bpf.js';
import { cgroupBpf } from './_bpf.js';
import type { DeviceCgroup } from '../../spec/runtime.js';
import type { Warn } from './write.js';

/** cgroup v2 (the unified hierarchy): one directory, controllers enabled top-down. */
export class V2Manager implements CgroupManager {
  readonly path: string;
  readonly #place: Place;
  readonly #warn: Warn;
  #createdParents: string[] = [];

  constructor(path: string, hierarchy: Hierarchy, warn: Warn) {
    this.path = path;
    this.#warn = warn;
    this.#place = placeOf(hierarchy, path);
    if (this.#place.rel === '/') throw new BerthError('INVALID_ARGUMENT', `cgroup path ${JSON.stringify(path)}: the root cgroup cannot be managed`);
  }

  get #dir(): string {
    return this.#place.dir;
  }

  create(resources: Resources | undefined): void {
    let created: string[] = [];
    try {
      const writes = translateV2(resources, this.#warn);
      created = mkdirChain(this.#place);
      // Enabling in the parent after the mkdir is fine: the files appear in existing children.
      enableControllers(this.#place.base, this.#place.rel, writes.map((w) => w.controller), this.path);
      for (const w of writes) applyWrite(this.#dir, w, this.path, this.#warn);
      if (resources?.devices) this.#setDevices(resources.devices);
    } catch (err) {
      let e = BerthError.wrap(err, `create cgroup ${this.path}`);
      for (const d of created.reverse()) {
        try {
          rmdirIfEmpty(d);
        } catch (cleanupErr) {
          e = withCleanupError(e, cleanupErr);
        }
      }
      throw e;
    }
    this.#createdParents = created.filter((d) => d !== this.#dir);
  }

  /**
   * Attach the device program for `rules` (replacing the one there). Without the addon, or
   * where bpf(2) is refused (no CAP_BPF/CAP_SYS_ADMIN), only the default rules, which a
   * container's own /dev already implies, are accepted; anything else fails.
   */
  #setDevices(rules: DeviceCgroup[]): void {
    const prog = deviceProgram(rules);
    const bpf = cgroupBpf();
    if (bpf) {
      try {
        bpf.attachDeviceProgram(this.#dir, prog);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') {
          throw BerthError.wrap(err, `set device rules on ${this.path}`);
        }
        checkDevicesV2(rules);
        this.#warn(`device rules on ${this.path} not enforced: ${(err as Error).message}`);
        return;
      }
    }
    checkDevicesV2(rules);
  }

  procsFiles(): string[] {
    return [`${this.#dir}/cgroup.procs`];
  }

  update(resources: Resources): void {
    try {
      const writes = translateV2(resources, this.#warn);
      if (resources.memory?.checkBeforeUpdate && resources.memory.limit !== undefined) {
        checkUsage(Number(readCg(`${this.#dir}/memory.current`)), resources.memory.limit);
      }
      enableControllers(this.#place.base, this.#place.rel, writes.map((w) => w.controller), this.path);
      for (const w of writes) applyWrite(this.#dir, w, this.path, this.#warn);
      if (resources.devices) this.#setDevices(resources.devices);
    } catch (err) {
      throw BerthError.wrap(err, `update cgroup ${this.path}`);
    }
  }

  /** cgroup.freeze (Linux 5.2+); done when cgroup.events says "frozen 1" (cgroup-v2.rst). */
  freeze(): void {
    try {
      this.#writeFreeze('1');
      const deadline = Date.now() + 5000;
      for (let i = 1; !this.isFrozen(); i++) {
        if (Date.now() >= deadline) {
          this.#writeFreeze('0');
          throw new BerthError('DEADLINE_EXCEEDED', 'not frozen after 5 s');
        }
        sleepMs(Math.min(i, 10));
      }
    } catch (err) {
      throw BerthError.wrap(err, `freeze cgroup ${this.path}`);
    }
  }

  thaw(): void {
    try {
      this.#writeFreeze('0');
    } catch (err) {
      throw BerthError.wrap(err, `thaw cgroup ${this.path}`);
    }
  }

  #writeFreeze(v: string): void {
    const file = `${this.#dir}/cgroup.freeze`;
    if (!existsSync(file)) throw new BerthError('NOT_IMPLEMENTED', 'this kernel has no cgroup.freeze (Linux 5.2+)');
    writeRaw(file, v);
  }

  isFrozen(): boolean {
    return keyValues(readCg(`${this.#dir}/cgroup.events`)).get('frozen') === 1;
  }

  pids(): number[] {
    return mergePids(this.procsFiles());
  }

  killAll(signal: NodeJS.Signals | number): void {
    if ((signal === 'SIGKILL' || signal === 9) && this.#cgroupKill()) return;
    signalAll(this.pids(), signal);
  }

  /** cgroup.kill (Linux 5.14+) kills the whole subtree at once, forks in flight included. */
  #cgroupKill(): boolean {
    try {
      writeRaw(`${this.#dir}/cgroup.kill`, '1');
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  stats(): CgroupStats {
    const d = this.#dir;
    const events = keyValues(readCg(`${d}/memory.events`));
    const cpu = keyValues(readCg(`${d}/cpu.stat`));
    const pidsMax = readCg(`${d}/pids.max`);
    return {
      memory: {
        usage: Number(readCg(`${d}/memory.current`)) || 0,
        limit: limitNumber(readCg(`${d}/memory.max`)),
        maxUsage: Number(readCg(`${d}/memory.peak`)) || 0,
        oomKills: events.get('oom_kill') ?? 0,
      },
      cpu: { usageNanos: (cpu.get('usage_usec') ?? 0) * 1000, throttledPeriods: cpu.get('nr_throttled') ?? 0 },
      pids: { current: Number(readCg(`${d}/pids.current`)) || 0, limit: pidsMax === 'max' || !pidsMax ? 0 : Number(pidsMax) },
    };
  }

  destroy(): void {
    if (!this.exists()) return;
    try {
      if (readCg(`${this.#dir}/cgroup.freeze`) === '1') writeRaw(`${this.#dir}/cgroup.freeze`, '0');
      killUntilEmpty(this.procsFiles(), (pids) => (this.#cgroupKill() ? undefined : killPids(pids)), this.path);
      removeDirs([this.#place], this.#createdParents, this.path);
    } catch (err) {
      throw BerthError.wrap(err, `destroy cgroup ${this.path}`);
    }
  }

  exists(): boolean {
    return existsSync(this.#dir);
  }
}
