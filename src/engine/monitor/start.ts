import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/index.js';
import { BerthError, withCleanupError } from '../../errors/index.js';
import { monitorBinary } from './binary.js';
import { monitorFiles } from './paths.js';
import { failureError, type MonitorFailure } from './runtime-error.js';
import type { ExecMonitorOptions, MonitorHandle, MonitorOptions } from './types.js';

/** How long create (and start) may take: above the monitor's own 60 s limit per runtime call. */
const SYNC_TIMEOUT_MS = 150_000;

function monitorArgs(opts: MonitorOptions): string[] {
  const a = [
    '--id', opts.id,
    '--runtime', opts.runtimePath,
    '--root', opts.runtimeRoot,
    '--bundle', opts.bundle,
    '--state-dir', opts.stateDir,
    '--sync-fd', '3',
  ];
  if (opts.logPath) a.push('--log-path', opts.logPath);
  if (opts.logMaxSize) a.push('--log-max-size', String(opts.logMaxSize));
  if (opts.logMaxFiles) a.push('--log-max-files', String(opts.logMaxFiles));
  if (opts.terminal) a.push('--terminal');
  if (opts.stdin) a.push('--stdin');
  if (opts.start) a.push('--start');
  if (opts.restart) a.push('--restart', opts.restart);
  if (opts.startTimeout) a.push('--start-timeout', String(opts.startTimeout));
  if (opts.health) {
    const h = opts.health;
    a.push('--health-process', h.processPath, '--health-interval-ms', String(h.intervalMs), '--health-timeout-ms', String(h.timeoutMs));
    a.push('--health-start-period-ms', String(h.startPeriodMs), '--health-retries', String(h.retries));
  }
  if (opts.exitCommand?.length) {
    a.push('--exit-command', opts.exitCommand[0]);
    for (const arg of opts.exitCommand.slice(1)) a.push('--exit-command-arg', arg);
  }
  return a;
}

/**
 * Launch the container's monitor: it daemonizes (so it outlives this process), runs
 * `<runtime> create` (and `start` with options.start) and reports on fd 3. Resolves once the
 * container exists; rejects with the runtime's message, leaving no monitor, socket or state.
 */
export function startMonitor(options: MonitorOptions): Promise<MonitorHandle> {
  // the monitor runs in / : every path it gets must be absolute
  const opts = {
    ...options,
    bundle: resolve(options.bundle),
    stateDir: resolve(options.stateDir),
    logPath: options.logPath && resolve(options.logPath),
    runtimeRoot: resolve(options.runtimeRoot),
    runtimePath: absRuntime(options.runtimePath),
  };
  return launch(`create container ${JSON.stringify(opts.id)}`, opts, monitorArgs(opts), opts.monitorPath);
}

/**
 * Launch a monitor for an exec session into a running container. Without options.start the
 * process runs on a START request (attach first, then `MonitorAttach.start()`).
 */
export function startExec(options: ExecMonitorOptions): Promise<MonitorHandle> {
  const opts = {
    ...options,
    stateDir: resolve(options.stateDir),
    logPath: options.logPath && resolve(options.logPath),
    runtimeRoot: resolve(options.runtimeRoot),
    runtimePath: absRuntime(options.runtimePath),
  };
  const args = [
    '--id', opts.id,
    '--runtime', opts.runtimePath,
    '--root', opts.runtimeRoot,
    '--state-dir', opts.stateDir,
    '--exec', join(opts.stateDir, 'process.json'),
    '--sync-fd', '3',
  ];
  if (opts.logPath) args.push('--log-path', opts.logPath);
  if (opts.terminal) args.push('--terminal');
  if (opts.stdin) args.push('--stdin');
  if (opts.start) args.push('--start');
  return launch(`exec in container ${JSON.stringify(opts.id)}`, opts, args, opts.monitorPath, () =>
    writeFileAtomic(join(opts.stateDir, 'process.json'), JSON.stringify(opts.process), 0o600),
  );
}

/** A runtime given by path is made absolute; a bare name is left to the monitor's PATH lookup. */
function absRuntime(p: string): string {
  return p.includes('/') ? resolve(p) : p;
}

async function launch(
  action: string,
  opts: { stateDir: string },
  args: string[],
  monitorPath: string | undefined,
  prepare?: () => void,
): Promise<MonitorHandle> {
  let createdDir = false;
  try {
    statSync(opts.stateDir);
  } catch {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    createdDir = true;
  }
  const files = monitorFiles(opts.stateDir);
  const cleanup = () => {
    if (createdDir) rmSync(opts.stateDir, { recursive: true, force: true });
    else
      for (const f of [files.runtimeLog, files.containerPid, files.exit, join(opts.stateDir, 'process.json')])
        rmSync(f, { force: true });
  };
  try {
    prepare?.();
    const report = await runMonitor(monitorPath ?? monitorBinary(), args, opts.stateDir);
    if (report.ok) {
      return { monitorPid: report.monitorPid, containerPid: report.containerPid, started: report.started };
    }
    throw failureError(action, report);
  } catch (err) {
    const e = err instanceof BerthError ? err : BerthError.wrap(err, action);
    try {
      cleanup();
    } catch (cleanupErr) {
      throw withCleanupError(e, cleanupErr);
    }
    throw e;
  }
}

type Report = ({ ok: true; monitorPid: number; containerPid: number; started: boolean }) | ({ ok?: false } & MonitorFailure);

function runMonitor(bin: string, args: string[], stateDir: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    // fd 3 is a socketpair: the daemonized monitor keeps it until it has reported, so EOF
    // on it means "report complete" whatever happened to the intermediate processes.
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], detached: true });
    const sync = child.stdio[3] as NodeJS.ReadableStream;
    let text = '';
    let stderr = '';
    let exitCode: number | null = null;
    let syncDone = false;
    let exited = false;
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new BerthError('DEADLINE_EXCEEDED', `monitor did not report within ${SYNC_TIMEOUT_MS / 1000} s`);
      killMonitor(stateDir);
      (sync as unknown as { destroy(): void }).destroy();
      finish();
    }, SYNC_TIMEOUT_MS);
    const finish = () => {
      if (!(syncDone && exited) && !failed) return;
      clearTimeout(timer);
      if (failed) return reject(failed);
      const last = text.trim().split('\n').pop();
      if (!last) {
        const why = stderr.trim() || `exit status ${exitCode}`;
        return reject(new BerthError('INTERNAL', `run ${bin}: ${why}`));
      }
      try {
        resolve(JSON.parse(last) as Report);
      } catch {
        reject(new BerthError('INTERNAL', `run ${bin}: unreadable report ${JSON.stringify(last)}`));
      }
    };
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    sync.setEncoding('utf8');
    sync.on('data', (d: string) => (text += d));
    sync.on('error', () => {});
    sync.on('close', () => {
      syncDone = true;
      finish();
    });
    child.on('error', (err) => {
      failed = BerthError.wrap(err, `run ${bin}`);
      finish();
    });
    child.on('exit', (code) => {
      exitCode = code;
      exited = true;
      finish();
    });
    child.unref();
  });
}

/** SIGTERM the monitor of stateDir, if its pid file is there: it kills the container and exits. */
export function killMonitor(stateDir: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  try {
    const pid = Number(readFileSync(monitorFiles(stateDir).monitorPid, 'utf8').trim());
    if (pid > 0) {
      process.kill(pid, signal);
      return true;
    }
  } catch {
    /* not running */
  }
  return false;
}
