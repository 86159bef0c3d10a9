import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

export const registerNetworkDisconnect: RegisterCommand = (net: Command, ctx) => {
  net
    .command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('-f, --force', 'accepted for docker compatibility')
    .action(async (network: string, container: string) => {
      const c = engineFor(ctx).containers.find(container);
      await networkFor(ctx).disconnect(network, { id: c.id, name: c.name });
    });
};
