/* bench-depthwise.c — the direct depthwise kernel (depthwise.c) against the grouped im2col + GEMM
 * path (conv2d.c) on MobileNet V1's depthwise shapes at batch 64, 3x3, padding 1, 2 threads.
 * Prints GFLOP/s (2 * outputs * 9 per forward, twice that per backward) of each and the ratio.
 *
 *   K=Sources/CStrataKernels
 *   cc -O2 -march=native -std=gnu11 -I$K/include scripts/bench-depthwise.c $K/depthwise.c $K/conv2d.c \
 *      $K/threadpool.c $K/misc.c -lopenblas -lpthread -lm -o /tmp/bench-depthwise && /tmp/bench-depthwise
 */
#include "strata_kernels.h"
#include <stdio.h>
#include <stdlib.h>
static double best(void (*f)(void*), void *ctx, int reps) {
    double b = 1e30;
    for (int r = 0; r < reps; r++) { double t = sk_now(); f(ctx); t = sk_now() - t; if (t < b) b = t; }
    return b;
}
typedef struct { float *out, *inp, *w, *b, *ws, *dinp, *dw, *db; sk_conv_shape s; } C;
static void fdw(void *v) { C *c = v; sk_depthwise_forward(c->out, c->inp, c->w, c->b, &c->s); }
static void fgemm(void *v) { C *c = v; sk_conv2d_forward(c->out, c->inp, c->w, c->b, &c->s, c->ws); }
static void bdw(void *v) { C *c = v; sk_depthwise_backward(c->dinp, c->dw, c->db, c->out, c->inp, c->w, &c->s); }
static void bgemm(void *v) { C *c = v; sk_conv2d_backward(c->dinp, c->dw, c->db, c->out, c->inp, c->w, &c->s, c->ws); }
int main(void) {
    sk_set_threads(2);
    int64_t shapes[][4] = {{64, 32, 48, 1}, {64, 64, 48, 2}, {64, 128, 24, 1}, {64, 256, 12, 1}, {64, 512, 6, 1}, {64, 1024, 3, 1}};
    for (int i = 0; i < 6; i++) {
        C c = {0};
        int64_t N = shapes[i][0], Ch = shapes[i][1], H = shapes[i][2], st = shapes[i][3];
        c.s = (sk_conv_shape){.N = N, .C = Ch, .H = H, .W = H, .OC = Ch, .KH = 3, .KW = 3, .SH = st, .SW = st, .PH = 1, .PW = 1, .groups = Ch};
        sk_conv_infer(&c.s);
        int64_t in = N * Ch * H * H, out = N * Ch * c.s.OH * c.s.OW;
        c.inp = calloc(in, 4); c.dinp = calloc(in, 4); c.out = calloc(out, 4);
        c.w = calloc(Ch * 9, 4); c.dw = calloc(Ch * 9, 4); c.b = calloc(Ch, 4); c.db = calloc(Ch, 4);
        for (int64_t k = 0; k < in; k++) c.inp[k] = (k % 13) * 0.05f;
        for (int64_t k = 0; k < Ch * 9; k++) c.w[k] = (k % 7) * 0.1f;
        c.ws = calloc(sk_conv_workspace(&c.s, 2), 4);
        double flops = 2.0 * out * 9;
        double a = best(fdw, &c, 10), b = best(fgemm, &c, 10), e = best(bdw, &c, 10), d = best(bgemm, &c, 10);
        printf("N=%lld C=%lld %lldx%lld s%lld -> %lldx%lld: forward direct %.2f GFLOP/s, grouped GEMM %.2f GFLOP/s (%.1fx); backward direct %.2f, grouped GEMM %.2f GFLOP/s (%.1fx)\n",
               (long long)N, (long long)Ch, (long long)H, (long long)H, (long long)st, (long long)c.s.OH, (long long)c.s.OW,
               flops / a / 1e9, flops / b / 1e9, b / a, 2 * flops / e / 1e9, 2 * flops / d / 1e9, d / e);
    }
}
