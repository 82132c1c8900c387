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

/* Adam's update; with max_exp_avg_sq (not NULL) it is AMSGrad: the denominator uses the running
 * maximum of the second moment (torch.optim.Adam/AdamW with amsgrad=True). Inlined into both
 * entry points, so each gets its own loop with the NULL test folded away. */
static inline __attribute__((always_inline))
void adam_update(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad,
                 int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
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
        float v_denom = v;
        if (max_exp_avg_sq) {
            v_denom = v > max_exp_avg_sq[i] ? v : max_exp_avg_sq[i];
            max_exp_avg_sq[i] = v_denom;
        }
        float denom = sqrtf(v_denom) / bc2_sqrt + eps;
        param[i] -= step_size * m / denom;
    }
}

void sk_adam_step(float *param, float *exp_avg, float *exp_avg_sq, const float *grad, int64_t n,
                  float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                  int32_t decoupled) {
    adam_update(param, exp_avg, exp_avg_sq, NULL, grad, n, lr, beta1, beta2, eps, weight_decay, step, decoupled);
}

void sk_amsgrad_step(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad,
                     int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                     int32_t decoupled) {
    adam_update(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, n, lr, beta1, beta2, eps, weight_decay, step,
                decoupled);
}
