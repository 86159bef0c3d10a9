import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { DirSnapshotter } from './dir-snapshotter.js';
import type { SnapshotRecord } from './metadata.js';
import type { Mount, SnapshotKind } from './types.js';

const run = promisify(execFile);

/**
 * The copy-based snapshotter, for where overlayfs is not available (or not allowed, e.g.
 * on top of another overlayfs): each snapshot `<id>/fs` is a full copy of its parent's tree,
 * made with `cp -a` (GNU coreutils: keeps hardlinks within the tree, xattrs, owners, modes,
 * mtimes, device nodes; `--reflink=auto` shares extents where the file system can). Layers
 * are unpacked with `applyLayer(..., { format: 'native' })` onto that copy.
 */
export class NativeSnapshotter extends DirSnapshotter {
  readonly name = 'native' as const;

  constructor(root: string) {
    super(root, 'native');
  }

  protected async fill(tmp: string, _kind: SnapshotKind, parents: SnapshotRecord[]): Promise<void> {
    if (parents.length === 0) {
      mkdirSync(`${tmp}/fs`, 0o755);
      return;
    }
    await run('cp', ['-a', '--reflink=auto', '--', this.contentDir(parents[0].id), `${tmp}/fs`]);
  }

  protected contentDir(id: number): string {
    return `${this.dir(id)}/fs`;
  }

  protected mountsOf(rec: SnapshotRecord): Mount[] {
    return [{ type: 'bind', source: this.contentDir(rec.id), options: [rec.kind === 'view' ? 'ro' : 'rw', 'rbind'] }];
  }
}
