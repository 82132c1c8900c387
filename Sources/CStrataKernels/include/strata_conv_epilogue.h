/* strata_conv_epilogue.h — what an inference-fused convolution does to its output before it
 * leaves the kernel's part of the batch (the part is still in cache).
 *
 * For y[n, c, p] (the convolution plus its bias, [N, OC, OH*OW]), in this order:
 *   relu_before:  y = y > 0 ? y : 0          (a ReLU between the convolution and the BatchNorm)
 *   scale, shift: y = y * scale[c] + shift[c] (an evaluation-mode BatchNorm, running statistics)
 *   relu_after:   y = y > 0 ? y : 0          (a ReLU after the BatchNorm)
 *   residual:     y = y + residual[n, c, p]   (a residual block's identity shortcut)
 * Each step is the same float expression as the layer it replaces (batchnorm.c, elementwise.c),
 * so a fused forward gives the unfused bits. */
#ifndef STRATA_CONV_EPILOGUE_H
#define STRATA_CONV_EPILOGUE_H

#include "strata_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const float *scale;      /* [OC] or NULL (no affine step) */
    const float *shift;      /* [OC], with scale */
    const float *residual;   /* [N, OC, OH, OW] or NULL */
    int32_t relu_before;
    int32_t relu_after;
} sk_conv_epilogue;

/** Applies `e` to samples [n0, n1) of y[N, C, P] (residual indexed alike). */
void sk_conv_epilogue_apply(float *y, const sk_conv_epilogue *e, int64_t n0, int64_t n1, int64_t C, int64_t P);

/** scale[c] = weight[c] / sqrt(var[c] + eps), shift[c] = bias[c] - mean[c] * scale[c]: an
 *  evaluation-mode BatchNorm as one multiply-add, computed as sk_batchnorm_forward_eval does.
 *  weight and bias may be NULL (1 and 0). */
void sk_batchnorm_eval_affine(float *scale, float *shift, const float *weight, const float *bias,
                              const float *running_mean, const float *running_var, int64_t C, float eps);

/** out[N, OC, OH, OW] = epilogue(conv(inp, weight) + bias) by im2col + BLAS, the epilogue applied
 *  per chunk of samples as it is written. */
void sk_conv2d_forward_fused(float *out, const float *inp, const float *weight, const float *bias,
                             const sk_conv_shape *s, float *workspace, const sk_conv_epilogue *e);

#ifdef __cplusplus
}
#endif

#endif
