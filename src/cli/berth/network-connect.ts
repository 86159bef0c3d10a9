import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const registerNetworkConnect: RegisterCommand = (net: Command, ctx) => {
  net
    .command('connect')
    .description('connect a running container to a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('--alias <name>', 'network-scoped alias (repeatable)', collect, [])
    .option('--ip <address>', 'IPv4 address on the network')
    .action(async (network: string, container: string, o: { alias: string[]; ip?: string }) => {
      const c = engineFor(ctx).containers.find(container);
      await networkFor(ctx).connect(network, { id: c.id, name: c.name }, { aliases: o.alias, ...(o.ip ? { ip: o.ip } : {}) });
    });
};
