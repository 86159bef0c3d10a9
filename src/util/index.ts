export * from './fs.js';
export * from './id.js';
export * from './process.js';
