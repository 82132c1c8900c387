/* strata_blas.h — the BLAS the kernels run on, loaded at start-up, and the CPU it runs on.
 *
 * OpenBLAS is not linked: it is opened with dlopen (when the kernel library is loaded, or at
 * the first kernel call), after OPENBLAS_CORETYPE has been set to the best core the CPU's
 * feature bits allow, unless the user set that variable. OpenBLAS chooses its kernels once, in
 * its library constructor, so this is the only point where the choice can be made; releases
 * before 0.3.25 fall back to generic SSE3 kernels ("Prescott") on CPU models they do not know.
 * docs/bench.md explains the mapping. */
#ifndef STRATA_BLAS_H
#define STRATA_BLAS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** CPU feature bits (cpuid), with AVX and AVX-512 cleared when the OS does not save their
 *  registers (XCR0). */
enum {
    SK_CPU_SSE3 = 1 << 0,
    SK_CPU_SSSE3 = 1 << 1,
    SK_CPU_SSE4_2 = 1 << 2,
    SK_CPU_AVX = 1 << 3,
    SK_CPU_AVX2 = 1 << 4,
    SK_CPU_FMA = 1 << 5,
    SK_CPU_AVX512F = 1 << 6,
    SK_CPU_AVX512BW = 1 << 7,
    SK_CPU_AVX512DQ = 1 << 8,
    SK_CPU_AVX512VL = 1 << 9,
    SK_CPU_AVX512_BF16 = 1 << 10,
    /** Vendor flag: AMD or Hygon ("AuthenticAMD", "HygonGenuine"). */
    SK_CPU_VENDOR_AMD = 1 << 30,
};

/** This CPU's feature bits (SK_CPU_*), read once. */
uint32_t sk_cpu_features(void);
/** This CPU's brand string (cpuid 0x80000002-4), trimmed, e.g. "AMD EPYC"; "unknown" if absent. */
const char *sk_cpu_model(void);
/** The OpenBLAS core (an OPENBLAS_CORETYPE name) that CPU features `f` allow: Cooperlake,
 *  SkylakeX, Zen, Haswell, Sandybridge, Nehalem, Core2 or Prescott. */
const char *sk_blas_core_for_features(uint32_t f);

/** Opens the BLAS once (idempotent, thread-safe). Returns 0, or -1 with sk_blas_error() set. */
int32_t sk_blas_load(void);
/** Why loading failed (names the libraries tried), or "" when it did not. */
const char *sk_blas_error(void);
/** The library opened (a path or soname), or "" before loading. */
const char *sk_blas_library(void);
/** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
const char *sk_blas_config(void);
/** openblas_get_corename(): the core whose kernels run, e.g. "Zen". */
const char *sk_blas_core(void);
/** Who chose the core: "cpuid" (Strata set OPENBLAS_CORETYPE), "user" (OPENBLAS_CORETYPE was
 *  set) or "library" (the library was already loaded or ignores the variable). */
const char *sk_blas_core_source(void);
/** 1 when `core` is one of OpenBLAS's generic cores (Prescott, Core2, Nehalem, …), else 0. */
int32_t sk_blas_core_is_generic(const char *core);

#ifdef __cplusplus
}
#endif
#endif
