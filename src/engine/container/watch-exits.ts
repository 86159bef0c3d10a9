import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';

const LIVE = new Set(['running', 'paused', 'restarting']);

/**
 * While someone follows events: look at every live container each `intervalMs`, so an exit
 * is recorded (and its `die` event written) when it happens rather than when a berth command
 * next looks. Daemonless, nothing else watches a detached container that has no exit command.
 * Stops with `signal`.
 */
export function watchExits(engine: Engine, signal: AbortSignal, intervalMs = 500): void {
  const tick = () => {
    try {
      for (const rec of engine.containers.list()) {
        if (!LIVE.has(rec.state.status)) continue;
        try {
          refreshContainer(engine, rec);
        } catch {
          /* removed meanwhile */
        }
      }
    } catch (err) {
      engine.warn(`watch container exits: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
