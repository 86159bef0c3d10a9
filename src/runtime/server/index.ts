/** The runtime server: the warm half of berth-runtime (docs/runtime-server.md). */
export { serveRuntime, DEFAULT_IDLE_MS, type RuntimeServerOptions } from './server.js';
export type { RuntimeHandler } from './connection.js';
export type { RuntimeRequest } from './protocol.js';
