import { join } from 'node:path';
import type { ContainerRecord } from '../containers/store.js';
import { EventLog } from './log.js';

const logs = new Map<string, EventLog>();

/** The event log of a state dir (one object per process and path). */
export function eventLog(state: string, onError?: (err: unknown) => void): EventLog {
  const path = join(state, 'events', 'events.jsonl');
  let l = logs.get(path);
  if (!l) logs.set(path, (l = new EventLog(path, onError ? { onError } : {})));
  return l;
}

/** Record a container event with the attributes docker puts on them (labels, image, name). */
export function containerEvent(log: EventLog, rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  log.append('container', action, rec.id, { ...rec.labels, image: rec.image, name: rec.name, ...extra });
}
