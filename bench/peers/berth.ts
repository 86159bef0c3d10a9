/**
 * berth's own CLI, from the checkout being measured (`<repo>/bin/berth`), with a private root
 * and state dir per store. Which commands exist is read from `berth --help`, so the suites
 * report "not implemented yet" until a command lands and measure it once it does.
 */
import { join } from 'node:path';
import { run } from '../lib/proc.js';

export interface BerthCommand {
  bin: string;
  env: NodeJS.ProcessEnv;
  /** argv for `berth --root D/root --state D/state ...args`. */
  argv(dir: string, args: readonly string[]): string[];
  /** The top-level commands `berth --help` lists. */
  commands(): Promise<Set<string>>;
  /** How to get from a pulled image to a prepared rootfs, if the CLI can. */
  rootfsCommand(): Promise<((ref: string, id: string) => string[]) | undefined>;
  /** Remove every container of the store in `dir` (`ps -aq`, `rm -f`), untimed clean-up. */
  removeContainers(dir: string): Promise<void>;
}

export function berthCommand(repo: string): BerthCommand {
  const bin = join(repo, 'bin/berth');
  let listed: Promise<Set<string>> | undefined;
  const self: BerthCommand = {
    bin,
    env: process.env,
    argv: (dir, args) => [bin, '--root', join(dir, 'root'), '--state', join(dir, 'state'), ...args],
    commands() {
      listed ??= run([bin, '--help'], { timeoutMs: 20_000 }).then((r) => {
        const out = new Set<string>();
        let inCommands = false;
        for (const line of r.stdout.split('\n')) {
          if (/^Commands:/.test(line)) inCommands = true;
          else if (inCommands && /^\S/.test(line)) inCommands = false;
          else if (inCommands) {
            const m = /^\s+([a-z][\w-]*)/.exec(line);
            if (m) out.add(m[1]);
          }
        }
        return out;
      });
      return listed;
    },
    async rootfsCommand() {
      const cmds = await self.commands();
      // `berth create IMAGE CMD` prepares the container's writable snapshot on the image.
      if (cmds.has('create')) return (ref, id) => ['create', '--name', id, '--network', 'none', ref, 'true'];
      return undefined;
    },
    async removeContainers(dir) {
      const cmds = await self.commands();
      if (!cmds.has('ps') || !cmds.has('rm')) return;
      const ps = await run(self.argv(dir, ['ps', '-aq']), { timeoutMs: 30_000 });
      const ids = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      if (ids.length) await run(self.argv(dir, ['rm', '-f', ...ids]), { timeoutMs: 60_000 });
    },
  };
  return self;
}
