/* blas_loader.c — opens OpenBLAS with dlopen after choosing its kernels, and resolves the
 * entry points the kernels call (sk_blas.h).
 *
 * OpenBLAS built with DYNAMIC_ARCH picks its kernels in its library constructor, from
 * OPENBLAS_CORETYPE or else from its own table of CPU models; Debian 12's 0.3.21 falls back to
 * generic SSE3 kernels on models newer than it knows. So the library is not linked: before
 * opening it, OPENBLAS_CORETYPE is set to the core the cpuid feature bits allow (cpu_features.c),
 * unless the user set it, and restored afterwards so child processes see the user's environment.
 * Loading happens when this library is loaded (a constructor: single-threaded, before main),
 * and at the latest at the first call; STRATA_BLAS_LIBRARY names another library to open. */
#include "sk_blas.h"
#include "strata_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float,
                         const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*string_fn)(void);

static struct {
    sgemm_fn sgemm;
    set_threads_fn set_threads;
    string_fn corename, config;
    char library[512];
    char error[1024];
    const char *source;
    int32_t status;
} blas = {.source = "", .status = -1};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    static const char *const candidates[] = {"libopenblas.so.0", "libopenblas.so"};
    const char *chosen = getenv("STRATA_BLAS_LIBRARY");
    const char *user_core = getenv("OPENBLAS_CORETYPE");
    int set_core = !(user_core && user_core[0]);
    blas.source = set_core ? "cpuid" : "user";
    if (set_core) setenv("OPENBLAS_CORETYPE", sk_blas_core_for_features(sk_cpu_features()), 1);
    void *handle = NULL;
    size_t used = 0;
    blas.error[0] = 0;
    int n = chosen && chosen[0] ? 1 : (int)(sizeof candidates / sizeof *candidates);
    for (int i = 0; i < n && !handle; i++) {
        const char *name = chosen && chosen[0] ? chosen : candidates[i];
        /* Already in the process (a host program linked it): its constructor ran long ago. */
        void *existing = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
        if (existing) blas.source = "library";
        handle = existing ? existing : dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            snprintf(blas.library, sizeof blas.library, "%s", name);
        } else if (used < sizeof blas.error) {
            const char *why = dlerror();
            used += (size_t)snprintf(blas.error + used, sizeof blas.error - used, "%s%s", used ? "; " : "",
                                     why ? why : name);
        }
    }
    if (set_core) unsetenv("OPENBLAS_CORETYPE");
    if (!handle) {
        size_t len = strlen(blas.error);
        snprintf(blas.error + len, sizeof blas.error - len,
                 " (install libopenblas0, e.g. scripts/install-deps.sh, or name a library in STRATA_BLAS_LIBRARY)");
        return;
    }
    blas.sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    blas.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    blas.corename = (string_fn)dlsym(handle, "openblas_get_corename");
    blas.config = (string_fn)dlsym(handle, "openblas_get_config");
    if (!blas.sgemm) {
        snprintf(blas.error, sizeof blas.error, "%s has no cblas_sgemm", blas.library);
        return;
    }
    if (!blas.corename) blas.source = "library";
    blas.status = 0;
}

__attribute__((constructor)) static void load_at_start(void) { (void)sk_blas_load(); }

int32_t sk_blas_load(void) {
    pthread_once(&once, load);
    return blas.status;
}

const char *sk_blas_error(void) { sk_blas_load(); return blas.error; }
const char *sk_blas_library(void) { sk_blas_load(); return blas.library; }
const char *sk_blas_core_source(void) { sk_blas_load(); return blas.source; }

const char *sk_blas_config(void) {
    if (sk_blas_load() != 0 || !blas.config) return "";
    const char *s = blas.config();
    return s ? s : "";
}

const char *sk_blas_core(void) {
    if (sk_blas_load() != 0 || !blas.corename) return "";
    const char *s = blas.corename();
    return s ? s : "";
}

int32_t sk_blas_core_is_generic(const char *core) {
    static const char *const generic[] = {"Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias",
                                          "Atom", "Core2", "Penryn", "Dunnington", "Nehalem", "Athlon",
                                          "Opteron", "Opteron_SSE3", "Barcelona", "Nano", ""};
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (!strcasecmp(core, generic[i])) return 1;
    return 0;
}

/* Without a BLAS no kernel can run; the CLI checks sk_blas_load() first and reports the error
 * as a failure (exit 1), so this is reached only by a program that skipped that check. */
static void missing(void) {
    fprintf(stderr, "strata: no BLAS: %s\n", blas.error);
    exit(1);
}

void sk_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (sk_blas_load() != 0) missing();
    blas.sgemm(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sk_blas_set_threads(int n) {
    if (sk_blas_load() == 0 && blas.set_threads) blas.set_threads(n); /* nothing to size without a BLAS */
}
