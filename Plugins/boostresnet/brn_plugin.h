/*
 * brn_plugin.h - shared declarations of the BoostResNet training-scheme plugin.
 *
 * The plugin provides two StrataSchemeOps schemes (plugin.c):
 *   "boostresnet"        multi-class BoostResNet (§1, with the paper's defaults of §1.11 and
 *                        switches reproducing the reference code, §1.10);
 *   "boostresnet-binary" the paper's Algorithm 1 (§2).
 * Specification: docs/boostresnet.md; section numbers (§1.3, §6.7, ...) refer to it.
 *
 * Files:
 *   plugin.c   entry point, component and ops tables
 *   options.c  scheme options: defaults, presets, validation (§1.11)
 *   model.c    splitting the recipe's network into modules, auxiliary heads, ensemble graph
 *   data.c     data sets, targets, the frozen-feature cache (§6.7), batch feeding
 *   train.c    losses and gradients, one optimizer step, evaluation passes (§1.5, §1.6, §2)
 *   rounds.c   the round loop, bookkeeping, metrics lines and the final table (§1.2, §5.1)
 *   run.c      StrataSchemeOps.run: setup, ensemble, checkpoint, cleanup
 *   refine.c   end-to-end refinement after the last round (§1.13)
 *   util.c     error messages, a JSON text builder, clocks, the PRNG
 *
 * Every numerical formula of the bookkeeping (cost, Z, edges, gamma, alpha, score updates,
 * binary weights, stopping rules, softmax, accuracy) comes from bookkeeping.h.
 */
#ifndef BRN_PLUGIN_H
#define BRN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "strata/strata.h"
#include "bookkeeping.h"

/* ------------------------------------------------------------------------------------------ */
/* Options (options.c)                                                                         */
/* ------------------------------------------------------------------------------------------ */

#define BRN_MAX_MODULE_ENDS 1024

enum { BRN_SOFTMAX_CLASSES = 0, BRN_SOFTMAX_BATCH = 1 };
enum { BRN_LOSS_EXPONENTIAL = 0, BRN_LOSS_EXP_MEAN_CE = 1 };
enum { BRN_HEAD_FRESH = 0, BRN_HEAD_SHARED = 1, BRN_HEAD_LINEAR = 2 };
enum { BRN_GAMMA_RULE_EDGE = 0, BRN_GAMMA_RULE_ACCURACY = 1 };
/* epochs: shuffled passes; with_replacement: B uniform draws from 0..n-1 per batch;
 * reference: B uniform draws from 1..n-1 (np.random.random_integers(n - 1), never example 0). */
enum { BRN_SAMPLING_EPOCHS = 0, BRN_SAMPLING_WITH_REPLACEMENT = 1, BRN_SAMPLING_REFERENCE = 2 };

typedef struct brn_config {
    int binary;             /* 1 for boostresnet-binary (Algorithm 1) */
    int preset_reference;   /* 0 "paper", 1 "reference" */
    int score_update;       /* BRN_UPDATE_TELESCOPING / BRN_UPDATE_CUMULATIVE */
    int hypothesis_softmax; /* BRN_SOFTMAX_* */
    int module_loss;        /* BRN_LOSS_* */
    double gamma_first;
    int frozen_bn_train;    /* 1: frozen modules run with training=1 (reference drift) */
    int head;               /* BRN_HEAD_* */
    int lr_cosine;          /* 1: cosine annealing of the learning rate within each round */
    int64_t check_every;
    int64_t max_iters;
    double gamma_threshold;
    int adaptive_depth;
    int64_t rounds;         /* 0 = every module */
    int32_t module_end_count; /* 0 = default split */
    int64_t module_ends[BRN_MAX_MODULE_ENDS];
    double grad_clamp;      /* 0 disables */
    int64_t cache_mb;       /* 0 disables */
    int cache_half;         /* 1: the cache holds float16 (half the memory), 0: float32 */
    int eval_test;
    double exp_cap;
    int gamma_rule;         /* BRN_GAMMA_RULE_* (§1.12) */
    int sampling;           /* BRN_SAMPLING_* (§6.9) */
    int64_t refine_epochs;  /* end-to-end passes after the last round (§1.13); 0 = none */
} brn_config;

StrataStatus brn_config_parse(brn_config *cfg, int binary, const char *config_json,
                              StrataError *err);
/* Appends the config switches as JSON members ("preset": ..., ...) to a JSON builder. */
struct brn_json;
void brn_config_to_json(struct brn_json *j, const brn_config *cfg);

/* ------------------------------------------------------------------------------------------ */
/* Utilities (util.c)                                                                          */
/* ------------------------------------------------------------------------------------------ */

extern const StrataHostAPI *brn_host; /* set once by strata_plugin_entry */

typedef struct brn_json {
    char *buf;
    size_t cap;
    size_t len;
    int first;     /* no member written yet in the current object */
    int overflow;  /* the text did not fit */
} brn_json;

void brn_json_begin(brn_json *j, char *buf, size_t cap);
void brn_json_end(brn_json *j);
void brn_json_num(brn_json *j, const char *key, double v);   /* %.10g; NaN/inf -> null */
void brn_json_int(brn_json *j, const char *key, int64_t v);
void brn_json_bool(brn_json *j, const char *key, int v);
void brn_json_str(brn_json *j, const char *key, const char *v);
void brn_json_null(brn_json *j, const char *key);
void brn_json_raw(brn_json *j, const char *key, const char *raw);

double brn_now_seconds(void);

/* splitmix64, for the cache's shuffled permutation. */
uint64_t brn_rand_next(uint64_t *state);
void brn_shuffle(int64_t *perm, int64_t n, uint64_t *state);

/* ------------------------------------------------------------------------------------------ */
/* Run state                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* One module: children [begin, end) of the network. */
typedef struct brn_module {
    int32_t begin, end;
    char name[256];
} brn_module;

/* A parameter gradient to clamp. */
typedef struct brn_grad_ref {
    float *data;
    int64_t count;
} brn_grad_ref;

/* One slice of a model, run as one model_forward/model_backward. */
typedef struct brn_slice {
    StrataModel *model;
    int32_t begin, end;
} brn_slice;

/* How a round advanced the feature cache: not at all (no cache), from the outputs its
 * evaluations wrote, or by a second pass of the module over a split (data.c). */
enum { BRN_CACHE_ADVANCE_NONE = 0, BRN_CACHE_ADVANCE_EVALUATION = 1, BRN_CACHE_ADVANCE_SECOND_PASS = 2 };

#define BRN_MAX_AUX_SLICES 64
#define BRN_LOSS_WINDOW 100

/* What one round produced (the log record of §5.1, kept for the final table). */
typedef struct brn_round_result {
    int32_t round;
    int64_t iterations, chunks;
    double gamma_tilde_prev, gamma_tilde, gamma, alpha;
    int32_t clamped;
    double accuracy_prev;  /* gamma_rule "accuracy": a_prev of the round's last check */
    int32_t scores_updated; /* gamma_rule "accuracy": 0 when gamma < gamma_threshold (no s += log o) */
    double z, log_z, exp_loss;
    double train_loss;
    double lr;             /* the learning rate of the round's last step */
    double train_acc, test_acc, train_acc_module, test_acc_module;
    double seconds, train_seconds, examples_per_s;
    int64_t cache_bytes;
    int32_t cache_advance; /* BRN_CACHE_ADVANCE_*: how the cache reached the next module's input */
} brn_round_result;

/* Where one split's evaluation writes the module's outputs (data.c). */
typedef struct brn_capture {
    StrataTensor *dst;     /* during an evaluation: the cache itself (in place) or `next`; NULL: none */
    StrataTensor *next;    /* a separate buffer for the next cache, when the budget allows */
    int64_t next_cap;      /* its capacity in values */
    int64_t rows;          /* examples written by the evaluation in progress */
    int ready;             /* 1: the last evaluation wrote every example's output into dst */
    int in_place;          /* 1: ready and dst is the split's cache */
} brn_capture;

typedef struct brn_ctx {
    const brn_config *cfg;
    const StrataHostAPI *host;
    const StrataTrainAPI *train;
    StrataRunHandle *run;
    StrataError *err;      /* the scheme's (host-owned) buffer */
    StrataError herr;      /* buffer for calls into the host, copied into messages */
    const char *scheme_name;

    /* Where we are, for error messages. */
    int32_t round;         /* -1 outside the round loop */
    const char *block;     /* module name during a round */

    /* The recipe. */
    const char *recipe;
    int64_t batch;
    uint64_t seed;
    double lr;
    int64_t round_step;     /* optimizer steps taken in the current round */
    int augment;

    /* The network and its split. */
    StrataModel *net;
    int32_t child_count;
    int32_t head_begin;    /* H */
    int32_t module_count;
    brn_module *modules;
    int32_t rounds;        /* modules trained at most */
    int32_t classes;       /* K */
    char *net_graph;       /* copy of model_graph(net) */

    /* Data. */
    StrataDataset *ds_train_eval;  /* file order, no augmentation */
    StrataDataset *ds_train_fit;   /* shuffled (and augmented); only without a cache */
    StrataDataset *ds_test;        /* file order; when eval_test */
    int64_t n_train, n_test;
    int32_t *y_train, *y_test;     /* class indices */
    int32_t *ypm_train, *ypm_test; /* binary: +1 / -1 */

    /* The frozen-feature cache: the input of child `cache_child` for every example. */
    int use_cache;
    int32_t cache_child;
    StrataTensor *cache_train, *cache_test;
    int64_t cache_cap_train, cache_cap_test;  /* capacity in values (float32 or float16) */
    int32_t feat_ndim;                        /* rank including the batch dimension */
    int64_t feat_shape[STRATA_MAX_NDIM];      /* per example: feat_shape[1..] */
    int64_t feat_elems;                       /* floats per example */
    int64_t cache_bytes;
    int64_t *perm;
    int64_t perm_pos;
    uint64_t rng;
    StrataTensor *gather;                     /* [B, feat] for shuffled batches; per round */
    int64_t gather_cap;                       /* in floats */
    int32_t *batch_targets;                   /* [B] */
    int64_t *batch_indices;                   /* [B] */
    StrataTensor view;                        /* borrowed descriptor fed to model_forward */
    int64_t view_shape[STRATA_MAX_NDIM], view_strides[STRATA_MAX_NDIM];

    /* The module's output as the next cache, written during the round's last evaluation of
     * each split (data.c, "capturing"), so the cache advances without a second pass. */
    int32_t next_ndim;                        /* the module's output: rank, extents, */
    int64_t next_shape[STRATA_MAX_NDIM];      /* floats per example */
    int64_t next_elems;
    brn_capture capture[2];                   /* [0] training split, [1] test split */

    /* Scratch, allocated once per run. */
    StrataTensor *grad_logits;                /* [B, K] host tensor */
    StrataTensor grad_view;
    int64_t grad_shape[2], grad_strides[2];
    double *q, *g;                            /* [B*K] doubles: loss scratch */
    double *s, *o, *cost;                     /* [n_train*K] (binary: n_train) */
    double *s_test, *o_test;                  /* [n_test*K] */
    double *logits_train, *logits_test;       /* [n*K] raw module outputs */
    double *weights;                          /* binary D_t [n_train] */
    double *o_prev;                           /* binary o_t [n_train] */
    int32_t *pred;                            /* binary predictions [max(n_train, n_test)] */
    int64_t examples;                         /* training examples of the round's steps */
    double alpha_prev;
    double accuracy_prev;      /* gamma_rule "accuracy": the previous check's module train accuracy (0 at first) */
    double loss_window[BRN_LOSS_WINDOW];
    int64_t loss_count;

    /* The current round's hypothesis module. */
    brn_cost_info cost_info;
    StrataModel **aux;                        /* fresh head per round (kept for the ensemble) */
    char **aux_graph;                         /* graph text of each round's auxiliary head */
    brn_slice aux_slices[BRN_MAX_AUX_SLICES];
    int32_t aux_slice_count;
    StrataOptimizer *opt_module;
    StrataOptimizer *opt_aux[BRN_MAX_AUX_SLICES];
    int32_t opt_aux_count;
    brn_grad_ref *grads;
    int32_t grad_count, grad_cap;

    /* Results. */
    brn_round_result *results;
    int32_t rounds_done;
    double run_start;
    StrataModel *ens;
    char *ens_graph;
    char json_buf[16384];

    /* Training events for the recipe's callbacks: a round is an epoch, a step is a batch. The
     * callbacks may set the next step's learning rate and ask to stop (after the current
     * round's bookkeeping; no further round starts). */
    StrataCallbackContext ev;
    double ev_loss_sum;        /* the module loss summed over the round's steps */
    int64_t ev_correct;        /* the module's hits on this round's training examples */
} brn_ctx;

/* util.c: errors. Each returns `status` after filling ctx->err with
 * "<scheme>: round t (block): <what>: <host message>". */
StrataError *brn_herr(brn_ctx *c);
StrataStatus brn_fail_host(brn_ctx *c, StrataStatus status, const char *what);
StrataStatus brn_fail(brn_ctx *c, StrataStatus status, const char *fmt, ...);
void brn_log(brn_ctx *c, int32_t level, const char *fmt, ...);

#define BRN_TRY(c, call, what) \
    do { \
        StrataStatus brn_st_ = (call); \
        if (brn_st_ != STRATA_OK) return brn_fail_host((c), brn_st_, (what)); \
    } while (0)
#define BRN_PROPAGATE(call) \
    do { \
        StrataStatus brn_st_ = (call); \
        if (brn_st_ != STRATA_OK) return brn_st_; \
    } while (0)

/* model.c */
StrataStatus brn_split_model(brn_ctx *c);
StrataStatus brn_build_aux(brn_ctx *c, int32_t t);       /* hypothesis head of round t */
StrataStatus brn_build_ensemble(brn_ctx *c);             /* ens model, parameters copied */
StrataStatus brn_copy_params(brn_ctx *c, StrataModel *a, int32_t ab, int32_t ae, StrataModel *b,
                             int32_t bb, int32_t be, int32_t *next, int to_b);
/* head "shared": copies the network's chain children into round t's aux model (to_aux 1) or
 * the trained aux model back into the network (to_aux 0). */
StrataStatus brn_sync_shared_head(brn_ctx *c, int32_t t, int to_aux);
int64_t brn_tensor_count(const StrataTensor *t);         /* -1 unless dense CPU float32 */

/* data.c */
StrataStatus brn_open_data(brn_ctx *c);
StrataStatus brn_load_targets_and_cache(brn_ctx *c);
StrataStatus brn_round_data_begin(brn_ctx *c, int32_t t);
void brn_round_data_end(brn_ctx *c);
/* Next training batch at the input of the round's first child: `*x` valid until the next call. */
StrataStatus brn_next_train_batch(brn_ctx *c, int32_t b, const StrataTensor **x,
                                  const int32_t **targets, const int64_t **indices,
                                  int64_t *count);
/* Calls `fn` for each contiguous file-order batch of a split at the input of child b. */
typedef StrataStatus (*brn_batch_fn)(brn_ctx *c, const StrataTensor *x, const int64_t *indices,
                                     int64_t count, void *arg);
StrataStatus brn_for_each_eval_batch(brn_ctx *c, int32_t split, int32_t b, brn_batch_fn fn,
                                     void *arg);
/* Advances the cache past the module [b, e); *how is a BRN_CACHE_ADVANCE_* value. */
StrataStatus brn_advance_cache(brn_ctx *c, int32_t b, int32_t e, int32_t *how);
/* Capturing: an evaluation of `split` through the module may keep the module's outputs as the
 * next cache. `final` says that no training step of the round reads the split's cache again
 * (then the outputs may overwrite it in place). begin chooses the destination (none when
 * neither in place nor a separate buffer within cache_mb is possible); rows writes `count`
 * outputs `h` of examples first .. first+count-1; end marks the capture complete or not. */
StrataStatus brn_capture_begin(brn_ctx *c, int32_t split, int final);
StrataStatus brn_capture_rows(brn_ctx *c, int32_t split, const StrataTensor *h, int64_t first,
                              int64_t count);
void brn_capture_end(brn_ctx *c, int32_t split, int complete);
void brn_capture_release(brn_ctx *c);
void brn_drop_cache(brn_ctx *c, const char *why);
/* Fills `t` as a read-only dense float32 CPU descriptor of `data` with extents shape[0..ndim)
 * and their row-major strides (written to `strides`); returns t. */
const StrataTensor *brn_dense_view(StrataTensor *t, int64_t *shape, int64_t *strides, float *data,
                                   int32_t ndim);

/* refine.c: end-to-end refinement (§1.13) and the test accuracy of a whole model. */
StrataStatus brn_refine(brn_ctx *c);
StrataStatus brn_test_accuracy(brn_ctx *c, StrataModel *model, double *accuracy);
const StrataTensor *brn_make_view(brn_ctx *c, float *data, int64_t count);

/* train.c */
StrataStatus brn_round_train_begin(brn_ctx *c, int32_t t);
void brn_round_train_end(brn_ctx *c);
/* Trains up to `steps` steps (fewer when a callback asks to stop); adds the steps taken to *done. */
StrataStatus brn_train_steps(brn_ctx *c, int32_t t, int64_t steps, double *train_seconds, int64_t *done);
/* Sends one training event (STRATA_EVENT_*) with ctx->ev to the recipe's callbacks. */
StrataStatus brn_event(brn_ctx *c, int32_t event);
/* The module's logits on a split (evaluation mode, file order); `final`: the round's last
 * evaluation of that split, so its outputs may become the next cache in place (data.c). */
StrataStatus brn_eval_logits(brn_ctx *c, int32_t t, int32_t split, int final, double *logits);
StrataStatus brn_module_outputs(brn_ctx *c, double *o, const double *logits, int64_t n);

/* rounds.c */
StrataStatus brn_run_rounds(brn_ctx *c);
void brn_print_table(brn_ctx *c);

/* run.c */
StrataStatus brn_scheme_run(const brn_config *cfg, const StrataHostAPI *host,
                            StrataRunHandle *run, StrataError *err);

#endif /* BRN_PLUGIN_H */
