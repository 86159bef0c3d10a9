import type { Command } from 'commander';
import { BerthError } from '../../errors/index.js';
import { formatMapping, parsePublish } from '../../network/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

export const registerPort: RegisterCommand = (program: Command, ctx) => {
  program
    .command('port')
    .description("list a container's published ports, or the one for PRIVATE_PORT")
    .argument('<container>', 'container name or id')
    .argument('[port]', 'PRIVATE_PORT[/PROTO]')
    .action((container: string, port: string | undefined) => {
      const c = engineFor(ctx).containers.find(container);
      let maps = networkFor(ctx).ports(c.id);
      if (port) {
        const want = parsePublish(port);
        maps = maps.filter((m) => m.containerPort === want.containerPort && m.protocol === want.protocol);
        if (!maps.length) throw new BerthError('NOT_FOUND', `no public port '${port}' published for ${c.name}`);
        for (const m of maps) ctx.out(`${m.hostIP || '0.0.0.0'}:${m.hostPort}\n`);
        return;
      }
      for (const m of maps) ctx.out(`${formatMapping(m)}\n`);
    });
};
