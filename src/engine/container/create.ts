import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, withCleanupError } from '../../errors/index.js';
import { releaseImage, useImage } from '../../image/index.js';
import { seccompForContainer } from '../../runtime/seccomp/index.js';
import type { Mount, Namespace, Spec } from '../../spec/runtime.js';
import { detachUnder, unmountAll } from '../../sys/mount.js';
import { writeFileAtomic } from '../../util/fs.js';
import { newId } from '../../util/id.js';
import { initialState, type ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { mark } from '../trace.js';
import { effectiveNetworkMode, isDefaultBridge, networkSetupOptions } from '../network.js';
import type { ImageConfigView, MountRequest, RunConfig } from '../run-config.js';
import { buildSpec, capabilitySet } from '../spec-builder.js';
import { resolveUser } from '../user.js';
import { parseUsernsMode, type IdRange } from '../userns.js';
import { effectiveHealthcheck } from './health.js';
import { hostHardLimits, readHostFile, statDevice, thermalThrottlePaths } from './host-files.js';
import { renderHosts } from '../../network/index.js';
import { getImage, type GetImageOptions } from './image.js';
import { copyUpImageContent } from '../volumes/copy-up.js';
import { initBinary } from './init-binary.js';
import { parseRestartPolicy } from './restart-policy.js';
import { mountNewRootfs } from './rootfs.js';
import { refreshContainer } from './status.js';

export interface CreateOptions extends GetImageOptions {
  config: RunConfig;
}

/** A stack of undo steps, run in reverse; failures are attached to the original error. */
class Undo {
  #steps: (() => unknown)[] = [];
  push(fn: () => unknown): void {
    this.#steps.push(fn);
  }
  async run(err: unknown): Promise<never> {
    let e = err;
    for (const fn of this.#steps.reverse()) {
      try {
        await fn();
      } catch (cleanupErr) {
        e = withCleanupError(e, cleanupErr);
      }
    }
    throw e;
  }
}

function checkSecurityOpts(config: RunConfig): void {
  for (const o of config.securityOpt ?? []) {
    const key = o.split(/[=:]/, 1)[0];
    if (!['seccomp', 'no-new-privileges', 'apparmor', 'label'].includes(key)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid --security-opt ${JSON.stringify(o)}`);
    }
  }
}

/**
 * Create a container: find (or pull) the image, reserve the name, hold the image with a lease,
 * prepare and mount a writable snapshot on its top layer, resolve user, volumes and devices,
 * and write the OCI bundle. Nothing runs yet (docker's "created"). On any failure everything
 * done so far is undone, the name included.
 */
export async function createContainer(engine: Engine, opts: CreateOptions): Promise<ContainerRecord> {
  const config: RunConfig = { ...opts.config, mounts: [...(opts.config.mounts ?? [])] };
  // Validate what needs no image first: a bad flag costs nothing.
  if (config.restart) parseRestartPolicy(config.restart);
  if (config.restart && config.restart !== 'no' && config.autoRemove) {
    throw new BerthError('INVALID_ARGUMENT', 'conflicting options: cannot specify both --restart and --rm');
  }
  checkSecurityOpts(config);
  const usernsMode = parseUsernsMode(config.userns);
  // The default bridge turned off (BERTH_BRIDGE=none): as dockerd --bridge=none, whose
  // connectToNetwork sets Config.NetworkDisabled for the bridge, the container gets only lo.
  if (isDefaultBridge(config.networkMode) && engine.network && engine.bridgeDisabled) {
    if (config.extraNetworks?.length) {
      throw new BerthError('INVALID_ARGUMENT', 'the default bridge is disabled (BERTH_BRIDGE=none or "bridge": "none" in the berth config): name the networks to join with --network');
    }
    config.networkDisabled = true;
  }
  const net = effectiveNetworkMode(config);
  if (net.kind === 'network' && !engine.network) {
    throw new BerthError('NOT_IMPLEMENTED', `network ${JSON.stringify(net.name)}: no network plugins are wired in yet; use --network none, host or container:<name>`);
  }
  if (net.kind === 'network') await engine.network!.check?.(networkSetupOptions(config, config.name ?? '', config.hostname ?? '', ''));
  for (const m of config.mounts ?? []) {
    if (m.type === 'bind') {
      if (!m.source || !m.source.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `invalid mount config for type "bind": source ${JSON.stringify(m.source ?? '')} must be an absolute path`);
      if (!existsSync(m.source)) throw new BerthError('INVALID_ARGUMENT', `invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
    }
  }
  const devices = (config.devices ?? []).map(statDevice);
  mark('create: validated');
  const driver = engine.runtime(config.runtime);
  const img = await getImage(engine, config.image, opts);
  mark('create: image found');
  const imageConfig = (img.config.config ?? {}) as ImageConfigView;
  if (!config.stopSignal && imageConfig.StopSignal) config.stopSignal = imageConfig.StopSignal;
  const health = effectiveHealthcheck(config.healthcheck, (img.config.config as { Healthcheck?: unknown } | undefined)?.Healthcheck);
  if (health) config.healthcheck = health;
  else delete config.healthcheck;
  if (config.publishAll) config.exposedPorts = [...new Set([...(config.exposedPorts ?? []), ...Object.keys(imageConfig.ExposedPorts ?? {})])];

  const id = newId();
  const paths = engine.paths(id);
  const snapshotKey = `container-${id}`;
  const undo = new Undo();
  const rec = engine.containers.insert({
    id,
    ...(config.name ? { name: config.name } : {}),
    image: config.image,
    imageId: img.id,
    created: new Date().toISOString(),
    config,
    state: initialState(),
    snapshotKey,
    runtime: driver.name,
    labels: { ...(imageConfig.Labels ?? {}), ...(config.labels ?? {}) },
  });
  undo.push(() => engine.containers.remove(id));
  try {
    mark('create: record inserted');
    const lease = useImage(engine.images, `container/${id}`, img);
    undo.push(() => releaseImage(engine.images, `container/${id}`));
    lease.add({ kind: 'snapshot', key: snapshotKey });

    mkdirSync(paths.rootfs, { recursive: true, mode: 0o700 });
    undo.push(() => {
      detachUnder(paths.dir);
      rmSync(paths.dir, { recursive: true, force: true });
    });
    const parent = img.chainIds[img.chainIds.length - 1];
    const mounts = await engine.snapshotter.prepare(snapshotKey, parent, { 'berth.container': id });
    undo.push(() => engine.snapshotter.remove(snapshotKey));
    mark('create: snapshot prepared');
    let idRange: IdRange | undefined;
    if (usernsMode.kind === 'auto') idRange = engine.usernsRanges.allocate(id);
    else if (usernsMode.kind === 'range') idRange = usernsMode;
    if (idRange) undo.push(() => engine.usernsRanges.release(id));
    await mountNewRootfs(engine, id, mounts, paths.rootfs, idRange);
    undo.push(() => unmountAll(paths.rootfs));

    const user = resolveUser(paths.rootfs, config.user || imageConfig.User, config.groupAdd);
    const volumePaths = await resolveVolumes(engine, id, config, imageConfig, paths.rootfs, idRange, undo);
    const joinNamespaces: Namespace[] = [];
    if (net.kind === 'container') {
      const other = refreshContainer(engine, engine.containers.find(net.ref));
      if (other.state.status !== 'running' || !other.state.pid) {
        throw new BerthError('FAILED_PRECONDITION', `cannot join network of a non running container: ${net.ref}`);
      }
      joinNamespaces.push({ type: 'network', path: `/proc/${other.state.pid}/ns/net` });
    }
    // CNI networks: the namespace is made and joined to its networks at start (network/)
    if (net.kind === 'network' && engine.network?.netnsPath) joinNamespaces.push({ type: 'network', path: engine.network.netnsPath(id) });
    const spec = buildSpec({
      id,
      config: { ...config, devices },
      image: imageConfig,
      rootfs: paths.rootfs,
      user,
      volumePaths,
      joinNamespaces,
      ...(idRange ? { idRange } : {}),
      hostHardLimits: hostHardLimits(),
      extraMaskedPaths: thermalThrottlePaths(),
      ...(config.init ? { initPath: initBinary() } : {}),
      seccomp: seccompForContainer({ securityOpt: config.securityOpt ?? [], capabilities: capabilitySet(config), privileged: !!config.privileged }),
    });
    if (config.privileged || (config.capAdd ?? []).some((c) => c.toUpperCase() === 'ALL')) limitToHostCapabilities(spec);
    spec.linux!.cgroupsPath = `${config.cgroupParent || engine.cgroupParent}/${id}`;
    spec.annotations = { ...spec.annotations, 'berth.container.id': id, 'berth.container.name': rec.name };
    addEtcFiles(spec, paths.dir, config, net.kind);
    mark('create: spec built');
    writeFileAtomic(paths.config, JSON.stringify(spec));
    mark('create: bundle written');
    engine.containerEvent(rec, 'create');
    return rec;
  } catch (err) {
    return undo.run(err);
  }
}

/**
 * --privileged and --cap-add ALL mean every capability berth itself has (docker: the daemon's
 * bounding set), not every one the kernel knows: this host runs berth without CAP_SYS_RESOURCE.
 */
export function limitToHostCapabilities(spec: Spec): void {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readHostFile('/proc/self/status'));
  if (!m) return;
  const bnd = BigInt(`0x${m[1]}`);
  const has = (c: string) => {
    const bit = CAP_BITS[c];
    return bit === undefined || ((bnd >> BigInt(bit)) & 1n) === 1n;
  };
  const caps = spec.process?.capabilities;
  if (!caps) return;
  for (const k of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
    if (caps[k]) caps[k] = caps[k]!.filter(has);
  }
}

/** capabilities(7) numbers. */
const CAP_BITS: Record<string, number> = Object.fromEntries(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
    'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
    'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
    'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
    'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
  ].map((n, i) => [`CAP_${n}`, i]),
);

/** /etc/hostname, /etc/hosts and /etc/resolv.conf, bind-mounted from the bundle as docker does. */
function addEtcFiles(spec: Spec, dir: string, config: RunConfig, net: string): void {
  const hostname = spec.hostname ?? '';
  const files: [string, string][] = [
    ['hostname', `${hostname}\n`],
    // docker's fixed lines and the hostname; a CNI network's setup rewrites it with addresses and peers
    ['hosts', net === 'host' ? readHostFile('/etc/hosts', renderHosts(hostname, [], [], [])) : renderHosts(hostname, [], [], [])],
    ['resolv.conf', net === 'none' ? '' : readHostFile('/etc/resolv.conf')],
  ];
  const taken = new Set((spec.mounts ?? []).map((m) => m.destination));
  for (const [name, content] of files) {
    const dest = `/etc/${name}`;
    if (taken.has(dest)) continue;
    writeFileSync(join(dir, name), content, { mode: 0o644 });
    const m: Mount = { destination: dest, type: 'bind', source: join(dir, name), options: ['rbind', 'rprivate', config.readOnly ? 'ro' : 'rw'] };
    spec.mounts!.push(m);
  }
}

/**
 * Named volumes (created on first use, as docker does), anonymous ones for `-v /path` and for
 * the image's VOLUMEs not covered by a mount; each referenced by this container, and filled
 * from the image when it is empty (copyUpImageContent).
 */
async function resolveVolumes(engine: Engine, id: string, config: RunConfig, image: ImageConfigView, rootfs: string, idRange: IdRange | undefined, undo: Undo): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const mounts = config.mounts ?? [];
  const targets = new Set(mounts.map((m) => m.target.replace(/\/+$/, '') || '/'));
  for (const v of Object.keys(image.Volumes ?? {})) {
    const t = v.replace(/\/+$/, '') || '/';
    if (!targets.has(t)) mounts.push({ type: 'volume', target: t } satisfies MountRequest);
  }
  config.mounts = mounts;
  const created: string[] = [];
  undo.push(() => {
    engine.volumes.release(id);
    for (const name of created) engine.volumes.remove(name, true);
  });
  for (const m of mounts) {
    if (m.type !== 'volume') continue;
    const existed = m.source ? safeExists(engine, m.source) : false;
    const vol = engine.volumes.create(m.source ? { name: m.source } : { anonymous: true });
    if (!existed) created.push(vol.name);
    m.source = vol.name;
    engine.volumes.reference(vol.name, id);
    out[vol.name] = vol.mountpoint;
    const empty = readdirSync(vol.mountpoint).length === 0;
    if (!m.noCopy && (await copyUpImageContent(rootfs, m.target, vol.mountpoint))) mark(`create: image files copied into volume ${vol.name}`);
    // a --userns container's root is a host range: an empty volume the image did not fill
    // becomes that root's (docker's userns-remap makes volumes for the remapped root)
    else if (idRange && empty) chownSync(vol.mountpoint, idRange.uid, idRange.gid);
  }
  return out;
}

function safeExists(engine: Engine, name: string): boolean {
  try {
    engine.volumes.get(name);
    return true;
  } catch {
    return false;
  }
}

