import { writeSync } from 'node:fs';

const on = !!process.env.BERTH_TRACE;
let last = on ? performance.now() : 0;

/** BERTH_TRACE=1: the network steps' times on stderr, beside the engine's marks. */
export function mark(label: string): void {
  if (!on) return;
  const now = performance.now();
  writeSync(2, `[trace] ${now.toFixed(1).padStart(7)} ms  +${(now - last).toFixed(1).padStart(6)}  network: ${label}\n`);
  last = now;
}
