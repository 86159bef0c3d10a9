import type { Command } from 'commander';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { saveImages, type ArchiveFormat } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './context.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';

export const registerSave: RegisterCommand = (program: Command, ctx) => {
  const add = (cmd: Command) =>
    cmd
      .description('write images to a tar archive (docker-archive by default, or an OCI image layout)')
      .argument('<image...>', 'image names or ids')
      .option('-o, --output <file>', 'write to a file instead of stdout')
      .option('--format <format>', '"docker" (docker save\'s archive) or "oci" (OCI image layout)', 'docker')
      .action(async (images: string[], o: { output?: string; format: string }) => {
        if (o.format !== 'docker' && o.format !== 'oci') throw usageError(`save: unknown format ${JSON.stringify(o.format)}: want docker or oci`);
        if (!o.output && process.stdout.isTTY) throw usageError('save: refusing to write an archive to a terminal: use -o FILE or redirect stdout');
        const deps = imageDeps(ctx);
        if (!o.output) return saveImages(deps, images, process.stdout, { format: o.format as ArchiveFormat });
        // Written beside the target and renamed: a failed save leaves no half archive.
        const tmp = `${o.output}.berth-tmp-${process.pid}`;
        try {
          await saveImages(deps, images, createWriteStream(tmp), { format: o.format as ArchiveFormat });
          renameSync(tmp, o.output);
        } finally {
          rmSync(tmp, { force: true });
        }
      });
  add(program.command('save'));
  add(imageGroup(program).command('save'));
};
