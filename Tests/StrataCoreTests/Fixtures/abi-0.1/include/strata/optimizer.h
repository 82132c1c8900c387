/*
 * optimizer.h - StrataOptimizerOps, an optimizer as a table of functions.
 *
 * An optimizer updates parameters in place from their gradients. It owns no tensor memory: its
 * per-parameter state (momentum, Adam's moments) lives in tensors the host allocates, zeroes,
 * saves in checkpoints and restores, so a plugin optimizer needs no save or load code. The host
 * also owns the learning rate (schedules and callbacks change it) and the step counter, and
 * passes both to every step.
 *
 * Lifecycle of one instance:
 *
 *   create(config)                          -> instance
 *   state_count, state_name(slot)           (how many state tensors per parameter, their names)
 *     the host allocates param_count * state_count tensors, each shaped like its parameter,
 *     zero-filled or restored from a checkpoint
 *   bind_state(param_count, state)          (once, when state_count > 0)
 *   step(params, grads, lr, step_index)*    (after the host has reduced and clipped gradients)
 *   destroy
 *
 * The parameter list (count, order, tensors) is the same in bind_state and in every step.
 * BUFFER parameters (layer.h) are never given to optimizers.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_OPTIMIZER_H
#define STRATA_OPTIMIZER_H

#ifdef __cplusplus
extern "C" {
#endif

/** The functions of an optimizer kind. A plugin fills one per kind, as a static constant table
 *  that lives as long as the library.
 *
 *  Required: create, destroy, step. state_count, state_name and bind_state are either all set
 *  or all NULL (a stateless optimizer such as plain SGD).
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call, `instance` is a value create returned, and `err` is a host-owned, never-NULL error
 *  buffer to fill through host->set_error when returning a status other than STRATA_OK.
 *  Since ABI 0.1. */
typedef struct StrataOptimizerOps {
    /** sizeof(StrataOptimizerOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Creates an instance from the recipe's optimizer options, e.g.
     *  {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": true}. The learning rate is NOT read
     *  here: the host passes it to every step. `config_json` never NULL ("{}" when empty);
     *  `config_object` the same options as a borrowed json-c object, may be NULL (see
     *  StrataLayerOps.create). Stores a plugin-owned pointer in `*instance` (may be NULL).
     *  Errors: INVALID_ARGUMENT naming the option. Instance class. Since ABI 0.1. */
    StrataStatus (*create)(const char *config_json, const void *config_object, void **instance,
                           StrataError *err);

    /** Frees the instance. The host then releases the state tensors it bound. Called exactly
     *  once per successful create. Cannot fail. Instance class. Since ABI 0.1. */
    void (*destroy)(void *instance);

    /** Updates every parameter in place from its gradient.
     *  `count`: number of parameters, > 0, the same in every call. `params`: `count` pointers
     *  to the parameter tensors (float32, contiguous), written in place. `grads`: `count`
     *  pointers to their gradients, same shapes, read-only. `lr_per_param`: `count` learning
     *  rates, the base rate of this step times each parameter's group multiplier. `step_index`:
     *  1 for the first step of the run, incremented by one per step and restored from
     *  checkpoints (Adam's bias correction uses it). Everything host-owned.
     *  Errors: SHAPE_MISMATCH, UNSUPPORTED. Compute class. Since ABI 0.1. */
    StrataStatus (*step)(void *instance, int32_t count, StrataTensor *const *params,
                         const StrataTensor *const *grads, const float *lr_per_param,
                         int64_t step_index, StrataError *err);

    /** Number of state tensors per parameter: 0 for SGD, 1 for SGD with momentum, 2 for Adam.
     *  Each has the shape of its parameter and is float32. Constant for the instance. NULL
     *  means 0. Instance class. Since ABI 0.1. */
    int32_t (*state_count)(void *instance);

    /** Name of state slot `slot` (0 <= slot < state_count), e.g. "momentum_buffer", "exp_avg",
     *  "exp_avg_sq" (PyTorch's names, so checkpoints map onto PyTorch optimizer state).
     *  The host saves each state tensor under the parameter's key and this name. ASCII, owned
     *  by the plugin, valid until destroy; NULL for a bad slot. Instance class. Since ABI 0.1. */
    const char *(*state_name)(void *instance, int32_t slot);

    /** Hands the optimizer its state. `param_count`: the `count` every step will receive.
     *  `state`: param_count * state_count pointers, parameter-major: the tensor of slot s of
     *  parameter p is state[p * state_count + s]. The tensors are zero-filled for a fresh run or
     *  restored from a checkpoint; the optimizer reads and writes them in step. Everything,
     *  pointer array included, is owned by the host and stays valid until destroy; the
     *  optimizer may keep the pointers. Called once, before the first step, when
     *  state_count > 0. Errors: INVALID_ARGUMENT. Instance class. Since ABI 0.1. */
    StrataStatus (*bind_state)(void *instance, int32_t param_count, StrataTensor *const *state,
                               StrataError *err);
} StrataOptimizerOps;

/** An optimizer table with the header filled in and every function NULL. Since ABI 0.1. */
#define STRATA_OPTIMIZER_OPS_INIT \
    { (uint32_t)sizeof(StrataOptimizerOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, \
      NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_OPTIMIZER_H */
