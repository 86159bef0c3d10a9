import type { Command } from 'commander';
import { attachContainer, waitStopped } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { parseDetachKeys } from './detach-keys.js';
import { engineFor } from './engine.js';
import { signalContainerByName } from './signals.js';
import { streamAttach } from './stream-io.js';

export const registerAttach: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('attach')
    .description("attach our stdin, stdout and stderr to a running container")
    .argument('<container>', 'name or id')
    .option('--no-stdin', 'do not attach stdin')
    .option('--sig-proxy <bool>', 'forward received signals to the container (not with a tty)', 'true')
    .option('--detach-keys <keys>', 'key sequence to detach (default ctrl-p,ctrl-q)')
    .action(async (ref: string, o: { stdin: boolean; sigProxy: string; detachKeys?: string }) => {
      const engine = engineFor(ctx);
      const detachKeys = parseDetachKeys(o.detachKeys);
      const { container, attach } = await attachContainer(engine, ref);
      const tty = !!container.config.tty;
      const proxy = o.sigProxy !== 'false' && !tty;
      const r = await streamAttach(attach, {
        stdin: o.stdin && !!container.config.openStdin,
        tty,
        detachKeys,
        onSignal: (s) => {
          if (proxy) signalContainerByName(engine, container.id, s).catch(() => {});
        },
      });
      if (r.kind === 'detached') {
        ctx.err('\n');
        return;
      }
      if (r.exitCode !== undefined) return setExit(r.exitCode);
      const rec = await waitStopped(engine, container.id);
      setExit(rec?.state.exitCode ?? 0);
    });
};
