import { BerthError, isBerthError } from '../../errors/index.js';
import { findImage, parsePlatform, pull, type LocalImage, type PullEvent } from '../../image/index.js';
import type { Engine } from '../engine.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export interface GetImageOptions {
  pull?: PullPolicy;
  platform?: string;
  /** Called once before a pull starts (docker prints "Unable to find image ... locally"). */
  onPull?: (ref: string) => void;
  onPullEvent?: (e: PullEvent) => void;
}

/** The local image for a run/create, pulled as `--pull` says. */
export async function getImage(engine: Engine, ref: string, opts: GetImageOptions = {}): Promise<LocalImage> {
  const policy = opts.pull ?? 'missing';
  if (!['missing', 'always', 'never'].includes(policy)) {
    throw new BerthError('INVALID_ARGUMENT', `invalid pull policy ${JSON.stringify(policy)}: use missing, always or never`);
  }
  const deps = engine.images;
  if (policy !== 'always') {
    try {
      return await findImage(deps, ref);
    } catch (err) {
      if (!isBerthError(err, 'NOT_FOUND') || policy === 'never') {
        throw isBerthError(err, 'NOT_FOUND') ? new BerthError('NOT_FOUND', `No such image: ${ref} (--pull never)`) : err;
      }
    }
  }
  opts.onPull?.(ref);
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const r = await pull(deps, ref, { ...(platform ? { platform } : {}), ...(opts.onPullEvent ? { onEvent: opts.onPullEvent } : {}) });
  return findImage(deps, r.name);
}
