/*
 * data.c - the data side of BoostResNet: the data sets (training split in file order for
 * evaluation passes, shuffled and possibly augmented for training without a cache; the test
 * split), the targets of both splits, and the frozen-feature cache of docs/boostresnet.md
 * §6.7: when the recipe does not augment and frozen modules run in evaluation mode, the input
 * of the current module's first child is stored for every example (float32, or float16 with
 * cache_dtype; in host-allocated memory) and advanced past each trained module after its
 * round, so frozen modules never run again; the module's outputs for the next cache are taken
 * from the round's own evaluations where possible ("capturing", below).
 * Training batches then come from the cache by a seeded Fisher-Yates permutation, a new one
 * per pass over the data; evaluation passes read it in contiguous file-order batches.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "brn_plugin.h"

/* ---- float16 conversion --------------------------------------------------------------------- */

#if !defined(__F16C__)
/* IEEE binary16 <-> binary32, round to nearest even (for targets without F16C). */
static uint16_t half_from_float(float f) {
    uint32_t x, sign, mant;
    int32_t exp;
    memcpy(&x, &f, sizeof x);
    sign = (x >> 16) & 0x8000u;
    exp = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    mant = x & 0x7FFFFFu;
    if (((x >> 23) & 0xFF) == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7C00u);
    if (exp <= 0) {
        uint32_t shift, half, rest;
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        shift = (uint32_t)(14 - exp);
        half = mant >> shift;
        rest = mant & ((1u << shift) - 1);
        if (rest > (1u << (shift - 1)) || (rest == (1u << (shift - 1)) && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    {
        uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) h++; /* may carry into inf: right */
        return (uint16_t)h;
    }
}

static float float_from_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FFu, x;
    float f;
    if (exp == 0) {
        f = ldexpf((float)mant, -24);
        return sign ? -f : f;
    }
    x = exp == 31 ? sign | 0x7F800000u | (mant << 13) : sign | ((exp - 15 + 127) << 23) | (mant << 13);
    memcpy(&f, &x, sizeof f);
    return f;
}
#endif

/* The largest magnitude that rounds to float16's 65504; beyond it a value becomes infinite. */
#define BRN_HALF_LIMIT 65519.99f

/* dst[i] = float16(src[i]); 0 when a value is beyond BRN_HALF_LIMIT (infinities included). */
static int to_half(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    int ok = 1;
#if defined(__F16C__)
    const __m256 limit = _mm256_set1_ps(BRN_HALF_LIMIT);
    __m256 over = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(src + i);
        over = _mm256_or_ps(over, _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), v), limit, _CMP_GT_OQ));
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
    ok = _mm256_movemask_ps(over) == 0;
    for (; i < n; i++) {
        __m128 v = _mm_set_ss(src[i]);
        dst[i] = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT), 0);
        if (fabsf(src[i]) > BRN_HALF_LIMIT) ok = 0;
    }
#else
    for (; i < n; i++) {
        dst[i] = half_from_float(src[i]);
        if (fabsf(src[i]) > BRN_HALF_LIMIT) ok = 0;
    }
#endif
    return ok;
}

static void from_half(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(src[i])));
#else
    for (; i < n; i++) dst[i] = float_from_half(src[i]);
#endif
}

/* ---- the cache's storage ---------------------------------------------------------------------- */

static int64_t cache_value_bytes(const brn_ctx *c) { return c->cfg->cache_half ? 2 : 4; }

/* Writes `n` values of `src` at value offset `at` of the cache. */
static StrataStatus cache_put(brn_ctx *c, StrataTensor *cache, int64_t at, const float *src, int64_t n) {
    if (!c->cfg->cache_half) {
        memmove((float *)cache->data + at, src, (size_t)n * sizeof(float));
        return STRATA_OK;
    }
    if (!to_half((uint16_t *)cache->data + at, src, n))
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "a feature value exceeds float16's range "
                        "(65504); use the scheme option cache_dtype \"float32\"");
    return STRATA_OK;
}

/* Reads `n` values at value offset `at` of the cache into `dst` as float32. */
static void cache_get(const brn_ctx *c, const StrataTensor *cache, int64_t at, float *dst, int64_t n) {
    if (!c->cfg->cache_half) memmove(dst, (const float *)cache->data + at, (size_t)n * sizeof(float));
    else from_half(dst, (const uint16_t *)cache->data + at, n);
}

/* `count` examples from example `first` of a cache as a float32 view: the cache itself when it
 * holds float32, else their conversion in the gather buffer. */
static const StrataTensor *cache_rows(brn_ctx *c, const StrataTensor *cache, int64_t first, int64_t count) {
    if (!c->cfg->cache_half) return brn_make_view(c, (float *)cache->data + first * c->feat_elems, count);
    cache_get(c, cache, first * c->feat_elems, (float *)c->gather->data, count * c->feat_elems);
    return brn_make_view(c, (float *)c->gather->data, count);
}

const StrataTensor *brn_dense_view(StrataTensor *t, int64_t *shape, int64_t *strides, float *data,
                                   int32_t ndim) {
    int32_t d;
    int64_t stride = 1;
    for (d = ndim - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d];
    }
    memset(t, 0, sizeof *t);
    t->data = data;
    t->device_type = STRATA_DEVICE_CPU;
    t->dtype.code = STRATA_DTYPE_FLOAT;
    t->dtype.bits = 32;
    t->dtype.lanes = 1;
    t->ndim = ndim;
    t->shape = shape;
    t->strides = strides;
    t->flags = STRATA_TENSOR_READ_ONLY;
    return t;
}

const StrataTensor *brn_make_view(brn_ctx *c, float *data, int64_t count) {
    int32_t d;
    c->view_shape[0] = count;
    for (d = 1; d < c->feat_ndim; d++) c->view_shape[d] = c->feat_shape[d];
    return brn_dense_view(&c->view, c->view_shape, c->view_strides, data, c->feat_ndim);
}

/* Sets feat_* to the input (which 0) or output (which 1) of child `index`. */
static StrataStatus set_feature_shape(brn_ctx *c, int32_t index, int32_t which) {
    int32_t d, ndim = 0;
    int64_t shape[STRATA_MAX_NDIM];
    BRN_TRY(c, c->train->model_child_shape(c->net, index, which, &ndim, shape, brn_herr(c)),
            "model_child_shape");
    if (ndim < 1) return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "child %d has a rank-0 shape", (int)index);
    c->feat_ndim = ndim;
    c->feat_elems = 1;
    for (d = 0; d < ndim; d++) c->feat_shape[d] = shape[d];
    for (d = 1; d < ndim; d++) c->feat_elems *= shape[d];
    return STRATA_OK;
}

static int64_t cache_budget(brn_ctx *c) { return c->cfg->cache_mb * (int64_t)1048576; }

static int64_t cache_need(brn_ctx *c, int64_t elems) {
    int64_t n = c->n_train + (c->cfg->eval_test ? c->n_test : 0);
    return n * elems * cache_value_bytes(c);
}

/* A cache for `values` values of its element type (host memory, float32 words). */
static StrataStatus alloc_cache(brn_ctx *c, int64_t values, StrataTensor **out) {
    int64_t shape[1];
    shape[0] = c->cfg->cache_half ? (values + 1) / 2 : values;
    BRN_TRY(c, c->host->tensor_alloc(c->host->host_ctx, 1, shape, out, brn_herr(c)),
            "tensor_alloc (feature cache)");
    return STRATA_OK;
}

/* The float32 buffer of one batch of the current features (shuffled training batches, and
 * float16 caches' conversions). */
static StrataStatus ensure_gather(brn_ctx *c) {
    int64_t shape[1];
    if (c->gather_cap >= c->batch * c->feat_elems) return STRATA_OK;
    c->host->tensor_release(c->host->host_ctx, c->gather);
    c->gather = NULL;
    c->gather_cap = 0;
    shape[0] = c->batch * c->feat_elems;
    BRN_TRY(c, c->host->tensor_alloc(c->host->host_ctx, 1, shape, &c->gather, brn_herr(c)),
            "tensor_alloc (batch gather buffer)");
    c->gather_cap = shape[0];
    return STRATA_OK;
}

static StrataStatus open_fit_dataset(brn_ctx *c) {
    uint64_t flags = STRATA_DATASET_SHUFFLE | (c->augment ? STRATA_DATASET_AUGMENT : 0);
    if (c->ds_train_fit != NULL) return STRATA_OK;
    BRN_TRY(c, c->train->dataset_open(c->run, STRATA_SPLIT_TRAIN, (int32_t)c->batch, flags,
                                      &c->ds_train_fit, brn_herr(c)),
            "dataset_open (training split, shuffled)");
    return STRATA_OK;
}

static StrataStatus check_classes(brn_ctx *c) {
    int32_t found = c->train->dataset_class_count(c->ds_train_eval);
    if (c->cfg->binary && found != 2)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "Algorithm 1 is binary, but the data set has %d classes; select two with "
                        "the recipe's data.classes", (int)found);
    if (found != c->classes)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH,
                        "the network outputs %d classes, the data set has %d", (int)c->classes,
                        (int)found);
    return STRATA_OK;
}

static StrataStatus plan_cache(brn_ctx *c) {
    int want = !c->augment && !c->cfg->frozen_bn_train && c->cfg->cache_mb > 0;
    BRN_PROPAGATE(set_feature_shape(c, 0, 0));
    c->cache_child = 0;
    if (want && cache_need(c, c->feat_elems) <= cache_budget(c)) {
        BRN_PROPAGATE(alloc_cache(c, c->n_train * c->feat_elems, &c->cache_train));
        c->cache_cap_train = c->n_train * c->feat_elems;
        if (c->cfg->eval_test) {
            BRN_PROPAGATE(alloc_cache(c, c->n_test * c->feat_elems, &c->cache_test));
            c->cache_cap_test = c->n_test * c->feat_elems;
        }
        c->use_cache = 1;
        c->cache_bytes = cache_need(c, c->feat_elems);
        return ensure_gather(c);
    }
    if (want)
        brn_log(c, STRATA_LOG_INFO, "%s: the inputs need %lld MB, more than cache_mb = %lld; "
                "running without a feature cache", c->scheme_name,
                (long long)(cache_need(c, c->feat_elems) >> 20), (long long)c->cfg->cache_mb);
    if (c->cfg->sampling != BRN_SAMPLING_EPOCHS)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "option \"sampling\": drawing with replacement "
                        "needs the feature cache (no augmentation, frozen_bn \"eval\", cache_mb large "
                        "enough); use \"epochs\" here");
    return open_fit_dataset(c);
}

StrataStatus brn_open_data(brn_ctx *c) {
    int64_t i, b = c->batch;
    BRN_TRY(c, c->train->dataset_open(c->run, STRATA_SPLIT_TRAIN, (int32_t)b, 0, &c->ds_train_eval,
                                      brn_herr(c)), "dataset_open (training split)");
    c->n_train = c->train->dataset_size(c->ds_train_eval);
    if (c->n_train < 1) return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "the training split is empty");
    BRN_PROPAGATE(check_classes(c));
    if (c->cfg->eval_test) {
        BRN_TRY(c, c->train->dataset_open(c->run, STRATA_SPLIT_TEST, (int32_t)b, 0, &c->ds_test,
                                          brn_herr(c)),
                "dataset_open (test split; set eval_test to false for data without one)");
        c->n_test = c->train->dataset_size(c->ds_test);
        if (c->n_test < 1) return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "the test split is empty");
    }
    c->y_train = (int32_t *)calloc((size_t)c->n_train, sizeof(int32_t));
    c->ypm_train = (int32_t *)calloc((size_t)c->n_train, sizeof(int32_t));
    c->y_test = (int32_t *)calloc((size_t)(c->n_test > 0 ? c->n_test : 1), sizeof(int32_t));
    c->ypm_test = (int32_t *)calloc((size_t)(c->n_test > 0 ? c->n_test : 1), sizeof(int32_t));
    c->perm = (int64_t *)malloc((size_t)c->n_train * sizeof(int64_t));
    c->batch_targets = (int32_t *)malloc((size_t)b * sizeof(int32_t));
    c->batch_indices = (int64_t *)malloc((size_t)b * sizeof(int64_t));
    if (!c->y_train || !c->ypm_train || !c->y_test || !c->ypm_test || !c->perm ||
        !c->batch_targets || !c->batch_indices)
        return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot allocate the targets");
    for (i = 0; i < c->n_train; i++) c->perm[i] = i;
    c->rng = c->seed ^ 0x42524E5F53454544ull; /* "BRN_SEED" */
    return plan_cache(c);
}

/* ---- loading ------------------------------------------------------------------------------ */

static StrataStatus copy_batch(brn_ctx *c, const StrataBatch *batch, int32_t *y, int64_t n,
                               StrataTensor *cache) {
    const StrataTensor *t = batch->targets;
    const int32_t *targets;
    int64_t r;
    if (t == NULL || t->dtype.code != STRATA_DTYPE_INT || t->dtype.bits != 32 || t->ndim != 1 ||
        t->shape[0] != batch->count || (t->strides[0] != 1 && batch->count > 1))
        return brn_fail(c, STRATA_ERR_UNSUPPORTED, "the data set's targets are not int32 class "
                        "indices [N]");
    targets = (const int32_t *)((const char *)t->data + t->byte_offset);
    if (cache != NULL && brn_tensor_count(batch->inputs) != batch->count * c->feat_elems)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "a batch's inputs are not dense float32 "
                        "with %lld values per example", (long long)c->feat_elems);
    for (r = 0; r < batch->count; r++) {
        int64_t i = batch->indices[r];
        if (i < 0 || i >= n || targets[r] < 0 || targets[r] >= c->classes)
            return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "example %lld has index or target "
                            "out of range (target %d, %d classes)", (long long)i,
                            (int)targets[r], (int)c->classes);
        y[i] = targets[r];
        if (cache != NULL)
            BRN_PROPAGATE(cache_put(c, cache, i * c->feat_elems,
                                    (const float *)((const char *)batch->inputs->data +
                                                    batch->inputs->byte_offset) + r * c->feat_elems,
                                    c->feat_elems));
    }
    return STRATA_OK;
}

static StrataStatus load_split(brn_ctx *c, StrataDataset *ds, int32_t *y, int32_t *ypm, int64_t n,
                               StrataTensor *cache) {
    StrataBatch batch = STRATA_BATCH_INIT;
    int64_t i;
    BRN_TRY(c, c->train->dataset_reset(ds, brn_herr(c)), "dataset_reset");
    for (;;) {
        BRN_TRY(c, c->train->dataset_next(ds, &batch, brn_herr(c)), "dataset_next");
        if (batch.count == 0) break;
        BRN_PROPAGATE(copy_batch(c, &batch, y, n, cache));
    }
    for (i = 0; i < n; i++) ypm[i] = y[i] == 1 ? 1 : -1;
    return STRATA_OK;
}

StrataStatus brn_load_targets_and_cache(brn_ctx *c) {
    BRN_PROPAGATE(load_split(c, c->ds_train_eval, c->y_train, c->ypm_train, c->n_train,
                             c->use_cache ? c->cache_train : NULL));
    if (c->cfg->eval_test)
        BRN_PROPAGATE(load_split(c, c->ds_test, c->y_test, c->ypm_test, c->n_test,
                                 c->use_cache ? c->cache_test : NULL));
    return STRATA_OK;
}

/* ---- per round -------------------------------------------------------------------------- */

StrataStatus brn_round_data_begin(brn_ctx *c, int32_t t) {
    int32_t d;
    if (!c->use_cache) return open_fit_dataset(c);
    if (c->cache_child != c->modules[t].begin)
        return brn_fail(c, STRATA_ERR_INTERNAL, "the feature cache holds the input of child %d, "
                        "the module begins at %d", (int)c->cache_child, (int)c->modules[t].begin);
    c->perm_pos = c->n_train; /* a fresh permutation for the round's first pass */
    /* The module's output, for capturing it as the next cache (below). */
    BRN_TRY(c, c->train->model_child_shape(c->net, c->modules[t].end - 1, 1, &c->next_ndim, c->next_shape,
                                           brn_herr(c)), "model_child_shape (module output)");
    c->next_elems = 1;
    for (d = 1; d < c->next_ndim; d++) c->next_elems *= c->next_shape[d];
    for (d = 0; d < 2; d++) c->capture[d].ready = c->capture[d].in_place = 0;
    return ensure_gather(c);
}

void brn_round_data_end(brn_ctx *c) { (void)c; }

static StrataStatus next_cached_batch(brn_ctx *c, const StrataTensor **x, int64_t *count) {
    int64_t r, n;
    float *dst = (float *)c->gather->data;
    if (c->cfg->sampling != BRN_SAMPLING_EPOCHS) { /* §6.9: B independent uniform draws */
        int64_t lo = c->cfg->sampling == BRN_SAMPLING_REFERENCE ? 1 : 0, span = c->n_train - lo;
        if (span < 1) return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "option \"sampling\": \"reference\" "
                                      "never draws example 0 and needs at least 2 training examples");
        for (r = 0; r < c->batch; r++) {
            int64_t i = lo + (int64_t)(brn_rand_next(&c->rng) % (uint64_t)span);
            cache_get(c, c->cache_train, i * c->feat_elems, dst + r * c->feat_elems, c->feat_elems);
            c->batch_targets[r] = c->y_train[i];
            c->batch_indices[r] = i;
        }
        *x = brn_make_view(c, dst, c->batch);
        *count = c->batch;
        return STRATA_OK;
    }
    if (c->perm_pos >= c->n_train) {
        brn_shuffle(c->perm, c->n_train, &c->rng);
        c->perm_pos = 0;
    }
    n = c->n_train - c->perm_pos < c->batch ? c->n_train - c->perm_pos : c->batch;
    for (r = 0; r < n; r++) {
        int64_t i = c->perm[c->perm_pos + r];
        cache_get(c, c->cache_train, i * c->feat_elems, dst + r * c->feat_elems, c->feat_elems);
        c->batch_targets[r] = c->y_train[i];
        c->batch_indices[r] = i;
    }
    c->perm_pos += n;
    *x = brn_make_view(c, dst, n);
    *count = n;
    return STRATA_OK;
}

static StrataStatus next_dataset_batch(brn_ctx *c, int32_t b, const StrataTensor **x, int64_t *count) {
    StrataBatch batch = STRATA_BATCH_INIT;
    int64_t r;
    BRN_PROPAGATE(open_fit_dataset(c));
    BRN_TRY(c, c->train->dataset_next(c->ds_train_fit, &batch, brn_herr(c)), "dataset_next");
    if (batch.count == 0) {
        BRN_TRY(c, c->train->dataset_reset(c->ds_train_fit, brn_herr(c)), "dataset_reset");
        BRN_TRY(c, c->train->dataset_next(c->ds_train_fit, &batch, brn_herr(c)), "dataset_next");
        if (batch.count == 0) return brn_fail(c, STRATA_ERR_INTERNAL, "dataset_next gave no batch after a reset");
    }
    for (r = 0; r < batch.count; r++) {
        int64_t i = batch.indices[r];
        if (i < 0 || i >= c->n_train) return brn_fail(c, STRATA_ERR_INTERNAL, "example index %lld out of range", (long long)i);
        c->batch_targets[r] = c->y_train[i];
        c->batch_indices[r] = i;
    }
    *x = batch.inputs;
    *count = batch.count;
    if (b > 0)
        BRN_TRY(c, c->train->model_forward(c->net, 0, b, batch.inputs, c->cfg->frozen_bn_train ? 1 : 0,
                                           x, brn_herr(c)), "model_forward (frozen modules)");
    return STRATA_OK;
}

StrataStatus brn_next_train_batch(brn_ctx *c, int32_t b, const StrataTensor **x,
                                  const int32_t **targets, const int64_t **indices,
                                  int64_t *count) {
    *targets = c->batch_targets;
    *indices = c->batch_indices;
    if (c->use_cache) return next_cached_batch(c, x, count);
    if (c->cfg->sampling != BRN_SAMPLING_EPOCHS)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT, "option \"sampling\": drawing with replacement "
                        "needs the feature cache (no augmentation, frozen_bn \"eval\", cache_mb large "
                        "enough); use \"epochs\" here");
    return next_dataset_batch(c, b, x, count);
}

StrataStatus brn_for_each_eval_batch(brn_ctx *c, int32_t split, int32_t b, brn_batch_fn fn,
                                     void *arg) {
    StrataDataset *ds = split == STRATA_SPLIT_TRAIN ? c->ds_train_eval : c->ds_test;
    if (c->use_cache) {
        StrataTensor *cache = split == STRATA_SPLIT_TRAIN ? c->cache_train : c->cache_test;
        int64_t pos, r, n = split == STRATA_SPLIT_TRAIN ? c->n_train : c->n_test;
        for (pos = 0; pos < n; pos += c->batch) {
            int64_t count = n - pos < c->batch ? n - pos : c->batch;
            for (r = 0; r < count; r++) c->batch_indices[r] = pos + r;
            BRN_PROPAGATE(fn(c, cache_rows(c, cache, pos, count), c->batch_indices, count, arg));
        }
        return STRATA_OK;
    }
    BRN_TRY(c, c->train->dataset_reset(ds, brn_herr(c)), "dataset_reset");
    for (;;) {
        StrataBatch batch = STRATA_BATCH_INIT;
        const StrataTensor *x = NULL;
        BRN_TRY(c, c->train->dataset_next(ds, &batch, brn_herr(c)), "dataset_next");
        if (batch.count == 0) break;
        x = batch.inputs;
        if (b > 0)
            BRN_TRY(c, c->train->model_forward(c->net, 0, b, batch.inputs, 0, &x, brn_herr(c)),
                    "model_forward (frozen modules, evaluation)");
        BRN_PROPAGATE(fn(c, x, batch.indices, batch.count, arg));
    }
    return STRATA_OK;
}

/* ---- advancing the cache ------------------------------------------------------------------ */

void brn_drop_cache(brn_ctx *c, const char *why) {
    if (!c->use_cache) return;
    brn_capture_release(c);
    c->host->tensor_release(c->host->host_ctx, c->cache_train);
    c->host->tensor_release(c->host->host_ctx, c->cache_test);
    c->cache_train = c->cache_test = NULL;
    c->cache_cap_train = c->cache_cap_test = 0;
    c->use_cache = 0;
    c->cache_bytes = 0;
    brn_log(c, STRATA_LOG_INFO, "%s: feature cache dropped (%s); later rounds run the frozen "
            "modules on every batch", c->scheme_name, why);
}

/* Runs [b, e) in evaluation mode over one split's cache `src`, writing into `dst`, which may be
 * `src`: then batches go in the order that never overwrites a row not yet read (first to last
 * when a row shrinks or keeps its size, last to first when it grows). */
static StrataStatus advance_split(brn_ctx *c, int32_t b, int32_t e, const StrataTensor *src,
                                  StrataTensor *dst, int64_t n, int64_t out_elems) {
    int64_t k, batches = (n + c->batch - 1) / c->batch;
    int backwards = src == dst && out_elems > c->feat_elems;
    for (k = 0; k < batches; k++) {
        int64_t pos = (backwards ? batches - 1 - k : k) * c->batch;
        int64_t count = n - pos < c->batch ? n - pos : c->batch;
        const StrataTensor *out = NULL;
        BRN_TRY(c, c->train->model_forward(c->net, b, e, cache_rows(c, src, pos, count), 0, &out, brn_herr(c)),
                "model_forward (advancing the feature cache)");
        if (brn_tensor_count(out) != count * out_elems)
            return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "the module's output is not dense "
                            "float32 with %lld values per example", (long long)out_elems);
        BRN_PROPAGATE(cache_put(c, dst, pos * out_elems,
                                (const float *)((const char *)out->data + out->byte_offset), count * out_elems));
    }
    return STRATA_OK;
}

static StrataStatus advance_one(brn_ctx *c, int32_t b, int32_t e, StrataTensor **cache,
                                int64_t *cap, int64_t n, int64_t out_elems) {
    StrataTensor *fresh = NULL;
    StrataStatus status;
    if (*cache == NULL) return STRATA_OK;
    if (n * out_elems <= *cap) return advance_split(c, b, e, *cache, *cache, n, out_elems);
    BRN_PROPAGATE(alloc_cache(c, n * out_elems, &fresh));
    status = advance_split(c, b, e, *cache, fresh, n, out_elems);
    c->host->tensor_release(c->host->host_ctx, *cache);
    *cache = fresh;
    *cap = n * out_elems;
    return status;
}

/* ---- capturing the next cache during the round's evaluations ------------------------------
 *
 * After its last training step a module is evaluated on both splits (the edge on the training
 * split, the test accuracy), in evaluation mode, in the same contiguous file-order batches the
 * cache's advance uses; its outputs there are the next cache, value for value. An evaluation
 * therefore writes them as it goes: in place over the split's cache when nothing reads that cache
 * again this round and a row does not grow (a batch's outputs then never overwrite a row not yet
 * read), else into a separate buffer when it fits cache_mb next to the caches (a round with
 * several chunks evaluates the training split after each; the last one wins). Without either,
 * brn_advance_cache runs the module over the split a second time, as it always did. */

static brn_capture *capture_of(brn_ctx *c, int32_t split) {
    return &c->capture[split == STRATA_SPLIT_TRAIN ? 0 : 1];
}

StrataStatus brn_capture_begin(brn_ctx *c, int32_t split, int final) {
    brn_capture *k = capture_of(c, split), *other = capture_of(c, split == STRATA_SPLIT_TRAIN ? STRATA_SPLIT_TEST : STRATA_SPLIT_TRAIN);
    StrataTensor *cache = split == STRATA_SPLIT_TRAIN ? c->cache_train : c->cache_test;
    int64_t n = split == STRATA_SPLIT_TRAIN ? c->n_train : c->n_test, values = n * c->next_elems;
    int64_t held;
    k->dst = NULL;
    k->rows = 0;
    k->ready = k->in_place = 0;
    if (!c->use_cache || cache == NULL || c->next_elems < 1) return STRATA_OK;
    if (final && c->next_elems <= c->feat_elems) {
        k->dst = cache;
        k->in_place = 1;
        return STRATA_OK;
    }
    if (k->next == NULL || k->next_cap < values) {
        held = c->cache_bytes + (other->next != NULL ? other->next_cap * cache_value_bytes(c) : 0);
        if (held + values * cache_value_bytes(c) > cache_budget(c)) return STRATA_OK;
        c->host->tensor_release(c->host->host_ctx, k->next);
        k->next = NULL;
        k->next_cap = 0;
        BRN_PROPAGATE(alloc_cache(c, values, &k->next));
        k->next_cap = values;
    }
    k->dst = k->next;
    return STRATA_OK;
}

StrataStatus brn_capture_rows(brn_ctx *c, int32_t split, const StrataTensor *h, int64_t first,
                              int64_t count) {
    brn_capture *k = capture_of(c, split);
    if (k->dst == NULL) return STRATA_OK;
    if (brn_tensor_count(h) != count * c->next_elems)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "the module's output is not dense "
                        "float32 with %lld values per example", (long long)c->next_elems);
    if (first != k->rows)
        return brn_fail(c, STRATA_ERR_INTERNAL, "captured rows out of order (example %lld after %lld)",
                        (long long)first, (long long)k->rows);
    BRN_PROPAGATE(cache_put(c, k->dst, first * c->next_elems,
                            (const float *)((const char *)h->data + h->byte_offset), count * c->next_elems));
    k->rows += count;
    return STRATA_OK;
}

void brn_capture_end(brn_ctx *c, int32_t split, int complete) {
    brn_capture *k = capture_of(c, split);
    int64_t n = split == STRATA_SPLIT_TRAIN ? c->n_train : c->n_test;
    k->ready = complete && k->dst != NULL && k->rows == n;
    if (!k->ready) k->in_place = 0;
    k->dst = NULL;
}

void brn_capture_release(brn_ctx *c) {
    int32_t d;
    for (d = 0; d < 2; d++) {
        c->host->tensor_release(c->host->host_ctx, c->capture[d].next);
        memset(&c->capture[d], 0, sizeof c->capture[d]);
    }
}

/* The split's next cache: the captured outputs when its last evaluation wrote them all, else a
 * second pass of the module over the split. */
static StrataStatus adopt_or_advance(brn_ctx *c, int32_t b, int32_t e, StrataTensor **cache,
                                     int64_t *cap, int64_t n, int64_t out_elems, brn_capture *k) {
    if (*cache == NULL) return STRATA_OK;
    if (!k->ready) return advance_one(c, b, e, cache, cap, n, out_elems);
    if (!k->in_place) {
        c->host->tensor_release(c->host->host_ctx, *cache);
        *cache = k->next;
        *cap = k->next_cap;
        k->next = NULL;
        k->next_cap = 0;
    }
    k->ready = k->in_place = 0;
    return STRATA_OK;
}

StrataStatus brn_advance_cache(brn_ctx *c, int32_t b, int32_t e, int32_t *how) {
    int32_t out_ndim = 0, d;
    int64_t out_shape[STRATA_MAX_NDIM], out_elems = 1;
    int captured;
    *how = BRN_CACHE_ADVANCE_NONE;
    if (!c->use_cache) return STRATA_OK;
    BRN_TRY(c, c->train->model_child_shape(c->net, e - 1, 1, &out_ndim, out_shape, brn_herr(c)),
            "model_child_shape (module output)");
    for (d = 1; d < out_ndim; d++) out_elems *= out_shape[d];
    if (out_elems != c->next_elems) c->capture[0].ready = c->capture[1].ready = 0; /* not this module's */
    captured = (c->cache_train == NULL || c->capture[0].ready) && (c->cache_test == NULL || c->capture[1].ready);
    if (!captured && out_elems > c->feat_elems && cache_need(c, out_elems) > cache_budget(c)) {
        brn_drop_cache(c, "the next module's input does not fit cache_mb");
        return STRATA_OK;
    }
    *how = captured ? BRN_CACHE_ADVANCE_EVALUATION : BRN_CACHE_ADVANCE_SECOND_PASS;
    BRN_PROPAGATE(adopt_or_advance(c, b, e, &c->cache_train, &c->cache_cap_train, c->n_train, out_elems,
                                   &c->capture[0]));
    BRN_PROPAGATE(adopt_or_advance(c, b, e, &c->cache_test, &c->cache_cap_test, c->n_test, out_elems,
                                   &c->capture[1]));
    brn_capture_release(c); /* a separate buffer not adopted (the next round allocates its own) */
    c->feat_ndim = out_ndim;
    for (d = 0; d < out_ndim; d++) c->feat_shape[d] = out_shape[d];
    c->feat_elems = out_elems;
    c->cache_child = e;
    c->cache_bytes = (c->cache_cap_train + c->cache_cap_test) * cache_value_bytes(c);
    return STRATA_OK;
}
