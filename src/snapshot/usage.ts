import { lstatSync, readdirSync } from 'node:fs';
import type { Usage } from './types.js';

/** Disk usage of a tree, like `du -s` (allocated blocks), each inode counted once. */
export function diskUsage(dir: string): Usage {
  const seen = new Set<number>();
  let size = 0;
  let inodes = 0;
  const visit = (p: string): void => {
    const st = lstatSync(p, { bigint: false });
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    inodes++;
    size += st.blocks * 512;
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(`${p}/${name}`);
  };
  visit(dir);
  return { size, inodes };
}
