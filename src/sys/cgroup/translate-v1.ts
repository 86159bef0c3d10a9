import type { BlockIO, Cpu, DeviceCgroup, Memory, Resources } from '../../spec/runtime.js';
import { BerthError } from '../../errors/index.js';
import { write, type CgroupWrite } from './write.js';

export interface V1TranslateOptions {
  /**
   * The cgroup's current memory.limit_in_bytes (-1 or undefined: unlimited). The kernel keeps
   * memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every moment, so raising both must
   * write memsw first and lowering both must write the limit first (memory.txt, "memsw").
   */
  currentMemoryLimit?: number;
}

/**
 * OCI `linux.resources` -> cgroup v1 file writes, in the order they must happen. Hugetlb pages
 * are included as v1 files; a hybrid manager reroutes them to the cgroup2 mount. `unified` is
 * not a v1 concept and is left to the manager.
 */
export function translateV1(resources: Resources | undefined, opts: V1TranslateOptions = {}): CgroupWrite[] {
  if (!resources) return [];
  const out: CgroupWrite[] = [];
  if (resources.memory) memoryV1(resources.memory, opts, out);
  if (resources.cpu) cpuV1(resources.cpu, out);
  if (resources.pids) out.push(write('pids', 'pids.max', pidsMax(resources.pids.limit), 'pids limit'));
  if (resources.blockIO) blkioV1(resources.blockIO, out);
  for (const h of resources.hugepageLimits ?? []) {
    out.push(write('hugetlb', `hugetlb.${pageSize(h.pageSize)}.limit_in_bytes`, h.limit, `hugetlb ${h.pageSize} limit`));
  }
  if (resources.network?.classID !== undefined) {
    out.push(write('net_cls', 'net_cls.classid', resources.network.classID, 'network class id'));
  }
  for (const p of resources.network?.priorities ?? []) {
    out.push(write('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network priority of ${p.name}`));
  }
  for (const [hca, r] of Object.entries(resources.rdma ?? {})) out.push(rdma(hca, r));
  for (const rule of resources.devices ?? []) out.push(deviceRuleV1(rule));
  return out;
}

function memoryV1(m: Memory, opts: V1TranslateOptions, out: CgroupWrite[]): void {
  const limit = m.limit !== undefined ? write('memory', 'memory.limit_in_bytes', m.limit, 'memory limit') : undefined;
  let swap = m.swap;
  // Unlimited memory with swap unset means "both unlimited", else a lower memsw would make
  // the kernel refuse the new limit (runc does the same).
  if (m.limit === -1 && swap === undefined) swap = -1;
  const memsw =
    swap !== undefined && swap !== 0
      ? write('memory', 'memory.memsw.limit_in_bytes', swap, 'memory+swap limit', {
          // Without swap accounting (CONFIG_MEMCG_SWAP off, swapaccount=0) the file is absent.
          ifMissing: swap === -1 ? 'ignore' : 'warn',
        })
      : undefined;
  if (limit && memsw && raises(m.limit!, opts.currentMemoryLimit)) out.push(memsw, limit);
  else {
    if (limit) out.push(limit);
    if (memsw) out.push(memsw);
  }
  if (m.reservation !== undefined) out.push(write('memory', 'memory.soft_limit_in_bytes', m.reservation, 'memory reservation'));
  // kmem limits are deprecated (a no-op since Linux 5.16, files gone in 6.x without
  // CONFIG_MEMCG_V1 kmem): honour them where the kernel still has them, warn otherwise.
  if (m.kernel !== undefined) {
    out.push(write('memory', 'memory.kmem.limit_in_bytes', m.kernel, 'kernel memory limit', { ifMissing: 'warn' }));
  }
  if (m.kernelTCP !== undefined) {
    out.push(write('memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, 'kernel TCP memory limit', { ifMissing: 'warn' }));
  }
  if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 2 ** 53) {
    if (m.swappiness > 100) {
      throw new BerthError('INVALID_ARGUMENT', `memory swappiness ${m.swappiness}: must be 0-100`);
    }
    out.push(write('memory', 'memory.swappiness', m.swappiness, 'memory swappiness'));
  }
  if (m.disableOOMKiller !== undefined) {
    out.push(write('memory', 'memory.oom_control', m.disableOOMKiller ? 1 : 0, 'OOM killer switch'));
  }
  if (m.useHierarchy) out.push(write('memory', 'memory.use_hierarchy', 1, 'memory hierarchy'));
}

/** Whether `next` is above `current` (-1 and undefined are unlimited). */
function raises(next: number, current: number | undefined): boolean {
  if (next === -1) return current !== undefined && current !== -1;
  if (current === undefined || current === -1) return false;
  return next > current;
}

function cpuV1(c: Cpu, out: CgroupWrite[]): void {
  if (c.shares !== undefined && c.shares !== 0) out.push(write('cpu', 'cpu.shares', c.shares, 'cpu shares'));
  // Period before quota: the kernel checks quota/period against the parent on each write.
  // 0 means "unset" for both (the kernel rejects a 0 quota or period), as in runc.
  if (c.period !== undefined && c.period !== 0) out.push(write('cpu', 'cpu.cfs_period_us', c.period, 'cpu period'));
  if (c.quota !== undefined && c.quota !== 0) out.push(write('cpu', 'cpu.cfs_quota_us', c.quota, 'cpu quota'));
  if (c.burst !== undefined) out.push(write('cpu', 'cpu.cfs_burst_us', c.burst, 'cpu burst'));
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) {
    out.push(write('cpu', 'cpu.rt_period_us', c.realtimePeriod, 'realtime period'));
  }
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) {
    out.push(write('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, 'realtime runtime'));
  }
  if (c.idle !== undefined) out.push(write('cpu', 'cpu.idle', c.idle, 'cpu idle'));
  if (c.mems) out.push(write('cpuset', 'cpuset.mems', c.mems, 'cpuset mems'));
  if (c.cpus) out.push(write('cpuset', 'cpuset.cpus', c.cpus, 'cpuset cpus'));
}

function blkioV1(b: BlockIO, out: CgroupWrite[]): void {
  // Only BFQ is left in current kernels (CFQ went in 5.0): fall back to its files.
  if (b.weight !== undefined) {
    out.push(
      write('blkio', 'blkio.weight', b.weight, 'block io weight', {
        alternatives: [{ file: 'blkio.bfq.weight', value: String(b.weight) }],
      }),
    );
  }
  if (b.leafWeight !== undefined) {
    out.push(write('blkio', 'blkio.leaf_weight', b.leafWeight, 'block io leaf weight', { ifMissing: 'warn' }));
  }
  for (const d of b.weightDevice ?? []) {
    const dev = `${d.major}:${d.minor}`;
    if (d.weight !== undefined) {
      const v = `${dev} ${d.weight}`;
      out.push(
        write('blkio', 'blkio.weight_device', v, `block io weight of ${dev}`, {
          alternatives: [{ file: 'blkio.bfq.weight_device', value: v }],
        }),
      );
    }
    if (d.leafWeight !== undefined) {
      out.push(write('blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, `block io leaf weight of ${dev}`, { ifMissing: 'warn' }));
    }
  }
  const throttles: [keyof BlockIO, string, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'read bps'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'write bps'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'read iops'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'write iops'],
  ];
  for (const [key, file, what] of throttles) {
    for (const d of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []) {
      out.push(write('blkio', file, `${d.major}:${d.minor} ${d.rate}`, `${what} limit of ${d.major}:${d.minor}`));
    }
  }
}

/** -1 and 0 both mean "no limit" in the runtime spec (0 because an unset int64 is 0). */
export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

/** OCI page sizes are "2MB", "1GB", "64KB": the same spelling the kernel's file names use. */
export function pageSize(size: string): string {
  if (!/^[1-9][0-9]*[KMG]B$/.test(size)) {
    throw new BerthError('INVALID_ARGUMENT', `hugepage size ${JSON.stringify(size)}: expected e.g. "2MB" or "1GB"`);
  }
  return size;
}

export function rdma(hca: string, r: { hcaHandles?: number; hcaObjects?: number }): CgroupWrite {
  const parts = [hca];
  if (r.hcaHandles !== undefined) parts.push(`hca_handle=${r.hcaHandles}`);
  if (r.hcaObjects !== undefined) parts.push(`hca_object=${r.hcaObjects}`);
  return write('rdma', 'rdma.max', parts.join(' '), `rdma limit of ${hca}`);
}

/** One OCI device rule as a devices.allow/devices.deny line ("c 1:3 rwm"; null -> "*"). */
export function deviceRuleV1(rule: DeviceCgroup): CgroupWrite {
  return write('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceLine(rule), `device rule`);
}

export function deviceLine(rule: DeviceCgroup): string {
  const type = rule.type ?? 'a';
  const access = rule.access || 'rwm';
  if (!/^[rwm]+$/.test(access)) throw new BerthError('INVALID_ARGUMENT', `device rule access ${JSON.stringify(access)}: expected letters of "rwm"`);
  // "a" means every device with every access; the kernel ignores anything after it.
  if (type === 'a') return 'a';
  const num = (n: number | null | undefined): string => (n === undefined || n === null || n === -1 ? '*' : String(n));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}
