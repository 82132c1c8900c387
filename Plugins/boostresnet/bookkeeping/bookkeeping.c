/*
 * bookkeeping.c - BoostResNet's numerical bookkeeping. Formulas and shapes are documented in
 * bookkeeping.h; section numbers refer to the specification (docs/boostresnet.md).
 */
#include "bookkeeping.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

/* Largest element count accepted, so that i * k + l never overflows int64_t. */
#define BRN_MAX_COUNT ((int64_t)1 << 52)

const char *brn_status_string(int32_t status) {
    switch (status) {
    case BRN_OK: return "success";
    case BRN_ERR_INVALID_ARGUMENT:
        return "invalid argument: a NULL pointer, a bad size, a label out of range, a non-finite "
               "value, or gamma-tilde outside (-1, 1) under the error policy";
    default: return "unknown status";
    }
}

brn_options brn_options_paper(void) {
    brn_options o;
    o.score_update = BRN_UPDATE_TELESCOPING;
    o.range_policy = BRN_RANGE_CLAMP;
    o.gamma_first = BRN_GAMMA_FIRST_PAPER;
    o.clamp_eps = BRN_CLAMP_EPS;
    return o;
}

brn_options brn_options_reference(void) {
    brn_options o;
    o.score_update = BRN_UPDATE_CUMULATIVE;
    o.range_policy = BRN_RANGE_CLAMP;
    o.gamma_first = BRN_GAMMA_FIRST_REFERENCE;
    o.clamp_eps = BRN_CLAMP_EPS;
    return o;
}

/* ------------------------------------------------------------------------------------------- */

static int valid_matrix(int64_t n, int64_t k, int64_t min_k) {
    return n >= 1 && k >= min_k && n <= BRN_MAX_COUNT / k;
}

static int valid_labels(const int32_t *y, int64_t n, int64_t k) {
    int64_t i;
    for (i = 0; i < n; i++)
        if (y[i] < 0 || (int64_t)y[i] >= k) return 0;
    return 1;
}

static int valid_binary_labels(const int32_t *y, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++)
        if (y[i] != 1 && y[i] != -1) return 0;
    return 1;
}

static int all_finite(const double *a, int64_t count) {
    int64_t i;
    for (i = 0; i < count; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------- */

int32_t brn_cost_matrix(double *cost, brn_cost_info *info, const double *s, const int32_t *y,
                        int64_t n, int64_t k, int32_t mode) {
    int64_t i, l;
    double m_max = -INFINITY, m, total = 0.0;
    if (cost == NULL || s == NULL || y == NULL || !valid_matrix(n, k, 2)) return BRN_ERR_INVALID_ARGUMENT;
    if (mode != BRN_COST_AUTO && mode != BRN_COST_SHIFT_MAX && mode != BRN_COST_PLAIN)
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_labels(y, n, k) || !all_finite(s, n * k)) return BRN_ERR_INVALID_ARGUMENT;
    /* M = max over i, l != y_i of s_il - s_iy (§6.3). */
    for (i = 0; i < n; i++) {
        const double *row = s + i * k;
        const double sy = row[y[i]];
        for (l = 0; l < k; l++) {
            double d;
            if (l == y[i]) continue;
            d = row[l] - sy;
            if (d > m_max) m_max = d;
        }
    }
    if (!isfinite(m_max)) return BRN_ERR_INVALID_ARGUMENT; /* a difference of finite values overflowed */
    if (mode == BRN_COST_SHIFT_MAX) m = m_max;
    else if (mode == BRN_COST_PLAIN) m = 0.0;
    else m = (m_max >= -BRN_COST_AUTO_LIMIT && m_max <= BRN_COST_AUTO_LIMIT) ? 0.0 : m_max;
    for (i = 0; i < n; i++) {
        const double *row = s + i * k;
        double *c = cost + i * k;
        const double sy = row[y[i]];
        double sum = 0.0;
        for (l = 0; l < k; l++) {
            if (l == y[i]) continue;
            c[l] = exp((row[l] - sy) - m);
            sum += c[l];
        }
        c[y[i]] = -sum;
        total += sum;
    }
    if (!isfinite(total)) return BRN_ERR_INVALID_ARGUMENT; /* only possible in BRN_COST_PLAIN */
    if (!(total > 0.0)) return BRN_ERR_INVALID_ARGUMENT;   /* everything underflowed (plain mode) */
    if (info != NULL) {
        info->log_scale = m;
        info->z_scaled = total;
        info->log_z = m + log(total);
        info->z = exp(info->log_z);
        if (m == 0.0) info->z = total; /* exact, without the exp(log(.)) round trip */
    }
    return BRN_OK;
}

int32_t brn_edge(double *gamma_tilde, const double *o, const double *cost, const int32_t *y,
                 int64_t n, int64_t k) {
    int64_t i, l;
    double z = 0.0, num = 0.0, g;
    if (gamma_tilde == NULL || o == NULL || cost == NULL || y == NULL || !valid_matrix(n, k, 2))
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_labels(y, n, k) || !all_finite(o, n * k) || !all_finite(cost, n * k))
        return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        const double *orow = o + i * k, *c = cost + i * k;
        const double oy = orow[y[i]];
        z -= c[y[i]];
        for (l = 0; l < k; l++) {
            if (l == y[i]) continue;
            num += c[l] * (oy - orow[l]);
        }
    }
    if (!(z > 0.0) || !isfinite(z)) return BRN_ERR_INVALID_ARGUMENT;
    g = num / z;
    if (!isfinite(g)) return BRN_ERR_INVALID_ARGUMENT;
    *gamma_tilde = g;
    return BRN_OK;
}

/* Applies the range policy to one gamma-tilde. Returns BRN_OK and the usable value, or an error. */
static int32_t limit_edge(double *out, int32_t *clamped, double gt, int32_t policy, double eps) {
    const double bound = 1.0 - eps;
    if (isnan(gt)) return BRN_ERR_INVALID_ARGUMENT;
    if (policy != BRN_RANGE_CLAMP && policy != BRN_RANGE_ERROR) return BRN_ERR_INVALID_ARGUMENT;
    if (gt > bound || gt < -bound) {
        if (policy == BRN_RANGE_ERROR) return BRN_ERR_INVALID_ARGUMENT;
        *out = gt > 0.0 ? bound : -bound;
        *clamped = 1;
        return BRN_OK;
    }
    *out = gt;
    return BRN_OK;
}

static double usable_eps(double eps) { return (eps > 0.0 && eps < 1.0) ? eps : BRN_CLAMP_EPS; }

int32_t brn_gamma(double *gamma, int32_t *clamped, double gamma_tilde, double gamma_tilde_prev,
                  int32_t range_policy, double clamp_eps) {
    double gt, gp, g2;
    int32_t was_clamped = 0, status;
    const double eps = usable_eps(clamp_eps);
    if (gamma == NULL) return BRN_ERR_INVALID_ARGUMENT;
    status = limit_edge(&gt, &was_clamped, gamma_tilde, range_policy, eps);
    if (status != BRN_OK) return status;
    status = limit_edge(&gp, &was_clamped, gamma_tilde_prev, range_policy, eps);
    if (status != BRN_OK) return status;
    g2 = (gt * gt - gp * gp) / (1.0 - gp * gp);
    *gamma = g2 >= 0.0 ? sqrt(g2) : -sqrt(-g2);
    if (clamped != NULL) *clamped = was_clamped;
    return BRN_OK;
}

int32_t brn_alpha(double *alpha, int32_t *clamped, double gamma_tilde, int32_t range_policy,
                  double clamp_eps) {
    double gt;
    int32_t was_clamped = 0, status;
    if (alpha == NULL) return BRN_ERR_INVALID_ARGUMENT;
    status = limit_edge(&gt, &was_clamped, gamma_tilde, range_policy, usable_eps(clamp_eps));
    if (status != BRN_OK) return status;
    *alpha = 0.5 * log((1.0 + gt) / (1.0 - gt));
    if (clamped != NULL) *clamped = was_clamped;
    return BRN_OK;
}

int32_t brn_update_scores(double *s, const double *o, double alpha, int64_t count, int32_t mode) {
    int64_t i;
    if (s == NULL || o == NULL || count < 1 || count > BRN_MAX_COUNT || !isfinite(alpha))
        return BRN_ERR_INVALID_ARGUMENT;
    if (mode != BRN_UPDATE_TELESCOPING && mode != BRN_UPDATE_CUMULATIVE) return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(o, count)) return BRN_ERR_INVALID_ARGUMENT;
    if (mode == BRN_UPDATE_TELESCOPING)
        for (i = 0; i < count; i++) s[i] = alpha * o[i];
    else
        for (i = 0; i < count; i++) s[i] += alpha * o[i];
    return BRN_OK;
}

int32_t brn_gamma_accuracy(double *gamma, int32_t *clamped, double accuracy, double accuracy_prev,
                           int32_t range_policy, double clamp_eps) {
    const double bound = 1.0 - usable_eps(clamp_eps);
    double a = accuracy;
    int32_t was_clamped = 0;
    if (gamma == NULL || !(accuracy >= 0.0 && accuracy <= 1.0) || !(accuracy_prev >= 0.0 && accuracy_prev <= 1.0))
        return BRN_ERR_INVALID_ARGUMENT; /* also refuses NaN */
    if (range_policy != BRN_RANGE_CLAMP && range_policy != BRN_RANGE_ERROR) return BRN_ERR_INVALID_ARGUMENT;
    if (a > bound) {
        if (range_policy == BRN_RANGE_ERROR) return BRN_ERR_INVALID_ARGUMENT;
        a = bound;
        was_clamped = 1;
    }
    *gamma = (a - accuracy_prev) / (1.0 - a);
    if (clamped != NULL) *clamped = was_clamped;
    return BRN_OK;
}

int32_t brn_update_scores_log(double *s, int64_t *floored, const double *o, int64_t count) {
    int64_t i, low = 0;
    if (s == NULL || o == NULL || count < 1 || count > BRN_MAX_COUNT) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < count; i++)
        if (!(o[i] >= 0.0 && o[i] <= 1.0)) return BRN_ERR_INVALID_ARGUMENT; /* also NaN */
    for (i = 0; i < count; i++) {
        double v = o[i];
        if (v < DBL_MIN) { v = DBL_MIN; low++; }
        s[i] += log(v);
    }
    if (floored != NULL) *floored = low;
    return BRN_OK;
}

int32_t brn_multiclass_round(brn_round_record *record, double *s, double *cost, const double *o,
                             const int32_t *y, int64_t n, int64_t k, double gamma_tilde_prev,
                             const brn_options *opt) {
    brn_round_record r;
    int32_t status, c1 = 0, c2 = 0;
    if (record == NULL || s == NULL || cost == NULL || o == NULL || y == NULL || opt == NULL ||
        !valid_matrix(n, k, 2))
        return BRN_ERR_INVALID_ARGUMENT;
    if (opt->score_update != BRN_UPDATE_TELESCOPING && opt->score_update != BRN_UPDATE_CUMULATIVE)
        return BRN_ERR_INVALID_ARGUMENT;
    status = brn_cost_matrix(cost, &r.cost, s, y, n, k, BRN_COST_AUTO);
    if (status != BRN_OK) return status;
    status = brn_edge(&r.gamma_tilde, o, cost, y, n, k);
    if (status != BRN_OK) return status;
    status = brn_gamma(&r.gamma, &c1, r.gamma_tilde, gamma_tilde_prev, opt->range_policy, opt->clamp_eps);
    if (status != BRN_OK) return status;
    status = brn_alpha(&r.alpha, &c2, r.gamma_tilde, opt->range_policy, opt->clamp_eps);
    if (status != BRN_OK) return status;
    r.gamma_tilde_prev = gamma_tilde_prev;
    r.clamped = (c1 || c2) ? 1 : 0;
    status = brn_update_scores(s, o, r.alpha, n * k, opt->score_update);
    if (status != BRN_OK) return status;
    *record = r;
    return BRN_OK;
}

/* ------------------------------------------------------------------------------------------- */

/* w_i = exp(e_i - max e) / sum_j exp(e_j - max e), for the exponents e (entries with e = -inf get 0). */
static int32_t normalise_exponents(double *w, int64_t n) {
    int64_t i;
    double emax = -INFINITY, sum = 0.0;
    for (i = 0; i < n; i++)
        if (w[i] > emax) emax = w[i];
    if (!isfinite(emax)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        w[i] = exp(w[i] - emax);
        sum += w[i];
    }
    for (i = 0; i < n; i++) w[i] /= sum; /* sum >= 1: the largest term is exp(0) */
    return BRN_OK;
}

int32_t brn_binary_weights(double *d, const int32_t *y, const double *o, double alpha, int64_t n) {
    int64_t i;
    if (d == NULL || y == NULL || n < 1 || n > BRN_MAX_COUNT || !isfinite(alpha))
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_binary_labels(y, n) || (o != NULL && !all_finite(o, n))) return BRN_ERR_INVALID_ARGUMENT;
    if (o == NULL) {
        for (i = 0; i < n; i++) d[i] = 1.0 / (double)n;
        return BRN_OK;
    }
    for (i = 0; i < n; i++) d[i] = -(double)y[i] * alpha * o[i];
    return normalise_exponents(d, n);
}

int32_t brn_binary_edge(double *gamma_tilde, const double *d, const int32_t *y,
                        const double *o_next, int64_t n) {
    int64_t i;
    double g = 0.0;
    if (gamma_tilde == NULL || d == NULL || y == NULL || o_next == NULL || n < 1 || n > BRN_MAX_COUNT)
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_binary_labels(y, n) || !all_finite(d, n) || !all_finite(o_next, n))
        return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) g += d[i] * (double)y[i] * o_next[i];
    if (!isfinite(g)) return BRN_ERR_INVALID_ARGUMENT;
    *gamma_tilde = g;
    return BRN_OK;
}

int32_t brn_weak_classifier(double *h, const double *o_next, double alpha_next,
                            const double *o_prev, double alpha_prev, int64_t count) {
    int64_t i;
    if (h == NULL || o_next == NULL || count < 1 || count > BRN_MAX_COUNT || !isfinite(alpha_next) ||
        !isfinite(alpha_prev))
        return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(o_next, count) || (o_prev != NULL && !all_finite(o_prev, count)))
        return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < count; i++)
        h[i] = alpha_next * o_next[i] - (o_prev != NULL ? alpha_prev * o_prev[i] : 0.0);
    return BRN_OK;
}

int32_t brn_binary_reweight(double *d_next, const double *d, const int32_t *y, const double *h,
                            int64_t n) {
    int64_t i;
    if (d_next == NULL || d == NULL || y == NULL || h == NULL || n < 1 || n > BRN_MAX_COUNT)
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_binary_labels(y, n) || !all_finite(d, n) || !all_finite(h, n)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++)
        if (d[i] < 0.0) return BRN_ERR_INVALID_ARGUMENT;
    /* Exponents log D_t(i) - y_i h_t(x_i); d_next may alias d, each entry is read before it is written. */
    for (i = 0; i < n; i++) d_next[i] = d[i] > 0.0 ? log(d[i]) - (double)y[i] * h[i] : -INFINITY;
    return normalise_exponents(d_next, n); /* all -inf (every weight 0) is an error */
}

int32_t brn_binary_log_loss(double *log_loss, const int32_t *y, const double *s, int64_t n) {
    int64_t i;
    double emax = -INFINITY, sum = 0.0;
    if (log_loss == NULL || y == NULL || s == NULL || n < 1 || n > BRN_MAX_COUNT)
        return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_binary_labels(y, n) || !all_finite(s, n)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++)
        if (-(double)y[i] * s[i] > emax) emax = -(double)y[i] * s[i];
    for (i = 0; i < n; i++) sum += exp(-(double)y[i] * s[i] - emax);
    *log_loss = emax + log(sum / (double)n);
    return BRN_OK;
}

/* ------------------------------------------------------------------------------------------- */

int32_t brn_train_another_chunk(double gamma, double gamma_thresh, int64_t check_every,
                                int64_t chunks_done, int64_t max_iters) {
    if (check_every < 1 || chunks_done < 0) return 0;
    if (chunks_done == 0) return 1;
    if (gamma >= gamma_thresh) return 0;            /* accepted; a NaN gamma fails this test */
    return chunks_done < max_iters / check_every || /* check_every * chunks_done < max_iters, */
           (chunks_done == max_iters / check_every && max_iters % check_every != 0); /* no overflow */
}

int32_t brn_add_another_block(double gamma, double gamma_thresh, int64_t rounds_done,
                              int64_t max_rounds) {
    if (rounds_done < 0 || rounds_done >= max_rounds) return 0;
    if (rounds_done == 0) return 1;
    return gamma > gamma_thresh ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------- */

int32_t brn_predict(int32_t *pred, const double *scores, int64_t n, int64_t k) {
    int64_t i, l;
    if (pred == NULL || scores == NULL || !valid_matrix(n, k, 1) || k > INT32_MAX) return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(scores, n * k)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        const double *row = scores + i * k;
        int64_t best = 0;
        for (l = 1; l < k; l++)
            if (row[l] > row[best]) best = l;
        pred[i] = (int32_t)best;
    }
    return BRN_OK;
}

int32_t brn_accuracy(double *accuracy, const double *scores, const int32_t *y, int64_t n,
                     int64_t k) {
    int64_t i, l, correct = 0;
    if (accuracy == NULL || scores == NULL || y == NULL || !valid_matrix(n, k, 1)) return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_labels(y, n, k) || !all_finite(scores, n * k)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        const double *row = scores + i * k;
        int64_t best = 0;
        for (l = 1; l < k; l++)
            if (row[l] > row[best]) best = l;
        if (best == y[i]) correct++;
    }
    *accuracy = (double)correct / (double)n;
    return BRN_OK;
}

int32_t brn_binary_predict(int32_t *pred, double *accuracy, const double *s, const int32_t *y,
                           int64_t n) {
    int64_t i, correct = 0;
    if (pred == NULL || s == NULL || n < 1 || n > BRN_MAX_COUNT || (accuracy != NULL && y == NULL))
        return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(s, n) || (y != NULL && !valid_binary_labels(y, n))) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        pred[i] = s[i] >= 0.0 ? 1 : -1;
        if (y != NULL && pred[i] == y[i]) correct++;
    }
    if (accuracy != NULL) *accuracy = (double)correct / (double)n;
    return BRN_OK;
}

int32_t brn_softmax_classes(double *o, const double *logits, int64_t n, int64_t k) {
    int64_t i, l;
    if (o == NULL || logits == NULL || !valid_matrix(n, k, 1)) return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(logits, n * k)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        const double *x = logits + i * k;
        double *p = o + i * k;
        double xmax = x[0], sum = 0.0;
        for (l = 1; l < k; l++)
            if (x[l] > xmax) xmax = x[l];
        for (l = 0; l < k; l++) {
            p[l] = exp(x[l] - xmax);
            sum += p[l];
        }
        for (l = 0; l < k; l++) p[l] /= sum;
    }
    return BRN_OK;
}

int32_t brn_softmax_batch(double *o, const double *logits, int64_t n, int64_t k, int64_t batch) {
    int64_t start, i, l;
    if (o == NULL || logits == NULL || !valid_matrix(n, k, 1) || batch < 1) return BRN_ERR_INVALID_ARGUMENT;
    if (!all_finite(logits, n * k)) return BRN_ERR_INVALID_ARGUMENT;
    for (start = 0; start < n; start += batch) {
        const int64_t end = (n - start > batch) ? start + batch : n;
        for (l = 0; l < k; l++) {
            double xmax = logits[start * k + l], sum = 0.0;
            for (i = start + 1; i < end; i++)
                if (logits[i * k + l] > xmax) xmax = logits[i * k + l];
            for (i = start; i < end; i++) {
                o[i * k + l] = exp(logits[i * k + l] - xmax);
                sum += o[i * k + l];
            }
            for (i = start; i < end; i++) o[i * k + l] /= sum;
        }
    }
    return BRN_OK;
}

/* ---- module losses ------------------------------------------------------------------------ */

static double capped_exp(double x, double cap, int *live) {
    *live = x < cap;
    return exp(*live ? x : cap);
}

int32_t brn_loss_exponential(double *loss, double *g, const float *z, const int32_t *y,
                             const double *cost, const int64_t *idx, double scale, int64_t n,
                             int64_t k, double cap) {
    int64_t i, l;
    double total = 0;
    if (loss == NULL || g == NULL || z == NULL || y == NULL || (cost != NULL && idx == NULL)) return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_matrix(n, k, 2) || !(cap > 0) || !valid_labels(y, n, k)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        double zy = z[i * k + y[i]], gy = 0;
        for (l = 0; l < k; l++) {
            double w, e;
            int live;
            if (l == y[i]) continue;
            w = cost != NULL ? cost[idx[i] * k + l] * scale : 1.0;
            e = capped_exp((double)z[i * k + l] - zy, cap, &live);
            total += w * e;
            g[i * k + l] = live ? w * e / (double)n : 0.0;
            gy -= g[i * k + l];
        }
        g[i * k + y[i]] = gy;
    }
    *loss = total / (double)n;
    return BRN_OK;
}

/* g <- dL/dz from g = dL/dq through q = Softmax(dim=0)(z): q_ij (g_ij - sum_r q_rj g_rj). */
static void batch_softmax_backward(double *g, const double *q, int64_t n, int64_t k) {
    int64_t i, l;
    for (l = 0; l < k; l++) {
        double dot = 0;
        for (i = 0; i < n; i++) dot += q[i * k + l] * g[i * k + l];
        for (i = 0; i < n; i++) g[i * k + l] = q[i * k + l] * (g[i * k + l] - dot);
    }
}

int32_t brn_loss_exp_mean_ce(double *loss, double *g, double *q, const float *z, const int32_t *y,
                             int64_t n, int64_t k, int32_t batch_softmax, double cap) {
    int64_t i, l;
    double mean = 0, value, factor;
    int live;
    if (loss == NULL || g == NULL || q == NULL || z == NULL || y == NULL) return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_matrix(n, k, 2) || !(cap > 0) || !valid_labels(y, n, k)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n * k; i++) q[i] = z[i];
    if (batch_softmax) brn_softmax_batch(q, q, n, k, n);
    for (i = 0; i < n; i++) { /* g holds the class softmax of q for now */
        double m = -INFINITY, sum = 0;
        for (l = 0; l < k; l++) m = q[i * k + l] > m ? q[i * k + l] : m;
        for (l = 0; l < k; l++) sum += (g[i * k + l] = exp(q[i * k + l] - m));
        for (l = 0; l < k; l++) g[i * k + l] /= sum;
        mean += m + log(sum) - q[i * k + y[i]];
    }
    mean /= (double)n;
    value = capped_exp(mean, cap, &live);
    factor = live ? value / (double)n : 0.0;
    for (i = 0; i < n; i++) {
        for (l = 0; l < k; l++) g[i * k + l] *= factor;
        g[i * k + y[i]] -= factor;
    }
    if (batch_softmax) batch_softmax_backward(g, q, n, k);
    *loss = value;
    return BRN_OK;
}

int32_t brn_loss_binary(double *loss, double *g, const float *z, const int32_t *y, int64_t n,
                        double cap) {
    int64_t i;
    double total = 0;
    if (loss == NULL || g == NULL || z == NULL || y == NULL) return BRN_ERR_INVALID_ARGUMENT;
    if (!valid_matrix(n, 2, 2) || !(cap > 0) || !valid_labels(y, n, 2)) return BRN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        double yi = y[i] == 1 ? 1.0 : -1.0, gz, e;
        int live;
        e = capped_exp(-yi * ((double)z[i * 2 + 1] - (double)z[i * 2]), cap, &live);
        total += e;
        gz = live ? -yi * e / (double)n : 0.0;
        g[i * 2 + 1] = gz;
        g[i * 2] = -gz;
    }
    *loss = total / (double)n;
    return BRN_OK;
}
