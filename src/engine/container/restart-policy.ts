import { BerthError } from '../../errors/index.js';
import type { RestartPolicy } from '../monitor/index.js';

/** docker's --restart values; the monitor applies them (docs/monitor.md). */
export function parseRestartPolicy(s: string): RestartPolicy {
  if (s === 'no' || s === 'always' || s === 'unless-stopped' || s === 'on-failure') return s;
  const m = /^on-failure:(\d+)$/.exec(s);
  if (m) return `on-failure:${Number(m[1])}`;
  throw new BerthError('INVALID_ARGUMENT', `invalid restart policy ${JSON.stringify(s)}: use no, always, unless-stopped or on-failure[:max-retries]`);
}

/** docker's inspect shape: {Name, MaximumRetryCount}. */
export function restartPolicyView(s: string | undefined): { Name: string; MaximumRetryCount: number } {
  if (!s) return { Name: 'no', MaximumRetryCount: 0 };
  const [name, n] = s.split(':');
  return { Name: name, MaximumRetryCount: n ? Number(n) : 0 };
}
