import type { Command } from 'commander';
import { CredentialStore } from '../../registry/index.js';
import type { RegisterCommand } from './commands.js';

export const registerLogout: RegisterCommand = (program: Command, ctx) => {
  program
    .command('logout')
    .description('forget the credentials kept for a registry')
    .argument('<server>', 'registry host[:port]')
    .action((server: string) => {
      const domain = server.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      if (new CredentialStore().remove(domain)) ctx.out(`Removing login credentials for ${domain}\n`);
      else ctx.out(`Not logged in to ${domain}\n`);
    });
};
