/* cpu_features.c — what the CPU can run (cpuid + xgetbv) and which OpenBLAS core that allows. */
#include "strata_blas.h"

#include <pthread.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static uint32_t features;
static char model[49] = "unknown";
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

static void detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d, max;
    if (!__get_cpuid(0, &max, &b, &c, &d)) return;
    char vendor[13];
    memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    uint32_t f = 0;
    if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine")) f |= SK_CPU_VENDOR_AMD;
    __cpuid(1, a, b, c, d);
    if (c & bit_SSE3) f |= SK_CPU_SSE3;
    if (c & bit_SSSE3) f |= SK_CPU_SSSE3;
    if (c & bit_SSE4_2) f |= SK_CPU_SSE4_2;
    int osxsave = (c & bit_OSXSAVE) != 0;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6;           /* SSE and AVX state saved */
    int zmm = ymm && (xcr0 & 0xe0) == 0xe0;  /* opmask, ZMM0-15 high halves, ZMM16-31 */
    if (ymm && (c & bit_AVX)) f |= SK_CPU_AVX;
    if (ymm && (c & bit_FMA)) f |= SK_CPU_FMA;
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (ymm && (b & bit_AVX2)) f |= SK_CPU_AVX2;
        if (zmm) {
            if (b & bit_AVX512F) f |= SK_CPU_AVX512F;
            if (b & bit_AVX512BW) f |= SK_CPU_AVX512BW;
            if (b & bit_AVX512DQ) f |= SK_CPU_AVX512DQ;
            if (b & bit_AVX512VL) f |= SK_CPU_AVX512VL;
            __cpuid_count(7, 1, a, b, c, d);
            if (a & (1u << 5)) f |= SK_CPU_AVX512_BF16;
        }
    }
    features = f;
    unsigned ext;
    __cpuid(0x80000000, ext, b, c, d);
    if (ext >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++) __cpuid(0x80000002 + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2], regs[4 * i + 3]);
        char raw[49];
        memcpy(raw, regs, 48);
        raw[48] = 0;
        const char *s = raw;
        while (*s == ' ') s++;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == ' ') n--;
        if (n > 0) { memcpy(model, s, n); model[n] = 0; }
    }
#endif
}

uint32_t sk_cpu_features(void) {
    pthread_once(&once, detect);
    return features;
}

const char *sk_cpu_model(void) {
    pthread_once(&once, detect);
    return model;
}

const char *sk_blas_core_for_features(uint32_t f) {
    const uint32_t avx512 = SK_CPU_AVX512F | SK_CPU_AVX512BW | SK_CPU_AVX512DQ | SK_CPU_AVX512VL;
    const uint32_t avx2 = SK_CPU_AVX | SK_CPU_AVX2 | SK_CPU_FMA;
    if ((f & (avx512 | avx2)) == (avx512 | avx2)) return (f & SK_CPU_AVX512_BF16) ? "Cooperlake" : "SkylakeX";
    if ((f & avx2) == avx2) return (f & SK_CPU_VENDOR_AMD) ? "Zen" : "Haswell";
    if (f & SK_CPU_AVX) return "Sandybridge";
    if (f & SK_CPU_SSE4_2) return "Nehalem";
    if (f & SK_CPU_SSSE3) return "Core2";
    return "Prescott";
}
