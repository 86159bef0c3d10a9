import type { Command } from 'commander';
import { DockerServer } from '../../api/docker/index.js';
import { BerthError } from '../../errors/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

/** `--host unix:///path` (or a bare path) as a socket path. */
function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new BerthError('INVALID_ARGUMENT', `--host ${JSON.stringify(host)}: only unix:///path sockets are supported`);
}

export const registerDaemon: RegisterCommand = (program: Command, ctx) => {
  program
    .command('daemon')
    .description('serve the Docker Engine API on a unix socket (containers keep running when it stops)')
    .option('-H, --host <unix://path>', 'socket to listen on (default $BERTH_HOST or unix:///run/berth/berth.sock)')
    .option('--group <gid>', 'group owning the socket (mode 0660)', '0')
    .action(async (o: { host?: string; group: string }) => {
      const socket = socketPath(o.host || process.env.BERTH_HOST || 'unix:///run/berth/berth.sock');
      const engine = engineFor(ctx);
      const server = new DockerServer({ engine, socket, gid: Number(o.group), log: (l) => ctx.err(`${new Date().toISOString()} ${l}\n`) });
      await server.listen();
      ctx.err(`berth daemon: API listening on ${socket}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
};
