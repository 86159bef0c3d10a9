import type { Command } from 'commander';
import { containerLogs } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { writeAll } from './output.js';

/** docker's --since/--until: RFC 3339, unix seconds, or a duration like 10m ago. */
function parseSince(s: string): Date | number | string {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (m) {
    const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    return new Date(Date.now() - Number(m[1]) * mult);
  }
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

export const registerLogs: RegisterCommand = (program: Command, ctx) => {
  program
    .command('logs')
    .description("fetch the logs of a container")
    .argument('<container>', 'name or id')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('--since <time>', 'show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)')
    .option('-t, --timestamps', 'show timestamps')
    .action(async (ref: string, o: { follow?: boolean; tail: string; since?: string; timestamps?: boolean }) => {
      const engine = engineFor(ctx);
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const e of containerLogs(engine, ref, {
          follow: !!o.follow,
          ...(o.tail !== 'all' ? { tail: Number(o.tail) } : {}),
          ...(o.since ? { since: parseSince(o.since) } : {}),
          timestamps: !!o.timestamps,
          signal: ac.signal,
        })) {
          writeAll(e.stream === 'stderr' ? 2 : 1, Buffer.from(e.partial ? e.line : `${e.line}\n`));
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
    });
};
