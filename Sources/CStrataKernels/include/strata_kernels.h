/* strata_kernels.h — the core's numerical kernels and thread pool.
 *
 * This is the core's internal C layer, not the plugin ABI (that is include/strata/).
 * Conventions (after llm.c): outputs first, a `d` prefix means a gradient, shapes are
 * stated before each function. Legend: N batch, C input channels, H/W input height/width,
 * OC output channels, OH/OW output height/width, K kernel size, P = OH*OW.
 * Every tensor is contiguous float32 in NCHW (images) or [N, F] (features) order.
 * Input gradients (`dinp`) are overwritten; parameter gradients (`dweight`, `dbias`)
 * are accumulated (+=) into buffers the caller zeroes.
 * Kernels split their work over the thread pool; OpenBLAS runs single-threaded inside
 * each pool thread, so the two never spin against each other. */
#ifndef STRATA_KERNELS_H
#define STRATA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "strata_ffi.h" /* the plugin host's libffi and json-c calls */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- thread pool ---------------------------------------------------------------- */

/** Task body: processes items [begin, end) on pool thread `thread` (0 = caller). */
typedef void (*sk_task_fn)(void *ctx, int64_t begin, int64_t end, int32_t thread);

/** Sets the number of threads (1..64), the caller included. Also pins OpenBLAS to 1 thread. */
void sk_set_threads(int32_t n);
/** The number of pool threads, the caller included. */
int32_t sk_threads(void);
/** Runs fn over [0, n) split into sk_threads() contiguous ranges; ranges shorter than
 *  `grain` items are not split further. Returns when every range is done. Not reentrant:
 *  a task must not call sk_parallel_for itself (it then runs inline). */
void sk_parallel_for(int64_t n, int64_t grain, sk_task_fn fn, void *ctx);

/* ---- linear: out[N,OC] = inp[N,C] · weight[OC,C]^T + bias[OC] -------------------- */

void sk_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                       int64_t N, int64_t C, int64_t OC);
/** dinp may be NULL (no input gradient); dbias may be NULL (no bias). */
void sk_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int64_t N, int64_t C, int64_t OC);

/* ---- conv2d (im2col + sgemm), groups supported ------------------------------------ */

typedef struct {
    int64_t N, C, H, W;      /* input */
    int64_t OC, KH, KW;      /* weight [OC, C/groups, KH, KW] */
    int64_t SH, SW, PH, PW;  /* stride, zero padding */
    int64_t OH, OW;          /* output */
    int64_t groups;
    int64_t DH, DW;          /* dilation; 0 means 1 */
} sk_conv_shape;

/** Fills OH and OW from the other fields; returns 0 on success, -1 if the output would be empty. */
int32_t sk_conv_infer(sk_conv_shape *s);
/** Floats of workspace the conv kernels need for `s` at its N with `threads` pool threads. */
int64_t sk_conv_workspace(const sk_conv_shape *s, int32_t threads);
/** out[N,OC,OH,OW]; bias may be NULL. */
void sk_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                       const sk_conv_shape *s, float *workspace);
/** dinp may be NULL; dbias may be NULL. */
void sk_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const sk_conv_shape *s, float *workspace);

/** Depthwise convolution (groups == C == OC, weight [C, 1, KH, KW]) computed directly
 *  (depthwise.c): no workspace. The same shapes, strides, padding and dilation as conv2d. */
void sk_depthwise_forward(float *out, const float *inp, const float *weight, const float *bias, const sk_conv_shape *s);
void sk_depthwise_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const sk_conv_shape *s);

/* ---- pooling ----------------------------------------------------------------------- */

typedef struct {
    int64_t N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW;
    int64_t ceil_mode;   /* 1: OH = ceil(...) + 1, the last window starting inside the input or left padding */
    int64_t exclude_pad; /* average pooling: 1 divides by the window's elements inside the input
                            (count_include_pad=False); 0 by the window clipped to the padded input */
} sk_pool_shape;

int32_t sk_pool_infer(sk_pool_shape *s);
/** argmax[N,C,OH,OW] receives the flat input index (within the plane) of each maximum. */
void sk_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const sk_pool_shape *s);
void sk_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const sk_pool_shape *s);
/** Divides by the window's size as PyTorch's avg_pool2d does (see exclude_pad). */
void sk_avgpool2d_forward(float *out, const float *inp, const sk_pool_shape *s);
void sk_avgpool2d_backward(float *dinp, const float *dout, const sk_pool_shape *s);
/** Global pools: out[N,C] over each H*W plane (P = H*W). */
void sk_global_maxpool_forward(float *out, int32_t *argmax, const float *inp, int64_t NC, int64_t P);
void sk_global_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, int64_t NC, int64_t P);
void sk_global_avgpool_forward(float *out, const float *inp, int64_t NC, int64_t P);
void sk_global_avgpool_backward(float *dinp, const float *dout, int64_t NC, int64_t P);

/** Adaptive pooling of [N,C,H,W] to [N,C,OH,OW] (any size, as PyTorch):
 *  window (oh, ow) covers rows [oh*H/OH, ceil((oh+1)*H/OH)) and the same for columns.
 *  Max pooling when argmax is not NULL (it receives the in-plane index of each maximum),
 *  average pooling otherwise. */
typedef struct {
    int64_t N, C, H, W, OH, OW;
} sk_adaptive_shape;
void sk_adaptive_pool2d_forward(float *out, int32_t *argmax, const float *inp, const sk_adaptive_shape *s);
void sk_adaptive_pool2d_backward(float *dinp, const float *dout, const int32_t *argmax, const sk_adaptive_shape *s);

/* ---- batch normalisation over [N, C, P] (P = H*W, or 1 for BatchNorm1d) ------------- */

/** Training: batch statistics; saves mean and invstd [C] for backward and updates the
 *  running statistics with `momentum` (running_var uses the unbiased variance, as PyTorch).
 *  weight/bias may be NULL (affine=false). */
void sk_batchnorm_forward_train(float *out, float *save_mean, float *save_invstd,
                                float *running_mean, float *running_var,
                                const float *inp, const float *weight, const float *bias,
                                int64_t N, int64_t C, int64_t P, float eps, float momentum);
/** Evaluation: running statistics. */
void sk_batchnorm_forward_eval(float *out, const float *inp, const float *weight, const float *bias,
                               const float *running_mean, const float *running_var,
                               int64_t N, int64_t C, int64_t P, float eps);
/** Backward of the training forward. dweight/dbias may be NULL; dinp may be NULL. */
void sk_batchnorm_backward_train(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, const float *save_mean,
                                 const float *save_invstd, int64_t N, int64_t C, int64_t P);
/** Backward of the evaluation forward (statistics are constants). */
void sk_batchnorm_backward_eval(float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, const float *running_mean,
                                const float *running_var, int64_t N, int64_t C, int64_t P, float eps);

/* ---- elementwise ------------------------------------------------------------------- */

void sk_relu_forward(float *out, const float *inp, int64_t n);
void sk_relu_backward(float *dinp, const float *dout, const float *out, int64_t n);
void sk_sigmoid_forward(float *out, const float *inp, int64_t n);
void sk_sigmoid_backward(float *dinp, const float *dout, const float *out, int64_t n);
void sk_tanh_forward(float *out, const float *inp, int64_t n);
void sk_tanh_backward(float *dinp, const float *dout, const float *out, int64_t n);
/** Inverted dropout: keeps each element with probability 1-p and scales it by 1/(1-p).
 *  mask[n] receives the scale (0 or 1/(1-p)); the stream (seed, step) makes it reproducible
 *  whatever the thread count. */
void sk_dropout_forward(float *out, float *mask, const float *inp, int64_t n, float p,
                        uint64_t seed, uint64_t step);
/** Row-wise log-softmax of inp[N,K]: out = x - max - log(sum(exp(x - max))). */
void sk_log_softmax_forward(float *out, const float *inp, int64_t N, int64_t K);
/** dinp = dout - softmax * rowsum(dout), with softmax = exp(out). */
void sk_log_softmax_backward(float *dinp, const float *dout, const float *out, int64_t N, int64_t K);
/** out = a + b */
void sk_add(float *out, const float *a, const float *b, int64_t n);
/** out += a */
void sk_add_inplace(float *out, const float *a, int64_t n);
/** dout = din * mask (dropout backward) */
void sk_mul(float *out, const float *a, const float *b, int64_t n);
/** Index of the first NaN or infinity in x[n], or -1 when every element is finite. */
int64_t sk_first_non_finite(const float *x, int64_t n);

/* ---- losses (mean over the batch) -------------------------------------------------- */

/** Softmax cross-entropy over logits[N,K] and class targets[N]; returns the mean loss, writes
 *  dlogits = (softmax - onehot)/N when dlogits is not NULL, and the count of argmax hits to *correct.
 *  Returns NaN and sets *bad_index if a target is outside [0,K). */
double sk_cross_entropy(float *dlogits, int64_t *correct, const float *logits, const int32_t *targets,
                        int64_t N, int64_t K, int64_t *bad_index);
/** Negative log-likelihood over log-probabilities inp[N,K]. */
double sk_nll(float *dinp, int64_t *correct, const float *inp, const int32_t *targets,
              int64_t N, int64_t K, int64_t *bad_index);
/** Mean squared error over all elements: mean((inp - target)^2). */
double sk_mse(float *dinp, const float *inp, const float *target, int64_t n);
/** Counts rows whose argmax equals the target. */
int64_t sk_count_correct(const float *logits, const int32_t *targets, int64_t N, int64_t K);

/* ---- optimizers (PyTorch's formulas) ----------------------------------------------- */

/** SGD with momentum/dampening/Nesterov/weight decay; `first` is 1 on the first step of buf. */
void sk_sgd_step(float *param, float *momentum_buf, const float *grad, int64_t n, float lr,
                 float momentum, float dampening, float weight_decay, int32_t nesterov, int32_t first);
/** Adam (decoupled=0, L2 weight decay added to the gradient) or AdamW (decoupled=1);
 *  step counts from 1. */
void sk_adam_step(float *param, float *exp_avg, float *exp_avg_sq, const float *grad, int64_t n,
                  float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                  int32_t decoupled);
/** AMSGrad (Adam or AdamW with the running maximum max_exp_avg_sq of the second moment in the
 *  denominator; optim.c); step counts from 1. */
void sk_amsgrad_step(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad,
                     int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                     int32_t decoupled);

/* ---- misc -------------------------------------------------------------------------- */

/** Peak resident set size of this process in bytes (VmHWM), or -1. */
int64_t sk_peak_rss_bytes(void);
/** Monotonic clock in seconds. */
double sk_now(void);
/** Best time in seconds of `reps` calls of a row-major NN cblas_sgemm C[M,N] = A[M,K]·B[K,N]
 *  on OpenBLAS's own `threads` threads (the raw-BLAS reference the benchmarks compare with).
 *  Restores OpenBLAS to one thread afterwards. Returns -1 when memory runs out. */
double sk_bench_sgemm(int64_t M, int64_t N, int64_t K, int32_t threads, int32_t reps);
/** The measured single-precision FMA peak in GFLOP/s on `threads` pool threads (best of `reps`
 *  runs of about 0.1-0.2 s each): 256-bit FMAs, 512-bit when the CPU has AVX-512F. */
double sk_fma_peak_gflops(int32_t threads, int32_t reps);

#ifdef __cplusplus
}
#endif
#endif
