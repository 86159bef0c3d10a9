import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { BerthError, toBerthError, withCleanupError } from '../errors/index.js';
import { validateSpec } from '../spec/validate.js';
import { openCgroups, resolveCgroupsPath } from '../sys/cgroup/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { launchContainer, type Launched } from './launch.js';
import { ociState, processStartTime, type ContainerRecord } from './container-state.js';
import { runHooks } from './hooks.js';
import type { RuntimeContext } from './context.js';
import type { DeviceCgroup, Spec } from '../spec/runtime.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
  /** `run` in the foreground: the helper stays the init's parent and reports its exit. */
  foreground?: boolean;
}

export interface Created {
  record: ContainerRecord;
  spec: Spec;
  wait?: () => Promise<number>;
}

/** Namespaces entered for createContainer hooks: the container's mount namespace (runtime-spec). */
const CREATE_CONTAINER_NS = ['--mount'];

/**
 * OCI `create`: validate the bundle's config.json, claim the id, make the cgroup, launch the
 * init up to the point where it waits for `start`, run the create-time hooks, record state.
 * On any failure everything made so far is undone, in reverse order.
 */
export async function createContainer(rt: RuntimeContext, opts: CreateOptions): Promise<Created> {
  const bundle = resolve(opts.bundle || '.');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BerthError('NOT_FOUND', `bundle ${JSON.stringify(bundle)}: config.json not found`);
    }
    throw BerthError.wrap(err, `bundle ${JSON.stringify(bundle)}: read config.json`, 'INVALID_ARGUMENT');
  }
  const spec = validateSpec(raw, bundle);
  const rootPath = spec.root?.path ?? 'rootfs';
  let rootfs = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
  try {
    rootfs = realpathSync(rootfs);
  } catch (err) {
    throw BerthError.wrap(err, `bundle ${JSON.stringify(bundle)}: root.path`, 'INVALID_ARGUMENT');
  }

  const dir = rt.root.claim(opts.id);
  const cgroupPath = resolveCgroupsPath(spec.linux?.cgroupsPath, opts.id);
  const cgroup = openCgroups(cgroupPath);
  let launched: Launched | undefined;
  const rec: ContainerRecord = {
    id: opts.id,
    bundle,
    rootfs,
    pid: 0,
    pidStartTime: '',
    cgroupPath,
    created: new Date().toISOString(),
    owner: safeUserName(),
    annotations: spec.annotations,
  };
  try {
    rt.root.saveSpec(opts.id, spec);
    // Device rules go on after the init has made /dev (mknod needs them open), with the
    // default devices every container must be able to use appended (runc does the same).
    const { devices, ...otherResources } = spec.linux?.resources ?? {};
    cgroup.create(spec.linux?.resources ? otherResources : undefined);
    const stateFor = (pid: number) => ociState({ ...rec, pid }, 'creating');
    launched = await launchContainer({
      id: opts.id,
      bundle,
      spec,
      stateDir: dir,
      cgroupProcsFiles: cgroup.procsFiles(),
      consoleSocket: opts.consoleSocket,
      preserveFds: opts.preserveFds,
      noPivot: opts.noPivot,
      foreground: opts.foreground,
      onCreateRuntime: async (pid) => {
        // prestart is deprecated but still runs, before createRuntime (runtime-spec config.md).
        await runHooks(spec.hooks, 'prestart', stateFor(pid));
        await runHooks(spec.hooks, 'createRuntime', stateFor(pid));
      },
      onCreateContainer: (pid) =>
        runHooks(spec.hooks, 'createContainer', stateFor(pid), { enter: { pid, flags: CREATE_CONTAINER_NS } }),
    });
    rec.pid = launched.pid;
    if (devices?.length) cgroup.update({ devices: [...devices, ...DEFAULT_DEVICE_ALLOW] });
    rec.pidStartTime = processStartTime(launched.pid) ?? '';
    rt.root.save(rec);
    if (opts.pidFile) writeFileAtomic(resolve(opts.pidFile), String(launched.pid));
    return { record: rec, spec, wait: launched.wait };
  } catch (err) {
    let e = toBerthError(err);
    if (!e.message.startsWith('create container')) e = BerthError.wrap(e, `create container ${JSON.stringify(opts.id)}`);
    try {
      if (launched) process.kill(launched.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    try {
      cgroup.destroy();
    } catch (cleanupErr) {
      e = withCleanupError(e, cleanupErr);
    }
    try {
      rt.root.release(opts.id);
    } catch (cleanupErr) {
      e = withCleanupError(e, cleanupErr);
    }
    throw e;
  }
}

/** The runtime-spec's default devices (config-linux.md "Default Devices"), always usable. */
const DEFAULT_DEVICE_ALLOW: DeviceCgroup[] = [
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // pts/*
];

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}
