export * from './digest.js';
export * from './store.js';
export * from './lease.js';
export { processStart, isAlive } from './proc.js';
