/*
 * transferkit's native training kernels: WebAssembly SIMD128 loops that work IN PLACE on the memory of
 * tfjs-backend-wasm (the module imports the backend's WebAssembly.Memory; every pointer is a byte offset of a tensor
 * the backend allocated). Built by scripts/build-wasm.mjs with clang --target=wasm32 -msimd128 -nostdlib; the built
 * module is embedded (base64) in module.generated.ts with the SHA-256 of this file and the build flags.
 *
 * Rules that keep the module safe inside another module's memory: no data segments (no static arrays, no string
 * constants), no shadow stack (no local arrays, no address-taken locals): the build script checks both, so the
 * module never writes anywhere but the outputs it is handed.
 *
 * Every float operation is an IEEE float32 operation (wasm's f32 / f32x4 add, mul, div, sqrt are correctly
 * rounded; -ffp-contract=off keeps a*b+c two roundings), so a loop that does the same operations in the same order
 * as the JavaScript kernel it replaces gives the same bits.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) __attribute__((visibility("default")))

/* float32 bits of FLT_MIN (2^-126) and of +infinity. */
#define FLT_MIN_BITS 0x00800000
#define INF_BITS 0x7f800000

/*
 * Comparison key of a float32 under the wasm MaxPool rule: the bits as int32 for values that can win (>= FLT_MIN:
 * positive normals and +inf, ordered like their values), -1 for every other value (zeros, negatives, denormals,
 * NaN), which never wins against a running maximum that starts at FLT_MIN_BITS.
 */
static inline int32_t key_of(int32_t bits) {
  int32_t k = bits | ((INF_BITS - bits) >> 31);
  return k | (k >> 31);
}

/*
 * The SIMD loops compare the floats themselves (f32x4.ge against a running maximum that starts at FLT_MIN), which
 * picks the same winners as the keys: a value wins iff it is >= the running maximum, so zeros, negatives, denormals
 * (wasm keeps them: no flush to zero) and NaN (every comparison false) never win, and among the rest float order is
 * key order; the running maximum's bits equal its key whenever it changed. One comparison instead of five
 * operations per vector.
 */

/*
 * Routes the dy of channel `ch` of a window whose arg-max is flat offset `p` (running maximum's key `key`), exactly
 * as src/kernels/max_pool_grad.ts does under the wasm rule (see its module comment).
 */
#define WINDOW int b, int H, int W, int C, int rMin, int rMax, int cMin, int cMax, int zeroInside
#define WINDOW_ARGS b, H, W, C, rMin, rMax, cMin, cMax, zeroInside

static inline __attribute__((always_inline)) void route(float *dx, WINDOW, int ch, int32_t p, int32_t key, float g) {
  int atStart = key == FLT_MIN_BITS;
  int inside = p != 0 || !atStart || (zeroInside && ch == 0);
  if (__builtin_isfinite(g)) {
    if (inside) dx[p] += g;
    return;
  }
  for (int xr = rMin; xr < rMax; xr++) {
    for (int xc = cMin; xc < cMax; xc++) {
      int32_t o = ((b * H + xr) * W + xc) * C + ch;
      dx[o] += g * ((inside && o == p) ? 1.0f : 0.0f);
    }
  }
}

/*
 * The same gradient where the windows tile x exactly (stride == window, no padding, H = OH*fh, W = OW*fw): every dx
 * element belongs to one window, so each window writes all its elements at once instead of zeroing dx first and
 * routing into it. The value `route` leaves in an element o of a window is 0 + g * (hit ? 1 : 0) with
 * hit = (inside && o == p): for a finite g that is 0 + g at the arg-max and +0 elsewhere (0 + +-0 = +0); for a
 * non-finite g the product itself. So the same bits, one pass.
 */
static void max_pool_grad_tiled(const float *x, const float *dy, float *dx, int n, int H, int W, int C, int OH,
                                int OW, int fh, int fw) {
  const int32_t *xi = (const int32_t *)x;
  const v128_t iota = wasm_i32x4_make(0, 1, 2, 3);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t one = wasm_f32x4_splat(1.0f);
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < OH; r++) {
      for (int q = 0; q < OW; q++) {
        int r0 = r * fh;
        int c0 = q * fw;
        const float *g = dy + ((b * OH + r) * OW + q) * C;
        int zeroInside = b == 0 && r == 0 && q == 0;
        int ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          v128_t best = wasm_i32x4_splat(FLT_MIN_BITS);
          v128_t arg = wasm_i32x4_splat(0);
          for (int xr = r0; xr < r0 + fh; xr++) {
            int32_t o = ((b * H + xr) * W + c0) * C + ch;
            for (int xc = 0; xc < fw; xc++, o += C) {
              v128_t k = wasm_v128_load(xi + o);
              v128_t win = wasm_f32x4_ge(k, best);
              best = wasm_v128_bitselect(k, best, win);
              arg = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(o), iota), arg, win);
            }
          }
          v128_t inside = wasm_v128_or(wasm_v128_not(wasm_i32x4_eq(arg, wasm_i32x4_splat(0))),
                                       wasm_v128_not(wasm_i32x4_eq(best, wasm_i32x4_splat(FLT_MIN_BITS))));
          if (zeroInside && ch == 0) inside = wasm_v128_or(inside, wasm_i32x4_make(-1, 0, 0, 0));
          v128_t gv = wasm_v128_load(g + ch);
          for (int xr = r0; xr < r0 + fh; xr++) {
            int32_t o = ((b * H + xr) * W + c0) * C + ch;
            for (int xc = 0; xc < fw; xc++, o += C) {
              v128_t hit = wasm_v128_and(wasm_i32x4_eq(wasm_i32x4_add(wasm_i32x4_splat(o), iota), arg), inside);
              wasm_v128_store(dx + o, wasm_f32x4_add(zero, wasm_f32x4_mul(gv, wasm_v128_bitselect(one, zero, hit))));
            }
          }
        }
        for (; ch < C; ch++) {
          int32_t best = FLT_MIN_BITS;
          int32_t arg = 0;
          for (int xr = r0; xr < r0 + fh; xr++) {
            for (int xc = c0; xc < c0 + fw; xc++) {
              int32_t o = ((b * H + xr) * W + xc) * C + ch;
              int32_t k = key_of(xi[o]);
              if (k >= best) {
                best = k;
                arg = o;
              }
            }
          }
          int inside = arg != 0 || best != FLT_MIN_BITS || (zeroInside && ch == 0);
          for (int xr = r0; xr < r0 + fh; xr++) {
            for (int xc = c0; xc < c0 + fw; xc++) {
              int32_t o = ((b * H + xr) * W + xc) * C + ch;
              dx[o] = 0.0f + g[ch] * ((inside && o == arg) ? 1.0f : 0.0f);
            }
          }
        }
      }
    }
  }
}

/*
 * MaxPoolGrad of non-overlapping windows (stride >= window) under tfjs-backend-wasm's rules, NHWC float32:
 * zeroes dx (the shape of x), then routes each window's dy to its arg-max. Four channels per SIMD vector, each lane
 * with its own running maximum in the window's row-major order (the order of the original kernel), so the arg-max
 * and the tie rules are the same; the remaining channels one by one.
 */
EXPORT(tk_max_pool_grad)
void tk_max_pool_grad(const float *x, const float *dy, float *dx, int n, int H, int W, int C, int OH, int OW,
                      int fh, int fw, int sh, int sw, int top, int left) {
  if (sh == fh && sw == fw && top == 0 && left == 0 && OH * fh == H && OW * fw == W) {
    max_pool_grad_tiled(x, dy, dx, n, H, W, C, OH, OW, fh, fw);
    return;
  }
  __builtin_memset(dx, 0, (uint32_t)n * (uint32_t)H * (uint32_t)W * (uint32_t)C * 4u);
  const int32_t *xi = (const int32_t *)x;
  const v128_t iota = wasm_i32x4_make(0, 1, 2, 3);
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < OH; r++) {
      int r0 = r * sh - top;
      int rMin = r0 > 0 ? r0 : 0;
      int rMax = r0 + fh < H ? r0 + fh : H;
      for (int q = 0; q < OW; q++) {
        int c0 = q * sw - left;
        int cMin = c0 > 0 ? c0 : 0;
        int cMax = c0 + fw < W ? c0 + fw : W;
        const float *g = dy + ((b * OH + r) * OW + q) * C;
        int zeroInside = b == 0 && rMin == 0 && cMin == 0 && rMax > 0 && cMax > 0;
        int ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          v128_t best = wasm_i32x4_splat(FLT_MIN_BITS);
          v128_t arg = wasm_i32x4_splat(0);
          for (int xr = rMin; xr < rMax; xr++) {
            int32_t o = ((b * H + xr) * W + cMin) * C + ch;
            for (int xc = cMin; xc < cMax; xc++, o += C) {
              v128_t k = wasm_v128_load(xi + o);
              v128_t win = wasm_f32x4_ge(k, best);
              best = wasm_v128_bitselect(k, best, win);
              arg = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(o), iota), arg, win);
            }
          }
          route(dx, WINDOW_ARGS, ch, wasm_i32x4_extract_lane(arg, 0), wasm_i32x4_extract_lane(best, 0), g[ch]);
          route(dx, WINDOW_ARGS, ch + 1, wasm_i32x4_extract_lane(arg, 1), wasm_i32x4_extract_lane(best, 1), g[ch + 1]);
          route(dx, WINDOW_ARGS, ch + 2, wasm_i32x4_extract_lane(arg, 2), wasm_i32x4_extract_lane(best, 2), g[ch + 2]);
          route(dx, WINDOW_ARGS, ch + 3, wasm_i32x4_extract_lane(arg, 3), wasm_i32x4_extract_lane(best, 3), g[ch + 3]);
        }
        for (; ch < C; ch++) {
          int32_t best = FLT_MIN_BITS;
          int32_t arg = 0;
          for (int xr = rMin; xr < rMax; xr++) {
            for (int xc = cMin; xc < cMax; xc++) {
              int32_t o = ((b * H + xr) * W + xc) * C + ch;
              int32_t k = key_of(xi[o]);
              if (k >= best) {
                best = k;
                arg = o;
              }
            }
          }
          route(dx, WINDOW_ARGS, ch, arg, best, g[ch]);
        }
      }
    }
  }
}

/*
 * The transposed im2col matrix of an NHWC x, [FH*FW*C, N*OH*OW] (row (i*FW + j)*C + c, column (n*OH + a)*OW + b):
 * x[n, a*sh + i - top, b*sw + j - left, c], or 0 where that position lies in the padding. The same values as
 * im2colTransposed in src/kernels/conv2d_backprop_filter.ts (a copy: bit-identical).
 */
EXPORT(tk_im2col_t)
void tk_im2col_t(const float *x, float *out, int n, int H, int W, int C, int OH, int OW, int sh, int sw, int fh,
                 int fw, int top, int left) {
  int np = n * OH * OW;
  int step = sw * C;
  for (int i = 0; i < fh; i++) {
    for (int j = 0; j < fw; j++) {
      /* Output columns b whose input column b*sw + j - left lies inside [0, W). */
      int bLo = 0;
      while (bLo < OW && bLo * sw + j - left < 0) bLo++;
      int bHi = bLo;
      while (bHi < OW && bHi * sw + j - left < W) bHi++;
      for (int c = 0; c < C; c++) {
        float *row = out + ((i * fw + j) * C + c) * np;
        for (int b = 0; b < n; b++) {
          for (int a = 0; a < OH; a++) {
            float *o = row + (b * OH + a) * OW;
            int xr = a * sh + i - top;
            if (xr < 0 || xr >= H) {
              for (int q = 0; q < OW; q++) o[q] = 0.0f;
              continue;
            }
            for (int q = 0; q < bLo; q++) o[q] = 0.0f;
            for (int q = bHi; q < OW; q++) o[q] = 0.0f;
            const float *src = x + ((b * H + xr) * W + bLo * sw + j - left) * C + c;
            if (step == 1) {
              for (int q = bLo; q < bHi; q++) o[q] = src[q - bLo];
            } else {
              for (int q = bLo; q < bHi; q++, src += step) o[q] = *src;
            }
          }
        }
      }
    }
  }
}

/*
 * One Adam update (src/kernels/adam.ts, tfjs's order of operations, every step a float32 rounding):
 *   m' = m b1 + g c1,  v' = v b2 + g^2 c2,  w' = (m' / om1) / (sqrt(v' / om2) + eps) * nlr + w
 * with c1 = 1 - b1, c2 = 1 - b2, om1 = 1 - b1^t, om2 = 1 - b2^t, nlr = -lr, all float32 as the caller rounds them.
 */
EXPORT(tk_adam)
void tk_adam(const float *value, const float *m, const float *v, const float *g, float *outValue, float *outM,
             float *outV, int n, float b1, float c1, float b2, float c2, float om1, float om2, float eps, float nlr) {
  int i = 0;
  v128_t B1 = wasm_f32x4_splat(b1), C1 = wasm_f32x4_splat(c1), B2 = wasm_f32x4_splat(b2);
  v128_t C2 = wasm_f32x4_splat(c2), OM1 = wasm_f32x4_splat(om1), OM2 = wasm_f32x4_splat(om2);
  v128_t EPS = wasm_f32x4_splat(eps), NLR = wasm_f32x4_splat(nlr);
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), B1), wasm_f32x4_mul(gi, C1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), B2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), C2));
    v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, OM2)), EPS);
    v128_t step = wasm_f32x4_mul(wasm_f32x4_div(wasm_f32x4_div(mi, OM1), den), NLR);
    wasm_v128_store(outValue + i, wasm_f32x4_add(step, wasm_v128_load(value + i)));
    wasm_v128_store(outM + i, mi);
    wasm_v128_store(outV + i, vi);
  }
  for (; i < n; i++) {
    float gi = g[i];
    float mi = m[i] * b1 + gi * c1;
    float vi = v[i] * b2 + (gi * gi) * c2;
    float step = ((mi / om1) / (__builtin_sqrtf(vi / om2) + eps)) * nlr;
    outValue[i] = step + value[i];
    outM[i] = mi;
    outV[i] = vi;
  }
}

/*
 * Column sums of a row-major [rows, cols] float32 matrix: out[c] = x[0, c] + x[1, c] + ... in row order, each column
 * accumulated from 0 one row at a time (four columns per SIMD vector). The bias gradient of a conv layer is this
 * sum of dy over (N, H, W).
 */
EXPORT(tk_column_sum)
void tk_column_sum(const float *x, float *out, int rows, int cols) {
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    const float *p = x + c;
    for (int r = 0; r < rows; r++, p += cols) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(p));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(p + 4));
      s2 = wasm_f32x4_add(s2, wasm_v128_load(p + 8));
      s3 = wasm_f32x4_add(s3, wasm_v128_load(p + 12));
    }
    wasm_v128_store(out + c, s0);
    wasm_v128_store(out + c + 4, s1);
    wasm_v128_store(out + c + 8, s2);
    wasm_v128_store(out + c + 12, s3);
  }
  for (; c + 4 <= cols; c += 4) {
    v128_t s = wasm_f32x4_splat(0.0f);
    const float *p = x + c;
    for (int r = 0; r < rows; r++, p += cols) s = wasm_f32x4_add(s, wasm_v128_load(p));
    wasm_v128_store(out + c, s);
  }
  for (; c < cols; c++) {
    float s = 0.0f;
    const float *p = x + c;
    for (int r = 0; r < rows; r++, p += cols) s += *p;
    out[c] = s;
  }
}

/*
 * out[r, c] = x[r, c] + bias[c] for a row-major [rows, cols] float32 matrix: the bias add of a conv or dense layer
 * (one float32 addition per element, as the original broadcasting Add).
 */
EXPORT(tk_bias_add)
void tk_bias_add(const float *x, const float *bias, float *out, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const float *row = x + r * cols;
    float *o = out + r * cols;
    int c = 0;
    for (; c + 4 <= cols; c += 4) wasm_v128_store(o + c, wasm_f32x4_add(wasm_v128_load(row + c), wasm_v128_load(bias + c)));
    for (; c < cols; c++) o[c] = row[c] + bias[c];
  }
}

/*
 * The filter gradient of a convolution without padding (the caller pads x), NHWC float32, written straight into dw
 * ([FH*FW*C, F], row r = (i*FW + j)*C + c), with no im2col matrix:
 *
 *     dw[r, f] = sum over n, a, b (in that order) of  x[n, a*sh + i, b*sw + j, c] * dy[n, a, b, f]
 *
 * A block of R rows x V vectors of 4 output channels keeps its R*V accumulators in registers while it streams over
 * one image's output positions: per position V loads of dy (contiguous: [., F]) and R broadcasts of x (row r's x
 * value sits at a fixed offset from the position's window corner). The image loop is outermost, so one image's x and
 * dy stay in cache while every block passes over them; a block's accumulators go back to dw between images, which
 * keeps each output a single running float32 sum in position order. Channels past the last multiple of 4 are
 * summed one by one. Every product and sum is one float32 rounding (no fused multiply-add).
 */
static inline __attribute__((always_inline)) void fg_body(const float *x, const float *dy, float *dw, int r0, int f0,
                                                         int img, int H, int W, int C, int OH, int OW, int sh,
                                                         int sw, int fw, int F, const int R, const int V) {
  int off[4];
  v128_t acc[4][2];
#pragma clang loop unroll(full)
  for (int k = 0; k < R; k++) {
    int r = r0 + k;
    int t = r / C;
    off[k] = ((t / fw) * W + t % fw) * C + r % C;
  }
#pragma clang loop unroll(full)
  for (int k = 0; k < R; k++) {
#pragma clang loop unroll(full)
    for (int v = 0; v < V; v++) acc[k][v] = wasm_v128_load(dw + (r0 + k) * F + f0 + 4 * v);
  }
  const int xstep = sw * C;
  for (int a = 0; a < OH; a++) {
    const float *xp = x + (img * H + a * sh) * W * C;
    const float *dp = dy + ((img * OH + a) * OW) * F + f0;
    for (int b = 0; b < OW; b++, xp += xstep, dp += F) {
      v128_t d[2];
#pragma clang loop unroll(full)
      for (int v = 0; v < V; v++) d[v] = wasm_v128_load(dp + 4 * v);
#pragma clang loop unroll(full)
      for (int k = 0; k < R; k++) {
        v128_t s = wasm_v128_load32_splat(xp + off[k]);
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++) acc[k][v] = wasm_f32x4_add(acc[k][v], wasm_f32x4_mul(s, d[v]));
      }
    }
  }
#pragma clang loop unroll(full)
  for (int k = 0; k < R; k++) {
#pragma clang loop unroll(full)
    for (int v = 0; v < V; v++) wasm_v128_store(dw + (r0 + k) * F + f0 + 4 * v, acc[k][v]);
  }
}

#define FG_ARGS                                                                                                    \
  const float *x, const float *dy, float *dw, int r0, int f0, int img, int H, int W, int C, int OH, int OW, int sh, \
      int sw, int fw, int F
#define FG_PASS x, dy, dw, r0, f0, img, H, W, C, OH, OW, sh, sw, fw, F
#define FG_BLOCK(R, V)                                                                                             \
  static __attribute__((noinline)) void fg_##R##_##V(FG_ARGS) { fg_body(FG_PASS, R, V); }
#define FG_BLOCKS(R) FG_BLOCK(R, 1) FG_BLOCK(R, 2)
FG_BLOCKS(1)
FG_BLOCKS(2)
FG_BLOCKS(3)
FG_BLOCKS(4)

#define FG_CASE(R, V)                                                                                              \
  case R * 8 + V:                                                                                                  \
    fg_##R##_##V(FG_PASS);                                                                                         \
    break;
#define FG_CASES(R) FG_CASE(R, 1) FG_CASE(R, 2)

static void fg_block(FG_ARGS, int R, int V) {
  switch (R * 8 + V) {
    FG_CASES(1)
    FG_CASES(2)
    FG_CASES(3)
    FG_CASES(4)
  }
}

/*
 * Entry point: rows in blocks of 4, output channels in blocks of 2 vectors (8 channels); the last blocks take what is
 * left. x is [N, H, W, C] (already padded: every tap of every output position lies inside), dy [N, OH, OW, F].
 * 4 x 2 was the fastest block measured (x64 V8, 16 xmm registers: 8 accumulators, 2 dy vectors, 1 broadcast): on the
 * zoo CNN's conv2 (x [64, 12, 12, 16], 3x3x16x32) 1.43 ms vs 1.70 (3 x 2), 1.56 (2 x 3), 2.43 (6 x 2, spills),
 * 2.05 (4 x 3), 1.40 (2 x 4, equal; slower on small F).
 */
EXPORT(tk_conv2d_filter_grad)
void tk_conv2d_filter_grad(const float *x, const float *dy, float *dw, int N, int H, int W, int C, int OH, int OW,
                           int sh, int sw, int fh, int fw, int F) {
  const int R = 4, V = 2;
  int K = fh * fw * C;
  __builtin_memset(dw, 0, (uint32_t)K * (uint32_t)F * 4u);
  int F4 = F / 4;
  for (int img = 0; img < N; img++) {
    for (int r0 = 0; r0 < K; r0 += R) {
      int rr = K - r0 < R ? K - r0 : R;
      for (int v0 = 0; v0 < F4; v0 += V) {
        int vv = F4 - v0 < V ? F4 - v0 : V;
        fg_block(x, dy, dw, r0, 4 * v0, img, H, W, C, OH, OW, sh, sw, fw, F, rr, vv);
      }
      for (int f = 4 * F4; f < F; f++) {
        for (int r = r0; r < r0 + rr; r++) {
          int t = r / C;
          int off = ((t / fw) * W + t % fw) * C + r % C;
          float s = dw[r * F + f];
          for (int a = 0; a < OH; a++) {
            const float *xp = x + (img * H + a * sh) * W * C + off;
            const float *dp = dy + ((img * OH + a) * OW) * F + f;
            for (int b = 0; b < OW; b++, xp += sw * C, dp += F) s += *xp * *dp;
          }
          dw[r * F + f] = s;
        }
      }
    }
  }
}

/*
 * A stride-1, unpadded NHWC convolution (the caller pads x), float32:
 *
 *     out[n, h, w, f] = sum over i, j, c (in that order) of  x[n, h + i, w + j, c] * filter[i, j, c, f]
 *
 * Blocks of 4 neighbouring output pixels x 8 output channels keep their accumulators in registers over the whole
 * reduction: per (i, j, c) 2 filter vectors and 4 broadcasts of x. Rows of x outside [zTop, H - zBottom) are known to
 * be zero (the caller's padding) and their taps are skipped. The input gradient uses it on the padded, dilated dy
 * with the reversed, in/out-swapped filter, where tfjs-backend-wasm's convolution repacks that filter on every call.
 */
static inline __attribute__((always_inline)) void cv_body(const float *x, const float *filt, float *out, int img,
                                                         int h, int w0, int f0, int H, int W, int C, int OH, int OW,
                                                         int fh, int fw, int F, int iLo, int iHi, const int R,
                                                         const int V) {
  v128_t acc[4][2];
#pragma clang loop unroll(full)
  for (int k = 0; k < R; k++) {
#pragma clang loop unroll(full)
    for (int v = 0; v < V; v++) acc[k][v] = wasm_f32x4_splat(0.0f);
  }
  /* Along one filter row the taps (j, c) read x[n, h + i, w0 + k + j, c] = row[(w0 + k) * C + j * C + c]: one
   * contiguous run of fw*C values per pixel, so (j, c) is a single loop (no per-tap loop for C = 1). */
  const int run = fw * C;
  for (int i = iLo; i < iHi; i++) {
    const float *xp = x + ((img * H + h + i) * W + w0) * C;
    const float *fp = filt + (i * run) * F + f0;
    for (int t = 0; t < run; t++, xp++, fp += F) {
      v128_t g[2];
#pragma clang loop unroll(full)
      for (int v = 0; v < V; v++) g[v] = wasm_v128_load(fp + 4 * v);
#pragma clang loop unroll(full)
      for (int k = 0; k < R; k++) {
        v128_t s = wasm_v128_load32_splat(xp + k * C);
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++) acc[k][v] = wasm_f32x4_add(acc[k][v], wasm_f32x4_mul(s, g[v]));
      }
    }
  }
  float *op = out + ((img * OH + h) * OW + w0) * F + f0;
#pragma clang loop unroll(full)
  for (int k = 0; k < R; k++) {
#pragma clang loop unroll(full)
    for (int v = 0; v < V; v++) wasm_v128_store(op + k * F + 4 * v, acc[k][v]);
  }
}

#define CV_ARGS                                                                                                    \
  const float *x, const float *filt, float *out, int img, int h, int w0, int f0, int H, int W, int C, int OH, int OW, \
      int fh, int fw, int F, int iLo, int iHi
#define CV_PASS x, filt, out, img, h, w0, f0, H, W, C, OH, OW, fh, fw, F, iLo, iHi
#define CV_BLOCK(R, V)                                                                                             \
  static __attribute__((noinline)) void cv_##R##_##V(CV_ARGS) { cv_body(CV_PASS, R, V); }
#define CV_BLOCKS(R) CV_BLOCK(R, 1) CV_BLOCK(R, 2)
CV_BLOCKS(1)
CV_BLOCKS(2)
CV_BLOCKS(3)
CV_BLOCKS(4)

#define CV_CASE(R, V)                                                                                              \
  case R * 8 + V:                                                                                                  \
    cv_##R##_##V(CV_PASS);                                                                                         \
    break;
#define CV_CASES(R) CV_CASE(R, 1) CV_CASE(R, 2)

static void cv_block(CV_ARGS, int R, int V) {
  switch (R * 8 + V) {
    CV_CASES(1)
    CV_CASES(2)
    CV_CASES(3)
    CV_CASES(4)
  }
}

/*
 * Entry point: x [N, H, W, C], filter [FH, FW, C, F], out [N, H - FH + 1, W - FW + 1, F]; rows [0, zTop) and
 * [H - zBottom, H) of x are zero. Pixels in blocks of 4 along a row, channels in blocks of 8, partial blocks at the
 * ends; channels past the last multiple of 4 one by one.
 */
EXPORT(tk_conv2d_valid)
void tk_conv2d_valid(const float *x, const float *filt, float *out, int N, int H, int W, int C, int fh, int fw, int F,
                     int zTop, int zBottom) {
  const int R = 4, V = 2;
  int OH = H - fh + 1, OW = W - fw + 1;
  int F4 = F / 4;
  for (int img = 0; img < N; img++) {
    for (int h = 0; h < OH; h++) {
      /* Taps i with x row h + i inside [zTop, H - zBottom). */
      int iLo = zTop - h > 0 ? zTop - h : 0;
      int iHi = H - zBottom - h < fh ? H - zBottom - h : fh;
      if (iHi < iLo) iHi = iLo;
      for (int w0 = 0; w0 < OW; w0 += R) {
        int rr = OW - w0 < R ? OW - w0 : R;
        for (int v0 = 0; v0 < F4; v0 += V) {
          int vv = F4 - v0 < V ? F4 - v0 : V;
          cv_block(x, filt, out, img, h, w0, 4 * v0, H, W, C, OH, OW, fh, fw, F, iLo, iHi, rr, vv);
        }
        for (int f = 4 * F4; f < F; f++) {
          for (int k = 0; k < rr; k++) {
            float s = 0.0f;
            for (int i = iLo; i < iHi; i++) {
              for (int j = 0; j < fw; j++) {
                const float *xp = x + ((img * H + h + i) * W + w0 + k + j) * C;
                const float *fp = filt + ((i * fw + j) * C) * F + f;
                for (int c = 0; c < C; c++) s += xp[c] * fp[c * F];
              }
            }
            out[((img * OH + h) * OW + w0 + k) * F + f] = s;
          }
        }
      }
    }
  }
}

/*
 * Zero padding of the two spatial axes of an NHWC float32 tensor: out [N, top + H + bottom, left + W + right, C]
 * holds x in its interior and zeros around it (row by row: bulk copies and fills). Replaces tfjs-backend-wasm's
 * PadV2 for the native gradients' inputs (min of 30: [64, 10, 10, 32] padded by 2: 0.04 vs 0.21 ms; [64, 28, 28, 1]
 * padded by 1: 0.02 vs 0.76 ms).
 */
EXPORT(tk_pad_hw)
void tk_pad_hw(const float *x, float *out, int N, int H, int W, int C, int top, int bottom, int left, int right) {
  int OW = left + W + right;
  uint32_t rowOut = (uint32_t)OW * (uint32_t)C;
  uint32_t rowIn = (uint32_t)W * (uint32_t)C;
  for (int n = 0; n < N; n++) {
    if (top > 0) {
      __builtin_memset(out, 0, (uint32_t)top * rowOut * 4u);
      out += (uint32_t)top * rowOut;
    }
    for (int h = 0; h < H; h++) {
      if (left > 0) __builtin_memset(out, 0, (uint32_t)(left * C) * 4u);
      __builtin_memcpy(out + left * C, x, rowIn * 4u);
      if (right > 0) __builtin_memset(out + left * C + rowIn, 0, (uint32_t)(right * C) * 4u);
      out += rowOut;
      x += rowIn;
    }
    if (bottom > 0) {
      __builtin_memset(out, 0, (uint32_t)bottom * rowOut * 4u);
      out += (uint32_t)bottom * rowOut;
    }
  }
}
