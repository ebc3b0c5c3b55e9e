/** Hot-loop geometry shared by the patch modules (not exported from the package). @module */

/** Intersection area of two valid boxes given as numbers (no checks; used in hot loops). */
export function intersectionArea4(
  ay1: number,
  ax1: number,
  ay2: number,
  ax2: number,
  by1: number,
  bx1: number,
  by2: number,
  bx2: number,
): number {
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (h <= 0) return 0;
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  return w <= 0 ? 0 : h * w;
}
