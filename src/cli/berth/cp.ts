import { lstatSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { BerthError } from '../../errors/index.js';
import {
  archiveFromContainer,
  copyTarget,
  extractToContainer,
  extractTree,
  packTree,
  statContainerPath,
  statInRoot,
} from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './context.js';
import { engineFor } from './engine.js';

/** docker's rule: `NAME:PATH` is in a container when the colon comes before any slash. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  const i = arg.indexOf(':');
  if (i > 0 && !arg.slice(0, i).includes('/')) return { container: arg.slice(0, i), path: arg.slice(i + 1) || '/' };
  return { path: arg };
}

/** Host path as the user wrote it, made absolute, keeping a trailing `/` or `/.`. */
function hostPath(p: string): string {
  const abs = resolve(p);
  if (p.endsWith('/.')) return `${abs}/.`;
  return p.endsWith('/') && abs !== '/' ? `${abs}/` : abs;
}

export const registerCp: RegisterCommand = (program: Command, ctx) => {
  program
    .command('cp')
    .description('copy files or folders between a container and the host (- : a tar stream on stdin/stdout)')
    .argument('<src>', 'CONTAINER:SRC_PATH, or a host path, or -')
    .argument('<dst>', 'CONTAINER:DEST_PATH, or a host path, or -')
    .option('-a, --archive', 'keep the owner (uid:gid) of what is copied')
    .action(async (srcArg: string, dstArg: string, o: { archive?: boolean }) => {
      const engine = engineFor(ctx);
      const src = splitCpArg(srcArg);
      const dst = splitCpArg(dstArg);
      if (!!src.container === !!dst.container) throw usageError('cp: exactly one of source and destination must be CONTAINER:PATH');
      if (src.container) {
        // container -> host (or a tar on stdout)
        const srcPath = posix.normalize(`/${src.path}`) + (src.path.endsWith('/.') ? '/.' : '');
        const st = await statContainerPath(engine, src.container, srcPath.replace(/\/\.$/, '') || '/');
        if (!st) throw new BerthError('NOT_FOUND', `cp: no such file or directory in container ${JSON.stringify(src.container)}: ${JSON.stringify(src.path)}`);
        if (dstArg === '-') {
          const { tar } = await archiveFromContainer(engine, src.container, srcPath.replace(/\/\.$/, '') || '/');
          await pipeline(tar, process.stdout);
          return;
        }
        const dstPath = hostPath(dst.path);
        const target = copyTarget({ path: srcPath, isDir: st.isDir }, { path: dstPath, stat: statInRoot('/', dstPath.replace(/\/\.?$/, '') || '/') });
        const { tar } = await archiveFromContainer(engine, src.container, srcPath.replace(/\/\.$/, '') || '/', { rebaseName: target.rebaseName });
        const owner = o.archive ? ('keep' as const) : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
        await extractTree('/', target.dir, tar, { owner });
        return;
      }
      // host (or a tar on stdin) -> container
      const dstPath = posix.normalize(`/${dst.path}`) + (dst.path.endsWith('/') && dst.path !== '/' ? '/' : '');
      const owner = o.archive ? ('keep' as const) : { uid: 0, gid: 0 };
      if (srcArg === '-') {
        await extractToContainer(engine, dst.container!, dstPath, process.stdin, { owner });
        return;
      }
      const srcPath = hostPath(src.path);
      const bare = srcPath.replace(/\/\.$/, '') || '/';
      let isDir: boolean;
      try {
        isDir = lstatSync(bare).isDirectory();
      } catch (err) {
        throw BerthError.wrap(err, `cp: ${JSON.stringify(src.path)}`);
      }
      const dstStat = await statContainerPath(engine, dst.container!, dstPath.replace(/\/$/, '') || '/');
      const target = copyTarget({ path: srcPath, isDir }, { path: dstPath, stat: dstStat });
      await extractToContainer(engine, dst.container!, target.dir, packTree('/', bare, { rebaseName: target.rebaseName }), { owner });
    });
};
