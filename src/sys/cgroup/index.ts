export type { CgroupManager, CgroupStats, CgroupLayout } from './types.js';
