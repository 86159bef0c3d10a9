/**
 * The engine: containers and volumes over images, snapshots, the runtime drivers and the
 * per-container monitor. docs/engine.md.
 */
export { Engine, type EngineOptions } from './engine.js';
export * from './container/index.js';
export type { RuntimeDriver, RuntimeState } from './runtime-driver.js';
export { runtimeDriver, CommandRuntimeDriver } from './runtime-driver.js';
export type { NetworkManager, NetworkAttachment, NetworkSetupOptions, NetworkMode } from './network.js';
export { parseNetworkMode, effectiveNetworkMode } from './network.js';
export { networkView } from './network-view.js';
export { packTree, extractTree, statInRoot, resolveInRoot, type PathStat, type PackOptions, type ExtractOptions } from './tree-tar.js';
export type { RunConfig, MountRequest, DeviceRequest, Ulimit, HealthConfig } from './run-config.js';
export type { ContainerRecord, ContainerState, ContainerStatus } from './containers/store.js';
export type { Volume } from './volumes/store.js';
export { startFailureKind, type StartFailureKind } from './start-failure.js';
export { systemDf, systemPrune, type DfRow, type PruneResult } from './system.js';
export { EventLog, eventLog, eventMatches, parseEventFilters, parseEventTime, type EngineEvent, type EventSink, type EventType, type FollowOptions } from './events/index.js';
