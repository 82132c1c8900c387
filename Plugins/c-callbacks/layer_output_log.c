/* layer_output_log.c - a callback that hooks one layer of the trained model and writes, per batch,
 * the shape of that layer's output and the mean and largest absolute value of its elements to a
 * CSV file in the run directory: epoch (from 1), batch (from 0), the hook's capture count, the
 * shape as "16x4x13x13", the mean and the largest |x|, summed in double.
 *
 * It uses the model handle the callback context carries since ABI 0.5 and the forward hooks of the
 * "strata.train" interface (0.3): model_hook at TRAIN_BEGIN, hook_output at BATCH_END (the copy of
 * this batch's forward), hook_remove at TRAIN_END. A host without them is refused with a sentence;
 * a layer the model does not have fails at TRAIN_BEGIN with the host's message naming it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

#include "c_callbacks.h"

typedef struct LayerOutputLog {
    char layer[256];              /* dotted path of the hooked layer */
    char file[256];               /* file name inside the run directory */
    const StrataTrainAPI *train;  /* "strata.train", fetched at TRAIN_BEGIN */
    StrataHook *hook;             /* live between TRAIN_BEGIN and TRAIN_END */
    FILE *out;                    /* open while hooked, when there is a run directory */
} LayerOutputLog;

static StrataStatus lol_create(const char *config_json, const void *config_object, void **instance,
                               StrataError *err) {
    const StrataHostAPI *host = c_callbacks_host;
    LayerOutputLog *c;
    uint64_t length = 0;
    StrataStatus status;
    (void)config_object;
    if (!host->config_has(config_json, "layer"))
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "option \"layer\" is required (the dotted name of a layer of the model)");
    c = (LayerOutputLog *)calloc(1, sizeof *c);
    if (c == NULL) return host->set_error(err, STRATA_ERR_OUT_OF_MEMORY, "out of memory");
    strcpy(c->file, "layer_outputs.csv");
    status = host->config_get_string(config_json, "layer", c->layer, sizeof c->layer, &length, err);
    if (status == STRATA_OK) status = host->config_get_string(config_json, "file", c->file, sizeof c->file, &length, err);
    if (status == STRATA_OK && c->layer[0] == '\0')
        status = host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "option \"layer\" is empty");
    if (status == STRATA_OK && (c->file[0] == '\0' || strchr(c->file, '/') != NULL || strcmp(c->file, "..") == 0))
        status = host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "option \"file\" must be a plain file name inside the run directory");
    if (status != STRATA_OK) {
        free(c);
        return status;
    }
    *instance = c;
    return STRATA_OK;
}

static void lol_close(LayerOutputLog *c) {
    if (c->hook != NULL && c->train != NULL) c->train->hook_remove(c->hook);
    c->hook = NULL;
    if (c->out != NULL) fclose(c->out);
    c->out = NULL;
}

static void lol_destroy(void *instance) {
    LayerOutputLog *c = (LayerOutputLog *)instance;
    if (c == NULL) return;
    lol_close(c);
    free(c);
}

/* Hooks the layer and opens the file. */
static StrataStatus lol_begin(LayerOutputLog *c, const StrataCallbackContext *ctx, StrataError *err) {
    const StrataHostAPI *host = c_callbacks_host;
    char path[4096];
    StrataStatus status;
    if (!STRATA_HAS_FIELD(StrataCallbackContext, ctx, model))
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "layer_output_log needs a host of ABI 0.5 or later (a model in the callback context)");
    if (ctx->model == NULL)
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "layer_output_log: this run exposes no model to callbacks (a plugin scheme trains models of its own)");
    c->train = (const StrataTrainAPI *)host->get_interface(host->host_ctx, STRATA_TRAIN_INTERFACE, STRATA_MAKE_VERSION(0, 3));
    if (c->train == NULL)
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "layer_output_log needs the \"strata.train\" interface 0.3 (forward hooks)");
    lol_close(c);
    status = c->train->model_hook(ctx->model, c->layer, &c->hook, err);
    if (status != STRATA_OK) return status;
    if (ctx->run_dir == NULL || ctx->run_dir[0] == '\0') return STRATA_OK;
    if (snprintf(path, sizeof path, "%s/%s", ctx->run_dir, c->file) >= (int)sizeof path)
        return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "the run directory path is too long");
    c->out = fopen(path, "w");
    if (c->out == NULL) return host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "cannot create the layer-output file in the run directory");
    fputs("epoch,batch,captures,shape,mean,max_abs\n", c->out);
    return STRATA_OK;
}

/* Writes one line about the copy of the layer's latest output. */
static StrataStatus lol_batch(LayerOutputLog *c, const StrataCallbackContext *ctx, StrataError *err) {
    const StrataHostAPI *host = c_callbacks_host;
    const StrataTensor *y = NULL;
    const float *x;
    int64_t captures = 0, n = 1, stride = 1, i;
    double sum = 0.0, largest = 0.0;
    int32_t d;
    StrataStatus status;
    if (c->hook == NULL || c->out == NULL) return STRATA_OK;
    status = c->train->hook_output(c->hook, &y, &captures, err);
    if (status != STRATA_OK) return status;
    if (y == NULL) return host->set_error(err, STRATA_ERR_INTERNAL, "layer_output_log: the hooked layer has not run forward by BATCH_END");
    if (y->dtype.code != STRATA_DTYPE_FLOAT || y->dtype.bits != 32)
        return host->set_error(err, STRATA_ERR_UNSUPPORTED, "layer_output_log: the layer's output is not float32");
    for (d = y->ndim - 1; d >= 0; d--) {
        if (y->strides != NULL && y->strides[d] != stride)
            return host->set_error(err, STRATA_ERR_UNSUPPORTED, "layer_output_log: the layer's output is not contiguous");
        stride *= y->shape[d];
        n *= y->shape[d];
    }
    x = (const float *)((const char *)y->data + y->byte_offset);
    for (i = 0; i < n; i++) {
        sum += (double)x[i];
        if (fabs((double)x[i]) > largest) largest = fabs((double)x[i]);
    }
    fprintf(c->out, "%lld,%lld,%lld,", (long long)(ctx->epoch + 1), (long long)ctx->batch, (long long)captures);
    for (d = 0; d < y->ndim; d++) fprintf(c->out, d == 0 ? "%lld" : "x%lld", (long long)y->shape[d]);
    fprintf(c->out, ",%.17g,%.9g\n", n > 0 ? sum / (double)n : 0.0, largest);
    return STRATA_OK;
}

static StrataStatus lol_on_event(void *instance, int32_t event, StrataCallbackContext *ctx,
                                 StrataError *err) {
    LayerOutputLog *c = (LayerOutputLog *)instance;
    switch (event) {
    case STRATA_EVENT_TRAIN_BEGIN:
        return lol_begin(c, ctx, err);
    case STRATA_EVENT_BATCH_END:
        return lol_batch(c, ctx, err);
    case STRATA_EVENT_EPOCH_END:
        if (c->out != NULL) fflush(c->out);
        return STRATA_OK;
    case STRATA_EVENT_TRAIN_END:
        if (c->out != NULL && fflush(c->out) != 0) {
            lol_close(c);
            return c_callbacks_host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "writing the layer-output file failed");
        }
        lol_close(c);
        return STRATA_OK;
    default:
        return STRATA_OK;
    }
}

const StrataCallbackOps layer_output_log_ops = {
    STRATA_STRUCT_HEADER(StrataCallbackOps),
    .create = lol_create,
    .destroy = lol_destroy,
    .on_event = lol_on_event,
};
