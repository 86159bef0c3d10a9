/**
 * A container as the user asked for it (docker's `run`/`create` flags, the Engine API's
 * Config + HostConfig), before it is resolved against an image into an OCI spec.
 */
export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path for bind; volume name for volume (resolved to a host dir by the engine). */
  source?: string;
  target: string;
  readOnly?: boolean;
  /** tmpfs size in bytes and mode. */
  tmpfsSize?: number;
  tmpfsMode?: number;
  /** bind propagation: private, rprivate, shared, rshared, slave, rslave. */
  propagation?: string;
  /** volume: do not copy the image's files at the target into an empty volume (docker's nocopy). */
  noCopy?: boolean;
}

export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  /** cgroup access: some of "rwm". */
  permissions: string;
  /** Filled by the engine from stat(hostPath) before the spec is built. */
  type?: 'c' | 'b';
  major?: number;
  minor?: number;
  fileMode?: number;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface RunConfig {
  image: string;
  name?: string;
  cmd?: string[];
  /** undefined: the image's; [] (from `--entrypoint ""`): none. */
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  groupAdd?: string[];
  hostname?: string;
  domainname?: string;
  tty?: boolean;
  openStdin?: boolean;
  readOnly?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  cpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  ulimits?: Ulimit[];
  devices?: DeviceRequest[];
  mounts?: MountRequest[];
  labels?: Record<string, string>;
  init?: boolean;
  stopSignal?: string;
  /** docker's HealthConfig (flags merged over the image's HEALTHCHECK at create); durations in ns. */
  healthcheck?: HealthConfig;
  stopTimeout?: number;
  shmSize?: number;
  sysctls?: Record<string, string>;
  oomScoreAdj?: number;
  /**
   * "none" | "host" | "container:<ref>" | "default" (the default bridge) | a network name;
   * networking decides the namespace. Absent means "none" (the engine's own default; the CLI
   * and the Docker API send "default" when the user names no network, as the docker CLI does).
   */
  networkMode?: string;
  /**
   * docker's Config.NetworkDisabled: set at create when the container asked for the default
   * bridge and the bridge is turned off (BERTH_BRIDGE=none): it gets its own namespace with lo only.
   */
  networkDisabled?: boolean;
  /** Further networks (`--network a --network b`), joined after networkMode's. */
  extraNetworks?: string[];
  /** `-p [hostip:][hostport:]containerport[/proto]`, and `-P` with the image's exposed ports. */
  publish?: string[];
  publishAll?: boolean;
  /** The image's ExposedPorts plus `--expose`, resolved at create. */
  exposedPorts?: string[];
  /** `--ip`, `--mac-address`, `--network-alias` on the first network. */
  ip?: string;
  macAddress?: string;
  networkAliases?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** `--add-host name:ip`. */
  extraHosts?: string[];
  /** docker's --restart: no, on-failure[:N], always, unless-stopped. */
  restart?: string;
  /** --rm: remove the container once it has exited. */
  autoRemove?: boolean;
  /** --log-opt max-size (bytes) and max-file. */
  logMaxSize?: number;
  logMaxFiles?: number;
  /** cgroup parent (default /berth, or $BERTH_CGROUP_PARENT). */
  cgroupParent?: string;
  /** --platform the image was chosen for ("linux/amd64"). */
  platform?: string;
  /** --runtime: berth, runc, crun or a path. */
  runtime?: string;
  /** --userns: host (default), auto, or <uid>:<gid>:<size> (docs/security.md). */
  userns?: string;
}

/** The parts of an OCI image config that shape a container (image-spec config.md). */
export interface ImageConfigView {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  StopSignal?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
}

/** docker's HealthConfig: Test is ["NONE"], ["CMD", args...] or ["CMD-SHELL", command]; durations in ns (0: default). */
export interface HealthConfig {
  test?: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  retries?: number;
}
