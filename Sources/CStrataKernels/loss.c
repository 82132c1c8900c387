/* loss.c — softmax cross-entropy (fused, max-shifted), NLL and MSE, mean reduction. */
#include "strata_kernels.h"
#include "sk_math.h"

#include <math.h>

static int64_t argmax_row(const float *row, int64_t K) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; k++)
        if (row[k] > row[best]) best = k;
    return best;
}

int64_t sk_count_correct(const float *logits, const int32_t *targets, int64_t N, int64_t K) {
    int64_t hits = 0;
    for (int64_t i = 0; i < N; i++) hits += argmax_row(logits + i * K, K) == targets[i];
    return hits;
}

double sk_cross_entropy(float *dlogits, int64_t *correct, const float *logits, const int32_t *targets,
                        int64_t N, int64_t K, int64_t *bad_index) {
    double total = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits + i * K;
        int32_t t = targets[i];
        if (t < 0 || t >= K) {
            if (bad_index) *bad_index = i;
            return NAN;
        }
        int64_t best = argmax_row(x, K);
        hits += best == t;
        float m = x[best];
        double sum = 0.0;
        for (int64_t k = 0; k < K; k++) sum += (double)expf(x[k] - m);
        double lse = log(sum) + (double)m;
        total += lse - (double)x[t];
        if (dlogits) {
            float *d = dlogits + i * K;
            float inv = (float)(1.0 / sum) / (float)N;
            for (int64_t k = 0; k < K; k++) d[k] = expf(x[k] - m) * inv;
            d[t] -= 1.0f / (float)N;
        }
    }
    if (correct) *correct = hits;
    return total / (double)N;
}

double sk_nll(float *dinp, int64_t *correct, const float *inp, const int32_t *targets,
              int64_t N, int64_t K, int64_t *bad_index) {
    double total = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < N; i++) {
        int32_t t = targets[i];
        if (t < 0 || t >= K) {
            if (bad_index) *bad_index = i;
            return NAN;
        }
        hits += argmax_row(inp + i * K, K) == t;
        total -= (double)inp[i * K + t];
        if (dinp) {
            for (int64_t k = 0; k < K; k++) dinp[i * K + k] = 0.0f;
            dinp[i * K + t] = -1.0f / (float)N;
        }
    }
    if (correct) *correct = hits;
    return total / (double)N;
}

double sk_mse(float *dinp, const float *inp, const float *target, int64_t n) {
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float d = inp[i] - target[i];
        total += (double)d * (double)d;
        if (dinp) dinp[i] = 2.0f * d / (float)n;
    }
    return total / (double)n;
}
