/* cross_entropy.c - softmax cross-entropy over class-index targets, mean over the batch
 * (PyTorch's CrossEntropyLoss with mean reduction), with max-shifted log-sum-exp. */
#include <math.h>
#include <stdio.h>

#include "c_layers.h"

static StrataStatus ce_create(const char *config_json, const void *config_object, void **instance,
                              StrataError *err) {
    (void)config_json; (void)config_object; (void)err;
    *instance = NULL; /* no state */
    return STRATA_OK;
}

static void ce_destroy(void *instance) { (void)instance; }

static StrataStatus ce_forward(void *instance, const StrataTensor *logits,
                               const StrataTensor *targets, double *loss_out,
                               StrataTensor *grad_logits, StrataError *err) {
    const int64_t count = cl_dense_f32_count(logits);
    const float *x;
    const int32_t *t;
    float *g = NULL;
    int64_t n, k, i, j;
    double total = 0.0;
    char message[160];
    (void)instance;
    if (count < 0 || logits->ndim != 2)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED, "expects contiguous float32 logits [N, C]");
    n = logits->shape[0];
    k = logits->shape[1];
    if (targets->dtype.code != STRATA_DTYPE_INT || targets->dtype.bits != 32 || targets->ndim != 1 ||
        targets->shape[0] != n || targets->strides[0] != 1)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED, "expects int32 class-index targets [N]");
    if (grad_logits != NULL) {
        if (cl_dense_f32_count(grad_logits) != count)
            return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH, "grad_logits differs from logits in size");
        g = cl_elements(grad_logits);
    }
    x = cl_elements(logits);
    t = (const int32_t *)((const char *)targets->data + targets->byte_offset);
    for (i = 0; i < n; i++) {
        const float *row = x + i * k;
        float max = row[0];
        double sum = 0.0, log_sum;
        if (t[i] < 0 || t[i] >= k) {
            snprintf(message, sizeof message, "target %d of row %lld is not a class index in [0, %lld)",
                     (int)t[i], (long long)i, (long long)k);
            return cl_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
        }
        for (j = 1; j < k; j++) if (row[j] > max) max = row[j];
        for (j = 0; j < k; j++) sum += exp((double)row[j] - max);
        log_sum = log(sum) + max;
        total += log_sum - row[t[i]];
        if (g != NULL) {
            for (j = 0; j < k; j++) {
                double p = exp((double)row[j] - log_sum);
                g[i * k + j] = (float)((p - (j == t[i] ? 1.0 : 0.0)) / (double)n);
            }
        }
    }
    *loss_out = n > 0 ? total / (double)n : 0.0;
    return STRATA_OK;
}

const StrataLossOps cl_cross_entropy_ops = {
    STRATA_STRUCT_HEADER(StrataLossOps),
    .create = ce_create,
    .destroy = ce_destroy,
    .forward = ce_forward,
};
