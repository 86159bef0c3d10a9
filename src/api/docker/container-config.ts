import { BerthError } from '../../errors/index.js';
import type { DeviceRequest, HealthConfig, MountRequest, RunConfig, Ulimit } from '../../engine/index.js';
import { checkFields } from './http.js';

/** Config fields of the Engine API (1.43, ContainerConfig plus the create body's extras). */
const CONFIG_FIELDS = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin',
  'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint',
  'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell', 'HostConfig',
  'NetworkingConfig', 'Platform',
  // dockerode sends its query options (name, platform) in the body too
  'name', 'platform',
] as const;

/** HostConfig fields of the Engine API (1.43). */
const HOST_CONFIG_FIELDS = [
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver',
  'VolumesFrom', 'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch',
  'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts',
  'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode', 'ShmSize', 'Sysctls', 'Runtime',
  'Isolation', 'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice',
  'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota',
  'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules',
  'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness',
  'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'Mounts',
  'MaskedPaths', 'ReadonlyPaths', 'Init',
] as const;

type Obj = Record<string, unknown>;

function str(o: Obj, k: string, what: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: a string is required, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Obj, k: string, what: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: a number is required, got ${JSON.stringify(v)}`);
  return v;
}

function bool(o: Obj, k: string, what: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: true or false is required, got ${JSON.stringify(v)}`);
  return v;
}

function strs(o: Obj, k: string, what: string): string[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  // docker accepts a plain string for Cmd/Entrypoint (strslice)
  if (typeof v === 'string' && (k === 'Cmd' || k === 'Entrypoint')) return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: an array of strings is required`);
  return v as string[];
}

function obj(o: Obj, k: string, what: string): Obj | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: an object is required`);
  return v as Obj;
}

function arr(o: Obj, k: string, what: string): Obj[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw new BerthError('INVALID_ARGUMENT', `${what}.${k}: an array of objects is required`);
  return v as Obj[];
}

/** docker's size strings ("10m", "1g", "512k", plain bytes). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid size ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

/** `-v src:dst[:opts]`: an absolute source is a bind, anything else a named volume. */
function parseBind(b: string): MountRequest {
  const parts = b.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[1]) throw new BerthError('INVALID_ARGUMENT', `invalid volume specification: ${JSON.stringify(b)}`);
  const [src, target, opts = ''] = parts;
  const o = opts.split(',').filter(Boolean);
  const propagation = o.find((x) => ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(x));
  return {
    type: src.startsWith('/') ? 'bind' : 'volume',
    source: src,
    target,
    ...(o.includes('ro') ? { readOnly: true } : {}),
    ...(propagation ? { propagation } : {}),
    ...(o.includes('nocopy') ? { noCopy: true } : {}),
  };
}

function parseMount(m: Obj): MountRequest {
  const what = 'HostConfig.Mounts';
  const type = str(m, 'Type', what) ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new BerthError('INVALID_ARGUMENT', `${what}: mount type ${JSON.stringify(type)} is not supported (bind, volume, tmpfs)`);
  const target = str(m, 'Target', what) ?? str(m, 'Destination', what);
  if (!target) throw new BerthError('INVALID_ARGUMENT', `${what}: Target is required`);
  const source = str(m, 'Source', what);
  const bo = obj(m, 'BindOptions', what);
  const to = obj(m, 'TmpfsOptions', what);
  const vo = obj(m, 'VolumeOptions', what);
  const propagation = bo ? str(bo, 'Propagation', what) : undefined;
  const size = to ? num(to, 'SizeBytes', what) : undefined;
  const mode = to ? num(to, 'Mode', what) : undefined;
  return {
    type,
    ...(source ? { source } : {}),
    target,
    ...(bool(m, 'ReadOnly', what) ? { readOnly: true } : {}),
    ...(propagation ? { propagation } : {}),
    ...(size ? { tmpfsSize: size } : {}),
    ...(mode ? { tmpfsMode: mode } : {}),
    ...(vo && bool(vo, 'NoCopy', what) ? { noCopy: true } : {}),
  };
}

function parseTmpfs(target: string, opts: string): MountRequest {
  const m: MountRequest = { type: 'tmpfs', target };
  for (const o of opts.split(',').filter(Boolean)) {
    const [k, v] = o.split('=');
    if (k === 'size' && v) m.tmpfsSize = parseSize(v);
    else if (k === 'mode' && v) m.tmpfsMode = parseInt(v, 8);
  }
  return m;
}

function restartString(rp: Obj | undefined): string | undefined {
  if (!rp) return undefined;
  const name = str(rp, 'Name', 'HostConfig.RestartPolicy');
  if (!name || name === 'no') return undefined;
  const max = num(rp, 'MaximumRetryCount', 'HostConfig.RestartPolicy');
  if (!['always', 'unless-stopped', 'on-failure'].includes(name)) throw new BerthError('INVALID_ARGUMENT', `invalid restart policy ${JSON.stringify(name)}`);
  return name === 'on-failure' && max ? `on-failure:${max}` : name;
}

/**
 * The create body (Config with HostConfig and NetworkingConfig) as a RunConfig. Unknown
 * fields are refused; known ones berth does not implement are ignored unless set to a value
 * that changes behaviour (listed in docs/docker-api.md).
 */
export function runConfigFromBody(body: Obj, opts: { name?: string; hasNetwork: boolean; platform?: string }): RunConfig {
  checkFields(body, CONFIG_FIELDS, 'container config');
  const w = 'Config';
  const image = str(body, 'Image', w);
  if (!image) throw new BerthError('INVALID_ARGUMENT', 'config: Image is required');
  const hc = obj(body, 'HostConfig', w) ?? {};
  checkFields(hc, HOST_CONFIG_FIELDS, 'HostConfig');
  const h = 'HostConfig';
  const mounts: MountRequest[] = [];
  for (const b of strs(hc, 'Binds', h) ?? []) mounts.push(parseBind(b));
  for (const m of arr(hc, 'Mounts', h) ?? []) mounts.push(parseMount(m));
  for (const [t, o] of Object.entries(obj(hc, 'Tmpfs', h) ?? {})) mounts.push(parseTmpfs(t, String(o ?? '')));
  const taken = new Set(mounts.map((m) => m.target));
  for (const v of Object.keys(obj(body, 'Volumes', w) ?? {})) if (!taken.has(v)) mounts.push({ type: 'volume', target: v });

  const ulimits: Ulimit[] | undefined = arr(hc, 'Ulimits', h)?.map((u) => ({ name: str(u, 'Name', `${h}.Ulimits`) ?? '', soft: num(u, 'Soft', `${h}.Ulimits`) ?? 0, hard: num(u, 'Hard', `${h}.Ulimits`) ?? 0 }));
  const devices: DeviceRequest[] | undefined = arr(hc, 'Devices', h)?.map((d) => {
    const hostPath = str(d, 'PathOnHost', `${h}.Devices`) ?? '';
    return { hostPath, containerPath: str(d, 'PathInContainer', `${h}.Devices`) || hostPath, permissions: str(d, 'CgroupPermissions', `${h}.Devices`) || 'rwm' };
  });
  const log = obj(hc, 'LogConfig', h);
  const logType = log ? str(log, 'Type', `${h}.LogConfig`) : undefined;
  if (logType && logType !== 'json-file' && logType !== 'local' && logType !== 'none') {
    throw new BerthError('INVALID_ARGUMENT', `log driver ${JSON.stringify(logType)} is not supported: use json-file`);
  }
  const logCfg = (log && obj(log, 'Config', `${h}.LogConfig`)) ?? {};
  const nano = num(hc, 'NanoCpus', h);
  const pids = num(hc, 'PidsLimit', h);
  let networkMode = str(hc, 'NetworkMode', h);
  // without CNI wired in, "default" (docker's bridge) runs with its own namespace and only lo
  if (!opts.hasNetwork && (!networkMode || networkMode === 'default' || networkMode === 'bridge')) networkMode = undefined;
  // dockerd's default when the client sends none (dockerode, testcontainers): the bridge
  else if (opts.hasNetwork && !networkMode) networkMode = 'default';
  // PortBindings {"80/tcp": [{HostIp, HostPort}]} as -p specs ([hostip:][hostport:]port/proto)
  const publish: string[] = [];
  const pb = obj(hc, 'PortBindings', h) ?? {};
  for (const [port, binds] of Object.entries(pb)) {
    for (const bnd of Array.isArray(binds) && binds.length ? (binds as Obj[]) : [{}]) {
      const ip = typeof bnd.HostIp === 'string' ? bnd.HostIp : '';
      // HostPort "0" (testcontainers) means a random port, as an empty one
      const hp = typeof bnd.HostPort === 'string' && bnd.HostPort !== '0' ? bnd.HostPort : '';
      publish.push(ip ? `${ip}:${hp}:${port}` : hp ? `${hp}:${port}` : port);
    }
  }
  const exposed = Object.keys(obj(body, 'ExposedPorts', w) ?? {});
  const ep = endpointSettings(body, networkMode);
  const health = healthConfig(obj(body, 'Healthcheck', w));
  const env = strs(body, 'Env', w);
  const entrypoint = strs(body, 'Entrypoint', w);
  const cmd = strs(body, 'Cmd', w);
  const stopTimeout = num(body, 'StopTimeout', w);
  const restart = restartString(obj(hc, 'RestartPolicy', h));
  const memory = num(hc, 'Memory', h);
  const memorySwap = num(hc, 'MemorySwap', h);
  const sysctls = obj(hc, 'Sysctls', h) as Record<string, string> | undefined;
  const labels = obj(body, 'Labels', w) as Record<string, string> | undefined;
  const config: RunConfig = {
    image,
    ...(opts.name ? { name: opts.name } : {}),
    ...(cmd ? { cmd } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    ...(env ? { env } : {}),
    ...(str(body, 'WorkingDir', w) ? { workdir: str(body, 'WorkingDir', w)! } : {}),
    ...(str(body, 'User', w) ? { user: str(body, 'User', w)! } : {}),
    ...(strs(hc, 'GroupAdd', h)?.length ? { groupAdd: strs(hc, 'GroupAdd', h)! } : {}),
    ...(str(body, 'Hostname', w) ? { hostname: str(body, 'Hostname', w)! } : {}),
    ...(str(body, 'Domainname', w) ? { domainname: str(body, 'Domainname', w)! } : {}),
    ...(bool(body, 'Tty', w) ? { tty: true } : {}),
    ...(bool(body, 'OpenStdin', w) ? { openStdin: true } : {}),
    ...(bool(hc, 'ReadonlyRootfs', h) ? { readOnly: true } : {}),
    ...(bool(hc, 'Privileged', h) ? { privileged: true } : {}),
    ...(strs(hc, 'CapAdd', h)?.length ? { capAdd: strs(hc, 'CapAdd', h)! } : {}),
    ...(strs(hc, 'CapDrop', h)?.length ? { capDrop: strs(hc, 'CapDrop', h)! } : {}),
    ...(strs(hc, 'SecurityOpt', h)?.length ? { securityOpt: strs(hc, 'SecurityOpt', h)! } : {}),
    ...(memory ? { memory } : {}),
    ...(memorySwap ? { memorySwap } : {}),
    ...(num(hc, 'MemoryReservation', h) ? { memoryReservation: num(hc, 'MemoryReservation', h)! } : {}),
    ...(nano ? { cpus: nano / 1e9 } : {}),
    ...(num(hc, 'CpuShares', h) ? { cpuShares: num(hc, 'CpuShares', h)! } : {}),
    ...(num(hc, 'CpuQuota', h) ? { cpuQuota: num(hc, 'CpuQuota', h)! } : {}),
    ...(num(hc, 'CpuPeriod', h) ? { cpuPeriod: num(hc, 'CpuPeriod', h)! } : {}),
    ...(str(hc, 'CpusetCpus', h) ? { cpusetCpus: str(hc, 'CpusetCpus', h)! } : {}),
    ...(str(hc, 'CpusetMems', h) ? { cpusetMems: str(hc, 'CpusetMems', h)! } : {}),
    ...(pids && pids > 0 ? { pidsLimit: pids } : {}),
    ...(ulimits?.length ? { ulimits } : {}),
    ...(devices?.length ? { devices } : {}),
    ...(mounts.length ? { mounts } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
    ...(bool(hc, 'Init', h) ? { init: true } : {}),
    ...(str(body, 'StopSignal', w) ? { stopSignal: str(body, 'StopSignal', w)! } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(num(hc, 'ShmSize', h) ? { shmSize: num(hc, 'ShmSize', h)! } : {}),
    ...(sysctls && Object.keys(sysctls).length ? { sysctls } : {}),
    ...(num(hc, 'OomScoreAdj', h) ? { oomScoreAdj: num(hc, 'OomScoreAdj', h)! } : {}),
    ...(networkMode ? { networkMode } : {}),
    ...ep,
    ...(strs(hc, 'Dns', h)?.length ? { dns: strs(hc, 'Dns', h)! } : {}),
    ...(strs(hc, 'DnsSearch', h)?.length ? { dnsSearch: strs(hc, 'DnsSearch', h)! } : {}),
    ...(strs(hc, 'DnsOptions', h)?.length ? { dnsOptions: strs(hc, 'DnsOptions', h)! } : {}),
    ...(strs(hc, 'ExtraHosts', h)?.length ? { extraHosts: strs(hc, 'ExtraHosts', h)! } : {}),
    ...(health ? { healthcheck: health } : {}),
    ...(str(hc, 'UsernsMode', h) ? { userns: str(hc, 'UsernsMode', h)! } : {}),
    ...(publish.length ? { publish } : {}),
    ...(bool(hc, 'PublishAllPorts', h) ? { publishAll: true } : {}),
    ...(exposed.length ? { exposedPorts: exposed } : {}),
    ...(restart ? { restart } : {}),
    ...(bool(hc, 'AutoRemove', h) ? { autoRemove: true } : {}),
    ...(typeof logCfg['max-size'] === 'string' ? { logMaxSize: parseSize(logCfg['max-size']) } : {}),
    ...(typeof logCfg['max-file'] === 'string' ? { logMaxFiles: Number(logCfg['max-file']) } : {}),
    ...(str(hc, 'CgroupParent', h) ? { cgroupParent: str(hc, 'CgroupParent', h)! } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(str(hc, 'Runtime', h) ? { runtime: str(hc, 'Runtime', h)! } : {}),
  };
  return config;
}

/** Config.Healthcheck as the engine's HealthConfig (both in nanoseconds). */
function healthConfig(hc: Obj | undefined): HealthConfig | undefined {
  if (!hc) return undefined;
  const what = 'Config.Healthcheck';
  const test = strs(hc, 'Test', what);
  const out: HealthConfig = {
    ...(test?.length ? { test } : {}),
    ...(num(hc, 'Interval', what) ? { interval: num(hc, 'Interval', what)! } : {}),
    ...(num(hc, 'Timeout', what) ? { timeout: num(hc, 'Timeout', what)! } : {}),
    ...(num(hc, 'StartPeriod', what) ? { startPeriod: num(hc, 'StartPeriod', what)! } : {}),
    ...(num(hc, 'Retries', what) ? { retries: num(hc, 'Retries', what)! } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/**
 * NetworkingConfig.EndpointsConfig: what `docker run --network N --network-alias A --ip I
 * --mac-address M` sends. The endpoint of the container's network mode gives aliases, the
 * address and the MAC (Config.MacAddress before API 1.44); any other endpoint is one more
 * network joined at start (API 1.44: several --network at create).
 */
function endpointSettings(body: Obj, networkMode: string | undefined): Pick<RunConfig, 'networkAliases' | 'ip' | 'macAddress' | 'extraNetworks'> {
  const out: Pick<RunConfig, 'networkAliases' | 'ip' | 'macAddress' | 'extraNetworks'> = {};
  const legacyMac = str(body, 'MacAddress', 'Config');
  if (legacyMac) out.macAddress = legacyMac;
  const nc = obj(body, 'NetworkingConfig', 'Config');
  const eps = (nc && obj(nc, 'EndpointsConfig', 'NetworkingConfig')) ?? {};
  const primary = !networkMode || networkMode === 'default' ? ['default', 'bridge'] : [networkMode];
  const extra: string[] = [];
  for (const [name, v] of Object.entries(eps)) {
    const what = `NetworkingConfig.EndpointsConfig.${name}`;
    if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new BerthError('INVALID_ARGUMENT', `${what}: an object is required`);
    const e = (v ?? {}) as Obj;
    if (!primary.includes(name)) {
      extra.push(name);
      continue;
    }
    const aliases = strs(e, 'Aliases', what);
    if (aliases?.length) out.networkAliases = aliases;
    const ipam = obj(e, 'IPAMConfig', what);
    const ip = ipam ? str(ipam, 'IPv4Address', `${what}.IPAMConfig`) : undefined;
    if (ip) out.ip = ip;
    const mac = str(e, 'MacAddress', what);
    if (mac) out.macAddress = mac;
  }
  if (extra.length) out.extraNetworks = extra;
  return out;
}
