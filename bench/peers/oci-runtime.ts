/**
 * runc-compatible runtimes driven through their command line: berth-runtime, runc, crun.
 * Each is called as `X --root R <verb> ...`; crun refuses this machine's hybrid cgroup layout,
 * so it runs inside a private mount namespace with the cgroup2 mount hidden (PEERS.md). The
 * wrapper's own cost is measured as a reference row (`WRAPPER_REF`).
 */
import { existsSync } from 'node:fs';

/** `unshare -m` + `sh -c 'umount ...; exec "$@"'`: hides /sys/fs/cgroup/unified from crun only. */
export const HIDE_UNIFIED = [
  'unshare', '-m', '--propagation', 'private',
  'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', 'sh',
];

export interface OciRuntime {
  name: string;
  /** The binary (or the wrapper's first word) that must exist. */
  binary: string;
  /** argv for `<binary> --root <root> ...args`. */
  argv(root: string, args: readonly string[]): string[];
  wrapped: boolean;
}

export function ociRuntime(name: string, binary: string, opts: { wrap: boolean }): OciRuntime {
  return {
    name,
    binary,
    wrapped: opts.wrap,
    argv: (root, args) => [...(opts.wrap ? HIDE_UNIFIED : []), binary, '--root', root, ...args],
  };
}

/**
 * The three runtimes. `wrapAll` runs runc and berth-runtime inside crun's wrapper too, so
 * every row pays the same unshare+sh cost.
 */
export function runtimes(repo: string, wrapAll: boolean): OciRuntime[] {
  return [
    ociRuntime('berth-runtime', `${repo}/bin/berth-runtime`, { wrap: wrapAll }),
    ociRuntime('runc', 'runc', { wrap: wrapAll }),
    ociRuntime('crun', 'crun', { wrap: true }),
  ];
}

export function binaryMissing(rt: OciRuntime): string | undefined {
  if (rt.binary.includes('/')) return existsSync(rt.binary) ? undefined : `${rt.binary} not found`;
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => existsSync(`${d}/${rt.binary}`)) ? undefined : `${rt.binary} not installed`;
}
