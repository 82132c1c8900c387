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
 *   create(config)                          -> instance   (create_with_context since 0.3)
 *   state_count, state_name(slot)           (how many state tensors per parameter, their names)
 *     the host allocates param_count * state_count tensors, each shaped like its parameter,
 *     zero-filled or restored from a checkpoint
 *   bind_state(param_count, state)          (once, when state_count > 0)
 *   bind_weight_decay(param_count, wd)      (once, when the table has it; since 0.3)
 *   step(params, grads, lr, step_index)*    (after the host has reduced and clipped gradients)
 *   destroy
 *
 * The parameter list (count, order, tensors) is the same in bind_state, bind_weight_decay and
 * every step: the trainable parameters of the model (or of the slice a scheme optimizes), in
 * model order. BUFFER parameters (layer.h) and frozen parameters are never given to optimizers.
 *
 * Parameter groups. A recipe's "param_groups" give parameters a learning-rate multiplier
 * ("lr_mult") and a weight decay of their own. The host folds the multiplier into
 * `lr_per_param` at every step. The weight decay reaches the optimizer through
 * bind_weight_decay: one value per parameter, the group's or, for a parameter in no group, the
 * recipe's "weight_decay" option. An optimizer without bind_weight_decay (tables of ABI 0.1 and
 * 0.2) applies its own "weight_decay" option to every parameter, and the host refuses a recipe
 * whose groups give a parameter another weight decay rather than ignore it.
 *
 * Learning rate. The recipe's "lr" is read by the host, not by create (create receives the
 * other options). Callbacks (schedules, warm-up, the LR finder) change the base rate between
 * steps; before every step the host computes `lr_per_param[p] = base rate in effect * lr_mult
 * of p` and passes it, so an optimizer never caches a learning rate.
 *
 * Checkpoints. The host saves the optimizer's state next to the model
 * (`<name>.optimizer.safetensors`): for parameter `<param>` and state slot s, the tensor
 * `<param>.<state_name(s)>`, and the step counter as `<param>.step` (float32 [1], PyTorch's
 * state["step"]). Resuming restores those tensors into the ones bound by bind_state (the
 * pointers stay the same) and continues `step_index` from the saved counter, so a plugin
 * optimizer writes no save or load code and a resumed run equals an uninterrupted one bit for
 * bit.
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
 *  Required: create (or create_with_context), destroy, step. state_count, state_name and
 *  bind_state are either all set or all NULL (a stateless optimizer such as plain SGD).
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

    /** Appended in ABI 0.3. */
    /** `create` with the component's context: `component_context` is the `context` of the
     *  StrataComponent that points at this table (plugin-owned, may be NULL); the other
     *  arguments are create's. When set, the host calls it INSTEAD of create, so one table
     *  can serve many components and create may be NULL; a table needs one of the two.
     *  Instance class. Since ABI 0.3. */
    StrataStatus (*create_with_context)(void *component_context, const char *config_json,
                                        const void *config_object, void **instance,
                                        StrataError *err);

    /** Gives each parameter its weight decay (see "Parameter groups" above).
     *  `param_count`: the `count` every step receives. `weight_decay`: `param_count` values
     *  >= 0, host-owned, valid for the call (copy them). Called once, after bind_state and
     *  before the first step. Optional: NULL means the optimizer applies its own
     *  "weight_decay" option to every parameter. Errors: INVALID_ARGUMENT. Instance class.
     *  Since ABI 0.3. */
    StrataStatus (*bind_weight_decay)(void *instance, int32_t param_count,
                                      const float *weight_decay, StrataError *err);
} StrataOptimizerOps;

/** An optimizer table with the header filled in and every function NULL. Since ABI 0.1. */
#define STRATA_OPTIMIZER_OPS_INIT \
    { (uint32_t)sizeof(StrataOptimizerOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_OPTIMIZER_H */
