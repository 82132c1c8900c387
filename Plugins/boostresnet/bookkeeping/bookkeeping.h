/*
 * bookkeeping.h - the numerical bookkeeping of BoostResNet (Huang, Ash, Langford, Schapire,
 * "Learning Deep ResNet Blocks Sequentially using Boosting Theory", ICML 2018), in plain C99.
 *
 * Specification: docs/boostresnet.md. Section numbers below (§1.3, §5.2, ...) refer to it.
 *
 * What is here: the multi-class cost matrix and Z (§1.3), the edge gamma-tilde (§1.6), gamma and
 * alpha (§1.6), the score update s (§1.7, both options of §1.11), the binary Algorithm 1 weights,
 * edge and reweighting (§2), the stopping rules (§1.5, §6.6) and the prediction helpers (§1.9,
 * §5.1). No network code: the hypothesis module's outputs arrive as plain arrays.
 *
 * Conventions
 * - Outputs come first in every argument list, then inputs, then sizes, then options.
 * - Matrices are dense row-major double arrays: an N x K matrix `a` holds a[i*K + l].
 *   N = number of samples (n in the specification, m in the paper), K = number of classes.
 * - Labels: multi-class y[i] in [0, K); binary y[i] in {-1, +1}; both int32_t.
 * - Every computation is in double, whatever precision the network uses (§1.11).
 * - Every fallible function returns a status (BRN_OK or BRN_ERR_*), never aborts, never
 *   allocates, and writes its outputs only on success unless its comment says otherwise.
 *   The codes have the values of the Strata ABI's StrataStatus codes, so a plugin can return them
 *   unchanged (docs/abi.md).
 * - Optional outputs may be NULL where the comment says so.
 * - No global state: every function may be called from any thread concurrently.
 */
#ifndef BRN_BOOKKEEPING_H
#define BRN_BOOKKEEPING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes (values of STRATA_OK and STRATA_ERR_INVALID_ARGUMENT).
 * ------------------------------------------------------------------------------------------- */

/** Success. */
#define BRN_OK 0
/** A NULL where a pointer is required, a size < 1 (or K < 2), a label out of range, a non-finite
 *  input, an overflow in BRN_COST_PLAIN mode, or gamma-tilde outside (-1, 1) under
 *  BRN_RANGE_ERROR. */
#define BRN_ERR_INVALID_ARGUMENT 1

/** A static English sentence for a status code (never NULL). */
const char *brn_status_string(int32_t status);

/* ---------------------------------------------------------------------------------------------
 * Options: the paper's algorithm and the reference code's variants (§1.10, §1.11).
 * ------------------------------------------------------------------------------------------- */

/** Score update (§1.7). Telescoping (paper): s <- alpha_{t+1} o_{t+1}. Cumulative (reference code,
 *  whose telescoping bookkeeping is never updated): s <- s + alpha_{t+1} o_{t+1}. */
#define BRN_UPDATE_TELESCOPING 0
#define BRN_UPDATE_CUMULATIVE 1

/** What happens when gamma-tilde (or the previous gamma-tilde) is outside (-1 + eps, 1 - eps),
 *  where alpha = 1/2 ln((1+gt)/(1-gt)) is infinite or NaN and gamma divides by zero (§6.4).
 *  BRN_RANGE_CLAMP: clamp to [-1 + eps, 1 - eps] and report it through a `clamped` flag.
 *  BRN_RANGE_ERROR: return BRN_ERR_INVALID_ARGUMENT and write nothing. NaN is always an error. */
#define BRN_RANGE_CLAMP 0
#define BRN_RANGE_ERROR 1

/** The clamp margin eps of §6.4. */
#define BRN_CLAMP_EPS 1e-12

/** gamma-tilde before round 0: 0 in the paper's Algorithm 1, 0.5 (`gammaFirst`) in the code. */
#define BRN_GAMMA_FIRST_PAPER 0.0
#define BRN_GAMMA_FIRST_REFERENCE 0.5

/** The reference code's gamma threshold `gammaThresh` (§1.5, §3.3). */
#define BRN_GAMMA_THRESH_REFERENCE (-1e-4)

/** The bookkeeping switches of §1.11 that concern this file. */
typedef struct brn_options {
    int32_t score_update; /* BRN_UPDATE_TELESCOPING or BRN_UPDATE_CUMULATIVE */
    int32_t range_policy; /* BRN_RANGE_CLAMP or BRN_RANGE_ERROR */
    double gamma_first;   /* gamma-tilde before round 0 */
    double clamp_eps;     /* clamp margin, > 0 and < 1; BRN_CLAMP_EPS by default */
} brn_options;

/** The paper's algorithm (§1.11 defaults): telescoping s, gamma_first 0, clamping. */
brn_options brn_options_paper(void);
/** The reference code as it runs: cumulative s, gamma_first 0.5, clamping. */
brn_options brn_options_reference(void);

/* ---------------------------------------------------------------------------------------------
 * Multi-class (§1.3, §1.6, §1.7)
 * ------------------------------------------------------------------------------------------- */

/** How brn_cost_matrix scales the cost, with M = max over i and l != y_i of (s[i][l] - s[i][y_i]).
 *  BRN_COST_AUTO: the plain cost (scale m = 0) when -BRN_COST_AUTO_LIMIT <= M <= BRN_COST_AUTO_LIMIT,
 *    else the shifted cost (m = M). Exact values in ordinary cases; never overflows.
 *  BRN_COST_SHIFT_MAX: always m = M (§6.3); the largest off-label entry is then exactly 1.
 *  BRN_COST_PLAIN: always m = 0; BRN_ERR_INVALID_ARGUMENT when an entry or Z is not finite. */
#define BRN_COST_AUTO 0
#define BRN_COST_SHIFT_MAX 1
#define BRN_COST_PLAIN 2
#define BRN_COST_AUTO_LIMIT 600.0

/** Z and the scale of a cost matrix. The true cost is exp(log_scale) times the stored one. */
typedef struct brn_cost_info {
    double log_scale; /* m: stored cost = exp(-m) * true cost */
    double z_scaled;  /* sum_i sum_{l != y_i} stored cost[i][l] = exp(-m) * Z; > 0 */
    double log_z;     /* log Z = m + log(z_scaled); always finite */
    double z;         /* Z = exp(log_z); +inf when Z exceeds the double range (log_z stays exact) */
} brn_cost_info;

/** The cost matrix of §1.3 (AdaBoost.MM style) and Z.
 *    cost[i][l]   = exp(s[i][l] - s[i][y_i] - m)          for l != y_i
 *    cost[i][y_i] = -sum_{l != y_i} cost[i][l]            (every row sums to 0)
 *    Z            = sum_i sum_{l != y_i} exp(s[i][l] - s[i][y_i]) = exp(m) * info->z_scaled
 *  Shapes: cost N x K (written), s N x K, y N. N >= 1, K >= 2; s finite; `mode` as above.
 *  `info` may be NULL. Depends only on the differences s[i][l] - s[i][y_i]. */
int32_t brn_cost_matrix(double *cost, brn_cost_info *info, const double *s, const int32_t *y,
                        int64_t n, int64_t k, int32_t mode);

/** The edge gamma-tilde of a hypothesis module's outputs against a cost matrix (§1.6):
 *    gamma_tilde = -sum_i sum_l o[i][l] cost[i][l] / Z
 *                =  sum_i sum_{l != y_i} cost[i][l] (o[i][y_i] - o[i][l]) / Z   (computed this way)
 *  with Z = -sum_i cost[i][y_i], so any scale of the cost cancels. Shapes: o N x K, cost N x K
 *  (as written by brn_cost_matrix, rows summing to 0), y N. Within [-1, 1] when every o[i][l] is
 *  in [0, 1]; other outputs may give any finite value (see brn_alpha, brn_gamma). */
int32_t brn_edge(double *gamma_tilde, const double *o, const double *cost, const int32_t *y,
                 int64_t n, int64_t k);

/** gamma from the new and previous gamma-tilde (§1.6 step 3, §2 Algorithm 1 step 2.3):
 *    gamma^2 = (gt^2 - gt_prev^2) / (1 - gt_prev^2)
 *    gamma   = sqrt(gamma^2) if gamma^2 >= 0, else -sqrt(-gamma^2)   (signed, never NaN)
 *  The paper's gamma (Definition 4.1) is the non-negative root, defined when gamma^2 > 0; the sign
 *  encodes a failure of the weak-learning condition as the reference code does. gt and gt_prev
 *  outside (-1 + eps, 1 - eps) follow `range_policy` (eps = `clamp_eps`, BRN_CLAMP_EPS if <= 0).
 *  `clamped` (may be NULL) is set to 1 when either value was clamped, else 0. */
int32_t brn_gamma(double *gamma, int32_t *clamped, double gamma_tilde, double gamma_tilde_prev,
                  int32_t range_policy, double clamp_eps);

/** alpha from gamma-tilde (§1.6 step 4; the AdaBoost closed form used for binary too, §5.3):
 *    alpha = 1/2 ln((1 + gt) / (1 - gt))   (= atanh(gt))
 *  gt outside (-1 + eps, 1 - eps) follows `range_policy`; `clamped` may be NULL. alpha <= 0 when
 *  gt <= 0: the caller decides whether to add such a module (§6.4). */
int32_t brn_alpha(double *alpha, int32_t *clamped, double gamma_tilde, int32_t range_policy,
                  double clamp_eps);

/** The score update (§1.7), elementwise over `count` entries (N x K multi-class, N binary):
 *    BRN_UPDATE_TELESCOPING: s <- alpha * o        (paper: s_t = alpha_t o_t)
 *    BRN_UPDATE_CUMULATIVE:  s <- s + alpha * o    (reference code: s_t = sum_tau alpha_tau o_tau)
 *  The same rule keeps a test-set score s_test (§5.1). alpha and o finite; s updated in place. */
int32_t brn_update_scores(double *s, const double *o, double alpha, int64_t count, int32_t mode);

/** gamma of the accuracy rule (`gamma_rule: "accuracy"`, §1.12), exactly as the reference's full
 *  training listing prints it, from the module's training accuracy a and the previous one:
 *    gamma = (a - a_prev) / (1 - a)
 *  a_prev is 0 before round 0 and is replaced by a after every check, passed or not. a and a_prev
 *  must lie in [0, 1]; a above 1 - eps (eps = `clamp_eps`, BRN_CLAMP_EPS if <= 0) follows
 *  `range_policy` (the reference divides by zero at a = 1); `clamped` may be NULL. */
int32_t brn_gamma_accuracy(double *gamma, int32_t *clamped, double accuracy, double accuracy_prev,
                           int32_t range_policy, double clamp_eps);

/** The score update of the accuracy rule (§1.12): s <- s + log(o), elementwise over `count`
 *  entries (N x K). o must be finite and in (0, 1]; an entry below DBL_MIN (a softmax that
 *  underflowed) is taken as DBL_MIN, so s stays finite, and `floored` (may be NULL) reports how
 *  many were. */
int32_t brn_update_scores_log(double *s, int64_t *floored, const double *o, int64_t count);

/** One round's bookkeeping, as §1.2 orders it. */
typedef struct brn_round_record {
    brn_cost_info cost;      /* Z of the cost built from s before the update */
    double gamma_tilde_prev; /* gt_t */
    double gamma_tilde;      /* gt_{t+1}: the module's edge */
    double gamma;            /* signed gamma_t */
    double alpha;            /* alpha_{t+1} */
    int32_t clamped;         /* 1 when gamma or alpha needed the clamp */
} brn_round_record;

/** A whole multi-class round: cost and Z from s (BRN_COST_AUTO, written into `cost`, N x K), the
 *  edge of o (N x K), gamma against gamma_tilde_prev, alpha, then s (N x K) updated in place by
 *  opt->score_update. The next round's gamma_tilde_prev is record->gamma_tilde (gamma_first
 *  before round 0). On error neither s nor the record is changed (`cost` may be). */
int32_t brn_multiclass_round(brn_round_record *record, double *s, double *cost, const double *o,
                             const int32_t *y, int64_t n, int64_t k, double gamma_tilde_prev,
                             const brn_options *opt);

/* ---------------------------------------------------------------------------------------------
 * Binary, Algorithm 1 (§2, §5.3). o_t(x) in [-1, 1], y in {-1, +1}.
 * ------------------------------------------------------------------------------------------- */

/** The telescoped sample weights D_t(i) = exp(-y_i alpha_t o_t(x_i)) / sum_j exp(-y_j alpha_t o_t(x_j))
 *  (computed with the largest exponent subtracted, so they never overflow). o may be NULL for
 *  o_0 = 0, giving D_0(i) = 1/N. Shapes: d N (written), y N, o N. */
int32_t brn_binary_weights(double *d, const int32_t *y, const double *o, double alpha, int64_t n);

/** The binary edge gamma-tilde_{t+1} = sum_i D_t(i) y_i o_{t+1}(x_i) (Algorithm 1 step 2.2).
 *  Shapes: d N (the weights, summing to 1), y N, o_next N. */
int32_t brn_binary_edge(double *gamma_tilde, const double *d, const int32_t *y,
                        const double *o_next, int64_t n);

/** The weak module classifier h_t = alpha_{t+1} o_{t+1} - alpha_t o_t (§0, §2). o_prev may be
 *  NULL for o_0 = 0. Shapes: h, o_next, o_prev count entries (N binary, N x K multi-class). */
int32_t brn_weak_classifier(double *h, const double *o_next, double alpha_next,
                            const double *o_prev, double alpha_prev, int64_t count);

/** The reweighting D_{t+1}(i) proportional to D_t(i) exp(-y_i h_t(x_i)), normalised to sum 1
 *  (Algorithm 1 step 2.4), computed in the log domain with the largest exponent subtracted. A zero
 *  weight stays zero. Equals brn_binary_weights(alpha_{t+1}, o_{t+1}) by the telescoping
 *  identity. Shapes: d_next N (written; may alias d), d N (>= 0, not all 0), y N, h N. */
int32_t brn_binary_reweight(double *d_next, const double *d, const int32_t *y, const double *h,
                            int64_t n);

/** The binary exponential loss of a score, as a logarithm so it never overflows:
 *    log_loss = log( (1/N) sum_i exp(-y_i s_i) ).  Shapes: y N, s N. */
int32_t brn_binary_log_loss(double *log_loss, const int32_t *y, const double *s, int64_t n);

/* ---------------------------------------------------------------------------------------------
 * Stopping rules (§1.5, §6.5, §6.6). Pure functions of their arguments.
 * ------------------------------------------------------------------------------------------- */

/** The reference code's per-block rule: train another chunk of `check_every` steps while
 *    gamma < gamma_thresh  and  check_every * chunks_done < max_iters.
 *  The first chunk always runs (chunks_done == 0; the code starts from gamma = -1). A NaN gamma
 *  counts as below the threshold. Returns 1 to train another chunk, 0 to stop; 0 when
 *  check_every < 1 or chunks_done < 0. With check_every == max_iters (the defaults) a block always
 *  gets exactly one chunk. */
int32_t brn_train_another_chunk(double gamma, double gamma_thresh, int64_t check_every,
                                int64_t chunks_done, int64_t max_iters);

/** The paper's adaptive depth (Algorithm 1's loop test): add another block while
 *    gamma_t > gamma_thresh  and  rounds_done < max_rounds.
 *  The first round always runs (rounds_done == 0); a NaN gamma stops. Returns 1 or 0.
 *  gamma_thresh = -INFINITY with max_rounds = number of modules gives the code's fixed depth. */
int32_t brn_add_another_block(double gamma, double gamma_thresh, int64_t rounds_done,
                              int64_t max_rounds);

/* ---------------------------------------------------------------------------------------------
 * Prediction (§1.9, §5.1) and the hypothesis module's normalisation (§1.4, §1.11)
 * ------------------------------------------------------------------------------------------- */

/** pred[i] = argmax_l scores[i][l], the first index on ties (as numpy.argmax). Used on the
 *  ensemble score s (trainAccEnsemble, testAccEnsemble) and on the final module's output
 *  o_{T+1}, which by Lemma 3.2 is the boosted ensemble. Shapes: pred N, scores N x K (finite). */
int32_t brn_predict(int32_t *pred, const double *scores, int64_t n, int64_t k);

/** accuracy = (1/N) #{i : argmax_l scores[i][l] == y_i}. Shapes: scores N x K, y N. */
int32_t brn_accuracy(double *accuracy, const double *scores, const int32_t *y, int64_t n,
                     int64_t k);

/** Binary prediction pred[i] = +1 if s[i] >= 0 else -1, and `accuracy` (may be NULL) against y
 *  (may be NULL only if accuracy is NULL). Shapes: pred N, s N, y N. */
int32_t brn_binary_predict(int32_t *pred, double *accuracy, const double *s, const int32_t *y,
                           int64_t n);

/** Softmax over classes (the paper's o, `hypothesisSoftmax: .classes`): every row of o sums to 1.
 *  Shapes: o N x K (written; may alias logits), logits N x K (finite). Max-shifted. */
int32_t brn_softmax_classes(double *o, const double *logits, int64_t n, int64_t k);

/** Softmax over the batch (the reference code's Softmax(dim=0), `.batch`, for reproduction only):
 *  every column of each block of `batch` consecutive rows sums to 1 (the last block may be
 *  shorter). Shapes: o N x K (written; may alias logits), logits N x K. batch >= 1. */
int32_t brn_softmax_batch(double *o, const double *logits, int64_t n, int64_t k, int64_t batch);

/* ---------------------------------------------------------------------------------------------
 * Module losses and their gradients (§1.5, §2 Eq. 6, §1.10), in double on float32 logits.
 *
 * z: N x K logits of the hypothesis module (the auxiliary classifier's output), y: labels in
 * [0, K). Each writes the mean loss over the N rows to *loss and dLoss/dz (N x K) to g. Every
 * exponential is exp(min(x, cap)) so values and gradients stay finite; beyond the cap a term's
 * gradient is 0 (cap > 0).
 * ------------------------------------------------------------------------------------------- */

/** The multi-class exponential loss: L = mean_i sum_{l != y_i} w_il exp(z_il - z_iy_i), the
 *  paper's oracle with alpha absorbed into the classifier's scale (on logits it equals
 *  exp(CE_i) - 1). Weights: w = 1 when `cost` is NULL (telescoping); otherwise
 *  w_il = scale * cost[idx[i] * K + l], the round's cost matrix row of example idx[i] (cumulative
 *  scores, the cost-weighted AdaBoost.MM form; `idx` then required). */
int32_t brn_loss_exponential(double *loss, double *g, const float *z, const int32_t *y,
                             const double *cost, const int64_t *idx, double scale, int64_t n,
                             int64_t k, double cap);

/** The reference code's loss: L = exp(min(mean_i CE_i(q), cap)) with q = z (`batch_softmax` 0)
 *  or q = the softmax of z over the rows, per column (`batch_softmax` 1: the reference's
 *  Softmax(dim=0) over this batch), CE_i the cross-entropy of the class softmax of q_i.
 *  `q` is N x K scratch (written). */
int32_t brn_loss_exp_mean_ce(double *loss, double *g, double *q, const float *z, const int32_t *y,
                             int64_t n, int64_t k, int32_t batch_softmax, double cap);

/** The binary exponential loss of Algorithm 2 / Eq. 6: L = mean_i exp(-y_i (z_i1 - z_i0)) with
 *  y_i = +1 for label 1 and -1 for label 0; z is N x 2, labels in {0, 1}. */
int32_t brn_loss_binary(double *loss, double *g, const float *z, const int32_t *y, int64_t n,
                        double cap);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRN_BOOKKEEPING_H */
