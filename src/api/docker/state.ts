import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/** A client attached to a container that is not running yet (docker run: attach, then start). */
export interface PendingAttach {
  /** Called by start with the output and input of the started container. */
  deliver: (a: import('../../engine/monitor/index.js').MonitorAttach) => void;
  stdin: boolean;
  conn: Duplex;
}

/** One event as /events streams it (moby api/types/events.Message). */
export interface DaemonEvent {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // the pre-1.22 fields docker still sends for containers
  status?: string;
  id?: string;
  from?: string;
}

/**
 * What the daemon keeps in memory between requests; everything else is on disk in the
 * engine's stores, so a restarted daemon loses only waiting clients and its event backlog.
 */
export class DaemonState {
  readonly pendingAttach = new Map<string, PendingAttach[]>();
  /** Exit codes of auto-removed containers, for `wait?condition=removed` answered after removal. */
  readonly removedExit = new Map<string, number>();
  readonly events = new EventEmitter();
  readonly #backlog: DaemonEvent[] = [];

  constructor() {
    this.events.setMaxListeners(0);
  }

  emit(type: DaemonEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const now = Date.now();
    const e: DaemonEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(now / 1000),
      timeNano: now * 1e6,
      ...(type === 'container' ? { status: action, id, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
    };
    this.#backlog.push(e);
    if (this.#backlog.length > 1000) this.#backlog.shift();
    this.events.emit('event', e);
  }

  backlog(): DaemonEvent[] {
    return [...this.#backlog];
  }
}
