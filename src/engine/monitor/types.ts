/** What the monitor wrote to `<stateDir>/exit` when it finished (docs/monitor.md). */
export interface ExitStatus {
  /** Exit code of the container's init, or 128 + signal number; -1 if it never ran. */
  exitCode: number;
  /** Signal that killed the init, 0 if it exited by itself. */
  signal: number;
  /** The memory cgroup counted an OOM kill while the container ran. */
  oomKilled: boolean;
  /** RFC 3339 (nanoseconds), or null if the container never started. */
  startedAt: string | null;
  finishedAt: string;
  restartCount: number;
  /** Why the monitor stopped it itself (caller's signal, start timeout, restart failure). */
  error: string | null;
}

/** docker's restart policies; unless-stopped behaves as always inside the monitor. */
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;

export interface MonitorOptions {
  /** Container id handed to the runtime. */
  id: string;
  /** OCI bundle directory (config.json + rootfs). */
  bundle: string;
  /** Any runc-compatible runtime binary. */
  runtimePath: string;
  /** The runtime's --root. */
  runtimeRoot: string;
  /** Per-container directory for the monitor's files; created if missing. */
  stateDir: string;
  /** Must match process.terminal of the bundle's config.json. */
  terminal: boolean;
  /** Keep the container's stdin open (docker -i): fed from attach clients. */
  stdin: boolean;
  /** docker json-file log; absent: no log at all (docker's `--log-driver none`). */
  logPath: string | undefined;
  /** Rotate when the log would exceed this many bytes (0 or absent: never). */
  logMaxSize?: number;
  /** Files kept in total, the live one included (docker's max-file, default 1). */
  logMaxFiles?: number;
  restart?: RestartPolicy;
  /** Run `<runtime> start` right after create (default: wait for a START request). */
  start?: boolean;
  /** Stop (kill) the created container if no START came within this many seconds. */
  startTimeout?: number;
  /**
   * Run this command (argv, looked up in PATH) once the exit file is written: the engine's
   * cleanup for a daemonless `--rm`, network teardown and the like (conmon's --exit-command).
   */
  exitCommand?: string[];
  /** Path of the berth-monitor binary (default: found beside the install). */
  monitorPath?: string;
  /** docker's HEALTHCHECK, run by the monitor (docs/monitor.md "Health checks"). */
  health?: MonitorHealth;
}

/** A health check the monitor runs every interval; State.Health goes to `<stateDir>/health.json`. */
export interface MonitorHealth {
  /** An OCI runtime-spec process JSON file (the check's args) for `<runtime> exec --process`. */
  processPath: string;
  intervalMs: number;
  /** Killed after this long: result -1, "Health check exceeded timeout". */
  timeoutMs: number;
  /** Failures in this time after the start do not count (a success ends it). */
  startPeriodMs: number;
  /** Consecutive failures that make the container unhealthy. */
  retries: number;
}

/**
 * An exec session under a monitor: `<runtime> exec --detach --process` into a running
 * container, with the same stdio, attach socket and exit file (its own state dir).
 */
export interface ExecMonitorOptions {
  /** The container's id. */
  id: string;
  /** The OCI runtime-spec `process` object to run (args, env, cwd, user, terminal...). */
  process: object;
  runtimePath: string;
  runtimeRoot: string;
  /** A state dir of this exec alone (not the container's). */
  stateDir: string;
  /** Must match process.terminal. */
  terminal: boolean;
  stdin: boolean;
  /** Optional json-file log of the exec's output (docker keeps none). */
  logPath?: string;
  /** Run the process at once (default: on a START request, after attaching). */
  start?: boolean;
  monitorPath?: string;
}

export interface MonitorHandle {
  monitorPid: number;
  /** The container's init (or the exec'd process); 0 for an exec not started yet. */
  containerPid: number;
  /** True when the monitor already ran `start` (options.start). */
  started: boolean;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** The text without its trailing newline (prefixed by the time when `timestamps`). */
  line: string;
  /** RFC 3339 with nanoseconds, as written by the monitor. */
  time: string;
  /** The entry had no trailing newline: a line longer than 16 KiB or the last bytes before EOF. */
  partial: boolean;
}

export interface FollowLogsOptions {
  /** Keep reading as the file grows (and rotates). */
  follow?: boolean;
  /** Only the last N entries that exist when reading starts. */
  tail?: number;
  /** Only entries at or after this time (Date, unix seconds, or an RFC 3339 string). */
  since?: Date | number | string;
  /** Prefix each line with its time and a space, as `docker logs -t` prints it. */
  timestamps?: boolean;
  /** With follow: stop once the monitor of this state dir has finished and the log is read. */
  stateDir?: string;
  /** Stop following. */
  signal?: AbortSignal;
  /** Poll interval while following, ms (default 100). */
  pollMs?: number;
}
