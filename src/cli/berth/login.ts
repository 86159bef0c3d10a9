import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CredentialStore, RegistryClient } from '../../registry/index.js';
import { BerthError } from '../../errors/index.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './context.js';

export const registerLogin: RegisterCommand = (program: Command, ctx) => {
  program
    .command('login')
    .description('check credentials against a registry and keep them in ~/.docker/config.json')
    .argument('<server>', 'registry host[:port]')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (server: string, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      const domain = server.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      if (!o.username) throw usageError('login: --username is required');
      let password = o.password;
      if (o.passwordStdin) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (password === undefined) throw usageError('login: give --password or --password-stdin');
      const creds = { username: o.username, password };
      const client = new RegistryClient({ root: ctx.root });
      client.useCredentials(domain, creds);
      try {
        await client.ping(domain);
      } catch (err) {
        throw BerthError.wrap(err, `login to ${domain}`);
      }
      new CredentialStore().set(domain, creds);
      ctx.out('Login Succeeded\n');
    });
};
