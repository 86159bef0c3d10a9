import { cgroupOf } from '../../runtime/context.js';
import { BerthError } from '../../errors/index.js';
import { bool, need } from './args.js';
import type { RuntimeCommand } from './command.js';

/** `events --stats ID`: one stats event, the form containerd's shim reads for metrics. */
export const events: RuntimeCommand = {
  name: 'events',
  usage: 'events --stats ID',
  flags: [{ name: 'stats' }, { name: 'interval', value: true }],
  run(cli, a) {
    const [id] = need(a, ['ID'], 'events');
    if (!bool(a, 'stats')) throw new BerthError('NOT_IMPLEMENTED', 'events: only --stats is supported');
    const s = cgroupOf(cli.rt.root.load(id)).stats();
    const data = {
      cpu: { usage: { total: s.cpu.usageNanos }, throttling: { periods: s.cpu.throttledPeriods ?? 0 } },
      memory: { usage: { usage: s.memory.usage, limit: s.memory.limit, max: s.memory.maxUsage ?? 0, failcnt: 0 }, oom_kills: s.memory.oomKills },
      pids: { current: s.pids.current, limit: s.pids.limit },
    };
    cli.out(`${JSON.stringify({ type: 'stats', id, data })}\n`);
    return 0;
  },
};
