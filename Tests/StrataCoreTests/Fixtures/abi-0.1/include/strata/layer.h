/*
 * layer.h - StrataLayerOps, a layer as a table of functions.
 *
 * A layer maps one input tensor to one output tensor, owns nothing but its own configuration and
 * caches, and learns through parameters the host allocates for it. The table mirrors the core's
 * Swift `Layer` protocol one to one, so a built-in layer and a plugin layer are driven the same
 * way.
 *
 * Lifecycle of one instance (the host drives it; each step happens on one thread at a time):
 *
 *   create(config)                 -> instance
 *   infer_shape(input shape)       -> output shape      (at least once; again when N changes)
 *   parameter_count / parameter_info                    (after the first infer_shape)
 *     the host allocates each parameter and its gradient, initializes the values
 *     (StrataParamInfo.init) or loads them from a checkpoint
 *   bind_parameters(values, grads)                      (once, when parameter_count > 0)
 *   workspace_size / bind_workspace                     (optional; after infer_shape)
 *   { forward(training) [backward] }*                   (per batch; Compute class)
 *   destroy
 *
 * Conventions (as in llm.c): shapes include the batch dimension N first; forward caches in the
 * instance what backward needs; backward OVERWRITES the input gradient and ACCUMULATES (+=) the
 * parameter gradients, which the host zeroes between optimizer steps. The host allocates every
 * tensor passed to forward and backward; the layer allocates only its private caches (with
 * host->tensor_alloc or its own allocator, freed by itself in destroy).
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_LAYER_H
#define STRATA_LAYER_H

#ifdef __cplusplus
extern "C" {
#endif

/* Values of StrataParamInfo.role. */
/** A trained multiplicative parameter (a convolution kernel, a linear weight, a BatchNorm
 *  gamma). Has a gradient. Since ABI 0.1. */
#define STRATA_PARAM_WEIGHT 0
/** A trained additive parameter (a bias, a BatchNorm beta). Has a gradient. Since ABI 0.1. */
#define STRATA_PARAM_BIAS 1
/** Non-trained state saved in checkpoints, such as BatchNorm running mean and variance. Has no
 *  gradient and is not given to optimizers; the layer updates it in forward when training.
 *  Since ABI 0.1. */
#define STRATA_PARAM_BUFFER 2

/* Values of StrataParamInfo.init: how the host fills a parameter before bind_parameters. */
/** PyTorch's default for the role: WEIGHT and BIAS uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)]
 *  (what nn.Linear and nn.Conv2d do); BUFFER zeros. Layers with other defaults say so
 *  explicitly (BatchNorm: weight ONES, bias ZEROS, running_var ONES). Since ABI 0.1. */
#define STRATA_INIT_DEFAULT 0
/** All zeros. Since ABI 0.1. */
#define STRATA_INIT_ZEROS 1
/** All ones. Since ABI 0.1. */
#define STRATA_INIT_ONES 2
/** Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). Since ABI 0.1. */
#define STRATA_INIT_XAVIER_UNIFORM 3
/** He/Kaiming uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in). Since ABI 0.1. */
#define STRATA_INIT_KAIMING_UNIFORM 4
/** He/Kaiming normal for ReLU: N(0, 2 / fan_in). Since ABI 0.1. */
#define STRATA_INIT_KAIMING_NORMAL 5

/** Description of one parameter or buffer of a layer instance, filled by parameter_info.
 *
 *  The host allocates it, zeroes it, sets `struct_size` to its own sizeof and `abi_version` to
 *  its own version; the layer writes the fields that lie within `struct_size` and changes
 *  neither of the first two. Since ABI 0.1. */
typedef struct StrataParamInfo {
    /** sizeof(StrataParamInfo) as the host compiled it; set by the host. Since ABI 0.1. */
    uint32_t struct_size;
    /** The host's ABI version; set by the host. Since ABI 0.1. */
    uint32_t abi_version;
    /** Local name, PyTorch style ("weight", "bias", "running_mean"); the host prefixes the
     *  layer's dotted path to make the checkpoint key ("layer1.0.bn1.running_mean").
     *  NUL-terminated ASCII, owned by the layer, valid until destroy. Never NULL.
     *  Since ABI 0.1. */
    const char *name;
    /** Rank of the parameter, 0 to STRATA_MAX_NDIM. Since ABI 0.1. */
    int32_t ndim;
    /** Padding; the layer leaves it 0. Never read. Since ABI 0.1. */
    int32_t reserved0;
    /** Extents, the first `ndim` entries used, the rest 0. Unit: elements. PyTorch order:
     *  a convolution weight is [C_out, C_in / groups, K_h, K_w], a linear weight [out, in].
     *  Since ABI 0.1. */
    int64_t shape[STRATA_MAX_NDIM];
    /** STRATA_PARAM_WEIGHT, STRATA_PARAM_BIAS or STRATA_PARAM_BUFFER. Since ABI 0.1. */
    int32_t role;
    /** How the host initializes it: one of STRATA_INIT_*. Since ABI 0.1. */
    int32_t init;
    /** Fan-in used by `init`: inputs feeding one output unit (C_in / groups * K_h * K_w for a
     *  convolution, `in` for a linear layer). 0 lets the host compute it from `shape` by
     *  PyTorch's rule (shape[1] times the product of shape[2...]). Since ABI 0.1. */
    int64_t fan_in;
    /** Fan-out used by `init`: outputs one input unit feeds (C_out * K_h * K_w for a
     *  convolution, `out` for a linear layer). 0 lets the host compute it from `shape` by
     *  PyTorch's rule (shape[0] times the product of shape[2...]). Since ABI 0.1. */
    int64_t fan_out;
} StrataParamInfo;

/** A zeroed StrataParamInfo with the header filled in. Since ABI 0.1. */
#define STRATA_PARAM_INFO_INIT \
    { (uint32_t)sizeof(StrataParamInfo), (uint32_t)STRATA_ABI_VERSION, NULL, 0, 0, \
      { 0, 0, 0, 0, 0, 0, 0, 0 }, STRATA_PARAM_WEIGHT, STRATA_INIT_DEFAULT, 0, 0 }

/** The functions of a layer kind. A plugin fills one per layer kind, as a static constant
 *  table that lives as long as the library, and points StrataComponent.ops at it.
 *
 *  Required: create, destroy, infer_shape, forward, backward. The others may be NULL: a layer
 *  without parameters leaves parameter_count, parameter_info and bind_parameters NULL; a layer
 *  without scratch needs leaves workspace_size and bind_workspace NULL.
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call, `instance` is a value create returned, and `err` is a host-owned, never-NULL error
 *  buffer to fill through host->set_error when returning a status other than STRATA_OK.
 *  Since ABI 0.1. */
typedef struct StrataLayerOps {
    /** sizeof(StrataLayerOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Creates an instance from its recipe options.
     *  `config_json`: the options object as JSON text, e.g. {"channels": 64, "kernel_size": 3};
     *  "{}" when there are none; never NULL. `config_object`: the same options as a borrowed
     *  json-c `json_object *`, for plugins built against the host's json-c (call
     *  json_object_get to keep it, never json_object_put what you did not get); the host parses
     *  it from config_json and releases its reference when create returns; may be NULL.
     *  Validate every option here and refuse with INVALID_ARGUMENT naming the option.
     *  On success stores an opaque, plugin-owned pointer in `*instance` (NULL is allowed when
     *  the layer needs no state). Instance class. Since ABI 0.1. */
    StrataStatus (*create)(const char *config_json, const void *config_object, void **instance,
                           StrataError *err);

    /** Frees the instance and everything the layer allocated for it. After it returns the
     *  host releases the parameters, gradients and workspace it bound. Called exactly once per
     *  successful create, also when a later step failed. Cannot fail. Instance class.
     *  Since ABI 0.1. */
    void (*destroy)(void *instance);

    /** Computes the output shape for an input shape and records what the layer needs from it
     *  (such as the input channel count that parameter shapes depend on).
     *  `in_ndim`, `in_shape`: the input's rank and extents, batch dimension N first.
     *  `out_ndim`, `out_shape`: receive the output's rank and extents, N first; `out_shape` has
     *  room for STRATA_MAX_NDIM entries. Host-owned.
     *  Called at least once before parameter_count. Later calls may change only N; a layer
     *  refuses other changes with SHAPE_MISMATCH. Errors: SHAPE_MISMATCH (with the expected
     *  and the received shape in the message), UNSUPPORTED. Instance class. Since ABI 0.1. */
    StrataStatus (*infer_shape)(void *instance, int32_t in_ndim, const int64_t *in_shape,
                                int32_t *out_ndim, int64_t *out_shape, StrataError *err);

    /** Number of parameters and buffers, >= 0, constant after the first infer_shape. Indexes
     *  [0, count) of parameter_info and bind_parameters. NULL means 0. Instance class.
     *  Since ABI 0.1. */
    int32_t (*parameter_count)(void *instance);

    /** Describes parameter `index` (0 <= index < parameter_count) in `*out` (host-owned; see
     *  StrataParamInfo). Errors: INVALID_ARGUMENT for a bad index. Required when
     *  parameter_count may return more than 0. Instance class. Since ABI 0.1. */
    StrataStatus (*parameter_info)(void *instance, int32_t index, StrataParamInfo *out,
                                   StrataError *err);

    /** Hands the layer its parameters, in parameter_info order.
     *  `values`: `count` descriptors (count == parameter_count), float32, contiguous, shaped as
     *  described, already initialized or loaded. `grads`: `count` descriptors of the same
     *  shapes; for a BUFFER the entry has `data == NULL` and `ndim == 0`.
     *  Everything here (both arrays, their shape and strides arrays and the memory the data
     *  pointers address) is owned by the host and stays valid and in place until destroy; the
     *  layer may keep the pointers. The layer reads `values` in forward and backward, may update
     *  BUFFER values in forward when training, and adds into `grads` in backward. The host may
     *  overwrite `values` between batches (optimizer steps, checkpoint loads) and zeroes
     *  `grads`. Called once, after the first infer_shape, when parameter_count > 0.
     *  Errors: SHAPE_MISMATCH, UNSUPPORTED. Instance class. Since ABI 0.1. */
    StrataStatus (*bind_parameters)(void *instance, int32_t count, const StrataTensor *values,
                                    const StrataTensor *grads, StrataError *err);

    /** Computes `output` from `input`.
     *  `input`: shaped as given to infer_shape (N may be any value from 1 to the latest N
     *  inferred); host-owned, read-only, and unchanged until the backward that pairs with this
     *  forward has returned. `output`: host-allocated with the inferred output shape for this
     *  N; the layer overwrites every element. `training`: 1 in training mode (batch statistics,
     *  dropout active, BUFFER updates, caches for backward), 0 in evaluation mode.
     *  Errors: SHAPE_MISMATCH, UNSUPPORTED (dtype, strides). Compute class. Since ABI 0.1. */
    StrataStatus (*forward)(void *instance, const StrataTensor *input, StrataTensor *output,
                            int32_t training, StrataError *err);

    /** Propagates gradients through the most recent forward, which ran with training = 1.
     *  `input`, `output`: the same tensors that forward received, unchanged. `grad_output`:
     *  dLoss/dOutput, shaped like `output`, read-only. `grad_input`: dLoss/dInput, shaped like
     *  `input`; the layer OVERWRITES every element; NULL when the input needs no gradient (the
     *  first layer of a model), and then the layer skips that work. Parameter gradients are
     *  ACCUMULATED (+=) into the `grads` bound by bind_parameters. All tensors host-owned.
     *  Compute class. Since ABI 0.1. */
    StrataStatus (*backward)(void *instance, const StrataTensor *input,
                             const StrataTensor *output, const StrataTensor *grad_output,
                             StrataTensor *grad_input, StrataError *err);

    /** Bytes of scratch memory forward and backward need for the latest inferred shape (0 when
     *  none). The host allocates it once and hands it over with bind_workspace. May be NULL
     *  (no workspace). Instance class. Since ABI 0.1. */
    uint64_t (*workspace_size)(void *instance);

    /** Hands the layer `size` bytes (at least what workspace_size asked for) of 64-byte aligned
     *  scratch memory at `workspace`, owned by the host. Contents are meaningful only within one
     *  forward or backward call: the host may share the block among layers that never compute
     *  at the same time, so nothing may be cached in it between calls. Valid until the next
     *  bind_workspace or destroy. Called after each infer_shape whose size request grew, before
     *  the next forward. Must be set when workspace_size is. Instance class. Since ABI 0.1. */
    StrataStatus (*bind_workspace)(void *instance, void *workspace, uint64_t size,
                                   StrataError *err);
} StrataLayerOps;

/** A layer table with the header filled in and every function NULL, for tables filled at run
 *  time: `static StrataLayerOps ops = STRATA_LAYER_OPS_INIT; ops.create = my_create; ...`.
 *  Since ABI 0.1. */
#define STRATA_LAYER_OPS_INIT \
    { (uint32_t)sizeof(StrataLayerOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_LAYER_H */
