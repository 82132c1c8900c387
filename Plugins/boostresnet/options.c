/*
 * options.c - the scheme options of boostresnet and boostresnet-binary (docs/boostresnet.md
 * §1.11, §1.5, §6.5, §6.6): defaults, the "paper" / "reference" presets, and validation.
 *
 * Every option is validated in create, so that a bad recipe fails before any data is read.
 * An option given explicitly overrides the preset. Unknown keys are refused, naming them.
 * exp_cap: the exponential losses use exp(min(x, exp_cap)), so losses and gradients stay
 * finite; beyond the cap an example's gradient is zero.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "brn_plugin.h"

static const char *const multiclass_keys[] = {
    "preset", "score_update", "hypothesis_softmax", "module_loss", "gamma_first", "frozen_bn",
    "head", "check_every", "max_iters", "gamma_threshold", "adaptive_depth", "rounds",
    "module_ends", "grad_clamp", "cache_mb", "cache_dtype", "eval_test", "exp_cap", "lr_schedule",
    "gamma_rule", "sampling", "refine_epochs", NULL
};
static const char *const binary_keys[] = {
    "preset", "gamma_first", "frozen_bn", "head", "check_every", "max_iters", "gamma_threshold",
    "adaptive_depth", "rounds", "module_ends", "grad_clamp", "cache_mb", "cache_dtype", "eval_test", "exp_cap", "lr_schedule",
    "sampling", "refine_epochs", NULL
};

static StrataStatus invalid(StrataError *err, const char *fmt, const char *a, const char *b) {
    char message[STRATA_ERROR_MESSAGE_SIZE];
    snprintf(message, sizeof message, fmt, a, b);
    return brn_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
}

static int key_known(const char *const *keys, const char *key) {
    for (; *keys != NULL; keys++)
        if (strcmp(*keys, key) == 0) return 1;
    return 0;
}

/* Refuses anything but an object, and unknown keys. */
static StrataStatus check_keys(int binary, const char *json, StrataError *err) {
    const char *scheme = binary ? "boostresnet-binary" : "boostresnet";
    StrataStatus status = STRATA_OK;
    json_object *root = json_tokener_parse(json);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        if (root != NULL) json_object_put(root);
        return invalid(err, "%s: the scheme options must be a JSON object%s", scheme, "");
    }
    {
        json_object_object_foreach(root, key, value) {
            (void)value;
            /* "kind" names the scheme itself, in case the host passes the whole object. */
            if (strcmp(key, "kind") == 0) continue;
            if (key_known(binary ? binary_keys : multiclass_keys, key)) continue;
            if (binary && key_known(multiclass_keys, key))
                status = invalid(err,
                                 "%s: option \"%s\" is not available: Algorithm 1 is "
                                 "telescoping, with an exponential loss and tanh outputs", scheme,
                                 key);
            else
                status = invalid(err, "%s: unknown option \"%s\"", scheme, key);
            break;
        }
    }
    json_object_put(root);
    return status;
}

/* Reads a string option and maps it to one of `names` (NULL-terminated); *out keeps its value
 * when the option is absent. */
static StrataStatus read_choice(const char *json, const char *key, const char *const *names,
                                int *out, StrataError *err) {
    char value[64];
    uint64_t length = 0;
    char expected[160] = "";
    int i;
    if (!brn_host->config_has(json, key)) return STRATA_OK;
    value[0] = '\0';
    if (brn_host->config_get_string(json, key, value, sizeof value, &length, err) != STRATA_OK) {
        snprintf(value, sizeof value, "(a string of %llu bytes)", (unsigned long long)length);
        if (length < sizeof value) return invalid(err, "option \"%s\": must be a string%s", key, "");
    } else if (strlen(value) != length) {
        return invalid(err, "option \"%s\": must not contain a NUL character%s", key, "");
    }
    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return STRATA_OK;
        }
        strncat(expected, i == 0 ? "\"" : ", \"", sizeof expected - strlen(expected) - 1);
        strncat(expected, names[i], sizeof expected - strlen(expected) - 1);
        strncat(expected, "\"", sizeof expected - strlen(expected) - 1);
    }
    {
        char message[STRATA_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message, "option \"%s\": must be one of %s, got \"%s\"", key,
                 expected, value);
        return brn_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
    }
}

static StrataStatus read_int(const char *json, const char *key, int64_t *out, StrataError *err) {
    if (!brn_host->config_has(json, key)) return STRATA_OK;
    if (brn_host->config_get_int(json, key, out, err) != STRATA_OK)
        return invalid(err, "option \"%s\": must be an integer%s", key, "");
    return STRATA_OK;
}

static StrataStatus read_double(const char *json, const char *key, double *out, StrataError *err) {
    if (!brn_host->config_has(json, key)) return STRATA_OK;
    if (brn_host->config_get_double(json, key, out, err) != STRATA_OK || !isfinite(*out))
        return invalid(err, "option \"%s\": must be a finite number%s", key, "");
    return STRATA_OK;
}

static StrataStatus read_bool(const char *json, const char *key, int *out, StrataError *err) {
    int32_t v = *out;
    if (!brn_host->config_has(json, key)) return STRATA_OK;
    if (brn_host->config_get_bool(json, key, &v, err) != STRATA_OK)
        return invalid(err, "option \"%s\": must be true or false%s", key, "");
    *out = v != 0;
    return STRATA_OK;
}

static StrataStatus bad_number(StrataError *err, const char *key, const char *rule, double got) {
    char message[STRATA_ERROR_MESSAGE_SIZE];
    snprintf(message, sizeof message, "option \"%s\": must be %s, got %.10g", key, rule, got);
    return brn_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, message);
}

/* 1 when `key` of the root object is [] (module_ends' default: the default split). */
static int is_empty_array(const char *json, const char *key) {
    json_object *root = json_tokener_parse(json), *value = NULL;
    int empty = root != NULL && json_object_object_get_ex(root, key, &value) &&
                json_object_is_type(value, json_type_array) && json_object_array_length(value) == 0;
    if (root != NULL) json_object_put(root);
    return empty;
}

static StrataStatus read_module_ends(brn_config *cfg, const char *json, StrataError *err) {
    char path[48];
    int32_t i;
    if (!brn_host->config_has(json, "module_ends")) return STRATA_OK;
    for (i = 0;; i++) {
        snprintf(path, sizeof path, "module_ends.%d", (int)i);
        if (!brn_host->config_has(json, path)) break;
        if (i >= BRN_MAX_MODULE_ENDS)
            return invalid(err, "option \"%s\": at most %s entries", "module_ends", "1024");
        if (brn_host->config_get_int(json, path, &cfg->module_ends[i], err) != STRATA_OK)
            return invalid(err, "option \"%s\": must be an array of integers (entry %s)",
                           "module_ends", path + strlen("module_ends."));
        if (cfg->module_ends[i] < 1 || (i > 0 && cfg->module_ends[i] <= cfg->module_ends[i - 1]))
            return bad_number(err, path, "strictly increasing and >= 1",
                              (double)cfg->module_ends[i]);
    }
    if (i == 0 && !is_empty_array(json, "module_ends"))
        return invalid(err, "option \"%s\": must be an array of integers%s", "module_ends", "");
    cfg->module_end_count = i;
    return STRATA_OK;
}

static void set_preset(brn_config *cfg, int reference) {
    cfg->preset_reference = reference;
    cfg->score_update = reference ? BRN_UPDATE_CUMULATIVE : BRN_UPDATE_TELESCOPING;
    cfg->hypothesis_softmax = reference ? BRN_SOFTMAX_BATCH : BRN_SOFTMAX_CLASSES;
    cfg->module_loss = reference ? BRN_LOSS_EXP_MEAN_CE : BRN_LOSS_EXPONENTIAL;
    cfg->gamma_first = reference ? BRN_GAMMA_FIRST_REFERENCE : BRN_GAMMA_FIRST_PAPER;
    cfg->frozen_bn_train = reference;
    cfg->head = reference ? BRN_HEAD_SHARED : BRN_HEAD_LINEAR;
    if (cfg->binary) { /* Algorithm 1 fixes these */
        cfg->score_update = BRN_UPDATE_TELESCOPING;
        cfg->hypothesis_softmax = BRN_SOFTMAX_CLASSES;
        cfg->module_loss = BRN_LOSS_EXPONENTIAL;
    }
}

static StrataStatus read_switches(brn_config *cfg, const char *json, StrataError *err) {
    static const char *const presets[] = { "paper", "reference", NULL };
    static const char *const updates[] = { "telescoping", "cumulative", NULL };
    static const char *const softmaxes[] = { "classes", "batch", NULL };
    static const char *const losses[] = { "exponential", "exp_mean_ce", NULL };
    static const char *const bns[] = { "eval", "train", NULL };
    static const char *const heads[] = { "fresh", "shared", "linear", NULL };
    static const char *const gamma_rules[] = { "edge", "accuracy", NULL };
    static const char *const samplings[] = { "epochs", "with_replacement", "reference", NULL };
    int preset = 0;
    BRN_PROPAGATE(read_choice(json, "preset", presets, &preset, err));
    set_preset(cfg, preset);
    if (!cfg->binary) {
        BRN_PROPAGATE(read_choice(json, "score_update", updates, &cfg->score_update, err));
        BRN_PROPAGATE(read_choice(json, "hypothesis_softmax", softmaxes,
                                  &cfg->hypothesis_softmax, err));
        BRN_PROPAGATE(read_choice(json, "module_loss", losses, &cfg->module_loss, err));
        BRN_PROPAGATE(read_choice(json, "gamma_rule", gamma_rules, &cfg->gamma_rule, err));
    }
    BRN_PROPAGATE(read_choice(json, "sampling", samplings, &cfg->sampling, err));
    BRN_PROPAGATE(read_double(json, "gamma_first", &cfg->gamma_first, err));
    BRN_PROPAGATE(read_choice(json, "frozen_bn", bns, &cfg->frozen_bn_train, err));
    static const char *const schedules[] = { "constant", "cosine", NULL };
    static const char *const dtypes[] = { "float32", "float16", NULL };
    BRN_PROPAGATE(read_choice(json, "lr_schedule", schedules, &cfg->lr_cosine, err));
    BRN_PROPAGATE(read_choice(json, "cache_dtype", dtypes, &cfg->cache_half, err));
    return read_choice(json, "head", heads, &cfg->head, err);
}

static StrataStatus read_numbers(brn_config *cfg, const char *json, StrataError *err) {
    BRN_PROPAGATE(read_int(json, "check_every", &cfg->check_every, err));
    BRN_PROPAGATE(read_int(json, "max_iters", &cfg->max_iters, err));
    BRN_PROPAGATE(read_double(json, "gamma_threshold", &cfg->gamma_threshold, err));
    BRN_PROPAGATE(read_bool(json, "adaptive_depth", &cfg->adaptive_depth, err));
    BRN_PROPAGATE(read_int(json, "rounds", &cfg->rounds, err));
    BRN_PROPAGATE(read_module_ends(cfg, json, err));
    BRN_PROPAGATE(read_double(json, "grad_clamp", &cfg->grad_clamp, err));
    BRN_PROPAGATE(read_int(json, "cache_mb", &cfg->cache_mb, err));
    BRN_PROPAGATE(read_bool(json, "eval_test", &cfg->eval_test, err));
    BRN_PROPAGATE(read_int(json, "refine_epochs", &cfg->refine_epochs, err));
    return read_double(json, "exp_cap", &cfg->exp_cap, err);
}

static StrataStatus validate(const brn_config *cfg, StrataError *err) {
    if (cfg->check_every < 1) return bad_number(err, "check_every", ">= 1", (double)cfg->check_every);
    if (cfg->max_iters < 1) return bad_number(err, "max_iters", ">= 1", (double)cfg->max_iters);
    if (cfg->rounds < 0) return bad_number(err, "rounds", ">= 0 (0 = every module)", (double)cfg->rounds);
    if (cfg->grad_clamp < 0) return bad_number(err, "grad_clamp", ">= 0 (0 disables)", cfg->grad_clamp);
    if (cfg->refine_epochs < 0 || cfg->refine_epochs > 100000)
        return bad_number(err, "refine_epochs", "in [0, 100000] (0: no refinement)", (double)cfg->refine_epochs);
    if (cfg->cache_mb < 0) return bad_number(err, "cache_mb", ">= 0 (0 disables)", (double)cfg->cache_mb);
    if (cfg->exp_cap <= 0 || cfg->exp_cap > 700)
        return bad_number(err, "exp_cap", "in (0, 700]", cfg->exp_cap);
    if (!(cfg->gamma_first > -1.0 && cfg->gamma_first < 1.0))
        return bad_number(err, "gamma_first", "in (-1, 1)", cfg->gamma_first);
    if (cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY && cfg->score_update == BRN_UPDATE_TELESCOPING)
        return invalid(err, "option \"gamma_rule\": \"accuracy\" updates the scores by s += log(o) "
                       "(cumulative); set \"score_update\": \"cumulative\" or the reference preset%s%s", "", "");
    if (cfg->gamma_threshold >= 1.0)
        return bad_number(err, "gamma_threshold", "< 1", cfg->gamma_threshold);
    return STRATA_OK;
}

StrataStatus brn_config_parse(brn_config *cfg, int binary, const char *config_json,
                              StrataError *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->binary = binary;
    cfg->check_every = 10000;
    cfg->max_iters = 10000;
    cfg->gamma_threshold = BRN_GAMMA_THRESH_REFERENCE;
    cfg->adaptive_depth = 0;
    cfg->rounds = 0;
    cfg->grad_clamp = 0.1;
    cfg->cache_mb = 2048;
    cfg->eval_test = 1;
    cfg->exp_cap = 30.0;
    BRN_PROPAGATE(check_keys(binary, config_json, err));
    BRN_PROPAGATE(read_switches(cfg, config_json, err));
    BRN_PROPAGATE(read_numbers(cfg, config_json, err));
    return validate(cfg, err);
}

void brn_config_to_json(brn_json *j, const brn_config *cfg) {
    brn_json_str(j, "preset", cfg->preset_reference ? "reference" : "paper");
    brn_json_str(j, "score_update",
                 cfg->score_update == BRN_UPDATE_CUMULATIVE ? "cumulative" : "telescoping");
    if (!cfg->binary) {
        brn_json_str(j, "hypothesis_softmax",
                     cfg->hypothesis_softmax == BRN_SOFTMAX_BATCH ? "batch" : "classes");
        brn_json_str(j, "module_loss",
                     cfg->module_loss == BRN_LOSS_EXP_MEAN_CE ? "exp_mean_ce" : "exponential");
    }
    brn_json_num(j, "gamma_first", cfg->gamma_first);
    brn_json_str(j, "frozen_bn", cfg->frozen_bn_train ? "train" : "eval");
    brn_json_str(j, "head", cfg->head == BRN_HEAD_SHARED ? "shared"
                           : cfg->head == BRN_HEAD_LINEAR ? "linear" : "fresh");
    brn_json_int(j, "check_every", cfg->check_every);
    brn_json_int(j, "max_iters", cfg->max_iters);
    brn_json_num(j, "gamma_threshold", cfg->gamma_threshold);
    brn_json_bool(j, "adaptive_depth", cfg->adaptive_depth);
    brn_json_num(j, "grad_clamp", cfg->grad_clamp);
    brn_json_int(j, "cache_mb", cfg->cache_mb);
    brn_json_str(j, "cache_dtype", cfg->cache_half ? "float16" : "float32");
    brn_json_bool(j, "eval_test", cfg->eval_test);
    brn_json_num(j, "exp_cap", cfg->exp_cap);
    brn_json_str(j, "lr_schedule", cfg->lr_cosine ? "cosine" : "constant");
    brn_json_int(j, "refine_epochs", cfg->refine_epochs);
    if (!cfg->binary)
        brn_json_str(j, "gamma_rule", cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY ? "accuracy" : "edge");
    brn_json_str(j, "sampling", cfg->sampling == BRN_SAMPLING_REFERENCE ? "reference"
                               : cfg->sampling == BRN_SAMPLING_WITH_REPLACEMENT ? "with_replacement" : "epochs");
}
