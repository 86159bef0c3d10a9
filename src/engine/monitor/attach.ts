import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { encodeFrame, encodeResize, FRAME, FrameDecoder, MAX_CLIENT_PAYLOAD } from './frame.js';
import { monitorFiles } from './paths.js';
import { failureError } from './runtime-error.js';
import type { ExitStatus } from './types.js';

/** One chunk of container output as the monitor relayed it. */
export interface AttachChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/**
 * A connection to a monitor's attach socket. Readable side (object mode): AttachChunk for
 * live output. Writable side: bytes for the container's stdin; end() closes its stdin.
 * `exit` resolves with the final status when the monitor finishes (undefined if the
 * connection closed first).
 */
export class MonitorAttach extends Duplex {
  readonly exit: Promise<ExitStatus | undefined>;
  #sock: Socket;
  #decoder = new FrameDecoder();
  #startWaiters: { resolve: (pid: number) => void; reject: (e: Error) => void }[] = [];
  #pongWaiters: (() => void)[] = [];
  #resolveExit!: (s: ExitStatus | undefined) => void;
  #id: string;

  constructor(sock: Socket, id: string) {
    super({ readableObjectMode: true, allowHalfOpen: true });
    this.#sock = sock;
    this.#id = id;
    this.exit = new Promise((r) => (this.#resolveExit = r));
    sock.on('data', (d: Buffer) => this.#onData(d));
    sock.on('close', () => {
      this.#resolveExit(undefined);
      for (const w of this.#pongWaiters.splice(0)) w();
      for (const w of this.#startWaiters.splice(0))
        w.reject(new BerthError('UNAVAILABLE', `start ${this.#id}: the monitor closed the connection`));
      this.push(null);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // the monitor finished while we were writing: a normal end, 'close' follows
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
      this.destroy(BerthError.wrap(err, `attach ${this.#id}`));
    });
  }

  #onData(d: Buffer): void {
    for (const f of this.#decoder.push(d)) {
      if (f.type === FRAME.stdout || f.type === FRAME.stderr) {
        this.push({ stream: f.type === FRAME.stdout ? 'stdout' : 'stderr', data: Buffer.from(f.payload) } satisfies AttachChunk);
      } else if (f.type === FRAME.startResult) {
        const w = this.#startWaiters.shift();
        const r = JSON.parse(f.payload.toString('utf8')) as { ok?: boolean; containerPid?: number; error?: string; output?: string; runtimeLog?: string };
        if (!w) continue;
        if (r.ok) w.resolve(r.containerPid ?? 0);
        else {
          const failure = { error: r.error ?? 'start failed', output: r.output, runtimeLog: r.runtimeLog };
          w.reject(failureError(`start container ${JSON.stringify(this.#id)}`, failure));
        }
      } else if (f.type === FRAME.pong) {
        this.#pongWaiters.shift()?.();
      } else if (f.type === FRAME.exit) {
        this.#resolveExit(JSON.parse(f.payload.toString('utf8')) as ExitStatus);
      }
    }
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.#sock.writable) return cb(); // the monitor is gone: nobody to read stdin
    for (let off = 0; off < chunk.length; off += MAX_CLIENT_PAYLOAD) {
      this.#sock.write(encodeFrame(FRAME.stdin, chunk.subarray(off, off + MAX_CLIENT_PAYLOAD)));
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#sock.writable) return cb();
    this.#sock.write(encodeFrame(FRAME.closeStdin), () => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#sock.destroy();
    cb(err);
  }

  /** Set the pty's window size (terminal containers only; ignored otherwise). */
  resize(rows: number, cols: number): void {
    if (this.#sock.writable) this.#sock.write(encodeResize(rows, cols));
  }

  /** Ask the monitor to run `<runtime> start`; resolves with the container pid. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (!this.#sock.writable)
        return reject(new BerthError('UNAVAILABLE', `start container ${JSON.stringify(this.#id)}: the monitor has finished`));
      this.#startWaiters.push({ resolve, reject });
      this.#sock.write(encodeFrame(FRAME.start));
    });
  }

  /**
   * Resolves once the monitor has registered this client (PING/PONG): from then on it gets all
   * output. Needed by a caller that starts the container itself rather than with start().
   */
  ready(): Promise<void> {
    return new Promise((resolve) => {
      this.#pongWaiters.push(resolve);
      this.#sock.write(encodeFrame(FRAME.ping));
    });
  }

  /** The next exit is final whatever the restart policy says (before a stop or kill). */
  noRestart(): Promise<void> {
    // a finished monitor restarts nothing
    if (!this.#sock.writable) return Promise.resolve();
    return new Promise((resolve) => this.#sock.write(encodeFrame(FRAME.noRestart), () => resolve()));
  }
}

/** Connect to the attach socket of the monitor in stateDir. */
export function attach(stateDir: string, id = stateDir): Promise<MonitorAttach> {
  const path = monitorFiles(stateDir).attach;
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.removeListener('error', onError);
      resolve(new MonitorAttach(sock, id));
    });
    const onError = (err: Error) => reject(BerthError.wrap(err, `attach ${JSON.stringify(id)}: connect ${path}`, 'UNAVAILABLE'));
    sock.once('error', onError);
  });
}

/** Run `<runtime> start` through the container's monitor (the engine's `start`). */
export async function startContainer(stateDir: string, id = stateDir): Promise<number> {
  const a = await attach(stateDir, id);
  try {
    return await a.start();
  } finally {
    a.destroy();
  }
}

/** Tell the monitor not to restart the container after its next exit (before stop/kill). */
export async function disableRestart(stateDir: string, id = stateDir): Promise<void> {
  const a = await attach(stateDir, id);
  try {
    await a.noRestart();
  } finally {
    a.destroy();
  }
}
