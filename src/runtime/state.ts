import { deriveStatus, ociState } from './container-state.js';
import { cgroupOf, type RuntimeContext } from './context.js';

/** OCI `state`: the spec's state object plus runc's rootfs/created/owner fields. */
export function containerState(rt: RuntimeContext, id: string): ReturnType<typeof ociState> {
  const rec = rt.root.load(id);
  const status = deriveStatus(rec, () => cgroupOf(rec).isFrozen());
  return ociState(rec, status);
}

/** `list`: the state of every container under the root. */
export function listContainers(rt: RuntimeContext): ReturnType<typeof ociState>[] {
  const out: ReturnType<typeof ociState>[] = [];
  for (const id of rt.root.ids()) {
    try {
      out.push(containerState(rt, id));
    } catch {
      // removed while we listed: not an error for `list`
    }
  }
  return out;
}
