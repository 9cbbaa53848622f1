/* cuda_backend.h - private state of the CUDA backend (libns-cuda.so).
 *
 * Everything runs in order on one stream; the host waits only in
 * read_scalars(), download() and sync().  Reductions write per-block partial
 * sums, then one block adds them in a fixed order: within a process the
 * same inputs give the same bytes.  (Across processes cudnnFind may time
 * two close algorithms the other way round, and they round differently.)
 */
#ifndef NS_CUDA_BACKEND_H
#define NS_CUDA_BACKEND_H

extern "C" {
#include "backend.h"
}

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#define NSC_THREADS    256 /* threads per block of every kernel */
#define NSC_RED_BLOCKS 256 /* most blocks of a reduction's first pass */
#define NSC_MAX_PLANS  256 /* convolution shapes remembered */
/* cuDNN workspace: the fastest algorithms want more, but 128 MB keeps 512 px
 * under 1 GB and costs little speed at these channel counts */
#define NSC_WORKSPACE (128u << 20)
#define NSC_MAX_GRAM  (512 * 512) /* largest Gram matrix: VGG's 512 channels */

/* Queues kernel on stream with NSC_THREADS threads per block; the arguments
 * follow in parentheses.  tests/cuda_emu defines its own to run the kernels
 * on the host. */
#ifndef NSC_LAUNCH
#define NSC_LAUNCH(kernel, grid, stream) kernel<<<(grid), NSC_THREADS, 0, (stream)>>>
#endif

enum { NSC_FWD = 0, NSC_BWD_DATA = 1, NSC_BWD_FILTER = 2 };

/* One convolution shape with its descriptors and the algorithm cudnnFind chose. */
struct nsc_plan {
    int bwd; /* NSC_FWD, NSC_BWD_DATA (to the input) or NSC_BWD_FILTER (to the weights) */
    int cin, cout, h, w; /* h, w: the input's */
    int k, stride;
    enum ns_precision prec;
    cudnnTensorDescriptor_t x, y, bias;
    cudnnFilterDescriptor_t filt;
    cudnnConvolutionDescriptor_t conv;
    int algo;   /* cudnnConvolutionFwdAlgo_t, ...BwdDataAlgo_t or ...BwdFilterAlgo_t */
    bool fused; /* bias and ReLU fused into the convolution */
    bool timed; /* algorithm chosen by timing (cudnnFind), not heuristics */
};

/* A buffer: the engine's handle and what the backend keeps with it. */
struct nsc_buf {
    struct ns_buf base;
    size_t bytes;
    __nv_bfloat16 *half;         /* float32 weights' bfloat16 copy, made on first use in bf16 mode */
    struct nsc_buf *prev, *next; /* the live buffers, freed with the backend */
};

static inline struct nsc_buf *nsc_buf_of(const struct ns_buf *x) {
    return (struct nsc_buf *) x;
}

static inline bool nsc_half(const struct ns_buf *x) {
    return x->dtype == NS_DTYPE_BF16;
}

/* A buffer's device memory as the kernels' float pointers (a bfloat16
 * tensor's too: kernels cast it by the buffer's dtype). */
static inline float *D(struct ns_buf *x) {
    return x ? (float *) x->data : NULL;
}

static inline const float *CD(const struct ns_buf *x) {
    return x ? (const float *) x->data : NULL;
}

struct nsc_backend {
    struct ns_backend base;
    int device;
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    cudnnActivationDescriptor_t relu;
    enum ns_precision prec;
    int cc_major; /* compute capability */

    double *slots;     /* device: NS_MAX_SLOTS */
    double *partials;  /* device: NSC_RED_BLOCKS * NS_MAX_SLOTS */
    double *host;      /* pinned: NS_MAX_SLOTS */
    void *ws;          /* cuDNN workspace, NSC_WORKSPACE bytes */
    __nv_bfloat16 *dh; /* bf16 style gradient factor, NSC_MAX_GRAM elements */

    struct nsc_plan plans[NSC_MAX_PLANS];
    int n_plans;

    struct nsc_buf *bufs; /* every live buffer */
    size_t bytes_in_use;
    size_t test_limit; /* NS_CUDA_TEST_ALLOC_LIMIT (docs/engine.md): bytes a run may take, 0 = no limit */
    size_t alloc_cap;  /* where the running run's allocations fail */

    enum ns_status status; /* the first error */
    char err[256];
};

static inline struct nsc_backend *nsc(struct ns_backend *be) {
    return (struct nsc_backend *) be;
}

/* Records the first failure ("what: msg"); later ones are dropped. */
void nsc_fail(struct nsc_backend *b, enum ns_status st, const char *what, const char *msg);
/* Records the first failure; returns true when e is a failure. */
bool nsc_cuda_failed(struct nsc_backend *b, cudaError_t e, const char *what);
bool nsc_dnn_failed(struct nsc_backend *b, cudnnStatus_t s, const char *what);
bool nsc_blas_failed(struct nsc_backend *b, cublasStatus_t s, const char *what);
/* Checks the launch of the kernel just queued. */
void nsc_launched(struct nsc_backend *b, const char *what);
/* The bfloat16 copy of float32 weights wt, made on first use. */
const __nv_bfloat16 *nsc_half_weights(struct nsc_backend *b, const struct ns_buf *wt);

/* conv.cu */
void nsc_conv3x3(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                 const struct ns_buf *wt_b, const struct ns_buf *bias_b, int cout, struct ns_buf *out_b,
                 bool relu);
void nsc_conv3x3_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int cout, int h, int w,
                     const struct ns_buf *wt_b, int cin, struct ns_buf *gin_b);
void nsc_plans_free(struct nsc_backend *b);
/* the fast styles' ops (kernels.cu, conv.cu) */
void nsc_conv2d(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w, const struct ns_buf *wt_b,
                const struct ns_buf *bias_b, int cout, int k, int stride, struct ns_buf *out_b);
void nsc_reflect_pad(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, int p,
                     struct ns_buf *out_b);
void nsc_moments(struct ns_backend *be, const struct ns_buf *x_b, int c, size_t m, int slot0);
void nsc_affine(struct ns_backend *be, struct ns_buf *x_b, int c, size_t m, const struct ns_buf *a_b,
                const struct ns_buf *b_b, bool relu);
void nsc_upsample2(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, struct ns_buf *out_b);
/* training a fast style (backend.h) */
void nsc_conv2d_bwd_data(struct ns_backend *be, const struct ns_buf *gout_b, int cout, const struct ns_buf *wt_b,
                         int cin, int h, int w, int k, int stride, struct ns_buf *gin_b);
void nsc_conv2d_bwd_filter(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                           const struct ns_buf *gout_b, int cout, int k, int stride, struct ns_buf *gwt_b,
                           struct ns_buf *gbias_b);
void nsc_reflect_pad_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w, int p,
                         struct ns_buf *gin_b);
void nsc_upsample2_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w,
                       struct ns_buf *gin_b);
void nsc_dot_moments(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                     int slot0);
void nsc_affine2(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                 const struct ns_buf *abc_b, struct ns_buf *out_b);
/* gbias[ch] += the sum of channel ch of g (c x m) */
void nsc_bias_grad(struct nsc_backend *b, const float *g, int c, size_t m, float *gbias);

/* kernels.cu */
void nsc_bias_relu(struct nsc_backend *b, bool half, float *out, const float *bias, int c, size_t hw,
                   bool relu);
/* 3x3 convolution of a float32 input into a bfloat16 output (the image into
 * the first layer in bf16 mode), bias and ReLU included. */
void nsc_conv_first(struct nsc_backend *b, const float *in, int cin, int h, int w, const float *wt,
                    const float *bias, int cout, float *out, bool relu);
void nsc_input_fwd(struct ns_backend *be, const struct ns_buf *u_b, struct ns_buf *x_b, size_t hw,
                   const float a[3], const float bb[3], const int perm[3]);
void nsc_input_bwd(struct ns_backend *be, const struct ns_buf *gx_b, struct ns_buf *gu_b, size_t hw,
                   const float a[3], const int perm[3]);
void nsc_relu_bwd(struct ns_backend *be, struct ns_buf *g_b, const struct ns_buf *y_b, size_t n);
void nsc_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b, int c, int h,
                  int w, struct ns_buf *out_b);
void nsc_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b,
                  const struct ns_buf *gout_b, int c, int h, int w, struct ns_buf *gin_b);
void nsc_gram(struct ns_backend *be, const struct ns_buf *f_b, int c, size_t m, struct ns_buf *g_b);
void nsc_content_loss(struct ns_backend *be, const struct ns_buf *f_b, const struct ns_buf *p_b, size_t n,
                      float coef, struct ns_buf *grad_b, int slot);
void nsc_style_loss(struct ns_backend *be, const struct ns_buf *f_b, int c, size_t m,
                    const struct ns_buf *t_b, float coef, struct ns_buf *scratch_b, struct ns_buf *grad_b,
                    int slot);
void nsc_gram_grad(struct ns_backend *be, const struct ns_buf *d_b, const struct ns_buf *f_b, int c, size_t m,
                   float alpha, struct ns_buf *grad_b);
void nsc_shift_scale(struct ns_backend *be, const struct ns_buf *in_b, int c, size_t m, float shift,
                     const struct ns_buf *w_b, struct ns_buf *out_b);
void nsc_cross_gram(struct ns_backend *be, const struct ns_buf *a_b, int ca, const struct ns_buf *b_b, int cb,
                    size_t m, float alpha, struct ns_buf *g_b);
void nsc_gram_diff(struct ns_backend *be, struct ns_buf *d_b, const struct ns_buf *t_b, size_t n, int slot);
void nsc_cross_grad(struct ns_backend *be, const struct ns_buf *d_b, int ca, int cb, bool trans,
                    const struct ns_buf *f_b, size_t m, float alpha, struct ns_buf *grad_b);
void nsc_crop(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int y0, int x0, int oh,
              int ow, struct ns_buf *out);
void nsc_add_window(struct ns_backend *be, const struct ns_buf *in, int c, int ih, int iw, int y0, int x0,
                    int h, int w, struct ns_buf *out);
void nsc_tv_loss(struct ns_backend *be, const struct ns_buf *u_b, int c, int h, int w, float coef,
                 struct ns_buf *grad_b, int slot);
void nsc_fill(struct ns_backend *be, struct ns_buf *x_b, float v, size_t n);
void nsc_to_half(struct nsc_backend *b, const float *src, __nv_bfloat16 *dst, size_t n);
void nsc_axpby(struct ns_backend *be, float alpha, const struct ns_buf *x_b, float beta, struct ns_buf *y_b,
               size_t n);
void nsc_dots(struct ns_backend *be, const struct ns_buf *const *v, int k, const struct ns_buf *x, size_t n,
              int slot0);
void nsc_lincomb(struct ns_backend *be, struct ns_buf *y, float alpha, const struct ns_buf *x,
                 const struct ns_buf *const *v, int k, const double *coef, size_t n);
void nsc_adam(struct ns_backend *be, struct ns_buf *x_b, const struct ns_buf *g_b, struct ns_buf *m_b,
              struct ns_buf *v_b, size_t n, float lr, float beta1, float beta2, float eps, int t);

#endif /* NS_CUDA_BACKEND_H */
