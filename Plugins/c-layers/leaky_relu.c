/* leaky_relu.c - y = x for x > 0, else negative_slope * x. No parameters. */
#include <stdlib.h>

#include "c_layers.h"

typedef struct LeakyReLU { float slope; } LeakyReLU;

/* Elements per work item of parallel_for: coarse enough that a chunk outweighs its dispatch. */
#define BLOCK 16384

static StrataStatus leaky_create(const char *config_json, const void *config_object,
                                 void **instance, StrataError *err) {
    double slope = 0.01; /* stays when the recipe does not set it */
    StrataStatus status = cl_host->config_get_double(config_json, "negative_slope", &slope, err);
    LeakyReLU *layer;
    (void)config_object;
    if (status != STRATA_OK) return status;
    if (!(slope >= 0.0 && slope <= 1.0))
        return cl_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT,
                                  "negative_slope must be between 0 and 1");
    layer = (LeakyReLU *)malloc(sizeof *layer);
    if (layer == NULL) return cl_host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    layer->slope = (float)slope;
    *instance = layer;
    return STRATA_OK;
}

static void leaky_destroy(void *instance) { free(instance); }

static StrataStatus leaky_infer_shape(void *instance, int32_t in_ndim, const int64_t *in_shape,
                                      int32_t *out_ndim, int64_t *out_shape, StrataError *err) {
    int32_t i;
    (void)instance; (void)err;
    *out_ndim = in_ndim;
    for (i = 0; i < in_ndim; i++) out_shape[i] = in_shape[i];
    return STRATA_OK;
}

typedef struct Job {
    float slope;
    int64_t n;
    const float *x, *dy;
    float *y, *dx;
} Job;

static void forward_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread) {
    const Job *job = (const Job *)ctx;
    int64_t i, from = begin * BLOCK, to = end * BLOCK < job->n ? end * BLOCK : job->n;
    (void)thread;
    /* locals, so the compiler knows the stores cannot change the job and vectorises the loop */
    const float *restrict x = job->x;
    float *restrict y = job->y;
    const float slope = job->slope;
    for (i = from; i < to; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

static void backward_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread) {
    const Job *job = (const Job *)ctx;
    int64_t i, from = begin * BLOCK, to = end * BLOCK < job->n ? end * BLOCK : job->n;
    (void)thread;
    const float *restrict x = job->x, *restrict dy = job->dy;
    float *restrict dx = job->dx;
    const float slope = job->slope;
    for (i = from; i < to; i++) dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i];
}

static StrataStatus leaky_forward(void *instance, const StrataTensor *input, StrataTensor *output,
                                  int32_t training, StrataError *err) {
    Job job;
    (void)training;
    job.n = cl_dense_f32_count(input);
    if (job.n < 0 || cl_dense_f32_count(output) != job.n)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED,
                                  "expects contiguous float32 tensors of equal size");
    job.slope = ((const LeakyReLU *)instance)->slope;
    job.x = cl_elements(input);
    job.y = cl_elements(output);
    job.dy = NULL;
    job.dx = NULL;
    cl_host->parallel_for(cl_host->host_ctx, (job.n + BLOCK - 1) / BLOCK, forward_chunk, &job);
    return STRATA_OK;
}

static StrataStatus leaky_backward(void *instance, const StrataTensor *input,
                                   const StrataTensor *output, const StrataTensor *grad_output,
                                   StrataTensor *grad_input, StrataError *err) {
    Job job;
    (void)output;
    if (grad_input == NULL) return STRATA_OK; /* no parameters: nothing else to compute */
    job.n = cl_dense_f32_count(input);
    if (job.n < 0 || cl_dense_f32_count(grad_output) != job.n ||
        cl_dense_f32_count(grad_input) != job.n)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED,
                                  "expects contiguous float32 tensors of equal size");
    job.slope = ((const LeakyReLU *)instance)->slope;
    job.x = cl_elements(input);
    job.dy = cl_elements(grad_output);
    job.dx = cl_elements(grad_input);
    job.y = NULL;
    cl_host->parallel_for(cl_host->host_ctx, (job.n + BLOCK - 1) / BLOCK, backward_chunk, &job);
    return STRATA_OK;
}

const StrataLayerOps cl_leaky_relu_ops = {
    STRATA_STRUCT_HEADER(StrataLayerOps),
    .create = leaky_create,
    .destroy = leaky_destroy,
    .infer_shape = leaky_infer_shape,
    .forward = leaky_forward,
    .backward = leaky_backward,
};
