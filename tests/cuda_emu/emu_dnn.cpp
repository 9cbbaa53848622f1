/* emu_dnn.cpp - the cuDNN calls of the backend, on the host.
 *
 * Convolutions are computed exactly (im2col and OpenBLAS, float32
 * accumulation).  Tensor-op algorithms on float32 data round the inputs to
 * TF32 as the hardware does, and bfloat16 data is stored rounded, so the
 * error limits of test_cuda meet realistic errors.  The algorithm lists are
 * made up but shaped like cuDNN's: some need more workspace than the
 * backend has, one is nondeterministic, FFT is offered, bfloat16 refuses FMA
 * kernels, and only IMPLICIT_PRECOMP_GEMM fuses bias and ReLU.  Every
 * descriptor, pointer, size and workspace is checked.
 */
#include "emu.h"
#include "emu_internal.h"

#include <algorithm>
#include <cblas.h>
#include <cudnn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

struct cudnnContext {
    cudaStream_t stream;
};
struct cudnnTensorStruct {
    bool set;
    cudnnDataType_t type;
    int n, c, h, w;
};
struct cudnnFilterStruct {
    bool set;
    cudnnDataType_t type;
    int k, c, h, w;
};
struct cudnnConvolutionStruct {
    bool set;
    int ph, pw, u, v, dh, dw;
    cudnnConvolutionMode_t mode;
    cudnnDataType_t compute;
    cudnnMathType_t math;
};
struct cudnnActivationStruct {
    bool set;
    cudnnActivationMode_t mode;
};

namespace {

/* One made-up algorithm: id, kind of kernel, workspace, relative time. */
struct algo {
    int id;
    cudnnMathType_t math;
    bool deterministic;
    size_t ws;
    float time;
    bool fft;
    bool fuses;
};

const size_t MB = 1u << 20;
const algo FWD[] = {
    {CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_TENSOR_OP_MATH, true, 512 * MB, 0.5f, false, false},
    {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_TENSOR_OP_MATH, true, MB, 1.0f, false, true},
    {CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_FMA_MATH, true, 8 * MB, 1.5f, true, false},
    {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_FMA_MATH, true, MB, 2.0f, false, true},
    {CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_FMA_MATH, true, 32 * MB, 2.5f, false, false},
    {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_FMA_MATH, true, 0, 3.0f, false, false},
};
const algo BWD[] = {
    {CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, CUDNN_FMA_MATH, false, 0, 0.4f, false, false},
    {CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED, CUDNN_TENSOR_OP_MATH, true, 512 * MB, 0.5f, false,
     false},
    {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_TENSOR_OP_MATH, true, MB, 1.0f, false, false},
    {CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, CUDNN_FMA_MATH, true, 8 * MB, 1.5f, true, false},
    {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_FMA_MATH, true, MB, 2.0f, false, false},
};

const algo FLT[] = {
    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, CUDNN_FMA_MATH, false, 0, 0.4f, false, false},
    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, CUDNN_TENSOR_OP_MATH, true, 512 * MB, 0.5f, false,
     false},
    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_TENSOR_OP_MATH, true, MB, 1.0f, false, false},
    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, CUDNN_FMA_MATH, true, 8 * MB, 1.5f, true, false},
    {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_FMA_MATH, true, MB, 2.0f, false, false},
};

bool is_bf16(cudnnDataType_t t) {
    return t == CUDNN_DATA_BFLOAT16;
}

size_t count(const cudnnTensorStruct *t) {
    return (size_t) t->n * t->c * t->h * t->w;
}

size_t elem(cudnnDataType_t t) {
    return is_bf16(t) ? 2 : 4;
}

/* Whether algorithm a can run on this data type under the descriptor's math
 * type: tensor-op kernels need a math type that allows them, bfloat16 data
 * needs tensor ops, FFT takes no bfloat16. */
bool runs(const algo &a, cudnnDataType_t t, cudnnMathType_t math) {
    if (a.math == CUDNN_TENSOR_OP_MATH && math == CUDNN_FMA_MATH) return false;
    if (is_bf16(t) && (a.math != CUDNN_TENSOR_OP_MATH || a.fft)) return false;
    return true;
}

/* The variant of algorithm id that runs: tensor ops where allowed. */
const algo *find(const algo *list, size_t n, int id, cudnnDataType_t t, cudnnMathType_t math) {
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (list[i].id == id && runs(list[i], t, math) && (pass || list[i].math == CUDNN_TENSOR_OP_MATH))
                return &list[i];
    return NULL;
}

/* Shapes, types and buffers of one convolution; a complaint where they do
 * not fit together. */
bool check(const char *api, const cudnnTensorStruct *x, const void *xp, const cudnnFilterStruct *w,
           const void *wp, const cudnnConvolutionStruct *cv, const cudnnTensorStruct *y, const void *yp) {
    if (!x || !w || !cv || !y || !x->set || !w->set || !cv->set || !y->set) {
        emu_complain(api, "a descriptor was not set");
        return false;
    }
    if (x->type != w->type || x->type != y->type || cv->compute != CUDNN_DATA_FLOAT ||
        (x->type != CUDNN_DATA_FLOAT && !is_bf16(x->type))) {
        emu_complain(api, "data types x %d, w %d, y %d, compute %d", x->type, w->type, y->type, cv->compute);
        return false;
    }
    int oh = (x->h + 2 * cv->ph - ((w->h - 1) * cv->dh + 1)) / cv->u + 1;
    int ow = (x->w + 2 * cv->pw - ((w->w - 1) * cv->dw + 1)) / cv->v + 1;
    if (x->c != w->c || y->c != w->k || y->n != x->n || y->h != oh || y->w != ow) {
        emu_complain(api, "shapes x %dx%dx%dx%d, w %dx%dx%dx%d, y %dx%dx%dx%d do not fit", x->n, x->c, x->h,
                     x->w, w->k, w->c, w->h, w->w, y->n, y->c, y->h, y->w);
        return false;
    }
    size_t wn = (size_t) w->k * w->c * w->h * w->w;
    return (!xp || emu_device_range(xp, count(x) * elem(x->type), api, "x")) &&
           (!wp || emu_device_range(wp, wn * elem(w->type), api, "w")) &&
           (!yp || emu_device_range(yp, count(y) * elem(y->type), api, "y"));
}

bool check_ws(const char *api, const algo *a, void *ws, size_t ws_bytes) {
    if (ws_bytes < a->ws) {
        emu_complain(api, "algorithm %d needs %zu bytes of workspace, was given %zu", a->id, a->ws, ws_bytes);
        return false;
    }
    return !ws_bytes || emu_device_range(ws, ws_bytes, api, "workspace");
}

/* A device tensor as float32: bfloat16 widened, TF32 rounding applied. */
std::vector<float> widen(const void *p, cudnnDataType_t t, size_t n, bool tf32) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) {
        float f = emu_load(p, is_bf16(t), i);
        v[i] = tf32 ? emu_tf32(f) : f;
    }
    return v;
}

/* The filter as a k x (c * kh * kw) matrix, flipped for true convolution. */
std::vector<float> filter(const cudnnFilterStruct *w, const cudnnConvolutionStruct *cv, const void *wp,
                          bool tf32) {
    size_t n = (size_t) w->k * w->c * w->h * w->w, taps = (size_t) w->h * w->w;
    std::vector<float> f = widen(wp, w->type, n, tf32);
    if (cv->mode == CUDNN_CONVOLUTION)
        for (size_t i = 0; i < n; i += taps)
            for (size_t a = 0, b = taps - 1; a < b; a++, b--)
                std::swap(f[i + a], f[i + b]);
    return f;
}

/* Visits every (column row, output pixel, input offset) of image `img`'s
 * im2col matrix; offset < 0 where the tap falls in the padding. */
template <typename F>
void each_tap(const cudnnTensorStruct *x, const cudnnFilterStruct *w, const cudnnConvolutionStruct *cv,
              const cudnnTensorStruct *y, F fn) {
    for (int c = 0; c < w->c; c++)
        for (int ky = 0; ky < w->h; ky++)
            for (int kx = 0; kx < w->w; kx++) {
                size_t row = ((size_t) c * w->h + ky) * w->w + kx;
                for (int oy = 0; oy < y->h; oy++)
                    for (int ox = 0; ox < y->w; ox++) {
                        int iy = oy * cv->u - cv->ph + ky * cv->dh, ix = ox * cv->v - cv->pw + kx * cv->dw;
                        long off = iy < 0 || iy >= x->h || ix < 0 || ix >= x->w
                                       ? -1
                                       : ((long) c * x->h + iy) * x->w + ix;
                        fn(row, (size_t) oy * y->w + ox, off);
                    }
            }
}

/* out (n images of k x oh*ow) = filter times im2col(x). */
std::vector<float> forward(const cudnnTensorStruct *x, const void *xp, const cudnnFilterStruct *w,
                           const void *wp, const cudnnConvolutionStruct *cv, const cudnnTensorStruct *y,
                           bool tf32) {
    std::vector<float> xf = widen(xp, x->type, count(x), tf32), wf = filter(w, cv, wp, tf32);
    size_t rows = (size_t) w->c * w->h * w->w, pix = (size_t) y->h * y->w, xs = (size_t) x->c * x->h * x->w;
    std::vector<float> col(rows * pix), out(count(y));
    for (int img = 0; img < x->n; img++) {
        const float *xi = xf.data() + img * xs;
        each_tap(x, w, cv, y,
                 [&](size_t row, size_t p, long off) { col[row * pix + p] = off < 0 ? 0.0f : xi[off]; });
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, w->k, (int) pix, (int) rows, 1.0f, wf.data(),
                    (int) rows, col.data(), (int) pix, 0.0f, out.data() + img * (size_t) w->k * pix,
                    (int) pix);
    }
    return out;
}

/* dx (n images of c x h*w) = col2im(filter^T times dy). */
std::vector<float> backward(const cudnnFilterStruct *w, const void *wp, const cudnnTensorStruct *dy,
                            const void *dyp, const cudnnConvolutionStruct *cv, const cudnnTensorStruct *dx,
                            bool tf32) {
    std::vector<float> gf = widen(dyp, dy->type, count(dy), tf32), wf = filter(w, cv, wp, tf32);
    size_t rows = (size_t) w->c * w->h * w->w, pix = (size_t) dy->h * dy->w,
           xs = (size_t) dx->c * dx->h * dx->w;
    std::vector<float> col(rows * pix), out(count(dx), 0.0f);
    for (int img = 0; img < dx->n; img++) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) rows, (int) pix, w->k, 1.0f, wf.data(),
                    (int) rows, gf.data() + img * (size_t) w->k * pix, (int) pix, 0.0f, col.data(),
                    (int) pix);
        float *xi = out.data() + img * xs;
        each_tap(dx, w, cv, dy, [&](size_t row, size_t p, long off) {
            if (off >= 0) xi[off] += col[row * pix + p];
        });
    }
    return out;
}

/* dw (k x c*kh*kw) = the sum over images of dy times im2col(x)^T, flipped
 * back for true convolution. */
std::vector<float> filter_grad(const cudnnTensorStruct *x, const void *xp, const cudnnTensorStruct *dy,
                               const void *dyp, const cudnnConvolutionStruct *cv, const cudnnFilterStruct *w,
                               bool tf32) {
    std::vector<float> xf = widen(xp, x->type, count(x), tf32), gf = widen(dyp, dy->type, count(dy), tf32);
    size_t rows = (size_t) w->c * w->h * w->w, pix = (size_t) dy->h * dy->w, xs = (size_t) x->c * x->h * x->w;
    std::vector<float> col(rows * pix), out((size_t) w->k * rows, 0.0f);
    for (int img = 0; img < x->n; img++) {
        const float *xi = xf.data() + img * xs;
        each_tap(x, w, cv, dy,
                 [&](size_t row, size_t p, long off) { col[row * pix + p] = off < 0 ? 0.0f : xi[off]; });
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, w->k, (int) rows, (int) pix, 1.0f,
                    gf.data() + img * (size_t) w->k * pix, (int) pix, col.data(), (int) pix, 1.0f, out.data(),
                    (int) rows);
    }
    size_t taps = (size_t) w->h * w->w;
    if (cv->mode == CUDNN_CONVOLUTION)
        for (size_t i = 0; i < out.size(); i += taps)
            for (size_t a = 0, b = taps - 1; a < b; a++, b--)
                std::swap(out[i + a], out[i + b]);
    return out;
}

/* dst = alpha * v + beta * dst, dst unread when beta is 0 (cuDNN's rule). */
void blend(void *dst, cudnnDataType_t t, const std::vector<float> &v, float alpha, float beta) {
    for (size_t i = 0; i < v.size(); i++)
        emu_store(dst, is_bf16(t), i,
                  alpha * v[i] + (beta != 0.0f ? beta * emu_load(dst, is_bf16(t), i) : 0.0f));
}

/* What cudnnFind leaves in the output: not the answer. */
void scribble(void *p, size_t bytes) {
    memset(p, 0xff, bytes);
}

template <typename Perf>
void list(const algo *l, size_t n, cudnnDataType_t t, cudnnMathType_t math, bool timed, int requested,
          int *returned, Perf *perf) {
    std::vector<const algo *> order;
    for (size_t i = 0; i < n; i++)
        order.push_back(&l[i]);
    if (timed) /* fastest first; the ones that cannot run last */
        std::stable_sort(order.begin(), order.end(), [&](const algo *a, const algo *b) {
            bool ra = runs(*a, t, math), rb = runs(*b, t, math);
            return ra != rb ? ra : a->time < b->time;
        });
    int k = 0;
    for (const algo *a : order) {
        if (k == requested) break;
        Perf p;
        memset(&p, 0, sizeof p);
        p.algo = (decltype(p.algo)) a->id;
        p.status = runs(*a, t, math) ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED;
        p.time = timed ? a->time : -1.0f;
        p.memory = a->ws;
        p.determinism = a->deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
        p.mathType = a->math;
        perf[k++] = p;
    }
    *returned = k;
}

/* cudnnFind...Ex after the shapes are checked: waits for the stream, times
 * (here: lists) the algorithms of l for output `out`, and leaves garbage in
 * out. */
template <typename Perf>
cudnnStatus_t timed(const char *api, const algo *l, size_t n, cudnnMathType_t math,
                    const cudnnTensorStruct *out, void *out_p, void *ws, size_t ws_bytes, int requested,
                    int *returned, Perf *perf) {
    if (ws_bytes && !emu_device_range(ws, ws_bytes, api, "workspace")) return CUDNN_STATUS_BAD_PARAM;
    list(l, n, out->type, math, true, requested, returned, perf);
    for (int i = 0; i < *returned; i++) /* what does not fit the workspace is not timed */
        if (perf[i].memory > ws_bytes && perf[i].status == CUDNN_STATUS_SUCCESS)
            perf[i].status = CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND;
    emu_drain(); /* cudnnFind is synchronous */
    scribble(out_p, count(out) * elem(out->type));
    return CUDNN_STATUS_SUCCESS;
}

bool tf32_inputs(const algo *a, cudnnDataType_t t) {
    return t == CUDNN_DATA_FLOAT && a->math == CUDNN_TENSOR_OP_MATH;
}

} // namespace

/* ---- handle and descriptors ---- */

cudnnStatus_t cudnnCreate(cudnnHandle_t *h) {
    *h = new cudnnContext();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) {
    delete h;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
    h->stream = s;
    return CUDNN_STATUS_SUCCESS;
}
size_t cudnnGetVersion(void) {
    return CUDNN_VERSION;
}

const char *cudnnGetErrorString(cudnnStatus_t s) {
    switch (s) {
    case CUDNN_STATUS_SUCCESS:
        return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_BAD_PARAM:
        return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED:
        return "CUDNN_STATUS_NOT_SUPPORTED";
    default:
        return "CUDNN_STATUS (emulated)";
    }
}

#define CREATE_DESTROY(Create, Destroy, Struct)                                                              \
    cudnnStatus_t Create(Struct **d) {                                                                       \
        *d = new Struct();                                                                                   \
        return CUDNN_STATUS_SUCCESS;                                                                         \
    }                                                                                                        \
    cudnnStatus_t Destroy(Struct *d) {                                                                       \
        delete d;                                                                                            \
        return CUDNN_STATUS_SUCCESS;                                                                         \
    }
CREATE_DESTROY(cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor, cudnnTensorStruct)
CREATE_DESTROY(cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor, cudnnFilterStruct)
CREATE_DESTROY(cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor, cudnnConvolutionStruct)
CREATE_DESTROY(cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor, cudnnActivationStruct)

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t,
                                         int n, int c, int h, int w) {
    if (f != CUDNN_TENSOR_NCHW || n < 1 || c < 1 || h < 1 || w < 1) {
        emu_complain("cudnnSetTensor4dDescriptor", "format %d, %dx%dx%dx%d", f, n, c, h, w);
        return CUDNN_STATUS_BAD_PARAM;
    }
    *d = {true, t, n, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f,
                                         int k, int c, int h, int w) {
    if (f != CUDNN_TENSOR_NCHW || k < 1 || c < 1 || h < 1 || w < 1) {
        emu_complain("cudnnSetFilter4dDescriptor", "format %d, %dx%dx%dx%d", f, k, c, h, w);
        return CUDNN_STATUS_BAD_PARAM;
    }
    *d = {true, t, k, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int ph, int pw, int u, int v,
                                              int dh, int dw, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute) {
    if (ph < 0 || pw < 0 || u < 1 || v < 1 || dh < 1 || dw < 1) {
        emu_complain("cudnnSetConvolution2dDescriptor", "pad %d %d, stride %d %d, dilation %d %d", ph, pw, u,
                     v, dh, dw);
        return CUDNN_STATUS_BAD_PARAM;
    }
    *d = {true, ph, pw, u, v, dh, dw, mode, compute, CUDNN_DEFAULT_MATH};
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
    d->math = math;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d, cudnnActivationMode_t mode,
                                           cudnnNanPropagation_t nan, double coef) {
    *d = {true, mode};
    return CUDNN_STATUS_SUCCESS;
}

/* ---- algorithms ---- */

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                     const cudnnFilterDescriptor_t w,
                                                     const cudnnConvolutionDescriptor_t cv,
                                                     const cudnnTensorDescriptor_t y, const int requested,
                                                     int *returned, cudnnConvolutionFwdAlgoPerf_t *perf) {
    if (!check("cudnnGetConvolutionForwardAlgorithm_v7", x, NULL, w, NULL, cv, y, NULL))
        return CUDNN_STATUS_BAD_PARAM;
    list(FWD, sizeof FWD / sizeof *FWD, x->type, cv->math, false, requested, returned, perf);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t h, const cudnnFilterDescriptor_t w,
                                                          const cudnnTensorDescriptor_t dy,
                                                          const cudnnConvolutionDescriptor_t cv,
                                                          const cudnnTensorDescriptor_t dx,
                                                          const int requested, int *returned,
                                                          cudnnConvolutionBwdDataAlgoPerf_t *perf) {
    if (!check("cudnnGetConvolutionBackwardDataAlgorithm_v7", dx, NULL, w, NULL, cv, dy, NULL))
        return CUDNN_STATUS_BAD_PARAM;
    list(BWD, sizeof BWD / sizeof *BWD, dx->type, cv->math, false, requested, returned, perf);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(
    cudnnHandle_t h, const cudnnTensorDescriptor_t x, const void *xp, const cudnnFilterDescriptor_t w,
    const void *wp, const cudnnConvolutionDescriptor_t cv, const cudnnTensorDescriptor_t y, void *yp,
    const int requested, int *returned, cudnnConvolutionFwdAlgoPerf_t *perf, void *ws, size_t ws_bytes) {
    const char *api = "cudnnFindConvolutionForwardAlgorithmEx";
    if (!check(api, x, xp, w, wp, cv, y, yp)) return CUDNN_STATUS_BAD_PARAM;
    return timed(api, FWD, sizeof FWD / sizeof *FWD, cv->math, y, yp, ws, ws_bytes, requested, returned,
                 perf);
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t h, const cudnnFilterDescriptor_t w, const void *wp, const cudnnTensorDescriptor_t dy,
    const void *dyp, const cudnnConvolutionDescriptor_t cv, const cudnnTensorDescriptor_t dx, void *dxp,
    const int requested, int *returned, cudnnConvolutionBwdDataAlgoPerf_t *perf, void *ws, size_t ws_bytes) {
    const char *api = "cudnnFindConvolutionBackwardDataAlgorithmEx";
    if (!check(api, dx, dxp, w, wp, cv, dy, dyp)) return CUDNN_STATUS_BAD_PARAM;
    return timed(api, BWD, sizeof BWD / sizeof *BWD, cv->math, dx, dxp, ws, ws_bytes, requested, returned,
                 perf);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                            const cudnnTensorDescriptor_t dy,
                                                            const cudnnConvolutionDescriptor_t cv,
                                                            const cudnnFilterDescriptor_t dw, const int requested,
                                                            int *returned, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
    if (!check("cudnnGetConvolutionBackwardFilterAlgorithm_v7", x, NULL, dw, NULL, cv, dy, NULL))
        return CUDNN_STATUS_BAD_PARAM;
    list(FLT, sizeof FLT / sizeof *FLT, x->type, cv->math, false, requested, returned, perf);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t h, const cudnnTensorDescriptor_t x, const void *xp, const cudnnTensorDescriptor_t dy,
    const void *dyp, const cudnnConvolutionDescriptor_t cv, const cudnnFilterDescriptor_t dw, void *dwp,
    const int requested, int *returned, cudnnConvolutionBwdFilterAlgoPerf_t *perf, void *ws, size_t ws_bytes) {
    const char *api = "cudnnFindConvolutionBackwardFilterAlgorithmEx";
    if (!check(api, x, xp, dw, dwp, cv, dy, dyp)) return CUDNN_STATUS_BAD_PARAM;
    /* the filter as a tensor for timed()'s scribble */
    cudnnTensorStruct as_tensor = {true, dw->type, dw->k, dw->c, dw->h, dw->w};
    return timed(api, FLT, sizeof FLT / sizeof *FLT, cv->math, &as_tensor, dwp, ws, ws_bytes, requested, returned,
                 perf);
}

/* ---- convolutions ---- */

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t x,
                                      const void *xp, const cudnnFilterDescriptor_t w, const void *wp,
                                      const cudnnConvolutionDescriptor_t cv,
                                      cudnnConvolutionFwdAlgo_t algo_id, void *ws, size_t ws_bytes,
                                      const void *beta, const cudnnTensorDescriptor_t y, void *yp) {
    const char *api = "cudnnConvolutionForward";
    if (!check(api, x, xp, w, wp, cv, y, yp)) return CUDNN_STATUS_BAD_PARAM;
    const algo *a = find(FWD, sizeof FWD / sizeof *FWD, algo_id, x->type, cv->math);
    if (!a) {
        emu_complain(api, "algorithm %d does not run on data type %d with math type %d", algo_id, x->type,
                     cv->math);
        return CUDNN_STATUS_NOT_SUPPORTED;
    }
    if (!check_ws(api, a, ws, ws_bytes)) return CUDNN_STATUS_BAD_PARAM;
    /* queued with copies of the descriptors and factors, as cuDNN takes them */
    cudnnTensorStruct xs = *x, ys = *y;
    cudnnFilterStruct fs = *w;
    cudnnConvolutionStruct cs = *cv;
    float al = *(const float *) alpha, be = *(const float *) beta;
    bool tf = tf32_inputs(a, x->type);
    emu_enqueue([=] { blend(yp, ys.type, forward(&xs, xp, &fs, wp, &cs, &ys, tf), al, be); });
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBiasActivationForward(
    cudnnHandle_t h, const void *alpha1, const cudnnTensorDescriptor_t x, const void *xp,
    const cudnnFilterDescriptor_t w, const void *wp, const cudnnConvolutionDescriptor_t cv,
    cudnnConvolutionFwdAlgo_t algo_id, void *ws, size_t ws_bytes, const void *alpha2,
    const cudnnTensorDescriptor_t z, const void *zp, const cudnnTensorDescriptor_t bias, const void *bp,
    const cudnnActivationDescriptor_t act, const cudnnTensorDescriptor_t y, void *yp) {
    const char *api = "cudnnConvolutionBiasActivationForward";
    if (!check(api, x, xp, w, wp, cv, y, yp)) return CUDNN_STATUS_BAD_PARAM;
    if (!z || !z->set || z->type != y->type || z->n != y->n || z->c != y->c || z->h != y->h || z->w != y->w ||
        !emu_device_range(zp, count(z) * elem(z->type), api, "z")) {
        emu_complain(api, "z does not match y");
        return CUDNN_STATUS_BAD_PARAM;
    }
    if (!bias || !bias->set || bias->n != 1 || bias->c != y->c || bias->h != 1 || bias->w != 1 ||
        !emu_device_range(bp, (size_t) y->c * elem(bias->type), api, "bias")) {
        emu_complain(api, "bias is not 1 x %d x 1 x 1 device memory", y->c);
        return CUDNN_STATUS_BAD_PARAM;
    }
    if (!act || !act->set) {
        emu_complain(api, "activation descriptor not set");
        return CUDNN_STATUS_BAD_PARAM;
    }
    const algo *a = find(FWD, sizeof FWD / sizeof *FWD, algo_id, x->type, cv->math);
    /* refusals the backend must survive by running the parts separately */
    if (!a || !a->fuses || bias->type != y->type || act->mode != CUDNN_ACTIVATION_RELU)
        return CUDNN_STATUS_NOT_SUPPORTED;
    if (!check_ws(api, a, ws, ws_bytes)) return CUDNN_STATUS_BAD_PARAM;
    cudnnTensorStruct xs = *x, ys = *y;
    cudnnFilterStruct fs = *w;
    cudnnConvolutionStruct cs = *cv;
    float a1 = *(const float *) alpha1, a2 = *(const float *) alpha2;
    bool tf = tf32_inputs(a, x->type), zb = is_bf16(z->type), bb = is_bf16(bias->type);
    emu_enqueue([=] {
        std::vector<float> v = forward(&xs, xp, &fs, wp, &cs, &ys, tf);
        size_t plane = (size_t) ys.h * ys.w;
        for (size_t i = 0; i < v.size(); i++) {
            /* z unread when alpha2 is 0, as the output is when beta is 0 */
            float s = a1 * v[i] + (a2 != 0.0f ? a2 * emu_load(zp, zb, i) : 0.0f) +
                      emu_load(bp, bb, i / plane % ys.c);
            emu_store(yp, is_bf16(ys.type), i, s > 0.0f ? s : 0.0f);
        }
    });
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void *alpha,
                                           const cudnnFilterDescriptor_t w, const void *wp,
                                           const cudnnTensorDescriptor_t dy, const void *dyp,
                                           const cudnnConvolutionDescriptor_t cv,
                                           cudnnConvolutionBwdDataAlgo_t algo_id, void *ws, size_t ws_bytes,
                                           const void *beta, const cudnnTensorDescriptor_t dx, void *dxp) {
    const char *api = "cudnnConvolutionBackwardData";
    if (!check(api, dx, dxp, w, wp, cv, dy, dyp)) return CUDNN_STATUS_BAD_PARAM;
    const algo *a = find(BWD, sizeof BWD / sizeof *BWD, algo_id, dx->type, cv->math);
    if (!a) {
        emu_complain(api, "algorithm %d does not run on data type %d with math type %d", algo_id, dx->type,
                     cv->math);
        return CUDNN_STATUS_NOT_SUPPORTED;
    }
    if (!check_ws(api, a, ws, ws_bytes)) return CUDNN_STATUS_BAD_PARAM;
    cudnnTensorStruct dys = *dy, dxs = *dx;
    cudnnFilterStruct fs = *w;
    cudnnConvolutionStruct cs = *cv;
    float al = *(const float *) alpha, be = *(const float *) beta;
    bool tf = tf32_inputs(a, dx->type);
    emu_enqueue([=] { blend(dxp, dxs.type, backward(&fs, wp, &dys, dyp, &cs, &dxs, tf), al, be); });
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t x,
                                             const void *xp, const cudnnTensorDescriptor_t dy, const void *dyp,
                                             const cudnnConvolutionDescriptor_t cv,
                                             cudnnConvolutionBwdFilterAlgo_t algo_id, void *ws, size_t ws_bytes,
                                             const void *beta, const cudnnFilterDescriptor_t dw, void *dwp) {
    const char *api = "cudnnConvolutionBackwardFilter";
    if (!check(api, x, xp, dw, dwp, cv, dy, dyp)) return CUDNN_STATUS_BAD_PARAM;
    const algo *a = find(FLT, sizeof FLT / sizeof *FLT, algo_id, x->type, cv->math);
    if (!a) {
        emu_complain(api, "algorithm %d does not run on data type %d with math type %d", algo_id, x->type,
                     cv->math);
        return CUDNN_STATUS_NOT_SUPPORTED;
    }
    if (!check_ws(api, a, ws, ws_bytes)) return CUDNN_STATUS_BAD_PARAM;
    cudnnTensorStruct xs = *x, dys = *dy;
    cudnnFilterStruct fs = *dw;
    cudnnConvolutionStruct cs = *cv;
    float al = *(const float *) alpha, be = *(const float *) beta;
    bool tf = tf32_inputs(a, x->type);
    emu_enqueue([=] { blend(dwp, fs.type, filter_grad(&xs, xp, &dys, dyp, &cs, &fs, tf), al, be); });
    return CUDNN_STATUS_SUCCESS;
}
