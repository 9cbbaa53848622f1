/* backend_cuda.cu - the CUDA backend: memory, scalars, errors and the entry
 * point that the engine finds with dlopen (see engine/context.c).
 *
 * Being a separate shared object is what lets one build of the engine, CLI
 * and plug-in run on machines without an NVIDIA driver: libcudnn, libcublas
 * and libcuda are needed only when this file's library is opened.
 */
#include "cuda_backend.h"

#include <new>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nsc_fail(struct nsc_backend *b, enum ns_status st, const char *what, const char *msg) {
    if (b->status != NS_STATUS_OK) return;
    b->status = st;
    snprintf(b->err, sizeof b->err, "%s: %s", what, msg);
}

bool nsc_cuda_failed(struct nsc_backend *b, cudaError_t e, const char *what) {
    if (e == cudaSuccess) return false;
    nsc_fail(b, e == cudaErrorMemoryAllocation ? NS_STATUS_OUT_OF_MEMORY : NS_STATUS_BACKEND_ERROR, what,
             cudaGetErrorString(e));
    return true;
}

bool nsc_dnn_failed(struct nsc_backend *b, cudnnStatus_t s, const char *what) {
    if (s == CUDNN_STATUS_SUCCESS) return false;
    bool oom = s == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
               s == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
    nsc_fail(b, oom ? NS_STATUS_OUT_OF_MEMORY : NS_STATUS_BACKEND_ERROR, what, cudnnGetErrorString(s));
    return true;
}

bool nsc_blas_failed(struct nsc_backend *b, cublasStatus_t s, const char *what) {
    if (s == CUBLAS_STATUS_SUCCESS) return false;
    nsc_fail(b, s == CUBLAS_STATUS_ALLOC_FAILED ? NS_STATUS_OUT_OF_MEMORY : NS_STATUS_BACKEND_ERROR, what,
             cublasGetStatusString(s));
    return true;
}

void nsc_launched(struct nsc_backend *b, const char *what) {
    nsc_cuda_failed(b, cudaGetLastError(), what);
}

/* ---- memory ---- */

/* Device memory for a buffer; NULL (and nothing recorded) when it does not fit. */
static void *device_alloc(struct nsc_backend *b, size_t bytes) {
    void *p = NULL;
    if (b->alloc_cap && b->bytes_in_use + bytes > b->alloc_cap)
        return NULL; /* the tests' simulated full GPU */
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        /* out of memory is the caller's to report; the context stays usable */
        (void) cudaGetLastError();
        return NULL;
    }
    /* zeroed: cuDNN's fused convolution gets the output as its z input
     * (scaled by 0, so unread), and a NaN bit pattern there must not matter
     * if some algorithm reads it anyway */
    if (nsc_cuda_failed(b, cudaMemsetAsync(p, 0, bytes, b->stream), "cudaMemsetAsync")) {
        cudaFree(p);
        return NULL;
    }
    b->bytes_in_use += bytes;
    if (b->bytes_in_use > b->base.bytes_peak) b->base.bytes_peak = b->bytes_in_use;
    return p;
}

static void device_free(struct nsc_backend *b, void *p, size_t bytes) {
    b->bytes_in_use -= bytes;
    nsc_cuda_failed(b, cudaFree(p), "cudaFree"); /* waits for the stream's work on p */
}

static struct ns_buf *nsc_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    struct nsc_backend *b = nsc(be);
    if (dtype == NS_DTYPE_BF16 && !be->bf16) return NULL;
    struct nsc_buf *x = new (std::nothrow) nsc_buf();
    if (!x) return NULL;
    x->bytes = (n ? n : 1) * ns_dtype_size(dtype);
    if (!(x->base.data = device_alloc(b, x->bytes))) {
        delete x;
        return NULL;
    }
    x->base.n = n;
    x->base.dtype = dtype;
    x->next = b->bufs;
    if (b->bufs) b->bufs->prev = x;
    b->bufs = x;
    return &x->base;
}

const __nv_bfloat16 *nsc_half_weights(struct nsc_backend *b, const struct ns_buf *wt) {
    struct nsc_buf *x = nsc_buf_of(wt);
    if (x->half) return x->half;
    if (!(x->half = (__nv_bfloat16 *) device_alloc(b, wt->n * sizeof *x->half))) {
        nsc_fail(b, NS_STATUS_OUT_OF_MEMORY, "bf16 weights", "out of GPU memory");
        return NULL;
    }
    nsc_to_half(b, (const float *) wt->data, x->half, wt->n);
    return x->half;
}

/* Forgets the bfloat16 copy of weights x (released or overwritten). */
static void drop_half_weights(struct nsc_backend *b, struct nsc_buf *x) {
    if (x->half) device_free(b, x->half, x->base.n * sizeof *x->half);
    x->half = NULL;
}

static void nsc_release(struct ns_backend *be, struct ns_buf *buf) {
    struct nsc_backend *b = nsc(be);
    if (!buf) return;
    struct nsc_buf *x = nsc_buf_of(buf);
    drop_half_weights(b, x);
    if (x->prev)
        x->prev->next = x->next;
    else
        b->bufs = x->next;
    if (x->next) x->next->prev = x->prev;
    device_free(b, buf->data, x->bytes);
    delete x;
}

/* Host-device copies; a bfloat16 tensor is converted on the host. */
static void nsc_upload(struct ns_backend *be, struct ns_buf *dst, const float *src, size_t n) {
    struct nsc_backend *b = nsc(be);
    drop_half_weights(b, nsc_buf_of(dst));
    __nv_bfloat16 *tmp = NULL;
    const void *from = src;
    size_t bytes = n * sizeof(float);
    if (nsc_half(dst)) {
        if (!(tmp = (__nv_bfloat16 *) malloc(n * sizeof *tmp + 1))) {
            nsc_fail(b, NS_STATUS_OUT_OF_MEMORY, "upload", "out of host memory");
            return;
        }
        for (size_t i = 0; i < n; i++)
            tmp[i] = __float2bfloat16(src[i]);
        from = tmp, bytes = n * sizeof *tmp;
    }
    /* callers free src on return; uploads happen at set-up only, so waiting costs nothing */
    if (!nsc_cuda_failed(b, cudaMemcpyAsync(dst->data, from, bytes, cudaMemcpyHostToDevice, b->stream),
                         "upload"))
        nsc_cuda_failed(b, cudaStreamSynchronize(b->stream), "upload");
    free(tmp);
}

static void nsc_download(struct ns_backend *be, float *dst, const struct ns_buf *src, size_t n) {
    struct nsc_backend *b = nsc(be);
    bool half = nsc_half(src);
    __nv_bfloat16 *tmp = half ? (__nv_bfloat16 *) malloc(n * sizeof *tmp + 1) : NULL;
    if (half && !tmp) {
        nsc_fail(b, NS_STATUS_OUT_OF_MEMORY, "download", "out of host memory");
        return;
    }
    void *to = half ? (void *) tmp : (void *) dst;
    if (!nsc_cuda_failed(
            b,
            cudaMemcpyAsync(to, src->data, n * ns_dtype_size(src->dtype), cudaMemcpyDeviceToHost, b->stream),
            "download") &&
        !nsc_cuda_failed(b, cudaStreamSynchronize(b->stream), "download") && half)
        for (size_t i = 0; i < n; i++)
            dst[i] = __bfloat162float(tmp[i]);
    free(tmp);
}

static void nsc_copy(struct ns_backend *be, struct ns_buf *dst, const struct ns_buf *src, size_t n) {
    struct nsc_backend *b = nsc(be);
    if (dst->dtype != src->dtype) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "copy", "between buffers of different types");
        return;
    }
    if (dst != src)
        nsc_cuda_failed(b,
                        cudaMemcpyAsync(dst->data, src->data, n * ns_dtype_size(dst->dtype),
                                        cudaMemcpyDeviceToDevice, b->stream),
                        "copy");
}

static size_t nsc_mem_free(struct ns_backend *be) {
    struct nsc_backend *b = nsc(be);
    size_t free_b = 0, total = 0;
    if (nsc_cuda_failed(b, cudaMemGetInfo(&free_b, &total), "cudaMemGetInfo")) return 0;
    /* leave room for cuDNN's and cuBLAS's own allocations */
    size_t margin = 64u << 20;
    return free_b > margin ? free_b - margin : 0;
}

/* A cuBLAS math mode that keeps split-K partial sums out of a bfloat16
 * output (the bf16 style gradient accumulates into one). */
static cublasMath_t nsc_blas_math(cublasMath_t m) {
    return (cublasMath_t) (m | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
}

/* Called as each run starts: a failure of the last run (out of memory, say)
 * is forgotten if the device is still healthy. */
static enum ns_status nsc_set_threads(struct ns_backend *be, int threads) {
    struct nsc_backend *b = nsc(be);
    (void) threads;
    if (b->status && cudaStreamSynchronize(b->stream) == cudaSuccess &&
        cudaPeekAtLastError() == cudaSuccess) {
        b->status = NS_STATUS_OK;
        b->err[0] = '\0';
    }
    if (b->test_limit) b->alloc_cap = b->bytes_in_use + b->test_limit;
    return NS_STATUS_OK;
}

static enum ns_status nsc_set_precision(struct ns_backend *be, enum ns_precision precision) {
    struct nsc_backend *b = nsc(be);
    /* cuDNN's bfloat16 convolutions need compute capability 8 (Ampere) */
    b->prec = precision == NS_PRECISION_BF16 && b->cc_major < 8 ? NS_PRECISION_FP32 : precision;
    be->tensor_dtype = b->prec == NS_PRECISION_BF16 ? NS_DTYPE_BF16 : NS_DTYPE_F32;
    cublasMath_t math =
        nsc_blas_math(precision == NS_PRECISION_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (nsc_blas_failed(b, cublasSetMathMode(b->blas, math), "cublasSetMathMode")) return b->status;
    return NS_STATUS_OK;
}

/* ---- scalars and errors ---- */

static enum ns_status nsc_read_scalars(struct ns_backend *be, int slot0, int n, double *out) {
    struct nsc_backend *b = nsc(be);
    if (b->status) return b->status;
    if (!nsc_cuda_failed(b,
                         cudaMemcpyAsync(b->host, b->slots + slot0, (size_t) n * sizeof(double),
                                         cudaMemcpyDeviceToHost, b->stream),
                         "read scalars") &&
        !nsc_cuda_failed(b, cudaStreamSynchronize(b->stream), "read scalars"))
        memcpy(out, b->host, (size_t) n * sizeof(double));
    return b->status;
}

static enum ns_status nsc_sync(struct ns_backend *be) {
    struct nsc_backend *b = nsc(be);
    if (!b->status) nsc_cuda_failed(b, cudaStreamSynchronize(b->stream), "synchronize");
    return b->status;
}

static const char *nsc_error(struct ns_backend *be) {
    return nsc(be)->err;
}

static void nsc_free(struct ns_backend *be) {
    struct nsc_backend *b = nsc(be);
    if (!b) return;
    cudaSetDevice(b->device);
    if (b->stream) cudaStreamSynchronize(b->stream);
    nsc_plans_free(b);
    for (struct nsc_buf *x = b->bufs, *next; x; x = next) {
        next = x->next;
        if (x->half) cudaFree(x->half);
        cudaFree(x->base.data);
        delete x;
    }
    if (b->ws) cudaFree(b->ws);
    if (b->dh) cudaFree(b->dh);
    if (b->slots) cudaFree(b->slots);
    if (b->partials) cudaFree(b->partials);
    if (b->host) cudaFreeHost(b->host);
    if (b->relu) cudnnDestroyActivationDescriptor(b->relu);
    if (b->blas) cublasDestroy(b->blas);
    if (b->dnn) cudnnDestroy(b->dnn);
    if (b->stream) cudaStreamDestroy(b->stream);
    delete b;
}

static struct ns_backend_ops make_ops(void) {
    struct ns_backend_ops o;
    memset(&o, 0, sizeof o);
    o.name = "cuda";
    o.free = nsc_free;
    o.alloc = nsc_alloc;
    o.release = nsc_release;
    o.upload = nsc_upload;
    o.download = nsc_download;
    o.mem_free = nsc_mem_free;
    o.set_threads = nsc_set_threads;
    o.set_precision = nsc_set_precision;
    o.input_fwd = nsc_input_fwd;
    o.input_bwd = nsc_input_bwd;
    o.conv3x3 = nsc_conv3x3;
    o.conv3x3_bwd = nsc_conv3x3_bwd;
    o.relu_bwd = nsc_relu_bwd;
    o.pool_fwd = nsc_pool_fwd;
    o.pool_bwd = nsc_pool_bwd;
    o.gram = nsc_gram;
    o.crop = nsc_crop;
    o.add_window = nsc_add_window;
    o.gram_grad = nsc_gram_grad;
    o.shift_scale = nsc_shift_scale;
    o.cross_gram = nsc_cross_gram;
    o.gram_diff = nsc_gram_diff;
    o.cross_grad = nsc_cross_grad;
    o.content_loss = nsc_content_loss;
    o.style_loss = nsc_style_loss;
    o.tv_loss = nsc_tv_loss;
    o.fill = nsc_fill;
    o.copy = nsc_copy;
    o.axpby = nsc_axpby;
    o.dots = nsc_dots;
    o.lincomb = nsc_lincomb;
    o.adam = nsc_adam;
    o.reflect_pad = nsc_reflect_pad;
    o.conv2d = nsc_conv2d;
    o.moments = nsc_moments;
    o.affine = nsc_affine;
    o.upsample2 = nsc_upsample2;
    o.read_scalars = nsc_read_scalars;
    o.sync = nsc_sync;
    o.error = nsc_error;
    o.conv2d_bwd_data = nsc_conv2d_bwd_data;
    o.conv2d_bwd_filter = nsc_conv2d_bwd_filter;
    o.reflect_pad_bwd = nsc_reflect_pad_bwd;
    o.upsample2_bwd = nsc_upsample2_bwd;
    o.dot_moments = nsc_dot_moments;
    o.affine2 = nsc_affine2;
    return o;
}

static const struct ns_backend_ops nsc_ops = make_ops();

extern "C" __attribute__((visibility("default"))) int ns_backend_api_version(void) {
    return NS_BACKEND_API_VERSION;
}

extern "C" __attribute__((visibility("default"))) enum ns_status
ns_backend_cuda_new(int device_index, struct ns_backend **out, char *err, size_t err_len) {
    *out = NULL;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver) {
        /* also what the runtime says when there is no driver at all */
        snprintf(err, err_len, "no NVIDIA driver, or one older than CUDA %d.%d needs", CUDART_VERSION / 1000,
                 CUDART_VERSION % 1000 / 10);
        return NS_STATUS_UNAVAILABLE;
    }
    if (e != cudaSuccess || count == 0) {
        snprintf(err, err_len, "no NVIDIA GPU is usable (%s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
        return NS_STATUS_UNAVAILABLE;
    }
    if (device_index < 0 || device_index >= count) {
        snprintf(err, err_len, "there is no GPU %d: this machine has %d (numbered from 0)", device_index,
                 count);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    struct nsc_backend *b = new (std::nothrow) nsc_backend();
    if (!b) return NS_STATUS_OUT_OF_MEMORY;
    b->base.ops = &nsc_ops;
    b->device = device_index;
    b->base.workspace = NSC_WORKSPACE;
    const char *limit = getenv("NS_CUDA_TEST_ALLOC_LIMIT");
    if (limit) b->test_limit = strtoull(limit, NULL, 10);
    cudaDeviceProp prop;
    bool ok =
        !nsc_cuda_failed(b, cudaSetDevice(device_index), "cudaSetDevice") &&
        !nsc_cuda_failed(b, cudaGetDeviceProperties(&prop, device_index), "cudaGetDeviceProperties") &&
        !nsc_cuda_failed(b, cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking), "stream") &&
        !nsc_dnn_failed(b, cudnnCreate(&b->dnn), "cudnnCreate") &&
        !nsc_dnn_failed(b, cudnnSetStream(b->dnn, b->stream), "cudnnSetStream") &&
        !nsc_blas_failed(b, cublasCreate(&b->blas), "cublasCreate") &&
        !nsc_blas_failed(b, cublasSetStream(b->blas, b->stream), "cublasSetStream") &&
        !nsc_blas_failed(b, cublasSetMathMode(b->blas, nsc_blas_math(CUBLAS_DEFAULT_MATH)), "math mode") &&
        !nsc_dnn_failed(b, cudnnCreateActivationDescriptor(&b->relu), "activation") &&
        !nsc_dnn_failed(
            b, cudnnSetActivationDescriptor(b->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
            "activation") &&
        !nsc_cuda_failed(b, cudaMalloc(&b->slots, NS_MAX_SLOTS * sizeof(double)), "slots") &&
        !nsc_cuda_failed(b, cudaMalloc(&b->partials, (size_t) NSC_RED_BLOCKS * NS_MAX_SLOTS * sizeof(double)),
                         "partials") &&
        !nsc_cuda_failed(b, cudaMallocHost(&b->host, NS_MAX_SLOTS * sizeof(double)), "pinned") &&
        !nsc_cuda_failed(b, cudaMalloc(&b->ws, NSC_WORKSPACE), "cuDNN workspace") &&
        !nsc_cuda_failed(b, cudaMalloc(&b->dh, NSC_MAX_GRAM * sizeof(__nv_bfloat16)), "scratch") &&
        !nsc_cuda_failed(b, cudaMemsetAsync(b->slots, 0, NS_MAX_SLOTS * sizeof(double), b->stream), "slots");
    if (!ok) {
        snprintf(err, err_len, "cannot start CUDA on GPU %d: %s", device_index, b->err);
        enum ns_status st = b->status ? b->status : NS_STATUS_BACKEND_ERROR;
        nsc_free(&b->base);
        return st;
    }
    b->cc_major = prop.major;
    b->base.bf16 = prop.major >= 8;
    size_t free_b = 0, total = 0;
    cudaMemGetInfo(&free_b, &total);
    snprintf(b->base.device, sizeof b->base.device, "%.95s", prop.name);
    snprintf(b->base.description, sizeof b->base.description, "CUDA: %.80s (GPU %d, %.0f GB, cuDNN %zu.%zu)",
             prop.name, device_index, total / 1e9, cudnnGetVersion() / 10000, cudnnGetVersion() / 100 % 100);
    *out = &b->base;
    return NS_STATUS_OK;
}
