/*
 * train.c - training one hypothesis module (docs/boostresnet.md §1.5, §2 Algorithm 2 / Eq. 6)
 * and evaluating it (§1.6 step 1).
 *
 * One step: forward the module children [b, e) of the network (training=1), then the
 * auxiliary head (a fresh model, or the shared chain of the network's own children) to logits
 * z [B, K]; the loss and dLoss/dz in double; backward through the head (grad_input wanted)
 * and the module (grad_input NULL: the frozen part gets nothing); element-wise clamp of the
 * trained gradients to [-grad_clamp, grad_clamp]; optimizer steps; zero the gradients.
 *
 * Losses (exp(min(x, exp_cap)) everywhere, so values and gradients stay finite; beyond the
 * cap an example's gradient is zero):
 *   exponential (paper): L = mean_i sum_{l != y_i} w_il exp(z_il - z_iy), w = 1 under
 *     telescoping, w_il = cost_il n(K-1)/Z under cumulative (cost-weighted AdaBoost.MM form).
 *   exp_mean_ce (reference): L = exp(mean_i CE_i(q)), q = z or Softmax(dim=0)(z) per batch.
 *   binary (Algorithm 1): L = mean_i exp(-y_i (z_i1 - z_i0)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brn_plugin.h"

/* ---- losses (bookkeeping.h: brn_loss_*) --------------------------------------------------- */

static double loss_exponential(brn_ctx *c, const float *z, const int32_t *y, const int64_t *idx,
                               int64_t n, double *g) {
    int weighted = c->cfg->score_update == BRN_UPDATE_CUMULATIVE;
    double loss = NAN, scale = weighted ? (double)c->n_train * (double)(c->classes - 1) / c->cost_info.z_scaled : 1.0;
    if (brn_loss_exponential(&loss, g, z, y, weighted ? c->cost : NULL, idx, scale, n, c->classes,
                             c->cfg->exp_cap) != BRN_OK)
        return NAN;
    return loss;
}

static double loss_exp_mean_ce(brn_ctx *c, const float *z, const int32_t *y, int64_t n, double *g) {
    double loss = NAN;
    if (brn_loss_exp_mean_ce(&loss, g, c->q, z, y, n, c->classes,
                             c->cfg->hypothesis_softmax == BRN_SOFTMAX_BATCH, c->cfg->exp_cap) != BRN_OK)
        return NAN;
    return loss;
}

static double loss_binary(brn_ctx *c, const float *z, const int32_t *y, int64_t n, double *g) {
    double loss = NAN;
    if (brn_loss_binary(&loss, g, z, y, n, c->cfg->exp_cap) != BRN_OK) return NAN;
    return loss;
}

/* ---- one round's hypothesis module ----------------------------------------------------- */

static StrataStatus add_grads(brn_ctx *c, StrataModel *m, int32_t begin, int32_t end, int32_t *trainable) {
    int32_t i, n = c->train->model_parameter_count(m, begin, end);
    *trainable = 0;
    if (n < 0) return brn_fail(c, STRATA_ERR_INTERNAL, "model_parameter_count: bad slice [%d, %d)", (int)begin, (int)end);
    for (i = 0; i < n; i++) {
        StrataParameter p = STRATA_PARAMETER_INIT;
        int64_t count;
        BRN_TRY(c, c->train->model_parameter(m, begin, end, i, &p, brn_herr(c)), "model_parameter");
        if (p.role == STRATA_PARAM_BUFFER || p.grad == NULL) continue;
        count = brn_tensor_count(p.grad);
        if (count < 0) return brn_fail(c, STRATA_ERR_UNSUPPORTED, "gradient of %s is not dense float32", p.name);
        if (c->grad_count == c->grad_cap) {
            int32_t cap = c->grad_cap > 0 ? 2 * c->grad_cap : 64;
            brn_grad_ref *grown = (brn_grad_ref *)realloc(c->grads, (size_t)cap * sizeof *grown);
            if (grown == NULL) return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot allocate the gradient table");
            c->grads = grown;
            c->grad_cap = cap;
        }
        c->grads[c->grad_count].data = (float *)((char *)p.grad->data + p.grad->byte_offset);
        c->grads[c->grad_count++].count = count;
        (*trainable)++;
    }
    return STRATA_OK;
}

StrataStatus brn_round_train_begin(brn_ctx *c, int32_t t) {
    int32_t s, b = c->modules[t].begin, e = c->modules[t].end, trainable = 0;
    BRN_PROPAGATE(brn_build_aux(c, t));
    c->grad_count = 0;
    c->opt_aux_count = 0;
    BRN_PROPAGATE(add_grads(c, c->net, b, e, &trainable));
    BRN_TRY(c, c->train->optimizer_create(c->run, NULL, c->net, b, e, &c->opt_module, brn_herr(c)),
            "optimizer_create (module)");
    BRN_TRY(c, c->train->model_zero_grad(c->net, b, e, brn_herr(c)), "model_zero_grad");
    for (s = 0; s < c->aux_slice_count; s++) {
        brn_slice *sl = &c->aux_slices[s];
        BRN_PROPAGATE(add_grads(c, sl->model, sl->begin, sl->end, &trainable));
        BRN_TRY(c, c->train->model_zero_grad(sl->model, sl->begin, sl->end, brn_herr(c)), "model_zero_grad");
        if (trainable == 0) continue; /* e.g. a parameterless pooling transition */
        BRN_TRY(c, c->train->optimizer_create(c->run, NULL, sl->model, sl->begin, sl->end,
                                              &c->opt_aux[c->opt_aux_count], brn_herr(c)),
                "optimizer_create (auxiliary head)");
        c->opt_aux_count++;
    }
    c->loss_count = 0;
    c->examples = 0;
    return STRATA_OK;
}

void brn_round_train_end(brn_ctx *c) {
    int32_t s;
    c->train->optimizer_release(c->opt_module);
    c->opt_module = NULL;
    for (s = 0; s < c->opt_aux_count; s++) {
        c->train->optimizer_release(c->opt_aux[s]);
        c->opt_aux[s] = NULL;
    }
    c->opt_aux_count = 0;
}

/* Forward through the module [b, e) and the head; *logits is valid until the next forward.
 * With capture_split >= 0 (an evaluation), the module's own output [n, ...] goes to
 * brn_capture_rows for that split (examples first .. first+n-1) before the head runs. */
static StrataStatus forward_module(brn_ctx *c, int32_t t, const StrataTensor *x, int32_t training,
                                   int64_t n, const float **logits, int32_t capture_split,
                                   int64_t first) {
    const StrataTensor *h = NULL;
    int32_t s;
    BRN_TRY(c, c->train->model_forward(c->net, c->modules[t].begin, c->modules[t].end, x, training,
                                       &h, brn_herr(c)), "model_forward (module)");
    if (capture_split >= 0) BRN_PROPAGATE(brn_capture_rows(c, capture_split, h, first, n));
    for (s = 0; s < c->aux_slice_count; s++) {
        brn_slice *sl = &c->aux_slices[s];
        BRN_TRY(c, c->train->model_forward(sl->model, sl->begin, sl->end, h, training, &h, brn_herr(c)),
                "model_forward (auxiliary head)");
    }
    if (h->ndim != 2 || h->shape[0] != n || h->shape[1] != c->classes || brn_tensor_count(h) != n * c->classes)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "the auxiliary head's output is not dense "
                        "float32 [%lld, %d]", (long long)n, (int)c->classes);
    *logits = (const float *)((const char *)h->data + h->byte_offset);
    return STRATA_OK;
}

static StrataStatus backward_module(brn_ctx *c, int32_t t, int64_t n) {
    const StrataTensor *g;
    float *dst = (float *)c->grad_logits->data;
    int32_t s;
    int64_t i;
    for (i = 0; i < n * c->classes; i++) dst[i] = (float)c->g[i];
    c->grad_shape[0] = n;
    c->grad_shape[1] = c->classes;
    g = brn_dense_view(&c->grad_view, c->grad_shape, c->grad_strides, dst, 2);
    for (s = c->aux_slice_count - 1; s >= 0; s--) {
        brn_slice *sl = &c->aux_slices[s];
        BRN_TRY(c, c->train->model_backward(sl->model, sl->begin, sl->end, g, &g, brn_herr(c)),
                "model_backward (auxiliary head)");
    }
    BRN_TRY(c, c->train->model_backward(c->net, c->modules[t].begin, c->modules[t].end, g, NULL,
                                        brn_herr(c)), "model_backward (module)");
    return STRATA_OK;
}

static void clamp_grads(brn_ctx *c) {
    float lim = (float)c->cfg->grad_clamp;
    int32_t r;
    int64_t i;
    if (c->cfg->grad_clamp <= 0) return;
    for (r = 0; r < c->grad_count; r++) {
        float *v = c->grads[r].data;
        for (i = 0; i < c->grads[r].count; i++)
            v[i] = v[i] > lim ? lim : v[i] < -lim ? -lim : v[i];
    }
}

/* The learning rate of the round's next step: constant, or annealed from lr to 0 over the
 * round's max_iters steps by half a cosine (SGDR's schedule within one round). */
static double round_lr(const brn_ctx *c) {
    double progress;
    if (!c->cfg->lr_cosine) return c->lr;
    progress = (double)c->round_step / (double)c->cfg->max_iters;
    if (progress > 1) progress = 1;
    return c->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
}

static StrataStatus step_and_zero(brn_ctx *c, int32_t t) {
    int32_t s;
    double lr = c->ev.learning_rate;
    BRN_TRY(c, c->train->optimizer_step(c->opt_module, lr, brn_herr(c)), "optimizer_step (module)");
    for (s = 0; s < c->opt_aux_count; s++)
        BRN_TRY(c, c->train->optimizer_step(c->opt_aux[s], lr, brn_herr(c)), "optimizer_step (auxiliary head)");
    c->round_step++;
    BRN_TRY(c, c->train->model_zero_grad(c->net, c->modules[t].begin, c->modules[t].end, brn_herr(c)),
            "model_zero_grad");
    for (s = 0; s < c->aux_slice_count; s++)
        BRN_TRY(c, c->train->model_zero_grad(c->aux_slices[s].model, c->aux_slices[s].begin,
                                             c->aux_slices[s].end, brn_herr(c)), "model_zero_grad");
    return STRATA_OK;
}

StrataStatus brn_event(brn_ctx *c, int32_t event) {
    BRN_TRY(c, c->train->run_dispatch_event(c->run, event, &c->ev, brn_herr(c)), "a callback");
    return STRATA_OK;
}

/* Rows of z [n, K] whose largest logit is the label (binary: the sign of z1 - z0 is y's). */
static int64_t batch_hits(const brn_ctx *c, const float *z, const int32_t *y, int64_t n) {
    int64_t r, l, k = c->classes, hits = 0;
    for (r = 0; r < n; r++) {
        int64_t best = 0;
        for (l = 1; l < k; l++) best = z[r * k + l] > z[r * k + best] ? l : best;
        hits += best == y[r];
    }
    return hits;
}

static StrataStatus train_step(brn_ctx *c, int32_t t, double *loss) {
    const StrataTensor *x = NULL;
    const int32_t *y = NULL;
    const int64_t *idx = NULL;
    const float *z = NULL;
    int64_t n = 0;
    c->ev.batch = c->round_step;
    c->ev.learning_rate = round_lr(c);
    BRN_PROPAGATE(brn_event(c, STRATA_EVENT_BATCH_BEGIN));
    BRN_PROPAGATE(brn_next_train_batch(c, c->modules[t].begin, &x, &y, &idx, &n));
    BRN_PROPAGATE(forward_module(c, t, x, 1, n, &z, -1, 0));
    c->ev_correct += batch_hits(c, z, y, n);
    if (c->cfg->binary)
        *loss = loss_binary(c, z, y, n, c->g);
    else if (c->cfg->module_loss == BRN_LOSS_EXP_MEAN_CE)
        *loss = loss_exp_mean_ce(c, z, y, n, c->g);
    else
        *loss = loss_exponential(c, z, y, idx, n, c->g);
    if (!isfinite(*loss))
        return brn_fail(c, STRATA_ERR_INTERNAL, "the module's loss is not finite (the logits "
                        "diverged); try a smaller optimizer.lr or grad_clamp");
    BRN_PROPAGATE(backward_module(c, t, n));
    clamp_grads(c);
    BRN_PROPAGATE(step_and_zero(c, t));
    c->examples += n;
    return STRATA_OK;
}

StrataStatus brn_train_steps(brn_ctx *c, int32_t t, int64_t steps, double *train_seconds, int64_t *done) {
    int64_t k;
    for (k = 0; k < steps && !c->ev.stop; k++) {
        double loss = 0, start = brn_now_seconds();
        BRN_PROPAGATE(train_step(c, t, &loss));
        *train_seconds += brn_now_seconds() - start;
        (*done)++;
        c->loss_window[c->loss_count % BRN_LOSS_WINDOW] = loss;
        c->loss_count++;
        /* The round's running figures: c->examples and round_step count this round's steps. */
        c->ev_loss_sum += loss;
        c->ev.global_step++;
        c->ev.train_loss = c->ev_loss_sum / (double)c->round_step;
        c->ev.train_acc = (double)c->ev_correct / (double)c->examples;
        c->ev.examples_per_s = *train_seconds > 0 ? (double)c->examples / *train_seconds : NAN;
        BRN_PROPAGATE(brn_event(c, STRATA_EVENT_BATCH_END));
    }
    return STRATA_OK;
}

/* ---- evaluation -------------------------------------------------------------------------- */

typedef struct eval_arg {
    int32_t t;
    int32_t split;
    double *logits;
    int64_t n;
} eval_arg;

static StrataStatus eval_batch(brn_ctx *c, const StrataTensor *x, const int64_t *indices,
                               int64_t count, void *arg) {
    eval_arg *a = (eval_arg *)arg;
    const float *z = NULL;
    int64_t r, l, k = c->classes;
    BRN_PROPAGATE(forward_module(c, a->t, x, 0, count, &z, a->split, count > 0 ? indices[0] : 0));
    for (r = 0; r < count; r++) {
        if (indices[r] < 0 || indices[r] >= a->n)
            return brn_fail(c, STRATA_ERR_INTERNAL, "example index %lld out of range", (long long)indices[r]);
        for (l = 0; l < k; l++) a->logits[indices[r] * k + l] = z[r * k + l];
    }
    return STRATA_OK;
}

StrataStatus brn_eval_logits(brn_ctx *c, int32_t t, int32_t split, int final, double *logits) {
    eval_arg a;
    StrataStatus status;
    a.t = t;
    a.split = split;
    a.logits = logits;
    a.n = split == STRATA_SPLIT_TRAIN ? c->n_train : c->n_test;
    BRN_PROPAGATE(brn_capture_begin(c, split, final));
    status = brn_for_each_eval_batch(c, split, c->modules[t].begin, eval_batch, &a);
    brn_capture_end(c, split, status == STRATA_OK);
    return status;
}

StrataStatus brn_module_outputs(brn_ctx *c, double *o, const double *logits, int64_t n) {
    int32_t status = BRN_OK;
    int64_t i;
    if (c->cfg->binary) {
        for (i = 0; i < n; i++) o[i] = tanh(logits[i * 2 + 1] - logits[i * 2]);
        for (i = 0; i < n && status == BRN_OK; i++)
            if (!isfinite(o[i])) status = BRN_ERR_INVALID_ARGUMENT;
    } else if (c->cfg->hypothesis_softmax == BRN_SOFTMAX_BATCH) {
        status = brn_softmax_batch(o, logits, n, c->classes, c->batch);
    } else {
        status = brn_softmax_classes(o, logits, n, c->classes);
    }
    if (status != BRN_OK)
        return brn_fail(c, STRATA_ERR_INTERNAL, "the module's outputs are not finite (%s)",
                        brn_status_string(status));
    return STRATA_OK;
}
