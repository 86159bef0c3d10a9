import { BerthError, isBerthError } from '../../errors/index.js';
import {
  containerView,
  createContainer,
  killContainer,
  listContainers,
  pauseContainer,
  portSummary,
  refreshContainer,
  removeContainer,
  renameContainer,
  restartContainer,
  startContainer,
  statusText,
  stopContainer,
  unpauseContainer,
  updateContainer,
  waitStopped,
  type ContainerRecord,
  type Engine,
  type NetworkSettings,
  type UpdateRequest,
} from '../../engine/index.js';
import { runConfigFromBody } from './container-config.js';
import { checkFields, qbool, qfilters, qint, readJson, res, sendEmpty, sendJson, unixSeconds, type Ctx } from './http.js';
import type { DaemonState } from './state.js';

const LIVE = new Set(['running', 'paused', 'restarting']);

/** POST /containers/create?name= */
export async function containerCreate(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const name = ctx.query.get('name') || undefined;
  const platform = ctx.query.get('platform') || undefined;
  const config = runConfigFromBody(body, { ...(name ? { name } : {}), hasNetwork: !!ctx.engine.network, ...(platform ? { platform } : {}) });
  let rec: ContainerRecord;
  try {
    // the client pulls (POST /images/create) after a 404, as it does with dockerd
    rec = await createContainer(ctx.engine, { config, pull: 'never', ...(platform ? { platform } : {}) });
  } catch (err) {
    if (isBerthError(err, 'NOT_FOUND') && /No such image/.test(err.message)) throw new BerthError('NOT_FOUND', `No such image: ${config.image}`);
    throw err;
  }
  sendJson(ctx, 201, { Id: rec.id, Warnings: [] });
}

/** The list entry of one container (GET /containers/json). */
function summary(engine: Engine, rec: ContainerRecord) {
  const c = rec.config;
  const argv = [...(c.entrypoint ?? []), ...(c.cmd ?? [])];
  const v = containerView(engine, rec) as { Mounts: unknown[]; HostConfig: { NetworkMode: string }; NetworkSettings: NetworkSettings };
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: argv.join(' '),
    Created: unixSeconds(rec.created),
    Ports: portSummary(engine, rec),
    Labels: rec.labels,
    State: rec.state.status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: v.HostConfig.NetworkMode },
    NetworkSettings: { Networks: v.NetworkSettings.Networks },
    Mounts: v.Mounts,
  };
}

/** GET /containers/json?all=&filters=&limit= */
export async function containerList(ctx: Ctx): Promise<void> {
  const filters = qfilters(ctx.query).filter((f) => !f.startsWith('before=') && !f.startsWith('since='));
  let list = await listContainers(ctx.engine, { all: qbool(ctx.query, 'all'), filters });
  const limit = qint(ctx.query, 'limit');
  if (limit !== undefined && limit > 0) list = list.slice(0, limit);
  sendJson(ctx, 200, list.map((r) => summary(ctx.engine, r)));
}

/** GET /containers/{id}/json */
export function containerInspect(ctx: Ctx): void {
  const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  const v = containerView(ctx.engine, rec) as Record<string, unknown> & { Config: Record<string, unknown> };
  sendJson(ctx, 200, {
    ...v,
    Config: { AttachStdin: false, AttachStdout: false, AttachStderr: false, ExposedPorts: null, StdinOnce: false, Volumes: null, OnBuild: null, ...v.Config },
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
  });
}

/**
 * After a start through the API: the daemon watches a `--rm` container and removes it
 * once it exits (dockerd's AutoRemove), keeping its exit code for `wait?condition=removed`.
 */
export function watchExit(engine: Engine, daemon: DaemonState, rec: ContainerRecord): void {
  void (async () => {
    try {
      const done = await waitStopped(engine, rec.id, { pollMs: 50 });
      if (!done) return;
      if (!rec.config.autoRemove) return;
      daemon.removedExit.set(rec.id, done.state.exitCode);
      setTimeout(() => daemon.removedExit.delete(rec.id), 60_000).unref();
      await removeContainer(engine, rec.id, { force: true, volumes: true });
    } catch {
      /* removed meanwhile by someone else */
    }
  })();
}

/** POST /containers/{id}/start */
export async function containerStart(ctx: Ctx): Promise<void> {
  const rec0 = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  if (rec0.state.status === 'running') return sendEmpty(ctx, 304);
  const pending = ctx.daemon.pendingAttach.get(rec0.id)?.shift();
  if (!ctx.daemon.pendingAttach.get(rec0.id)?.length) ctx.daemon.pendingAttach.delete(rec0.id);
  if (pending) {
    const { attach, container } = await startContainer(ctx.engine, rec0.id, { attach: true });
    pending.deliver(attach!);
    watchExit(ctx.engine, ctx.daemon, container);
  } else {
    const { container } = await startContainer(ctx.engine, rec0.id);
    watchExit(ctx.engine, ctx.daemon, container);
  }
  sendEmpty(ctx);
}

/** POST /containers/{id}/stop?t=&signal= */
export async function containerStop(ctx: Ctx): Promise<void> {
  const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  if (!LIVE.has(rec.state.status)) return sendEmpty(ctx, 304);
  const t = qint(ctx.query, 't');
  const signal = ctx.query.get('signal') || undefined;
  await stopContainer(ctx.engine, rec.id, { ...(t !== undefined ? { timeout: t } : {}), ...(signal ? { signal } : {}) });
  sendEmpty(ctx);
}

/** POST /containers/{id}/restart?t= */
export async function containerRestart(ctx: Ctx): Promise<void> {
  const t = qint(ctx.query, 't');
  const id = await restartContainer(ctx.engine, ctx.params[0], { ...(t !== undefined ? { timeout: t } : {}) });
  const rec = ctx.engine.containers.find(id);
  watchExit(ctx.engine, ctx.daemon, rec);
  sendEmpty(ctx);
}

/** POST /containers/{id}/kill?signal= */
export async function containerKill(ctx: Ctx): Promise<void> {
  const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  if (!LIVE.has(rec.state.status)) throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  const signal = ctx.query.get('signal') || 'KILL';
  await killContainer(ctx.engine, rec.id, signal);
  sendEmpty(ctx);
}

/**
 * POST /containers/{id}/wait?condition=: not-running (default) answers at once for a stopped
 * container; next-exit waits for an exit after this request; removed waits for removal.
 * Headers go out before waiting: `docker run` sends start only after its wait is accepted.
 */
export async function containerWait(ctx: Ctx): Promise<void> {
  const cond = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new BerthError('INVALID_ARGUMENT', `invalid condition: ${JSON.stringify(cond)}`);
  const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  const first = rec.state.finishedAt;
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': 'application/json' });
  r.flushHeaders();
  const ac = new AbortController();
  r.on('close', () => ac.abort());
  let code = rec.state.exitCode;
  let error: string | undefined;
  try {
    for (;;) {
      const cur = ctx.engine.containers.tryFind(rec.id);
      if (!cur) {
        code = ctx.daemon.removedExit.get(rec.id) ?? code;
        break;
      }
      const s = refreshContainer(ctx.engine, cur).state;
      code = s.exitCode;
      const stopped = !LIVE.has(s.status);
      if (cond === 'not-running' && stopped) break;
      if (cond === 'next-exit' && stopped && s.finishedAt && s.finishedAt !== first) break;
      if (ac.signal.aborted) return;
      await new Promise((res) => setTimeout(res, 50));
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  r.end(JSON.stringify({ StatusCode: code, ...(error ? { Error: { Message: error } } : {}) }) + '\n');
}

/** DELETE /containers/{id}?force=&v= */
export async function containerDelete(ctx: Ctx): Promise<void> {
  const rec = ctx.engine.containers.find(ctx.params[0]);
  if (qbool(ctx.query, 'link')) throw new BerthError('NOT_IMPLEMENTED', 'links are not supported');
  await removeContainer(ctx.engine, rec.id, { force: qbool(ctx.query, 'force'), volumes: qbool(ctx.query, 'v') });
  sendEmpty(ctx);
}

/** POST /containers/{id}/rename?name= */
export function containerRename(ctx: Ctx): void {
  const name = ctx.query.get('name');
  if (!name) throw new BerthError('INVALID_ARGUMENT', 'name is required');
  const rec = ctx.engine.containers.find(ctx.params[0]);
  renameContainer(ctx.engine, rec.id, name);
  sendEmpty(ctx);
}

/** POST /containers/{id}/pause */
export async function containerPause(ctx: Ctx): Promise<void> {
  const id = await pauseContainer(ctx.engine, ctx.params[0]);
  const rec = ctx.engine.containers.find(id);
  sendEmpty(ctx);
}

/** POST /containers/{id}/unpause */
export async function containerUnpause(ctx: Ctx): Promise<void> {
  const id = await unpauseContainer(ctx.engine, ctx.params[0]);
  const rec = ctx.engine.containers.find(id);
  sendEmpty(ctx);
}

const UPDATE_FIELDS = [
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
  'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory',
  'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits',
  'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'RestartPolicy',
];

/** POST /containers/{id}/update */
export async function containerUpdate(ctx: Ctx): Promise<void> {
  const b = await readJson(ctx);
  checkFields(b, UPDATE_FIELDS, 'update');
  const n = (k: string) => (typeof b[k] === 'number' && b[k] !== 0 ? (b[k] as number) : undefined);
  const req: UpdateRequest = {};
  if (n('Memory')) req.memory = n('Memory');
  if (n('MemorySwap')) req.memorySwap = n('MemorySwap');
  if (n('MemoryReservation')) req.memoryReservation = n('MemoryReservation');
  if (n('NanoCpus')) req.cpus = n('NanoCpus')! / 1e9;
  if (n('CpuShares')) req.cpuShares = n('CpuShares');
  if (n('CpuQuota')) req.cpuQuota = n('CpuQuota');
  if (n('CpuPeriod')) req.cpuPeriod = n('CpuPeriod');
  if (n('PidsLimit')) req.pidsLimit = n('PidsLimit');
  if (typeof b.CpusetCpus === 'string' && b.CpusetCpus) req.cpusetCpus = b.CpusetCpus;
  if (typeof b.CpusetMems === 'string' && b.CpusetMems) req.cpusetMems = b.CpusetMems;
  const rp = b.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
  if (rp?.Name) req.restart = rp.Name === 'on-failure' && rp.MaximumRetryCount ? `on-failure:${rp.MaximumRetryCount}` : rp.Name;
  const id = await updateContainer(ctx.engine, ctx.params[0], req);
  const rec = ctx.engine.containers.find(id);
  sendJson(ctx, 200, { Warnings: [] });
}

/** POST /containers/prune */
export async function containerPrune(ctx: Ctx): Promise<void> {
  const deleted: string[] = [];
  for (const rec of await listContainers(ctx.engine, { all: true })) {
    if (rec.state.status !== 'exited' && rec.state.status !== 'created' && rec.state.status !== 'dead') continue;
    try {
      await removeContainer(ctx.engine, rec.id, {});
      deleted.push(rec.id);
    } catch {
      /* started or removed meanwhile */
    }
  }
  sendJson(ctx, 200, { ContainersDeleted: deleted, SpaceReclaimed: 0 });
}
