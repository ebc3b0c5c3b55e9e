/** Plain-loop oracles for the training kernels (NHWC, float64 accumulation). Independent of every backend. */

export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  f: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  oh: number;
  ow: number;
  top: number;
  left: number;
}

/** dW[i,j,c,f] = sum_{n,a,b} x[n, a*sh+i-top, b*sw+j-left, c] * dy[n,a,b,f]. */
export function filterGradRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.fh * g.fw * g.c * g.f);
  for (let n = 0; n < g.n; n++)
    for (let a = 0; a < g.oh; a++)
      for (let b = 0; b < g.ow; b++)
        for (let i = 0; i < g.fh; i++) {
          const r = a * g.sh + i - g.top;
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.fw; j++) {
            const q = b * g.sw + j - g.left;
            if (q < 0 || q >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              const xv = x[((n * g.h + r) * g.w + q) * g.c + c];
              for (let f = 0; f < g.f; f++) {
                out[((i * g.fw + j) * g.c + c) * g.f + f] += xv * dy[((n * g.oh + a) * g.ow + b) * g.f + f];
              }
            }
          }
        }
  return out;
}

/** dx[n,h,w,c] = sum over taps reading (h,w) of dy[n,a,b,f] * W[i,j,c,f]. */
export function inputGradRef(dy: ArrayLike<number>, wt: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.n * g.h * g.w * g.c);
  for (let n = 0; n < g.n; n++)
    for (let a = 0; a < g.oh; a++)
      for (let b = 0; b < g.ow; b++)
        for (let i = 0; i < g.fh; i++) {
          const r = a * g.sh + i - g.top;
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.fw; j++) {
            const q = b * g.sw + j - g.left;
            if (q < 0 || q >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              let acc = 0;
              for (let f = 0; f < g.f; f++) {
                acc += dy[((n * g.oh + a) * g.ow + b) * g.f + f] * wt[((i * g.fw + j) * g.c + c) * g.f + f];
              }
              out[((n * g.h + r) * g.w + q) * g.c + c] += acc;
            }
          }
        }
  return out;
}

/** C[batch] = op(A[batch]) @ op(B[batch]) with broadcasting of a batch of 1. Shapes are rank 3. */
export function matMulRef(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float64Array; shape: number[] } {
  const [ba, a1, a2] = aShape;
  const [bb, b1, b2] = bShape;
  const m = transposeA ? a2 : a1;
  const k = transposeA ? a1 : a2;
  const n = transposeB ? b1 : b2;
  const batch = Math.max(ba, bb);
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = (ba === 1 ? 0 : t) * a1 * a2;
    const bo = (bb === 1 ? 0 : t) * b1 * b2;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transposeA ? a[ao + p * a2 + i] : a[ao + i * a2 + p];
          const bv = transposeB ? b[bo + j * b2 + p] : b[bo + p * b2 + j];
          acc += av * bv;
        }
        out[(t * m + i) * n + j] = acc;
      }
  }
  return { values: out, shape: [batch, m, n] };
}
