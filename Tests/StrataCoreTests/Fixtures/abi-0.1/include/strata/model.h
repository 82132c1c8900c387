/*
 * model.h - StrataModelOps, a model builder.
 *
 * A model builder turns options such as {"depth": 50, "num_classes": 10} into a model graph:
 * the same JSON a recipe's "model" field holds (containers such as Sequential and Residual,
 * layers by kind name with their options). The host then builds that graph exactly as if the
 * recipe had spelled it out, so layers from any plugin can appear in it, and checks every shape
 * before any data moves. A builder is a pure function: it has no instances.
 *
 * Ownership: the text `build` returns is allocated by the plugin, and the host hands it back to
 * `release_string` of the same table once it has parsed it (whoever allocates frees).
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_MODEL_H
#define STRATA_MODEL_H

#ifdef __cplusplus
extern "C" {
#endif

/** The functions of a model builder. A plugin fills one per builder, as a static constant table
 *  that lives as long as the library. Both functions are required.
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call and `err` is a host-owned, never-NULL error buffer to fill through host->set_error when
 *  returning a status other than STRATA_OK. Since ABI 0.1. */
typedef struct StrataModelOps {
    /** sizeof(StrataModelOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Builds a model graph from the builder's recipe options.
     *  `config_json` never NULL ("{}" when empty); `config_object` the same options as a
     *  borrowed json-c object, may be NULL (see StrataLayerOps.create).
     *  On success stores in `*graph_json_out` a NUL-terminated UTF-8 JSON text in the format
     *  of a recipe's "model" field, allocated by the plugin and owned by the host until it
     *  passes it to release_string. On failure leaves `*graph_json_out` NULL.
     *  Errors: INVALID_ARGUMENT naming the option, OUT_OF_MEMORY. Discovery class: no state,
     *  any thread, concurrently. Since ABI 0.1. */
    StrataStatus (*build)(const char *config_json, const void *config_object,
                          char **graph_json_out, StrataError *err);

    /** Frees a text returned by build of this table. `text` may be NULL (nothing happens).
     *  Cannot fail. Discovery class. Since ABI 0.1. */
    void (*release_string)(char *text);
} StrataModelOps;

/** A model-builder table with the header filled in and both functions NULL. Since ABI 0.1. */
#define STRATA_MODEL_OPS_INIT \
    { (uint32_t)sizeof(StrataModelOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_MODEL_H */
