import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Duplex, PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { BerthError } from '../errors/index.js';
import type { LayerCompression } from './manifest.js';

/**
 * The seam to the snapshotter: unpack one layer's (decompressed) tar into the snapshot named
 * by its chain ID, on top of its parent's. `unpack` must commit the snapshot only after the
 * tar stream ends without error: the stream errors instead of ending when the layer's diffID
 * does not verify.
 */
export interface LayerUnpacker {
  /** Whether a committed snapshot for this chain ID exists. */
  has(chainId: string): Promise<boolean>;
  unpack(chainId: string, parentChainId: string | undefined, tar: Readable): Promise<void>;
  /** Committed snapshot names (chain IDs), for garbage collection. */
  list?(): Promise<string[]>;
  remove?(chainId: string): Promise<void>;
}

/** Which compression a blob has, by its first bytes (media types lie more often than magic). */
export function sniffCompression(head: Uint8Array, declared: LayerCompression): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return head.length === 0 ? declared : 'none';
}

/** A decompressing stream: zlib for gzip, Debian's `zstd -dc` for zstd (faster than JS). */
export function decompressor(kind: LayerCompression): Duplex {
  if (kind === 'gzip') return createGunzip({ chunkSize: 256 << 10 });
  if (kind === 'none') return new PassThrough({ highWaterMark: 1 << 20 });
  return new ZstdDecoder();
}

/** A Duplex over Debian's `zstd -dc`: writes go to its stdin, reads come from its stdout. */
class ZstdDecoder extends Duplex {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #stderr = '';
  #pendingWrite: ((err?: Error | null) => void) | undefined;

  constructor() {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const child = this.#child;
    child.stderr.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (!this.push(d)) child.stdout.pause();
    });
    child.stdin.on('error', () => {
      // zstd stopped reading: its exit status says why
    });
    child.once('error', (err) => this.destroy(BerthError.wrap(err, 'decompress zstd layer: start zstd')));
    child.once('close', (code) => {
      const cb = this.#pendingWrite;
      this.#pendingWrite = undefined;
      if (code === 0) {
        cb?.();
        this.push(null);
      } else {
        const err = new BerthError('INVALID_ARGUMENT', `decompress zstd layer: zstd exited ${code}: ${this.#stderr.trim()}`);
        cb?.(err);
        this.destroy(err);
      }
    });
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#child.stdin.write(chunk)) return cb();
    this.#pendingWrite = cb;
    this.#child.stdin.once('drain', () => {
      const p = this.#pendingWrite;
      this.#pendingWrite = undefined;
      p?.();
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#child.stdin.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    cb(err);
  }
}

/**
 * A pass-through that hashes what goes through and, at its end, fails instead of ending when
 * the hash is not `expected` (the layer's diffID from the image config).
 */
export function diffIdVerifier(expected: string, what: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== expected) cb(new BerthError('INVALID_ARGUMENT', `${what}: uncompressed content hashes to ${got}, the config says diff_id ${expected}`));
      else cb();
    },
  });
}

/**
 * Peek at a stream's first chunk to sniff its compression, and return a stream of all of it.
 * Errors of the source reach the returned stream.
 */
export async function sniffStream(src: Readable, declared: LayerCompression): Promise<{ kind: LayerCompression; stream: Readable }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  const kind = sniffCompression(head, declared);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { kind, stream: Readable.from(all(), { objectMode: false }) };
}
