/*
 * run.c - StrataSchemeOps.run of boostresnet and boostresnet-binary: fetch the "strata.train"
 * interface (0.2), read the recipe (batch size, seed, optimizer.lr, data.augment), split the
 * network (model.c), load targets and the feature cache (data.c), run the rounds (rounds.c),
 * print the table, build the tapped_ensemble model (§1.9, Lemma 3.2), save it as checkpoint
 * "last", evaluate it on the test split, and release everything on every path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brn_plugin.h"

static StrataStatus read_recipe(brn_ctx *c) {
    int64_t batch = 100, seed = 0;
    double lr = 0.001;
    int32_t augment = 1;
    c->recipe = c->train->run_recipe(c->run);
    if (c->recipe == NULL) return brn_fail(c, STRATA_ERR_INTERNAL, "run_recipe returned NULL");
    if (c->host->config_has(c->recipe, "batch_size"))
        BRN_TRY(c, c->host->config_get_int(c->recipe, "batch_size", &batch, brn_herr(c)), "reading batch_size");
    else
        BRN_TRY(c, c->host->config_get_int(c->recipe, "data.batch_size", &batch, brn_herr(c)),
                "reading data.batch_size");
    BRN_TRY(c, c->host->config_get_int(c->recipe, "seed", &seed, brn_herr(c)), "reading seed");
    BRN_TRY(c, c->host->config_get_double(c->recipe, "optimizer.lr", &lr, brn_herr(c)), "reading optimizer.lr");
    if (batch < 1 || batch > 1000000)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "the recipe's batch size must be in [1, 1e6], got %lld", (long long)batch);
    c->batch = batch;
    c->seed = (uint64_t)seed;
    c->lr = lr;
    c->augment = c->host->config_has(c->recipe, "data.augment") != 0;
    /* "data.augment": false means no augmentation; anything else present means augmenting. */
    if (c->augment && c->host->config_get_bool(c->recipe, "data.augment", &augment, NULL) == STRATA_OK)
        c->augment = augment != 0;
    return STRATA_OK;
}

static StrataStatus alloc_doubles(brn_ctx *c, double **out, int64_t count) {
    *out = (double *)calloc((size_t)(count > 0 ? count : 1), sizeof(double));
    if (*out == NULL) return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot allocate %lld doubles", (long long)count);
    return STRATA_OK;
}

static StrataStatus alloc_scratch(brn_ctx *c) {
    int64_t k = c->classes, shape[2];
    int64_t nmax = c->n_train > c->n_test ? c->n_train : c->n_test;
    shape[0] = c->batch;
    shape[1] = k;
    BRN_TRY(c, c->host->tensor_alloc(c->host->host_ctx, 2, shape, &c->grad_logits, brn_herr(c)),
            "tensor_alloc (loss gradient)");
    BRN_PROPAGATE(alloc_doubles(c, &c->q, c->batch * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->g, c->batch * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->s, c->n_train * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->o, c->n_train * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->cost, c->n_train * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->logits_train, c->n_train * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->s_test, c->n_test * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->o_test, c->n_test * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->logits_test, c->n_test * k));
    BRN_PROPAGATE(alloc_doubles(c, &c->weights, c->n_train));
    BRN_PROPAGATE(alloc_doubles(c, &c->o_prev, c->n_train));
    c->pred = (int32_t *)calloc((size_t)nmax, sizeof(int32_t));
    c->aux = (StrataModel **)calloc((size_t)c->module_count, sizeof *c->aux);
    c->aux_graph = (char **)calloc((size_t)c->module_count, sizeof *c->aux_graph);
    c->results = (brn_round_result *)calloc((size_t)c->module_count, sizeof *c->results);
    if (c->pred == NULL || c->aux == NULL || c->aux_graph == NULL || c->results == NULL)
        return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot allocate the round tables");
    return STRATA_OK;
}

static void log_plan(brn_ctx *c) {
    int32_t i;
    brn_log(c, STRATA_LOG_INFO, "%s: %d modules, head = children [%d, %d), training %d rounds, "
            "batch %lld, lr %g, %s, feature cache %s (%lld bytes)", c->scheme_name,
            (int)c->module_count, (int)c->head_begin, (int)c->child_count, (int)c->rounds,
            (long long)c->batch, c->lr, c->augment ? "augmenting" : "no augmentation",
            c->use_cache ? "on" : "off", (long long)c->cache_bytes);
    for (i = 0; i < c->module_count; i++)
        brn_log(c, STRATA_LOG_DEBUG, "%s: module %d = children [%d, %d) %s", c->scheme_name,
                (int)i, (int)c->modules[i].begin, (int)c->modules[i].end, c->modules[i].name);
}

static StrataStatus log_final(brn_ctx *c, double ensemble_acc) {
    const brn_round_result *last = &c->results[c->rounds_done - 1];
    double train_seconds = 0, examples = 0;
    int32_t t;
    brn_json j;
    for (t = 0; t < c->rounds_done; t++) {
        train_seconds += c->results[t].train_seconds;
        examples += c->results[t].examples_per_s * c->results[t].train_seconds;
    }
    brn_json_begin(&j, c->json_buf, sizeof c->json_buf);
    brn_json_int(&j, "epoch", c->rounds_done);
    brn_json_bool(&j, "final", 1);
    brn_json_int(&j, "rounds", c->rounds_done);
    brn_json_num(&j, "train_loss", last->train_loss);
    brn_json_num(&j, "train_acc", last->train_acc);
    brn_json_num(&j, "test_acc", c->cfg->eval_test ? ensemble_acc : NAN);
    brn_json_num(&j, "ensemble_test_acc", c->cfg->eval_test ? ensemble_acc : NAN);
    brn_json_num(&j, "last_round_test_acc", last->test_acc);
    brn_json_num(&j, "examples_per_s", train_seconds > 0 ? examples / train_seconds : NAN);
    brn_json_num(&j, "seconds", brn_now_seconds() - c->run_start);
    brn_json_end(&j);
    BRN_TRY(c, c->train->run_log_metrics(c->run, c->json_buf, brn_herr(c)), "run_log_metrics");
    if (c->cfg->eval_test)
        brn_log(c, STRATA_LOG_INFO, "%s: ensemble model test accuracy %.4f (last round's "
                "ensemble %.4f), %.1f s in total", c->scheme_name, ensemble_acc, last->test_acc,
                brn_now_seconds() - c->run_start);
    return STRATA_OK;
}

static StrataStatus finish(brn_ctx *c) {
    double acc = NAN;
    if (c->rounds_done == 0) return STRATA_OK;
    BRN_PROPAGATE(brn_build_ensemble(c));
    BRN_TRY(c, c->train->run_save_checkpoint(c->run, "last", c->ens, NULL, brn_herr(c)),
            "run_save_checkpoint (last)");
    if (c->cfg->eval_test) BRN_PROPAGATE(brn_test_accuracy(c, c->ens, &acc));
    return log_final(c, acc);
}

static StrataStatus run_all(brn_ctx *c) {
    c->train = (const StrataTrainAPI *)c->host->get_interface(c->host->host_ctx, STRATA_TRAIN_INTERFACE,
                                                              STRATA_MAKE_VERSION(0, 2));
    if (c->train == NULL || c->train->struct_size < sizeof(StrataTrainAPI))
        return brn_fail(c, STRATA_ERR_ABI_MISMATCH, "the host does not offer the \"%s\" interface "
                        "version 0.2 or later (needed for model_child_kind, model_graph, ...)",
                        STRATA_TRAIN_INTERFACE);
    c->ev.struct_size = (uint32_t)sizeof(StrataCallbackContext);
    c->ev.abi_version = (uint32_t)STRATA_ABI_VERSION;
    c->ev.run_dir = c->train->run_directory(c->run);
    if (c->ev.run_dir == NULL) c->ev.run_dir = "";
    BRN_PROPAGATE(read_recipe(c));
    BRN_PROPAGATE(brn_split_model(c));
    BRN_PROPAGATE(brn_open_data(c));
    BRN_PROPAGATE(brn_load_targets_and_cache(c));
    BRN_PROPAGATE(alloc_scratch(c));
    log_plan(c);
    BRN_PROPAGATE(brn_run_rounds(c));
    brn_print_table(c);
    BRN_PROPAGATE(finish(c));
    BRN_PROPAGATE(brn_refine(c));
    return brn_event(c, STRATA_EVENT_TRAIN_END);
}

static void release_all(brn_ctx *c) {
    const StrataTrainAPI *tr = c->train;
    int32_t t;
    void *hc = c->host->host_ctx;
    if (tr != NULL) {
        brn_round_train_end(c);
        tr->model_release(c->ens);
        if (c->aux != NULL)
            for (t = 0; t < c->module_count; t++) tr->model_release(c->aux[t]);
        tr->model_release(c->net);
        tr->dataset_release(c->ds_train_eval);
        tr->dataset_release(c->ds_train_fit);
        tr->dataset_release(c->ds_test);
    }
    c->host->tensor_release(hc, c->cache_train);
    c->host->tensor_release(hc, c->cache_test);
    c->host->tensor_release(hc, c->gather);
    brn_capture_release(c);
    c->host->tensor_release(hc, c->grad_logits);
    if (c->aux_graph != NULL)
        for (t = 0; t < c->module_count; t++) free(c->aux_graph[t]);
    free(c->aux_graph);
    free(c->aux);
    free(c->results);
    free(c->modules);
    free(c->net_graph);
    free(c->ens_graph);
    free(c->y_train); free(c->y_test); free(c->ypm_train); free(c->ypm_test);
    free(c->perm); free(c->batch_targets); free(c->batch_indices); free(c->pred);
    free(c->q); free(c->g); free(c->s); free(c->o); free(c->cost); free(c->logits_train);
    free(c->s_test); free(c->o_test); free(c->logits_test); free(c->weights); free(c->o_prev);
    free(c->grads);
    free(c);
}

StrataStatus brn_scheme_run(const brn_config *cfg, const StrataHostAPI *host,
                            StrataRunHandle *run, StrataError *err) {
    StrataStatus status;
    brn_ctx *c = (brn_ctx *)calloc(1, sizeof *c);
    if (c == NULL) return host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "boostresnet: cannot allocate the run state");
    c->cfg = cfg;
    c->host = host;
    c->run = run;
    c->err = err;
    c->scheme_name = cfg->binary ? "boostresnet-binary" : "boostresnet";
    c->round = -1;
    c->run_start = brn_now_seconds();
    status = run_all(c);
    release_all(c);
    return status;
}
