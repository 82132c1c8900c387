/*
 * plugin.c - entry point of the boostresnet plugin: two StrataSchemeOps schemes,
 * "boostresnet" (multi-class, docs/boostresnet.md §1 and §1.11) and "boostresnet-binary"
 * (Algorithm 1, §2).
 * The names and kinds here must equal plugin.json's exactly; the host compares them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "brn_plugin.h"

const StrataHostAPI *brn_host = NULL;

static StrataStatus create_common(int binary, const char *config_json, void **instance,
                                  StrataError *err) {
    brn_config *cfg;
    StrataStatus status;
    *instance = NULL;
    cfg = (brn_config *)calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return brn_host->set_error(err, STRATA_ERR_OUT_OF_MEMORY,
                                   "boostresnet: cannot allocate the scheme instance");
    status = brn_config_parse(cfg, binary, config_json != NULL ? config_json : "{}", err);
    if (status != STRATA_OK) {
        free(cfg);
        return status;
    }
    *instance = cfg;
    return STRATA_OK;
}

static StrataStatus create_multiclass(const char *config_json, const void *config_object,
                                      void **instance, StrataError *err) {
    (void)config_object;
    return create_common(0, config_json, instance, err);
}

static StrataStatus create_binary(const char *config_json, const void *config_object,
                                  void **instance, StrataError *err) {
    (void)config_object;
    return create_common(1, config_json, instance, err);
}

static void destroy_instance(void *instance) { free(instance); }

static StrataStatus run_instance(void *instance, const StrataHostAPI *host, StrataRunHandle *run,
                                 StrataError *err) {
    if (instance == NULL)
        return host->set_error(err, STRATA_ERR_INTERNAL, "boostresnet: run without an instance");
    return brn_scheme_run((const brn_config *)instance, host, run, err);
}

static const StrataSchemeOps multiclass_ops = {
    STRATA_STRUCT_HEADER(StrataSchemeOps), create_multiclass, destroy_instance, run_instance
};

static const StrataSchemeOps binary_ops = {
    STRATA_STRUCT_HEADER(StrataSchemeOps), create_binary, destroy_instance, run_instance
};

static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_SCHEME, 0, "boostresnet",
      "Multi-class BoostResNet: trains one residual module at a time with boosting "
      "bookkeeping (paper defaults, reference-code switches).", &multiclass_ops, NULL },
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_SCHEME, 0, "boostresnet-binary",
      "Binary BoostResNet (the paper's Algorithm 1): telescoping boosting with an exponential "
      "loss and tanh module outputs.", &binary_ops, NULL },
};

STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *host, StrataPluginInfo *out,
                                               StrataError *err) {
    if (STRATA_VERSION_MAJOR(host->abi_version) != STRATA_ABI_MAJOR) {
        char message[160];
        snprintf(message, sizeof message,
                 "boostresnet is built for Strata ABI %d.%d, the host implements ABI %u.%u",
                 STRATA_ABI_MAJOR, STRATA_ABI_MINOR,
                 (unsigned)STRATA_VERSION_MAJOR(host->abi_version),
                 (unsigned)STRATA_VERSION_MINOR(host->abi_version));
        return host->set_error(err, STRATA_ERR_ABI_MISMATCH, message);
    }
    brn_host = host;
    out->abi_version = STRATA_ABI_VERSION;
    out->plugin_name = "boostresnet";
    out->plugin_version = "0.1.0";
    out->component_count = (int32_t)(sizeof components / sizeof components[0]);
    out->components = components;
    return STRATA_OK;
}
