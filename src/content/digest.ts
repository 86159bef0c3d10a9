import { createHash, type Hash } from 'node:crypto';
import { BerthError } from '../errors/index.js';

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function newDigester(): Hash {
  return createHash('sha256');
}

/** The hex part of a sha256 digest, after checking its form (it becomes a file name). */
export function digestHex(digest: string): string {
  if (!SHA256_RE.test(digest)) {
    throw new BerthError('INVALID_ARGUMENT', `invalid digest ${JSON.stringify(digest)}: want sha256:<64 lowercase hex>`);
  }
  return digest.slice(7);
}

export function isDigest(s: string): boolean {
  return SHA256_RE.test(s);
}
