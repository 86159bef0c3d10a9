/**
 * runc-compatible runtimes driven through their command line: berth-runtime, runc, crun.
 * Each is called as `X --root R <verb> ...`. crun refuses this machine's hybrid cgroup layout,
 * so it runs as the test harness runs it (test/harness/peers.ts: a private mount namespace
 * with the cgroup2 mount hidden, PEERS.md). `HIDE_UNIFIED` is the same wrapper around any
 * command: the suite measures it alone (`exec true`), and `--wrap-all` puts every runtime in it.
 */
import { existsSync } from 'node:fs';
import { crunInvocation, runcInvocation } from '../../test/harness/peers.js';

export const HIDE_UNIFIED = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified; exec "$@"', 'sh'];

export interface OciRuntime {
  name: string;
  /** The binary that must exist. */
  binary: string;
  /** argv for `<binary> --root <root> ...args`, wrapped where needed. */
  argv(root: string, args: readonly string[]): string[];
  wrapped: boolean;
}

function direct(name: string, binary: string, wrap: boolean): OciRuntime {
  return {
    name,
    binary,
    wrapped: wrap,
    argv: (root, args) => [...(wrap ? HIDE_UNIFIED : []), binary, '--root', root, ...args],
  };
}

/** The three runtimes; `wrapAll` also runs runc and berth-runtime inside crun's wrapper. */
export function runtimes(repo: string, wrapAll: boolean): OciRuntime[] {
  const runc: OciRuntime = wrapAll
    ? direct('runc', 'runc', true)
    : {
        name: 'runc',
        binary: 'runc',
        wrapped: false,
        argv: (root, args) => {
          const inv = runcInvocation(root, [...args]);
          return [inv.cmd, ...inv.args];
        },
      };
  const crun: OciRuntime = {
    name: 'crun',
    binary: 'crun',
    wrapped: true,
    argv: (root, args) => {
      const inv = crunInvocation(root, [...args]);
      return [inv.cmd, ...inv.args];
    },
  };
  return [direct('berth-runtime', `${repo}/bin/berth-runtime`, wrapAll), runc, crun];
}

export function binaryMissing(rt: OciRuntime): string | undefined {
  if (rt.binary.includes('/')) return existsSync(rt.binary) ? undefined : `${rt.binary} not found`;
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => existsSync(`${d}/${rt.binary}`)) ? undefined : `${rt.binary} not installed`;
}
