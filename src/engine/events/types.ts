/** What an event is about (docker's event types that berth produces). */
export type EventType = 'container' | 'image' | 'volume' | 'network';

/**
 * One engine event, as stored one per line in the event log. `time` is milliseconds since
 * the epoch with a sub-millisecond fraction; `id` is the object's id (a container's or image's
 * id, a volume's or network's name or id) and `attributes` what docker puts on its events.
 */
export interface EngineEvent {
  time: number;
  type: EventType;
  action: string;
  id: string;
  attributes: Record<string, string>;
}

/** How modules below the engine report an event (handed to them by their constructor). */
export type EventSink = (action: string, id: string, attributes?: Record<string, string>) => void;
