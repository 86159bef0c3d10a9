import type { Command } from 'commander';
import { formatError, isBerthError } from '../../errors/index.js';
import {
  cleanupContainer,
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
import { parseDetachKeys } from './detach-keys.js';
import { streamAttach } from './stream-io.js';
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
 * signals to it (docker's sig-proxy), the detach keys (stream-io.ts); resolves with its exit
 * code, or 0 after a detach (then `onDetach` was called).
 */
export async function streamContainer(
  ctx: CliContext,
  engine: Engine,
  id: string,
  a: import('../../engine/monitor/index.js').MonitorAttach,
  opts: { stdin: boolean; tty: boolean; detachKeys?: Buffer; onDetach?: () => void },
): Promise<number> {
  void ctx;
  const r = await streamAttach(a, {
    stdin: opts.stdin,
    tty: opts.tty,
    detachKeys: opts.detachKeys ?? parseDetachKeys(undefined),
    onSignal: (s) => signalContainerByName(engine, id, s).catch(() => {}),
  });
  if (r.kind === 'detached') {
    opts.onDetach?.();
    return 0;
  }
  if (r.exitCode !== undefined) return r.exitCode;
  const rec = await waitStopped(engine, id);
  return rec?.state.exitCode ?? 125;
}

/**
 * --rm after the exit. A concurrent `berth ps` (or the monitor's exit command) may be removing
 * it already: then wait until it is gone, so that nothing is left when `run` returns.
 */
async function autoRemove(engine: Engine, id: string): Promise<void> {
  try {
    await removeContainer(engine, id, { force: true, volumes: true });
  } catch (err) {
    if (isBerthError(err, 'NOT_FOUND')) return;
    if (!isBerthError(err, 'CONFLICT')) throw err;
    const deadline = Date.now() + 30_000;
    while (engine.containers.tryFind(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
    let detached = false;
    mark('run: created');
    try {
      const { attach } = await startContainer(engine, rec.id, { attach: true });
      code = await streamContainer(ctx, engine, rec.id, attach!, {
        stdin: !!f.interactive,
        tty: !!f.tty,
        detachKeys: parseDetachKeys(f.detachKeys),
        onDetach: () => (detached = true),
      });
    } catch (err) {
      ctx.err(`berth: ${formatError(err)}\n`);
      code = exitCodeForStartError(err);
    }
    mark('run: container exited');
    if (detached) {
      // docker: the container keeps running; a --rm one is removed by `ps` once it exits
      ctx.err('\n');
      return;
    }
    if (rec.config.autoRemove) {
      try {
        await autoRemove(engine, rec.id);
      } catch (err) {
        ctx.err(`berth: ${formatError(err)}\n`);
      }
    } else {
      // it exited: record that and give its network back
      await cleanupContainer(engine, rec.id).catch(() => {});
    }
    setExit(code);
  });
};
