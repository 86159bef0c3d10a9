import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import {
  createContainer,
  removeContainer,
  startContainer,
  waitStopped,
  type Engine,
  type PullPolicy,
} from '../../engine/index.js';
import { mark } from '../../engine/trace.js';
import { signalContainerByName } from './signals.js';
import type { RegisterCommand } from './commands.js';
import type { CliContext } from './context.js';
import { exitCodeForStartError } from './container-exit.js';
import { engineFor } from './engine.js';
import { writeAll } from './output.js';
import { pullProgress } from './pull-progress.js';
import { addRunFlags, runConfigFrom, type RunFlags } from './run-flags.js';

/** Create with docker's pull messages; shared by `run` and `create`. */
export async function createWithPull(ctx: CliContext, engine: Engine, image: string, command: string[], f: RunFlags) {
  const config = runConfigFrom(image, command, f);
  const progress = { current: undefined as ReturnType<typeof pullProgress> | undefined };
  try {
    return await createContainer(engine, {
      config,
      pull: (f.pull ?? 'missing') as PullPolicy,
      ...(f.platform ? { platform: f.platform } : {}),
      onPull: (ref) => {
        ctx.err(`Unable to find image '${ref}' locally\n`);
        progress.current = pullProgress(ctx, 'err');
      },
      onPullEvent: (e) => progress.current?.onEvent(e),
    });
  } finally {
    progress.current?.stop();
  }
}

/**
 * Attach to a started container: its output to our stdout/stderr, our stdin to it (-i), our
 * signals to it (docker's sig-proxy); resolves with its exit code.
 */
export async function streamContainer(ctx: CliContext, engine: Engine, id: string, a: import('../../engine/monitor/index.js').MonitorAttach, opts: { stdin: boolean; tty: boolean }): Promise<number> {
  // 'end' comes after every chunk was handed to 'data': wait for it before leaving, or output
  // still buffered in the stream when the EXIT frame arrives would be lost
  const ended = new Promise<void>((r) => {
    a.once('end', () => r());
    a.once('close', () => r());
  });
  a.on('data', (c: { stream: 'stdout' | 'stderr'; data: Buffer }) => writeAll(c.stream === 'stderr' ? 2 : 1, c.data));
  a.on('error', () => {});
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  const handlers = new Map<NodeJS.Signals, () => void>();
  const stdinIsTty = opts.tty && process.stdin.isTTY === true;
  for (const s of signals) {
    const h = () => {
      if (s === 'SIGWINCH') {
        if (stdinIsTty && process.stdout.columns) a.resize(process.stdout.rows, process.stdout.columns);
        return;
      }
      signalContainerByName(engine, id, s).catch(() => {});
    };
    handlers.set(s, h);
    process.on(s, h);
  }
  if (opts.stdin) {
    if (stdinIsTty) {
      process.stdin.setRawMode(true);
      if (process.stdout.columns) a.resize(process.stdout.rows, process.stdout.columns);
    }
    process.stdin.on('data', (d: Buffer) => a.write(d));
    process.stdin.on('end', () => a.end());
    process.stdin.resume();
  }
  try {
    const exit = await a.exit;
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (exit) return exit.exitCode;
    const rec = await waitStopped(engine, id);
    return rec?.state.exitCode ?? 125;
  } finally {
    for (const [s, h] of handlers) process.removeListener(s, h);
    if (opts.stdin) {
      if (stdinIsTty) process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdin.destroy();
    }
    a.destroy();
  }
}

export const registerRun: RegisterCommand = (program: Command, ctx, setExit) => {
  addRunFlags(
    program
      .command('run')
      .description('create and start a container, then attach to it (or print its id with -d)')
      .helpOption('--help', 'display help for command')
      .argument('<image>', 'image reference')
      .argument('[command...]', 'command and arguments')
      .passThroughOptions()
      .option('-d, --detach', 'run the container in the background and print its id'),
  ).action(async (image: string, command: string[], f: RunFlags) => {
    const engine = engineFor(ctx);
    const rec = await createWithPull(ctx, engine, image, command, f);
    if (f.detach) {
      try {
        await startContainer(engine, rec.id);
      } catch (err) {
        if (rec.config.autoRemove) await removeContainer(engine, rec.id, { force: true, volumes: true }).catch(() => {});
        ctx.err(`berth: ${formatError(err)}\n`);
        setExit(exitCodeForStartError(err));
        return;
      }
      ctx.out(`${rec.id}\n`);
      return;
    }
    let code: number;
    mark('run: created');
    try {
      const { attach } = await startContainer(engine, rec.id, { attach: true });
      code = await streamContainer(ctx, engine, rec.id, attach!, { stdin: !!f.interactive, tty: !!f.tty });
    } catch (err) {
      ctx.err(`berth: ${formatError(err)}\n`);
      code = exitCodeForStartError(err);
    }
    mark('run: container exited');
    if (rec.config.autoRemove) {
      try {
        await removeContainer(engine, rec.id, { force: true, volumes: true });
      } catch (err) {
        ctx.err(`berth: ${formatError(err)}\n`);
      }
    }
    setExit(code);
  });
};
