/* batchnorm.c — batch normalisation over [N, C, P] (P = H*W for BatchNorm2d, 1 for
 * BatchNorm1d), PyTorch semantics: biased variance to normalise, unbiased variance in the
 * running estimate, running = (1 - momentum) * running + momentum * batch.
 * Each pool thread owns a range of channels; statistics are accumulated in double. */
#include "strata_kernels.h"

#include <math.h>

typedef struct {
    float *out, *dinp, *dweight, *dbias, *save_mean, *save_invstd, *running_mean, *running_var;
    const float *inp, *weight, *bias, *dout, *cmean, *cinvstd, *crunning_mean, *crunning_var;
    int64_t N, C, P;
    float eps, momentum;
} bn_job;

static void bn_train_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const bn_job *j = vctx;
    const int64_t N = j->N, C = j->C, P = j->P, M = N * P;
    for (int64_t c = begin; c < end; c++) {
        double sum = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *x = j->inp + (n * C + c) * P;
            float acc = 0.0f;
            for (int64_t p = 0; p < P; p++) acc += x[p];
            sum += acc;
        }
        const double mean = sum / (double)M;
        const float meanf = (float)mean;
        double sq = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *x = j->inp + (n * C + c) * P;
            float acc = 0.0f;
            for (int64_t p = 0; p < P; p++) { float d = x[p] - meanf; acc += d * d; }
            sq += acc;
        }
        const double var = sq / (double)M;
        const float invstd = (float)(1.0 / sqrt(var + (double)j->eps));
        j->save_mean[c] = meanf;
        j->save_invstd[c] = invstd;
        if (j->running_mean) {
            const double unbiased = M > 1 ? var * (double)M / (double)(M - 1) : var;
            j->running_mean[c] = (float)((1.0 - j->momentum) * j->running_mean[c] + j->momentum * mean);
            j->running_var[c] = (float)((1.0 - j->momentum) * j->running_var[c] + j->momentum * unbiased);
        }
        const float g = j->weight ? j->weight[c] : 1.0f, b = j->bias ? j->bias[c] : 0.0f;
        const float scale = g * invstd, shift = b - meanf * scale;
        for (int64_t n = 0; n < N; n++) {
            const float *x = j->inp + (n * C + c) * P;
            float *y = j->out + (n * C + c) * P;
            for (int64_t p = 0; p < P; p++) y[p] = x[p] * scale + shift;
        }
    }
}

void sk_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                                float *running_mean, float *running_var,
                                const float *inp, const float *weight, const float *bias,
                                int64_t N, int64_t C, int64_t P, float eps, float momentum) {
    bn_job j = {.out = out, .save_mean = save_mean, .save_invstd = save_invstd, .running_mean = running_mean,
                .running_var = running_var, .inp = inp, .weight = weight, .bias = bias,
                .N = N, .C = C, .P = P, .eps = eps, .momentum = momentum};
    sk_parallel_for(C, 1, bn_train_task, &j);
}

static void bn_eval_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const bn_job *j = vctx;
    for (int64_t c = begin; c < end; c++) {
        const float invstd = 1.0f / sqrtf(j->crunning_var[c] + j->eps);
        const float g = j->weight ? j->weight[c] : 1.0f, b = j->bias ? j->bias[c] : 0.0f;
        const float scale = g * invstd, shift = b - j->crunning_mean[c] * scale;
        for (int64_t n = 0; n < j->N; n++) {
            const float *x = j->inp + (n * j->C + c) * j->P;
            float *y = j->out + (n * j->C + c) * j->P;
            for (int64_t p = 0; p < j->P; p++) y[p] = x[p] * scale + shift;
        }
    }
}

void sk_batchnorm_forward_eval(float *out, const float *inp, const float *weight, const float *bias,
                               const float *running_mean, const float *running_var,
                               int64_t N, int64_t C, int64_t P, float eps) {
    bn_job j = {.out = out, .inp = inp, .weight = weight, .bias = bias, .crunning_mean = running_mean,
                .crunning_var = running_var, .N = N, .C = C, .P = P, .eps = eps};
    sk_parallel_for(C, 1, bn_eval_task, &j);
}

static void bn_backward_train_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const bn_job *j = vctx;
    const int64_t N = j->N, C = j->C, P = j->P, M = N * P;
    for (int64_t c = begin; c < end; c++) {
        const float mean = j->cmean[c], invstd = j->cinvstd[c];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *x = j->inp + (n * C + c) * P, *dy = j->dout + (n * C + c) * P;
            float a = 0.0f, b = 0.0f;
            for (int64_t p = 0; p < P; p++) { a += dy[p]; b += dy[p] * (x[p] - mean); }
            sum_dy += a;
            sum_dy_xhat += b;
        }
        sum_dy_xhat *= invstd;
        if (j->dweight) j->dweight[c] += (float)sum_dy_xhat;
        if (j->dbias) j->dbias[c] += (float)sum_dy;
        if (!j->dinp) continue;
        const float g = j->weight ? j->weight[c] : 1.0f;
        /* dx = g*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) */
        const float k = g * invstd / (float)M;
        const float mdy = (float)(sum_dy / (double)M) * (float)M;
        const float kx = (float)sum_dy_xhat * invstd;
        for (int64_t n = 0; n < N; n++) {
            const float *x = j->inp + (n * C + c) * P, *dy = j->dout + (n * C + c) * P;
            float *dx = j->dinp + (n * C + c) * P;
            for (int64_t p = 0; p < P; p++) dx[p] = k * ((float)M * dy[p] - mdy - (x[p] - mean) * kx);
        }
    }
}

void sk_batchnorm_backward_train(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, const float *save_mean,
                                 const float *save_invstd, int64_t N, int64_t C, int64_t P) {
    bn_job j = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight,
                .cmean = save_mean, .cinvstd = save_invstd, .N = N, .C = C, .P = P};
    sk_parallel_for(C, 1, bn_backward_train_task, &j);
}

static void bn_backward_eval_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    (void)thread;
    const bn_job *j = vctx;
    for (int64_t c = begin; c < end; c++) {
        const float mean = j->crunning_mean[c], invstd = 1.0f / sqrtf(j->crunning_var[c] + j->eps);
        const float g = j->weight ? j->weight[c] : 1.0f;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t n = 0; n < j->N; n++) {
            const float *x = j->inp + (n * j->C + c) * j->P, *dy = j->dout + (n * j->C + c) * j->P;
            float *dx = j->dinp ? j->dinp + (n * j->C + c) * j->P : 0;
            float a = 0.0f, b = 0.0f;
            for (int64_t p = 0; p < j->P; p++) {
                a += dy[p];
                b += dy[p] * (x[p] - mean) * invstd;
                if (dx) dx[p] = dy[p] * g * invstd;
            }
            sum_dy += a;
            sum_dy_xhat += b;
        }
        if (j->dweight) j->dweight[c] += (float)sum_dy_xhat;
        if (j->dbias) j->dbias[c] += (float)sum_dy;
    }
}

void sk_batchnorm_backward_eval(float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, const float *running_mean,
                                const float *running_var, int64_t N, int64_t C, int64_t P, float eps) {
    bn_job j = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight,
                .crunning_mean = running_mean, .crunning_var = running_var, .N = N, .C = C, .P = P, .eps = eps};
    sk_parallel_for(C, 1, bn_backward_eval_task, &j);
}
