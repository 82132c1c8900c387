/* grad_norm_log.c - the plugin's entry point and a callback that writes one line per batch (or every N batches) to a CSV file
 * in the run directory: the epoch (from 1), the batch within it (from 0), the global step, the
 * learning rate of the step, the batch loss and the L2 norm of all trainable parameters'
 * gradients, sqrt(sum over every element of every gradient of g^2), summed in double.
 *
 * It reads the parameters and gradients that StrataCallbackContext carries since ABI 0.3 and
 * refuses a host that passes a shorter context. A run without a run directory writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

#include "c_callbacks.h"

/* The host table, written once by strata_plugin_entry before any other call. */
const StrataHostAPI *c_callbacks_host = NULL;
#define host c_callbacks_host

typedef struct GradNormLog {
    char file[256];  /* file name inside the run directory */
    int64_t every;   /* write every N-th batch of an epoch (1: all) */
    FILE *out;       /* open between TRAIN_BEGIN and TRAIN_END when there is a run directory */
} GradNormLog;

static StrataStatus gnl_create(const char *config_json, const void *config_object, void **instance,
                               StrataError *err) {
    GradNormLog *c;
    uint64_t length = 0;
    int64_t every = 1;
    StrataStatus status;
    (void)config_object;
    c = (GradNormLog *)calloc(1, sizeof *c);
    if (c == NULL) return host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    strcpy(c->file, "grad_norms.csv");
    status = host->config_get_string(config_json, "file", c->file, sizeof c->file, &length, err);
    if (status == STRATA_OK) status = host->config_get_int(config_json, "every", &every, err);
    if (status == STRATA_OK && (c->file[0] == '\0' || strchr(c->file, '/') != NULL || strcmp(c->file, "..") == 0))
        status = host->set_error(err, STRATA_ERR_INVALID_ARGUMENT,
                                 "file must be a plain file name inside the run directory");
    if (status == STRATA_OK && (every < 1 || every > 1000000))
        status = host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "every must be between 1 and 1000000");
    if (status != STRATA_OK) {
        free(c);
        return status;
    }
    c->every = every;
    *instance = c;
    return STRATA_OK;
}

static void gnl_destroy(void *instance) {
    GradNormLog *c = (GradNormLog *)instance;
    if (c == NULL) return;
    if (c->out != NULL) fclose(c->out);
    free(c);
}

/* The L2 norm of every gradient in the context, or -1 when one is not contiguous float32. */
static double gradient_norm(const StrataCallbackContext *ctx) {
    double sum = 0.0;
    int32_t p, d;
    for (p = 0; p < ctx->parameter_count; p++) {
        const StrataTensor *g = &ctx->gradients[p];
        int64_t n = 1, stride = 1, i;
        const float *x;
        if (g->data == NULL) continue; /* no gradient (a buffer) */
        if (g->dtype.code != STRATA_DTYPE_FLOAT || g->dtype.bits != 32) return -1.0;
        for (d = g->ndim - 1; d >= 0; d--) {
            if (g->strides[d] != stride) return -1.0;
            stride *= g->shape[d];
            n *= g->shape[d];
        }
        x = (const float *)((const char *)g->data + g->byte_offset);
        for (i = 0; i < n; i++) sum += (double)x[i] * (double)x[i];
    }
    return sqrt(sum);
}

static StrataStatus gnl_on_event(void *instance, int32_t event, StrataCallbackContext *ctx,
                                 StrataError *err) {
    GradNormLog *c = (GradNormLog *)instance;
    char path[4096];
    double norm;
    if (!STRATA_HAS_FIELD(StrataCallbackContext, ctx, gradients))
        return host->set_error(err, STRATA_ERR_UNSUPPORTED,
                               "grad_norm_log needs a host of ABI 0.3 or later (gradients in the callback context)");
    switch (event) {
    case STRATA_EVENT_TRAIN_BEGIN:
        if (ctx->run_dir == NULL || ctx->run_dir[0] == '\0') return STRATA_OK;
        if (snprintf(path, sizeof path, "%s/%s", ctx->run_dir, c->file) >= (int)sizeof path)
            return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "the run directory path is too long");
        if (c->out != NULL) fclose(c->out);
        c->out = fopen(path, "w");
        if (c->out == NULL) return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "cannot create the gradient-norm file in the run directory");
        fputs("epoch,batch,global_step,lr,loss,grad_norm\n", c->out);
        return STRATA_OK;
    case STRATA_EVENT_BATCH_END:
        if (c->out == NULL || ctx->batch % c->every != 0) return STRATA_OK;
        if (ctx->parameter_count <= 0 || ctx->gradients == NULL)
            return host->set_error(err, STRATA_ERR_UNSUPPORTED, "the run exposes no gradients to callbacks");
        norm = gradient_norm(ctx);
        if (norm < 0.0) return host->set_error(err, STRATA_ERR_UNSUPPORTED, "a gradient is not contiguous float32");
        fprintf(c->out, "%lld,%lld,%lld,%.9g,%.9g,%.9g\n", (long long)(ctx->epoch + 1), (long long)ctx->batch,
                (long long)ctx->global_step, ctx->learning_rate, ctx->batch_loss, norm);
        return STRATA_OK;
    case STRATA_EVENT_EPOCH_END:
        if (c->out != NULL) fflush(c->out);
        return STRATA_OK;
    case STRATA_EVENT_TRAIN_END:
        if (c->out != NULL && fclose(c->out) != 0) {
            c->out = NULL;
            return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "writing the gradient-norm file failed");
        }
        c->out = NULL;
        return STRATA_OK;
    default:
        return STRATA_OK;
    }
}

static const StrataCallbackOps grad_norm_log_ops = {
    STRATA_STRUCT_HEADER(StrataCallbackOps),
    .create = gnl_create,
    .destroy = gnl_destroy,
    .on_event = gnl_on_event,
};

static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_CALLBACK, 0, "grad_norm_log",
      "Writes the L2 norm of the gradients of every batch to a CSV file in the run directory.",
      &grad_norm_log_ops, NULL, NULL },
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_CALLBACK, 0, "layer_output_log",
      "Hooks one layer of the trained model and writes the shape, mean and largest |x| of its output per batch to a CSV file.",
      &layer_output_log_ops, NULL, NULL },
};

STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out,
                                               StrataError *err) {
    StrataStatus status = strata_check_host_abi(h, "c-callbacks", err);
    if (status != STRATA_OK) return status;
    host = h;
    out->abi_version = STRATA_ABI_VERSION;
    out->plugin_name = "c-callbacks";
    out->plugin_version = "0.1.0";
    out->component_count = (int32_t)(sizeof components / sizeof components[0]);
    out->components = components;
    return STRATA_OK;
}
