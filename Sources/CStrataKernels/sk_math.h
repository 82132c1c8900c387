/* sk_math.h — vectorisable float exp and tanh (Cephes-style, within 2 ulp of expf over the
 * clamped range), so activation loops compile to SIMD code without a vector math library. */
#ifndef SK_MATH_H
#define SK_MATH_H
#include <stdint.h>
#include <string.h>

static inline float sk_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float fx = x * 1.44269504088896341f + 0.5f;
    float n = (float)(int32_t)fx;
    n = n > fx ? n - 1.0f : n; /* floor */
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

static inline float sk_tanhf(float x) {
    /* small |x|: odd polynomial avoids cancellation; else 1 - 2/(exp(2x)+1) */
    float ax = x < 0.0f ? -x : x;
    if (ax < 0.625f) {
        float z = x * x;
        float p = -5.70498872745E-3f;
        p = p * z + 2.06390887954E-2f;
        p = p * z - 5.37397155531E-2f;
        p = p * z + 1.33314422036E-1f;
        p = p * z - 3.33332819422E-1f;
        return x + x * z * p;
    }
    float t = 1.0f - 2.0f / (sk_expf(2.0f * ax) + 1.0f);
    return x < 0.0f ? -t : t;
}
#endif
