/* misc.c — process facts the benchmarks and run summaries report. */
#include "strata_kernels.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "sk_blas.h"

int64_t sk_peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            long long v = 0;
            if (sscanf(line + 6, "%lld", &v) == 1) kb = v;
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

double sk_bench_sgemm(int64_t M, int64_t N, int64_t K, int32_t threads, int32_t reps) {
    float *a = malloc((size_t)(M * K) * sizeof(float));
    float *b = malloc((size_t)(K * N) * sizeof(float));
    float *c = malloc((size_t)(M * N) * sizeof(float));
    if (!a || !b || !c) { free(a); free(b); free(c); return -1.0; }
    for (int64_t i = 0; i < M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < K * N; i++) b[i] = (float)(i % 5) * 0.1f;
    sk_blas_set_threads(threads);
    double best = 1e30;
    for (int32_t r = 0; r < reps + 1; r++) {
        double t0 = sk_now();
        sk_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, a, (int)K, b, (int)N, 0.0f, c, (int)N);
        double t = sk_now() - t0;
        if (r > 0 && t < best) best = t; /* the first call warms up */
    }
    sk_blas_set_threads(1);
    free(a); free(b); free(c);
    return best;
}
