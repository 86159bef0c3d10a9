import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BerthError, isBerthError, withCleanupError } from '../errors/index.js';
import { applyLayer } from './apply-layer.js';
import type { Mount, Snapshotter } from './types.js';

export interface UnpackLayerOptions {
  /** The layer's chain ID (image-spec config.md "Layer ChainID"): the committed snapshot's name. */
  chainId: string;
  /** The chain ID of the layers below, if any: the parent snapshot. */
  parentChainId?: string;
  /** The uncompressed layer tar. */
  tar: Readable;
  allowDevices?: boolean;
}

export interface UnpackLayerResult {
  /** The committed snapshot's name (the chain ID). */
  key: string;
  /** False when the chain ID was already unpacked (by this or another process). */
  unpacked: boolean;
  size: number;
}

async function drain(tar: Readable): Promise<void> {
  for await (const _ of tar) {
    // discard: the caller may still be verifying the digest of what it streams
  }
}

/**
 * Unpack one layer into the snapshot named by its chain ID, once: prepare an active snapshot
 * `extract-<random>-<chainId>` on the parent chain, apply the tar, commit it as chainId. If
 * chainId is already committed, the stream is drained and nothing is written. If another
 * process commits the same chain ID first, this one discards its work (the commit fails
 * with ALREADY_EXISTS and the active snapshot is removed). On failure the active snapshot
 * is removed.
 */
export async function unpackLayer(sn: Snapshotter, opts: UnpackLayerOptions): Promise<UnpackLayerResult> {
  const { chainId, parentChainId, tar } = opts;
  const action = `unpack layer ${chainId}`;
  if (await committed(sn, chainId)) {
    await drain(tar);
    return { key: chainId, unpacked: false, size: 0 };
  }
  const key = `extract-${randomBytes(6).toString('hex')}-${chainId}`;
  try {
    await sn.prepare(key, parentChainId, { 'berth.io/unpack': chainId });
  } catch (err) {
    tar.destroy();
    throw BerthError.wrap(err, action);
  }
  try {
    const { size } = await applyLayer(tar, await sn.layerDir(key), { format: sn.name, allowDevices: opts.allowDevices ?? true });
    try {
      await sn.commit(chainId, key);
    } catch (err) {
      if (!isBerthError(err, 'ALREADY_EXISTS')) throw err;
      await sn.remove(key); // lost the race: another process committed the same layer
      return { key: chainId, unpacked: false, size: 0 };
    }
    return { key: chainId, unpacked: true, size };
  } catch (err) {
    tar.destroy();
    let e: unknown = BerthError.wrap(err, action);
    try {
      await sn.remove(key);
    } catch (cleanupErr) {
      if (!isBerthError(cleanupErr, 'NOT_FOUND')) e = withCleanupError(e, cleanupErr);
    }
    throw e;
  }
}

async function committed(sn: Snapshotter, name: string): Promise<boolean> {
  try {
    return (await sn.stat(name)).kind === 'committed';
  } catch (err) {
    if (isBerthError(err, 'NOT_FOUND')) return false;
    throw err;
  }
}

/**
 * The mounts that show a container's root file system: those of the active snapshot `key`
 * (prepared by the engine on top of an image's top chain ID).
 */
export async function rootfsMounts(sn: Snapshotter, key: string): Promise<Mount[]> {
  return sn.mounts(key);
}
