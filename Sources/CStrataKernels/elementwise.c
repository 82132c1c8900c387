/* elementwise.c — activations, dropout and additions, split over the pool in blocks. */
#include "strata_kernels.h"
#include "sk_math.h"

#include <math.h>

#define GRAIN 16384

#define ELEMENTWISE(name, body)                                                                  \
    typedef struct { float *out; const float *a, *b; int64_t n; } name##_job;                 \
    static void name##_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {           \
        (void)thread;                                                                             \
        const name##_job *j = vctx;                                                              \
        float *restrict out = j->out;                                                             \
        const float *restrict a = j->a;                                                           \
        const float *restrict b = j->b;                                                           \
        (void)b;                                                                                  \
        for (int64_t i = begin; i < end; i++) { body; }                                          \
    }

ELEMENTWISE(relu_f, out[i] = a[i] > 0.0f ? a[i] : 0.0f)
ELEMENTWISE(relu_b, out[i] = b[i] > 0.0f ? a[i] : 0.0f)               /* a = dout, b = out */
ELEMENTWISE(sigmoid_f, out[i] = 1.0f / (1.0f + sk_expf(-a[i])))
ELEMENTWISE(sigmoid_b, out[i] = a[i] * b[i] * (1.0f - b[i]))
ELEMENTWISE(tanh_f, out[i] = sk_tanhf(a[i]))
ELEMENTWISE(tanh_b, out[i] = a[i] * (1.0f - b[i] * b[i]))
ELEMENTWISE(add, out[i] = a[i] + b[i])
ELEMENTWISE(add_inplace, out[i] += a[i])
ELEMENTWISE(mul, out[i] = a[i] * b[i])

#define RUN(name, o, x, y, count)                                                                \
    do {                                                                                          \
        name##_job j = {o, x, y, count};                                                          \
        sk_parallel_for(count, GRAIN, name##_task, &j);                                           \
    } while (0)

void sk_relu_forward(float *out, const float *inp, int64_t n) { RUN(relu_f, out, inp, 0, n); }
void sk_relu_backward(float *dinp, const float *dout, const float *out, int64_t n) { RUN(relu_b, dinp, dout, out, n); }
void sk_sigmoid_forward(float *out, const float *inp, int64_t n) { RUN(sigmoid_f, out, inp, 0, n); }
void sk_sigmoid_backward(float *dinp, const float *dout, const float *out, int64_t n) { RUN(sigmoid_b, dinp, dout, out, n); }
void sk_tanh_forward(float *out, const float *inp, int64_t n) { RUN(tanh_f, out, inp, 0, n); }
void sk_tanh_backward(float *dinp, const float *dout, const float *out, int64_t n) { RUN(tanh_b, dinp, dout, out, n); }
void sk_add(float *out, const float *a, const float *b, int64_t n) { RUN(add, out, a, b, n); }
void sk_add_inplace(float *out, const float *a, int64_t n) { RUN(add_inplace, out, a, 0, n); }
void sk_mul(float *out, const float *a, const float *b, int64_t n) { RUN(mul, out, a, b, n); }

typedef struct {
    float *out, *mask;
    const float *inp;
    float p;
    uint64_t seed, step;
} dropout_job;

/* splitmix64 of (seed, step, index): a counter-based stream, the same for any thread split */
static inline uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void dropout_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const dropout_job *j = vctx;
    const float scale = 1.0f / (1.0f - j->p);
    const uint64_t base = mix64(j->seed ^ mix64(j->step));
    for (int64_t i = begin; i < end; i++) {
        float u = (float)(mix64(base + (uint64_t)i) >> 40) * (1.0f / 16777216.0f);
        float m = u >= j->p ? scale : 0.0f;
        j->mask[i] = m;
        j->out[i] = j->inp[i] * m;
    }
}

void sk_dropout_forward(float *out, float *mask, const float *inp, int64_t n, float p,
                        uint64_t seed, uint64_t step) {
    dropout_job j = {out, mask, inp, p, seed, step};
    sk_parallel_for(n, GRAIN, dropout_task, &j);
}

typedef struct {
    float *out;
    const float *a, *b;
    int64_t K;
} rows_job;

static void log_softmax_f_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const rows_job *j = vctx;
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->a + r * j->K;
        float *y = j->out + r * j->K;
        float m = x[0];
        for (int64_t k = 1; k < j->K; k++) m = x[k] > m ? x[k] : m;
        double sum = 0.0;
        for (int64_t k = 0; k < j->K; k++) sum += (double)expf(x[k] - m);
        const float lse = m + (float)log(sum);
        for (int64_t k = 0; k < j->K; k++) y[k] = x[k] - lse;
    }
}

static void log_softmax_b_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const rows_job *j = vctx;
    for (int64_t r = begin; r < end; r++) {
        const float *dy = j->a + r * j->K, *y = j->b + r * j->K;
        float *dx = j->out + r * j->K;
        float sum = 0.0f;
        for (int64_t k = 0; k < j->K; k++) sum += dy[k];
        for (int64_t k = 0; k < j->K; k++) dx[k] = dy[k] - expf(y[k]) * sum;
    }
}

void sk_log_softmax_forward(float *out, const float *inp, int64_t N, int64_t K) {
    rows_job j = {out, inp, 0, K};
    sk_parallel_for(N, 64, log_softmax_f_task, &j);
}

void sk_log_softmax_backward(float *dinp, const float *dout, const float *out, int64_t N, int64_t K) {
    rows_job j = {dinp, dout, out, K};
    sk_parallel_for(N, 64, log_softmax_b_task, &j);
}

int64_t sk_first_non_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return i;
    }
    return -1;
}
