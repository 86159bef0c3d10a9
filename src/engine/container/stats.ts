import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Engine } from '../engine.js';
import type { ContainerRecord } from '../containers/store.js';
import { containerCgroup } from './cgroup.js';
import { refreshContainer } from './status.js';

/** One sample of a container's usage (docker's stats, the fields its table shows). */
export interface StatsSample {
  id: string;
  name: string;
  /** Time of the sample (ms since epoch). */
  read: number;
  cpuNanos: number;
  /** Host CPU time of all CPUs (ns, from /proc/stat) at the same moment: docker's system_cpu_usage. */
  systemNanos: number;
  onlineCpus: number;
  memUsage: number;
  memLimit: number;
  pids: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
}

/** Bytes read and written by the cgroup: v1 blkio.throttle.io_service_bytes_recursive, v2 io.stat. */
function blockIo(cgroupPath: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  try {
    const text = readFileSync(`/sys/fs/cgroup/blkio${cgroupPath}/blkio.throttle.io_service_bytes_recursive`, 'utf8');
    for (const m of text.matchAll(/^\d+:\d+ (Read|Write) (\d+)$/gm)) m[1] === 'Read' ? (read += Number(m[2])) : (write += Number(m[2]));
    return { read, write };
  } catch {
    /* not v1 */
  }
  try {
    const text = readFileSync(`/sys/fs/cgroup${cgroupPath}/io.stat`, 'utf8');
    for (const m of text.matchAll(/rbytes=(\d+)/g)) read += Number(m[1]);
    for (const m of text.matchAll(/wbytes=(\d+)/g)) write += Number(m[1]);
  } catch {
    /* no io controller */
  }
  return { read, write };
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) is 100 on Linux

function systemCpuNanos(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0);
  return (ticks / CLK_TCK) * 1e9;
}

/** Bytes received and sent on the container's interfaces but lo (/proc/PID/net/dev, its netns). */
function netIo(pid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m || m[1] === 'lo') continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      rx += f[0];
      tx += f[8];
    }
  } catch {
    /* gone */
  }
  return { rx, tx };
}

/** One sample from the container's cgroup; undefined when it is not running. */
export function sampleStats(engine: Engine, rec: ContainerRecord): StatsSample | undefined {
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') return undefined;
  const cg = containerCgroup(engine, rec);
  if (!cg.exists()) return undefined;
  const s = cg.stats();
  const pid = rec.state.pid || cg.pids()[0] || 0;
  const net = pid ? netIo(pid) : { rx: 0, tx: 0 };
  const blk = blockIo(cg.path);
  // an unlimited cgroup reports a huge limit: docker shows the host's memory then
  const hostMem = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  return {
    id: rec.id,
    name: rec.name,
    read: Date.now(),
    cpuNanos: s.cpu.usageNanos,
    systemNanos: systemCpuNanos(),
    onlineCpus: cpus().length,
    memUsage: s.memory.usage,
    memLimit: s.memory.limit > 0 && s.memory.limit < hostMem ? s.memory.limit : hostMem,
    pids: s.pids.current,
    netRx: net.rx,
    netTx: net.tx,
    blkRead: blk.read,
    blkWrite: blk.write,
  };
}

/** docker's CPU %: the container's share of the host's CPU time between two samples, times the CPUs. */
export function cpuPercent(prev: StatsSample | undefined, cur: StatsSample): number {
  if (!prev) return 0;
  const c = cur.cpuNanos - prev.cpuNanos;
  const s = cur.systemNanos - prev.systemNanos;
  return s > 0 && c > 0 ? (c / s) * cur.onlineCpus * 100 : 0;
}

/** Samples of the named containers (all running ones without names), refreshed. */
export function statsOf(engine: Engine, refs: string[]): (StatsSample | { id: string; name: string; stopped: true })[] {
  const recs = refs.length ? refs.map((r) => engine.containers.find(r)) : engine.containers.list().filter((c) => c.state.status === 'running');
  return recs.map((r) => {
    const rec = refreshContainer(engine, r);
    return sampleStats(engine, rec) ?? { id: rec.id, name: rec.name, stopped: true as const };
  });
}
