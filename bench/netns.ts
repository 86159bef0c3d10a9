/**
 * Network namespace creation alone (issue 5: "measure it"), as root:
 *   node dist/bench/netns.js [N]
 * N (default 100) back-to-back create + remove of a persistent namespace (a bind-mounted
 * nsfs file, as berth keeps them) made by unshare(1) and by the addon's thread, then N
 * claim + return cycles of one pooled namespace (two bind-mount moves, docs/network.md).
 * Prints the medians and the wall time of each series. Everything under one mkdtemp dir.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, moveNetns, removeNetns } from '../src/network/netns.js';

const n = Number(process.argv[2] ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'berth-netns-bench-'));

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

async function series(name: string, make: (p: string) => Promise<void>): Promise<void> {
  const create: number[] = [];
  const remove: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = join(dir, `${name}-${i}`);
    let t = performance.now();
    await make(p);
    create.push(performance.now() - t);
    t = performance.now();
    await removeNetns(p);
    remove.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  console.log(`${name.padEnd(22)} create median ${median(create).toFixed(2)} ms, remove median ${median(remove).toFixed(2)} ms, ${n} cycles in ${total.toFixed(0)} ms`);
}

try {
  await series('unshare(1) --net=FILE', async (p) => {
    closeSync(openSync(p, 'a', 0o600));
    execFileSync('unshare', [`--net=${p}`, 'true']);
  });
  await series('addon thread', (p) => createNetns(p));
  // the pool: one namespace goes to a "container" path and back, n times
  const pool = join(dir, 'pool');
  const ctr = join(dir, 'ctr');
  await createNetns(pool);
  const claim: number[] = [];
  const back: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    moveNetns(pool, ctr);
    claim.push(performance.now() - t);
    t = performance.now();
    moveNetns(ctr, pool);
    back.push(performance.now() - t);
  }
  console.log(`${'pool claim + return'.padEnd(22)} claim median ${median(claim).toFixed(3)} ms, return median ${median(back).toFixed(3)} ms, ${n} cycles in ${(performance.now() - t0).toFixed(0)} ms`);
  await removeNetns(pool);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
