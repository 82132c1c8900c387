/* conv_epilogue.c — the per-channel steps an inference-fused convolution applies to its output
 * (strata_conv_epilogue.h). Compiled with the kernels' flags (FMA contraction), like batchnorm.c
 * and elementwise.c, so `y * scale + shift` and `y + r` round as the unfused layers do. */
#include "strata_conv_epilogue.h"

#include <math.h>

void sk_batchnorm_eval_affine(float *scale, float *shift, const float *weight, const float *bias,
                              const float *running_mean, const float *running_var, int64_t C, float eps) {
    for (int64_t c = 0; c < C; c++) {
        const float invstd = 1.0f / sqrtf(running_var[c] + eps);
        const float g = weight ? weight[c] : 1.0f, b = bias ? bias[c] : 0.0f;
        scale[c] = g * invstd;
        shift[c] = b - running_mean[c] * scale[c];
    }
}

void sk_conv_epilogue_apply(float *y, const sk_conv_epilogue *e, int64_t n0, int64_t n1, int64_t C, int64_t P) {
    const int before = e->relu_before, after = e->relu_after;
    for (int64_t n = n0; n < n1; n++) {
        for (int64_t c = 0; c < C; c++) {
            float *restrict o = y + (n * C + c) * P;                       /* [P] */
            const float *restrict r = e->residual ? e->residual + (n * C + c) * P : 0;
            const float a = e->scale ? e->scale[c] : 1.0f, b = e->scale ? e->shift[c] : 0.0f;
            if (e->scale) {
                if (before) for (int64_t p = 0; p < P; p++) { float v = o[p] > 0.0f ? o[p] : 0.0f; o[p] = v * a + b; }
                else for (int64_t p = 0; p < P; p++) o[p] = o[p] * a + b;
            } else if (before) {
                for (int64_t p = 0; p < P; p++) o[p] = o[p] > 0.0f ? o[p] : 0.0f;
            }
            if (after) for (int64_t p = 0; p < P; p++) o[p] = o[p] > 0.0f ? o[p] : 0.0f;
            if (r) for (int64_t p = 0; p < P; p++) o[p] = o[p] + r[p];
        }
    }
}
