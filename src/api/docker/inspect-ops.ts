import { setTimeout as sleep } from 'node:timers/promises';
import { commitContainer, containerChanges, refreshContainer, sampleStats, topContainer, type StatsSample } from '../../engine/index.js';
import { BerthError } from '../../errors/index.js';
import { qbool, readJson, res, sendJson, type Ctx } from './http.js';

/** GET /containers/{id}/top?ps_args= */
export async function containerTop(ctx: Ctx): Promise<void> {
  const a = ctx.query.get('ps_args');
  const r = await topContainer(ctx.engine, ctx.params[0], a ? a.split(/\s+/).filter(Boolean) : ['-ef']);
  sendJson(ctx, 200, { Titles: r.titles, Processes: r.processes });
}

/** GET /containers/{id}/changes: moby's Kind 0 modified, 1 added, 2 deleted. */
export async function containerChangesRoute(ctx: Ctx): Promise<void> {
  const kinds = { C: 0, A: 1, D: 2 } as const;
  const list = await containerChanges(ctx.engine, ctx.params[0]);
  sendJson(ctx, 200, list.map((c) => ({ Path: c.path, Kind: kinds[c.kind] })));
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Go clients decode these counters as uint64: a fraction (jiffies * 1e7 in float) fails them. */
const u = (n: number | undefined): number => Math.max(0, Math.round(n ?? 0));

/** One moby StatsJSON from a sample (and the one before, docker's precpu_stats). */
function statsJson(name: string, id: string, cur: StatsSample | undefined, prev: StatsSample | undefined): unknown {
  const cpu = (s: StatsSample | undefined) => ({
    cpu_usage: { total_usage: u(s?.cpuNanos), usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: u(s?.systemNanos),
    online_cpus: u(s?.onlineCpus),
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    name: `/${name}`,
    id,
    read: cur ? iso(cur.read) : '0001-01-01T00:00:00Z',
    preread: prev ? iso(prev.read) : '0001-01-01T00:00:00Z',
    pids_stats: cur ? { current: u(cur.pids) } : {},
    blkio_stats: {
      io_service_bytes_recursive: cur
        ? [
            { major: 0, minor: 0, op: 'read', value: u(cur.blkRead) },
            { major: 0, minor: 0, op: 'write', value: u(cur.blkWrite) },
          ]
        : null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(cur),
    precpu_stats: cpu(prev),
    memory_stats: cur ? { usage: u(cur.memUsage), limit: u(cur.memLimit), stats: {} } : {},
    ...(cur ? { networks: { eth0: { rx_bytes: u(cur.netRx), rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: u(cur.netTx), tx_packets: 0, tx_errors: 0, tx_dropped: 0 } } } : {}),
  };
}

/**
 * GET /containers/{id}/stats?stream=&one-shot=: streamed, one object a second; stream=false
 * answers one object whose precpu_stats is a sample a second earlier (as dockerd) unless
 * one-shot. A stopped container gives zeroed stats.
 */
export async function containerStats(ctx: Ctx): Promise<void> {
  const ref = ctx.params[0];
  const q = ctx.query;
  const stream = q.has('stream') ? qbool(q, 'stream') : true;
  const sample = () => {
    const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ref));
    return { rec, s: rec.state.status === 'running' ? sampleStats(ctx.engine, rec) : undefined };
  };
  let { rec, s } = sample();
  if (!stream) {
    let prev: StatsSample | undefined;
    if (s && !qbool(q, 'one-shot')) {
      await sleep(1000);
      prev = s;
      ({ rec, s } = sample());
    }
    sendJson(ctx, 200, statsJson(rec.name, rec.id, s, prev));
    return;
  }
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': 'application/json' });
  let closed = false;
  r.on('close', () => (closed = true));
  let prev: StatsSample | undefined;
  while (!closed) {
    r.write(`${JSON.stringify(statsJson(rec.name, rec.id, s, prev))}\n`);
    await sleep(1000);
    prev = s;
    try {
      ({ rec, s } = sample());
    } catch {
      break; // removed meanwhile
    }
  }
  r.end();
}

/** POST /commit?container=&repo=&tag=&comment=&author=&pause= */
export async function commitRoute(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const ref = q.get('container');
  if (!ref) throw new BerthError('INVALID_ARGUMENT', 'container is required');
  await readJson(ctx, true); // the container config to apply: not supported, read and ignored
  const repo = q.get('repo');
  const tag = q.get('tag');
  const changes = q.getAll('changes').filter(Boolean);
  if (changes.length) throw new BerthError('INVALID_ARGUMENT', `commit: changes (${changes.join(', ')}) are not supported`);
  const r = await commitContainer(ctx.engine, ref, {
    ...(repo ? { reference: tag ? `${repo}:${tag}` : repo } : {}),
    ...(q.get('comment') ? { message: q.get('comment')! } : {}),
    ...(q.get('author') ? { author: q.get('author')! } : {}),
    pause: q.has('pause') ? qbool(q, 'pause') : true,
  });
  sendJson(ctx, 201, { Id: r.id });
}
