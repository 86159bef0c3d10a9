export * from './fs.js';
export * from './id.js';
