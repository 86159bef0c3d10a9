import type { Duplex } from 'node:stream';

/** A client attached to a container that is not running yet (docker run: attach, then start). */
export interface PendingAttach {
  /** Called by start with the output and input of the started container. */
  deliver: (a: import('../../engine/monitor/index.js').MonitorAttach) => void;
  stdin: boolean;
  conn: Duplex;
}

/**
 * What the daemon keeps in memory between requests; everything else is on disk in the
 * engine's stores, so a restarted daemon loses only waiting clients and its event backlog.
 */
export class DaemonState {
  readonly pendingAttach = new Map<string, PendingAttach[]>();
  /** Exit codes of auto-removed containers, for `wait?condition=removed` answered after removal. */
  readonly removedExit = new Map<string, number>();
  /** Clients following GET /events now (`NEventsListener` of /info). */
  eventListeners = 0;
}
