/* c_layers.h - what the files of the c-layers plugin share. Nothing here is exported: the
 * library is built with -fvisibility=hidden and exports only strata_plugin_entry and the typed
 * constructor c_layers_scale_shift_new (scale_shift.c). */
#ifndef C_LAYERS_H
#define C_LAYERS_H

#include <strata/strata.h>

/* The host table, written once by strata_plugin_entry before any other call, read-only after. */
extern const StrataHostAPI *cl_host;

/* The ops tables of the layers (leaky_relu.c, scale.c). */
extern const StrataLayerOps cl_leaky_relu_ops;
extern const StrataLayerOps cl_scale_ops;
extern const StrataLayerOps cl_scale_shift_ops; /* scale_shift.c */
/* The ops table of the loss (cross_entropy.c). */
extern const StrataLossOps cl_cross_entropy_ops;

/* Number of elements of a contiguous float32 CPU tensor, or -1 for anything else. */
int64_t cl_dense_f32_count(const StrataTensor *t);

/* The first element of a float32 tensor. */
static inline float *cl_elements(const StrataTensor *t) {
    return (float *)((char *)t->data + t->byte_offset);
}

#endif /* C_LAYERS_H */
