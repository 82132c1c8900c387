/* rmsprop.c - RMSprop exactly as torch.optim.RMSprop (alpha, eps, momentum, centered,
 * weight_decay), in float32, element by element in PyTorch's order of operations:
 *
 *   g = grad + weight_decay * param                       (L2 decay, when weight_decay != 0)
 *   square_avg = alpha * square_avg + (1 - alpha) * g^2
 *   centered:  grad_avg = lerp(grad_avg, g, 1 - alpha);  denom = sqrt(square_avg - grad_avg^2)
 *   else:      denom = sqrt(square_avg)
 *   denom += eps
 *   momentum:  buf = momentum * buf + g / denom;  param -= lr * buf
 *   else:      param -= lr * g / denom
 *
 * Every state starts at zero, so the host's zero-filled state tensors are the first step's.
 * State slots, in this order: square_avg, then momentum_buffer (momentum > 0), then grad_avg
 * (centered): PyTorch's names, so checkpoints map onto its optimizer state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

/* The host table, written once by strata_plugin_entry before any other call. */
static const StrataHostAPI *host = NULL;

typedef struct RMSprop {
    float alpha, eps, momentum, weight_decay;
    int32_t centered;
    int32_t state_count;              /* 1 + (momentum > 0) + centered */
    int32_t momentum_slot, grad_avg_slot; /* -1 when absent */
    int32_t param_count;              /* 0 until bind_state / bind_weight_decay */
    StrataTensor *const *state;       /* host-owned, [param_count * state_count] */
    float *decay;                     /* [param_count], owned; NULL: weight_decay for all */
} RMSprop;

static StrataStatus read_number(const char *config, const char *key, double low, double high,
                                double *value, StrataError *err) {
    char message[160];
    StrataStatus status = host->config_get_double(config, key, value, err);
    if (status != STRATA_OK) return status;
    if (!(*value >= low && *value <= high)) {
        snprintf(message, sizeof message, "%s must be between %g and %g, got %g", key, low, high,
                 *value);
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
    }
    return STRATA_OK;
}

static StrataStatus rms_create(const char *config_json, const void *config_object, void **instance,
                               StrataError *err) {
    double alpha = 0.99, eps = 1e-8, momentum = 0.0, weight_decay = 0.0;
    int32_t centered = 0;
    StrataStatus status;
    RMSprop *o;
    (void)config_object;
    if ((status = read_number(config_json, "alpha", 0.0, 1.0, &alpha, err)) != STRATA_OK ||
        (status = read_number(config_json, "eps", 0.0, 1.0, &eps, err)) != STRATA_OK ||
        (status = read_number(config_json, "momentum", 0.0, 1.0, &momentum, err)) != STRATA_OK ||
        (status = read_number(config_json, "weight_decay", 0.0, 1e6, &weight_decay, err)) != STRATA_OK ||
        (status = host->config_get_bool(config_json, "centered", &centered, err)) != STRATA_OK)
        return status;
    if (!(eps > 0.0)) return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "eps must be > 0");
    o = (RMSprop *)calloc(1, sizeof *o);
    if (o == NULL) return host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    o->alpha = (float)alpha;
    o->eps = (float)eps;
    o->momentum = (float)momentum;
    o->weight_decay = (float)weight_decay;
    o->centered = centered != 0;
    o->state_count = 1;
    o->momentum_slot = o->momentum > 0.0f ? o->state_count++ : -1;
    o->grad_avg_slot = o->centered ? o->state_count++ : -1;
    *instance = o;
    return STRATA_OK;
}

static void rms_destroy(void *instance) {
    RMSprop *o = (RMSprop *)instance;
    if (o == NULL) return;
    free(o->decay);
    free(o);
}

static int32_t rms_state_count(void *instance) { return ((RMSprop *)instance)->state_count; }

static const char *rms_state_name(void *instance, int32_t slot) {
    const RMSprop *o = (const RMSprop *)instance;
    if (slot == 0) return "square_avg";
    if (slot == o->momentum_slot) return "momentum_buffer";
    if (slot == o->grad_avg_slot) return "grad_avg";
    return NULL;
}

static StrataStatus rms_bind_state(void *instance, int32_t param_count, StrataTensor *const *state,
                                   StrataError *err) {
    RMSprop *o = (RMSprop *)instance;
    if (param_count <= 0 || state == NULL)
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "bind_state: no parameters");
    o->param_count = param_count;
    o->state = state;
    return STRATA_OK;
}

static StrataStatus rms_bind_weight_decay(void *instance, int32_t param_count,
                                          const float *weight_decay, StrataError *err) {
    RMSprop *o = (RMSprop *)instance;
    int32_t i;
    if (param_count <= 0 || weight_decay == NULL || (o->param_count != 0 && param_count != o->param_count))
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT,
                               "bind_weight_decay: the count differs from bind_state's");
    free(o->decay);
    o->decay = (float *)malloc((size_t)param_count * sizeof(float));
    if (o->decay == NULL) return host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    for (i = 0; i < param_count; i++) {
        if (!(weight_decay[i] >= 0.0f))
            return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "a weight decay is negative");
        o->decay[i] = weight_decay[i];
    }
    o->param_count = param_count;
    return STRATA_OK;
}

/* Elements of a contiguous float32 CPU tensor, or -1. */
static int64_t dense_count(const StrataTensor *t) {
    int64_t count = 1, stride = 1;
    int32_t i;
    if (t == NULL || t->data == NULL || t->device_type != STRATA_DEVICE_CPU) return -1;
    if (t->dtype.code != STRATA_DTYPE_FLOAT || t->dtype.bits != 32 || t->dtype.lanes != 1) return -1;
    if (t->ndim < 0 || t->ndim > STRATA_MAX_NDIM) return -1;
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->strides[i] != stride) return -1;
        stride *= t->shape[i];
        count *= t->shape[i];
    }
    return count;
}

static float *elements(const StrataTensor *t) { return (float *)((char *)t->data + t->byte_offset); }

/* One parameter's update over n elements. */
static void update(const RMSprop *o, int64_t n, float lr, float wd, float *restrict p,
                   const float *restrict grad, float *restrict sq, float *restrict buf,
                   float *restrict ga) {
    const float alpha = o->alpha, rest = 1.0f - o->alpha, eps = o->eps, mom = o->momentum;
    int64_t i;
    for (i = 0; i < n; i++) {
        float g = wd != 0.0f ? grad[i] + wd * p[i] : grad[i];
        float denom;
        sq[i] = sq[i] * alpha + rest * (g * g);
        if (ga != NULL) {
            /* torch.lerp: start + w * (end - start) for w < 0.5, else end - (end - start) * (1 - w) */
            ga[i] = rest < 0.5f ? ga[i] + rest * (g - ga[i]) : g - (g - ga[i]) * (1.0f - rest);
            denom = sqrtf(sq[i] - ga[i] * ga[i]) + eps;
        } else {
            denom = sqrtf(sq[i]) + eps;
        }
        if (buf != NULL) {
            buf[i] = buf[i] * mom + g / denom;
            p[i] = p[i] - lr * buf[i];
        } else {
            p[i] = p[i] - lr * (g / denom);
        }
    }
}

static StrataStatus rms_step(void *instance, int32_t count, StrataTensor *const *params,
                             const StrataTensor *const *grads, const float *lr_per_param,
                             int64_t step_index, StrataError *err) {
    RMSprop *o = (RMSprop *)instance;
    int32_t i, k = o->state_count;
    char message[160];
    (void)step_index; /* RMSprop has no bias correction */
    if (o->state == NULL || count != o->param_count)
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT,
                               "step: the parameter count differs from bind_state's");
    for (i = 0; i < count; i++) {
        int64_t n = dense_count(params[i]);
        StrataTensor *const *s = o->state + (size_t)i * (size_t)k;
        if (n < 0 || dense_count(grads[i]) != n || dense_count(s[0]) != n ||
            (o->momentum_slot >= 0 && dense_count(s[o->momentum_slot]) != n) ||
            (o->grad_avg_slot >= 0 && dense_count(s[o->grad_avg_slot]) != n)) {
            snprintf(message, sizeof message,
                     "step: parameter %d, its gradient and state must be contiguous float32 of one size",
                     (int)i);
            return host->set_error(err, STRATA_ERR_SHAPE_MISMATCH, message);
        }
        update(o, n, lr_per_param[i], o->decay != NULL ? o->decay[i] : o->weight_decay,
               elements(params[i]), elements(grads[i]), elements(s[0]),
               o->momentum_slot >= 0 ? elements(s[o->momentum_slot]) : NULL,
               o->grad_avg_slot >= 0 ? elements(s[o->grad_avg_slot]) : NULL);
    }
    return STRATA_OK;
}

static const StrataOptimizerOps rmsprop_ops = {
    STRATA_STRUCT_HEADER(StrataOptimizerOps),
    .create = rms_create,
    .destroy = rms_destroy,
    .step = rms_step,
    .state_count = rms_state_count,
    .state_name = rms_state_name,
    .bind_state = rms_bind_state,
    .bind_weight_decay = rms_bind_weight_decay,
};

static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_OPTIMIZER, 0, "rmsprop",
      "RMSprop as torch.optim.RMSprop: alpha, eps, momentum, centered, weight_decay.",
      &rmsprop_ops, NULL, NULL },
};

STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out,
                                               StrataError *err) {
    StrataStatus status = strata_check_host_abi(h, "c-optimizers", err);
    if (status != STRATA_OK) return status;
    host = h;
    out->abi_version = STRATA_ABI_VERSION;
    out->plugin_name = "c-optimizers";
    out->plugin_version = "0.1.0";
    out->component_count = (int32_t)(sizeof components / sizeof components[0]);
    out->components = components;
    return STRATA_OK;
}
