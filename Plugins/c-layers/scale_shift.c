/* scale_shift.c - y = scale * x + shift with two fixed (not learned) constants.
 *
 * Shows the two other ways a component can receive its options:
 * - a typed constructor, c_layers_scale_shift_new(float scale, double shift, StrataError *err),
 *   exported and declared in plugin.json ("ffi_constructor"); the host calls it through libffi
 *   with the recipe's values (or the manifest's defaults) instead of ops->create;
 * - ops->create reading the options from the borrowed json-c object (config_object) with
 *   json_object_object_get_ex, used when the manifest declares no constructor. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "c_layers.h"

typedef struct ScaleShift { float scale, shift; } ScaleShift;

static void *make(double scale, double shift, StrataError *err) {
    ScaleShift *layer;
    if (!isfinite(scale) || !isfinite(shift) || fabs(scale) > 3.4e38 || fabs(shift) > 3.4e38) {
        cl_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "scale and shift must be finite float32 values");
        return NULL;
    }
    layer = (ScaleShift *)malloc(sizeof *layer);
    if (layer == NULL) {
        cl_host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    layer->scale = (float)scale;
    layer->shift = (float)shift;
    return layer;
}

/* The typed constructor. The only symbol besides strata_plugin_entry that leaves the library. */
STRATA_EXPORT void *c_layers_scale_shift_new(float scale, double shift, StrataError *err) {
    return make((double)scale, shift, err);
}

/* Reads the number `key` from the json-c object, leaving `*out` alone when it is absent. */
static StrataStatus read_number(const json_object *config, const char *key, double *out,
                                StrataError *err) {
    json_object *value = NULL; /* borrowed from `config`: never json_object_put */
    char message[128];
    if (!json_object_object_get_ex(config, key, &value) || value == NULL) return STRATA_OK;
    if (!json_object_is_type(value, json_type_double) && !json_object_is_type(value, json_type_int)) {
        snprintf(message, sizeof message, "%s must be a number", key);
        return cl_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
    }
    *out = json_object_get_double(value);
    return STRATA_OK;
}

static StrataStatus scale_shift_create(const char *config_json, const void *config_object,
                                       void **instance, StrataError *err) {
    double scale = 1.0, shift = 0.0; /* the defaults stay when the recipe leaves them out */
    StrataStatus status;
    if (config_object != NULL) {
        const json_object *config = (const json_object *)config_object;
        if ((status = read_number(config, "scale", &scale, err)) != STRATA_OK) return status;
        if ((status = read_number(config, "shift", &shift, err)) != STRATA_OK) return status;
    } else {
        if ((status = cl_host->config_get_double(config_json, "scale", &scale, err)) != STRATA_OK) return status;
        if ((status = cl_host->config_get_double(config_json, "shift", &shift, err)) != STRATA_OK) return status;
    }
    *instance = make(scale, shift, err);
    return *instance != NULL ? STRATA_OK : STRATA_ERR_INVALID_ARGUMENT;
}

static void scale_shift_destroy(void *instance) { free(instance); }

static StrataStatus scale_shift_infer_shape(void *instance, int32_t in_ndim,
                                            const int64_t *in_shape, int32_t *out_ndim,
                                            int64_t *out_shape, StrataError *err) {
    int32_t i;
    (void)instance; (void)err;
    *out_ndim = in_ndim;
    for (i = 0; i < in_ndim; i++) out_shape[i] = in_shape[i];
    return STRATA_OK;
}

static StrataStatus scale_shift_forward(void *instance, const StrataTensor *input,
                                        StrataTensor *output, int32_t training, StrataError *err) {
    const ScaleShift *layer = (const ScaleShift *)instance;
    const int64_t n = cl_dense_f32_count(input);
    const float *x;
    float *y;
    int64_t i;
    (void)training;
    if (n < 0 || cl_dense_f32_count(output) != n)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED,
                                  "expects contiguous float32 tensors of equal size");
    x = cl_elements(input);
    y = cl_elements(output);
    for (i = 0; i < n; i++) y[i] = layer->scale * x[i] + layer->shift;
    return STRATA_OK;
}

static StrataStatus scale_shift_backward(void *instance, const StrataTensor *input,
                                         const StrataTensor *output,
                                         const StrataTensor *grad_output,
                                         StrataTensor *grad_input, StrataError *err) {
    const ScaleShift *layer = (const ScaleShift *)instance;
    const int64_t n = cl_dense_f32_count(input);
    const float *dy;
    float *dx;
    int64_t i;
    (void)output;
    if (grad_input == NULL) return STRATA_OK;
    if (n < 0 || cl_dense_f32_count(grad_output) != n || cl_dense_f32_count(grad_input) != n)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED,
                                  "expects contiguous float32 tensors of equal size");
    dy = cl_elements(grad_output);
    dx = cl_elements(grad_input);
    for (i = 0; i < n; i++) dx[i] = layer->scale * dy[i];
    return STRATA_OK;
}

const StrataLayerOps cl_scale_shift_ops = {
    STRATA_STRUCT_HEADER(StrataLayerOps),
    .create = scale_shift_create,
    .destroy = scale_shift_destroy,
    .infer_shape = scale_shift_infer_shape,
    .forward = scale_shift_forward,
    .backward = scale_shift_backward,
};
