// AMSGrad: Adam whose denominator uses the running maximum of the second moment
// (torch.optim.Adam/AdamW with amsgrad=True, PyTorch's single-tensor formula).
#include "strata_kernels.h"
#include <math.h>

void sk_amsgrad_step(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad,
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
        float v_max = v > max_exp_avg_sq[i] ? v : max_exp_avg_sq[i];
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        max_exp_avg_sq[i] = v_max;
        float denom = sqrtf(v_max) / bc2_sqrt + eps;
        param[i] -= step_size * m / denom;
    }
}
