/* scale.c - y[n, c, ...] = x[n, c, ...] * weight[c]: one learned factor per channel.
 * Exercises parameters through the ABI: the host allocates `weight` (initialised to ones) and
 * its gradient, and binds them once. */
#include <stdio.h>
#include <stdlib.h>

#include "c_layers.h"

typedef struct Scale {
    int64_t channels;            /* C, known after the first infer_shape */
    const StrataTensor *weight;  /* [C], bound by bind_parameters */
    const StrataTensor *grad;    /* [C] */
} Scale;

static StrataStatus scale_create(const char *config_json, const void *config_object,
                                 void **instance, StrataError *err) {
    Scale *layer;
    (void)config_json; (void)config_object;
    layer = (Scale *)calloc(1, sizeof *layer);
    if (layer == NULL) return cl_host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    *instance = layer;
    return STRATA_OK;
}

static void scale_destroy(void *instance) { free(instance); }

static StrataStatus scale_infer_shape(void *instance, int32_t in_ndim, const int64_t *in_shape,
                                      int32_t *out_ndim, int64_t *out_shape, StrataError *err) {
    Scale *layer = (Scale *)instance;
    char message[128];
    int32_t i;
    if (in_ndim < 2)
        return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH,
                                  "expects an input [N, C, ...] with at least 2 dimensions");
    if (layer->channels != 0 && layer->channels != in_shape[1]) {
        snprintf(message, sizeof message, "built for %lld channels, got %lld",
                 (long long)layer->channels, (long long)in_shape[1]);
        return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH, message);
    }
    layer->channels = in_shape[1];
    *out_ndim = in_ndim;
    for (i = 0; i < in_ndim; i++) out_shape[i] = in_shape[i];
    return STRATA_OK;
}

static int32_t scale_parameter_count(void *instance) { (void)instance; return 1; }

static StrataStatus scale_parameter_info(void *instance, int32_t index, StrataParamInfo *out,
                                         StrataError *err) {
    const Scale *layer = (const Scale *)instance;
    if (index != 0) return cl_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "no such parameter");
    out->name = "weight";
    out->ndim = 1;
    out->shape[0] = layer->channels;
    out->role = STRATA_PARAM_WEIGHT;
    out->init = STRATA_INIT_ONES;
    return STRATA_OK;
}

static StrataStatus scale_bind_parameters(void *instance, int32_t count,
                                          const StrataTensor *values, const StrataTensor *grads,
                                          StrataError *err) {
    Scale *layer = (Scale *)instance;
    if (count != 1 || cl_dense_f32_count(&values[0]) != layer->channels ||
        cl_dense_f32_count(&grads[0]) != layer->channels)
        return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH,
                                  "expects one float32 weight and gradient of [C] elements");
    layer->weight = &values[0];
    layer->grad = &grads[0];
    return STRATA_OK;
}

typedef struct Job {
    int64_t batch, channels, plane;
    const float *x, *w, *dy;
    float *y, *dx, *dw;
} Job;

/* Items are (n, c) planes. */
static void forward_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread) {
    const Job *job = (const Job *)ctx;
    int64_t item, i;
    (void)thread;
    for (item = begin; item < end; item++) {
        const float w = job->w[item % job->channels];
        const float *x = job->x + item * job->plane;
        float *y = job->y + item * job->plane;
        for (i = 0; i < job->plane; i++) y[i] = x[i] * w;
    }
}

/* Items are channels, so each thread owns the weight gradients it writes. */
static void backward_chunk(void *ctx, int64_t begin, int64_t end, int32_t thread) {
    const Job *job = (const Job *)ctx;
    int64_t c, n, i;
    (void)thread;
    for (c = begin; c < end; c++) {
        const float w = job->w[c];
        double sum = 0.0;
        for (n = 0; n < job->batch; n++) {
            const int64_t at = (n * job->channels + c) * job->plane;
            const float *x = job->x + at, *dy = job->dy + at;
            for (i = 0; i < job->plane; i++) sum += (double)dy[i] * x[i];
            if (job->dx != NULL) {
                float *dx = job->dx + at;
                for (i = 0; i < job->plane; i++) dx[i] = dy[i] * w;
            }
        }
        job->dw[c] += (float)sum;
    }
}

static StrataStatus fill_job(const Scale *layer, const StrataTensor *input, Job *job,
                             StrataError *err) {
    const int64_t n = cl_dense_f32_count(input);
    if (layer->weight == NULL)
        return cl_host->set_error(err, STRATA_ERR_INTERNAL, "called before bind_parameters");
    if (n < 0 || input->ndim < 2 || input->shape[1] != layer->channels)
        return cl_host->set_error(err, STRATA_ERR_UNSUPPORTED,
                                  "expects a contiguous float32 input [N, C, ...]");
    job->batch = input->shape[0];
    job->channels = layer->channels;
    job->plane = job->batch * job->channels > 0 ? n / (job->batch * job->channels) : 0;
    job->x = cl_elements(input);
    job->w = cl_elements(layer->weight);
    job->dw = cl_elements(layer->grad);
    job->dy = NULL;
    job->y = NULL;
    job->dx = NULL;
    return STRATA_OK;
}

static StrataStatus scale_forward(void *instance, const StrataTensor *input, StrataTensor *output,
                                  int32_t training, StrataError *err) {
    Job job;
    StrataStatus status = fill_job((const Scale *)instance, input, &job, err);
    (void)training;
    if (status != STRATA_OK) return status;
    if (cl_dense_f32_count(output) != cl_dense_f32_count(input))
        return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH, "output size differs from input");
    job.y = cl_elements(output);
    cl_host->parallel_for(cl_host->host_ctx, job.batch * job.channels, forward_chunk, &job);
    return STRATA_OK;
}

static StrataStatus scale_backward(void *instance, const StrataTensor *input,
                                   const StrataTensor *output, const StrataTensor *grad_output,
                                   StrataTensor *grad_input, StrataError *err) {
    Job job;
    StrataStatus status = fill_job((const Scale *)instance, input, &job, err);
    (void)output;
    if (status != STRATA_OK) return status;
    if (cl_dense_f32_count(grad_output) != cl_dense_f32_count(input) ||
        (grad_input != NULL && cl_dense_f32_count(grad_input) != cl_dense_f32_count(input)))
        return cl_host->set_error(err, STRATA_ERR_SHAPE_MISMATCH, "gradient sizes differ from input");
    job.dy = cl_elements(grad_output);
    job.dx = grad_input != NULL ? cl_elements(grad_input) : NULL;
    cl_host->parallel_for(cl_host->host_ctx, job.channels, backward_chunk, &job);
    return STRATA_OK;
}

const StrataLayerOps cl_scale_ops = {
    STRATA_STRUCT_HEADER(StrataLayerOps),
    .create = scale_create,
    .destroy = scale_destroy,
    .infer_shape = scale_infer_shape,
    .parameter_count = scale_parameter_count,
    .parameter_info = scale_parameter_info,
    .bind_parameters = scale_bind_parameters,
    .forward = scale_forward,
    .backward = scale_backward,
};
