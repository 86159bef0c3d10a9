import { join } from 'node:path';

/**
 * Where a container's files live. Per boot (state dir): the bundle, its mounted rootfs and the
 * monitor's files (sockets, pid files, exit status) in `<state>/c/<id[:20]>` — short, because
 * `attach.sock` must fit in sun_path's 108 bytes (unix(7)). Persistent (root dir): the log,
 * at docker's place `<root>/containers/<id>/<id>-json.log`.
 */
export function containerPaths(root: string, state: string, id: string) {
  const dir = join(state, 'c', id.slice(0, 20));
  const logDir = join(root, 'containers', id);
  return {
    /** Bundle and monitor state dir. */
    dir,
    bundle: dir,
    config: join(dir, 'config.json'),
    rootfs: join(dir, 'rootfs'),
    logDir,
    log: join(logDir, `${id}-json.log`),
  };
}

export type ContainerPaths = ReturnType<typeof containerPaths>;
