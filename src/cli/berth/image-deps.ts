import { openImageDeps, openSnapshotUnpacker, type ImageDeps } from '../../image/index.js';
import { eventLog } from '../../engine/index.js';
import type { CliContext } from './context.js';

/** The image operations' dependencies for one CLI run (the snapshotter joins here). */
export function imageDeps(ctx: CliContext): ImageDeps {
  const events = eventLog(ctx.state);
  return openImageDeps(ctx.root, { unpacker: openSnapshotUnpacker(ctx.root), onEvent: (action, id, attrs) => events.append('image', action, id, attrs) });
}
