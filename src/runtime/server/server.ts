/**
 * The runtime server (docs/runtime-server.md): a long-lived Node process with the runtime
 * library warm, serving the C front end (native/berth-runtime.c) on a unix socket that only
 * root can reach (mode 0600 in a 0700 dir, and SO_PEERCRED uid 0). It goes away by itself
 * after a while without calls, and at once when a caller of another build shows up.
 */
import { closeSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { serveConnection, type RuntimeHandler } from './connection.js';
import { socketAnswers } from '../../util/socket.js';
import { InflightJournal } from './inflight.js';
import { peerCred } from './peercred.js';

export interface RuntimeServerOptions {
  socketPath: string;
  buildId: string;
  handle: RuntimeHandler;
  /** The start lock the front end holds for us (flock): released once we listen. */
  lockFd?: number;
  idleMs?: number;
  /** Diagnostics (the server's stderr is /dev/null when the front end starts it). */
  log?: (msg: string) => void;
}

export const DEFAULT_IDLE_MS = 30_000;

/** Listen and serve until idle or stale; resolves when the server has stopped. */
export async function serveRuntime(opts: RuntimeServerOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  mkdirSync(dirname(opts.socketPath), { recursive: true, mode: 0o700 });
  leaveCallerCgroups(log);
  const server = createServer({ allowHalfOpen: false });
  if (!(await listen(server, opts.socketPath))) {
    log(`another server answers on ${opts.socketPath}`);
    releaseLock(opts.lockFd);
    return;
  }
  const ino = lstatSync(opts.socketPath).ino;
  releaseLock(opts.lockFd);
  log(`listening on ${opts.socketPath} (build ${opts.buildId})`);
  const journal = new InflightJournal(`${opts.socketPath}.inflight`);
  journal.sweep(log);

  let active = 0;
  let stopping = false;
  let idle: NodeJS.Timeout | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping: ${why}`);
    clearTimeout(idle);
    // unlink first, so that a new server can bind while our last calls finish
    try {
      if (lstatSync(opts.socketPath).ino === ino) unlinkSync(opts.socketPath);
    } catch {
      // gone already
    }
    server.close(() => stopped());
  };
  const armIdle = () => {
    clearTimeout(idle);
    if (active === 0 && !stopping) idle = setTimeout(() => stop('idle'), opts.idleMs ?? DEFAULT_IDLE_MS);
  };
  server.on('connection', (sock: Socket) => {
    let cred;
    try {
      cred = peerCred(sock);
    } catch (err) {
      log(`peer credentials: ${(err as Error).message}`);
      return void sock.destroy();
    }
    sock.on('error', () => {});
    if (cred.uid !== 0) {
      // only root may create containers; the socket's mode says so too (unix(7))
      log(`refused uid ${cred.uid} (pid ${cred.pid})`);
      return void sock.end('DENIED\n');
    }
    if (!sameNamespaces(cred.pid)) {
      // paths, pids and cgroups would mean other things here: the caller runs the Node command
      log(`caller pid ${cred.pid} is in other namespaces`);
      return void sock.end('FOREIGN\n');
    }
    active++;
    clearTimeout(idle);
    void serveConnection(sock, {
      handle: opts.handle,
      buildId: opts.buildId,
      peerPid: cred.pid,
      onStale: () => stop('a caller of another build'),
      onRequest: (req) => {
        if (opts.log) log(`request from pid ${cred.pid}: ${JSON.stringify(req.argv)}`);
        return journal.note(req);
      },
    }).finally(() => {
      active--;
      armIdle();
    });
  });
  armIdle();
  process.once('SIGTERM', () => stop('SIGTERM'));
  await done;
}

/** Bind the socket (mode 0600). A socket file nobody answers on is a dead server's: replace it. */
async function listen(server: Server, path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await socketAnswers(path)) return false;
      try {
        unlinkSync(path);
      } catch {
        // raced with another server's clean-up
      }
    } finally {
      process.umask(old);
    }
  }
  return false;
}

const NAMESPACES = ['mnt', 'pid', 'user', 'cgroup'];
const ownNs = NAMESPACES.map((n) => statSync(`/proc/self/ns/${n}`).ino);

/** The caller sees the same files, pids and cgroups as we do (a caller in `unshare -m` does not). */
function sameNamespaces(pid: number): boolean {
  try {
    return NAMESPACES.every((n, i) => statSync(`/proc/${pid}/ns/${n}`).ino === ownNs[i]);
  } catch {
    return false;
  }
}

/**
 * The first caller starts us in its own cgroups (a shim's, conmon's, a test's): move to the
 * root cgroup of every hierarchy, as a daemon would be, so that removing the caller's cgroup
 * neither fails on us nor kills us. Best effort.
 */
function leaveCallerCgroups(log: (m: string) => void): void {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m || m[2] === '/') continue;
    const dirs = m[1] === '' ? ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'] : [`/sys/fs/cgroup/${m[1].replace(/^name=/, '')}`];
    for (const d of dirs) {
      try {
        writeFileSync(`${d}/cgroup.procs`, String(process.pid));
        break;
      } catch {
        // not this mount point, or not movable
      }
    }
  }
  log(`cgroups: ${readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').join(' ')}`);
}

function releaseLock(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // not ours after all
  }
}
