/* linear.c — fully connected layer: out[N,OC] = inp[N,C] · weight[OC,C]^T + bias[OC].
 * Forward and the input gradient split the batch rows over the pool; the weight gradient
 * splits the output features, so no thread writes another's rows and nothing is reduced. */
#include "strata_kernels.h"

#include "sk_blas.h"

typedef struct {
    float *out, *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout;
    int64_t N, C, OC, parts;
} linear_job;

static void linear_forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const linear_job *j = vctx;
    int64_t rows = end - begin;
    float *out = j->out + begin * j->OC;
    sk_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)j->OC, (int)j->C, 1.0f,
                j->inp + begin * j->C, (int)j->C, j->weight, (int)j->C, 0.0f, out, (int)j->OC);
    if (j->bias)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < j->OC; o++) out[r * j->OC + o] += j->bias[o];
}

void sk_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                       int64_t N, int64_t C, int64_t OC) {
    linear_job j = {.out = out, .inp = inp, .weight = weight, .bias = bias, .N = N, .C = C, .OC = OC};
    int64_t grain = (1 << 16) / (C * OC + 1) + 1; /* small layers are not worth splitting */
    sk_parallel_for(N, grain, linear_forward_task, &j);
}

/* Part p computes input-gradient rows and weight-gradient rows of its own share. */
static void linear_backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const linear_job *j = vctx;
    for (int64_t p = begin; p < end; p++) {
        int64_t r0 = j->N * p / j->parts, r1 = j->N * (p + 1) / j->parts;
        if (j->dinp && r1 > r0)
            sk_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)j->C, (int)j->OC, 1.0f,
                        j->dout + r0 * j->OC, (int)j->OC, j->weight, (int)j->C, 0.0f,
                        j->dinp + r0 * j->C, (int)j->C);
        int64_t o0 = j->OC * p / j->parts, o1 = j->OC * (p + 1) / j->parts;
        if (o1 > o0) {
            /* dW[o0:o1, :] += dout[:, o0:o1]^T · inp */
            sk_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), (int)j->C, (int)j->N, 1.0f,
                        j->dout + o0, (int)j->OC, j->inp, (int)j->C, 1.0f, j->dweight + o0 * j->C, (int)j->C);
            if (j->dbias)
                for (int64_t o = o0; o < o1; o++) {
                    float acc = 0.0f;
                    for (int64_t r = 0; r < j->N; r++) acc += j->dout[r * j->OC + o];
                    j->dbias[o] += acc;
                }
        }
    }
}

void sk_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int64_t N, int64_t C, int64_t OC) {
    int64_t parts = sk_threads();
    if (N * C * OC < (1 << 16)) parts = 1;
    linear_job j = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp,
                    .weight = weight, .N = N, .C = C, .OC = OC, .parts = parts};
    sk_parallel_for(parts, 1, linear_backward_task, &j);
}
