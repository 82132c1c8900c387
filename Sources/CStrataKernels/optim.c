/* optim.c — optimizer updates with PyTorch's formulas (torch.optim, single-tensor path). */
#include "strata_kernels.h"

#include <math.h>

void sk_sgd_step(float *param, float *momentum_buf, const float *grad, int64_t n, float lr,
                 float momentum, float dampening, float weight_decay, int32_t nesterov, int32_t first) {
    for (int64_t i = 0; i < n; i++) {
        float d = grad[i];
        if (weight_decay != 0.0f) d += weight_decay * param[i];
        if (momentum != 0.0f) {
            float b = first ? d : momentum * momentum_buf[i] + (1.0f - dampening) * d;
            momentum_buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        param[i] -= lr * d;
    }
}

void sk_adam_step(float *param, float *exp_avg, float *exp_avg_sq, const float *grad, int64_t n,
                  float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                  int32_t decoupled) {
    const double bc1 = 1.0 - pow((double)beta1, (double)step);
    const double bc2 = 1.0 - pow((double)beta2, (double)step);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        if (decoupled) param[i] *= decay;
        else if (weight_decay != 0.0f) g += weight_decay * param[i];
        float m = beta1 * exp_avg[i] + (1.0f - beta1) * g;
        float v = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        float denom = sqrtf(v) / bc2_sqrt + eps;
        param[i] -= step_size * m / denom;
    }
}
