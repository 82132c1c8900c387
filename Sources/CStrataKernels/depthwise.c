/* depthwise.c — depthwise 2-D convolution (groups == C == OC) computed directly, without im2col
 * or GEMM: each output plane is its input plane correlated with one KH×KW filter. A grouped
 * GEMM would run C products of [1, KH*KW]·[KH*KW, P], far too small for BLAS to be efficient.
 *
 * For every kernel tap (kh, kw) the valid output columns [lo, hi) are computed once per row, so
 * the inner loop is a branch-free `y[ow] += w * x[ow*SW + off]` (vectorised when SW == 1).
 * Forward and the input gradient split the N*C planes over the pool; the weight and bias
 * gradients split the C channels (each thread sums its channels over the whole batch, so no
 * reduction between threads is needed). Stride, zero padding and dilation as conv2d.c. */
#include "strata_kernels.h"

#include <string.h>

static int64_t dw_dil(int64_t d) { return d > 0 ? d : 1; }

/* Valid output columns for tap kw: 0 <= ow*SW - PW + kw*DW < W. */
static void dw_columns(const sk_conv_shape *s, int64_t kw, int64_t *lo, int64_t *hi) {
    int64_t off = kw * dw_dil(s->DW) - s->PW, l = 0, h = s->OW;
    if (off < 0) l = (-off + s->SW - 1) / s->SW;
    if (s->W - off <= 0) h = 0;
    else if ((s->OW - 1) * s->SW + off >= s->W) h = (s->W - off + s->SW - 1) / s->SW;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* Kernel widths up to this use a table of valid columns on the stack (recipes allow 1024). */
#define DW_MAX_KW 1024

static void dw_column_table(const sk_conv_shape *s, int64_t *lo, int64_t *hi) {
    for (int64_t kw = 0; kw < s->KW; kw++) dw_columns(s, kw, &lo[kw], &hi[kw]);
}

typedef struct {
    float *out, *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout;
    const sk_conv_shape *s;
} dw_job;

static void dw_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const dw_job *j = vctx;
    const sk_conv_shape *s = j->s;
    int64_t los[DW_MAX_KW], his[DW_MAX_KW];
    dw_column_table(s, los, his);
    const int64_t H = s->H, W = s->W, OH = s->OH, OW = s->OW, SW = s->SW, DH = dw_dil(s->DH), DW = dw_dil(s->DW);
    for (int64_t pl = begin; pl < end; pl++) {
        const int64_t c = pl % s->C;
        const float *restrict x = j->inp + pl * H * W;
        float *restrict y = j->out + pl * OH * OW;
        const float *restrict w = j->weight + c * s->KH * s->KW;
        const float b = j->bias ? j->bias[c] : 0.0f;
        for (int64_t q = 0; q < OH * OW; q++) y[q] = b;
        for (int64_t oh = 0; oh < OH; oh++) {
            float *restrict yr = y + oh * OW;
            for (int64_t kh = 0; kh < s->KH; kh++) {
                const int64_t ih = oh * s->SH - s->PH + kh * DH;
                if (ih < 0 || ih >= H) continue;
                const float *restrict xr = x + ih * W;
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    const int64_t lo = los[kw], hi = his[kw];
                    const float wv = w[kh * s->KW + kw];
                    const int64_t off = kw * DW - s->PW;
                    if (SW == 1) {
                        for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow + off];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * SW + off];
                    }
                }
            }
        }
    }
}

void sk_depthwise_forward(float *out, const float *inp, const float *weight, const float *bias, const sk_conv_shape *s) {
    dw_job j = {.out = out, .inp = inp, .weight = weight, .bias = bias, .s = s};
    sk_parallel_for(s->N * s->C, 1, dw_forward_task, &j);
}

static void dw_dinp_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const dw_job *j = vctx;
    const sk_conv_shape *s = j->s;
    int64_t los[DW_MAX_KW], his[DW_MAX_KW];
    dw_column_table(s, los, his);
    const int64_t H = s->H, W = s->W, OH = s->OH, OW = s->OW, SW = s->SW, DH = dw_dil(s->DH), DW = dw_dil(s->DW);
    for (int64_t pl = begin; pl < end; pl++) {
        const int64_t c = pl % s->C;
        float *restrict dx = j->dinp + pl * H * W;
        const float *restrict dy = j->dout + pl * OH * OW;
        const float *restrict w = j->weight + c * s->KH * s->KW;
        memset(dx, 0, (size_t)(H * W) * sizeof(float));
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *restrict gr = dy + oh * OW;
            for (int64_t kh = 0; kh < s->KH; kh++) {
                const int64_t ih = oh * s->SH - s->PH + kh * DH;
                if (ih < 0 || ih >= H) continue;
                float *restrict xr = dx + ih * W;
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    const int64_t lo = los[kw], hi = his[kw];
                    const float wv = w[kh * s->KW + kw];
                    const int64_t off = kw * DW - s->PW;
                    if (SW == 1) {
                        for (int64_t ow = lo; ow < hi; ow++) xr[ow + off] += wv * gr[ow];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) xr[ow * SW + off] += wv * gr[ow];
                    }
                }
            }
        }
    }
}

static void dw_dweight_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const dw_job *j = vctx;
    const sk_conv_shape *s = j->s;
    int64_t los[DW_MAX_KW], his[DW_MAX_KW];
    dw_column_table(s, los, his);
    const int64_t H = s->H, W = s->W, OH = s->OH, OW = s->OW, SW = s->SW, DH = dw_dil(s->DH), DW = dw_dil(s->DW);
    for (int64_t c = begin; c < end; c++) {
        float *restrict dw = j->dweight + c * s->KH * s->KW;
        float db = 0.0f;
        for (int64_t n = 0; n < s->N; n++) {
            const int64_t pl = n * s->C + c;
            const float *restrict x = j->inp + pl * H * W;
            const float *restrict dy = j->dout + pl * OH * OW;
            if (j->dbias) for (int64_t q = 0; q < OH * OW; q++) db += dy[q];
            for (int64_t kh = 0; kh < s->KH; kh++) {
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    const int64_t lo = los[kw], hi = his[kw];
                    const int64_t off = kw * DW - s->PW;
                    float acc = 0.0f;
                    for (int64_t oh = 0; oh < OH; oh++) {
                        const int64_t ih = oh * s->SH - s->PH + kh * DH;
                        if (ih < 0 || ih >= H) continue;
                        const float *restrict xr = x + ih * W;
                        const float *restrict gr = dy + oh * OW;
                        if (SW == 1) {
                            for (int64_t ow = lo; ow < hi; ow++) acc += gr[ow] * xr[ow + off];
                        } else {
                            for (int64_t ow = lo; ow < hi; ow++) acc += gr[ow] * xr[ow * SW + off];
                        }
                    }
                    dw[kh * s->KW + kw] += acc;
                }
            }
        }
        if (j->dbias) j->dbias[c] += db;
    }
}

void sk_depthwise_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const sk_conv_shape *s) {
    dw_job j = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight, .s = s};
    sk_parallel_for(s->C, 1, dw_dweight_task, &j);
    if (dinp) sk_parallel_for(s->N * s->C, 1, dw_dinp_task, &j);
}
