/*
 * scheme.h - StrataSchemeOps, a training procedure, and StrataTrainAPI, the host interface
 * ("strata.train") a scheme drives training through.
 *
 * The built-in "fit" scheme trains a whole model end to end. A plugin scheme replaces that
 * loop: BoostResNet, for instance, trains one residual block at a time with its own optimizer
 * and stopping rule. The scheme owns the loop; the host still owns everything heavy. Through
 * StrataTrainAPI a scheme builds models from graph JSON, runs forward and backward over a slice
 * of a model's top-level children, reads and writes parameters and gradients, steps optimizers
 * over a slice, iterates the recipe's data, dispatches callback events, logs metrics and saves
 * checkpoints. It never allocates or frees the memory behind any of these.
 *
 * Lifecycle of one instance:  create(config) -> run(host, run handle) -> destroy
 *
 * Getting the interface, inside run:
 *
 *     const StrataTrainAPI *train = (const StrataTrainAPI *)host->get_interface(
 *         host->host_ctx, STRATA_TRAIN_INTERFACE, STRATA_TRAIN_INTERFACE_VERSION);
 *     if (train == NULL)
 *         return host->set_error(err, STRATA_ERR_ABI_MISMATCH, "host lacks strata.train 0.3");
 *
 * (STRATA_TRAIN_INTERFACE_VERSION is the version these headers describe, 0.3; a scheme that
 * calls only functions of interface 0.1 or 0.2 may ask for STRATA_MAKE_VERSION(0, 1) or (0, 2)
 * instead, and then runs in older hosts too.)
 *
 * Threading: every StrataTrainAPI function may be called only while StrataSchemeOps.run is
 * executing, and only from the thread running it (the functions use the host's worker threads
 * internally). Several runs may go on at once in different threads, each with its own handles.
 * Handles obtained during a run are invalid after it returns; the host releases any the scheme
 * did not.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_SCHEME_H
#define STRATA_SCHEME_H

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles, owned by the host. A plugin only passes them back. */
/** One run of a recipe: its resolved recipe, data, callbacks and run directory. Since ABI 0.1. */
typedef struct StrataRunHandle StrataRunHandle;
/** A model graph built by the host, with its parameters, gradients and activations.
 *  Since ABI 0.1. */
typedef struct StrataModel StrataModel;
/** An optimizer instance bound to the parameters of a slice of a model. Since ABI 0.1. */
typedef struct StrataOptimizer StrataOptimizer;
/** An iterator over batches of one split of the run's data set. Since ABI 0.1. */
typedef struct StrataDataset StrataDataset;
/** A forward hook on one layer of a model: holds a copy of the layer's latest output.
 *  Since interface 0.3 (ABI 0.4). */
typedef struct StrataHook StrataHook;

/** Name of the training interface, for StrataHostAPI.get_interface. Since ABI 0.1. */
#define STRATA_TRAIN_INTERFACE "strata.train"
/** The StrataTrainAPI version these headers describe, 0.3, encoded as by STRATA_MAKE_VERSION
 *  (one unsigned literal, so that Swift imports it as UInt32). The interface is versioned on its
 *  own; it does not change with the ABI version. Since ABI 0.1. */
#define STRATA_TRAIN_INTERFACE_VERSION 0x00000003u

/* Values of the `split` argument of StrataTrainAPI.dataset_open. */
/** The training examples of the recipe's data set. Since ABI 0.1. */
#define STRATA_SPLIT_TRAIN 0
/** The held-out test examples of the recipe's data set. Since ABI 0.1. */
#define STRATA_SPLIT_TEST 1

/* Bits of the `flags` argument of StrataTrainAPI.dataset_open. */
/** Visit the examples in a new random order every epoch (seeded from the recipe's seed).
 *  Without it, examples come in file order, so batch rows map to fixed example indices.
 *  Since ABI 0.1. */
#define STRATA_DATASET_SHUFFLE ((uint64_t)1)
/** Apply the recipe's augmentation (random crops, flips). Since ABI 0.1. */
#define STRATA_DATASET_AUGMENT ((uint64_t)2)
/** Omit a final batch smaller than the batch size. Since ABI 0.1. */
#define STRATA_DATASET_DROP_LAST ((uint64_t)4)

/** One parameter of a model, as returned by StrataTrainAPI.model_parameter.
 *
 *  The scheme allocates it, sets `struct_size` and `abi_version` to its own, and the host
 *  fills the fields within `struct_size`. Since ABI 0.1. */
typedef struct StrataParameter {
    /** sizeof(StrataParameter) as the scheme compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** The scheme's ABI version. Since ABI 0.1. */
    uint32_t abi_version;
    /** Full dotted name, PyTorch style ("layer1.0.conv1.weight"). UTF-8, owned by the host,
     *  valid until the model is released. Never NULL. Since ABI 0.1. */
    const char *name;
    /** The values, float32, contiguous. The scheme may read and write the elements (e.g. to
     *  copy weights between models). Owned by the host, valid until the model is released.
     *  Never NULL. Since ABI 0.1. */
    StrataTensor *value;
    /** The accumulated gradient, shaped like `value`; the scheme may read and write it (e.g.
     *  to clip it before an optimizer step). NULL for a BUFFER. Owned by the host, valid until
     *  the model is released. Since ABI 0.1. */
    StrataTensor *grad;
    /** STRATA_PARAM_WEIGHT, STRATA_PARAM_BIAS or STRATA_PARAM_BUFFER (layer.h). Since ABI 0.1. */
    int32_t role;
    /** Padding; 0. Never read. Since ABI 0.1. */
    int32_t reserved0;
} StrataParameter;

/** A zeroed StrataParameter with the header filled in. Since ABI 0.1. */
#define STRATA_PARAMETER_INIT \
    { (uint32_t)sizeof(StrataParameter), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, \
      STRATA_PARAM_WEIGHT, 0 }

/** One batch of examples, as returned by StrataTrainAPI.dataset_next.
 *
 *  The scheme allocates it, sets `struct_size` and `abi_version` to its own, and the host
 *  fills the fields within `struct_size`. Everything the pointers address is owned by the
 *  dataset and valid until the next dataset_next, dataset_reset or dataset_release on it.
 *  Since ABI 0.1. */
typedef struct StrataBatch {
    /** sizeof(StrataBatch) as the scheme compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** The scheme's ABI version. Since ABI 0.1. */
    uint32_t abi_version;
    /** Number of examples N in this batch, 1 to the batch size; 0 when the epoch is exhausted
     *  (the other fields are then NULL). Since ABI 0.1. */
    int64_t count;
    /** The inputs, float32, [N, C, H, W] for images, preprocessed (and augmented when asked).
     *  Read-only. Since ABI 0.1. */
    const StrataTensor *inputs;
    /** The targets, int32 class indices, [N]. Read-only. Since ABI 0.1. */
    const StrataTensor *targets;
    /** Index of each example within its split, N entries, in [0, dataset_size), so a scheme
     *  can keep per-example state (such as boosting weights). Read-only. Since ABI 0.1. */
    const int64_t *indices;
} StrataBatch;

/** A zeroed StrataBatch with the header filled in. Since ABI 0.1. */
#define STRATA_BATCH_INIT \
    { (uint32_t)sizeof(StrataBatch), (uint32_t)STRATA_ABI_VERSION, 0, NULL, NULL, NULL }

/** The "strata.train" host interface (STRATA_TRAIN_INTERFACE, version 0.3; 0.1 ends at
 *  dataset_reset, 0.2 at dataset_class_count).
 *
 *  Models are addressed by slices of their top-level children: a model whose root is a
 *  Sequential has model_child_count children, numbered from 0, and [begin, end) with
 *  0 <= begin < end <= model_child_count selects children begin to end-1. Any other root is a
 *  single child. Running [0, count) runs the whole model.
 *
 *  Unless a comment says otherwise: every pointer argument is borrowed for the call; handles
 *  must come from this run; `err` is a scheme-owned error buffer (may be NULL when the scheme
 *  does not want the message); a bad handle or slice gives STRATA_ERR_INVALID_ARGUMENT.
 *  Every function is set (never NULL) in version 0.1. Not thread-safe: see the top of this
 *  file. Since ABI 0.1. */
typedef struct StrataTrainAPI {
    /** sizeof(StrataTrainAPI) as the host compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** The interface version, STRATA_MAKE_VERSION(0, 1). Since ABI 0.1. */
    uint32_t abi_version;

    /* The run. */

    /** The resolved recipe (defaults filled, overrides applied) as JSON text; read it with the
     *  host's config_get_* functions ("seed", "data.batch_size", "scheme.rounds"). Owned by the
     *  host, valid until run returns. Since ABI 0.1. */
    const char *(*run_recipe)(StrataRunHandle *run);

    /** The run directory, an absolute UTF-8 path. Owned by the host, valid until run returns.
     *  Since ABI 0.1. */
    const char *(*run_directory)(StrataRunHandle *run);

    /** Appends one JSON object, `metrics_json`, as a line of the run's metrics.jsonl. It should
     *  hold the keys every run reports (epoch, train_loss, train_acc, test_acc,
     *  examples_per_s) and may add its own (round, gamma, alpha). The most recent test_acc and
     *  examples_per_s logged also go into summary.json. Errors: INVALID_ARGUMENT when the text
     *  is not one JSON object. Since ABI 0.1. */
    StrataStatus (*run_log_metrics)(StrataRunHandle *run, const char *metrics_json,
                                    StrataError *err);

    /** Sends `event` (STRATA_EVENT_*, callback.h) to the recipe's callbacks, in recipe order,
     *  with `ctx`, which the scheme fills (STRATA_CALLBACK_CONTEXT_INIT, then every field) and
     *  reads back afterwards: callbacks may have changed `learning_rate` and set `stop`, which
     *  the scheme must honour. A scheme that dispatches events follows the order documented in
     *  callback.h. Errors: the first failing callback's status and message; the scheme then
     *  returns it from run. Since ABI 0.1. */
    StrataStatus (*run_dispatch_event)(StrataRunHandle *run, int32_t event,
                                       StrataCallbackContext *ctx, StrataError *err);

    /** Writes the parameters and buffers of `model` (and, when `optimizer` is not NULL, its state
     *  and step count) to checkpoints/<name>.safetensors in the run directory, keyed by the
     *  PyTorch-style dotted names. Written to a temporary file and renamed, so a crash never
     *  leaves a partial checkpoint. The file's metadata records the model's graph
     *  ("strata.graph", the text model_graph returns) and the recipe, so `strata eval
     *  --checkpoint` rebuilds this model, not the recipe's. `name`: a file stem such as "round-03" or "last"; ASCII
     *  letters, digits, '-', '_' and '.'. Errors: INVALID_ARGUMENT (bad name), INTERNAL (I/O,
     *  with the path and the system's reason). Since ABI 0.1. */
    StrataStatus (*run_save_checkpoint)(StrataRunHandle *run, const char *name,
                                        StrataModel *model, StrataOptimizer *optimizer,
                                        StrataError *err);

    /* Models. */

    /** Builds a model and initializes its parameters from the recipe's seed.
     *  `graph_json`: a model graph in the format of a recipe's "model" field; NULL builds the
     *  recipe's own model. `in_ndim`, `in_shape`: the input shape, batch dimension first, for
     *  shape inference and activation planning; `in_shape` NULL (and `in_ndim` 0) uses the
     *  run's data: [batch size, C, H, W]. On success stores a handle in `*out`, owned by the
     *  scheme until model_release. Errors: INVALID_ARGUMENT (graph, with its JSON path),
     *  SHAPE_MISMATCH (the layer and the shapes that disagree), OUT_OF_MEMORY. Since ABI 0.1. */
    StrataStatus (*model_build)(StrataRunHandle *run, const char *graph_json, int32_t in_ndim,
                                const int64_t *in_shape, StrataModel **out, StrataError *err);

    /** Frees a model and everything it holds; pointers obtained from it become invalid.
     *  Optimizers created over it must be released first. `model` may be NULL.
     *  Since ABI 0.1. */
    void (*model_release)(StrataModel *model);

    /** Number of top-level children of the model, >= 1. Since ABI 0.1. */
    int32_t (*model_child_count)(StrataModel *model);

    /** Runs children [begin, end) forward on `input`.
     *  `input`: float32, shaped like the input of child `begin` except that N may be any value
     *  from 1 up to the batch size the model was planned for (a larger N is refused with SHAPE_MISMATCH).
     *  It must stay valid and unchanged until the backward that pairs with this forward has
     *  returned. `training`: 1 for training mode (and for a later backward), 0 for evaluation.
     *  On success stores in `*output` the activation of child end-1, owned by the model,
     *  read-only, valid and unchanged until that child runs forward again or the model is
     *  released; it may be fed to another slice or model as input. Since ABI 0.1. */
    StrataStatus (*model_forward)(StrataModel *model, int32_t begin, int32_t end,
                                  const StrataTensor *input, int32_t training,
                                  const StrataTensor **output, StrataError *err);

    /** Runs children [begin, end) backward through their most recent forward, which must have
     *  been a single model_forward over exactly this slice with training = 1.
     *  `grad_output`: dLoss/dOutput, shaped like that forward's output, read-only.
     *  Parameter gradients of the slice are ACCUMULATED (+=). When `grad_input` is not NULL,
     *  stores in it dLoss/dInput of the slice, owned by the model, valid until child `begin`
     *  runs backward again or the model is released; when it is NULL that gradient is not
     *  computed (the bottom of the trained part). Since ABI 0.1. */
    StrataStatus (*model_backward)(StrataModel *model, int32_t begin, int32_t end,
                                   const StrataTensor *grad_output,
                                   const StrataTensor **grad_input, StrataError *err);

    /** Sets the gradients of every parameter of children [begin, end) to zero.
     *  Since ABI 0.1. */
    StrataStatus (*model_zero_grad)(StrataModel *model, int32_t begin, int32_t end,
                                    StrataError *err);

    /** Number of parameters and buffers of children [begin, end), >= 0; -1 for a bad slice.
     *  Since ABI 0.1. */
    int32_t (*model_parameter_count)(StrataModel *model, int32_t begin, int32_t end);

    /** Describes parameter `index` (0 <= index < model_parameter_count) of children
     *  [begin, end) in `*out` (scheme-owned, see StrataParameter), in the same order as the
     *  model's state dict. Since ABI 0.1. */
    StrataStatus (*model_parameter)(StrataModel *model, int32_t begin, int32_t end,
                                    int32_t index, StrataParameter *out, StrataError *err);

    /* Optimizers. */

    /** Creates an optimizer over every trained parameter (WEIGHT and BIAS, not BUFFER) of
     *  children [begin, end) of `model`, with fresh state.
     *  `config_json`: an optimizer object in the format of a recipe's "optimizer" field, e.g.
     *  {"kind": "adam", "betas": [0.9, 0.999]}; NULL uses the recipe's own. Any optimizer kind
     *  the registry knows works, built in or from a plugin. On success stores a handle in
     *  `*out`, owned by the scheme until optimizer_release. Errors: INVALID_ARGUMENT (unknown
     *  kind, bad option, with its JSON path). Since ABI 0.1. */
    StrataStatus (*optimizer_create)(StrataRunHandle *run, const char *config_json,
                                     StrataModel *model, int32_t begin, int32_t end,
                                     StrataOptimizer **out, StrataError *err);

    /** Frees an optimizer and its state. `optimizer` may be NULL. Since ABI 0.1. */
    void (*optimizer_release)(StrataOptimizer *optimizer);

    /** Applies one step to the optimizer's parameters from their current gradients, with base
     *  learning rate `learning_rate` (per-group multipliers are applied on top), and advances
     *  its step count. When the recipe has "gradient_clip", the host first clips the gradients
     *  of this optimizer's parameters as the fit loop does (values clamped, then the global L2
     *  norm over these parameters scaled), so a scheme that steps here honours it; a scheme's
     *  own clipping (done on the gradients before the call) comes first. Does not zero the
     *  gradients. Since ABI 0.1; clipping since ABI 0.5. */
    StrataStatus (*optimizer_step)(StrataOptimizer *optimizer, double learning_rate,
                                   StrataError *err);

    /* Data. */

    /** Opens an iterator over one split (STRATA_SPLIT_*) of the run's data set, in batches of
     *  `batch_size` (>= 1) examples, with STRATA_DATASET_* `flags`. The iterator starts at the
     *  beginning of its first epoch. On success stores a handle in `*out`, owned by the scheme
     *  until dataset_release. Errors: INVALID_ARGUMENT, UNSUPPORTED (a split the data set does
     *  not have). Since ABI 0.1. */
    StrataStatus (*dataset_open)(StrataRunHandle *run, int32_t split, int32_t batch_size,
                                 uint64_t flags, StrataDataset **out, StrataError *err);

    /** Frees an iterator; batches obtained from it become invalid. `dataset` may be NULL.
     *  Since ABI 0.1. */
    void (*dataset_release)(StrataDataset *dataset);

    /** Number of examples in the iterator's split. Since ABI 0.1. */
    int64_t (*dataset_size)(StrataDataset *dataset);

    /** Fills `*out` (scheme-owned, see StrataBatch) with the next batch of the current epoch,
     *  or sets out->count to 0 when the epoch is exhausted. Errors: INTERNAL (I/O, decoding).
     *  Since ABI 0.1. */
    StrataStatus (*dataset_next)(StrataDataset *dataset, StrataBatch *out, StrataError *err);

    /** Starts the next epoch: rewinds, and reshuffles when opened with STRATA_DATASET_SHUFFLE.
     *  Since ABI 0.1. */
    StrataStatus (*dataset_reset)(StrataDataset *dataset, StrataError *err);

    /* Appended in interface version 0.2: what a scheme needs to split a model into parts and
     * to build models that reuse those parts (BoostResNet's hypothesis modules and ensemble).
     * Check the table's abi_version (or ask get_interface for STRATA_MAKE_VERSION(0, 2)) before
     * using them. */

    /** Kind name of top-level child `index` as the recipe names it ("residual", "sequential",
     *  "conv2d", a plugin layer's kind); NULL for a bad index. Owned by the host, valid until
     *  the model is released. Since interface 0.2. */
    const char *(*model_child_kind)(StrataModel *model, int32_t index);

    /** Local name of top-level child `index` ("layers2_0"; its decimal index when the recipe
     *  gave none), the first segment of its parameters' dotted names; NULL for a bad index.
     *  Owned by the host, valid until the model is released. Since interface 0.2. */
    const char *(*model_child_name)(StrataModel *model, int32_t index);

    /** Shape of the input (`which` 0) or the output (`which` 1) of top-level child `index`,
     *  batch dimension first, at the batch size the model was planned for. Stores the rank in
     *  `*ndim` and the extents in `shape`, which must have STRATA_MAX_NDIM entries.
     *  Errors: INVALID_ARGUMENT (bad index or `which`). Since interface 0.2. */
    StrataStatus (*model_child_shape)(StrataModel *model, int32_t index, int32_t which,
                                      int32_t *ndim, int64_t *shape, StrataError *err);

    /** The graph the model was built from, expanded (every model builder replaced by the graph
     *  it returned), as JSON text in the format of a recipe's "model" field. When the root is
     *  a sequential, element i of its "layers" array is top-level child i, so a scheme can
     *  compose new graphs from a model's children and build them with model_build. Owned by
     *  the host, valid until the model is released. Since interface 0.2. */
    const char *(*model_graph)(StrataModel *model);

    /** Number of classes of the run's data set (after the recipe's data.classes selection),
     *  the number of distinct targets dataset_next can return. Since interface 0.2. */
    int32_t (*dataset_class_count)(StrataDataset *dataset);

    /* Appended in interface version 0.3 (ABI 0.4): forward hooks, so a scheme can read what a
     * named layer inside a model computed (features for a map, statistics of a block) without
     * splitting the model into slices. Check the table's abi_version (or ask get_interface for
     * STRATA_MAKE_VERSION(0, 3)) before using them. */

    /** Hooks the layer of `model` at dotted path `layer_name`: the names of its parameters
     *  without the last segment ("layers2_0.body.conv"; a top-level child is its
     *  model_child_name). From then on, every time that layer runs
     *  forward inside model_forward, the host copies its output the moment the layer returns,
     *  so a later layer that works in place on that buffer (an in-place ReLU) does not change
     *  the copy. Layers without hooks are run as before: nothing is copied. Several hooks may
     *  watch one layer. On success stores in `*out` a handle owned by the scheme until
     *  hook_remove (the host removes hooks still live when the run ends).
     *  Errors: INVALID_ARGUMENT (bad model handle, NULL or empty name, NULL out, or no layer of that name:
     *  the message lists the model's layer names). Since interface 0.3. */
    StrataStatus (*model_hook)(StrataModel *model, const char *layer_name, StrataHook **out,
                               StrataError *err);

    /** The copy of the hooked layer's output of its most recent forward, batch first,
     *  read-only, owned by the hook, valid until the layer runs forward again or the hook is
     *  removed; `*output` is NULL before the first forward. `*captures` (when `captures` is not
     *  NULL) receives the number of forward passes captured so far.
     *  Errors: INVALID_ARGUMENT (bad hook handle, NULL output). Since interface 0.3. */
    StrataStatus (*hook_output)(StrataHook *hook, const StrataTensor **output, int64_t *captures,
                                StrataError *err);

    /** Stops capturing and frees the hook and its copy; pointers from hook_output become
     *  invalid. `hook` may be NULL. Since interface 0.3. */
    void (*hook_remove)(StrataHook *hook);
} StrataTrainAPI;

/** An empty training interface (every function NULL), for hosts and tests that fill one
 *  field by field. Since ABI 0.1. */
#define STRATA_TRAIN_API_INIT \
    { (uint32_t)sizeof(StrataTrainAPI), (uint32_t)STRATA_TRAIN_INTERFACE_VERSION, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/** The functions of a training scheme. A plugin fills one per scheme, as a static constant
 *  table that lives as long as the library. Required: create (or create_with_context),
 *  destroy, run.
 *
 *  Unless a comment says otherwise, every pointer argument is borrowed for the duration of the
 *  call, `instance` is a value create returned, and `err` is a host-owned, never-NULL error
 *  buffer to fill through host->set_error when returning a status other than STRATA_OK.
 *  Since ABI 0.1. */
typedef struct StrataSchemeOps {
    /** sizeof(StrataSchemeOps) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;

    /** Creates an instance from the recipe's scheme options, e.g.
     *  {"rounds": 25, "check_every": 10000, "gamma_threshold": -0.0001}. `config_json` never
     *  NULL ("{}" when empty); `config_object` the same options as a borrowed json-c object,
     *  may be NULL (see StrataLayerOps.create). Validate everything here, so that a bad recipe
     *  fails before any data is read. Stores a plugin-owned pointer in `*instance` (may be
     *  NULL). Errors: INVALID_ARGUMENT naming the option. Instance class. Since ABI 0.1. */
    StrataStatus (*create)(const char *config_json, const void *config_object, void **instance,
                           StrataError *err);

    /** Frees the instance. Called exactly once per successful create. Cannot fail.
     *  Instance class. Since ABI 0.1. */
    void (*destroy)(void *instance);

    /** Runs the whole training procedure of one run, through the host API and the
     *  "strata.train" interface it fetches from `host`. `host`: the host table, valid until
     *  the process exits, never NULL. `run`: the run, valid until this call returns, never
     *  NULL. Called once per run, on the run's main thread; may take hours. Returns STRATA_OK
     *  when training finished (also after an early stop), else the status of the first error,
     *  with its message. Instance class. Since ABI 0.1. */
    StrataStatus (*run)(void *instance, const StrataHostAPI *host, StrataRunHandle *run,
                        StrataError *err);

    /** Appended in ABI 0.3. */
    /** `create` with the component's context: `component_context` is the `context` of the
     *  StrataComponent that points at this table (plugin-owned, may be NULL); the other
     *  arguments are create's. When set, the host calls it INSTEAD of create, which may then
     *  be NULL; a table needs one of the two. Instance class. Since ABI 0.3. */
    StrataStatus (*create_with_context)(void *component_context, const char *config_json,
                                        const void *config_object, void **instance,
                                        StrataError *err);
} StrataSchemeOps;

/** A scheme table with the header filled in and every function NULL. Since ABI 0.1. */
#define STRATA_SCHEME_OPS_INIT \
    { (uint32_t)sizeof(StrataSchemeOps), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_SCHEME_H */
