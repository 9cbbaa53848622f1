/* kernels.cu - everything but the convolutions: pooling, ReLU, the losses,
 * Gram matrices (cuBLAS) and the optimisers' vector operations.
 *
 * Sums are accumulated in double.  A reduction's first pass has a block count
 * that depends only on the length and writes one partial per block; a second
 * pass adds them in index order into the scalar slot, on the device, so the
 * host reads all of an iteration's scalars in one copy.
 */
#include "cuda_backend.h"

#include <math.h>

#define VEC_CHUNK 64 /* vectors passed by value per launch (768 bytes of parameters) */

struct input_map {
    float a[3], b[3];
    int perm[3];
};

static unsigned grid_for(size_t n) {
    size_t g = (n + NSC_THREADS - 1) / NSC_THREADS;
    if (g < 1) g = 1;
    return g > 65536 ? 65536u : (unsigned) g;
}

/* Block count of a reduction's first pass: a function of n alone. */
static unsigned red_blocks(size_t n) {
    unsigned g = grid_for(n);
    return g > NSC_RED_BLOCKS ? NSC_RED_BLOCKS : g;
}

#define GRID_STRIDE(i, n)                                                                                    \
    for (size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);                                 \
         i += (size_t) gridDim.x * blockDim.x)

/* Network tensors are float or, in bf16 mode, __nv_bfloat16: kernels that
 * touch them are templates that load and store through these. */
typedef __nv_bfloat16 bf16;

__device__ static inline float ld(const float *p, size_t i) {
    return p[i];
}
__device__ static inline float ld(const bf16 *p, size_t i) {
    return __bfloat162float(p[i]);
}
__device__ static inline void st(float *p, size_t i, float v) {
    p[i] = v;
}
__device__ static inline void st(bf16 *p, size_t i, float v) {
    p[i] = __float2bfloat16(v);
}

/* Launches kernel<TT> on b's stream (b: the caller's backend) with TT = bf16
 * when `half`, else float; the arguments may name TT to cast tensor pointers. */
#define TENSOR_CALL(half, kernel, grid, ...)                                                                 \
    do {                                                                                                     \
        if (half) {                                                                                          \
            typedef bf16 TT;                                                                                 \
            NSC_LAUNCH(kernel<TT>, grid, b->stream)(__VA_ARGS__);                                            \
        } else {                                                                                             \
            typedef float TT;                                                                                \
            NSC_LAUNCH(kernel<TT>, grid, b->stream)(__VA_ARGS__);                                            \
        }                                                                                                    \
    } while (0)

/* Sum of v over the block, in a fixed tree order; valid in thread 0. */
__device__ static double block_sum(double v) {
    __shared__ double sh[NSC_THREADS];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = NSC_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

/* slots[slot0 + j] = sum of part[j * nb .. j * nb + nb - 1], block j. */
__global__ static void k_finish(const double *part, int nb, double *slots, int slot0) {
    double s = 0.0;
    for (int i = threadIdx.x; i < nb; i += blockDim.x)
        s += part[(size_t) blockIdx.x * nb + i];
    s = block_sum(s);
    if (threadIdx.x == 0) slots[slot0 + blockIdx.x] = s;
}

static void finish(struct nsc_backend *b, unsigned nb, int k, int slot0) {
    NSC_LAUNCH(k_finish, k, b->stream)(b->partials, (int) nb, b->slots, slot0);
    nsc_launched(b, "reduction");
}

/* ---- network ---- */

template <typename T>
__global__ static void k_bias_relu(T *out, const float *bias, size_t hw, size_t n, bool relu) {
    GRID_STRIDE(i, n) {
        float v = ld(out, i) + (bias ? bias[i / hw] : 0.0f);
        st(out, i, relu && !(v > 0.0f) ? 0.0f : v);
    }
}

void nsc_bias_relu(struct nsc_backend *b, bool half, float *out, const float *bias, int c, size_t hw,
                   bool relu) {
    size_t n = (size_t) c * hw;
    TENSOR_CALL(half, k_bias_relu, grid_for(n), (TT *) out, bias, hw, n, relu);
    nsc_launched(b, "bias and ReLU");
}

/* One output per thread: cin * 9 multiply-adds in float32 (cin is 3 here,
 * so this costs little next to cuDNN's layers). */
__global__ static void k_conv_first(const float *in, int cin, int h, int w, const float *wt,
                                    const float *bias, bf16 *out, size_t n, bool relu) {
    size_t hw = (size_t) h * w;
    GRID_STRIDE(i, n) {
        int co = (int) (i / hw), y = (int) (i % hw / w), x = (int) (i % w);
        float s = bias ? bias[co] : 0.0f;
        for (int ci = 0; ci < cin; ci++) {
            const float *plane = in + (size_t) ci * hw, *k = wt + ((size_t) co * cin + ci) * 9;
            for (int ky = 0; ky < 3; ky++) {
                int sy = y + ky - 1;
                if (sy < 0 || sy >= h) continue;
                for (int kx = 0; kx < 3; kx++) {
                    int sx = x + kx - 1;
                    if (sx >= 0 && sx < w) s += k[ky * 3 + kx] * plane[(size_t) sy * w + sx];
                }
            }
        }
        out[i] = __float2bfloat16(relu && !(s > 0.0f) ? 0.0f : s);
    }
}

void nsc_conv_first(struct nsc_backend *b, const float *in, int cin, int h, int w, const float *wt,
                    const float *bias, int cout, float *out, bool relu) {
    size_t n = (size_t) cout * h * w;
    NSC_LAUNCH(k_conv_first, grid_for(n), b->stream)(in, cin, h, w, wt, bias, (bf16 *) out, n, relu);
    nsc_launched(b, "first convolution");
}

template <typename T>
__global__ static void k_input_fwd(const float *u, T *x, size_t hw, struct input_map m) {
    GRID_STRIDE(i, 3 * hw) {
        int c = (int) (i / hw);
        st(x, i, m.a[c] * u[(size_t) m.perm[c] * hw + i % hw] + m.b[c]);
    }
}

template <typename T>
__global__ static void k_input_bwd(const T *gx, float *gu, size_t hw, struct input_map m) {
    GRID_STRIDE(i, 3 * hw) {
        int c = (int) (i / hw);
        gu[(size_t) m.perm[c] * hw + i % hw] = m.a[c] * ld(gx, i);
    }
}

static struct input_map input_map(const float a[3], const float *bb, const int perm[3]) {
    struct input_map m;
    for (int c = 0; c < 3; c++) {
        m.a[c] = a[c];
        m.b[c] = bb ? bb[c] : 0.0f;
        m.perm[c] = perm[c];
    }
    return m;
}

void nsc_input_fwd(struct ns_backend *be, const struct ns_buf *u_b, struct ns_buf *x_b, size_t hw,
                   const float a[3], const float bb[3], const int perm[3]) {
    const float *u = CD(u_b);
    float *x = D(x_b);
    struct nsc_backend *b = nsc(be);
    TENSOR_CALL(nsc_half(x_b), k_input_fwd, grid_for(3 * hw), u, (TT *) x, hw, input_map(a, bb, perm));
    nsc_launched(b, "input");
}

void nsc_input_bwd(struct ns_backend *be, const struct ns_buf *gx_b, struct ns_buf *gu_b, size_t hw,
                   const float a[3], const int perm[3]) {
    const float *gx = CD(gx_b);
    float *gu = D(gu_b);
    struct nsc_backend *b = nsc(be);
    TENSOR_CALL(nsc_half(gx_b), k_input_bwd, grid_for(3 * hw), (const TT *) gx, gu, hw,
                input_map(a, NULL, perm));
    nsc_launched(b, "input backward");
}

template <typename T> __global__ static void k_relu_bwd(T *g, const T *y, size_t n) {
    GRID_STRIDE(i, n) {
        if (!(ld(y, i) > 0.0f)) st(g, i, 0.0f);
    }
}

void nsc_relu_bwd(struct ns_backend *be, struct ns_buf *g_b, const struct ns_buf *y_b, size_t n) {
    float *g = D(g_b);
    const float *y = CD(y_b);
    struct nsc_backend *b = nsc(be);
    TENSOR_CALL(nsc_half(g_b), k_relu_bwd, grid_for(n), (TT *) g, (const TT *) y, n);
    nsc_launched(b, "ReLU backward");
}

template <typename T>
__global__ static void k_pool_fwd(int mode, const T *in, int h, int w, T *out, size_t n) {
    int oh = h / 2, ow = w / 2;
    GRID_STRIDE(i, n) {
        int x = (int) (i % ow), y = (int) (i / ow % oh);
        size_t ch = i / ((size_t) ow * oh), o0 = (ch * h + 2 * y) * w + 2 * x, o1 = o0 + w;
        float a = ld(in, o0), bb = ld(in, o0 + 1), d = ld(in, o1), e = ld(in, o1 + 1);
        st(out, i, mode == NS_POOL_MAX ? fmaxf(fmaxf(a, bb), fmaxf(d, e)) : 0.25f * (a + bb + d + e));
    }
}

/* Each output's gradient goes to its window; for max pooling to the first
 * maximum in reading order, as on the CPU. */
template <typename T>
__global__ static void k_pool_bwd(int mode, const T *in, const T *gout, int h, int w, T *gin, size_t n) {
    int oh = h / 2, ow = w / 2;
    GRID_STRIDE(i, n) {
        int x = (int) (i % ow), y = (int) (i / ow % oh);
        size_t ch = i / ((size_t) ow * oh), o0 = (ch * h + 2 * y) * w + 2 * x, o1 = o0 + w;
        float g = ld(gout, i);
        if (mode == NS_POOL_MAX) {
            float a = ld(in, o0), bb = ld(in, o0 + 1), d = ld(in, o1), e = ld(in, o1 + 1), m = a;
            int k = 0;
            if (bb > m) m = bb, k = 1;
            if (d > m) m = d, k = 2;
            if (e > m) k = 3;
            st(gin, o0, k == 0 ? g : 0.0f);
            st(gin, o0 + 1, k == 1 ? g : 0.0f);
            st(gin, o1, k == 2 ? g : 0.0f);
            st(gin, o1 + 1, k == 3 ? g : 0.0f);
        } else {
            float q = 0.25f * g;
            st(gin, o0, q);
            st(gin, o0 + 1, q);
            st(gin, o1, q);
            st(gin, o1 + 1, q);
        }
    }
}

void nsc_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b, int c, int h,
                  int w, struct ns_buf *out_b) {
    const float *in = CD(in_b);
    float *out = D(out_b);
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * (h / 2) * (w / 2);
    if (n == 0) return;
    TENSOR_CALL(nsc_half(in_b), k_pool_fwd, grid_for(n), (int) mode, (const TT *) in, h, w, (TT *) out, n);
    nsc_launched(b, "pooling");
}

void nsc_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b,
                  const struct ns_buf *gout_b, int c, int h, int w, struct ns_buf *gin_b) {
    const float *in = CD(in_b);
    const float *gout = CD(gout_b);
    float *gin = D(gin_b);
    struct nsc_backend *b = nsc(be);
    bool half = nsc_half(gin_b);
    size_t n = (size_t) c * (h / 2) * (w / 2);
    /* an odd last row or column gets no gradient */
    if ((h | w) & 1 || n == 0)
        nsc_cuda_failed(
            b, cudaMemsetAsync(gin, 0, (size_t) c * h * w * (half ? sizeof(bf16) : sizeof(float)), b->stream),
            "pooling backward");
    if (n == 0) return;
    TENSOR_CALL(half, k_pool_bwd, grid_for(n), (int) mode, (const TT *) in, (const TT *) gout, h, w,
                (TT *) gin, n);
    nsc_launched(b, "pooling backward");
}

/* g = f f^T / m: f is row-major c x m, which cuBLAS sees as the column-major
 * m x c matrix F, so g = F^T F / m (symmetric: either layout).  A bfloat16 f
 * is multiplied with float32 accumulation into a float32 g. */
void nsc_gram(struct ns_backend *be, const struct ns_buf *f_b, int c, size_t m, struct ns_buf *g_b) {
    const float *f = CD(f_b);
    float *g = D(g_b);
    struct nsc_backend *b = nsc(be);
    if (b->status) return;
    float alpha = 1.0f / (float) m, beta = 0.0f;
    cudaDataType_t ft = nsc_half(f_b) ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = b->prec == NS_PRECISION_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    nsc_blas_failed(b,
                    cublasGemmEx(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, c, c, (int) m, &alpha, f, ft, (int) m, f,
                                 ft, (int) m, &beta, g, CUDA_R_32F, c, ct, CUBLAS_GEMM_DEFAULT),
                    "Gram matrix");
}

/* ---- losses ---- */

template <typename T>
__global__ static void k_content(const T *f, const T *p, size_t n, float g2, T *grad, double *part) {
    double s = 0.0;
    GRID_STRIDE(i, n) {
        float d = ld(f, i) - ld(p, i);
        s += (double) d * d;
        if (grad) st(grad, i, ld(grad, i) + g2 * d);
    }
    s = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

void nsc_content_loss(struct ns_backend *be, const struct ns_buf *f_b, const struct ns_buf *p_b, size_t n,
                      float coef, struct ns_buf *grad_b, int slot) {
    const float *f = CD(f_b);
    const float *p = CD(p_b);
    float *grad = D(grad_b);
    struct nsc_backend *b = nsc(be);
    unsigned nb = red_blocks(n);
    TENSOR_CALL(nsc_half(f_b), k_content, nb, (const TT *) f, (const TT *) p, n, 2.0f * coef, (TT *) grad,
                b->partials);
    nsc_launched(b, "content loss");
    finish(b, nb, 1, slot);
}

/* d = G - t kept in g; the sum of d^2 per block. */
__global__ static void k_gram_diff(float *g, const float *t, size_t n, double *part) {
    double s = 0.0;
    GRID_STRIDE(i, n) {
        float d = g[i] - t[i];
        g[i] = d;
        s += (double) d * d;
    }
    s = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

void nsc_style_loss(struct ns_backend *be, const struct ns_buf *f_b, int c, size_t m,
                    const struct ns_buf *t_b, float coef, struct ns_buf *scratch_b, struct ns_buf *grad_b,
                    int slot) {
    const float *t = CD(t_b);
    float *scratch = D(scratch_b);
    struct nsc_backend *b = nsc(be);
    size_t cc = (size_t) c * c;
    nsc_gram(be, f_b, c, m, scratch_b);
    unsigned nb = red_blocks(cc);
    NSC_LAUNCH(k_gram_diff, nb, b->stream)(scratch, t, cc, b->partials);
    nsc_launched(b, "style loss");
    finish(b, nb, 1, slot);
    if (!grad_b) return;
    nsc_gram_grad(be, scratch_b, f_b, c, m, 4.0f * coef / (float) m, grad_b); /* d sum(G - t)^2 / df */
}

/* grad += alpha d f: the cross gradient of a square, symmetric d. */
void nsc_gram_grad(struct ns_backend *be, const struct ns_buf *d_b, const struct ns_buf *f_b, int c, size_t m,
                   float alpha, struct ns_buf *grad_b) {
    nsc_cross_grad(be, d_b, c, c, false, f_b, m, alpha, grad_b);
}

/* ---- Gram variants (activation shift, the correlation chain) ---- */

template <typename T>
__global__ static void k_shift_scale(const T *in, size_t m, float shift, const float *w, T *out, size_t n) {
    GRID_STRIDE(i, n) {
        float v = ld(in, i) + shift;
        st(out, i, w ? v * w[i % m] : v);
    }
}

void nsc_shift_scale(struct ns_backend *be, const struct ns_buf *in_b, int c, size_t m, float shift,
                     const struct ns_buf *w_b, struct ns_buf *out_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * m;
    if (b->status || n == 0) return;
    const float *in = CD(in_b), *w = w_b ? CD(w_b) : NULL;
    float *out = D(out_b);
    TENSOR_CALL(nsc_half(in_b), k_shift_scale, grid_for(n), (const TT *) in, m, shift, w, (TT *) out, n);
    nsc_launched(b, "activation shift");
}

/* g = alpha a b^T, row-major ca x cb: column-major that is cb x ca = B^T A
 * with the m x cb and m x ca views of b and a. */
void nsc_cross_gram(struct ns_backend *be, const struct ns_buf *a_b, int ca, const struct ns_buf *b_b, int cb,
                    size_t m, float alpha, struct ns_buf *g_b) {
    struct nsc_backend *b = nsc(be);
    if (b->status) return;
    float beta = 0.0f;
    cudaDataType_t ft = nsc_half(a_b) ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = b->prec == NS_PRECISION_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    nsc_blas_failed(b,
                    cublasGemmEx(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, cb, ca, (int) m, &alpha, b_b->data, ft,
                                 (int) m, a_b->data, ft, (int) m, &beta, g_b->data, CUDA_R_32F, cb, ct,
                                 CUBLAS_GEMM_DEFAULT),
                    "cross-layer Gram matrix");
}

void nsc_gram_diff(struct ns_backend *be, struct ns_buf *d_b, const struct ns_buf *t_b, size_t n, int slot) {
    struct nsc_backend *b = nsc(be);
    unsigned nb = red_blocks(n);
    NSC_LAUNCH(k_gram_diff, nb, b->stream)(D(d_b), CD(t_b), n, b->partials);
    nsc_launched(b, "Gram difference");
    finish(b, nb, 1, slot);
}

/* grad += alpha D f (D = d, ca x cb, or d^T when trans); column-major:
 * grad's m x ca view = F (f's m x cb view) times D^T (cb x ca), which is d
 * as stored (row-major ca x cb), or d's column-major ca x cb view
 * transposed when trans (d row-major cb x ca).  With bfloat16 tensors d is
 * rounded to bfloat16 too (cuBLAS wants one input type) and the sum is kept
 * in float32. */
void nsc_cross_grad(struct ns_backend *be, const struct ns_buf *d_b, int ca, int cb, bool trans,
                    const struct ns_buf *f_b, size_t m, float alpha, struct ns_buf *grad_b) {
    struct nsc_backend *b = nsc(be);
    size_t cc = (size_t) ca * cb;
    float beta = 1.0f;
    bool half = nsc_half(f_b);
    if (b->status || m == 0) return;
    if (half && cc > NSC_MAX_GRAM) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "style gradient", "more than 512 x 512 channels in bf16 mode");
        return;
    }
    if (half) nsc_to_half(b, CD(d_b), b->dh, cc);
    cudaDataType_t t16 = half ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = b->prec == NS_PRECISION_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    nsc_blas_failed(b,
                    cublasGemmEx(b->blas, CUBLAS_OP_N, trans ? CUBLAS_OP_T : CUBLAS_OP_N, (int) m, ca, cb,
                                 &alpha, f_b->data, t16, (int) m, half ? (const void *) b->dh : d_b->data,
                                 t16, trans ? ca : cb, &beta, grad_b->data, t16, (int) m, ct,
                                 CUBLAS_GEMM_DEFAULT),
                    "style gradient");
}

/* ---- windows ---- */

template <typename T>
__global__ static void k_crop(const T *in, int h, int w, int y0, int x0, int oh, int ow, T *out, size_t n) {
    GRID_STRIDE(i, n) {
        size_t ch = i / ((size_t) oh * ow), y = i / ow % oh, x = i % ow;
        out[i] = in[(ch * h + y0 + y) * w + x0 + x];
    }
}

void nsc_crop(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int y0, int x0, int oh,
              int ow, struct ns_buf *out) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * oh * ow;
    if (in->dtype != out->dtype) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "crop", "between buffers of different types");
        return;
    }
    if (n == 0) return;
    TENSOR_CALL(nsc_half(in), k_crop, grid_for(n), (const TT *) in->data, h, w, y0, x0, oh, ow,
                (TT *) out->data, n);
    nsc_launched(b, "crop");
}

template <typename T>
__global__ static void k_add_window(const T *in, int ih, int iw, int y0, int x0, int h, int w, T *out,
                                    size_t n) {
    GRID_STRIDE(i, n) {
        size_t ch = i / ((size_t) ih * iw), y = i / iw % ih, x = i % iw;
        size_t o = (ch * h + y0 + y) * w + x0 + x;
        st(out, o, ld(out, o) + ld(in, i));
    }
}

void nsc_add_window(struct ns_backend *be, const struct ns_buf *in, int c, int ih, int iw, int y0, int x0,
                    int h, int w, struct ns_buf *out) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * ih * iw;
    if (in->dtype != out->dtype) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "add window", "between buffers of different types");
        return;
    }
    if (n == 0) return;
    TENSOR_CALL(nsc_half(in), k_add_window, grid_for(n), (const TT *) in->data, ih, iw, y0, x0, h, w,
                (TT *) out->data, n);
    nsc_launched(b, "add window");
}

__global__ static void k_tv(const float *u, int h, int w, size_t n, float g2, float *grad, double *part) {
    double s = 0.0;
    GRID_STRIDE(i, n) {
        int x = (int) (i % w), y = (int) (i / w % h);
        float v = u[i], gsum = 0.0f;
        if (x + 1 < w) {
            float d = u[i + 1] - v;
            s += (double) d * d;
            gsum -= d;
        }
        if (y + 1 < h) {
            float d = u[i + w] - v;
            s += (double) d * d;
            gsum -= d;
        }
        if (x > 0) gsum += v - u[i - 1];
        if (y > 0) gsum += v - u[i - w];
        if (grad) grad[i] += g2 * gsum;
    }
    s = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

void nsc_tv_loss(struct ns_backend *be, const struct ns_buf *u_b, int c, int h, int w, float coef,
                 struct ns_buf *grad_b, int slot) {
    const float *u = CD(u_b);
    float *grad = D(grad_b);
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * h * w;
    unsigned nb = red_blocks(n);
    NSC_LAUNCH(k_tv, nb, b->stream)(u, h, w, n, 2.0f * coef, grad, b->partials);
    nsc_launched(b, "total variation");
    finish(b, nb, 1, slot);
}

/* ---- vector operations ---- */

template <typename T> __global__ static void k_fill(T *x, float v, size_t n) {
    GRID_STRIDE(i, n) st(x, i, v);
}

void nsc_fill(struct ns_backend *be, struct ns_buf *x_b, float v, size_t n) {
    float *x = D(x_b);
    struct nsc_backend *b = nsc(be);
    TENSOR_CALL(nsc_half(x_b), k_fill, grid_for(n), (TT *) x, v, n);
    nsc_launched(b, "fill");
}

__global__ static void k_to_half(const float *src, bf16 *dst, size_t n) {
    GRID_STRIDE(i, n) dst[i] = __float2bfloat16(src[i]);
}

void nsc_to_half(struct nsc_backend *b, const float *src, bf16 *dst, size_t n) {
    NSC_LAUNCH(k_to_half, grid_for(n), b->stream)(src, dst, n);
    nsc_launched(b, "conversion to bfloat16");
}

__global__ static void k_axpby(float alpha, const float *x, float beta, float *y, size_t n) {
    GRID_STRIDE(i, n) y[i] = beta != 0.0f ? alpha * x[i] + beta * y[i] : alpha * x[i];
}

void nsc_axpby(struct ns_backend *be, float alpha, const struct ns_buf *x_b, float beta, struct ns_buf *y_b,
               size_t n) {
    const float *x = CD(x_b);
    float *y = D(y_b);
    struct nsc_backend *b = nsc(be);
    NSC_LAUNCH(k_axpby, grid_for(n), b->stream)(alpha, x, beta, y, n);
    nsc_launched(b, "axpby");
}

/* Up to VEC_CHUNK vectors and their coefficients, passed by value to a kernel. */
template <typename T> struct vecs {
    const T *p[VEC_CHUNK];
    float c[VEC_CHUNK];
};

/* Block (i, j) sums part of v_j . x. */
template <typename T> __global__ static void k_dots(struct vecs<T> v, const T *x, size_t n, double *part) {
    const T *vj = v.p[blockIdx.y];
    double s = 0.0;
    GRID_STRIDE(i, n) s += (double) ld(vj, i) * ld(x, i);
    s = block_sum(s);
    if (threadIdx.x == 0) part[(size_t) blockIdx.y * gridDim.x + blockIdx.x] = s;
}

template <typename T>
static struct vecs<T> vecs_of(const struct ns_buf *const *v, int k, const double *coef) {
    struct vecs<T> r;
    memset(&r, 0, sizeof r);
    for (int j = 0; j < k; j++) {
        r.p[j] = (const T *) v[j]->data;
        r.c[j] = coef ? (float) coef[j] : 0.0f;
    }
    return r;
}

void nsc_dots(struct ns_backend *be, const struct ns_buf *const *v, int k, const struct ns_buf *x, size_t n,
              int slot0) {
    struct nsc_backend *b = nsc(be);
    unsigned nb = red_blocks(n);
    for (int j0 = 0; j0 < k; j0 += VEC_CHUNK) { /* VEC_CHUNK dot products per launch */
        int kk = k - j0 < VEC_CHUNK ? k - j0 : VEC_CHUNK;
        /* the content targets' norms come from bfloat16 tensors in bf16 mode */
        TENSOR_CALL(nsc_half(x), k_dots, dim3(nb, (unsigned) kk), vecs_of<TT>(v + j0, kk, NULL),
                    (const TT *) x->data, n, b->partials);
        nsc_launched(b, "dot products");
        finish(b, nb, kk, slot0 + j0);
    }
}

__global__ static void k_lincomb(float *y, float alpha, const float *x, struct vecs<float> v, int k,
                                 size_t n) {
    GRID_STRIDE(i, n) {
        float s = alpha * x[i];
        for (int j = 0; j < k; j++)
            s += v.c[j] * v.p[j][i];
        y[i] = s;
    }
}

void nsc_lincomb(struct ns_backend *be, struct ns_buf *y, float alpha, const struct ns_buf *x,
                 const struct ns_buf *const *v, int k, const double *coef, size_t n) {
    struct nsc_backend *b = nsc(be);
    int j0 = 0;
    do { /* VEC_CHUNK terms per launch; later launches add to y */
        int kk = k - j0 < VEC_CHUNK ? k - j0 : VEC_CHUNK;
        NSC_LAUNCH(k_lincomb, grid_for(n), b->stream)
        (D(y), j0 ? 1.0f : alpha, j0 ? CD(y) : CD(x),
         vecs_of<float>(v ? v + j0 : NULL, kk, coef ? coef + j0 : NULL), kk, n);
        nsc_launched(b, "linear combination");
        j0 += kk;
    } while (j0 < k);
}

__global__ static void k_adam(float *x, const float *g, float *m, float *v, size_t n, float step, float rc2,
                              float beta1, float beta2, float eps) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        x[i] -= step * mi / (sqrtf(vi) * rc2 + eps);
    }
}

void nsc_adam(struct ns_backend *be, struct ns_buf *x_b, const struct ns_buf *g_b, struct ns_buf *m_b,
              struct ns_buf *v_b, size_t n, float lr, float beta1, float beta2, float eps, int t) {
    float *x = D(x_b);
    const float *g = CD(g_b);
    float *m = D(m_b);
    float *v = D(v_b);
    struct nsc_backend *b = nsc(be);
    /* bias corrections computed as the CPU does */
    float c1 = 1.0f - powf(beta1, (float) t), c2 = 1.0f - powf(beta2, (float) t);
    NSC_LAUNCH(k_adam, grid_for(n), b->stream)(x, g, m, v, n, lr / c1, 1.0f / sqrtf(c2), beta1, beta2, eps);
    nsc_launched(b, "Adam");
}

/* ---- the fast styles' ops (float32 tensors) ---- */

__device__ static inline int mirror(int y, int n) {
    return y < 0 ? -y : y >= n ? 2 * (n - 1) - y : y;
}

__global__ static void k_reflect_pad(const float *in, int h, int w, int p, float *out, size_t n) {
    int oh = h + 2 * p, ow = w + 2 * p;
    GRID_STRIDE(i, n) {
        size_t plane = i / ((size_t) oh * ow);
        int y = (int) (i / ow % oh), x = (int) (i % ow);
        out[i] = in[(plane * h + mirror(y - p, h)) * w + mirror(x - p, w)];
    }
}

void nsc_reflect_pad(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, int p,
                     struct ns_buf *out_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * (h + 2 * p) * (w + 2 * p);
    NSC_LAUNCH(k_reflect_pad, grid_for(n), b->stream)(CD(in_b), h, w, p, D(out_b), n);
    nsc_launched(b, "reflection padding");
}

/* One block per channel: its sum and sum of squares in double, in a fixed
 * order, straight into the slots. */
__global__ static void k_moments(const float *x, size_t m, double *slots, int slot0) {
    const float *v = x + (size_t) blockIdx.x * m;
    double s = 0.0, s2 = 0.0;
    for (size_t i = threadIdx.x; i < m; i += blockDim.x) {
        double f = v[i];
        s += f, s2 += f * f;
    }
    s = block_sum(s);
    __syncthreads();
    s2 = block_sum(s2);
    if (threadIdx.x == 0) slots[slot0 + 2 * blockIdx.x] = s, slots[slot0 + 2 * blockIdx.x + 1] = s2;
}

void nsc_moments(struct ns_backend *be, const struct ns_buf *x_b, int c, size_t m, int slot0) {
    struct nsc_backend *b = nsc(be);
    if (slot0 < 0 || slot0 + 2 * c > NS_MAX_SLOTS) {
        nsc_fail(b, NS_STATUS_INVALID_ARGUMENT, "moments", "more channels than scalar slots");
        return;
    }
    NSC_LAUNCH(k_moments, (unsigned) c, b->stream)(CD(x_b), m, b->slots, slot0);
    nsc_launched(b, "moments");
}

__global__ static void k_affine(float *x, size_t m, const float *a, const float *bb, bool relu, size_t n) {
    GRID_STRIDE(i, n) {
        size_t ch = i / m;
        float v = a[ch] * x[i] + bb[ch];
        x[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

void nsc_affine(struct ns_backend *be, struct ns_buf *x_b, int c, size_t m, const struct ns_buf *a_b,
                const struct ns_buf *b_b, bool relu) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * m;
    NSC_LAUNCH(k_affine, grid_for(n), b->stream)(D(x_b), m, CD(a_b), CD(b_b), relu, n);
    nsc_launched(b, "affine");
}

__global__ static void k_upsample2(const float *in, int h, int w, float *out, size_t n) {
    int oh = 2 * h, ow = 2 * w;
    GRID_STRIDE(i, n) {
        size_t plane = i / ((size_t) oh * ow);
        int y = (int) (i / ow % oh), x = (int) (i % ow);
        out[i] = in[(plane * h + y / 2) * w + x / 2];
    }
}

void nsc_upsample2(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, struct ns_buf *out_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * 4 * h * w;
    NSC_LAUNCH(k_upsample2, grid_for(n), b->stream)(CD(in_b), h, w, D(out_b), n);
    nsc_launched(b, "upsampling");
}

/* ---- training a fast style ---- */

/* The padded rows (or columns) that mirror onto row y of n (pad p): the
 * row itself, its mirror above and its mirror below, -1 where none. */
__device__ static inline void mirrored_from(int y, int n, int p, int out[3]) {
    out[0] = y + p;
    out[1] = y >= 1 && y <= p ? p - y : -1;
    out[2] = y <= n - 2 && y > n - 2 - p ? p + 2 * (n - 1) - y : -1;
}

/* Each input element gathers the padded elements that copy it, in a fixed
 * order: no atomics, the same bytes every run. */
__global__ static void k_reflect_pad_bwd(const float *gout, int h, int w, int p, float *gin, size_t n) {
    int oh = h + 2 * p, ow = w + 2 * p;
    GRID_STRIDE(i, n) {
        size_t plane = i / ((size_t) h * w);
        int y = (int) (i / w % h), x = (int) (i % w), ys[3], xs[3];
        mirrored_from(y, h, p, ys);
        mirrored_from(x, w, p, xs);
        float s = 0.0f;
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 3; c++)
                if (ys[a] >= 0 && xs[c] >= 0) s += gout[(plane * oh + ys[a]) * ow + xs[c]];
        gin[i] = s;
    }
}

void nsc_reflect_pad_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w, int p,
                         struct ns_buf *gin_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * h * w;
    NSC_LAUNCH(k_reflect_pad_bwd, grid_for(n), b->stream)(CD(gout_b), h, w, p, D(gin_b), n);
    nsc_launched(b, "reflection padding's gradient");
}

__global__ static void k_upsample2_bwd(const float *gout, int h, int w, float *gin, size_t n) {
    GRID_STRIDE(i, n) {
        size_t plane = i / ((size_t) h * w);
        int y = (int) (i / w % h), x = (int) (i % w);
        const float *a = gout + (plane * 2 * h + 2 * y) * 2 * w + 2 * x, *c = a + 2 * w;
        gin[i] = (a[0] + a[1]) + (c[0] + c[1]);
    }
}

void nsc_upsample2_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w,
                       struct ns_buf *gin_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * h * w;
    NSC_LAUNCH(k_upsample2_bwd, grid_for(n), b->stream)(CD(gout_b), h, w, D(gin_b), n);
    nsc_launched(b, "upsampling's gradient");
}

/* One block per channel, as k_moments: the sums of g and of g x. */
__global__ static void k_dot_moments(const float *g, const float *x, size_t m, double *slots, int slot0) {
    const float *gv = g + (size_t) blockIdx.x * m, *xv = x + (size_t) blockIdx.x * m;
    double s = 0.0, sx = 0.0;
    for (size_t i = threadIdx.x; i < m; i += blockDim.x) {
        double f = gv[i];
        s += f, sx += f * xv[i];
    }
    s = block_sum(s);
    __syncthreads();
    sx = block_sum(sx);
    if (threadIdx.x == 0) slots[slot0 + 2 * blockIdx.x] = s, slots[slot0 + 2 * blockIdx.x + 1] = sx;
}

void nsc_dot_moments(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                     int slot0) {
    struct nsc_backend *b = nsc(be);
    if (slot0 < 0 || slot0 + 2 * c > NS_MAX_SLOTS) {
        nsc_fail(b, NS_STATUS_INVALID_ARGUMENT, "moments", "more channels than scalar slots");
        return;
    }
    NSC_LAUNCH(k_dot_moments, (unsigned) c, b->stream)(CD(g_b), CD(x_b), m, b->slots, slot0);
    nsc_launched(b, "instance norm's gradient");
}

__global__ static void k_affine2(const float *g, const float *x, size_t m, int c, const float *abc, float *out,
                                 size_t n) {
    GRID_STRIDE(i, n) {
        size_t ch = i / m;
        out[i] = abc[ch] * g[i] + abc[c + ch] * (x[i] - abc[3 * c + ch]) + abc[2 * c + ch];
    }
}

void nsc_affine2(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                 const struct ns_buf *abc_b, struct ns_buf *out_b) {
    struct nsc_backend *b = nsc(be);
    size_t n = (size_t) c * m;
    NSC_LAUNCH(k_affine2, grid_for(n), b->stream)(CD(g_b), CD(x_b), m, c, CD(abc_b), D(out_b), n);
    nsc_launched(b, "affine2");
}

/* One block per channel: its sum, in double, added to the bias's gradient. */
__global__ static void k_bias_grad(const float *g, size_t m, float *gbias) {
    const float *v = g + (size_t) blockIdx.x * m;
    double s = 0.0;
    for (size_t i = threadIdx.x; i < m; i += blockDim.x)
        s += v[i];
    s = block_sum(s);
    if (threadIdx.x == 0) gbias[blockIdx.x] += (float) s;
}

void nsc_bias_grad(struct nsc_backend *b, const float *g, int c, size_t m, float *gbias) {
    NSC_LAUNCH(k_bias_grad, (unsigned) c, b->stream)(g, m, gbias);
    nsc_launched(b, "bias gradient");
}
