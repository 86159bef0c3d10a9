import type { BlockIO, Cpu, DeviceCgroup, Memory, Resources } from '../../spec/runtime.js';
import { BerthError } from '../../errors/index.js';
import { controllerOfV2File, write, type CgroupWrite, type Warn } from './write.js';
import { pageSize, pidsMax, rdma } from './translate-v1.js';

/**
 * OCI `linux.resources` -> cgroup v2 file writes (Documentation/admin-guide/cgroup-v2.rst), in
 * order, `unified` entries last so that they override the translated values. Device rules
 * are no files on v2: the manager attaches an eBPF program (devices-bpf.ts) for them.
 */
export function translateV2(resources: Resources | undefined, warn: Warn = () => {}): CgroupWrite[] {
  if (!resources) return [];
  const out: CgroupWrite[] = [];
  if (resources.memory) memoryV2(resources.memory, warn, out);
  if (resources.cpu) cpuV2(resources.cpu, out);
  if (resources.pids) out.push(write('pids', 'pids.max', pidsMax(resources.pids.limit), 'pids limit'));
  if (resources.blockIO) ioV2(resources.blockIO, warn, out);
  for (const h of resources.hugepageLimits ?? []) {
    out.push(write('hugetlb', `hugetlb.${pageSize(h.pageSize)}.max`, h.limit, `hugetlb ${h.pageSize} limit`));
  }
  if (resources.network?.classID !== undefined || resources.network?.priorities?.length) {
    warn('network classID/priorities ignored: cgroup v2 has no net_cls/net_prio controllers');
  }
  for (const [hca, r] of Object.entries(resources.rdma ?? {})) out.push(rdma(hca, r));
  for (const [file, value] of Object.entries(resources.unified ?? {})) out.push(unifiedWrite(file, value));
  return out;
}

function memoryV2(m: Memory, warn: Warn, out: CgroupWrite[]): void {
  if (m.limit !== undefined) out.push(write('memory', 'memory.max', maxOrNumber(m.limit), 'memory limit'));
  const swap = swapMaxV2(m.swap, m.limit);
  if (swap !== undefined) {
    out.push(write('memory', 'memory.swap.max', swap, 'swap limit', { ifMissing: swap === 'max' ? 'ignore' : 'warn' }));
  }
  if (m.reservation !== undefined) out.push(write('memory', 'memory.low', maxOrNumber(m.reservation), 'memory reservation'));
  if (m.kernel !== undefined || m.kernelTCP !== undefined) warn('kernel memory limits ignored: cgroup v2 accounts kernel memory in memory.max');
  if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) {
    warn('memory swappiness ignored: cgroup v2 has no per-cgroup swappiness');
  }
  if (m.disableOOMKiller) warn('disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer per cgroup');
}

/**
 * OCI `swap` is memory+swap (the v1 memsw meaning); v2's memory.swap.max is swap alone, so it
 * is swap - limit. -1 is unlimited; 0 is "unset"; unlimited memory with swap unset means
 * unlimited swap too (the same rules runc and crun follow). Undefined: write nothing.
 */
export function swapMaxV2(swap: number | undefined, limit: number | undefined): string | undefined {
  if (limit === -1 && (swap === undefined || swap === 0)) return 'max';
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit === -1 || limit === 0) {
    throw new BerthError('INVALID_ARGUMENT', `memory swap ${swap}: a swap limit needs a memory limit on cgroup v2`);
  }
  if (swap < limit) {
    throw new BerthError('INVALID_ARGUMENT', `memory swap ${swap}: memory+swap must be at least the memory limit ${limit}`);
  }
  return String(swap - limit);
}

function maxOrNumber(n: number): string {
  return n < 0 ? 'max' : String(n);
}

/**
 * cpu.shares (2..262144, default 1024) -> cpu.weight (1..10000, default 100) with the
 * log-quadratic mapping that runc (>= 1.3.2) and crun (>= 1.23) use, so that the default
 * 1024 maps to the default 100. 0 means unset.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight (10..1000) -> io.weight (1..10000), linearly, as runc does. */
export function blkioToIoWeight(weight: number): number {
  if (weight <= 0) return 0;
  return 1 + Math.floor(((Math.max(weight, 10) - 10) * 9999) / 990);
}

function cpuV2(c: Cpu, out: CgroupWrite[]): void {
  if (c.shares !== undefined && c.shares !== 0) out.push(write('cpu', 'cpu.weight', sharesToWeight(c.shares), 'cpu weight'));
  const quota = c.quota !== undefined && c.quota !== 0 ? c.quota : undefined;
  const period = c.period !== undefined && c.period !== 0 ? c.period : undefined;
  if (quota !== undefined || period !== undefined) {
    // "$MAX $PERIOD"; the period may be left out to keep the current one.
    const max = quota !== undefined && quota > 0 ? String(quota) : 'max';
    out.push(write('cpu', 'cpu.max', period !== undefined ? `${max} ${period}` : max, 'cpu quota'));
  }
  if (c.burst !== undefined) out.push(write('cpu', 'cpu.max.burst', c.burst, 'cpu burst'));
  if (c.realtimeRuntime || c.realtimePeriod) {
    throw new BerthError('NOT_IMPLEMENTED', 'realtime cpu limits: cgroup v2 has no cpu.rt_* files');
  }
  if (c.idle !== undefined) out.push(write('cpu', 'cpu.idle', c.idle, 'cpu idle'));
  if (c.mems) out.push(write('cpuset', 'cpuset.mems', c.mems, 'cpuset mems'));
  if (c.cpus) out.push(write('cpuset', 'cpuset.cpus', c.cpus, 'cpuset cpus'));
}

function ioV2(b: BlockIO, warn: Warn, out: CgroupWrite[]): void {
  // BFQ's io.bfq.weight takes the v1 range as is; io.weight (blk-iocost) needs the conversion.
  if (b.weight !== undefined && b.weight !== 0) {
    out.push(
      write('io', 'io.bfq.weight', b.weight, 'block io weight', {
        alternatives: [{ file: 'io.weight', value: String(blkioToIoWeight(b.weight)) }],
      }),
    );
  }
  if (b.leafWeight !== undefined) warn('block io leaf weight ignored: cgroup v2 has no leaf weights');
  for (const d of b.weightDevice ?? []) {
    const dev = `${d.major}:${d.minor}`;
    if (d.weight === undefined) continue;
    out.push(
      write('io', 'io.bfq.weight', `${dev} ${d.weight}`, `block io weight of ${dev}`, {
        alternatives: [{ file: 'io.weight', value: `${dev} ${blkioToIoWeight(d.weight)}` }],
      }),
    );
  }
  const throttles: [keyof BlockIO, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  for (const [key, name] of throttles) {
    for (const d of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []) {
      // One line per key: the kernel merges keys of the same device (0 = no limit = "max").
      const dev = `${d.major}:${d.minor}`;
      out.push(write('io', 'io.max', `${dev} ${name}=${d.rate > 0 ? d.rate : 'max'}`, `${name} limit of ${dev}`));
    }
  }
}

/** A `unified` entry: any v2 interface file of this cgroup, never a path elsewhere. */
export function unifiedWrite(file: string, value: string): CgroupWrite {
  if (!/^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(file) || file.includes('..')) {
    throw new BerthError('INVALID_ARGUMENT', `unified resource ${JSON.stringify(file)}: not a cgroup v2 interface file name`);
  }
  return write(controllerOfV2File(file), file, value, `unified ${file}`);
}

/**
 * Device rules every runtime puts in a default spec: deny everything, then allow mknod of any
 * device and the standard character devices (null, zero, full, tty, random, urandom, console,
 * ptmx, pts, tun). These are what a container gets anyway from its /dev (a tmpfs holding only
 * these nodes), so on v2 they are accepted without a BPF program.
 */
const DEFAULT_ALLOWED: readonly string[] = [
  'c *:* m', 'b *:* m', 'c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*', 'c 10:200',
];

export function isDefaultDeviceRule(rule: DeviceCgroup): boolean {
  const type = rule.type ?? 'a';
  const n = (x: number | null | undefined): string => (x === undefined || x === null || x === -1 ? '*' : String(x));
  if (!rule.allow) return type === 'a';
  if (type === 'a') return true; // allow everything: what v2 does with no program
  const dev = `${type} ${n(rule.major)}:${n(rule.minor)}`;
  const access = rule.access || 'rwm';
  return DEFAULT_ALLOWED.some((d) => d === dev || (d === `${dev} m` && access === 'm'));
}

/**
 * Devices on cgroup v2 are controlled by a BPF_PROG_TYPE_CGROUP_DEVICE program. Where it cannot
 * be attached (the native addon was not built, or bpf(2) is refused), default rules pass (see
 * DEFAULT_ALLOWED) and anything else fails loudly rather than being silently unenforced.
 */
export function checkDevicesV2(rules: DeviceCgroup[] | undefined): void {
  for (const rule of rules ?? []) {
    if (!isDefaultDeviceRule(rule)) {
      const what = `${rule.allow ? 'allow' : 'deny'} ${rule.type ?? 'a'} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access || 'rwm'}`;
      throw new BerthError(
        'NOT_IMPLEMENTED',
        `device rule "${what}": cgroup v2 device rules need an eBPF program, which could not be attached here`,
      );
    }
  }
}
