import { BerthError } from '../errors/index.js';
import { deriveStatus } from './container-state.js';
import { cgroupOf, type RuntimeContext } from './context.js';
import type { Resources } from '../spec/runtime.js';

/** `update`: apply new resource limits to a live container and remember them in its spec. */
export function updateContainer(rt: RuntimeContext, id: string, resources: Resources): void {
  const rec = rt.root.load(id);
  const cg = cgroupOf(rec);
  if (deriveStatus(rec, () => cg.isFrozen()) === 'stopped') {
    throw new BerthError('FAILED_PRECONDITION', `update container ${JSON.stringify(id)}: container is stopped`);
  }
  try {
    cg.update(resources);
  } catch (err) {
    throw BerthError.wrap(err, `update container ${JSON.stringify(id)}`);
  }
  const spec = rt.root.loadSpec(id);
  spec.linux = spec.linux ?? {};
  spec.linux.resources = mergeResources(spec.linux.resources ?? {}, resources);
  rt.root.saveSpec(id, spec);
}

function mergeResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const [k, v] of Object.entries(b) as [keyof Resources, unknown][]) {
    if (v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object') {
      (out as Record<string, unknown>)[k] = { ...(a[k] as object), ...(v as object) };
    } else if (v !== undefined) {
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
