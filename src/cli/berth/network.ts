import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { registerNetworkConnect } from './network-connect.js';
import { registerNetworkCreate } from './network-create.js';
import { registerNetworkDisconnect } from './network-disconnect.js';
import { registerNetworkInspect } from './network-inspect.js';
import { registerNetworkLs } from './network-ls.js';
import { registerNetworkPrune } from './network-prune.js';
import { registerNetworkRm } from './network-rm.js';

/** `berth network ...`: one file per subcommand. docs/network.md. */
export const registerNetwork: RegisterCommand = (program: Command, ctx, setExit) => {
  const net = program.command('network').description('manage networks');
  for (const r of [registerNetworkCreate, registerNetworkLs, registerNetworkInspect, registerNetworkRm, registerNetworkConnect, registerNetworkDisconnect, registerNetworkPrune]) {
    r(net, ctx, setExit);
  }
};
