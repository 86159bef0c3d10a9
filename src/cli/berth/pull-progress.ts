import cliProgress from 'cli-progress';
import type { PullEvent } from '../../image/index.js';
import type { CliContext } from './context.js';

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

function human(n: number): string {
  if (n < 1024) return `${n}B`;
  const u = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < u.length - 1) ((v /= 1000), i++);
  return `${v.toFixed(v < 10 ? 2 : 1)}${u[i]}`;
}
export { human as humanSize };

/**
 * Pull progress: one bar per layer on a terminal, one line per status change otherwise
 * (never one per chunk, so logs stay readable).
 */
export function pullProgress(ctx: CliContext, stream: 'out' | 'err' = 'out'): { onEvent: (e: PullEvent) => void; stop: () => void } {
  const write = stream === 'out' ? ctx.out : ctx.err;
  if (!ctx.tty) {
    return {
      onEvent: (e) => {
        if (e.type === 'layer') write(`${short(e.digest)}: ${e.status} (${human(e.size)})\n`);
        else if (e.type === 'resolved') write(`resolved ${e.ref} to ${e.digest}\n`);
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: '{id}: {status} [{bar}] {done}/{all}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      stream: stream === 'out' ? process.stdout : process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const bar = (digest: string, size: number) => {
    let b = bars.get(digest);
    if (!b) {
      b = multi.create(Math.max(size, 1), 0, { id: short(digest), status: 'waiting', done: human(0), all: human(size) });
      bars.set(digest, b);
    }
    return b;
  };
  return {
    onEvent: (e) => {
      if (e.type === 'layer') {
        const b = bar(e.digest, e.size);
        const full = ['exists', 'downloaded', 'unpacking', 'unpacked', 'already-unpacked'].includes(e.status);
        b.update(full ? Math.max(e.size, 1) : b.getProgress() * Math.max(e.size, 1), { status: e.status, ...(full ? { done: human(e.size) } : {}) });
      } else if (e.type === 'progress') {
        bar(e.digest, e.size).update(e.bytes, { done: human(e.bytes) });
      }
    },
    stop: () => multi.stop(),
  };
}
