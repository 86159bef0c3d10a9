import type { Command } from 'commander';
import { BerthError } from '../../errors/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface Flags {
  driver: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  label: string[];
}

export const registerNetworkCreate: RegisterCommand = (net: Command, ctx) => {
  net
    .command('create')
    .description('create a network (a Linux bridge with NAT, through CNI)')
    .argument('<name>', 'network name')
    .option('-d, --driver <driver>', 'network driver (bridge only)', 'bridge')
    .option('--subnet <cidr>', 'IPv4 subnet (default: a free /24 of 10.123.0.0/16)')
    .option('--gateway <ip>', 'IPv4 gateway of the subnet (default: its first address)')
    .option('--internal', 'restrict external access to the network (no NAT, no default route)')
    .option('--label <key=value>', 'set metadata on a network (repeatable)', collect, [])
    .action(async (name: string, f: Flags) => {
      if (f.driver !== 'bridge') throw new BerthError('NOT_IMPLEMENTED', `network driver ${JSON.stringify(f.driver)}: only bridge is supported`);
      engineFor(ctx);
      const labels = Object.fromEntries(f.label.map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      const n = await networkFor(ctx).create(name, {
        ...(f.subnet ? { subnet: f.subnet } : {}),
        ...(f.gateway ? { gateway: f.gateway } : {}),
        ...(f.internal ? { internal: true } : {}),
        labels,
      });
      ctx.out(`${n.id}\n`);
    });
};
