/* adaptive_pool.c — adaptive max and average pooling to any output size, as PyTorch's
 * adaptive_{max,avg}_pool2d: output row oh covers input rows [floor(oh*H/OH), ceil((oh+1)*H/OH)),
 * and likewise for columns. Windows may overlap and differ in size. Each pool thread takes a
 * range of the N*C planes. */
#include "strata_kernels.h"

#include <string.h>

static int64_t start_index(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
static int64_t end_index(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

typedef struct {
    float *out, *dinp;
    int32_t *argmax;
    const float *inp, *dout;
    const int32_t *cargmax;
    const sk_adaptive_shape *s;
} adaptive_job;

static void adaptive_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const adaptive_job *j = vctx;
    const sk_adaptive_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *x = j->inp + pl * s->H * s->W;
        float *y = j->out + pl * s->OH * s->OW;
        int32_t *am = j->argmax ? j->argmax + pl * s->OH * s->OW : NULL;
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t h0 = start_index(oh, s->H, s->OH), h1 = end_index(oh, s->H, s->OH);
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t w0 = start_index(ow, s->W, s->OW), w1 = end_index(ow, s->W, s->OW);
                if (am) {
                    float best = x[h0 * s->W + w0];
                    int32_t where = (int32_t)(h0 * s->W + w0);
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) {
                            float v = x[h * s->W + w];
                            if (v > best || v != v) { best = v; where = (int32_t)(h * s->W + w); }
                        }
                    y[oh * s->OW + ow] = best;
                    am[oh * s->OW + ow] = where;
                } else {
                    float acc = 0.0f;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) acc += x[h * s->W + w];
                    y[oh * s->OW + ow] = acc / (float)((h1 - h0) * (w1 - w0));
                }
            }
        }
    }
}

void sk_adaptive_pool2d_forward(float *out, int32_t *argmax, const float *inp, const sk_adaptive_shape *s) {
    adaptive_job j = {.out = out, .argmax = argmax, .inp = inp, .s = s};
    sk_parallel_for(s->N * s->C, 4, adaptive_forward_task, &j);
}

static void adaptive_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const adaptive_job *j = vctx;
    const sk_adaptive_shape *s = j->s;
    for (int64_t pl = begin; pl < end; pl++) {
        float *dx = j->dinp + pl * s->H * s->W;
        const float *dy = j->dout + pl * s->OH * s->OW;
        memset(dx, 0, (size_t)(s->H * s->W) * sizeof(float));
        if (j->cargmax) {
            const int32_t *am = j->cargmax + pl * s->OH * s->OW;
            for (int64_t q = 0; q < s->OH * s->OW; q++) dx[am[q]] += dy[q];
            continue;
        }
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t h0 = start_index(oh, s->H, s->OH), h1 = end_index(oh, s->H, s->OH);
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t w0 = start_index(ow, s->W, s->OW), w1 = end_index(ow, s->W, s->OW);
                float g = dy[oh * s->OW + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dx[h * s->W + w] += g;
            }
        }
    }
}

void sk_adaptive_pool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const sk_adaptive_shape *s) {
    adaptive_job j = {.dinp = dinp, .dout = dout, .cargmax = argmax, .s = s};
    sk_parallel_for(s->N * s->C, 4, adaptive_backward_task, &j);
}
