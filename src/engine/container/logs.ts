import { followLogs, type FollowLogsOptions, type LogEntry } from '../monitor/index.js';
import type { Engine } from '../engine.js';

export interface LogsOptions extends Omit<FollowLogsOptions, 'stateDir'> {}

/** docker logs: the container's json-file log, following until the container stops. */
export function containerLogs(engine: Engine, ref: string, opts: LogsOptions = {}): AsyncIterable<LogEntry> {
  const rec = engine.containers.find(ref);
  const paths = engine.paths(rec.id);
  return followLogs(paths.log, { ...opts, ...(opts.follow ? { stateDir: paths.dir } : {}) });
}
