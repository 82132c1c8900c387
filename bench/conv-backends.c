/* conv-backends.c — im2col + BLAS (conv2d.c) against oneDNN (conv_onednn.c) on the convolution
 * shapes of the small ResNet and LeNet at batch 256 on 2 threads: forward and backward (input and
 * weight gradients) GFLOP/s of each (2 * N * OC * OH * OW * C * KH * KW per forward, twice that
 * per backward), best of `reps` interleaved calls, and the largest difference between the two.
 *
 *   K=Sources/CStrataKernels
 *   cc -O2 -march=x86-64-v3 -I$K/include -I$K bench/conv-backends.c \
 *      $(ls $K/*.c | grep -v -e gzip_io -e ffi_call) -ldl -lm -lpthread -o /tmp/conv-backends
 *   /tmp/conv-backends [batch=256] [reps=8]
 */
#include "strata_conv_onednn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *filled(long n, unsigned *seed) {
    float *p = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) p[i] = (float)rand_r(seed) / (float)RAND_MAX - 0.5f;
    return p;
}

static double max_diff(const float *a, const float *b, long n, int relative) {
    double m = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (relative ? fabs((double)a[i]) + 1 : 1);
        if (d > m) m = d;
    }
    return m;
}

int main(int argc, char **argv) {
    const int N = argc > 1 ? atoi(argv[1]) : 256, reps = argc > 2 ? atoi(argv[2]) : 8;
    sk_set_threads(2);
    printf("%s, batch %d, 2 threads, best of %d\n", sk_onednn_describe(), N, reps);
    if (!sk_onednn_available()) return 1;
    /* C, OC, H (= W), K, stride, padding */
    static const int shapes[][6] = {{1, 10, 28, 5, 1, 2}, {10, 20, 28, 3, 2, 1}, {20, 20, 14, 3, 1, 1}, {20, 40, 14, 3, 2, 1},
                                    {40, 40, 7, 3, 1, 1}, {40, 80, 7, 3, 2, 1}, {80, 80, 4, 3, 1, 1}, {80, 160, 4, 3, 2, 1},
                                    {160, 160, 2, 3, 1, 1}, {1, 6, 28, 5, 1, 2}, {6, 16, 14, 5, 1, 0}};
    printf("shape                  | forward im2col  oneDNN | backward im2col  oneDNN (GFLOP/s) | max |y|,|dx|,rel dW diff\n");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const int C = shapes[i][0], OC = shapes[i][1], H = shapes[i][2], K = shapes[i][3];
        sk_conv_shape s = {.N = N, .C = C, .H = H, .W = H, .OC = OC, .KH = K, .KW = K, .SH = shapes[i][4],
                           .SW = shapes[i][4], .PH = shapes[i][5], .PW = shapes[i][5], .groups = 1, .DH = 1, .DW = 1};
        sk_conv_infer(&s);
        const long nx = (long)N * C * H * H, ny = (long)N * OC * s.OH * s.OW, nw = (long)OC * C * K * K;
        unsigned seed = 1;
        float *x = filled(nx, &seed), *w = filled(nw, &seed), *b = filled(OC, &seed), *dy = filled(ny, &seed);
        float *y1 = malloc(ny * 4), *y2 = malloc(ny * 4), *dx1 = malloc(nx * 4), *dx2 = malloc(nx * 4);
        float *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4), *db1 = calloc(OC, 4), *db2 = calloc(OC, 4);
        float *ws = malloc((size_t)sk_conv_workspace(&s, 2) * 4);
        sk_onednn_conv *p = sk_onednn_conv_create(&s, 1);
        if (!p) { printf("oneDNN does not take shape %zu\n", i); continue; }
        double t[4] = {1e30, 1e30, 1e30, 1e30};
        for (int r = 0; r < reps; r++) {
            double t0 = sk_now();
            sk_conv2d_forward(y1, x, w, b, &s, ws);
            double t1 = sk_now();
            sk_conv2d_backward(dx1, dw1, db1, dy, x, w, &s, ws);
            double t2 = sk_now();
            if (sk_onednn_conv_forward(p, y2, x, w, b, &s)) { printf("%s\n", sk_onednn_conv_error(p)); return 1; }
            double t3 = sk_now();
            if (sk_onednn_conv_backward(p, dx2, dw2, db2, dy, x, w, &s)) { printf("%s\n", sk_onednn_conv_error(p)); return 1; }
            double t4 = sk_now(), d[4] = {t1 - t0, t3 - t2, t2 - t1, t4 - t3};
            for (int k = 0; k < 4; k++) if (d[k] < t[k]) t[k] = d[k];
        }
        const double f = 2.0 * N * OC * s.OH * s.OW * C * K * K * 1e-9;
        printf("%3d->%3d %2dx%-2d k%d s%d | %14.1f %7.1f | %15.1f %7.1f           | %.0e %.0e %.0e\n", C, OC, H, H, K,
               shapes[i][4], f / t[0], f / t[1], 2 * f / t[2], 2 * f / t[3], max_diff(y1, y2, ny, 0),
               max_diff(dx1, dx2, nx, 0), max_diff(dw1, dw2, nw, 1));
        sk_onednn_conv_destroy(p);
        free(x); free(w); free(b); free(dy); free(y1); free(y2); free(dx1); free(dx2);
        free(dw1); free(dw2); free(db1); free(db2); free(ws);
    }
    return 0;
}
