/** Plain-JS (float64) oracles for the distillation tests. */

export function softmaxT(z: readonly number[], t: number): number[] {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Per-example soft cross-entropy -sum q log p at T. */
export function softCE(z: readonly number[], q: readonly number[], t: number): number {
  const p = softmaxT(z, t);
  return -q.reduce((s, qi, i) => s + qi * Math.log(p[i]), 0);
}

/** KL(q || p) with p = softmax(z / T). */
export function kl(z: readonly number[], q: readonly number[], t: number): number {
  const p = softmaxT(z, t);
  return q.reduce((s, qi, i) => s + (qi > 0 ? qi * (Math.log(qi) - Math.log(p[i])) : 0), 0);
}

/** The full per-example loss of Hinton et al. */
export function hintonLoss(
  z: readonly number[],
  v: readonly number[],
  t: number,
  alpha: number,
  label: number | undefined,
  form: 'cross-entropy' | 'kl' = 'cross-entropy',
): number {
  const q = softmaxT(v, t);
  const soft = form === 'kl' ? kl(z, q, t) : softCE(z, q, t);
  const hard = label === undefined ? 0 : -Math.log(softmaxT(z, 1)[label]);
  return alpha * t * t * soft + (1 - alpha) * hard;
}

/** A deterministic pseudo-random matrix (rows x cols) in [-scale, scale]. */
export function matrix(rows: number, cols: number, seed: number, scale = 3): number[][] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (2 * next() - 1) * scale));
}
