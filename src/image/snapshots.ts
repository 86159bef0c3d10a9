import type { Readable } from 'node:stream';
import { isBerthError } from '../errors/index.js';
import { newSnapshotter, unpackLayer, type Snapshotter, type SnapshotterName } from '../snapshot/index.js';
import type { LayerUnpacker } from './unpack.js';

const CHAIN_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * The LayerUnpacker over a snapshotter: each layer's committed snapshot is named by its chain
 * ID; `unpackLayer` prepares an `extract-...` snapshot, applies the tar and commits it only
 * when the stream ended without error (our diffID check fails the stream instead).
 */
export class SnapshotUnpacker implements LayerUnpacker {
  readonly snapshotter: Snapshotter;

  constructor(snapshotter: Snapshotter) {
    this.snapshotter = snapshotter;
  }

  async has(chainId: string): Promise<boolean> {
    try {
      return (await this.snapshotter.stat(chainId)).kind === 'committed';
    } catch (err) {
      if (isBerthError(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  async unpack(chainId: string, parentChainId: string | undefined, tar: Readable): Promise<void> {
    await unpackLayer(this.snapshotter, { chainId, ...(parentChainId ? { parentChainId } : {}), tar });
  }

  /** Committed layer snapshots (chain IDs) and unpack leftovers (`extract-<rand>-<chainId>`). */
  async list(): Promise<string[]> {
    const all = await this.snapshotter.walk();
    return all.filter((s) => (s.kind === 'committed' && CHAIN_RE.test(s.key)) || (s.kind === 'active' && /^extract-[a-f0-9]+-sha256:/.test(s.key))).map((s) => s.key);
  }

  async remove(key: string): Promise<void> {
    await this.snapshotter.remove(key);
  }
}

/** The snapshotter for a root: BERTH_SNAPSHOTTER (`overlay` or `native`), default overlay. */
export function openSnapshotUnpacker(root: string, name?: SnapshotterName): SnapshotUnpacker {
  const env = process.env.BERTH_SNAPSHOTTER;
  const kind: SnapshotterName = name ?? (env === 'native' ? 'native' : 'overlay');
  return new SnapshotUnpacker(newSnapshotter(kind, root));
}

/** The chain ID an unpack leftover (`extract-<rand>-<chainId>`) was for. */
export function extractChainId(key: string): string | undefined {
  const m = /^extract-[a-f0-9]+-(sha256:[a-f0-9]{64})$/.exec(key);
  return m?.[1];
}
