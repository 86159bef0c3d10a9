/**
 * One caller of the runtime server: read its request, run it, send its output and status.
 * For create/run/exec the caller's own process becomes berth-init ("EXEC n"): this connection
 * is then the helper's control channel (HelperChannel), and the call ends with "DONE n".
 */
import type { Socket } from 'node:net';
import { formatError, toBerthError } from '../../errors/index.js';
import { helperChannel, type AttachedHelper, type HelperChannel } from '../native.js';
import { encodeBytes, parseRequest, type RuntimeRequest } from './protocol.js';

/** What the server runs for a request: the runc-style command line (src/cli/runtime). */
export type RuntimeHandler = (argv: string[], io: { out(t: string): void; err(t: string): void; cwd: string }) => Promise<number>;

export interface ConnectionOptions {
  handle: RuntimeHandler;
  buildId: string;
  /** The caller's pid (SO_PEERCRED): after "EXEC" it is berth-init. */
  peerPid: number;
  /** A request with another build id: the server must go (it is stale). */
  onStale: () => void;
  /** The request is known (for the in-flight journal); returns the undo. */
  onRequest?: (req: RuntimeRequest) => () => void;
}

type Phase = 'request' | 'running' | 'exec-sent' | 'helper' | 'finished' | 'closed';

/** Serve one connection; resolves when the call is over (answered or the caller gone). */
export function serveConnection(sock: Socket, opts: ConnectionOptions): Promise<void> {
  return new Promise((resolve) => new Connection(sock, opts, resolve));
}

class Connection implements HelperChannel {
  readonly callerPid: number;
  #sock: Socket;
  #opts: ConnectionOptions;
  #done: () => void;
  #phase: Phase = 'request';
  #buf = '';
  #request: string[] = [];
  /** Output held while berth-init runs the launch: it reads output only after FINISH. */
  #held: string[] = [];
  /** Plan and answers written before the caller said EXECING. */
  #pending: string[] = [];
  #helper?: { onData: (d: string) => void; onEnd: () => void; exit: (n: number) => void };
  #exit?: Promise<number>;

  constructor(sock: Socket, opts: ConnectionOptions, done: () => void) {
    this.#sock = sock;
    this.#opts = opts;
    this.callerPid = opts.peerPid;
    this.#done = done;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => this.#data(d));
    sock.on('error', () => this.#closed());
    sock.on('close', () => this.#closed());
  }

  #data(d: string): void {
    this.#buf += d;
    let i;
    while ((i = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(i + 1);
      this.#line(line);
    }
  }

  #line(line: string): void {
    switch (this.#phase) {
      case 'request':
        if (line !== 'END') {
          this.#request.push(line);
          if (this.#request.length > 100_000) this.#sock.destroy();
          return;
        }
        this.#phase = 'running';
        void this.#run();
        return;
      case 'exec-sent':
        if (line !== 'EXECING') return void this.#sock.destroy();
        this.#phase = 'helper';
        for (const p of this.#pending.splice(0)) this.#sock.write(p);
        return;
      case 'helper':
        if (line.startsWith('FINISH ')) {
          this.#phase = 'finished';
          for (const h of this.#held.splice(0)) this.#sock.write(h);
          this.#helper?.exit(Number(line.slice(7)));
          return;
        }
        this.#helper?.onData(`${line}\n`);
        return;
      default:
      // nothing else is expected from the caller
    }
  }

  async #run(): Promise<void> {
    let req: RuntimeRequest;
    try {
      req = parseRequest(this.#request);
    } catch {
      return void this.#sock.destroy();
    }
    this.#request = [];
    if (req.buildId !== this.#opts.buildId) {
      this.#sock.end('STALE\n');
      this.#opts.onStale();
      return;
    }
    this.#sock.write('OK\n');
    const undo = this.#opts.onRequest?.(req);
    const io = { out: (t: string) => this.#output(1, t), err: (t: string) => this.#output(2, t), cwd: req.cwd };
    let status: number;
    try {
      status = await helperChannel.run(this, () => this.#opts.handle(req.argv, io));
    } catch (err) {
      io.err(`berth-runtime: ${formatError(toBerthError(err))}\n`);
      status = 1;
    }
    if (this.#exit) {
      // the helper's own word comes first (it is waiting for ours after FINISH)
      await this.#exit;
      this.#finish(`DONE ${status}\n`);
    } else this.#finish(`EXIT ${status}\n`);
    undo?.();
  }

  #output(fd: 1 | 2, text: string): void {
    if (this.#phase === 'closed' || !text) return;
    const line = `OUT ${fd} ${encodeBytes(Buffer.from(text, 'utf8'))}\n`;
    if (this.#phase === 'exec-sent' || this.#phase === 'helper') this.#held.push(line);
    else this.#sock.write(line);
  }

  #finish(last: string): void {
    if (this.#phase !== 'closed') this.#sock.end(last);
    this.#closed();
  }

  #closed(): void {
    if (this.#phase === 'closed') return;
    const wasHelper = this.#phase === 'helper' || this.#phase === 'exec-sent';
    this.#phase = 'closed';
    if (wasHelper && this.#helper) {
      this.#helper.onEnd();
      this.#helper.exit(255);
    }
    this.#done();
  }

  /** HelperChannel: the caller execs berth-init on this connection. */
  attach(preserveFds: number, onData: (d: string) => void, onEnd: () => void): AttachedHelper {
    if (this.#phase !== 'running') throw new Error(`runtime server: a second helper in one call (${this.#phase})`);
    let exit!: (n: number) => void;
    this.#exit = new Promise<number>((r) => (exit = r));
    let exited = false;
    this.#helper = {
      onData,
      onEnd,
      exit: (n) => {
        if (!exited) (exited = true), exit(n);
      },
    };
    this.#phase = 'exec-sent';
    this.#sock.write(`EXEC ${preserveFds}\n`);
    return {
      write: (data) => {
        if (this.#phase === 'exec-sent') this.#pending.push(data);
        else if (this.#phase === 'helper') this.#sock.write(data);
      },
      exit: this.#exit,
      kill: () => {
        // the helper is the caller's process (same pid after exec); its init follows it
        // through PR_SET_PDEATHSIG, as when the helper is our child
        if (this.#phase === 'helper' || this.#phase === 'exec-sent') {
          try {
            process.kill(this.callerPid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        this.#sock.destroy();
      },
    };
  }
}
