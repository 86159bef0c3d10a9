import { BerthError } from '../../errors/index.js';
import type { CgroupLayout, CgroupManager } from './types.js';
import { DEFAULT_ROOT, hierarchiesUnder, layoutOf } from './layout.js';
import { cgroupMounts } from './mounts.js';
import { V1Manager } from './manager-v1.js';
import { V2Manager } from './manager-v2.js';
import type { Warn } from './write.js';

export interface OpenCgroupsOptions {
  /** Force a layout instead of detecting it (tests drive v2 logic on a hybrid host this way). */
  layout?: CgroupLayout;
  /** Where the hierarchies are mounted; default /sys/fs/cgroup. For "v2": the cgroup2 mount. */
  root?: string;
  /** Where warnings go (a kernel lacking an optional file); default: stderr. */
  warn?: Warn;
}

const stderrWarn: Warn = (m) => process.stderr.write(`berth: warning: ${m}\n`);

/**
 * The cgroup manager for `path` (from `resolveCgroupsPath`). Opening touches nothing: call
 * `create()` for a new container, or any other method for an existing one.
 */
export function openCgroups(path: string, opts: OpenCgroupsOptions = {}): CgroupManager {
  const root = opts.root ?? DEFAULT_ROOT;
  const warn = opts.warn ?? stderrWarn;
  const hs = hierarchiesUnder(root);
  const layout = opts.layout ?? layoutOf(hs, root);
  if (layout === 'v2') {
    const h = cgroupMounts().find((m) => m.version === 2 && m.mountpoint === root);
    if (!h) throw new BerthError('NOT_FOUND', `open cgroup ${path}: no cgroup2 file system is mounted at ${root}`);
    return new V2Manager(path, h, warn);
  }
  return new V1Manager(path, layout === 'v1' ? hs.filter((h) => h.version === 1) : hs, warn);
}
