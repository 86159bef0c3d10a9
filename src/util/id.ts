import { randomBytes } from 'node:crypto';

/** A 64-hex-digit id, as docker and containerd make them. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** Container ids the runtime accepts: the same rule runc applies. */
export const CONTAINER_ID_RE = /^[\w+\-.]+$/;
