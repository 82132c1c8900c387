/* my_layer.c - a minimal Strata layer in C: y = 2x. Copy this folder, rename the layer, and
 * change forward and backward. Build (needs only include/ and a C compiler):
 *
 *   cc -shared -fPIC -fvisibility=hidden -I../../include my_layer.c -o libmy_layer.so
 */
#include <strata/strata.h>

static const StrataHostAPI *host; /* set once by strata_plugin_entry */

/* No state: the instance is NULL. Options arrive as JSON text (read them with
 * host->config_get_double and friends). */
static StrataStatus my_create(const char *config_json, const void *config_object,
                              void **instance, StrataError *err) {
    (void)config_json; (void)config_object; (void)err;
    *instance = NULL;
    return STRATA_OK;
}

static void my_destroy(void *instance) { (void)instance; }

/* Elementwise: the output has the input's shape. */
static StrataStatus my_infer_shape(void *instance, int32_t in_ndim, const int64_t *in_shape,
                                   int32_t *out_ndim, int64_t *out_shape, StrataError *err) {
    int32_t i;
    (void)instance; (void)err;
    *out_ndim = in_ndim;
    for (i = 0; i < in_ndim; i++) out_shape[i] = in_shape[i];
    return STRATA_OK;
}

/* Number of elements of a contiguous float32 tensor, or -1 for anything else. */
static int64_t count(const StrataTensor *t) {
    int64_t n = 1, stride = 1;
    int32_t i;
    if (t->dtype.code != STRATA_DTYPE_FLOAT || t->dtype.bits != 32 || t->dtype.lanes != 1) return -1;
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->strides[i] != stride) return -1;
        stride *= t->shape[i];
        n *= t->shape[i];
    }
    return n;
}

static float *elements(const StrataTensor *t) { return (float *)((char *)t->data + t->byte_offset); }

static StrataStatus my_forward(void *instance, const StrataTensor *input, StrataTensor *output,
                               int32_t training, StrataError *err) {
    const int64_t n = count(input);
    const float *x = elements(input);
    float *y = elements(output);
    int64_t i;
    (void)instance; (void)training;
    if (n < 0 || count(output) != n)
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "expects contiguous float32 tensors");
    for (i = 0; i < n; i++) y[i] = 2.0f * x[i];
    return STRATA_OK;
}

/* Overwrites grad_input (NULL when the input needs no gradient). */
static StrataStatus my_backward(void *instance, const StrataTensor *input,
                                const StrataTensor *output, const StrataTensor *grad_output,
                                StrataTensor *grad_input, StrataError *err) {
    const int64_t n = count(grad_output);
    int64_t i;
    (void)instance; (void)input; (void)output;
    if (grad_input == NULL) return STRATA_OK;
    if (n < 0 || count(grad_input) != n)
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "expects contiguous float32 tensors");
    for (i = 0; i < n; i++) elements(grad_input)[i] = 2.0f * elements(grad_output)[i];
    return STRATA_OK;
}

static const StrataLayerOps my_layer_ops = {
    STRATA_STRUCT_HEADER(StrataLayerOps),
    .create = my_create,
    .destroy = my_destroy,
    .infer_shape = my_infer_shape,
    .forward = my_forward,
    .backward = my_backward,
};

/* Kind, name and description must match plugin.json. */
static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "my_layer",
      "y = 2x, a template to start from.", &my_layer_ops, NULL },
};

/* The one exported symbol. */
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out,
                                               StrataError *err) {
    StrataStatus status = strata_check_host_abi(h, "my-layer", err); /* refuses another major */
    if (status != STRATA_OK) return status;
    host = h;
    out->abi_version = STRATA_ABI_VERSION;
    out->plugin_name = "my-layer";
    out->plugin_version = "0.1.0";
    out->component_count = 1;
    out->components = components;
    return STRATA_OK;
}
