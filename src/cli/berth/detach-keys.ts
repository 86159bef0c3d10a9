import { usageError } from './context.js';

/**
 * docker's `--detach-keys`: a comma-separated sequence of keys, each a single character or
 * `ctrl-<x>` with x in a-z, @, [, \, ], ^, _ (the control byte x & 0x1f). Default: ctrl-p,ctrl-q.
 */
export function parseDetachKeys(spec: string | undefined): Buffer {
  const text = spec ?? 'ctrl-p,ctrl-q';
  if (text === '') return Buffer.alloc(0);
  const out: number[] = [];
  for (const key of text.split(',')) {
    const m = /^ctrl-(.)$/.exec(key);
    if (m) {
      const c = m[1].toLowerCase().charCodeAt(0);
      if (!/[a-z@[\\\]^_]/.test(m[1].toLowerCase())) throw usageError(`invalid detach keys ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}`);
      out.push(c & 0x1f);
    } else if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else {
      throw usageError(`invalid detach keys ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}`);
    }
  }
  return Buffer.from(out);
}

/**
 * Watches stdin bytes for the detach sequence, as docker's escape proxy does: bytes that may
 * start the sequence are held back; a mismatch lets them through, a full match detaches.
 */
export class DetachWatcher {
  readonly #keys: Buffer;
  #held: number[] = [];

  constructor(keys: Buffer) {
    this.#keys = keys;
  }

  /** The bytes to forward, and whether the sequence was typed (nothing after it is forwarded). */
  push(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.#keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#held.length]) {
        this.#held.push(b);
        if (this.#held.length === this.#keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...this.#held);
      this.#held = [];
      if (b === this.#keys[0]) this.#held.push(b);
      else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
