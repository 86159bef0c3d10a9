/**
 * Snapshots: the layers of images, unpacked once each, and the writable tops of containers.
 * See types.ts for the vocabulary (key, name, parent, active, view, committed, mounts).
 */
export type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterName, Usage } from './types.js';
export { OverlaySnapshotter } from './overlay.js';
export { NativeSnapshotter } from './native.js';
export { applyLayer, type ApplyLayerOptions, type ApplyLayerResult, type LayerFormat } from './apply-layer.js';
export { unpackLayer, rootfsMounts, type UnpackLayerOptions, type UnpackLayerResult } from './unpack-layer.js';
export { newSnapshotter, defaultSnapshotterName } from './new.js';
