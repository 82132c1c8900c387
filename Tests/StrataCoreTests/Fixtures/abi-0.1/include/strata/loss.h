/*
 * loss.h - StrataLossOps, a loss as a table of functions.
 *
 * A loss turns the model's output (the logits) and the batch's targets into one number, the
 * mean over the batch, and into the gradient of that mean with respect to the logits, which the
 * host then feeds to the model's backward pass.
 *
 * Lifecycle of one instance:  create(config) -> { forward }* -> destroy
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_LOSS_H
#define STRATA_LOSS_H

#ifdef __cplusplus
extern "C" {
#endif

/** The functions of a loss kind. A plugin fills one per kind, as a static constant table that
 *  lives as long as the library. All three functions are required.
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call, `instance` is a value create returned, and `err` is a host-owned, never-NULL error
 *  buffer to fill through host->set_error when returning a status other than STRATA_OK.
 *  Since ABI 0.1. */
typedef struct StrataLossOps {
    /** sizeof(StrataLossOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Creates an instance from the recipe's loss options, e.g. {"label_smoothing": 0.1}.
     *  `config_json` never NULL ("{}" when empty); `config_object` the same options as a
     *  borrowed json-c object, may be NULL (see StrataLayerOps.create). Stores a plugin-owned
     *  pointer in `*instance` (may be NULL). Errors: INVALID_ARGUMENT naming the option.
     *  Instance class. Since ABI 0.1. */
    StrataStatus (*create)(const char *config_json, const void *config_object, void **instance,
                           StrataError *err);

    /** Frees the instance. Called exactly once per successful create. Cannot fail.
     *  Instance class. Since ABI 0.1. */
    void (*destroy)(void *instance);

    /** Computes the loss of one batch and its gradient.
     *  `logits`: the model output, float32, N first ([N, C] for classification), read-only.
     *  `targets`: either int32 class indices of shape [N], each in [0, C), or a float32 tensor
     *  shaped like `logits` (regression, soft labels); a loss refuses the kind it does not
     *  handle with UNSUPPORTED. Read-only.
     *  `loss_out`: receives the loss averaged over the N examples (mean reduction), in double.
     *  `grad_logits`: shaped like `logits`; the loss OVERWRITES every element with
     *  d(mean loss)/d(logits), so each example's gradient carries the 1/N factor. NULL when only
     *  the value is wanted (evaluation), and then the loss skips that work.
     *  All tensors host-owned. Errors: SHAPE_MISMATCH (logits and targets disagree),
     *  INVALID_ARGUMENT (a class index out of range), UNSUPPORTED. Compute class.
     *  Since ABI 0.1. */
    StrataStatus (*forward)(void *instance, const StrataTensor *logits,
                            const StrataTensor *targets, double *loss_out,
                            StrataTensor *grad_logits, StrataError *err);
} StrataLossOps;

/** A loss table with the header filled in and every function NULL. Since ABI 0.1. */
#define STRATA_LOSS_OPS_INIT \
    { (uint32_t)sizeof(StrataLossOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_LOSS_H */
