/**
 * The per-container monitor (native/berth-monitor.c), seen from TypeScript: launch it, talk
 * to its attach socket, read its exit file and its docker json-file logs. docs/monitor.md.
 */
export { startMonitor, startExec, killMonitor } from './start.js';
export { readExit, waitExit, monitorPid } from './exit.js';
export { followLogs, parseLogLine, logFiles } from './logs.js';
export { attach, startContainer, disableRestart, MonitorAttach, type AttachChunk } from './attach.js';
export { monitorFiles } from './paths.js';
export { monitorBinary } from './binary.js';
export type { ExitStatus, RestartPolicy, MonitorOptions, ExecMonitorOptions, MonitorHandle, MonitorHealth, LogEntry, FollowLogsOptions } from './types.js';
