/*
 * callback.h - StrataCallbackOps, a callback as a table of functions.
 *
 * A callback watches the training loop through one entry point, on_event, which receives the
 * event and a context describing where the loop is. It may read everything in the context and
 * write two fields: the learning rate (schedules, warm-up) and the stop flag (early stopping).
 * Progress bars, metric logs, learning-rate schedules, checkpoints and plots are callbacks.
 *
 * Lifecycle of one instance:  create(config) -> { on_event }* -> destroy
 *
 * Events arrive in this order, for the fit scheme and for any scheme that dispatches them
 * (StrataTrainAPI.run_dispatch_event):
 *
 *   TRAIN_BEGIN
 *     EPOCH_BEGIN  { BATCH_BEGIN  BATCH_END }*  EPOCH_END      (once per epoch, or per stage
 *     ...                                                      of a staged scheme)
 *   TRAIN_END                                                  (also after an early stop)
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_CALLBACK_H
#define STRATA_CALLBACK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Values of the `event` argument of StrataCallbackOps.on_event. Later minors may add events;
 * a callback returns STRATA_OK for events it does not know. */
/** Before anything is trained; the context carries the planned epochs. Since ABI 0.1. */
#define STRATA_EVENT_TRAIN_BEGIN 0
/** Before the first batch of an epoch. Since ABI 0.1. */
#define STRATA_EVENT_EPOCH_BEGIN 1
/** Before a batch's forward pass. Since ABI 0.1. */
#define STRATA_EVENT_BATCH_BEGIN 2
/** After a batch's optimizer step; train_loss and train_acc include this batch. Since ABI 0.1. */
#define STRATA_EVENT_BATCH_END 3
/** After an epoch's last batch and its evaluation; test_acc is this epoch's. Since ABI 0.1. */
#define STRATA_EVENT_EPOCH_END 4
/** After training ended, normally or through `stop`. Not sent when training failed.
 *  Since ABI 0.1. */
#define STRATA_EVENT_TRAIN_END 5

/** Where the training loop is, passed to every on_event call.
 *
 *  Owned by the host; borrowed for the call. The host sets `struct_size` and `abi_version` to
 *  its own and fills every field; a callback reads only fields within `struct_size` and writes
 *  only `learning_rate` and `stop`. Counters are 0-based indexes unless said otherwise.
 *  Metrics not yet known hold NaN. The same context object passes through all callbacks of a
 *  run in recipe order, so a callback sees what earlier ones wrote. Since ABI 0.1. */
typedef struct StrataCallbackContext {
    /** sizeof(StrataCallbackContext) as the host compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** The host's ABI version. Since ABI 0.1. */
    uint32_t abi_version;
    /** Index of the current epoch (or stage), from 0; at TRAIN_BEGIN 0, at TRAIN_END the index
     *  of the last epoch that ran. Read-only. Since ABI 0.1. */
    int64_t epoch;
    /** Number of epochs (or stages) planned, >= 1. Read-only. Since ABI 0.1. */
    int64_t epochs;
    /** At BATCH_BEGIN and BATCH_END, index of the current batch within the epoch, from 0; at
     *  other events, the number of batches completed in the current epoch. Read-only.
     *  Since ABI 0.1. */
    int64_t batch;
    /** Number of batches planned per epoch; 0 when not known in advance. Read-only.
     *  Since ABI 0.1. */
    int64_t batches_per_epoch;
    /** Optimizer steps completed since the run began (counting steps restored from a
     *  checkpoint); at BATCH_END it includes this batch's step. Read-only. Since ABI 0.1. */
    int64_t global_step;
    /** The base learning rate of the next optimizer step, before per-group multipliers.
     *  WRITABLE at every event: the value left here after the call is used from the next step
     *  on (at BATCH_BEGIN, that is this batch's step). Since ABI 0.1. */
    double learning_rate;
    /** 0 while training continues. WRITABLE: set it to 1 to stop training; the loop runs no
     *  further batch, then sends EPOCH_END for the current epoch and TRAIN_END. Once 1 it stays
     *  1. Ignored at TRAIN_END. Since ABI 0.1. */
    int32_t stop;
    /** Padding; 0. Never read. Since ABI 0.1. */
    int32_t reserved0;
    /** Mean training loss over the batches of the current epoch so far; NaN before the epoch's
     *  first BATCH_END. Read-only. Since ABI 0.1. */
    double train_loss;
    /** Fraction of training examples classified correctly in the current epoch so far, in
     *  [0, 1]; NaN before the epoch's first BATCH_END or when the task has no accuracy.
     *  Read-only. Since ABI 0.1. */
    double train_acc;
    /** Accuracy on the test split from the most recent evaluation, in [0, 1]; NaN before the
     *  first evaluation. Read-only. Since ABI 0.1. */
    double test_acc;
    /** Training throughput over the current epoch so far, in examples per second; NaN before
     *  it is known. Read-only. Since ABI 0.1. */
    double examples_per_s;
    /** The run directory (absolute path, UTF-8), where a callback may write its own files.
     *  Owned by the host; valid for the call, copy it to keep it. Never NULL. Read-only.
     *  Since ABI 0.1. */
    const char *run_dir;

    /* Appended in ABI 0.3. A callback checks STRATA_HAS_FIELD before reading these: a host of
     * ABI 0.1 or 0.2 passes a shorter context. */
    /** Loss of the batch just trained, at BATCH_END; NaN at other events. Read-only.
     *  Since ABI 0.3. */
    double batch_loss;
    /** Mean loss on the test split from the most recent evaluation; NaN before the first
     *  evaluation. Read-only. Since ABI 0.3. */
    double test_loss;
    /** Number of entries in `parameter_names`, `parameters` and `gradients`: the trainable
     *  parameters of the model the fit scheme trains, in model order; 0 when the run does not
     *  expose them (runs of plugin schemes). Read-only. Since ABI 0.3. */
    int32_t parameter_count;
    /** Padding; 0. Never read. Since ABI 0.3. */
    int32_t reserved1;
    /** Dotted checkpoint names of the parameters ("features.0.weight"), NUL-terminated ASCII,
     *  host-owned, valid for the call. NULL when parameter_count is 0. Since ABI 0.3. */
    const char *const *parameter_names;
    /** The parameter values, float32, contiguous, host-owned, READ-ONLY for callbacks, valid
     *  for the call. NULL when parameter_count is 0. Since ABI 0.3. */
    const StrataTensor *parameters;
    /** Their gradients, same shapes. At BATCH_END they hold this batch's gradients (the
     *  optimizer has stepped, the gradients are not yet zeroed); at other events their contents
     *  are unspecified. Host-owned, READ-ONLY, valid for the call. NULL when parameter_count
     *  is 0. Since ABI 0.3. */
    const StrataTensor *gradients;

    /* Appended in ABI 0.5. A callback checks STRATA_HAS_FIELD before reading it. */
    /** The model the run trains, as a "strata.train" model handle (scheme.h; interface 0.3 or
     *  later, fetched with host->get_interface), so a callback can hook its layers: model_hook,
     *  hook_output and hook_remove, and read it with model_child_count, model_child_kind,
     *  model_child_name, model_child_shape, model_graph, model_parameter_count and
     *  model_parameter. The same handle at every event of a run, valid from TRAIN_BEGIN to
     *  TRAIN_END. Host-owned: model_release ignores it, and model_forward, model_backward and
     *  model_zero_grad refuse it (INVALID_ARGUMENT) — the training loop owns those. Hooks the
     *  callback has not removed are removed after TRAIN_END. A hooked layer's copy is that of its
     *  latest forward: at BATCH_END, the forward of this batch. NULL in runs of plugin schemes
     *  (they train models of their own). Since ABI 0.5. */
    struct StrataModel *model;
} StrataCallbackContext;

/** A zeroed context with the header filled in; the host then sets unknown metrics to NaN.
 *  Since ABI 0.1. */
#define STRATA_CALLBACK_CONTEXT_INIT \
    { (uint32_t)sizeof(StrataCallbackContext), (uint32_t)STRATA_ABI_VERSION, 0, 0, 0, 0, 0, \
      0.0, 0, 0, 0.0, 0.0, 0.0, 0.0, NULL, 0.0, 0.0, 0, 0, NULL, NULL, NULL, NULL }

/** The functions of a callback kind. A plugin fills one per kind, as a static constant table
 *  that lives as long as the library. Required: create (or create_with_context), destroy,
 *  on_event.
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call, `instance` is a value create returned, and `err` is a host-owned, never-NULL error
 *  buffer to fill through host->set_error when returning a status other than STRATA_OK.
 *  Since ABI 0.1. */
typedef struct StrataCallbackOps {
    /** sizeof(StrataCallbackOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Creates an instance from the recipe's options for this callback, e.g.
     *  {"patience": 5, "monitor": "test_acc"}. `config_json` never NULL ("{}" when empty);
     *  `config_object` the same options as a borrowed json-c object, may be NULL (see
     *  StrataLayerOps.create). Stores a plugin-owned pointer in `*instance` (may be NULL).
     *  Errors: INVALID_ARGUMENT naming the option. Instance class. Since ABI 0.1. */
    StrataStatus (*create)(const char *config_json, const void *config_object, void **instance,
                           StrataError *err);

    /** Frees the instance. Called exactly once per successful create, after TRAIN_END or after
     *  a failed run. Cannot fail. Instance class. Since ABI 0.1. */
    void (*destroy)(void *instance);

    /** Handles one event (STRATA_EVENT_*); returns STRATA_OK for events it does not know.
     *  `ctx`: host-owned context, never NULL; the callback may write `learning_rate` and
     *  `stop`. Called on the thread running the training loop. A status other than STRATA_OK
     *  ends the run with that error. Instance class. Since ABI 0.1. */
    StrataStatus (*on_event)(void *instance, int32_t event, StrataCallbackContext *ctx,
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
} StrataCallbackOps;

/** A callback table with the header filled in and every function NULL. Since ABI 0.1. */
#define STRATA_CALLBACK_OPS_INIT \
    { (uint32_t)sizeof(StrataCallbackOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_CALLBACK_H */
