/* strata_conv_onednn.h — 2-D convolution through oneDNN (libdnnl.so.2, opened with dlopen).
 *
 * The same contract as sk_conv2d_forward / sk_conv2d_backward (NCHW input and output, weight
 * [OC, C, KH, KW], gradients accumulated into dweight and dbias), computed by oneDNN's direct
 * (JIT, AVX2 or AVX-512 as the CPU allows) kernels in its blocked layouts, with the reorders from
 * and to NCHW done per pool thread. The batch is split over the Strata pool exactly as the im2col
 * path splits it, and oneDNN runs single-threaded inside each part, so a result depends only on
 * the shape and the thread count. Without the library every call here reports it unavailable
 * and the layer keeps im2col + BLAS. */
#ifndef STRATA_CONV_ONEDNN_H
#define STRATA_CONV_ONEDNN_H

#include "strata_kernels.h"
#include "strata_conv_epilogue.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when libdnnl.so.2 (or STRATA_ONEDNN_LIBRARY) is loaded and its entry points resolved;
 *  STRATA_ONEDNN_LIBRARY=none disables it. */
int32_t sk_onednn_available(void);
/** The library's version "2.6.3", or the reason it is not available. */
const char *sk_onednn_describe(void);

/** The per-layer state: primitives per part size, per-thread scratch. Opaque. */
typedef struct sk_onednn_conv sk_onednn_conv;

/** A plan for the shape `s` (its N is ignored; the batch comes with each call); NULL when
 *  oneDNN is not available or does not take this shape (groups > 1 or dilation > 1). */
sk_onednn_conv *sk_onednn_conv_create(const sk_conv_shape *s, int32_t has_bias);
void sk_onednn_conv_destroy(sk_onednn_conv *p);

/** out[N, OC, OH, OW] = conv(inp, weight) + bias; s->N is the batch. 0 on success, else -1
 *  (sk_onednn_conv_error says why). */
int32_t sk_onednn_conv_forward(sk_onednn_conv *p, float *out, const float *inp, const float *weight,
                               const float *bias, const sk_conv_shape *s);
/** The same with `e` (may be NULL) applied to each part of the batch right after its reorder to
 *  NCHW (strata_conv_epilogue.h). */
int32_t sk_onednn_conv_forward_fused(sk_onednn_conv *p, float *out, const float *inp, const float *weight,
                                     const float *bias, const sk_conv_shape *s, const sk_conv_epilogue *e);
/** dinp (may be NULL) = input gradient; dweight, dbias (may be NULL) += weight and bias gradients. */
int32_t sk_onednn_conv_backward(sk_onednn_conv *p, float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, const sk_conv_shape *s);
/** The last failure of this plan, or "". */
const char *sk_onednn_conv_error(const sk_onednn_conv *p);

#ifdef __cplusplus
}
#endif

#endif
