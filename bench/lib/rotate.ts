/**
 * Round-robin start order, so no implementation always runs right after another and the
 * machine's drift hits every one alike.
 */
export function rotate<T>(xs: T[], i: number): T[] {
  if (xs.length === 0) return xs;
  const k = ((i % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
