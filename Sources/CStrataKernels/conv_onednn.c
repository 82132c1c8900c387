/* conv_onednn.c — 2-D convolution by oneDNN's direct kernels, opened with dlopen.
 *
 * libdnnl.so.2 (Debian's libdnnl2, oneDNN 2.x with OpenMP) is not linked: the few C entry points
 * are declared here and resolved at the first use, so a machine without it keeps im2col + BLAS.
 * Its descriptors are opaque here (a memory descriptor is 696 bytes and a convolution descriptor
 * 5976 bytes in 2.6; the buffers below are larger), passed only by pointer.
 *
 * Per call, the batch is split over the Strata pool as the im2col path splits it; each part of
 * n samples runs on its thread with OpenMP pinned to one thread:
 *   forward          reorder x[n, C, H, W] -> oneDNN's source layout (e.g. nChw8c), weights
 *                    [OC, C, KH, KW] -> its weight layout, convolve, reorder y back to NCHW;
 *   backward data    dy -> its layout, weights -> its layout, convolve, dx back to NCHW;
 *   backward weights x, dy -> its layouts, convolve into this part's dW (and db), reorder dW
 *                    to [OC, C, KH, KW] in the part's slot; the caller sums the slots in order.
 * Primitives are created once per part size (a batch of 256 on 2 threads: one size, 128) and
 * kept. Scratchpads are the caller's (user mode), one per thread, so parts run concurrently. */
#include "strata_conv_onednn.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the oneDNN 2.x C API, as much as is used (values from dnnl_types.h) ---- */
typedef int dn_status;
typedef int64_t dn_dims[12];
typedef struct { _Alignas(64) unsigned char bytes[1024]; } dn_md;    /* dnnl_memory_desc_t: 696 bytes */
typedef struct { _Alignas(64) unsigned char bytes[8192]; } dn_desc;  /* dnnl_convolution_desc_t: 5976 */
typedef void *dn_handle;
typedef struct { int arg; dn_handle memory; } dn_arg;
typedef struct { int major, minor, patch; const char *hash; unsigned cpu_runtime, gpu_runtime; } dn_version;

enum { DN_F32 = 3, DN_TAG_ANY = 1, DN_TAG_A = 2, DN_TAG_ABCD = 5 };
enum { DN_FORWARD_TRAINING = 64, DN_BACKWARD_DATA = 160, DN_BACKWARD_WEIGHTS = 192, DN_CONV_DIRECT = 1 };
enum { DN_Q_SRC = 129, DN_Q_DIFF_SRC = 130, DN_Q_WEIGHTS = 131, DN_Q_DIFF_WEIGHTS = 132, DN_Q_DST = 133,
       DN_Q_DIFF_DST = 134, DN_Q_SCRATCHPAD = 136 };
enum { DN_ARG_SRC = 1, DN_ARG_DST = 17, DN_ARG_WEIGHTS = 33, DN_ARG_BIAS = 41, DN_ARG_SCRATCHPAD = 80,
       DN_ARG_DIFF_SRC = 129, DN_ARG_DIFF_DST = 145, DN_ARG_DIFF_WEIGHTS = 161, DN_ARG_DIFF_BIAS = 169 };
enum { DN_CPU = 1, DN_STREAM_DEFAULT = 1, DN_SCRATCHPAD_USER = 1 };

static struct {
    dn_status (*engine_create)(dn_handle *, int, size_t);
    dn_status (*stream_create)(dn_handle *, dn_handle, unsigned);
    dn_status (*stream_destroy)(dn_handle);
    dn_status (*md_init_by_tag)(dn_md *, int, const int64_t *, int, int);
    int (*md_equal)(const void *, const void *);
    size_t (*md_size)(const void *);
    dn_status (*conv_fwd_init)(dn_desc *, int, int, const dn_md *, const dn_md *, const dn_md *, const dn_md *,
                               const int64_t *, const int64_t *, const int64_t *);
    dn_status (*conv_bwd_data_init)(dn_desc *, int, const dn_md *, const dn_md *, const dn_md *,
                                    const int64_t *, const int64_t *, const int64_t *);
    dn_status (*conv_bwd_weights_init)(dn_desc *, int, const dn_md *, const dn_md *, const dn_md *, const dn_md *,
                                       const int64_t *, const int64_t *, const int64_t *);
    dn_status (*pd_create)(dn_handle *, const void *, dn_handle, dn_handle, dn_handle);
    dn_status (*pd_destroy)(dn_handle);
    const void *(*pd_query_md)(dn_handle, int, int);
    dn_status (*reorder_pd_create)(dn_handle *, const void *, dn_handle, const void *, dn_handle, dn_handle);
    dn_status (*prim_create)(dn_handle *, dn_handle);
    dn_status (*prim_destroy)(dn_handle);
    dn_status (*prim_execute)(dn_handle, dn_handle, int, const dn_arg *);
    dn_status (*memory_create)(dn_handle *, const void *, dn_handle, void *);
    dn_status (*memory_destroy)(dn_handle);
    dn_status (*attr_create)(dn_handle *);
    dn_status (*attr_destroy)(dn_handle);
    dn_status (*attr_set_scratchpad_mode)(dn_handle, int);
    const dn_version *(*version)(void);
    void (*omp_set_num_threads)(int);
    dn_handle engine, attr;
    char describe[512];
    int32_t ok;
} dn;

static pthread_once_t dn_once = PTHREAD_ONCE_INIT;

static void dn_load(void) {
    const char *name = getenv("STRATA_ONEDNN_LIBRARY");
    if (name && strcmp(name, "none") == 0) {
        snprintf(dn.describe, sizeof dn.describe, "disabled by STRATA_ONEDNN_LIBRARY=none");
        return;
    }
    if (!name || !name[0]) name = "libdnnl.so.2";
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(dn.describe, sizeof dn.describe, "not loaded: %s", why ? why : name);
        return;
    }
    const char *missing = NULL;
#define RESOLVE(field, symbol) \
    do { *(void **)&dn.field = dlsym(h, symbol); if (!dn.field && !missing) missing = symbol; } while (0)
    RESOLVE(engine_create, "dnnl_engine_create");
    RESOLVE(stream_create, "dnnl_stream_create");
    RESOLVE(stream_destroy, "dnnl_stream_destroy");
    RESOLVE(md_init_by_tag, "dnnl_memory_desc_init_by_tag");
    RESOLVE(md_equal, "dnnl_memory_desc_equal");
    RESOLVE(md_size, "dnnl_memory_desc_get_size");
    RESOLVE(conv_fwd_init, "dnnl_convolution_forward_desc_init");
    RESOLVE(conv_bwd_data_init, "dnnl_convolution_backward_data_desc_init");
    RESOLVE(conv_bwd_weights_init, "dnnl_convolution_backward_weights_desc_init");
    RESOLVE(pd_create, "dnnl_primitive_desc_create");
    RESOLVE(pd_destroy, "dnnl_primitive_desc_destroy");
    RESOLVE(pd_query_md, "dnnl_primitive_desc_query_md");
    RESOLVE(reorder_pd_create, "dnnl_reorder_primitive_desc_create");
    RESOLVE(prim_create, "dnnl_primitive_create");
    RESOLVE(prim_destroy, "dnnl_primitive_destroy");
    RESOLVE(prim_execute, "dnnl_primitive_execute");
    RESOLVE(memory_create, "dnnl_memory_create");
    RESOLVE(memory_destroy, "dnnl_memory_destroy");
    RESOLVE(attr_create, "dnnl_primitive_attr_create");
    RESOLVE(attr_destroy, "dnnl_primitive_attr_destroy");
    RESOLVE(attr_set_scratchpad_mode, "dnnl_primitive_attr_set_scratchpad_mode");
    RESOLVE(version, "dnnl_version");
#undef RESOLVE
    /* the OpenMP runtime the library was built with (libgomp), found through its dependencies */
    *(void **)&dn.omp_set_num_threads = dlsym(h, "omp_set_num_threads");
    if (missing) {
        snprintf(dn.describe, sizeof dn.describe, "%s lacks %s", name, missing);
        return;
    }
    const dn_version *v = dn.version();
    if (!v || v->major != 2) {
        snprintf(dn.describe, sizeof dn.describe, "%s is oneDNN %d, not 2.x", name, v ? v->major : -1);
        return;
    }
    if (dn.engine_create(&dn.engine, DN_CPU, 0) || dn.attr_create(&dn.attr) ||
        dn.attr_set_scratchpad_mode(dn.attr, DN_SCRATCHPAD_USER)) {
        snprintf(dn.describe, sizeof dn.describe, "%s: no CPU engine", name);
        return;
    }
    snprintf(dn.describe, sizeof dn.describe, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    dn.ok = 1;
}

int32_t sk_onednn_available(void) {
    pthread_once(&dn_once, dn_load);
    return dn.ok;
}

const char *sk_onednn_describe(void) {
    pthread_once(&dn_once, dn_load);
    return dn.describe;
}

/* ---- plans ---- */

/* A primitive and its descriptor; a reorder with prim == NULL is the identity (layouts equal). */
typedef struct { dn_handle pd, prim; } op_t;

enum { PARTS = 4 };  /* part sizes kept per layer (a batch size and the last, smaller batch) */

typedef struct {
    int64_t n;                        /* samples in the part; 0 = unused slot */
    dn_md u_src, u_dst;               /* NCHW [n, C, H, W], [n, OC, OH, OW] */
    op_t fwd, f_src, f_wei, f_dst;    /* convolution; NCHW -> its src; OIHW -> its weights; its dst -> NCHW */
    int has_backward;
    op_t bwd_data, d_dst, d_wei, d_src;
    op_t bwd_weights, w_src, w_dst, w_dw;
    size_t scratch;                   /* bytes per thread: every blocked buffer + the largest scratchpad */
} part_plan;

struct sk_onednn_conv {
    sk_conv_shape s;
    int32_t has_bias;
    dn_md u_wei, u_bias;              /* [OC, C, KH, KW], [OC] */
    dn_desc desc;                     /* descriptor scratch (under lock) */
    part_plan parts[PARTS];
    int32_t next_slot;
    pthread_mutex_t lock;
    dn_handle streams[64];            /* per pool thread: a stream is not shared by threads running at once */
    void *arena[64];                  /* per pool thread */
    size_t arena_bytes[64];
    float *partials;                  /* [threads, OC*K + OC]: each part's dW, db */
    int64_t partials_floats;
    char error[256];
};

static void op_destroy(op_t *o) {
    if (o->prim) dn.prim_destroy(o->prim);
    if (o->pd) dn.pd_destroy(o->pd);
    o->prim = o->pd = NULL;
}

static const void *query(op_t *o, int what) { return dn.pd_query_md(o->pd, what, 0); }

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

/* A reorder from `from` to `to`, or the identity when they are the same layout. */
static int make_reorder(op_t *o, const void *from, const void *to) {
    o->pd = o->prim = NULL;
    if (dn.md_equal(from, to)) return 0;
    if (dn.reorder_pd_create(&o->pd, from, dn.engine, to, dn.engine, dn.attr)) return -1;
    return dn.prim_create(&o->prim, o->pd) ? -1 : 0;
}

static int make_op(op_t *o, const dn_desc *d, op_t *hint) {
    o->pd = o->prim = NULL;
    if (dn.pd_create(&o->pd, d, dn.attr, dn.engine, hint ? hint->pd : NULL)) return -1;
    return dn.prim_create(&o->prim, o->pd) ? -1 : 0;
}

static size_t scratch_of(op_t *o) { return o->pd ? round64(dn.md_size(query(o, DN_Q_SCRATCHPAD))) : 0; }

static void geometry(const sk_conv_shape *s, dn_dims strides, dn_dims pl, dn_dims pr) {
    memset(strides, 0, sizeof(dn_dims));
    memset(pl, 0, sizeof(dn_dims));
    memset(pr, 0, sizeof(dn_dims));
    strides[0] = s->SH; strides[1] = s->SW;
    pl[0] = s->PH; pl[1] = s->PW;
    pr[0] = (s->OH - 1) * s->SH + s->KH - s->H - s->PH;
    pr[1] = (s->OW - 1) * s->SW + s->KW - s->W - s->PW;
}

static int md4(dn_md *md, int64_t a, int64_t b, int64_t c, int64_t d, int tag) {
    dn_dims dims = {a, b, c, d};
    return dn.md_init_by_tag(md, 4, dims, DN_F32, tag) ? -1 : 0;
}

/* The forward primitive and its reorders for parts of n samples. */
static int plan_forward(sk_onednn_conv *p, part_plan *q, int64_t n) {
    const sk_conv_shape *s = &p->s;
    dn_md a_src, a_wei, a_dst;
    dn_dims st, pl, pr;
    geometry(s, st, pl, pr);
    q->n = n;
    if (md4(&q->u_src, n, s->C, s->H, s->W, DN_TAG_ABCD) || md4(&q->u_dst, n, s->OC, s->OH, s->OW, DN_TAG_ABCD) ||
        md4(&a_src, n, s->C, s->H, s->W, DN_TAG_ANY) || md4(&a_dst, n, s->OC, s->OH, s->OW, DN_TAG_ANY) ||
        md4(&a_wei, s->OC, s->C, s->KH, s->KW, DN_TAG_ANY))
        return -1;
    if (dn.conv_fwd_init(&p->desc, DN_FORWARD_TRAINING, DN_CONV_DIRECT, &a_src, &a_wei, p->has_bias ? &p->u_bias : NULL,
                         &a_dst, st, pl, pr))
        return -1;
    if (make_op(&q->fwd, &p->desc, NULL)) return -1;
    if (make_reorder(&q->f_src, &q->u_src, query(&q->fwd, DN_Q_SRC)) ||
        make_reorder(&q->f_wei, &p->u_wei, query(&q->fwd, DN_Q_WEIGHTS)) ||
        make_reorder(&q->f_dst, query(&q->fwd, DN_Q_DST), &q->u_dst))
        return -1;
    q->scratch = round64(dn.md_size(query(&q->fwd, DN_Q_SRC))) + round64(dn.md_size(query(&q->fwd, DN_Q_WEIGHTS))) +
                 round64(dn.md_size(query(&q->fwd, DN_Q_DST))) + scratch_of(&q->fwd);
    return 0;
}

/* The two backward primitives and their reorders, hinted by the forward one. */
static int plan_backward(sk_onednn_conv *p, part_plan *q) {
    const sk_conv_shape *s = &p->s;
    const int64_t n = q->n;
    dn_md a_src, a_wei, a_dst, u_db;
    dn_dims st, pl, pr;
    geometry(s, st, pl, pr);
    if (md4(&a_src, n, s->C, s->H, s->W, DN_TAG_ANY) || md4(&a_dst, n, s->OC, s->OH, s->OW, DN_TAG_ANY) ||
        md4(&a_wei, s->OC, s->C, s->KH, s->KW, DN_TAG_ANY))
        return -1;
    u_db = p->u_bias;
    if (dn.conv_bwd_data_init(&p->desc, DN_CONV_DIRECT, &a_src, &a_wei, &a_dst, st, pl, pr)) return -1;
    if (make_op(&q->bwd_data, &p->desc, &q->fwd)) return -1;
    if (make_reorder(&q->d_dst, &q->u_dst, query(&q->bwd_data, DN_Q_DIFF_DST)) ||
        make_reorder(&q->d_wei, &p->u_wei, query(&q->bwd_data, DN_Q_WEIGHTS)) ||
        make_reorder(&q->d_src, query(&q->bwd_data, DN_Q_DIFF_SRC), &q->u_src))
        return -1;
    if (dn.conv_bwd_weights_init(&p->desc, DN_CONV_DIRECT, &a_src, &a_wei, p->has_bias ? &u_db : NULL, &a_dst, st, pl, pr))
        return -1;
    if (make_op(&q->bwd_weights, &p->desc, &q->fwd)) return -1;
    if (make_reorder(&q->w_src, &q->u_src, query(&q->bwd_weights, DN_Q_SRC)) ||
        make_reorder(&q->w_dst, &q->u_dst, query(&q->bwd_weights, DN_Q_DIFF_DST)) ||
        make_reorder(&q->w_dw, query(&q->bwd_weights, DN_Q_DIFF_WEIGHTS), &p->u_wei))
        return -1;
    size_t d = round64(dn.md_size(query(&q->bwd_data, DN_Q_DIFF_DST))) +
               round64(dn.md_size(query(&q->bwd_data, DN_Q_WEIGHTS))) +
               round64(dn.md_size(query(&q->bwd_data, DN_Q_DIFF_SRC))) + scratch_of(&q->bwd_data);
    size_t w = round64(dn.md_size(query(&q->bwd_weights, DN_Q_SRC))) +
               round64(dn.md_size(query(&q->bwd_weights, DN_Q_DIFF_DST))) +
               round64(dn.md_size(query(&q->bwd_weights, DN_Q_DIFF_WEIGHTS))) + scratch_of(&q->bwd_weights);
    if (d > q->scratch) q->scratch = d;
    if (w > q->scratch) q->scratch = w;
    q->has_backward = 1;
    return 0;
}

static void part_destroy(part_plan *q) {
    op_t *ops[] = {&q->fwd, &q->f_src, &q->f_wei, &q->f_dst, &q->bwd_data, &q->d_dst, &q->d_wei, &q->d_src,
                   &q->bwd_weights, &q->w_src, &q->w_dst, &q->w_dw};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) op_destroy(ops[i]);
    q->n = 0;
    q->has_backward = 0;
}

sk_onednn_conv *sk_onednn_conv_create(const sk_conv_shape *s, int32_t has_bias) {
    if (!sk_onednn_available()) return NULL;
    if (s->groups != 1 || (s->DH > 1) || (s->DW > 1)) return NULL;
    sk_onednn_conv *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->s = *s;
    p->has_bias = has_bias;
    pthread_mutex_init(&p->lock, NULL);
    dn_dims ob = {s->OC};
    if (md4(&p->u_wei, s->OC, s->C, s->KH, s->KW, DN_TAG_ABCD) || dn.md_init_by_tag(&p->u_bias, 1, ob, DN_F32, DN_TAG_A)) {
        sk_onednn_conv_destroy(p);
        return NULL;
    }
    /* oneDNN must take the shape: plan one sample now (with one OpenMP thread, as the parts run). */
    if (dn.omp_set_num_threads) dn.omp_set_num_threads(1);
    if (plan_forward(p, &p->parts[0], 1) || plan_backward(p, &p->parts[0])) {
        sk_onednn_conv_destroy(p);
        return NULL;
    }
    p->next_slot = 1;
    return p;
}

void sk_onednn_conv_destroy(sk_onednn_conv *p) {
    if (!p) return;
    for (int i = 0; i < PARTS; i++) part_destroy(&p->parts[i]);
    for (int i = 0; i < 64; i++) free(p->arena[i]);
    for (int i = 0; i < 64; i++) if (p->streams[i]) dn.stream_destroy(p->streams[i]);
    free(p->partials);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *sk_onednn_conv_error(const sk_onednn_conv *p) { return p ? p->error : "no plan"; }

/* The plan for parts of n samples, made on first use (slots are reused round-robin). */
static part_plan *plan_for(sk_onednn_conv *p, int64_t n, int backward) {
    pthread_mutex_lock(&p->lock);
    part_plan *q = NULL;
    for (int i = 0; i < PARTS; i++)
        if (p->parts[i].n == n) q = &p->parts[i];
    if (!q) {
        q = &p->parts[p->next_slot];
        p->next_slot = (p->next_slot + 1) % PARTS;
        part_destroy(q);
        if (plan_forward(p, q, n)) {
            part_destroy(q);
            q = NULL;
        }
    }
    if (q && backward && !q->has_backward && plan_backward(p, q)) {
        part_destroy(q);
        q = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    return q;
}

/* Runs `o` with the given (argument, layout, buffer) triples and the thread's scratchpad. */
typedef struct { int arg; const void *md; void *data; } bind_t;

static int execute(op_t *o, dn_handle stream, const bind_t *b, int nb, void *scratchpad) {
    dn_arg args[8];
    int n = 0, rc = 0;
    for (int i = 0; i < nb && !rc; i++) {
        args[n].arg = b[i].arg;
        if (dn.memory_create(&args[n].memory, b[i].md, dn.engine, b[i].data)) rc = -1;
        else n++;
    }
    if (!rc && scratch_of(o)) {
        args[n].arg = DN_ARG_SCRATCHPAD;
        if (dn.memory_create(&args[n].memory, query(o, DN_Q_SCRATCHPAD), dn.engine, scratchpad)) rc = -1;
        else n++;
    }
    if (!rc && dn.prim_execute(o->prim, stream, n, args)) rc = -1;
    for (int i = 0; i < n; i++) dn.memory_destroy(args[i].memory);
    return rc;
}

/* Reorders `from` (layout of `o`'s source) into `to`; the identity returns `from` itself. */
static void *reorder(op_t *o, dn_handle stream, void *from, void *to, int *rc) {
    if (!o->prim || *rc) return o->prim ? to : from;
    bind_t b[2] = {{DN_ARG_SRC, query(o, DN_Q_SRC), from}, {DN_ARG_DST, query(o, DN_Q_DST), to}};
    if (execute(o, stream, b, 2, NULL)) *rc = -1;
    return to;
}

/* Bump allocation in the thread's arena (sized by the plan's `scratch`). */
static void *take(char **cursor, const void *md) {
    void *at = *cursor;
    *cursor += round64(dn.md_size(md));
    return at;
}

typedef struct {
    sk_onednn_conv *p;
    float *out, *dinp;
    const float *inp, *weight, *bias, *dout;
    const sk_conv_epilogue *epilogue;  /* forward only; NULL = plain convolution */
    int32_t failed[64];
} job_t;

/* The thread's stream, made on first use (thread indices are exclusive within one call). */
static dn_handle stream_for(sk_onednn_conv *p, int32_t thread) {
    if (!p->streams[thread] && dn.stream_create(&p->streams[thread], dn.engine, DN_STREAM_DEFAULT)) p->streams[thread] = NULL;
    return p->streams[thread];
}

static char *arena(sk_onednn_conv *p, int32_t thread, size_t bytes) {
    if (p->arena_bytes[thread] < bytes) {
        free(p->arena[thread]);
        p->arena[thread] = NULL;
        if (posix_memalign(&p->arena[thread], 64, bytes)) p->arena[thread] = NULL;
        p->arena_bytes[thread] = p->arena[thread] ? bytes : 0;
    }
    return p->arena[thread];
}

/* The fields of a dnnl_memory_desc_t (oneDNN 2.x, dnnl_types.h) that say where an element lies:
 * a blocked layout puts element (n, c, h, w) at offset0 + n*strides[0] + (c/B)*strides[1] +
 * h*strides[2] + w*strides[3] + c%B, with B the inner block over the channels (1 when none). */
typedef struct { int64_t offset0, strides[4], block; } md_blocking;

static int md_read(const void *md, md_blocking *b) {
    const unsigned char *m = md;
    int32_t ndims, kind, nblks;
    int64_t idx0, blk0;
    memcpy(&ndims, m + 0, 4);
    memcpy(&kind, m + 312, 4);           /* format_kind: 2 = blocked */
    memcpy(&nblks, m + 416, 4);          /* format_desc.blocking.inner_nblks */
    memcpy(&blk0, m + 424, 8);           /* inner_blks[0] */
    memcpy(&idx0, m + 520, 8);           /* inner_idxs[0] */
    if (ndims != 4 || kind != 2 || nblks > 1 || (nblks == 1 && idx0 != 1)) return -1;
    memcpy(&b->offset0, m + 304, 8);
    memcpy(b->strides, m + 320, 32);     /* format_desc.blocking.strides[0..3] */
    b->block = nblks == 1 ? blk0 : 1;
    return b->block > 0 ? 0 : -1;
}

/* Whether `md` is a layout unblock_epilogue reads: plain, or blocked over the channels only. */
static int channel_blocked(const void *md) {
    md_blocking b;
    return md_read(md, &b) == 0;
}

/* out[n0 + i, c, h, w] = epilogue(y[i, c, h, w]) for the part's n samples, y in oneDNN's layout
 * `md` (a copy, as oneDNN's reorder makes, then the epilogue's float steps: the same bits). */
static void unblock_epilogue(float *out, const float *y, const void *md, const sk_conv_epilogue *e, int64_t n0,
                             int64_t n, int64_t C, int64_t OH, int64_t OW) {
    md_blocking b;
    md_read(md, &b);
    const int64_t P = OH * OW;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t c = 0; c < C; c++) {
            const float *src = y + b.offset0 + i * b.strides[0] + (c / b.block) * b.strides[1] + c % b.block;
            float *restrict o = out + ((n0 + i) * C + c) * P;                   /* [OH, OW] */
            for (int64_t h = 0; h < OH; h++)
                for (int64_t w = 0; w < OW; w++) o[h * OW + w] = src[h * b.strides[2] + w * b.strides[3]];
        }
        sk_conv_epilogue_apply(out, e, n0 + i, n0 + i + 1, C, P);  /* the sample is still in cache */
    }
}

static void forward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    job_t *j = vctx;
    sk_onednn_conv *p = j->p;
    const sk_conv_shape *s = &p->s;
    if (dn.omp_set_num_threads) dn.omp_set_num_threads(1);
    dn_handle stream = stream_for(p, thread);
    part_plan *q = stream ? plan_for(p, end - begin, 0) : NULL;
    char *cur = q ? arena(p, thread, q->scratch) : NULL;
    if (!cur) { j->failed[thread] = 1; return; }
    int rc = 0;
    op_t *f = &q->fwd;
    void *x = reorder(&q->f_src, stream, (void *)(j->inp + begin * s->C * s->H * s->W), take(&cur, query(f, DN_Q_SRC)), &rc);
    void *w = reorder(&q->f_wei, stream, (void *)j->weight, take(&cur, query(f, DN_Q_WEIGHTS)), &rc);
    float *user_y = j->out + begin * s->OC * s->OH * s->OW;
    void *y = q->f_dst.prim ? take(&cur, query(f, DN_Q_DST)) : user_y;
    bind_t b[4] = {{DN_ARG_SRC, query(f, DN_Q_SRC), x}, {DN_ARG_WEIGHTS, query(f, DN_Q_WEIGHTS), w},
                   {DN_ARG_DST, query(f, DN_Q_DST), y}, {DN_ARG_BIAS, &p->u_bias, (void *)j->bias}};
    if (!rc && execute(f, stream, b, p->has_bias ? 4 : 3, cur)) rc = -1;
    const void *dst_md = query(f, DN_Q_DST);
    if (!rc && j->epilogue && q->f_dst.prim && channel_blocked(dst_md)) {
        /* the epilogue reads oneDNN's layout and writes NCHW: no separate reorder pass */
        unblock_epilogue(j->out, y, dst_md, j->epilogue, begin, end - begin, s->OC, s->OH, s->OW);
        if (rc) j->failed[thread] = 1;
        return;
    }
    if (q->f_dst.prim) reorder(&q->f_dst, stream, y, user_y, &rc);
    if (!rc && j->epilogue) sk_conv_epilogue_apply(j->out, j->epilogue, begin, end, s->OC, s->OH * s->OW);
    if (rc) j->failed[thread] = 1;
}

static int finish(sk_onednn_conv *p, job_t *j, const char *what) {
    for (int t = 0; t < 64; t++)
        if (j->failed[t]) {
            snprintf(p->error, sizeof p->error, "oneDNN %s failed on pool thread %d (shape %lldx%lldx%lldx%lld -> %lld channels)",
                     what, t, (long long)p->s.N, (long long)p->s.C, (long long)p->s.H, (long long)p->s.W, (long long)p->s.OC);
            return -1;
        }
    return 0;
}

int32_t sk_onednn_conv_forward(sk_onednn_conv *p, float *out, const float *inp, const float *weight,
                               const float *bias, const sk_conv_shape *s) {
    return sk_onednn_conv_forward_fused(p, out, inp, weight, bias, s, NULL);
}

int32_t sk_onednn_conv_forward_fused(sk_onednn_conv *p, float *out, const float *inp, const float *weight,
                                     const float *bias, const sk_conv_shape *s, const sk_conv_epilogue *e) {
    if (!p) return -1;
    p->s.N = s->N;
    job_t j = {.p = p, .out = out, .inp = inp, .weight = weight, .bias = bias, .epilogue = e};
    if (p->has_bias && !bias) {
        snprintf(p->error, sizeof p->error, "planned with a bias, called without one");
        return -1;
    }
    sk_parallel_for(s->N, 1, forward_task, &j);
    return finish(p, &j, "forward");
}

static void backward_task(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    job_t *j = vctx;
    sk_onednn_conv *p = j->p;
    const sk_conv_shape *s = &p->s;
    const int64_t kw = s->OC * s->C * s->KH * s->KW;
    if (dn.omp_set_num_threads) dn.omp_set_num_threads(1);
    dn_handle stream = stream_for(p, thread);
    part_plan *q = stream ? plan_for(p, end - begin, 1) : NULL;
    char *base = q ? arena(p, thread, q->scratch) : NULL;
    if (!base) { j->failed[thread] = 1; return; }
    int rc = 0;
    float *user_dy = (float *)j->dout + begin * s->OC * s->OH * s->OW;
    float *user_x = (float *)j->inp + begin * s->C * s->H * s->W;
    if (j->dinp) {
        char *cur = base;
        op_t *d = &q->bwd_data;
        void *dy = reorder(&q->d_dst, stream, user_dy, take(&cur, query(d, DN_Q_DIFF_DST)), &rc);
        void *w = reorder(&q->d_wei, stream, (void *)j->weight, take(&cur, query(d, DN_Q_WEIGHTS)), &rc);
        float *user_dx = j->dinp + begin * s->C * s->H * s->W;
        void *dx = q->d_src.prim ? take(&cur, query(d, DN_Q_DIFF_SRC)) : user_dx;
        bind_t b[3] = {{DN_ARG_DIFF_DST, query(d, DN_Q_DIFF_DST), dy}, {DN_ARG_WEIGHTS, query(d, DN_Q_WEIGHTS), w},
                       {DN_ARG_DIFF_SRC, query(d, DN_Q_DIFF_SRC), dx}};
        if (!rc && execute(d, stream, b, 3, cur)) rc = -1;
        if (q->d_src.prim) reorder(&q->d_src, stream, dx, user_dx, &rc);
    }
    char *cur = base;
    op_t *w = &q->bwd_weights;
    float *slot = p->partials + thread * (kw + s->OC);  /* this part's dW [OC, C, KH, KW], then db [OC] */
    void *x = reorder(&q->w_src, stream, user_x, take(&cur, query(w, DN_Q_SRC)), &rc);
    void *dy = reorder(&q->w_dst, stream, user_dy, take(&cur, query(w, DN_Q_DIFF_DST)), &rc);
    void *dw = q->w_dw.prim ? take(&cur, query(w, DN_Q_DIFF_WEIGHTS)) : slot;
    bind_t b[4] = {{DN_ARG_SRC, query(w, DN_Q_SRC), x}, {DN_ARG_DIFF_DST, query(w, DN_Q_DIFF_DST), dy},
                   {DN_ARG_DIFF_WEIGHTS, query(w, DN_Q_DIFF_WEIGHTS), dw}, {DN_ARG_DIFF_BIAS, &p->u_bias, slot + kw}};
    if (!rc && execute(w, stream, b, p->has_bias ? 4 : 3, cur)) rc = -1;
    if (q->w_dw.prim) reorder(&q->w_dw, stream, dw, slot, &rc);
    if (rc) j->failed[thread] = 1;
}

int32_t sk_onednn_conv_backward(sk_onednn_conv *p, float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, const sk_conv_shape *s) {
    if (!p) return -1;
    p->s.N = s->N;
    const int32_t T = sk_threads();
    const int64_t kw = s->OC * s->C * s->KH * s->KW, stride = kw + s->OC;
    if (p->partials_floats < stride * T) {
        free(p->partials);
        p->partials = malloc((size_t)(stride * T) * sizeof(float));
        p->partials_floats = p->partials ? stride * T : 0;
        if (!p->partials) {
            snprintf(p->error, sizeof p->error, "out of memory for the weight gradients");
            return -1;
        }
    }
    /* A part that does not run (fewer samples than threads) leaves its slot at zero. */
    memset(p->partials, 0, (size_t)(stride * T) * sizeof(float));
    job_t j = {.p = p, .dinp = dinp, .inp = inp, .weight = weight, .dout = dout};
    sk_parallel_for(s->N, 1, backward_task, &j);
    if (finish(p, &j, "backward")) return -1;
    for (int32_t t = 0; t < T; t++) {
        const float *slot = p->partials + t * stride;
        for (int64_t i = 0; i < kw; i++) dweight[i] += slot[i];
        if (dbias && p->has_bias) for (int64_t oc = 0; oc < s->OC; oc++) dbias[oc] += slot[kw + oc];
    }
    return 0;
}
