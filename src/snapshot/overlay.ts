import { mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { DirSnapshotter } from './dir-snapshotter.js';
import type { SnapshotRecord } from './metadata.js';
import type { Mount, SnapshotKind } from './types.js';

/**
 * Mount options must fit in one page (the kernel copies mount data with a PAGE_SIZE limit,
 * see mount(2)); past this length the lowerdirs go through short symlinks instead.
 */
const MAX_OPTIONS = 3800;

/**
 * The overlayfs snapshotter: each snapshot is `<id>/fs` (its own layer, the upperdir while
 * active) and `<id>/work` (overlayfs' workdir); committed parents are the lowerdirs, nearest
 * first. Layers are unpacked with `applyLayer(..., { format: 'overlay' })`.
 */
export class OverlaySnapshotter extends DirSnapshotter {
  readonly name = 'overlay' as const;

  constructor(root: string) {
    super(root, 'overlay');
  }

  protected async fill(tmp: string, _kind: SnapshotKind, _parents: SnapshotRecord[]): Promise<void> {
    mkdirSync(`${tmp}/fs`, 0o755);
    mkdirSync(`${tmp}/work`, 0o700);
  }

  protected contentDir(id: number): string {
    return `${this.dir(id)}/fs`;
  }

  protected mountsOf(rec: SnapshotRecord, parents: SnapshotRecord[]): Mount[] {
    const ro = rec.kind === 'view';
    if (parents.length === 0) {
      return [{ type: 'bind', source: this.contentDir(rec.id), options: [ro ? 'ro' : 'rw', 'rbind'] }];
    }
    if (ro && parents.length === 1) {
      return [{ type: 'bind', source: this.contentDir(parents[0].id), options: ['ro', 'rbind'] }];
    }
    let lower = parents.map((p) => this.contentDir(p.id)).join(':');
    if (lower.length > MAX_OPTIONS - 2 * this.dir(rec.id).length - 64) lower = parents.map((p) => this.#shortLink(p.id)).join(':');
    if (ro) return [{ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lower}`] }];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        options: ['index=off', `workdir=${this.dir(rec.id)}/work`, `upperdir=${this.contentDir(rec.id)}`, `lowerdir=${lower}`],
      },
    ];
  }

  /** `<base>/l/<id in base 36>` -> `../<id>/fs`, made on first need (overlayfs follows it at mount time). */
  #shortLink(id: number): string {
    const link = `${this.base}/l/${id.toString(36)}`;
    mkdirSync(`${this.base}/l`, { recursive: true, mode: 0o700 });
    try {
      symlinkSync(`../${id}/fs`, link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return link;
  }

  protected override removed(id: number): void {
    try {
      unlinkSync(`${this.base}/l/${id.toString(36)}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
