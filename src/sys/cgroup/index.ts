export type { CgroupManager, CgroupStats, CgroupLayout } from './types.js';
export { detectLayout } from './layout.js';
export { openCgroups, type OpenCgroupsOptions } from './open.js';
export { resolveCgroupsPath } from './resolve-path.js';
export { translateV1 } from './translate-v1.js';
export { translateV2, sharesToWeight, swapMaxV2 } from './translate-v2.js';
export type { CgroupWrite } from './write.js';
export { cgroupMounts, type Hierarchy } from './mounts.js';
