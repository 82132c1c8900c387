/*
 * plugin.h - the plugin entry point, the component descriptors and the versioning policy.
 *
 * A plugin is a shared library next to a plugin.json manifest. The host reads the manifest
 * without loading anything; only when a recipe uses one of the plugin's components does it
 * verify the library's checksum, open it with dlopen(path, RTLD_NOW | RTLD_LOCAL), look up
 * STRATA_PLUGIN_ENTRY_SYMBOL and call it once. The entry point checks the host's ABI version and
 * describes the plugin's components; the host compares that list with the manifest and refuses
 * the plugin if they disagree. The library is never unloaded while the process runs.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_PLUGIN_H
#define STRATA_PLUGIN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Values of StrataComponent.kind: which ops table `ops` points at. */
/** `ops` points at a StrataLayerOps (layer.h). Since ABI 0.1. */
#define STRATA_COMPONENT_LAYER 0
/** `ops` points at a StrataOptimizerOps (optimizer.h). Since ABI 0.1. */
#define STRATA_COMPONENT_OPTIMIZER 1
/** `ops` points at a StrataLossOps (loss.h). Since ABI 0.1. */
#define STRATA_COMPONENT_LOSS 2
/** `ops` points at a StrataCallbackOps (callback.h). Since ABI 0.1. */
#define STRATA_COMPONENT_CALLBACK 3
/** `ops` points at a StrataModelOps (model.h). Since ABI 0.1. */
#define STRATA_COMPONENT_MODEL 4
/** `ops` points at a StrataSchemeOps (scheme.h). Since ABI 0.1. */
#define STRATA_COMPONENT_SCHEME 5

/** One component a plugin provides. Filled by the plugin, usually as a static constant; the
 *  descriptor and everything it points at live as long as the library. Since ABI 0.1. */
typedef struct StrataComponent {
    /** sizeof(StrataComponent) as the plugin compiled it. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers. Since ABI 0.1. */
    uint32_t abi_version;
    /** What it is: one of STRATA_COMPONENT_*. Since ABI 0.1. */
    int32_t kind;
    /** Padding; 0. Never read. Since ABI 0.1. */
    int32_t reserved0;
    /** The name recipes use for it, e.g. "conv_bn_relu" or "boostresnet"; unique within its
     *  kind across the host and every loaded plugin, and equal to the manifest's entry. ASCII
     *  letters, digits, '_', '-' and '.'. Never NULL. Since ABI 0.1. */
    const char *name;
    /** One sentence for `strata plugins`, UTF-8. May be NULL. Since ABI 0.1. */
    const char *description;
    /** The ops table of this kind (cast to `const StrataLayerOps *` and so on), which starts
     *  with its own struct_size and abi_version. Never NULL. Since ABI 0.1. */
    const void *ops;
    /** Optional name of an exported typed constructor (STRATA_EXPORT, C linkage) the host may
     *  call through libffi instead of ops->create, with arguments taken from the recipe. The
     *  manifest declares its parameters from a closed vocabulary, each passed as: int32 ->
     *  int32_t, int64 -> int64_t, float32 -> float, float64 -> double, bool -> int32_t (0 or
     *  1), string -> const char * (borrowed for the call). After the declared parameters comes
     *  always a final `StrataError *err`. It returns the instance as `void *`, exactly what
     *  create would have stored, and NULL on failure (with a message in `err`). Example:
     *  `STRATA_EXPORT void *my_norm_create(int32_t channels, float eps, StrataError *err);`
     *  A manifest "ffi_constructor" must name the same symbol (the host refuses the plugin
     *  otherwise); without one the host calls ops->create, which stays required. The instance
     *  is freed by ops->destroy.
     *  NULL when the component has no typed constructor. Since ABI 0.1. */
    const char *ffi_constructor;
    /** The component's own context, owned by the plugin and living as long as the library: the
     *  host passes it unchanged as `component_context` to the ops table's create_with_context
     *  (build_with_context for a model builder), so one C function can serve many components
     *  (the Swift kit points it at the Swift type each component makes). Never read by the
     *  host otherwise. NULL when unused. Since ABI 0.3. */
    void *context;
} StrataComponent;

/** A zeroed component descriptor with the header filled in. Since ABI 0.1. */
#define STRATA_COMPONENT_INIT \
    { (uint32_t)sizeof(StrataComponent), (uint32_t)STRATA_ABI_VERSION, 0, 0, NULL, NULL, NULL, \
      NULL, NULL }

/** What strata_plugin_entry reports about the plugin.
 *
 *  The host allocates it, zeroes it and sets `struct_size` to its own sizeof; the plugin sets
 *  `abi_version` to its STRATA_ABI_VERSION and fills the other fields that lie within
 *  `struct_size`, leaving `struct_size` as it found it. Since ABI 0.1. */
typedef struct StrataPluginInfo {
    /** sizeof(StrataPluginInfo) as the host compiled it; set by the host. Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_ABI_VERSION of the plugin's headers; set by the plugin. Since ABI 0.1. */
    uint32_t abi_version;
    /** The plugin's name, equal to the manifest's "name". ASCII; lives as long as the library.
     *  Never NULL. Since ABI 0.1. */
    const char *plugin_name;
    /** The plugin's version, equal to the manifest's "version" (e.g. "1.2.0"). Lives as long as
     *  the library. Never NULL. Since ABI 0.1. */
    const char *plugin_version;
    /** Number of entries in `components`, >= 0. Since ABI 0.1. */
    int32_t component_count;
    /** Padding; 0. Never read. Since ABI 0.1. */
    int32_t reserved0;
    /** `component_count` descriptors. Plugin-owned; lives as long as the library. NULL only
     *  when component_count is 0. Since ABI 0.1. */
    const StrataComponent *components;
} StrataPluginInfo;

/** A zeroed plugin descriptor with the header filled in. Since ABI 0.1. */
#define STRATA_PLUGIN_INFO_INIT \
    { (uint32_t)sizeof(StrataPluginInfo), (uint32_t)STRATA_ABI_VERSION, NULL, NULL, 0, 0, NULL }

/*
 * Versioning policy (ABI major.minor, encoded (major << 16) | minor)
 *
 * 1. Size first. Every ops table and extensible struct starts with `uint32_t struct_size;
 *    uint32_t abi_version;`, set by whoever fills it: sizeof(the struct) and STRATA_ABI_VERSION
 *    as that side was compiled. Use the STRATA_*_INIT macros or STRATA_STRUCT_HEADER so these
 *    are never garbage.
 * 2. Append only. Within a major, fields and functions are only added at the end, and constants
 *    only gain new values. Nothing is removed, reordered, resized or given a new meaning; a
 *    changed meaning is a new major. Sources/CStrata/abi_layout.c pins every published offset.
 * 3. Readers check size, then NULL. A field is read only if it lies within the struct_size of
 *    the struct at hand (STRATA_HAS_FIELD), and an optional function is called only if it is
 *    also non-NULL (STRATA_HAS_FUNCTION): a size says a slot exists, not that it is filled.
 * 4. Major refuses. strata_plugin_entry compares STRATA_VERSION_MAJOR(host->abi_version) with
 *    its own STRATA_ABI_MAJOR and, if they differ, fills `err` and returns
 *    STRATA_ERR_ABI_MISMATCH without touching anything else. The host does the same with the
 *    plugin's `out->abi_version` and with each table's `abi_version`, and reports a sentence
 *    naming both versions. During 0.x the same rules hold: 0.2 extends 0.1, 1.0 would not.
 * 5. Minor adapts. A plugin built for an older minor loads on a newer host unchanged. A plugin
 *    built for a newer minor loads on an older host as long as it checks host->struct_size
 *    before calling host functions newer than the host (and degrades or refuses with a
 *    sentence). The host never rejects a newer minor outright.
 * 6. Interfaces fetched with get_interface have versions of their own and follow the same rules.
 * 7. Frozen across every major, so that a mismatch can always be reported: the entry point's
 *    name and signature; the first two fields of every versioned struct; the first four fields
 *    of StrataHostAPI (struct_size, abi_version, host_ctx, set_error); and StrataError as a
 *    whole.
 */

/* The major check every entry point starts with (policy item 4), as one call:
 *
 *     StrataStatus status = strata_check_host_abi(host, "c-layers", err);
 *     if (status != STRATA_OK) return status;
 *
 * Returns STRATA_OK when `host` implements the major these headers describe; otherwise fills
 * `err` through host->set_error with "<plugin> is built for Strata ABI M.m, the host implements
 * ABI X.y" and returns STRATA_ERR_ABI_MISMATCH. Touches only the frozen fields of the host
 * table, so it reports correctly to a host of any major. Header-only (static inline, nothing
 * exported). Since ABI 0.3. */

/** Appends `text` to the `*len` bytes in `buf` (capacity `cap`, NUL kept). Since ABI 0.3. */
static inline void strata_append_text_(char *buf, size_t *len, size_t cap, const char *text) {
    while (text != NULL && *text != '\0' && *len + 1 < cap) buf[(*len)++] = *text++;
    buf[*len] = '\0';
}

/** Appends the decimal digits of `value`. Since ABI 0.3. */
static inline void strata_append_uint_(char *buf, size_t *len, size_t cap, uint32_t value) {
    char digits[12];
    int n = 0;
    do { digits[n++] = (char)('0' + value % 10u); value /= 10u; } while (value != 0u && n < 11);
    while (n > 0 && *len + 1 < cap) buf[(*len)++] = digits[--n];
    buf[*len] = '\0';
}

/** See above. `host`, `plugin_name` and `err` as strata_plugin_entry receives them;
 *  `plugin_name` may be NULL ("plugin"). Since ABI 0.3. */
static inline StrataStatus strata_check_host_abi(const StrataHostAPI *host, const char *plugin_name,
                                                 StrataError *err) {
    char message[160];
    size_t len = 0;
    if (host == NULL) return STRATA_ERR_INVALID_ARGUMENT;
    if (STRATA_VERSION_MAJOR(host->abi_version) == STRATA_ABI_MAJOR) return STRATA_OK;
    message[0] = '\0';
    strata_append_text_(message, &len, sizeof message, plugin_name != NULL ? plugin_name : "plugin");
    strata_append_text_(message, &len, sizeof message, " is built for Strata ABI ");
    strata_append_uint_(message, &len, sizeof message, (uint32_t)STRATA_ABI_MAJOR);
    strata_append_text_(message, &len, sizeof message, ".");
    strata_append_uint_(message, &len, sizeof message, (uint32_t)STRATA_ABI_MINOR);
    strata_append_text_(message, &len, sizeof message, ", the host implements ABI ");
    strata_append_uint_(message, &len, sizeof message, STRATA_VERSION_MAJOR(host->abi_version));
    strata_append_text_(message, &len, sizeof message, ".");
    strata_append_uint_(message, &len, sizeof message, STRATA_VERSION_MINOR(host->abi_version));
    if (host->set_error == NULL) return STRATA_ERR_ABI_MISMATCH;
    return host->set_error(err, STRATA_ERR_ABI_MISMATCH, message);
}

/** Symbol name of the entry point, for dlsym. Since ABI 0.1. */
#define STRATA_PLUGIN_ENTRY_SYMBOL "strata_plugin_entry"

/** Type of the entry point, for the pointer dlsym returns. Since ABI 0.1. */
typedef StrataStatus (*StrataPluginEntryFn)(const StrataHostAPI *host, StrataPluginInfo *out,
                                            StrataError *err);

/** The one symbol a plugin exports. Called once per process, before any component is used, on
 *  one thread.
 *
 *  `host`: the host table; valid until the process exits, so the plugin may keep the pointer
 *  (typically in a static variable) for later calls. Never NULL.
 *  `out`: host-owned descriptor to fill (see StrataPluginInfo). Never NULL.
 *  `err`: host-owned error buffer. Never NULL.
 *
 *  First checks the major version (policy item 4; strata_check_host_abi does it) and returns
 *  STRATA_ERR_ABI_MISMATCH on a mismatch; then fills `out` and returns STRATA_OK. Must not run training code, start threads
 *  or allocate tensors. A Swift plugin exports it with @_cdecl("strata_plugin_entry").
 *  Since ABI 0.1. */
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *host, StrataPluginInfo *out,
                                               StrataError *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_PLUGIN_H */
