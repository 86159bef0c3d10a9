import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegisterCommand } from './commands.js';

/** package.json's version: the first package.json above this file (the bundle in dist/bin or the compiled tree in dist/src). */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'berth') return pkg.version ?? 'dev';
    } catch {
      // not here: look one level up
    }
    if (dirname(dir) === dir) return 'dev';
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
