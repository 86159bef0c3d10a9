/**
 * A `--console-socket` receiver. The runtime connects to the socket and sends the pty master
 * over SCM_RIGHTS; Node cannot receive fds, so test/fixtures/console-recv.c does it and
 * relays: master -> its stdout (collected here), our writes -> master.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import type { Scope } from './scope.js';

export class ConsoleReceiver {
  readonly socketPath: string;
  readonly #child: ChildProcess;
  #out: Buffer[] = [];
  #err = '';
  readonly #exited: Promise<number | null>;
  #received = false;
  #waiters: (() => void)[] = [];

  private constructor(socketPath: string, child: ChildProcess) {
    this.socketPath = socketPath;
    this.#child = child;
    child.stdout!.on('data', (b: Buffer) => {
      this.#out.push(b);
      this.#wake();
    });
    this.#exited = new Promise((resolve) => child.on('close', (code) => (this.#wake(), resolve(code))));
  }

  /** Starts listening on a socket in the scope dir; resolves once it accepts connections. */
  static async start(scope: Scope): Promise<ConsoleReceiver> {
    const socketPath = join(scope.mkdtemp('console'), 'console.sock');
    const child = spawn(fixture('console-recv'), [socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const rx = new ConsoleReceiver(socketPath, child);
    scope.defer('stop console receiver', () => rx.close());
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (b: Buffer) => {
        rx.#err += b.toString();
        if (rx.#err.includes('received')) rx.#received = true;
        if (rx.#err.includes('listening')) resolve();
        rx.#wake();
      });
      child.on('close', (code) => reject(new Error(`console-recv exited ${code}: ${rx.#err}`)));
    });
    return rx;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** True once the runtime has handed over the pty master. */
  get received(): boolean {
    return this.#received;
  }

  /** Everything read from the pty master so far. */
  output(): string {
    return Buffer.concat(this.#out).toString();
  }

  /** Sends keystrokes to the container's terminal. */
  write(data: string): void {
    this.#child.stdin!.write(data);
  }

  /** Waits until the output matches, or throws with what was seen. */
  async waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const hit = (): boolean => (typeof pattern === 'string' ? this.output().includes(pattern) : pattern.test(this.output()));
    while (!hit()) {
      if (Date.now() > deadline || this.#child.exitCode !== null)
        if (!hit()) throw new Error(`console: no ${String(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(this.output())}; ${this.#err}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => (clearTimeout(t), r()));
      });
    }
    return this.output();
  }

  /** Waits for the relay to end (every slave fd closed): its exit status. */
  async waitExit(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`console: relay still running after ${timeoutMs} ms; output ${JSON.stringify(this.output())}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the relay (closes our end of the pty master). */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }
}
