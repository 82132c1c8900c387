/* pool2d.c — max and average pooling (windows with zero padding), and global pools.
 * Each pool thread takes a range of the N*C planes. */
#include "strata_kernels.h"

#include <float.h>
#include <string.h>

int32_t sk_pool_infer(sk_pool_shape *s) {
    if (s->KH < 1 || s->KW < 1 || s->SH < 1 || s->SW < 1 || s->PH < 0 || s->PW < 0) return -1;
    if (2 * s->PH > s->KH || 2 * s->PW > s->KW) return -1; /* PyTorch: pad at most half the kernel */
    int64_t eh = s->H + 2 * s->PH - s->KH, ew = s->W + 2 * s->PW - s->KW;
    if (eh < 0 || ew < 0) return -1;
    if (s->ceil_mode) {
        /* PyTorch: round up, but the last window must start inside the input or the left padding */
        s->OH = (eh + s->SH - 1) / s->SH + 1;
        s->OW = (ew + s->SW - 1) / s->SW + 1;
        if ((s->OH - 1) * s->SH >= s->H + s->PH) s->OH--;
        if ((s->OW - 1) * s->SW >= s->W + s->PW) s->OW--;
    } else {
        s->OH = eh / s->SH + 1;
        s->OW = ew / s->SW + 1;
    }
    return 0;
}

/* The divisor of average window (oh, ow), as PyTorch's avg_pool2d: the window clipped to the
 * padded input (count_include_pad), or to the input itself (exclude_pad). */
static float avg_divisor(const sk_pool_shape *s, int64_t oh, int64_t ow) {
    int64_t h0 = oh * s->SH - s->PH, w0 = ow * s->SW - s->PW;
    int64_t h1 = h0 + s->KH, w1 = w0 + s->KW;
    if (h1 > s->H + s->PH) h1 = s->H + s->PH;
    if (w1 > s->W + s->PW) w1 = s->W + s->PW;
    if (s->exclude_pad) {
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        if (h1 > s->H) h1 = s->H;
        if (w1 > s->W) w1 = s->W;
    }
    int64_t n = (h1 - h0) * (w1 - w0);
    return n > 0 ? (float)n : 1.0f;
}

/* Windows that all hold KH*KW elements of the input (no padding, none cut off): 2x2 fast paths. */
static int exact_2x2(const sk_pool_shape *s) {
    return s->KH == 2 && s->KW == 2 && s->SH == 2 && s->SW == 2 && s->PH == 0 && s->PW == 0 &&
           2 * s->OH <= s->H && 2 * s->OW <= s->W;
}

typedef struct {
    float *out, *dinp;
    int32_t *argmax;
    const float *inp, *dout;
    const int32_t *cargmax;
    const sk_pool_shape *s;
    int64_t P;
} pool_job;

static void maxpool_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    const sk_pool_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *x = j->inp + pl * s->H * s->W;
        float *y = j->out + pl * s->OH * s->OW;
        int32_t *am = j->argmax + pl * s->OH * s->OW;
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t h0 = oh * s->SH - s->PH;
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t w0 = ow * s->SW - s->PW;
                float best = -FLT_MAX;
                int32_t where = -1;
                for (int64_t kh = 0; kh < s->KH; kh++) {
                    int64_t ih = h0 + kh;
                    if (ih < 0 || ih >= s->H) continue;
                    for (int64_t kw = 0; kw < s->KW; kw++) {
                        int64_t iw = w0 + kw;
                        if (iw < 0 || iw >= s->W) continue;
                        float v = x[ih * s->W + iw];
                        if (v > best || where < 0 || v != v) { best = v; where = (int32_t)(ih * s->W + iw); }
                    }
                }
                y[oh * s->OW + ow] = best;
                am[oh * s->OW + ow] = where;
            }
        }
    }
}

void sk_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const sk_pool_shape *s) {
    pool_job j = {.out = out, .argmax = argmax, .inp = inp, .s = s};
    sk_parallel_for(s->N * s->C, 4, maxpool_forward_task, &j);
}

static void maxpool_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    const sk_pool_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        float *dx = j->dinp + pl * s->H * s->W;
        const float *dy = j->dout + pl * s->OH * s->OW;
        const int32_t *am = j->cargmax + pl * s->OH * s->OW;
        memset(dx, 0, (size_t)(s->H * s->W) * sizeof(float));
        for (int64_t q = 0; q < s->OH * s->OW; q++) dx[am[q]] += dy[q];
    }
}

void sk_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const sk_pool_shape *s) {
    pool_job j = {.dinp = dinp, .dout = dout, .cargmax = argmax, .s = s};
    sk_parallel_for(s->N * s->C, 4, maxpool_backward_task, &j);
}

static void avgpool_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    const sk_pool_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *x = j->inp + pl * s->H * s->W;
        float *y = j->out + pl * s->OH * s->OW;
        if (exact_2x2(s)) {
            for (int64_t oh = 0; oh < s->OH; oh++) {
                const float *r0 = x + 2 * oh * s->W, *r1 = r0 + s->W;
                for (int64_t ow = 0; ow < s->OW; ow++)
                    y[oh * s->OW + ow] = (r0[2 * ow] + r0[2 * ow + 1] + r1[2 * ow] + r1[2 * ow + 1]) * 0.25f;
            }
            continue;
        }
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t h0 = oh * s->SH - s->PH;
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t w0 = ow * s->SW - s->PW;
                float acc = 0.0f;
                for (int64_t kh = 0; kh < s->KH; kh++) {
                    int64_t ih = h0 + kh;
                    if (ih < 0 || ih >= s->H) continue;
                    for (int64_t kw = 0; kw < s->KW; kw++) {
                        int64_t iw = w0 + kw;
                        if (iw >= 0 && iw < s->W) acc += x[ih * s->W + iw];
                    }
                }
                y[oh * s->OW + ow] = acc / avg_divisor(s, oh, ow);
            }
        }
    }
}

void sk_avgpool2d_forward(float *out, const float *inp, const sk_pool_shape *s) {
    pool_job j = {.out = out, .inp = inp, .s = s};
    sk_parallel_for(s->N * s->C, 4, avgpool_forward_task, &j);
}

static void avgpool_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    const sk_pool_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        float *dx = j->dinp + pl * s->H * s->W;
        const float *dy = j->dout + pl * s->OH * s->OW;
        if (exact_2x2(s)) {
            if (s->H != 2 * s->OH || s->W != 2 * s->OW) memset(dx, 0, (size_t)(s->H * s->W) * sizeof(float));
            for (int64_t oh = 0; oh < s->OH; oh++) {
                float *r0 = dx + 2 * oh * s->W, *r1 = r0 + s->W;
                for (int64_t ow = 0; ow < s->OW; ow++) {
                    float g = dy[oh * s->OW + ow] * 0.25f;
                    r0[2 * ow] = g; r0[2 * ow + 1] = g; r1[2 * ow] = g; r1[2 * ow + 1] = g;
                }
            }
            continue;
        }
        memset(dx, 0, (size_t)(s->H * s->W) * sizeof(float));
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t h0 = oh * s->SH - s->PH;
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t w0 = ow * s->SW - s->PW;
                float g = dy[oh * s->OW + ow] / avg_divisor(s, oh, ow);
                for (int64_t kh = 0; kh < s->KH; kh++) {
                    int64_t ih = h0 + kh;
                    if (ih < 0 || ih >= s->H) continue;
                    for (int64_t kw = 0; kw < s->KW; kw++) {
                        int64_t iw = w0 + kw;
                        if (iw >= 0 && iw < s->W) dx[ih * s->W + iw] += g;
                    }
                }
            }
        }
    }
}

void sk_avgpool2d_backward(float *dinp, const float *dout, const sk_pool_shape *s) {
    pool_job j = {.dinp = dinp, .dout = dout, .s = s};
    sk_parallel_for(s->N * s->C, 4, avgpool_backward_task, &j);
}

static void gmax_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *x = j->inp + pl * j->P;
        float best = x[0];
        int32_t where = 0;
        for (int64_t p = 1; p < j->P; p++)
            if (x[p] > best || x[p] != x[p]) { best = x[p]; where = (int32_t)p; }
        j->out[pl] = best;
        j->argmax[pl] = where;
    }
}

void sk_global_maxpool_forward(float *out, int32_t *argmax, const float *inp, int64_t NC, int64_t P) {
    pool_job j = {.out = out, .argmax = argmax, .inp = inp, .P = P};
    sk_parallel_for(NC, 64, gmax_forward_task, &j);
}

static void gmax_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    for (int64_t pl = begin; pl < end; pl++) {
        float *dx = j->dinp + pl * j->P;
        memset(dx, 0, (size_t)j->P * sizeof(float));
        dx[j->cargmax[pl]] = j->dout[pl];
    }
}

void sk_global_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, int64_t NC, int64_t P) {
    pool_job j = {.dinp = dinp, .dout = dout, .cargmax = argmax, .P = P};
    sk_parallel_for(NC, 64, gmax_backward_task, &j);
}

static void gavg_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *x = j->inp + pl * j->P;
        float acc = 0.0f;
        for (int64_t p = 0; p < j->P; p++) acc += x[p];
        j->out[pl] = acc / (float)j->P;
    }
}

void sk_global_avgpool_forward(float *out, const float *inp, int64_t NC, int64_t P) {
    pool_job j = {.out = out, .inp = inp, .P = P};
    sk_parallel_for(NC, 64, gavg_forward_task, &j);
}

static void gavg_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const pool_job *j = vctx;
    for (int64_t pl = begin; pl < end; pl++) {
        float *dx = j->dinp + pl * j->P;
        float g = j->dout[pl] / (float)j->P;
        for (int64_t p = 0; p < j->P; p++) dx[p] = g;
    }
}

void sk_global_avgpool_backward(float *dinp, const float *dout, int64_t NC, int64_t P) {
    pool_job j = {.dinp = dinp, .dout = dout, .P = P};
    sk_parallel_for(NC, 64, gavg_backward_task, &j);
}
