import { existsSync } from 'node:fs';
import type { Resources } from '../../spec/runtime.js';
import { BerthError, withCleanupError } from '../../errors/index.js';
import type { CgroupManager, CgroupStats } from './types.js';
import type { Hierarchy } from './mounts.js';
import { applyWrite, keyValues, limitNumber, readCg, rmdirIfEmpty, signalAll, sleepMs, writeRaw } from './_fs.js';
import { checkUsage, enableControllers, killPids, killUntilEmpty, mergePids, mkdirChain, placeOf, removeDirs, type Place } from './_common.js';
import { translateV1 } from './translate-v1.js';
import { translateV2, unifiedWrite } from './translate-v2.js';
import type { CgroupWrite, Warn } from './write.js';

/** Controllers whose absence only costs a warning (rarely mounted, rarely asked for). */
const OPTIONAL_CONTROLLERS = new Set(['net_cls', 'net_prio', 'rdma']);

interface Step {
  place: Place;
  write: CgroupWrite;
  /** A write to the cgroup2 mount of a hybrid host: its controller must be enabled first. */
  v2?: boolean;
}

/**
 * cgroup v1, and the hybrid layout: one directory per v1 hierarchy (every mounted one, named
 * ones like name=systemd included), plus one in the cgroup2 mount when there is one, which is
 * where hybrid hosts keep controllers such as hugetlb.
 */
export class V1Manager implements CgroupManager {
  readonly path: string;
  readonly #places: Place[];
  readonly #unified: Place | undefined;
  readonly #warn: Warn;
  /** Parent directories this manager created, top-down: removed on destroy if empty. */
  #createdParents: string[] = [];

  constructor(path: string, hierarchies: Hierarchy[], warn: Warn) {
    this.path = path;
    this.#warn = warn;
    this.#places = hierarchies.filter((h) => h.version === 1).map((h) => placeOf(h, path));
    const u = hierarchies.find((h) => h.version === 2);
    this.#unified = u ? placeOf(u, path) : undefined;
    if (this.#places.length === 0) throw new BerthError('NOT_IMPLEMENTED', `cgroup ${path}: no cgroup v1 hierarchy is mounted`);
  }

  #all(): Place[] {
    return this.#unified ? [...this.#places, this.#unified] : this.#places;
  }

  #place(controller: string): Place | undefined {
    return this.#places.find((p) => p.hierarchy.controllers.includes(controller));
  }

  create(resources: Resources | undefined): void {
    const created: string[] = [];
    try {
      const steps = this.#plan(resources, undefined);
      for (const p of this.#all()) {
        const made = mkdirChain(p);
        created.push(...made);
        if (p.hierarchy.controllers.includes('cpuset')) this.#fillCpuset(p.dir, p.base, new Set(made));
      }
      this.#apply(steps);
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
    const leaves = new Set(this.#all().map((p) => p.dir));
    this.#createdParents = created.filter((d) => !leaves.has(d));
  }

  /**
   * A new cpuset cgroup starts with empty cpuset.cpus and cpuset.mems and no task may join it
   * until both are set (cgroup-v1/cpusets.rst, 2.1): copy them from the parent, walking up to
   * the first ancestor that has them. `fresh` dirs were just made by us: known empty, not read
   * (each cgroupfs access takes the cgroup lock that every container on the host contends for).
   */
  #fillCpuset(dir: string, base: string, fresh: Set<string>): { cpus: string; mems: string } {
    let cpus = '';
    let mems = '';
    if (!fresh.has(dir)) {
      cpus = readCg(`${dir}/cpuset.cpus`) ?? '';
      mems = readCg(`${dir}/cpuset.mems`) ?? '';
    }
    if ((cpus && mems) || dir === base) return { cpus, mems };
    const parent = this.#fillCpuset(dir.slice(0, dir.lastIndexOf('/')), base, fresh);
    if (!mems) writeRaw(`${dir}/cpuset.mems`, (mems = parent.mems));
    if (!cpus) writeRaw(`${dir}/cpuset.cpus`, (cpus = parent.cpus));
    return { cpus, mems };
  }

  #plan(resources: Resources | undefined, currentMemoryLimit: number | undefined): Step[] {
    if (!resources) return [];
    const { hugepageLimits, unified, ...rest } = resources;
    const steps: Step[] = [];
    for (const w of translateV1(rest, { currentMemoryLimit })) {
      const place = this.#place(w.controller);
      if (!place) {
        if (OPTIONAL_CONTROLLERS.has(w.controller)) {
          this.#warn(`${w.label} ignored: the ${w.controller} controller is not mounted`);
          continue;
        }
        throw new BerthError('NOT_IMPLEMENTED', `cgroup ${this.path}: set ${w.label}: the ${w.controller} controller is not mounted`);
      }
      steps.push({ place, write: w });
    }
    if (hugepageLimits?.length) {
      const v1 = this.#place('hugetlb');
      if (v1) {
        for (const w of translateV1({ hugepageLimits })) steps.push({ place: v1, write: w });
      } else if (this.#unified) {
        // Hybrid hosts bind hugetlb to the cgroup2 mount: use its v2 files there.
        for (const w of translateV2({ hugepageLimits })) steps.push({ place: this.#unified, write: w, v2: true });
      } else {
        throw new BerthError('NOT_IMPLEMENTED', `cgroup ${this.path}: hugepage limits: the hugetlb controller is not mounted`);
      }
    }
    const entries = Object.entries(unified ?? {});
    if (entries.length) {
      if (!this.#unified) {
        throw new BerthError('INVALID_ARGUMENT', `cgroup ${this.path}: "unified" resources need cgroup v2; this host has cgroup v1 only`);
      }
      for (const [file, value] of entries) steps.push({ place: this.#unified, write: unifiedWrite(file, value), v2: true });
    }
    return steps;
  }

  #apply(steps: Step[]): void {
    const v2 = steps.filter((s) => s.v2).map((s) => s.write.controller);
    if (v2.length && this.#unified) enableControllers(this.#unified.base, this.#unified.rel, v2, this.path);
    for (const s of steps) applyWrite(s.place.dir, s.write, this.path, this.#warn);
  }

  procsFiles(): string[] {
    return this.#all().map((p) => `${p.dir}/cgroup.procs`);
  }

  update(resources: Resources): void {
    try {
      let current: number | undefined;
      const mem = this.#place('memory');
      if (mem && resources.memory?.limit !== undefined) {
        const n = Number(readCg(`${mem.dir}/memory.limit_in_bytes`));
        current = n >= 2 ** 62 ? -1 : n;
        if (resources.memory.checkBeforeUpdate) {
          checkUsage(Number(readCg(`${mem.dir}/memory.usage_in_bytes`)), resources.memory.limit);
        }
      }
      this.#apply(this.#plan(resources, current));
    } catch (err) {
      throw BerthError.wrap(err, `update cgroup ${this.path}`);
    }
  }

  #freezer(action: string): Place {
    const p = this.#place('freezer');
    if (!p) throw new BerthError('NOT_IMPLEMENTED', `${action} cgroup ${this.path}: the freezer controller is not mounted`);
    return p;
  }

  /**
   * Write FROZEN and wait for the state to read FROZEN: it reads FREEZING while tasks are still
   * being stopped, and a task that forks meanwhile may need the write repeated
   * (cgroup-v1/freezer-subsystem.rst).
   */
  freeze(): void {
    const p = this.#freezer('freeze');
    const file = `${p.dir}/freezer.state`;
    try {
      writeRaw(file, 'FROZEN');
      const deadline = Date.now() + 5000;
      for (let i = 1; ; i++) {
        const state = readCg(file);
        if (state === 'FROZEN') return;
        if (Date.now() >= deadline) {
          writeRaw(file, 'THAWED');
          throw new BerthError('DEADLINE_EXCEEDED', `state still ${state} after 5 s`);
        }
        sleepMs(Math.min(i, 10));
        if (i % 10 === 0) writeRaw(file, 'FROZEN');
      }
    } catch (err) {
      throw BerthError.wrap(err, `freeze cgroup ${this.path}`);
    }
  }

  thaw(): void {
    const p = this.#freezer('thaw');
    try {
      writeRaw(`${p.dir}/freezer.state`, 'THAWED');
    } catch (err) {
      throw BerthError.wrap(err, `thaw cgroup ${this.path}`);
    }
  }

  isFrozen(): boolean {
    const p = this.#place('freezer');
    return p ? readCg(`${p.dir}/freezer.state`) === 'FROZEN' : false;
  }

  pids(): number[] {
    return mergePids(this.procsFiles());
  }

  killAll(signal: NodeJS.Signals | number): void {
    signalAll(this.pids(), signal);
    // A frozen task only acts on SIGKILL once thawed (as `runc kill -9` of a paused container).
    if ((signal === 'SIGKILL' || signal === 9) && this.isFrozen()) this.thaw();
  }

  stats(): CgroupStats {
    const mem = this.#place('memory')?.dir;
    const cpuacct = this.#place('cpuacct')?.dir;
    const cpu = this.#place('cpu')?.dir;
    const pids = this.#place('pids')?.dir;
    const oom = keyValues(mem && readCg(`${mem}/memory.oom_control`));
    const cpuStat = keyValues(cpu && readCg(`${cpu}/cpu.stat`));
    const pidsMax = pids && readCg(`${pids}/pids.max`);
    return {
      memory: {
        usage: Number(mem && readCg(`${mem}/memory.usage_in_bytes`)) || 0,
        limit: limitNumber(mem && readCg(`${mem}/memory.limit_in_bytes`)),
        maxUsage: Number(mem && readCg(`${mem}/memory.max_usage_in_bytes`)) || 0,
        oomKills: oom.get('oom_kill') ?? 0,
      },
      cpu: { usageNanos: Number(cpuacct && readCg(`${cpuacct}/cpuacct.usage`)) || 0, throttledPeriods: cpuStat.get('nr_throttled') ?? 0 },
      pids: { current: Number(pids && readCg(`${pids}/pids.current`)) || 0, limit: pidsMax === 'max' || !pidsMax ? 0 : Number(pidsMax) },
    };
  }

  destroy(): void {
    if (!this.exists()) return;
    try {
      const fr = this.#place('freezer');
      // A frozen task cannot act on SIGKILL: thaw first.
      if (fr && existsSync(fr.dir) && readCg(`${fr.dir}/freezer.state`) !== 'THAWED') writeRaw(`${fr.dir}/freezer.state`, 'THAWED');
      killUntilEmpty(this.procsFiles(), killPids, this.path);
      removeDirs(this.#all(), this.#createdParents, this.path);
    } catch (err) {
      throw BerthError.wrap(err, `destroy cgroup ${this.path}`);
    }
  }

  exists(): boolean {
    return this.#all().some((p) => p.rel !== '/' && existsSync(p.dir));
  }
}
