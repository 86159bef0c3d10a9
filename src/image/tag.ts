import { BerthError } from '../errors/index.js';
import type { ImageDeps } from './deps.js';
import { formatReference, parseReference } from './reference.js';
import { findImage } from './resolve.js';

/** Give a local image another name (`berth tag SOURCE TARGET`). */
export async function tag(deps: ImageDeps, source: string, target: string): Promise<string> {
  const img = await findImage(deps, source);
  const ref = parseReference(target);
  if (ref.digest) throw new BerthError('INVALID_ARGUMENT', `tag ${JSON.stringify(target)}: a tag cannot name a digest`);
  const name = formatReference(ref);
  deps.images.put(name, img.record.target);
  deps.onEvent?.('tag', img.id, { name });
  return name;
}
