import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { eventMatches, listContainers, watchExits, parseEventFilters, parseEventTime, type Engine, type EngineEvent } from '../../engine/index.js';
import { listImages } from '../../image/index.js';
import { qfilters, res, sendJson, unixSeconds, type Ctx } from './http.js';
import { API_VERSION, MIN_API_VERSION } from './version.js';

function berthVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'dev';
  } catch {
    return 'dev';
  }
}

const goArch = () => (arch() === 'x64' ? 'amd64' : arch());

/** GET/HEAD /_ping: "OK", with the headers clients negotiate from. */
export function ping(ctx: Ctx): void {
  const r = res(ctx);
  r.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Api-Version': API_VERSION,
    Ostype: 'linux',
    'Builder-Version': '1',
    'Docker-Experimental': 'false',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
  });
  r.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
}

/** GET /version */
export function version(ctx: Ctx): void {
  const v = berthVersion();
  sendJson(ctx, 200, {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: v, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch() } }],
    Version: v,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: '',
  });
}

/** GET /info */
export async function info(ctx: Ctx): Promise<void> {
  const e = ctx.engine;
  const all = await listContainers(e, { all: true });
  const count = (s: string[]) => all.filter((c) => s.includes(c.state.status)).length;
  const images = await listImages(e.images);
  sendJson(ctx, 200, {
    ID: hostname(),
    Containers: all.length,
    ContainersRunning: count(['running', 'restarting']),
    ContainersPaused: count(['paused']),
    ContainersStopped: count(['exited', 'created', 'dead']),
    Images: new Set(images.map((i) => i.id)).size,
    Driver: e.snapshotter.name,
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: !!process.env.BERTH_DEBUG,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: '1',
    NEventsListener: ctx.daemon.eventListeners,
    KernelVersion: release(),
    OperatingSystem: 'berth',
    OSVersion: '',
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    IndexServerAddress: '',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: e.root,
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: berthVersion(),
    Runtimes: { berth: { path: 'berth-runtime' }, runc: { path: 'runc' }, crun: { path: 'crun' } },
    DefaultRuntime: 'berth',
    Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'berth-init',
    SecurityOptions: ['name=seccomp,profile=builtin'],
    Warnings: [],
  });
}

/** GET /system/df */
export async function systemDf(ctx: Ctx): Promise<void> {
  const e: Engine = ctx.engine;
  const images = await listImages(e.images);
  const containers = await listContainers(e, { all: true });
  const byId = new Map<string, (typeof images)[number][]>();
  for (const i of images) byId.set(i.id, [...(byId.get(i.id) ?? []), i]);
  sendJson(ctx, 200, {
    LayersSize: images.reduce((n, i) => n + i.size, 0),
    Images: [...byId].map(([id, list]) => ({
      Id: id,
      ParentId: '',
      RepoTags: list.map((i) => `${i.repository}:${i.tag}`),
      RepoDigests: [],
      Created: unixSeconds(list[0].created),
      Size: list[0].size,
      SharedSize: -1,
      VirtualSize: list[0].size,
      Labels: {},
      Containers: containers.filter((c) => c.imageId === id).length,
    })),
    Containers: containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId, Command: '', Created: unixSeconds(c.created), State: c.state.status, Status: c.state.status, SizeRw: 0, SizeRootFs: 0, Labels: c.labels, Mounts: [] })),
    Volumes: e.volumes.list().map((v) => ({ Name: v.name, Driver: 'local', Mountpoint: v.mountpoint, CreatedAt: v.created, Labels: v.labels, Scope: 'local', Options: {}, UsageData: { Size: e.volumes.size(v.name), RefCount: e.volumes.usedBy(v.name).length } })),
    BuildCache: [],
  });
}

/** One event as /events streams it (moby api/types/events.Message). */
export function dockerEvent(e: EngineEvent) {
  const timeNano = Math.round(e.time * 1e6);
  return {
    // the pre-1.22 fields docker still sends for containers
    ...(e.type === 'container' ? { status: e.action, id: e.id, ...(e.attributes.image ? { from: e.attributes.image } : {}) } : {}),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: Math.floor(e.time / 1000),
    timeNano,
  };
}

/** docker's since/until: unix seconds (with fraction) or RFC 3339. */
function timeArg(s: string | null): number | undefined {
  if (!s) return undefined;
  try {
    return parseEventTime(s);
  } catch {
    return undefined;
  }
}

/**
 * GET /events: what the engine's event log holds since `since`, then new events as JSON lines
 * until `until` or the client goes. The log is the engine's, shared by every berth process of
 * the state dir: CLI runs, monitors' exit commands and earlier daemons are in it.
 */
export async function events(ctx: Ctx): Promise<void> {
  const f = parseEventFilters(qfilters(ctx.query));
  const since = timeArg(ctx.query.get('since'));
  const until = timeArg(ctx.query.get('until'));
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': 'application/json' });
  r.flushHeaders();
  const ac = new AbortController();
  ctx.req.socket.once('close', () => ac.abort());
  ctx.daemon.eventListeners++;
  // containers nobody waits for (started by the CLI, detached) get their die while we follow
  watchExits(ctx.engine, ac.signal);
  try {
    await ctx.engine.events.follow(
      (e) => {
        if (eventMatches(e, f)) r.write(JSON.stringify(dockerEvent(e)) + '\n');
      },
      { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), signal: ac.signal },
    );
  } finally {
    ctx.daemon.eventListeners--;
    r.end();
  }
}
