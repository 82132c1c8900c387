/* conv2d.c — 2-D convolution by im2col + cblas_sgemm, with groups.
 *
 * Work is split over the batch: each pool thread takes a contiguous range of samples and
 * walks it in chunks of S samples, so one GEMM covers S*P output positions. Chunks are small
 * (cols and tmp within 128 KB, so they and OpenBLAS's packed copy stay in L2), except that a
 * layer with large weights (OC*K >= 8192) gets at least 2048 columns per GEMM, so packing the
 * weights is a small part of each call. Per thread the workspace holds
 *   cols  [C*KH*KW, S*P]  the unfolded input of the chunk (reused for its gradient),
 *   tmp   [OC, S*P]       the chunk's output (or output gradient) in GEMM order,
 *   dw    [OC, Kg]        this thread's part of the weight gradient,
 *   db    [OC]            this thread's part of the bias gradient,
 * where Kg = (C/groups)*KH*KW. The weight gradient is summed over threads at the end.
 * A chunk of one sample needs no reordering: GEMM reads and writes the NCHW planes directly.
 * A 1x1 convolution with stride 1 and no padding skips im2col entirely. */
#include "strata_conv_epilogue.h"
#include "strata_kernels.h"

#include "sk_blas.h"
#include <string.h>

/* Rows are short: copy loops stay loops instead of becoming memcpy/memset calls. */
#if defined(__clang__)
#define SK_NO_LIBCALLS __attribute__((no_builtin("memcpy", "memmove", "memset")))
#else
#define SK_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

#define SK_CONV_CHUNK_FLOATS (32 * 1024)  /* cols + tmp per thread: with OpenBLAS's packed copy, within L2 */
#define SK_CONV_MIN_COLUMNS 2048          /* GEMM columns per call that amortise packing large weights */
#define SK_CONV_LARGE_WEIGHTS 8192        /* weights (OC*K floats) worth amortising */

/* ---- dilation: kernel tap k reads input offset k*D (D = 0 in a zeroed shape means 1) ---- */
static int64_t dil_h(const sk_conv_shape *s) { return s->DH > 0 ? s->DH : 1; }
static int64_t dil_w(const sk_conv_shape *s) { return s->DW > 0 ? s->DW : 1; }

int32_t sk_conv_infer(sk_conv_shape *s) {
    if (s->groups < 1 || s->C % s->groups || s->OC % s->groups) return -1;
    if (s->KH < 1 || s->KW < 1 || s->SH < 1 || s->SW < 1 || s->PH < 0 || s->PW < 0) return -1;
    if (s->DH < 0 || s->DW < 0) return -1;
    int64_t eh = s->H + 2 * s->PH - (s->KH - 1) * dil_h(s) - 1, ew = s->W + 2 * s->PW - (s->KW - 1) * dil_w(s) - 1;
    if (eh < 0 || ew < 0) return -1;
    s->OH = eh / s->SH + 1;
    s->OW = ew / s->SW + 1;
    return 0;
}

static int is_pointwise(const sk_conv_shape *s) {
    return s->KH == 1 && s->KW == 1 && s->SH == 1 && s->SW == 1 && s->PH == 0 && s->PW == 0;
}

static int64_t per_thread_samples(const sk_conv_shape *s, int32_t threads) {
    return (s->N + threads - 1) / threads;
}

static int64_t chunk_samples(const sk_conv_shape *s, int32_t threads) {
    int64_t P = s->OH * s->OW, K = s->C * s->KH * s->KW;
    int64_t S = SK_CONV_CHUNK_FLOATS / ((K + s->OC) * P);
    int64_t wide = (SK_CONV_MIN_COLUMNS + P - 1) / P;
    if (S < wide && s->OC * K >= SK_CONV_LARGE_WEIGHTS) S = wide;
    if (S < 1) S = 1;
    int64_t most = per_thread_samples(s, threads);
    if (S > most) S = most;
    return S < 1 ? 1 : S;
}

/* Narrow outputs gather through zero-padded copies of the chunk's planes and an index table
 * instead of copying row segments: with rows of 2 to 7 floats the per-row work would dominate. */
static int uses_gather(const sk_conv_shape *s) { return s->OW < 8; }

static int64_t padded_plane(const sk_conv_shape *s) { return (s->H + 2 * s->PH) * (s->W + 2 * s->PW); }

static int64_t gather_floats(const sk_conv_shape *s, int64_t S) {
    if (!uses_gather(s)) return 0;
    return S * padded_plane(s) + s->KH * s->KW * s->OH * s->OW;
}

static int64_t thread_stride(const sk_conv_shape *s, int32_t threads) {
    int64_t P = s->OH * s->OW, K = s->C * s->KH * s->KW, Kg = K / s->groups;
    int64_t S = chunk_samples(s, threads);
    int64_t floats = K * S * P + s->OC * S * P + s->OC * Kg + s->OC + gather_floats(s, S);
    return (floats + 15) & ~(int64_t)15; /* keep each thread's part 64-byte aligned */
}

int64_t sk_conv_workspace(const sk_conv_shape *s, int32_t threads) {
    if (threads < 1) threads = 1;
    return thread_stride(s, threads) * threads;
}

/* Valid output columns for kernel column kw: 0 <= ow*SW - PW + kw*DW < W  <=>  ow in [lo, hi). */
static void valid_columns(const sk_conv_shape *s, int64_t kw, int64_t *lo, int64_t *hi) {
    int64_t off = kw * dil_w(s) - s->PW, l = 0, h = s->OW;
    if (off < 0) l = (-off + s->SW - 1) / s->SW;
    if ((s->OW - 1) * s->SW + off >= s->W) h = (s->W - off + s->SW - 1) / s->SW;
    if (h < l) h = l;
    if (l > s->OW) l = h = s->OW;
    *lo = l;
    *hi = h;
}

/* cols[(c,kh,kw), (s,oh,ow)] for samples [n0, n0+S). Sample-major so each input plane stays
 * in L1 while its KH*KW shifted copies are written; plain loops (no libc calls) because rows
 * are often only a few floats long. */
SK_NO_LIBCALLS static void im2col(float *restrict cols, const float *restrict inp, const sk_conv_shape *s, int64_t n0, int64_t S) {
    const int64_t H = s->H, W = s->W, OH = s->OH, OW = s->OW, P = OH * OW, SW = s->SW;
    const int64_t rowlen = S * P;
    for (int64_t si = 0; si < S; si++) {
        for (int64_t c = 0; c < s->C; c++) {
            const float *restrict plane = inp + ((n0 + si) * s->C + c) * H * W;
            for (int64_t kh = 0; kh < s->KH; kh++) {
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    float *restrict dst = cols + ((c * s->KH + kh) * s->KW + kw) * rowlen + si * P;
                    int64_t lo, hi;
                    valid_columns(s, kw, &lo, &hi);
                    const int64_t off = kw * dil_w(s) - s->PW;
                    for (int64_t oh = 0; oh < OH; oh++) {
                        const int64_t ih = oh * s->SH - s->PH + kh * dil_h(s);
                        float *restrict d = dst + oh * OW;
                        if (ih < 0 || ih >= H) {
                            for (int64_t ow = 0; ow < OW; ow++) d[ow] = 0.0f;
                            continue;
                        }
                        const float *restrict src = plane + ih * W + off;
                        for (int64_t ow = 0; ow < lo; ow++) d[ow] = 0.0f;
                        if (SW == 1) {
                            for (int64_t ow = lo; ow < hi; ow++) d[ow] = src[ow];
                        } else {
                            for (int64_t ow = lo; ow < hi; ow++) d[ow] = src[ow * SW];
                        }
                        for (int64_t ow = hi; ow < OW; ow++) d[ow] = 0.0f;
                    }
                }
            }
        }
    }
}

/* dinp[samples n0..n0+S) = fold(dcols): each input plane is zeroed, then receives the
 * KH*KW shifted rows that read it in the forward pass; sample-major so it stays in L1. */
SK_NO_LIBCALLS static void col2im(float *restrict dinp, const float *restrict dcols, const sk_conv_shape *s, int64_t n0, int64_t S) {
    const int64_t H = s->H, W = s->W, OH = s->OH, OW = s->OW, P = OH * OW, SW = s->SW;
    const int64_t rowlen = S * P;
    for (int64_t si = 0; si < S; si++) {
        for (int64_t c = 0; c < s->C; c++) {
            float *restrict plane = dinp + ((n0 + si) * s->C + c) * H * W;
            for (int64_t q = 0; q < H * W; q++) plane[q] = 0.0f;
            for (int64_t kh = 0; kh < s->KH; kh++) {
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    const float *restrict src = dcols + ((c * s->KH + kh) * s->KW + kw) * rowlen + si * P;
                    int64_t lo, hi;
                    valid_columns(s, kw, &lo, &hi);
                    const int64_t off = kw * dil_w(s) - s->PW;
                    for (int64_t oh = 0; oh < OH; oh++) {
                        const int64_t ih = oh * s->SH - s->PH + kh * dil_h(s);
                        if (ih < 0 || ih >= H) continue;
                        float *restrict d = plane + ih * W + off;
                        const float *restrict g = src + oh * OW;
                        if (SW == 1) {
                            for (int64_t ow = lo; ow < hi; ow++) d[ow] += g[ow];
                        } else {
                            for (int64_t ow = lo; ow < hi; ow++) d[ow * SW] += g[ow];
                        }
                    }
                }
            }
        }
    }
}

/* The gather scratch of one thread: S padded planes [S, H+2PH, W+2PW] of one channel, then
 * for each kernel tap r and output position q the offset of its input in a padded plane. */
static int32_t *gather_table(float *scratch, const sk_conv_shape *s, int64_t S) {
    const int64_t Wp = s->W + 2 * s->PW, P = s->OH * s->OW;
    int32_t *idx = (int32_t *)(scratch + S * padded_plane(s));
    for (int64_t kh = 0; kh < s->KH; kh++)
        for (int64_t kw = 0; kw < s->KW; kw++)
            for (int64_t oh = 0; oh < s->OH; oh++)
                for (int64_t ow = 0; ow < s->OW; ow++)
                    idx[(kh * s->KW + kw) * P + oh * s->OW + ow] = (int32_t)((oh * s->SH + kh * dil_h(s)) * Wp + ow * s->SW + kw * dil_w(s));
    return idx;
}

/* Channel by channel: pad the chunk's S planes, then write each of the channel's KH*KW rows of
 * cols front to back (sequential stores). */
SK_NO_LIBCALLS static void im2col_gather(float *restrict cols, const float *restrict inp, const sk_conv_shape *s,
                          int64_t n0, int64_t S, float *restrict scratch) {
    const int64_t H = s->H, W = s->W, Wp = W + 2 * s->PW, PP = padded_plane(s), P = s->OH * s->OW;
    const int64_t KK = s->KH * s->KW, rowlen = S * P;
    const int32_t *restrict idx = gather_table(scratch, s, S);
    float *restrict pad = scratch;
    for (int64_t q = 0; q < S * PP; q++) pad[q] = 0.0f;
    for (int64_t c = 0; c < s->C; c++) {
        for (int64_t si = 0; si < S; si++) {
            const float *restrict plane = inp + ((n0 + si) * s->C + c) * H * W;
            float *restrict pp = pad + si * PP + s->PH * Wp + s->PW;
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) pp[h * Wp + w] = plane[h * W + w];
        }
        for (int64_t r = 0; r < KK; r++) {
            const int32_t *restrict ir = idx + r * P;
            float *restrict d = cols + (c * KK + r) * rowlen;
            for (int64_t si = 0; si < S; si++) {
                const float *restrict pp = pad + si * PP;
                for (int64_t q = 0; q < P; q++) d[si * P + q] = pp[ir[q]];
            }
        }
    }
}

SK_NO_LIBCALLS static void col2im_gather(float *restrict dinp, const float *restrict dcols, const sk_conv_shape *s,
                          int64_t n0, int64_t S, float *restrict scratch) {
    const int64_t H = s->H, W = s->W, Wp = W + 2 * s->PW, PP = padded_plane(s), P = s->OH * s->OW;
    const int64_t KK = s->KH * s->KW, rowlen = S * P;
    const int32_t *restrict idx = gather_table(scratch, s, S);
    float *restrict pad = scratch;
    for (int64_t c = 0; c < s->C; c++) {
        for (int64_t q = 0; q < S * PP; q++) pad[q] = 0.0f;
        for (int64_t r = 0; r < KK; r++) {
            const int32_t *restrict ir = idx + r * P;
            const float *restrict g = dcols + (c * KK + r) * rowlen;
            for (int64_t si = 0; si < S; si++) {
                float *restrict pp = pad + si * PP;
                for (int64_t q = 0; q < P; q++) pp[ir[q]] += g[si * P + q];
            }
        }
        for (int64_t si = 0; si < S; si++) {
            float *restrict plane = dinp + ((n0 + si) * s->C + c) * H * W;
            const float *restrict pp = pad + si * PP + s->PH * Wp + s->PW;
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) plane[h * W + w] = pp[h * Wp + w];
        }
    }
}

/* The unfold and fold of a chunk, by whichever method suits the output width. */
static void unfold(float *cols, const float *inp, const sk_conv_shape *s, int64_t n0, int64_t S, float *scratch) {
    if (uses_gather(s)) im2col_gather(cols, inp, s, n0, S, scratch);
    else im2col(cols, inp, s, n0, S);
}

static void fold(float *dinp, const float *dcols, const sk_conv_shape *s, int64_t n0, int64_t S, float *scratch) {
    if (uses_gather(s)) col2im_gather(dinp, dcols, s, n0, S, scratch);
    else col2im(dinp, dcols, s, n0, S);
}

typedef struct {
    float *out;
    float *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout;
    const sk_conv_shape *s;
    float *workspace;
    int64_t stride, S;
    const sk_conv_epilogue *epilogue;  /* forward only; NULL = plain convolution */
} conv_job;

static void conv_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    const conv_job *j = vctx;
    const sk_conv_shape *s = j->s;
    const int64_t P = s->OH * s->OW, G = s->groups, OCg = s->OC / G;
    const int64_t Cg = s->C / G, Kg = Cg * s->KH * s->KW;
    float *cols = j->workspace + thread * j->stride;
    float *tmp = cols + s->C * s->KH * s->KW * j->S * P;
    float *scratch = tmp + s->OC * j->S * P + s->OC * Kg + s->OC;
    const int pointwise = is_pointwise(s);
    for (int64_t n0 = begin; n0 < end; n0 += j->S) {
        int64_t S = end - n0 < j->S ? end - n0 : j->S;
        const float *src = cols;
        if (pointwise && S == 1) src = j->inp + n0 * s->C * P;
        else unfold(cols, j->inp, s, n0, S, scratch);
        float *dst = S == 1 ? j->out + n0 * s->OC * P : tmp;
        for (int64_t g = 0; g < G; g++) {
            sk_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)OCg, (int)(S * P), (int)Kg, 1.0f,
                        j->weight + g * OCg * Kg, (int)Kg, src + g * Kg * S * P, (int)(S * P), 0.0f,
                        dst + g * OCg * S * P, (int)(S * P));
        }
        /* reorder [OC, S, P] -> [S, OC, P] and add the bias */
        for (int64_t si = 0; si < S; si++) {
            for (int64_t oc = 0; oc < s->OC; oc++) {
                float *o = j->out + ((n0 + si) * s->OC + oc) * P;
                const float *t = dst + (oc * S + si) * P;
                float b = j->bias ? j->bias[oc] : 0.0f;
                if (S == 1) {
                    if (j->bias) for (int64_t p = 0; p < P; p++) o[p] += b;
                } else {
                    for (int64_t p = 0; p < P; p++) o[p] = t[p] + b;
                }
            }
        }
        if (j->epilogue) sk_conv_epilogue_apply(j->out, j->epilogue, n0, n0 + S, s->OC, P);
    }
}

void sk_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                       const sk_conv_shape *s, float *workspace) {
    int32_t T = sk_threads();
    conv_job j = {.out = out, .inp = inp, .weight = weight, .bias = bias, .s = s, .workspace = workspace,
                  .stride = thread_stride(s, T), .S = chunk_samples(s, T)};
    sk_parallel_for(s->N, 1, conv_forward_task, &j);
}

void sk_conv2d_forward_fused(float *out, const float *inp, const float *weight, const float *bias,
                             const sk_conv_shape *s, float *workspace, const sk_conv_epilogue *e) {
    int32_t T = sk_threads();
    conv_job j = {.out = out, .inp = inp, .weight = weight, .bias = bias, .s = s, .workspace = workspace,
                  .stride = thread_stride(s, T), .S = chunk_samples(s, T), .epilogue = e};
    sk_parallel_for(s->N, 1, conv_forward_task, &j);
}

static void conv_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    const conv_job *j = vctx;
    const sk_conv_shape *s = j->s;
    const int64_t P = s->OH * s->OW, G = s->groups, OCg = s->OC / G;
    const int64_t K = s->C * s->KH * s->KW, Kg = K / G;
    float *cols = j->workspace + thread * j->stride;
    float *tmp = cols + K * j->S * P;
    float *dw = tmp + s->OC * j->S * P;
    float *db = dw + s->OC * Kg;
    float *scratch = db + s->OC;
    const int pointwise = is_pointwise(s);
    for (int64_t n0 = begin; n0 < end; n0 += j->S) {
        int64_t S = end - n0 < j->S ? end - n0 : j->S;
        /* dy in GEMM order [OC, S*P] */
        const float *dy;
        if (S == 1) {
            dy = j->dout + n0 * s->OC * P;
        } else {
            /* planes are often 4 to 49 floats: a plain loop, not a libc call per plane */
            for (int64_t si = 0; si < S; si++)
                for (int64_t oc = 0; oc < s->OC; oc++) {
                    float *restrict d = tmp + (oc * S + si) * P;
                    const float *restrict g = j->dout + ((n0 + si) * s->OC + oc) * P;
                    for (int64_t p = 0; p < P; p++) d[p] = g[p];
                }
            dy = tmp;
        }
        if (j->dbias) {
            for (int64_t oc = 0; oc < s->OC; oc++) {
                const float *r = dy + oc * S * P;
                float acc = 0.0f;
                for (int64_t q = 0; q < S * P; q++) acc += r[q];
                db[oc] += acc;
            }
        }
        const float *x = cols;
        if (pointwise && S == 1) x = j->inp + n0 * s->C * P;
        else unfold(cols, j->inp, s, n0, S, scratch);
        for (int64_t g = 0; g < G; g++) {
            /* dW_g[OCg, Kg] += dy_g[OCg, S*P] · cols_g[Kg, S*P]^T */
            sk_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)OCg, (int)Kg, (int)(S * P), 1.0f,
                        dy + g * OCg * S * P, (int)(S * P), x + g * Kg * S * P, (int)(S * P), 1.0f,
                        dw + g * OCg * Kg, (int)Kg);
        }
        if (j->dinp) {
            float *dx = j->dinp + n0 * s->C * s->H * s->W;
            if (pointwise && S == 1) {
                for (int64_t g = 0; g < G; g++)
                    sk_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kg, (int)P, (int)OCg, 1.0f,
                                j->weight + g * OCg * Kg, (int)Kg, dy + g * OCg * P, (int)P, 0.0f,
                                dx + g * Kg * P, (int)P);
            } else {
                /* dcols_g[Kg, S*P] = W_g[OCg, Kg]^T · dy_g[OCg, S*P]; reuse cols */
                for (int64_t g = 0; g < G; g++)
                    sk_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kg, (int)(S * P), (int)OCg, 1.0f,
                                j->weight + g * OCg * Kg, (int)Kg, dy + g * OCg * S * P, (int)(S * P), 0.0f,
                                cols + g * Kg * S * P, (int)(S * P));
                fold(j->dinp, cols, s, n0, S, scratch);
            }
        }
    }
}

void sk_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const sk_conv_shape *s, float *workspace) {
    int32_t T = sk_threads();
    conv_job j = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight,
                  .s = s, .workspace = workspace, .stride = thread_stride(s, T), .S = chunk_samples(s, T)};
    /* Every thread's partial gradient starts at zero: the job may run on fewer threads
     * (or inline), and the sum below covers all of them. */
    const int64_t Kg = s->C * s->KH * s->KW / s->groups;
    const int64_t partial = s->C * s->KH * s->KW * j.S * s->OH * s->OW + s->OC * j.S * s->OH * s->OW;
    for (int32_t t = 0; t < T; t++)
        memset(workspace + t * j.stride + partial, 0, (size_t)(s->OC * Kg + s->OC) * sizeof(float));
    sk_parallel_for(s->N, 1, conv_backward_task, &j);
    for (int32_t t = 0; t < T; t++) {
        const float *dw = workspace + t * j.stride + partial;
        for (int64_t i = 0; i < s->OC * Kg; i++) dweight[i] += dw[i];
        if (dbias) for (int64_t oc = 0; oc < s->OC; oc++) dbias[oc] += dw[s->OC * Kg + oc];
    }
}
