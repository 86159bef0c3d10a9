import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { networkSettings } from './network-settings.js';
import { restartPolicyView } from './restart-policy.js';
import { refreshContainer } from './status.js';
import { withHealth } from './health.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** docker inspect's JSON for a container (the fields docker clients read most). */
export function inspectContainer(engine: Engine, ref: string): Record<string, unknown> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  return containerView(engine, rec);
}

export function containerView(engine: Engine, record: ContainerRecord): Record<string, unknown> {
  const rec = withHealth(engine, record); // State.Health: the monitor's health.json
  const c = rec.config;
  const s = rec.state;
  const paths = engine.paths(rec.id);
  const mounts = (c.mounts ?? []).map((m) => ({
    Type: m.type,
    ...(m.type === 'volume' ? { Name: m.source, Source: m.source ? engine.volumes.get(m.source).mountpoint : '', Driver: 'local' } : { Source: m.source ?? '' }),
    Destination: m.target,
    Mode: m.readOnly ? 'ro' : '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? (m.propagation ?? 'rprivate') : '',
  }));
  const binds = (c.mounts ?? []).filter((m) => m.type === 'bind').map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
  return {
    Id: rec.id,
    Created: rec.created,
    Path: c.entrypoint?.[0] ?? c.cmd?.[0] ?? '',
    Args: [...(c.entrypoint?.slice(1) ?? []), ...(c.entrypoint ? (c.cmd ?? []) : (c.cmd?.slice(1) ?? []))],
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.status === 'running' || s.status === 'paused' ? s.pid : 0,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt || ZERO_TIME,
      FinishedAt: s.finishedAt || ZERO_TIME,
      ...(s.health
        ? { Health: { Status: s.health.status, FailingStreak: s.health.failingStreak, Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } }
        : {}),
    },
    Image: rec.imageId,
    ResolvConfPath: `${paths.dir}/resolv.conf`,
    HostnamePath: `${paths.dir}/hostname`,
    HostsPath: `${paths.dir}/hosts`,
    LogPath: paths.log,
    Name: `/${rec.name}`,
    RestartCount: s.restartCount,
    Driver: engine.snapshotter.name,
    // docker's GraphDriver; Data.RootfsOwnership (berth's): how a --userns rootfs is the
    // mapped root's, "idmapped" layers or a "chown" copy (docs/security.md)
    GraphDriver: { Name: engine.snapshotter.name, Data: c.userns && c.userns !== 'host' ? { RootfsOwnership: engine.usernsRanges.ownership(rec.id) } : null },
    Platform: 'linux',
    HostConfig: {
      Binds: binds.length ? binds : null,
      NetworkMode: c.networkMode || 'none',
      RestartPolicy: restartPolicyView(c.restart),
      AutoRemove: !!c.autoRemove,
      Runtime: rec.runtime,
      UsernsMode: c.userns && c.userns !== 'host' ? c.userns : '',
      LogConfig: { Type: 'json-file', Config: { ...(c.logMaxSize ? { 'max-size': String(c.logMaxSize) } : {}), ...(c.logMaxFiles ? { 'max-file': String(c.logMaxFiles) } : {}) } },
      CapAdd: c.capAdd ?? null,
      CapDrop: c.capDrop ?? null,
      Privileged: !!c.privileged,
      ReadonlyRootfs: !!c.readOnly,
      SecurityOpt: c.securityOpt ?? null,
      Memory: c.memory ?? 0,
      MemorySwap: c.memorySwap ?? (c.memory ? c.memory * 2 : 0),
      MemoryReservation: c.memoryReservation ?? 0,
      NanoCpus: c.cpus ? Math.round(c.cpus * 1e9) : 0,
      CpuShares: c.cpuShares ?? 0,
      CpuQuota: c.cpuQuota ?? 0,
      CpuPeriod: c.cpuPeriod ?? 0,
      CpusetCpus: c.cpusetCpus ?? '',
      CpusetMems: c.cpusetMems ?? '',
      PidsLimit: c.pidsLimit ?? null,
      Ulimits: c.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) ?? null,
      Devices: c.devices?.map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions })) ?? null,
      Tmpfs: null,
      Init: c.init ?? null,
      CgroupParent: c.cgroupParent ?? '',
      ShmSize: c.shmSize ?? 64 * 1024 * 1024,
    },
    Mounts: mounts,
    Config: {
      Hostname: c.hostname ?? rec.id.slice(0, 12),
      Domainname: c.domainname ?? '',
      User: c.user ?? '',
      Tty: !!c.tty,
      OpenStdin: !!c.openStdin,
      Env: c.env ?? [],
      Cmd: c.cmd ?? null,
      Image: rec.image,
      WorkingDir: c.workdir ?? '',
      Entrypoint: c.entrypoint ?? null,
      Labels: rec.labels,
      StopSignal: c.stopSignal ?? 'SIGTERM',
      ...(c.stopTimeout !== undefined ? { StopTimeout: c.stopTimeout } : {}),
    },
    NetworkSettings: networkSettings(engine, rec),
  };
}
