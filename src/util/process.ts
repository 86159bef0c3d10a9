/**
 * Whether a process with this pid exists: kill(2) with signal 0. EPERM means it exists but is
 * not ours to signal; no pid (0, undefined) is never alive. A zombie still counts, and a
 * reused pid looks alive: where that matters, compare start times (src/content/proc.ts).
 */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || !(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
