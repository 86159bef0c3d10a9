import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import type { RegisterCommand } from './commands.js';

function packageVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'dev';
  } catch {
    return 'dev';
  }
}

export const registerVersion: RegisterCommand = (program: Command, ctx) => {
  program
    .command('version')
    .description('show the berth version information')
    .option('-f, --format <format>', '"json" for JSON')
    .action((o: { format?: string }) => {
      const v = { Version: packageVersion(), ApiVersion: '1.43', Os: 'linux', Arch: arch() === 'x64' ? 'amd64' : arch(), KernelVersion: release(), NodeVersion: process.version };
      if (o.format === 'json') {
        ctx.out(JSON.stringify(v) + '\n');
        return;
      }
      ctx.out(`berth:\n Version:\t${v.Version}\n API version:\t${v.ApiVersion}\n OS/Arch:\t${v.Os}/${v.Arch}\n Kernel:\t${v.KernelVersion}\n Node:\t\t${v.NodeVersion}\n`);
    });
};
