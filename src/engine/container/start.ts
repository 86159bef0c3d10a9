import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, withCleanupError } from '../../errors/index.js';
import { effectiveNetworkMode, networkSetupOptions, type NetworkManager } from '../network.js';
import { isMounted } from '../../sys/mount.js';
import { attach, killMonitor, monitorFiles, startMonitor, type MonitorAttach } from '../monitor/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { mark } from '../trace.js';
import { parseRestartPolicy } from './restart-policy.js';
import { monitorHealth } from './health.js';
import { mountRootfs } from './rootfs.js';
import { refreshContainer } from './status.js';

export interface StartOptions {
  /**
   * Attach to the monitor before the container starts (docker `start -a`, `run` without -d):
   * no output is lost. The returned attach is the caller's to read and destroy.
   */
  attach?: boolean;
}

export interface StartResult {
  container: ContainerRecord;
  attach?: MonitorAttach;
}

/**
 * Start a created or exited container: its monitor runs `<runtime> create`, then `start` (at
 * once, or after the caller attached). A running container is left as it is (docker's start).
 */
export async function startContainer(engine: Engine, ref: string, opts: StartOptions = {}): Promise<StartResult> {
  let rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `start container ${JSON.stringify(rec.name)}`;
  if (rec.state.status === 'running' || rec.state.status === 'restarting') return { container: rec };
  if (rec.state.status === 'paused') throw new BerthError('FAILED_PRECONDITION', `${what}: cannot start a paused container, try unpause instead`);
  if (rec.state.status === 'removing' || rec.state.status === 'dead') throw new BerthError('FAILED_PRECONDITION', `${what}: the container is being removed`);
  const paths = engine.paths(rec.id);
  const driver = engine.runtime(rec.config.runtime);
  const files = monitorFiles(paths.dir);
  // What the last run left: its exit status and the runtime's state of the old init.
  for (const f of [files.exit, files.containerPid, files.runtimeLog]) rmSync(f, { force: true });
  if (existsSync(join(driver.root, rec.id))) await driver.delete(rec.id, true);
  if (!isMounted(paths.rootfs)) {
    // the state dir is per boot: after a reboot the rootfs is mounted again
    mkdirSync(paths.rootfs, { recursive: true, mode: 0o700 });
    await mountRootfs(engine, rec, paths.rootfs);
  }
  if (!existsSync(paths.config)) throw new BerthError('FAILED_PRECONDITION', `${what}: its bundle ${paths.config} is gone; remove and create it again`);
  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  mark('start: ready to launch the monitor');
  const c = rec.config;
  const restarts = !!c.restart && c.restart !== 'no';
  // The built-in runtime starts from here (no runtime process). With a restart policy the
  // monitor must start it: it only restarts a container it started itself.
  const inProcess = driver.startInProcess && !restarts ? driver.startInProcess.bind(driver) : undefined;
  const monitorStarts = !opts.attach && !inProcess;
  // CNI networks: namespace, plugins, /etc/hosts and resolv.conf, before the container runs.
  // The runtime's create only needs the namespace to exist: when this process starts the
  // container itself, the plugins' ADD runs while the runtime creates it (a fresh ADD is
  // 40-80 ms, the runtime's create ~30), and the start waits for both.
  const cni = effectiveNetworkMode(c).kind === 'network' ? engine.network : undefined;
  let network: Promise<unknown> | undefined;
  if (cni) {
    let netnsReady: () => void = () => {};
    const made = new Promise<void>((res) => (netnsReady = res));
    network = cni.setup(rec.id, networkSetupOptions(c, rec.name, c.hostname ?? rec.id.slice(0, 12), paths.dir), monitorStarts ? {} : { netnsReady });
    // a rejection is handled where it is awaited; this only keeps Node from calling it unhandled meanwhile
    network.catch(() => {});
    try {
      await (monitorStarts ? network : Promise.race([made, network]));
    } catch (err) {
      markFailed(engine, rec, err);
      throw BerthError.wrap(err, what);
    }
  }
  let handle;
  try {
    const health = monitorHealth(engine, rec);
    handle = await startMonitor({
      ...(health ? { health } : {}),
      id: rec.id,
      bundle: paths.bundle,
      runtimePath: driver.path,
      runtimeRoot: driver.root,
      stateDir: paths.dir,
      terminal: !!c.tty,
      stdin: !!c.openStdin,
      logPath: paths.log,
      ...(c.logMaxSize ? { logMaxSize: c.logMaxSize } : {}),
      ...(c.logMaxFiles ? { logMaxFiles: c.logMaxFiles } : {}),
      ...(restarts ? { restart: parseRestartPolicy(c.restart!) } : {}),
      start: monitorStarts,
      // a detached --rm container removes itself when it exits (an attached one: the caller);
      // a detached one on a CNI network gives its network back
      ...((c.autoRemove || cni) && !opts.attach && engine.selfCommand
        ? { exitCommand: [...engine.selfCommand, '--root', engine.root, '--state', engine.state, 'container', 'cleanup', ...(c.autoRemove ? ['--rm'] : []), rec.id] }
        : {}),
    });
  } catch (err) {
    markFailed(engine, rec, err);
    // the ADD may still run: let it end before the teardown
    await network?.catch(() => {});
    throw await withNetworkTeardown(BerthError.wrap(err, what), cni, rec.id);
  }
  mark('start: monitor reported (runtime create done)');
  if (network) {
    try {
      await network;
    } catch (err) {
      // the created init must not stay; setup has already undone the network
      killMonitor(paths.dir);
      markFailed(engine, rec, err);
      throw BerthError.wrap(err, what);
    }
    mark('start: network ready');
  }
  let a: MonitorAttach | undefined;
  let pid = handle.containerPid;
  if (opts.attach || !handle.started) {
    try {
      if (opts.attach) {
        a = await attach(paths.dir, rec.name);
        // connect() returns once the kernel queued us; the monitor must have accepted us
        // before the container runs, or its first output would go to the log only
        if (inProcess) await a.ready();
        mark('start: attached');
      }
      if (inProcess) await inProcess(rec.id);
      else pid = await a!.start();
      mark('start: runtime start done');
    } catch (err) {
      a?.destroy();
      // the created init must not stay: the monitor kills it, writes the exit file and goes
      killMonitor(paths.dir);
      markFailed(engine, rec, err);
      throw await withNetworkTeardown(BerthError.wrap(err, what), cni, rec.id);
    }
  }
  const state = engine.containers.updateState(rec.id, (s) => ({
    ...s,
    status: 'running',
    pid,
    exitCode: 0,
    oomKilled: false,
    error: '',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    health: undefined, // the monitor's health.json has it (health.ts)
  }));
  rec = { ...rec, state };
  engine.containerEvent(rec, 'start');
  return { container: rec, ...(a ? { attach: a } : {}) };
}

/** A start that failed after the network was set up takes the network down again. */
async function withNetworkTeardown(err: BerthError, cni: NetworkManager | undefined, id: string): Promise<BerthError> {
  if (!cni) return err;
  try {
    await cni.teardown(id);
  } catch (cleanupErr) {
    return withCleanupError(err, cleanupErr) as BerthError;
  }
  return err;
}

function markFailed(engine: Engine, rec: ContainerRecord, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  engine.containers.updateState(rec.id, (s) => ({ ...s, status: s.startedAt ? 'exited' : 'created', exitCode: 128, error: msg }));
}
