/* sk_blas.h — the BLAS entry points the kernels call, resolved from the library that
 * blas_loader.c opens (private to the kernels; the enums come from OpenBLAS's cblas.h). */
#ifndef SK_BLAS_H
#define SK_BLAS_H

#include <cblas.h>

/** cblas_sgemm of the loaded BLAS. */
void sk_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/** openblas_set_num_threads of the loaded BLAS. */
void sk_blas_set_threads(int n);

#endif
