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

/**
 * Visits every product of a convolution: for each output position `pos` = (n, a, b) and each tap (i, j, c) that
 * reads inside x, `visit(xIndex, row, pos)` with `xIndex` the element of x read and `row` = (i*FW + j)*C + c the
 * filter row (padding positions are skipped: they read zeros).
 */
function eachTap(g: ConvGeometry, visit: (xIndex: number, row: number, pos: number) => void): void {
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
              visit(((n * g.h + r) * g.w + q) * g.c + c, (i * g.fw + j) * g.c + c, (n * g.oh + a) * g.ow + b);
            }
          }
        }
}

/** dW[i,j,c,f] = sum_{n,a,b} x[n, a*sh+i-top, b*sw+j-left, c] * dy[n,a,b,f]. */
export function filterGradRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.fh * g.fw * g.c * g.f);
  eachTap(g, (xi, row, pos) => {
    for (let f = 0; f < g.f; f++) out[row * g.f + f] += x[xi] * dy[pos * g.f + f];
  });
  return out;
}

/** y[n,a,b,f] = sum_{i,j,c} x[n, a*sh+i-top, b*sw+j-left, c] * W[i,j,c,f] (zeros outside x). */
export function conv2dRef(x: ArrayLike<number>, wt: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.n * g.oh * g.ow * g.f);
  eachTap(g, (xi, row, pos) => {
    for (let f = 0; f < g.f; f++) out[pos * g.f + f] += x[xi] * wt[row * g.f + f];
  });
  return out;
}

/** dx[n,h,w,c] = sum over taps reading (h,w) of dy[n,a,b,f] * W[i,j,c,f]. */
export function inputGradRef(dy: ArrayLike<number>, wt: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.n * g.h * g.w * g.c);
  eachTap(g, (xi, row, pos) => {
    let acc = 0;
    for (let f = 0; f < g.f; f++) acc += dy[pos * g.f + f] * wt[row * g.f + f];
    out[xi] += acc;
  });
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

export interface DepthwiseGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  m: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  oh: number;
  ow: number;
  top: number;
  left: number;
}

/** Calls `visit(n, a, b, i, j, xIndexWithoutChannel)` for every in-range (output position, tap) pair. */
function forEachTap(
  g: DepthwiseGeometry,
  visit: (n: number, a: number, b: number, i: number, j: number, xBase: number) => void,
): void {
  for (let n = 0; n < g.n; n++)
    for (let a = 0; a < g.oh; a++)
      for (let b = 0; b < g.ow; b++)
        for (let i = 0; i < g.fh; i++) {
          const r = a * g.sh + i * g.dh - g.top;
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.fw; j++) {
            const q = b * g.sw + j * g.dw - g.left;
            if (q < 0 || q >= g.w) continue;
            visit(n, a, b, i, j, ((n * g.h + r) * g.w + q) * g.c);
          }
        }
}

/** dW[i,j,c,m] = sum_{n,a,b} x[n, a*sh+i*dh-top, b*sw+j*dw-left, c] * dy[n,a,b,c*M+m]. */
export function depthwiseFilterGradRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: DepthwiseGeometry,
): Float64Array {
  const out = new Float64Array(g.fh * g.fw * g.c * g.m);
  const cm = g.c * g.m;
  forEachTap(g, (n, a, b, i, j, xBase) => {
    const dyBase = ((n * g.oh + a) * g.ow + b) * cm;
    for (let c = 0; c < g.c; c++)
      for (let m = 0; m < g.m; m++)
        out[((i * g.fw + j) * g.c + c) * g.m + m] += x[xBase + c] * dy[dyBase + c * g.m + m];
  });
  return out;
}

/** dx[n,h,w,c] = sum over taps reading (h,w) and multipliers m of dy[n,a,b,c*M+m] * W[i,j,c,m]. */
export function depthwiseInputGradRef(
  dy: ArrayLike<number>,
  wt: ArrayLike<number>,
  g: DepthwiseGeometry,
): Float64Array {
  const out = new Float64Array(g.n * g.h * g.w * g.c);
  const cm = g.c * g.m;
  forEachTap(g, (n, a, b, i, j, xBase) => {
    const dyBase = ((n * g.oh + a) * g.ow + b) * cm;
    for (let c = 0; c < g.c; c++)
      for (let m = 0; m < g.m; m++)
        out[xBase + c] += dy[dyBase + c * g.m + m] * wt[((i * g.fw + j) * g.c + c) * g.m + m];
  });
  return out;
}
