/* emu_blas.cpp - the cuBLAS calls of the backend, on the host: GemmEx in
 * column-major order with float32 accumulation (OpenBLAS), TF32 rounding of
 * the inputs where the compute type or math mode allows it, and the type
 * combinations, leading dimensions and buffer extents checked.
 */
#include "emu.h"
#include "emu_internal.h"

#include <cblas.h>
#include <cublas_v2.h>
#include <vector>

struct cublasContext {
    cudaStream_t stream;
    cublasMath_t math;
};

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    *h = new cublasContext();
    (*h)->math = CUBLAS_DEFAULT_MATH;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
    h->stream = s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) {
    h->math = m;
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    default:
        return "CUBLAS_STATUS (emulated)";
    }
}

namespace {

/* op(M) (rows x cols, column-major, leading dimension ld) as a dense float
 * column-major matrix. */
std::vector<float> dense(const void *p, bool bf16, bool trans, int rows, int cols, int ld, bool tf32) {
    std::vector<float> v((size_t) rows * cols);
    for (int j = 0; j < cols; j++)
        for (int i = 0; i < rows; i++) {
            size_t at = trans ? (size_t) i * ld + j : (size_t) j * ld + i;
            float f = emu_load(p, bf16, at);
            v[(size_t) j * rows + i] = tf32 ? emu_tf32(f) : f;
        }
    return v;
}

bool extent(const void *p, int rows, int cols, int ld, size_t esize, const char *what) {
    return emu_device_range(p, ((size_t) ld * (cols - 1) + rows) * esize, "cublasGemmEx", what);
}

} // namespace

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType at, int lda, const void *B,
                            cudaDataType bt, int ldb, const void *beta, void *C, cudaDataType ct, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo) {
    const char *api = "cublasGemmEx";
    bool ab16 = at == CUDA_R_16BF, c16 = ct == CUDA_R_16BF;
    /* the combinations of cuBLAS's GemmEx table the backend may use */
    bool types_ok =
        at == bt && (at == CUDA_R_32F || ab16) && (ct == CUDA_R_32F || (c16 && ab16)) &&
        (compute == CUBLAS_COMPUTE_32F || (compute == CUBLAS_COMPUTE_32F_FAST_TF32 && at == CUDA_R_32F));
    if (!types_ok) {
        emu_complain(api, "types A %d, B %d, C %d with compute type %d", at, bt, ct, compute);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    bool tra = ta != CUBLAS_OP_N, trb = tb != CUBLAS_OP_N;
    int ar = tra ? k : m, ac = tra ? m : k, br = trb ? n : k, bc = trb ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) ||
        ldc < (m > 1 ? m : 1)) {
        emu_complain(api, "m %d n %d k %d with lda %d ldb %d ldc %d", m, n, k, lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    size_t ae = ab16 ? 2 : 4, ce = c16 ? 2 : 4;
    if ((k > 0 && (!extent(A, ar, ac, lda, ae, "A") || !extent(B, br, bc, ldb, ae, "B"))) ||
        !extent(C, m, n, ldc, ce, "C"))
        return CUBLAS_STATUS_INVALID_VALUE;
    cublasMath_t mode = (cublasMath_t) (h->math & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
    bool tf32 =
        at == CUDA_R_32F && (compute == CUBLAS_COMPUTE_32F_FAST_TF32 || mode == CUBLAS_TF32_TENSOR_OP_MATH);
    float al = *(const float *) alpha, bv = *(const float *) beta;
    /* queued, with the factors read now (host pointer mode) */
    emu_enqueue([=] {
        std::vector<float> a = dense(A, ab16, tra, m, k, lda, tf32), b = dense(B, ab16, trb, k, n, ldb, tf32);
        std::vector<float> c((size_t) m * n, 0.0f);
        if (k > 0)
            cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, al, a.data(), m, b.data(), k,
                        0.0f, c.data(), m);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) {
                size_t at_c = (size_t) j * ldc + i;
                /* C unread when beta is 0 */
                float prior = bv != 0.0f ? bv * emu_load(C, c16, at_c) : 0.0f;
                emu_store(C, c16, at_c, c[(size_t) j * m + i] + prior);
            }
    });
    return CUBLAS_STATUS_SUCCESS;
}
