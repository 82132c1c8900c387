/*
 * rounds.c - the round loop of BoostResNet (docs/boostresnet.md §1.2) and its bookkeeping.
 *
 * Round t trains module t (children [b, e)) with its auxiliary head in chunks of check_every
 * steps while brn_train_another_chunk says so (§1.5). After each chunk the module's outputs o
 * on the whole training set (evaluation mode, file order) give the edge gamma-tilde against
 * the round's cost (§1.3, §1.6), gamma against the previous edge and alpha. After the round,
 * s is updated (telescoping or cumulative, §1.7), and so is s_test when eval_test; one metrics
 * line records §5.1's quantities. Binary (Algorithm 1, §2): weights D_t, binary edge, the same
 * gamma and alpha, s = alpha o, the exponential loss. adaptive_depth stops adding modules when
 * gamma <= gamma_threshold (§6.6).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "brn_plugin.h"

static StrataStatus bk(brn_ctx *c, int32_t status, const char *what) {
    if (status == BRN_OK) return STRATA_OK;
    return brn_fail(c, STRATA_ERR_INTERNAL, "%s: %s", what, brn_status_string(status));
}

/* Round start: the cost matrix and Z from s (multi-class), the weights D_t (binary). */
static StrataStatus round_start_bookkeeping(brn_ctx *c, int32_t t) {
    if (c->cfg->binary)
        return bk(c, brn_binary_weights(c->weights, c->ypm_train, t == 0 ? NULL : c->o_prev,
                                        c->alpha_prev, c->n_train), "brn_binary_weights");
    return bk(c, brn_cost_matrix(c->cost, &c->cost_info, c->s, c->y_train, c->n_train, c->classes,
                                 BRN_COST_SHIFT_MAX), "brn_cost_matrix");
}

/* Module accuracy of outputs o (argmax, or sign for binary). */
static StrataStatus module_accuracy(brn_ctx *c, const double *o, const int32_t *y,
                                    const int32_t *ypm, int64_t n, double *acc) {
    if (c->cfg->binary)
        return bk(c, brn_binary_predict(c->pred, acc, o, ypm, n), "brn_binary_predict");
    return bk(c, brn_accuracy(acc, o, y, n, c->classes), "brn_accuracy");
}

/* After a chunk: o on the training set, the edge, gamma, alpha, the module's accuracy. */
static StrataStatus chunk_bookkeeping(brn_ctx *c, int32_t t, brn_round_result *r) {
    int32_t cl_gamma = 0, cl_alpha = 0;
    /* The round's last check when the steps are used up, a callback stopped training or the
     * accuracy rule checks once; then the evaluation may overwrite the training cache. */
    const int final = r->iterations >= c->cfg->max_iters || c->ev.stop ||
                      c->cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY;
    BRN_PROPAGATE(brn_eval_logits(c, t, STRATA_SPLIT_TRAIN, final, c->logits_train));
    BRN_PROPAGATE(brn_module_outputs(c, c->o, c->logits_train, c->n_train));
    if (c->cfg->binary)
        BRN_PROPAGATE(bk(c, brn_binary_edge(&r->gamma_tilde, c->weights, c->ypm_train, c->o, c->n_train),
                         "brn_binary_edge"));
    else
        BRN_PROPAGATE(bk(c, brn_edge(&r->gamma_tilde, c->o, c->cost, c->y_train, c->n_train, c->classes),
                         "brn_edge"));
    BRN_PROPAGATE(bk(c, brn_gamma(&r->gamma, &cl_gamma, r->gamma_tilde, r->gamma_tilde_prev,
                                  BRN_RANGE_CLAMP, BRN_CLAMP_EPS), "brn_gamma"));
    BRN_PROPAGATE(bk(c, brn_alpha(&r->alpha, &cl_alpha, r->gamma_tilde, BRN_RANGE_CLAMP, BRN_CLAMP_EPS),
                     "brn_alpha"));
    r->clamped = cl_gamma || cl_alpha;
    BRN_PROPAGATE(module_accuracy(c, c->o, c->y_train, c->ypm_train, c->n_train, &r->train_acc_module));
    if (c->cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY) {
        /* §1.12: gamma = (a - a_prev) / (1 - a), a_prev <- a after every check; the module's
         * scores enter s (as log o, weight 1) only when gamma reaches the threshold. */
        int32_t cl_acc = 0;
        r->accuracy_prev = c->accuracy_prev;
        BRN_PROPAGATE(bk(c, brn_gamma_accuracy(&r->gamma, &cl_acc, r->train_acc_module, c->accuracy_prev,
                                               BRN_RANGE_CLAMP, BRN_CLAMP_EPS), "brn_gamma_accuracy"));
        c->accuracy_prev = r->train_acc_module;
        r->scores_updated = !(r->gamma < c->cfg->gamma_threshold);
        r->alpha = r->scores_updated ? 1.0 : 0.0;
        r->clamped = r->clamped || cl_acc;
    }
    return STRATA_OK;
}

static StrataStatus ensemble_accuracy(brn_ctx *c, const double *s, const int32_t *y,
                                      const int32_t *ypm, int64_t n, double *acc) {
    return module_accuracy(c, s, y, ypm, n, acc);
}

/* s <- alpha o (telescoping) or s + alpha o (cumulative); binary is always telescoping. */
static StrataStatus update_scores(brn_ctx *c, double *s, const double *o, double alpha, int64_t n) {
    int64_t count = c->cfg->binary ? n : n * c->classes;
    int32_t mode = c->cfg->binary ? BRN_UPDATE_TELESCOPING : c->cfg->score_update;
    return bk(c, brn_update_scores(s, o, alpha, count, mode), "brn_update_scores");
}

/* The accuracy rule's update (§1.12): s <- s + log(o) when the module passed, else nothing. */
static StrataStatus update_scores_log(brn_ctx *c, double *s, const double *o, int64_t n,
                                      const brn_round_result *r) {
    int64_t floored = 0;
    if (!r->scores_updated) return STRATA_OK;
    BRN_PROPAGATE(bk(c, brn_update_scores_log(s, &floored, o, n * c->classes), "brn_update_scores_log"));
    if (floored > 0)
        brn_log(c, STRATA_LOG_WARNING, "%s: round %d: %lld outputs below DBL_MIN taken as DBL_MIN in "
                "s += log(o)", c->scheme_name, (int)r->round, (long long)floored);
    return STRATA_OK;
}

static StrataStatus round_end_bookkeeping(brn_ctx *c, int32_t t, brn_round_result *r) {
    double log_loss = 0;
    const int by_accuracy = c->cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY;
    if (by_accuracy) BRN_PROPAGATE(update_scores_log(c, c->s, c->o, c->n_train, r));
    else BRN_PROPAGATE(update_scores(c, c->s, c->o, r->alpha, c->n_train));
    BRN_PROPAGATE(ensemble_accuracy(c, c->s, c->y_train, c->ypm_train, c->n_train, &r->train_acc));
    if (c->cfg->binary) {
        BRN_PROPAGATE(bk(c, brn_binary_log_loss(&log_loss, c->ypm_train, c->s, c->n_train),
                         "brn_binary_log_loss"));
        r->exp_loss = exp(log_loss);
        memcpy(c->o_prev, c->o, (size_t)c->n_train * sizeof(double));
        c->alpha_prev = r->alpha;
    }
    r->test_acc = r->test_acc_module = NAN;
    if (!c->cfg->eval_test) return STRATA_OK;
    BRN_PROPAGATE(brn_eval_logits(c, t, STRATA_SPLIT_TEST, 1, c->logits_test));
    BRN_PROPAGATE(brn_module_outputs(c, c->o_test, c->logits_test, c->n_test));
    BRN_PROPAGATE(module_accuracy(c, c->o_test, c->y_test, c->ypm_test, c->n_test, &r->test_acc_module));
    if (by_accuracy) BRN_PROPAGATE(update_scores_log(c, c->s_test, c->o_test, c->n_test, r));
    else BRN_PROPAGATE(update_scores(c, c->s_test, c->o_test, r->alpha, c->n_test));
    return ensemble_accuracy(c, c->s_test, c->y_test, c->ypm_test, c->n_test, &r->test_acc);
}

static double window_mean(const brn_ctx *c) {
    int64_t i, n = c->loss_count < BRN_LOSS_WINDOW ? c->loss_count : BRN_LOSS_WINDOW;
    double sum = 0;
    for (i = 0; i < n; i++) sum += c->loss_window[i];
    return n > 0 ? sum / (double)n : NAN;
}

static StrataStatus log_round(brn_ctx *c, int32_t t, const brn_round_result *r) {
    brn_json j;
    char children[64];
    snprintf(children, sizeof children, "[%d,%d]", (int)c->modules[t].begin, (int)c->modules[t].end);
    brn_json_begin(&j, c->json_buf, sizeof c->json_buf);
    brn_json_int(&j, "epoch", t + 1);
    brn_json_int(&j, "round", t);
    brn_json_str(&j, "block", c->modules[t].name);
    brn_json_raw(&j, "children", children);
    brn_json_int(&j, "iterations", r->iterations);
    brn_json_int(&j, "chunks", r->chunks);
    brn_json_num(&j, "gamma_tilde_prev", r->gamma_tilde_prev);
    brn_json_num(&j, "gamma_tilde", r->gamma_tilde);
    brn_json_num(&j, "gamma", r->gamma);
    brn_json_num(&j, "alpha", r->alpha);
    brn_json_bool(&j, "clamped", r->clamped);
    if (c->cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY) {
        brn_json_num(&j, "accuracy_prev", r->accuracy_prev);
        brn_json_bool(&j, "scores_updated", r->scores_updated);
    }
    brn_json_num(&j, "z", r->z);
    brn_json_num(&j, "log_z", r->log_z);
    if (c->cfg->binary) brn_json_num(&j, "exp_loss", r->exp_loss);
    brn_json_num(&j, "train_loss", r->train_loss);
    brn_json_num(&j, "lr", r->lr);
    brn_json_num(&j, "train_acc", r->train_acc);
    brn_json_num(&j, "test_acc", r->test_acc);
    brn_json_num(&j, "train_acc_module", r->train_acc_module);
    brn_json_num(&j, "test_acc_module", r->test_acc_module);
    brn_json_bool(&j, "weak_learning_ok", r->gamma > c->cfg->gamma_threshold);
    brn_json_num(&j, "seconds", r->seconds);
    brn_json_num(&j, "train_seconds", r->train_seconds);
    brn_json_num(&j, "examples_per_s", r->examples_per_s);
    brn_json_int(&j, "cache_bytes", r->cache_bytes);
    if (r->cache_advance != BRN_CACHE_ADVANCE_NONE)
        brn_json_str(&j, "cache_advance", r->cache_advance == BRN_CACHE_ADVANCE_EVALUATION ? "evaluation" : "second_pass");
    if (t == 0) {
        brn_json_str(&j, "scheme", c->scheme_name);
        brn_config_to_json(&j, c->cfg);
        brn_json_int(&j, "modules", c->module_count);
        brn_json_int(&j, "rounds", c->rounds);
    }
    brn_json_end(&j);
    if (j.overflow) return brn_fail(c, STRATA_ERR_INTERNAL, "the metrics line does not fit %d bytes", (int)sizeof c->json_buf);
    BRN_TRY(c, c->train->run_log_metrics(c->run, c->json_buf, brn_herr(c)), "run_log_metrics");
    return STRATA_OK;
}

static StrataStatus train_round(brn_ctx *c, int32_t t, brn_round_result *r) {
    double gamma = -1.0;
    c->round_step = 0;
    /* A callback's stop ends the round after the chunk in progress (at least one step, as a
     * round starts only when no stop is pending), whose bookkeeping still runs. */
    while (!(c->ev.stop && r->chunks > 0) &&
           brn_train_another_chunk(gamma, c->cfg->gamma_threshold, c->cfg->check_every, r->chunks,
                                   c->cfg->max_iters)) {
        /* max_iters caps the steps: the last chunk is cut short (also the first, when
         * check_every > max_iters). */
        int64_t left = c->cfg->max_iters - r->iterations;
        BRN_PROPAGATE(brn_train_steps(c, t, c->cfg->check_every < left ? c->cfg->check_every : left,
                                      &r->train_seconds, &r->iterations));
        r->chunks++;
        BRN_PROPAGATE(chunk_bookkeeping(c, t, r));
        gamma = r->gamma;
        /* The accuracy rule's listing leaves its chunk loop after the first check either way
         * (break when gamma < threshold, else the loop condition fails): one chunk per block. */
        if (c->cfg->gamma_rule == BRN_GAMMA_RULE_ACCURACY) gamma = INFINITY;
        brn_log(c, STRATA_LOG_DEBUG, "%s: round %d (%s) chunk %lld: gamma_tilde %.6f gamma %.6f "
                "alpha %.6f module train acc %.4f", c->scheme_name, (int)t, c->modules[t].name,
                (long long)r->chunks, r->gamma_tilde, r->gamma, r->alpha, r->train_acc_module);
    }
    return STRATA_OK;
}

static StrataStatus run_round(brn_ctx *c, int32_t t, double gamma_tilde_prev) {
    brn_round_result *r = &c->results[t];
    double start = brn_now_seconds();
    StrataStatus status;
    memset(r, 0, sizeof *r);
    r->round = t;
    r->gamma_tilde_prev = gamma_tilde_prev;
    r->z = r->log_z = r->exp_loss = NAN;
    BRN_PROPAGATE(brn_round_data_begin(c, t));
    BRN_PROPAGATE(round_start_bookkeeping(c, t));
    if (!c->cfg->binary) {
        r->z = c->cost_info.z;
        r->log_z = c->cost_info.log_z;
    }
    status = brn_round_train_begin(c, t);
    if (status == STRATA_OK) status = train_round(c, t, r);
    brn_round_train_end(c);
    BRN_PROPAGATE(status);
    if (c->cfg->head == BRN_HEAD_SHARED) /* the shared head carries over to later rounds */
        BRN_PROPAGATE(brn_sync_shared_head(c, t, 0));
    r->cache_bytes = c->cache_bytes;
    r->train_loss = window_mean(c);
    r->lr = c->ev.learning_rate;
    r->examples_per_s = r->train_seconds > 0 ? (double)c->examples / r->train_seconds : NAN;
    BRN_PROPAGATE(round_end_bookkeeping(c, t, r));
    BRN_PROPAGATE(brn_advance_cache(c, c->modules[t].begin, c->modules[t].end, &r->cache_advance));
    brn_round_data_end(c);
    r->seconds = brn_now_seconds() - start;
    BRN_PROPAGATE(log_round(c, t, r));
    brn_log(c, STRATA_LOG_INFO, "%s: round %d (%s): gamma %.4f alpha %.4f train acc %.4f test acc %.4f "
            "(%.1f s)", c->scheme_name, (int)t, c->modules[t].name, r->gamma, r->alpha, r->train_acc,
            r->test_acc, r->seconds);
    c->ev.batch = r->iterations;
    c->ev.test_acc = r->test_acc;
    return brn_event(c, STRATA_EVENT_EPOCH_END);
}

StrataStatus brn_run_rounds(brn_ctx *c) {
    double gamma_tilde_prev = c->cfg->gamma_first, last_gamma = NAN;
    int32_t t;
    c->ev.epochs = c->rounds;
    c->ev.batches_per_epoch = c->cfg->max_iters;
    c->ev.train_loss = c->ev.train_acc = c->ev.test_acc = c->ev.examples_per_s = NAN;
    c->ev.learning_rate = c->lr;
    BRN_PROPAGATE(brn_event(c, STRATA_EVENT_TRAIN_BEGIN));
    for (t = 0; t < c->rounds; t++) {
        if (c->ev.stop) {
            brn_log(c, STRATA_LOG_INFO, "%s: a callback stopped training after %d modules",
                    c->scheme_name, (int)t);
            break;
        }
        if (c->cfg->adaptive_depth &&
            !brn_add_another_block(last_gamma, c->cfg->gamma_threshold, t, c->rounds)) {
            brn_log(c, STRATA_LOG_INFO, "%s: adaptive depth: gamma %.6g <= gamma_threshold %.6g "
                    "after %d modules; stopping", c->scheme_name, last_gamma,
                    c->cfg->gamma_threshold, (int)t);
            break;
        }
        c->round = t;
        c->block = c->modules[t].name;
        c->ev.epoch = t;
        c->ev.batch = 0;
        c->ev.train_loss = c->ev.train_acc = c->ev.examples_per_s = NAN;
        c->ev.learning_rate = c->lr;
        c->ev_loss_sum = 0;
        c->ev_correct = 0;
        BRN_PROPAGATE(brn_event(c, STRATA_EVENT_EPOCH_BEGIN));
        if (c->ev.stop) { /* stopped before the block's first step: no module is added */
            BRN_PROPAGATE(brn_event(c, STRATA_EVENT_EPOCH_END));
            brn_log(c, STRATA_LOG_INFO, "%s: a callback stopped training after %d modules",
                    c->scheme_name, (int)t);
            break;
        }
        BRN_PROPAGATE(run_round(c, t, gamma_tilde_prev));
        c->rounds_done = t + 1;
        gamma_tilde_prev = c->results[t].gamma_tilde;
        last_gamma = c->results[t].gamma;
    }
    c->round = -1;
    c->block = NULL;
    return STRATA_OK;
}

void brn_print_table(brn_ctx *c) {
    int32_t t;
    double total = 0;
    brn_log(c, STRATA_LOG_INFO, "%-5s %-28s %10s %10s %10s %8s %9s %9s %9s %10s", "round",
            "block", "gamma~", "gamma", "alpha", "iters", "train_acc", "test_acc", "seconds", "ex/s");
    for (t = 0; t < c->rounds_done; t++) {
        const brn_round_result *r = &c->results[t];
        total += r->seconds;
        brn_log(c, STRATA_LOG_INFO, "%-5d %-28.28s %10.5f %10.5f %10.5f %8lld %9.4f %9.4f %9.1f %10.1f",
                (int)t, c->modules[t].name, r->gamma_tilde, r->gamma, r->alpha,
                (long long)r->iterations, r->train_acc, r->test_acc, r->seconds, r->examples_per_s);
    }
    if (c->rounds_done > 0)
        brn_log(c, STRATA_LOG_INFO, "final ensemble test accuracy %.4f after %d modules, "
                "%.1f s in rounds", c->results[c->rounds_done - 1].test_acc, (int)c->rounds_done, total);
}
