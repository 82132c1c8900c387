/*
 * refine.c - end-to-end refinement after boosting (docs/boostresnet.md §1.13): the paper's
 * "e2eBP-refined BoostResNet". With refine_epochs > 0, once the last module is trained and the
 * boosted ensemble is saved, the whole network (every child, its own head: with head "shared"
 * the head the rounds trained, otherwise the network's initial head) is trained end to end
 * with the softmax cross-entropy for refine_epochs shuffled passes, with fresh state of the
 * recipe's optimizer at optimizer.lr, no clamp. One metrics line per pass ("phase": "refine",
 * cumulative gradient updates, test accuracy of the network); the refined network is saved as
 * checkpoint "refined".
 */
#include <math.h>
#include <stdlib.h>

#include "brn_plugin.h"

/* Test accuracy of `model` (all its children) on the raw test split, file order, evaluation mode. */
StrataStatus brn_test_accuracy(brn_ctx *c, StrataModel *model, double *accuracy) {
    int32_t children = c->train->model_child_count(model);
    int64_t correct = 0, seen = 0, r, l, k = c->classes;
    BRN_TRY(c, c->train->dataset_reset(c->ds_test, brn_herr(c)), "dataset_reset");
    for (;;) {
        StrataBatch batch = STRATA_BATCH_INIT;
        const StrataTensor *out = NULL;
        const float *p;
        BRN_TRY(c, c->train->dataset_next(c->ds_test, &batch, brn_herr(c)), "dataset_next");
        if (batch.count == 0) break;
        BRN_TRY(c, c->train->model_forward(model, 0, children, batch.inputs, 0, &out, brn_herr(c)),
                "model_forward (test accuracy)");
        if (brn_tensor_count(out) != batch.count * k)
            return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "the model's output is not dense [%lld, %d]",
                            (long long)batch.count, (int)k);
        p = (const float *)((const char *)out->data + out->byte_offset);
        for (r = 0; r < batch.count; r++) {
            int64_t best = 0, i = batch.indices[r];
            for (l = 1; l < k; l++) best = p[r * k + l] > p[r * k + best] ? l : best;
            if (i >= 0 && i < c->n_test && best == c->y_test[i]) correct++;
            seen++;
        }
    }
    *accuracy = seen > 0 ? (double)correct / (double)seen : NAN;
    return STRATA_OK;
}

/* Mean cross-entropy of logits z [n, K] and its gradient g = (softmax(z) - onehot(y)) / n. */
static double cross_entropy(const float *z, const int32_t *y, int64_t n, int64_t k, double *g) {
    int64_t r, l;
    double total = 0;
    for (r = 0; r < n; r++) {
        double m = z[r * k], sum = 0;
        for (l = 1; l < k; l++) m = z[r * k + l] > m ? z[r * k + l] : m;
        for (l = 0; l < k; l++) sum += exp((double)z[r * k + l] - m);
        total += log(sum) + m - (double)z[r * k + y[r]];
        for (l = 0; l < k; l++)
            g[r * k + l] = (exp((double)z[r * k + l] - m) / sum - (l == y[r] ? 1.0 : 0.0)) / (double)n;
    }
    return total / (double)n;
}

static StrataStatus refine_pass(brn_ctx *c, StrataDataset *ds, StrataOptimizer *opt, int32_t children,
                                double *loss_sum, int64_t *steps) {
    BRN_TRY(c, c->train->dataset_reset(ds, brn_herr(c)), "dataset_reset");
    for (;;) {
        StrataBatch batch = STRATA_BATCH_INIT;
        const StrataTensor *out = NULL, *g;
        float *dst = (float *)c->grad_logits->data;
        int64_t r, i, n, k = c->classes;
        BRN_TRY(c, c->train->dataset_next(ds, &batch, brn_herr(c)), "dataset_next");
        if (batch.count == 0) break;
        n = batch.count;
        for (r = 0; r < n; r++) {
            if (batch.indices[r] < 0 || batch.indices[r] >= c->n_train)
                return brn_fail(c, STRATA_ERR_INTERNAL, "example index %lld out of range", (long long)batch.indices[r]);
            c->batch_targets[r] = c->y_train[batch.indices[r]];
        }
        BRN_TRY(c, c->train->model_forward(c->net, 0, children, batch.inputs, 1, &out, brn_herr(c)),
                "model_forward (refinement)");
        if (brn_tensor_count(out) != n * k)
            return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "the network's output is not dense [%lld, %d]",
                            (long long)n, (int)k);
        *loss_sum += cross_entropy((const float *)((const char *)out->data + out->byte_offset),
                                   c->batch_targets, n, k, c->g);
        for (i = 0; i < n * k; i++) dst[i] = (float)c->g[i];
        c->grad_shape[0] = n;
        c->grad_shape[1] = k;
        g = brn_dense_view(&c->grad_view, c->grad_shape, c->grad_strides, dst, 2);
        BRN_TRY(c, c->train->model_backward(c->net, 0, children, g, NULL, brn_herr(c)), "model_backward (refinement)");
        BRN_TRY(c, c->train->optimizer_step(opt, c->lr, brn_herr(c)), "optimizer_step (refinement)");
        BRN_TRY(c, c->train->model_zero_grad(c->net, 0, children, brn_herr(c)), "model_zero_grad");
        (*steps)++;
    }
    return STRATA_OK;
}

static StrataStatus log_pass(brn_ctx *c, int64_t epoch, int64_t steps, int64_t updates, double loss,
                             double test_acc, double seconds) {
    brn_json j;
    brn_json_begin(&j, c->json_buf, sizeof c->json_buf);
    brn_json_int(&j, "epoch", c->rounds_done + epoch + 1);
    brn_json_str(&j, "phase", "refine");
    brn_json_int(&j, "refine_epoch", epoch + 1);
    brn_json_int(&j, "iterations", steps);
    brn_json_int(&j, "gradient_updates", updates);
    brn_json_num(&j, "train_loss", loss);
    brn_json_num(&j, "refined_test_acc", test_acc);
    brn_json_num(&j, "seconds", seconds);
    brn_json_end(&j);
    if (j.overflow) return brn_fail(c, STRATA_ERR_INTERNAL, "the metrics line does not fit");
    BRN_TRY(c, c->train->run_log_metrics(c->run, c->json_buf, brn_herr(c)), "run_log_metrics");
    brn_log(c, STRATA_LOG_INFO, "%s: refinement epoch %lld: loss %.4f, test acc %.4f, %lld updates "
            "in all (%.1f s)", c->scheme_name, (long long)(epoch + 1), loss, test_acc, (long long)updates, seconds);
    return STRATA_OK;
}

StrataStatus brn_refine(brn_ctx *c) {
    StrataDataset *ds = NULL;
    StrataOptimizer *opt = NULL;
    StrataStatus status = STRATA_OK, st;
    int32_t children = c->train->model_child_count(c->net);
    int64_t e, updates = 0;
    uint64_t flags = STRATA_DATASET_SHUFFLE | (c->augment ? STRATA_DATASET_AUGMENT : 0);
    if (c->cfg->refine_epochs <= 0 || c->rounds_done == 0) return STRATA_OK;
    for (e = 0; e < c->rounds_done; e++) updates += c->results[e].iterations;
    BRN_TRY(c, c->train->dataset_open(c->run, STRATA_SPLIT_TRAIN, (int32_t)c->batch, flags, &ds, brn_herr(c)),
            "dataset_open (training split, refinement)");
    if ((st = c->train->optimizer_create(c->run, NULL, c->net, 0, children, &opt, brn_herr(c))) != STRATA_OK)
        status = brn_fail_host(c, st, "optimizer_create (refinement)");
    if (status == STRATA_OK && (st = c->train->model_zero_grad(c->net, 0, children, brn_herr(c))) != STRATA_OK)
        status = brn_fail_host(c, st, "model_zero_grad");
    for (e = 0; status == STRATA_OK && e < c->cfg->refine_epochs; e++) {
        double loss = 0, acc = NAN, start = brn_now_seconds();
        int64_t steps = 0;
        status = refine_pass(c, ds, opt, children, &loss, &steps);
        if (status != STRATA_OK) break;
        updates += steps;
        if (c->cfg->eval_test) status = brn_test_accuracy(c, c->net, &acc);
        if (status == STRATA_OK)
            status = log_pass(c, e, steps, updates, steps > 0 ? loss / (double)steps : NAN, acc,
                              brn_now_seconds() - start);
    }
    if (status == STRATA_OK &&
        (st = c->train->run_save_checkpoint(c->run, "refined", c->net, NULL, brn_herr(c))) != STRATA_OK)
        status = brn_fail_host(c, st, "run_save_checkpoint (refined)");
    c->train->optimizer_release(opt);
    c->train->dataset_release(ds);
    return status;
}
