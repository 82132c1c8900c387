/*
 * model.c - the network side of BoostResNet: splitting the recipe's sequential network into
 * modules (docs/boostresnet.md §3.2: module 0 = the stem, then one module per residual
 * block), the auxiliary classifier of each round (§1.4: "linear" = the paper's W_{t+1}, a
 * fresh linear layer on the flattened module output; "fresh" = a new copy of the network's own
 * head children per block; "shared" = the reference's shared tail with the shape-changing
 * children in front of it), and the tapped_ensemble graph that predicts with the result (§1.9,
 * Lemma 3.2), with every parameter copied in.
 *
 * Both heads are separate models built on the module's output shape. A shared head is a model
 * of the network's own chain children (the shape-changing children after the module, then the
 * head) whose parameters and buffers are copied from the network at the start of the round and
 * back into it at the end, so it carries over from round to round as in the reference. (Running
 * the chain as single-child slices of the network itself does not work: the host pairs a
 * backward with the model's most recent forward, not with the children's.) Each round's head
 * model is kept, so the ensemble gets every head as it was at the end of its round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "brn_plugin.h"

int64_t brn_tensor_count(const StrataTensor *t) {
    int64_t count = 1, stride = 1;
    int32_t i;
    if (t == NULL || t->device_type != STRATA_DEVICE_CPU) return -1;
    if (t->dtype.code != STRATA_DTYPE_FLOAT || t->dtype.bits != 32 || t->dtype.lanes != 1) return -1;
    if (t->ndim < 0 || t->ndim > STRATA_MAX_NDIM) return -1;
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != stride) return -1;
        stride *= t->shape[i];
        count *= t->shape[i];
    }
    if (count > 0 && t->data == NULL) return -1;
    return count;
}

static int is_residual(brn_ctx *c, int32_t i) {
    const char *kind = c->train->model_child_kind(c->net, i);
    return kind != NULL && strcmp(kind, "residual") == 0;
}

static void name_module(brn_ctx *c, brn_module *m) {
    int32_t i;
    m->name[0] = '\0';
    for (i = m->begin; i < m->end; i++) {
        const char *name = c->train->model_child_name(c->net, i);
        size_t used = strlen(m->name);
        if (used + 2 >= sizeof m->name) break;
        snprintf(m->name + used, sizeof m->name - used, "%s%s", i > m->begin ? "+" : "",
                 name != NULL ? name : "?");
    }
}

static StrataStatus add_module(brn_ctx *c, int32_t begin, int32_t end) {
    brn_module *m = &c->modules[c->module_count++];
    m->begin = begin;
    m->end = end;
    name_module(c, m);
    return STRATA_OK;
}

static StrataStatus split_explicit(brn_ctx *c) {
    const brn_config *cfg = c->cfg;
    int32_t i, begin = 0;
    int64_t last = cfg->module_ends[cfg->module_end_count - 1];
    if (last > c->head_begin)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "option \"module_ends\": the last end (%lld) must be <= %d, the index of "
                        "the first head child (%s)", (long long)last, (int)c->head_begin,
                        c->train->model_child_name(c->net, c->head_begin));
    for (i = 0; i < cfg->module_end_count; i++) {
        add_module(c, begin, (int32_t)cfg->module_ends[i]);
        begin = (int32_t)cfg->module_ends[i];
    }
    return STRATA_OK;
}

static void split_default(brn_ctx *c, int32_t first_residual) {
    int32_t r, begin = 0;
    if (first_residual > 0) {
        add_module(c, 0, first_residual);
        begin = first_residual;
    }
    for (r = first_residual; r < c->head_begin; r++) {
        if (!is_residual(c, r)) continue;
        add_module(c, begin, r + 1);
        begin = r + 1;
    }
}

static StrataStatus read_classes(brn_ctx *c) {
    int32_t ndim = 0;
    int64_t shape[STRATA_MAX_NDIM];
    BRN_TRY(c, c->train->model_child_shape(c->net, c->child_count - 1, 1, &ndim, shape,
                                           brn_herr(c)), "model_child_shape (network output)");
    if (ndim != 2 || shape[1] < 2 || shape[1] > 1000000)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH,
                        "the network's output must be [N, K] logits with K >= 2, got rank %d",
                        (int)ndim);
    c->classes = (int32_t)shape[1];
    return STRATA_OK;
}

/* ---- nested stages -------------------------------------------------------------------------- */

static int kind_is(json_object *layer, const char *kind) {
    json_object *k;
    return json_object_is_type(layer, json_type_object) && json_object_object_get_ex(layer, "kind", &k) &&
           json_object_is_type(k, json_type_string) && strcmp(json_object_get_string(k), kind) == 0;
}

/* Whether `layer` is a sequential that holds a residual block at any depth (a ResNet stage). */
static int is_stage(json_object *layer) {
    json_object *layers;
    size_t i;
    if (!kind_is(layer, "sequential") || !json_object_object_get_ex(layer, "layers", &layers) ||
        !json_object_is_type(layers, json_type_array))
        return 0;
    for (i = 0; i < json_object_array_length(layers); i++) {
        json_object *child = json_object_array_get_idx(layers, i);
        if (kind_is(child, "residual") || is_stage(child)) return 1;
    }
    return 0;
}

/* Appends `layer` named `name` to `out`, replacing a stage by its children named
 * "<name>_<child name or index>", recursively. */
static int append_flat(json_object *out, json_object *layer, const char *name) {
    json_object *layers, *copy = NULL;
    size_t i;
    if (is_stage(layer) && json_object_object_get_ex(layer, "layers", &layers)) {
        for (i = 0; i < json_object_array_length(layers); i++) {
            json_object *child = json_object_array_get_idx(layers, i), *child_name;
            char full[256];
            if (json_object_object_get_ex(child, "name", &child_name) && json_object_is_type(child_name, json_type_string))
                snprintf(full, sizeof full, "%s_%s", name, json_object_get_string(child_name));
            else
                snprintf(full, sizeof full, "%s_%d", name, (int)i);
            if (!append_flat(out, child, full)) return 0;
        }
        return 1;
    }
    if (json_object_deep_copy(layer, &copy, NULL) != 0 || copy == NULL) return 0;
    json_object_object_add(copy, "name", json_object_new_string(name));
    json_object_array_add(out, copy);
    return 1;
}

/* A network whose residual blocks sit inside stages (sequentials of blocks, as torchvision's
 * ResNets nest them) is rebuilt with every stage's children at the top level, so each block can
 * be a module; its parameters are copied over in order, so it starts from the same weights.
 * Parameter names become "<stage>_<block>.…". Nothing changes for a flat network. */
static StrataStatus flatten_stages(brn_ctx *c) {
    json_object *root = json_tokener_parse(c->train->model_graph(c->net)), *layers, *flat, *out;
    StrataModel *flat_net = NULL;
    StrataStatus status = STRATA_OK;
    int32_t i, n, next = 0, nested = 0;
    if (root == NULL || !json_object_object_get_ex(root, "layers", &layers) ||
        !json_object_is_type(layers, json_type_array)) {
        if (root != NULL) json_object_put(root);
        return STRATA_OK; /* not a sequential: brn_split_model reports it */
    }
    n = (int32_t)json_object_array_length(layers);
    for (i = 0; i < n; i++) nested |= is_stage(json_object_array_get_idx(layers, (size_t)i));
    if (!nested) {
        json_object_put(root);
        return STRATA_OK;
    }
    out = json_object_new_array();
    for (i = 0; i < n && status == STRATA_OK; i++) {
        const char *name = c->train->model_child_name(c->net, i);
        if (!append_flat(out, json_object_array_get_idx(layers, (size_t)i), name != NULL ? name : "?"))
            status = brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot flatten the network's stages");
    }
    flat = json_object_new_object();
    json_object_object_add(flat, "kind", json_object_new_string("sequential"));
    json_object_object_add(flat, "layers", out);
    if (status == STRATA_OK) {
        StrataStatus st = c->train->model_build(c->run, json_object_to_json_string_ext(flat, JSON_C_TO_STRING_PLAIN),
                                                0, NULL, &flat_net, brn_herr(c));
        if (st != STRATA_OK) status = brn_fail_host(c, st, "model_build (the network with its stages flattened)");
    }
    json_object_put(flat);
    json_object_put(root);
    if (status == STRATA_OK)
        status = brn_copy_params(c, c->net, 0, c->train->model_child_count(c->net), flat_net, 0,
                                 c->train->model_child_count(flat_net), &next, 1);
    if (status != STRATA_OK) {
        c->train->model_release(flat_net);
        return status;
    }
    brn_log(c, STRATA_LOG_INFO, "%s: residual blocks nested in stages: the network is split with "
            "its %d top-level children flattened into %d", c->scheme_name, (int)n,
            (int)c->train->model_child_count(flat_net));
    c->train->model_release(c->net);
    c->net = flat_net;
    return STRATA_OK;
}

StrataStatus brn_split_model(brn_ctx *c) {
    int32_t i, first = -1, last = -1;
    const char *graph;
    BRN_TRY(c, c->train->model_build(c->run, NULL, 0, NULL, &c->net, brn_herr(c)),
            "model_build (the recipe's model)");
    BRN_PROPAGATE(flatten_stages(c));
    c->child_count = c->train->model_child_count(c->net);
    if (c->child_count <= 1)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "the recipe's model must be a sequential of residual blocks and a head, "
                        "got %d top-level child", (int)c->child_count);
    for (i = 0; i < c->child_count; i++) {
        if (!is_residual(c, i)) continue;
        if (first < 0) first = i;
        last = i;
    }
    if (first < 0)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "the recipe's model has no residual block to boost (no top-level child "
                        "of kind \"residual\")");
    c->head_begin = last + 1;
    if (c->head_begin >= c->child_count)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "the recipe's model has no head after its last residual block (%s)",
                        c->train->model_child_name(c->net, last));
    graph = c->train->model_graph(c->net);
    if (graph == NULL) return brn_fail(c, STRATA_ERR_INTERNAL, "model_graph returned NULL");
    c->net_graph = (char *)malloc(strlen(graph) + 1);
    c->modules = (brn_module *)calloc((size_t)c->child_count, sizeof *c->modules);
    if (c->net_graph == NULL || c->modules == NULL)
        return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot allocate the module table");
    memcpy(c->net_graph, graph, strlen(graph) + 1);
    if (c->cfg->module_end_count > 0)
        BRN_PROPAGATE(split_explicit(c));
    else
        split_default(c, first);
    if (c->cfg->rounds > c->module_count)
        return brn_fail(c, STRATA_ERR_INVALID_ARGUMENT,
                        "option \"rounds\": must be <= %d, the number of modules, got %lld",
                        (int)c->module_count, (long long)c->cfg->rounds);
    c->rounds = c->cfg->rounds > 0 ? (int32_t)c->cfg->rounds : c->module_count;
    return read_classes(c);
}

/* ---- graphs -------------------------------------------------------------------------------- */

/* The "layers" array of the network's graph (a new reference in *root; put it when done). */
static StrataStatus graph_layers(brn_ctx *c, json_object **root, json_object **layers) {
    *root = json_tokener_parse(c->net_graph);
    if (*root == NULL || !json_object_object_get_ex(*root, "layers", layers) ||
        !json_object_is_type(*layers, json_type_array) ||
        (int32_t)json_object_array_length(*layers) != c->child_count) {
        if (*root != NULL) json_object_put(*root);
        *root = NULL;
        return brn_fail(c, STRATA_ERR_INTERNAL,
                        "model_graph is not a sequential whose \"layers\" has one element per "
                        "top-level child (%d)", (int)c->child_count);
    }
    return STRATA_OK;
}

static StrataStatus same_shape(brn_ctx *c, int32_t j, int *same) {
    int32_t n_in = 0, n_out = 0, d;
    int64_t in[STRATA_MAX_NDIM], out[STRATA_MAX_NDIM];
    BRN_TRY(c, c->train->model_child_shape(c->net, j, 0, &n_in, in, brn_herr(c)), "model_child_shape");
    BRN_TRY(c, c->train->model_child_shape(c->net, j, 1, &n_out, out, brn_herr(c)), "model_child_shape");
    *same = n_in == n_out;
    for (d = 1; *same && d < n_in; d++) *same = in[d] == out[d];
    return STRATA_OK;
}

/* The shared head of a module ending at `e`: every shape-changing child of [e, H) alone, then
 * the head [H, count) as one slice. */
static StrataStatus shared_slices(brn_ctx *c, int32_t e, brn_slice *slices, int32_t *count) {
    int32_t j;
    *count = 0;
    for (j = e; j < c->head_begin; j++) {
        int same = 1;
        BRN_PROPAGATE(same_shape(c, j, &same));
        if (same) continue;
        if (*count >= BRN_MAX_AUX_SLICES - 1)
            return brn_fail(c, STRATA_ERR_UNSUPPORTED, "more than %d shape-changing children "
                            "after the module", BRN_MAX_AUX_SLICES - 1);
        slices[*count].model = c->net;
        slices[*count].begin = j;
        slices[(*count)++].end = j + 1;
    }
    slices[*count].model = c->net;
    slices[*count].begin = c->head_begin;
    slices[(*count)++].end = c->child_count;
    return STRATA_OK;
}

/* {"kind":"sequential","layers":[children of the slices]} as text, in c->aux_graph[t]. */
static StrataStatus aux_graph_text(brn_ctx *c, int32_t t, const brn_slice *slices, int32_t n) {
    json_object *root = NULL, *layers = NULL, *seq, *arr;
    const char *text;
    int32_t s, j;
    BRN_PROPAGATE(graph_layers(c, &root, &layers));
    seq = json_object_new_object();
    arr = json_object_new_array();
    for (s = 0; s < n; s++)
        for (j = slices[s].begin; j < slices[s].end; j++)
            json_object_array_add(arr, json_object_get(json_object_array_get_idx(layers, (size_t)j)));
    json_object_object_add(seq, "kind", json_object_new_string("sequential"));
    json_object_object_add(seq, "layers", arr);
    text = json_object_to_json_string_ext(seq, JSON_C_TO_STRING_PLAIN);
    c->aux_graph[t] = text != NULL ? (char *)malloc(strlen(text) + 1) : NULL;
    if (c->aux_graph[t] != NULL) memcpy(c->aux_graph[t], text, strlen(text) + 1);
    json_object_put(seq);
    json_object_put(root);
    if (c->aux_graph[t] == NULL)
        return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot build the auxiliary head's graph");
    return STRATA_OK;
}

/* The paper's hypothesis module head, W_{t+1}^T g_{t+1}(x) taken literally: flatten the block's
 * whole output and apply one fresh linear layer with as many outputs as the network has. */
static StrataStatus linear_graph_text(brn_ctx *c, int32_t t) {
    int32_t ndim = 0;
    int64_t shape[STRATA_MAX_NDIM];
    char text[160];
    BRN_TRY(c, c->train->model_child_shape(c->net, c->child_count - 1, 1, &ndim, shape, brn_herr(c)),
            "model_child_shape (network output)");
    if (ndim != 2)
        return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "head \"linear\" needs a network whose output "
                        "is [batch, classes], got rank %d", (int)ndim);
    snprintf(text, sizeof text, "{\"kind\":\"sequential\",\"layers\":[{\"kind\":\"flatten\"},"
             "{\"kind\":\"linear\",\"out_features\":%lld}]}", (long long)shape[1]);
    c->aux_graph[t] = (char *)malloc(strlen(text) + 1);
    if (c->aux_graph[t] == NULL)
        return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot build the auxiliary head's graph");
    memcpy(c->aux_graph[t], text, strlen(text) + 1);
    return STRATA_OK;
}

StrataStatus brn_build_aux(brn_ctx *c, int32_t t) {
    int32_t e = c->modules[t].end, ndim = 0, count = 1;
    int64_t shape[STRATA_MAX_NDIM];
    brn_slice chain[BRN_MAX_AUX_SLICES];
    free(c->aux_graph[t]);
    c->aux_graph[t] = NULL;
    if (c->cfg->head == BRN_HEAD_LINEAR) {
        BRN_PROPAGATE(linear_graph_text(c, t));
    } else if (c->cfg->head == BRN_HEAD_SHARED) {
        BRN_PROPAGATE(shared_slices(c, e, chain, &count));
    } else {
        chain[0].model = c->net;
        chain[0].begin = c->head_begin;
        chain[0].end = c->child_count;
    }
    if (c->cfg->head != BRN_HEAD_LINEAR) BRN_PROPAGATE(aux_graph_text(c, t, chain, count));
    BRN_TRY(c, c->train->model_child_shape(c->net, e - 1, 1, &ndim, shape, brn_herr(c)),
            "model_child_shape (module output)");
    BRN_TRY(c, c->train->model_build(c->run, c->aux_graph[t], ndim, shape, &c->aux[t], brn_herr(c)),
            c->cfg->head == BRN_HEAD_SHARED ? "model_build (shared auxiliary head)"
                                            : "model_build (fresh auxiliary head)");
    if (c->cfg->head == BRN_HEAD_SHARED) BRN_PROPAGATE(brn_sync_shared_head(c, t, 1));
    c->aux_slices[0].model = c->aux[t];
    c->aux_slices[0].begin = 0;
    c->aux_slices[0].end = c->train->model_child_count(c->aux[t]);
    c->aux_slice_count = 1;
    return STRATA_OK;
}

/* ---- the ensemble ------------------------------------------------------------------------- */

static json_object *parse_or_null(const char *text) {
    return text != NULL ? json_tokener_parse(text) : NULL;
}

static StrataStatus ensemble_graph(brn_ctx *c) {
    const brn_config *cfg = c->cfg;
    json_object *root = NULL, *layers = NULL, *ens, *trunk, *heads;
    const char *text;
    char alpha_text[40];
    int32_t j, t, e_last = c->modules[c->rounds_done - 1].end;
    BRN_PROPAGATE(graph_layers(c, &root, &layers));
    ens = json_object_new_object();
    trunk = json_object_new_array();
    heads = json_object_new_array();
    json_object_object_add(ens, "kind", json_object_new_string("tapped_ensemble"));
    json_object_object_add(ens, "combine", json_object_new_string(
        cfg->score_update == BRN_UPDATE_CUMULATIVE ? "cumulative" : "telescoping"));
    json_object_object_add(ens, "output", json_object_new_string(
        cfg->binary ? "binary" : cfg->hypothesis_softmax == BRN_SOFTMAX_BATCH ? "batch_softmax" : "softmax"));
    if (!cfg->binary && cfg->hypothesis_softmax == BRN_SOFTMAX_BATCH) /* only batch_softmax takes it */
        json_object_object_add(ens, "batch", json_object_new_int64(c->batch));
    for (j = 0; j < e_last; j++)
        json_object_array_add(trunk, json_object_get(json_object_array_get_idx(layers, (size_t)j)));
    json_object_object_add(ens, "trunk", trunk);
    for (t = 0; t < c->rounds_done; t++) {
        json_object *head = json_object_new_object(), *aux = parse_or_null(c->aux_graph[t]);
        if (aux == NULL) {
            json_object_put(head);
            json_object_put(ens);
            json_object_put(root);
            return brn_fail(c, STRATA_ERR_INTERNAL, "round %d's auxiliary graph is missing", (int)t);
        }
        snprintf(alpha_text, sizeof alpha_text, "%.17g", c->results[t].alpha);
        json_object_object_add(head, "tap", json_object_new_int(c->modules[t].end));
        json_object_object_add(head, "alpha", json_object_new_double_s(c->results[t].alpha, alpha_text));
        json_object_object_add(head, "layers", aux);
        json_object_array_add(heads, head);
    }
    json_object_object_add(ens, "heads", heads);
    text = json_object_to_json_string_ext(ens, JSON_C_TO_STRING_PLAIN);
    c->ens_graph = text != NULL ? (char *)malloc(strlen(text) + 1) : NULL;
    if (c->ens_graph != NULL) memcpy(c->ens_graph, text, strlen(text) + 1);
    json_object_put(ens);
    json_object_put(root);
    if (c->ens_graph == NULL) return brn_fail(c, STRATA_ERR_OUT_OF_MEMORY, "cannot build the ensemble graph");
    return STRATA_OK;
}

/* Copies every parameter and buffer of slice `a` [ab, ae), in order, to or from slice `b`
 * [bb, be) starting at b's parameter *next (advanced): a -> b when to_b, else b -> a. Element
 * counts must match. */
StrataStatus brn_copy_params(brn_ctx *c, StrataModel *a, int32_t ab, int32_t ae, StrataModel *b,
                             int32_t bb, int32_t be, int32_t *next, int to_b) {
    int32_t i, n = c->train->model_parameter_count(a, ab, ae);
    int32_t total = c->train->model_parameter_count(b, bb, be);
    if (n < 0 || total < 0)
        return brn_fail(c, STRATA_ERR_INTERNAL, "model_parameter_count: bad slice");
    for (i = 0; i < n; i++) {
        StrataParameter pa = STRATA_PARAMETER_INIT, pb = STRATA_PARAMETER_INIT;
        int64_t na, nb;
        if (*next >= total)
            return brn_fail(c, STRATA_ERR_INTERNAL, "parameter lists differ: the copy has %d "
                            "parameters, more are needed", (int)total);
        BRN_TRY(c, c->train->model_parameter(a, ab, ae, i, &pa, brn_herr(c)), "model_parameter");
        BRN_TRY(c, c->train->model_parameter(b, bb, be, *next, &pb, brn_herr(c)), "model_parameter");
        na = brn_tensor_count(pa.value);
        nb = brn_tensor_count(pb.value);
        if (na < 0 || na != nb)
            return brn_fail(c, STRATA_ERR_SHAPE_MISMATCH, "parameter %s has %lld elements, its copy "
                            "%s has %lld", pa.name, (long long)na, pb.name, (long long)nb);
        if (na > 0) {
            float *da = (float *)((char *)pa.value->data + pa.value->byte_offset);
            float *db = (float *)((char *)pb.value->data + pb.value->byte_offset);
            memcpy(to_b ? db : da, to_b ? da : db, (size_t)na * sizeof(float));
        }
        (*next)++;
    }
    return STRATA_OK;
}

/* Shared head: the net's chain children <-> the round's aux model (to_aux 1: net -> aux). */
StrataStatus brn_sync_shared_head(brn_ctx *c, int32_t t, int to_aux) {
    brn_slice slices[BRN_MAX_AUX_SLICES];
    int32_t s, count = 0, next = 0, cnt = c->train->model_child_count(c->aux[t]);
    BRN_PROPAGATE(shared_slices(c, c->modules[t].end, slices, &count));
    for (s = 0; s < count; s++)
        BRN_PROPAGATE(brn_copy_params(c, c->net, slices[s].begin, slices[s].end, c->aux[t], 0, cnt,
                                      &next, to_aux));
    if (next != c->train->model_parameter_count(c->aux[t], 0, cnt))
        return brn_fail(c, STRATA_ERR_INTERNAL, "the shared head's copy has %d parameters, the "
                        "network's children %d", (int)c->train->model_parameter_count(c->aux[t], 0, cnt),
                        (int)next);
    return STRATA_OK;
}

StrataStatus brn_build_ensemble(brn_ctx *c) {
    int32_t t, children, total, next = 0;
    int32_t e_last = c->modules[c->rounds_done - 1].end;
    BRN_PROPAGATE(ensemble_graph(c));
    BRN_TRY(c, c->train->model_build(c->run, c->ens_graph, 0, NULL, &c->ens, brn_herr(c)),
            "model_build (tapped_ensemble)");
    children = c->train->model_child_count(c->ens);
    total = c->train->model_parameter_count(c->ens, 0, children);
    BRN_PROPAGATE(brn_copy_params(c, c->net, 0, e_last, c->ens, 0, children, &next, 1));
    for (t = 0; t < c->rounds_done; t++)
        BRN_PROPAGATE(brn_copy_params(c, c->aux[t], 0, c->train->model_child_count(c->aux[t]),
                                      c->ens, 0, children, &next, 1));
    if (next != total)
        return brn_fail(c, STRATA_ERR_INTERNAL, "the ensemble has %d parameters, the trained "
                        "network and heads %d", (int)total, (int)next);
    return STRATA_OK;
}
