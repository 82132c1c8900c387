/*
 * host.h - StrataHostAPI, the functions the core offers every plugin.
 *
 * The host passes this table to strata_plugin_entry (plugin.h) and, for schemes, again to
 * StrataSchemeOps.run. A plugin keeps the pointer (typically in a static variable set once by
 * the entry point) and calls `host->tensor_alloc(host->host_ctx, ...)`, the way SQLite
 * extensions call through sqlite3_api. Through it a plugin allocates tensors, reports errors,
 * logs, splits work over the host's threads and reads its configuration without linking json-c.
 *
 * Larger, separately versioned areas are not in this table: they are fetched by name with
 * get_interface, so this table never grows into a catalogue of everything. ABI 0.1 defines one
 * interface, "strata.train" (StrataTrainAPI, scheme.h), which schemes use to build models, run
 * forward and backward on slices of them, step optimizers, iterate data sets, log metrics and
 * save checkpoints.
 *
 * Lifetime: the table, `host_ctx` and every table get_interface returns stay valid until the
 * process exits. Threading: every function here is thread-safe unless its comment says
 * otherwise. Errors: the `err` argument of a host function is the caller's buffer (usually the
 * one the plugin itself received) and may be NULL when the caller does not want the message.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_HOST_H
#define STRATA_HOST_H

#ifdef __cplusplus
extern "C" {
#endif

/* Levels for StrataHostAPI.log. */
/** Detail for someone debugging the plugin; hidden unless verbose output is on. Since ABI 0.1. */
#define STRATA_LOG_DEBUG 0
/** Normal progress a user may want to see. Since ABI 0.1. */
#define STRATA_LOG_INFO 1
/** Something suspicious that does not stop the run. Since ABI 0.1. */
#define STRATA_LOG_WARNING 2
/** A failure being reported; the accompanying status still decides what happens. Since ABI 0.1. */
#define STRATA_LOG_ERROR 3

/** Body of a parallel loop run by StrataHostAPI.parallel_for.
 *
 *  Processes the work items [begin, end). `ctx` is the pointer given to parallel_for, passed
 *  through untouched. `thread` is the index, in [0, thread_count()), of the worker running this
 *  chunk; no two chunks that run at the same time share an index, so it can select per-thread
 *  scratch memory. Must not fail: record problems in `ctx` and report them after parallel_for
 *  returns. Must not call parallel_for. Since ABI 0.1. */
typedef void (*StrataParallelFn)(void *ctx, int64_t begin, int64_t end, int32_t thread);

/** The host's function table. Filled and owned by the host; read-only to plugins.
 *
 *  Before using a field appended after ABI 0.1, check STRATA_HAS_FIELD(StrataHostAPI, host, f):
 *  a plugin built for a newer minor may run in an older host. Since ABI 0.1. */
typedef struct StrataHostAPI {
    /** sizeof(StrataHostAPI) as the host compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** The host's ABI version, STRATA_MAKE_VERSION(major, minor). Since ABI 0.1. */
    uint32_t abi_version;
    /** Opaque host state; pass it back unchanged as the `host_ctx` argument of the functions
     *  below. Never dereferenced by plugins. The host may give each plugin its own table and
     *  context (so that logs can name the plugin). Since ABI 0.1. */
    void *host_ctx;

    /** Records a failure in `err`: stores `code` and copies `message` (UTF-8, truncated to
     *  STRATA_ERROR_MESSAGE_SIZE - 1 bytes on a character boundary) without allocating.
     *  Returns `code`, so a plugin can write `return host->set_error(err, STRATA_ERR_..., "...");`.
     *  `err` may be NULL (nothing is stored); `message` may be NULL (an empty message).
     *  Both borrowed for the call. Never NULL. Thread-safe. Since ABI 0.1. */
    StrataStatus (*set_error)(StrataError *err, int32_t code, const char *message);

    /** Writes one line to the run's log at `level` (STRATA_LOG_*), prefixed by the host with the
     *  plugin's name. `message` is UTF-8 without a trailing newline, borrowed for the call.
     *  Avoid it in Compute functions except for rare warnings. Never NULL. Thread-safe.
     *  Since ABI 0.1. */
    void (*log)(void *host_ctx, int32_t level, const char *message);

    /** Allocates a contiguous, zero-filled float32 CPU tensor of rank `ndim` (0 to
     *  STRATA_MAX_NDIM) and extents `shape` (`ndim` entries, each >= 0; borrowed for the call),
     *  with data 64-byte aligned and strides filled.
     *  On success stores in `*out` a descriptor owned by the host: the plugin may write the
     *  elements but not the descriptor, and must hand it back exactly once to tensor_release.
     *  Errors: INVALID_ARGUMENT (bad rank or extent), OUT_OF_MEMORY. For per-instance caches
     *  and scratch made in Instance functions; Compute functions should not allocate.
     *  Never NULL. Thread-safe. Since ABI 0.1. */
    StrataStatus (*tensor_alloc)(void *host_ctx, int32_t ndim, const int64_t *shape,
                                 StrataTensor **out, StrataError *err);

    /** Frees a tensor obtained from tensor_alloc: its elements and its descriptor. `tensor`
     *  may be NULL (nothing happens). Never pass a tensor the plugin did not get from
     *  tensor_alloc. Never NULL. Thread-safe. Since ABI 0.1. */
    void (*tensor_release)(void *host_ctx, StrataTensor *tensor);

    /** Runs `fn(ctx, begin, end, thread)` over contiguous chunks that cover [0, n) exactly once,
     *  on the host's worker threads (the calling thread among them), and returns when every
     *  chunk has finished. The host chooses the chunks; choose `n` as a count of coarse items
     *  (rows, channels, images), not single elements. Does nothing when n <= 0. A call made
     *  from inside a parallel_for body runs serially on the calling thread. `fn` never NULL;
     *  `ctx` may be anything, including NULL. Never NULL. Thread-safe. Since ABI 0.1. */
    void (*parallel_for)(void *host_ctx, int64_t n, StrataParallelFn fn, void *ctx);

    /** Number of worker threads parallel_for uses, at least 1: the bound on its `thread`
     *  argument, so a plugin can size per-thread scratch. Constant for the process lifetime.
     *  Never NULL. Thread-safe. Since ABI 0.1. */
    int32_t (*thread_count)(void *host_ctx);

    /* Configuration readers.
     *
     * `config_json` is JSON text, normally the `config_json` a component received in create;
     * `json_path` names a value inside it: object keys separated by dots, decimal segments
     * indexing arrays ("kernel_size", "betas.1", "schedule.milestones.0"); "" is the root.
     * Both are borrowed for the call and must not be NULL.
     *
     * An absent path (or a JSON null) is not an error: `*out` is left as it was and STRATA_OK
     * is returned, so a plugin sets its default first and then reads. A present value of the
     * wrong type, or text that is not valid JSON, gives STRATA_ERR_INVALID_ARGUMENT with a
     * message naming the path, the expected and the found type. Use config_has for options
     * that are required. */

    /** Reads an integer: a JSON number with an integral value that fits int64_t.
     *  Never NULL. Thread-safe. Since ABI 0.1. */
    StrataStatus (*config_get_int)(const char *config_json, const char *json_path,
                                   int64_t *out, StrataError *err);
    /** Reads a number (integral or not) as a double. Never NULL. Thread-safe. Since ABI 0.1. */
    StrataStatus (*config_get_double)(const char *config_json, const char *json_path,
                                      double *out, StrataError *err);
    /** Reads a string into the caller's buffer `out` of `capacity` bytes as UTF-8 with a
     *  terminating NUL. `*length` (when `length` is not NULL) receives the string's length in
     *  bytes without the NUL, also when it does not fit; in that case nothing is written to
     *  `out` and STRATA_ERR_INVALID_ARGUMENT is returned, so the caller can retry with a larger
     *  buffer. Absent path: neither `out` nor `*length` is touched. Never NULL. Thread-safe.
     *  Since ABI 0.1. */
    StrataStatus (*config_get_string)(const char *config_json, const char *json_path,
                                      char *out, uint64_t capacity, uint64_t *length,
                                      StrataError *err);
    /** Reads a JSON true or false as 1 or 0 (int32_t; C's bool has no fixed ABI).
     *  Never NULL. Thread-safe. Since ABI 0.1. */
    StrataStatus (*config_get_bool)(const char *config_json, const char *json_path,
                                    int32_t *out, StrataError *err);
    /** Returns 1 when `json_path` names a present, non-null value in `config_json`, else 0
     *  (also when the text is not valid JSON). Never NULL. Thread-safe. Since ABI 0.1. */
    int32_t (*config_has)(const char *config_json, const char *json_path);

    /** Looks up a separately versioned host interface by name, e.g. STRATA_TRAIN_INTERFACE
     *  ("strata.train", StrataTrainAPI in scheme.h). `min_version` is the oldest interface
     *  version the caller accepts, STRATA_MAKE_VERSION(major, minor).
     *  Returns a table that starts with `uint32_t struct_size; uint32_t abi_version;` (the
     *  interface's own version: the same major as `min_version`, a minor at least as large), or
     *  NULL when the host does not offer the interface or only an older one. The table is
     *  owned by the host and lives until the process exits; never free it. Names are dotted,
     *  owner first; names beginning with "strata." belong to this ABI. Never NULL.
     *  Thread-safe. Since ABI 0.1. */
    const void *(*get_interface)(void *host_ctx, const char *name, uint32_t min_version);
} StrataHostAPI;

/** An empty host table (every function NULL), for hosts and tests that fill one field by field.
 *  Since ABI 0.1. */
#define STRATA_HOST_API_INIT \
    { (uint32_t)sizeof(StrataHostAPI), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_HOST_H */
