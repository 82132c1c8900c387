/* fma_peak.c — the machine's measured single-precision FMA peak: the arithmetic ceiling that
 * `strata bench` compares each model's training FLOP/s with.
 *
 * Each pool thread runs chains of independent vector FMAs (12 accumulators: enough to hide a
 * 4-cycle latency on two FMA pipes), 256-bit, or 512-bit when the CPU has AVX-512F (chosen at
 * run time; the rest of the kernels need only AVX2). 2 FLOPs per lane per FMA. */
#include "strata_blas.h"
#include "strata_kernels.h"

#include <immintrin.h>

#define SK_FMA_ACC 12

typedef struct {
    int64_t iterations;
    int32_t wide;
    float sink[64];
} fma_job;

static void fma256(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    fma_job *j = vctx;
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f), acc[SK_FMA_ACC];
    for (int i = 0; i < SK_FMA_ACC; i++) acc[i] = _mm256_set1_ps((float)i);
    for (int64_t p = begin; p < end; p++)
        for (int64_t it = 0; it < j->iterations; it++)
            for (int i = 0; i < SK_FMA_ACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < SK_FMA_ACC; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    j->sink[thread] = _mm256_cvtss_f32(acc[0]);
}

__attribute__((target("avx512f"))) static void fma512(void *vctx, int64_t begin, int64_t end, int32_t thread) {
    fma_job *j = vctx;
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f), acc[SK_FMA_ACC];
    for (int i = 0; i < SK_FMA_ACC; i++) acc[i] = _mm512_set1_ps((float)i);
    for (int64_t p = begin; p < end; p++)
        for (int64_t it = 0; it < j->iterations; it++)
            for (int i = 0; i < SK_FMA_ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < SK_FMA_ACC; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    j->sink[thread] = _mm512_reduce_add_ps(acc[0]);
}

double sk_fma_peak_gflops(int32_t threads, int32_t reps) {
    int32_t saved = sk_threads();
    sk_set_threads(threads);
    threads = sk_threads();
    fma_job job = {.iterations = 20 * 1000 * 1000, .wide = (sk_cpu_features() & SK_CPU_AVX512F) != 0};
    double lanes = job.wide ? 16 : 8, best = 0;
    for (int32_t r = 0; r < reps + 1; r++) {
        double t0 = sk_now();
        /* One part per thread: each runs `iterations` rounds of SK_FMA_ACC FMAs. */
        sk_parallel_for(threads, 1, job.wide ? fma512 : fma256, &job);
        double gflops = threads * (double)job.iterations * SK_FMA_ACC * lanes * 2 / (sk_now() - t0) / 1e9;
        if (r > 0 && gflops > best) best = gflops; /* the first run warms up the clocks */
    }
    sk_set_threads(saved);
    return best;
}
