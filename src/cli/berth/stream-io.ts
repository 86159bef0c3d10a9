import type { MonitorAttach } from '../../engine/monitor/index.js';
import { DetachWatcher } from './detach-keys.js';
import { writeAll } from './output.js';

export interface StreamOptions {
  /** Forward our stdin (docker -i). */
  stdin: boolean;
  /** The process has a pty: raw mode on our terminal, window size forwarded. */
  tty: boolean;
  /** The detach sequence (empty: none). Only watched when stdin is forwarded. */
  detachKeys: Buffer;
  /** A signal we received (sig-proxy); SIGWINCH is handled here. */
  onSignal?: (signal: NodeJS.Signals) => void;
}

export type StreamResult = { kind: 'exit'; exitCode: number | undefined } | { kind: 'detached' };

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Connect our terminal or pipes to an attach of a monitor (container or exec): output to our
 * stdout/stderr, stdin to it, SIGWINCH to RESIZE frames, the detach keys to "leave it running".
 * In raw mode ctrl-c and ctrl-d are plain bytes for the pty (termios(3): no ISIG, no ICANON),
 * so the container's line discipline turns them into SIGINT and EOF, as docker does.
 */
export async function streamAttach(a: MonitorAttach, opts: StreamOptions): Promise<StreamResult> {
  // 'end' comes after every chunk was handed to 'data': wait for it before leaving
  const ended = new Promise<void>((r) => {
    a.once('end', () => r());
    a.once('close', () => r());
  });
  a.on('data', (c: { stream: 'stdout' | 'stderr'; data: Buffer }) => writeAll(c.stream === 'stderr' ? 2 : 1, c.data));
  a.on('error', () => {});
  const ttyIn = opts.tty && process.stdin.isTTY === true;
  const resize = () => {
    const out = process.stdout.isTTY ? process.stdout : undefined;
    if (opts.tty && out?.columns) a.resize(out.rows, out.columns);
  };
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const s of [...PROXIED, 'SIGWINCH' as const]) {
    const h = s === 'SIGWINCH' ? resize : () => opts.onSignal?.(s);
    handlers.set(s, h);
    process.on(s, h);
  }
  let detach!: () => void;
  const detached = new Promise<'detached'>((r) => (detach = () => r('detached')));
  if (opts.stdin) {
    if (ttyIn) process.stdin.setRawMode(true);
    const watcher = new DetachWatcher(opts.detachKeys);
    process.stdin.on('data', (d: Buffer) => {
      const { forward, detach: leave } = watcher.push(d);
      if (forward.length) a.write(forward);
      if (leave) detach();
    });
    process.stdin.on('end', () => a.end());
    process.stdin.resume();
  }
  resize();
  try {
    const r = await Promise.race([a.exit, detached]);
    if (r === 'detached') return { kind: 'detached' };
    await Promise.race([ended, new Promise((res) => setTimeout(res, 2000).unref())]);
    return { kind: 'exit', exitCode: r?.exitCode };
  } finally {
    for (const [s, h] of handlers) process.removeListener(s, h);
    if (opts.stdin) {
      if (ttyIn) process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdin.destroy();
    }
    a.destroy();
  }
}
