export * from './client.js';
export * from './credentials.js';
export * from './config.js';
export { parseChallenges, type Challenge } from './challenge.js';
