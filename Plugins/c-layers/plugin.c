/* plugin.c - the entry point of the c-layers plugin and the helpers its layers share. */
#include <stdio.h>

#include "c_layers.h"

const StrataHostAPI *cl_host = NULL;

int64_t cl_dense_f32_count(const StrataTensor *t) {
    int64_t count = 1, stride = 1;
    int32_t i;
    if (t == NULL || t->data == NULL) return -1;
    if (t->device_type != STRATA_DEVICE_CPU) return -1;
    if (t->dtype.code != STRATA_DTYPE_FLOAT || t->dtype.bits != 32 || t->dtype.lanes != 1) return -1;
    if (t->ndim < 0 || t->ndim > STRATA_MAX_NDIM) return -1;
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->strides[i] != stride) return -1;
        stride *= t->shape[i];
        count *= t->shape[i];
    }
    return count;
}

static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "leaky_relu",
      "y = x for x > 0, else negative_slope * x (default 0.01).", &cl_leaky_relu_ops, NULL },
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "scale",
      "y = x * weight[c], one learned factor per channel (dimension 1), initialised to 1.",
      &cl_scale_ops, NULL },
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LOSS, 0, "c_cross_entropy",
      "Softmax cross-entropy over class indices, mean over the batch.", &cl_cross_entropy_ops, NULL },
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "scale_shift",
      "y = scale * x + shift with fixed constants, built by a typed constructor.",
      &cl_scale_shift_ops, "c_layers_scale_shift_new" },
};

/* The major check is spelled out rather than calling strata_check_host_abi (ABI 0.3): this plugin
 * also builds against the published 0.1 headers, which the ABI version tests use. */
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *host, StrataPluginInfo *out,
                                               StrataError *err) {
    if (STRATA_VERSION_MAJOR(host->abi_version) != STRATA_ABI_MAJOR) {
        char message[128];
        snprintf(message, sizeof message,
                 "c-layers is built for Strata ABI %d.%d, the host implements ABI %u.%u",
                 STRATA_ABI_MAJOR, STRATA_ABI_MINOR,
                 (unsigned)STRATA_VERSION_MAJOR(host->abi_version),
                 (unsigned)STRATA_VERSION_MINOR(host->abi_version));
        return host->set_error(err, STRATA_ERR_ABI_MISMATCH, message);
    }
    cl_host = host;
    out->abi_version = STRATA_ABI_VERSION;
    out->plugin_name = "c-layers";
    out->plugin_version = "0.1.0";
    out->component_count = (int32_t)(sizeof components / sizeof components[0]);
    out->components = components;
    return STRATA_OK;
}
