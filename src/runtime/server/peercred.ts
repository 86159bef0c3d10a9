/** SO_PEERCRED of a connected unix socket (unix(7)), through native/build/berth-peercred.node. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { BerthError } from '../../errors/index.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

let addon: { peerCred(fd: number): [number, number, number] } | undefined;

function load(): NonNullable<typeof addon> {
  if (addon) return addon;
  const name = 'berth-peercred.node';
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'native', 'build', name);
    if (existsSync(p)) return (addon = createRequire(import.meta.url)(p) as NonNullable<typeof addon>);
    if (dirname(dir) === dir) break;
  }
  throw new BerthError('NOT_FOUND', `load ${name}: not found (run "make -C native")`);
}

/** Who is on the other end of `sock` (a unix socket accepted by net.Server). */
export function peerCred(sock: Socket): PeerCred {
  // net.Socket keeps its fd on the internal handle; there is no public accessor
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new BerthError('INTERNAL', 'runtime server: no fd for the connection');
  const [pid, uid, gid] = load().peerCred(fd);
  return { pid, uid, gid };
}
