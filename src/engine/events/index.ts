/** The engine's event log: every berth process of a state dir appends, readers replay and follow. docs/engine.md. */
export { EventLog, type FollowOptions } from './log.js';
export { eventMatches, parseEventFilters, parseEventTime } from './filter.js';
export type { EngineEvent, EventSink, EventType } from './types.js';
export { eventLog, containerEvent } from './emit.js';
