import type { Command } from 'commander';
import { familiarString, parsePlatform, parseReference, pull } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';
import { pullProgress } from './pull-progress.js';

export const registerPull: RegisterCommand = (program: Command, ctx) => {
  program
    .command('pull')
    .description('pull an image from a registry')
    .argument('<image>', 'image reference, e.g. busybox or 127.0.0.1:5000/team/app:1.2')
    .option('--platform <os/arch[/variant]>', 'platform to pull from a multi-platform image (default: the host)')
    .option('-q, --quiet', 'print only the image reference')
    .action(async (image: string, o: { platform?: string; quiet?: boolean }) => {
      const deps = imageDeps(ctx);
      const progress = o.quiet ? undefined : pullProgress(ctx);
      let result;
      try {
        result = await pull(deps, image, { ...(o.platform ? { platform: parsePlatform(o.platform) } : {}), onEvent: progress?.onEvent });
      } finally {
        progress?.stop();
      }
      if (!o.quiet) {
        ctx.out(`Digest: ${result.digest}\n`);
        ctx.out(`Status: ${result.fetched > 0 ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(parseReference(result.name))}\n`);
      }
      ctx.out(`${result.name}\n`);
    });
};
