import { openImageDeps, openSnapshotUnpacker, type ImageDeps } from '../../image/index.js';
import type { CliContext } from './context.js';

/** The image operations' dependencies for one CLI run (the snapshotter joins here). */
export function imageDeps(ctx: CliContext): ImageDeps {
  return openImageDeps(ctx.root, { unpacker: openSnapshotUnpacker(ctx.root) });
}
