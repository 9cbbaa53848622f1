/* backend.h - the private table every compute backend implements.
 *
 * Buffers are struct ns_buf handles that the backend allocates: memory of
 * one element type in the backend's memory (host RAM for the CPU, device
 * memory for CUDA) that the engine never dereferences.  Network tensors
 * (activations, feature gradients, content targets) have the dtype
 * be->tensor_dtype, everything else float32; each op knows its operands'
 * types from the handles, so no op has to guess what a pointer is.  Tensors are
 * planar C x H x W.  Reductions write doubles into numbered scalar slots that
 * live on the backend, so that a GPU backend can run a whole iteration without
 * a host round trip and hand the scalars over in one read_scalars() call.
 * Ops do not return errors: a backend keeps the first error and reports it
 * from sync() / read_scalars().
 */
#ifndef NS_BACKEND_H
#define NS_BACKEND_H

#include "ns.h"

#define NS_MAX_SLOTS 1024

struct ns_backend;

enum ns_pool_mode { NS_POOL_MAX = 0, NS_POOL_AVG = 1 };

/* Element types of backend buffers.  Host data always crosses as float;
 * upload() and download() convert. */
enum ns_dtype { NS_DTYPE_F32 = 0, NS_DTYPE_BF16 = 1 };

static inline size_t ns_dtype_size(enum ns_dtype t) {
    return t == NS_DTYPE_BF16 ? 2 : 4;
}

/* A buffer made by alloc(): n elements of dtype.  The engine reads n and
 * dtype, never data.  A backend may embed it in a larger struct of its own. */
struct ns_buf {
    void *data;
    size_t n;
    enum ns_dtype dtype;
};

/* In the ops, buffers the op only reads are const; sizes are elements and
 * may be less than a buffer's n (ping-pong buffers are sized for the largest
 * layer). */
struct ns_backend_ops {
    const char *name;
    void (*free)(struct ns_backend *be);

    /* memory */
    /* NULL on failure or for a dtype this backend does not store */
    struct ns_buf *(*alloc)(struct ns_backend *be, size_t n, enum ns_dtype dtype);
    void (*release)(struct ns_backend *be, struct ns_buf *b);
    void (*upload)(struct ns_backend *be, struct ns_buf *dst, const float *src, size_t n);
    void (*download)(struct ns_backend *be, float *dst, const struct ns_buf *src, size_t n);
    size_t (*mem_free)(struct ns_backend *be); /* bytes available */
    /* Threads for the ops that follow (CPU; others ignore it). */
    enum ns_status (*set_threads)(struct ns_backend *be, int threads);
    /* Arithmetic for the ops and tensors that follow (set before a run
     * allocates): sets be->tensor_dtype.  A backend without a faster mode
     * keeps float32 and returns OK. */
    enum ns_status (*set_precision)(struct ns_backend *be, enum ns_precision precision);

    /* network: the image u, its gradient gu, x and the weights are float32;
     * act, g, out, in (but the image into the first conv) are tensors */
    /* x[c] = a[c] * u[perm[c]] + b[c] over hw pixels (input convention). */
    void (*input_fwd)(struct ns_backend *be, const struct ns_buf *u, struct ns_buf *x, size_t hw,
                      const float a[3], const float b[3], const int perm[3]);
    /* gu[perm[c]] = a[c] * gx[c] (overwrites gu). */
    void (*input_bwd)(struct ns_backend *be, const struct ns_buf *gx, struct ns_buf *gu, size_t hw,
                      const float a[3], const int perm[3]);
    /* 3x3, stride 1, zero pad 1.  wt is [cout][cin*9]; bias may be NULL;
     * relu applies max(0, .) to the output. */
    void (*conv3x3)(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                    const struct ns_buf *wt, const struct ns_buf *bias, int cout, struct ns_buf *out,
                    bool relu);
    /* Optional: gin (cin x h x w) = gradient of conv3x3 with respect to its
     * input, from gout (cout x h x w) and the forward weights.  NULL = the
     * engine runs conv3x3 over flipped, transposed weights instead. */
    void (*conv3x3_bwd)(struct ns_backend *be, const struct ns_buf *gout, int cout, int h, int w,
                        const struct ns_buf *wt, int cin, struct ns_buf *gin);
    /* g[i] = 0 where y[i] <= 0 (ReLU backward, y = the ReLU's output). */
    void (*relu_bwd)(struct ns_backend *be, struct ns_buf *g, const struct ns_buf *y, size_t n);
    /* 2x2 stride 2, floor: out is c x h/2 x w/2. */
    void (*pool_fwd)(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in, int c, int h,
                     int w, struct ns_buf *out);
    /* gin (c x h x w) = pooling backward of gout, overwriting gin. */
    void (*pool_bwd)(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in,
                     const struct ns_buf *gout, int c, int h, int w, struct ns_buf *gin);
    /* g = f f^T / m, f is a c x m tensor, g is c x c float32. */
    void (*gram)(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, struct ns_buf *g);

    /* windows, for tiles (optional: NULL = the backend cannot tile) */
    /* out (c x oh x ow) = the window of in (c x h x w) at row y0, column x0;
     * in and out of one dtype */
    void (*crop)(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int y0, int x0, int oh,
                 int ow, struct ns_buf *out);
    /* the window of out (c x h x w) at row y0, column x0 += in (c x ih x iw) */
    void (*add_window)(struct ns_backend *be, const struct ns_buf *in, int c, int ih, int iw, int y0, int x0,
                       int h, int w, struct ns_buf *out);
    /* grad += alpha * d f: d is c x c float32 (symmetric), f and grad c x m
     * tensors; the style gradient of a Gram matrix summed over tiles */
    void (*gram_grad)(struct ns_backend *be, const struct ns_buf *d, const struct ns_buf *f, int c, size_t m,
                      float alpha, struct ns_buf *grad);

    /* Gram variants (activation shift, regions, the correlation chain) */
    /* out[ch][j] = (in[ch][j] + shift) * (w ? w[j] : 1) over c x m; in and
     * out tensors of one dtype (out may be in), w float32 of m */
    void (*shift_scale)(struct ns_backend *be, const struct ns_buf *in, int c, size_t m, float shift,
                        const struct ns_buf *w, struct ns_buf *out);
    /* g (ca x cb, float32, row-major) = alpha * a b^T: a is ca x m, b is
     * cb x m, tensors of one dtype (a may be b) */
    void (*cross_gram)(struct ns_backend *be, const struct ns_buf *a, int ca, const struct ns_buf *b, int cb,
                       size_t m, float alpha, struct ns_buf *g);
    /* d -= t over n floats (float32); slot = sum of the new d^2 */
    void (*gram_diff)(struct ns_backend *be, struct ns_buf *d, const struct ns_buf *t, size_t n, int slot);
    /* grad (ca x m) += alpha * D f, f a cb x m tensor, D = d (ca x cb) or,
     * when trans, d^T (d is cb x ca); d float32, grad a tensor like f */
    void (*cross_grad)(struct ns_backend *be, const struct ns_buf *d, int ca, int cb, bool trans,
                       const struct ns_buf *f, size_t m, float alpha, struct ns_buf *grad);

    /* losses: slot = the unweighted sum; when grad != NULL, grad += coef * d(sum)/d(input) */
    /* slot = sum (f - p)^2 (tensors) */
    void (*content_loss)(struct ns_backend *be, const struct ns_buf *f, const struct ns_buf *p, size_t n,
                         float coef, struct ns_buf *grad, int slot);
    /* slot = sum (G - t)^2 with G = f f^T / m; scratch holds c*c floats */
    void (*style_loss)(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, const struct ns_buf *t,
                       float coef, struct ns_buf *scratch, struct ns_buf *grad, int slot);
    /* slot = sum of squared differences of vertical and horizontal neighbours (float32) */
    void (*tv_loss)(struct ns_backend *be, const struct ns_buf *u, int c, int h, int w, float coef,
                    struct ns_buf *grad, int slot);

    /* vector operations for the optimisers; fill, copy and dots also take
     * tensors (operands of one dtype) */
    void (*fill)(struct ns_backend *be, struct ns_buf *x, float v, size_t n);
    void (*copy)(struct ns_backend *be, struct ns_buf *dst, const struct ns_buf *src, size_t n);
    /* y = alpha * x + beta * y; beta 0 writes y without reading it (as BLAS) */
    void (*axpby)(struct ns_backend *be, float alpha, const struct ns_buf *x, float beta, struct ns_buf *y,
                  size_t n);
    /* slot0 + i = dot(v[i], x) for i < k */
    void (*dots)(struct ns_backend *be, const struct ns_buf *const *v, int k, const struct ns_buf *x,
                 size_t n, int slot0);
    /* y = alpha * x + sum_i coef[i] * v[i]; x may be y */
    void (*lincomb)(struct ns_backend *be, struct ns_buf *y, float alpha, const struct ns_buf *x,
                    const struct ns_buf *const *v, int k, const double *coef, size_t n);
    /* one Adam step on x with gradient g and moments m, v (t = step, from 1) */
    void (*adam)(struct ns_backend *be, struct ns_buf *x, const struct ns_buf *g, struct ns_buf *m,
                 struct ns_buf *v, size_t n, float lr, float beta1, float beta2, float eps, int t);

    /* feed-forward style networks (stylize.c; optional: NULL = this backend
     * cannot run them).  Planar float32 buffers. */
    /* out (c x (h+2p) x (w+2p)) = in (c x h x w) mirrored p pixels out on
     * each side, the edge not repeated (PyTorch's ReflectionPad2d); p < h, p < w */
    void (*reflect_pad)(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int p,
                        struct ns_buf *out);
    /* out (cout x oh x ow, oh = (h - k) / stride + 1) = the k x k convolution
     * of in (cin x h x w), no padding; wt [cout][cin*k*k]; bias may be NULL */
    void (*conv2d)(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w, const struct ns_buf *wt,
                   const struct ns_buf *bias, int cout, int k, int stride, struct ns_buf *out);
    /* slot0 + 2 ch = the sum of channel ch of x (c x m), slot0 + 2 ch + 1 the
     * sum of its squares */
    void (*moments)(struct ns_backend *be, const struct ns_buf *x, int c, size_t m, int slot0);
    /* x[ch][j] = a[ch] * x[ch][j] + b[ch] over c x m, then max(0, .) when
     * relu; a and b float32 of c */
    void (*affine)(struct ns_backend *be, struct ns_buf *x, int c, size_t m, const struct ns_buf *a,
                   const struct ns_buf *b, bool relu);
    /* out (c x 2h x 2w) = in (c x h x w), each pixel repeated 2 x 2 */
    void (*upsample2)(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, struct ns_buf *out);

    /* scalars and errors */
    enum ns_status (*read_scalars)(struct ns_backend *be, int slot0, int n, double *out);
    enum ns_status (*sync)(struct ns_backend *be);
    const char *(*error)(struct ns_backend *be); /* the first error, "" if none */

    /* training a fast style (fftrain.c; optional: NULL = this backend
     * cannot train).  The backward passes of the ops above, float32. */
    /* gin (cin x h x w, conv2d's input) = the gradient of conv2d's input
     * for gout (cout x oh x ow), overwritten */
    void (*conv2d_bwd_data)(struct ns_backend *be, const struct ns_buf *gout, int cout, const struct ns_buf *wt,
                            int cin, int h, int w, int k, int stride, struct ns_buf *gin);
    /* gwt ([cout][cin*k*k]) and gbias (cout) += the gradients of conv2d's
     * weight and bias for input in (cin x h x w) and gout */
    void (*conv2d_bwd_filter)(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                              const struct ns_buf *gout, int cout, int k, int stride, struct ns_buf *gwt,
                              struct ns_buf *gbias);
    /* gin (c x h x w) = the gradient of reflect_pad's input for gout
     * (c x (h+2p) x (w+2p)), overwritten */
    void (*reflect_pad_bwd)(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w, int p,
                            struct ns_buf *gin);
    /* gin (c x h x w) = the gradient of upsample2's input for gout (c x 2h x 2w) */
    void (*upsample2_bwd)(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w,
                          struct ns_buf *gin);
    /* slot0 + 2 ch = the sum of channel ch of g (c x m), slot0 + 2 ch + 1
     * the sum of g * x over it: instance norm's backward statistics */
    void (*dot_moments)(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c, size_t m,
                        int slot0);
    /* out[ch][j] = a[ch] g[ch][j] + b[ch] (x[ch][j] - d[ch]) + c[ch], abc =
     * a, b, c, d (4 x c floats; x centred first, or b x and c would cancel
     * in float32 where a channel's mean is large); out may be g */
    void (*affine2)(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c, size_t m,
                    const struct ns_buf *abc, struct ns_buf *out);

    /* optional (NULL: upsample2 then reflect_pad): out (c x (2h+2p) x
     * (2w+2p)) = reflect_pad of upsample2 of in (c x h x w), in one pass
     * without the upsampled tensor */
    void (*upsample2_pad)(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int p,
                          struct ns_buf *out);
};

struct ns_backend {
    const struct ns_backend_ops *ops;
    char description[160];
    int threads;                /* CPU threads the ops use; 0 on other devices */
    char device[96];            /* the GPU's name; "" on the CPU */
    size_t workspace;           /* bytes the ops use beyond alloc(), at most */
    size_t bytes_peak;          /* most bytes held through alloc() at once; 0 = not tracked */
    bool bf16;                  /* this device can store network tensors as bfloat16 */
    enum ns_dtype tensor_dtype; /* network tensors' type under the precision set */
};

/* The index reflect_pad reads for position i in [-p, n + p) of an axis
 * of n: mirrored at the edges, the edge not repeated. */
static inline int ns_reflect_index(int i, int n) {
    return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/* A network tensor of n elements. */
static inline struct ns_buf *ns_alloc_tensor(struct ns_backend *be, size_t n) {
    return be->ops->alloc(be, n, be->tensor_dtype);
}

/* A float32 vector of n elements. */
static inline struct ns_buf *ns_alloc_f32(struct ns_backend *be, size_t n) {
    return be->ops->alloc(be, n, NS_DTYPE_F32);
}

/* An array of buffers as the ops that read several take it. */
#define NS_BUFS(v) ((const struct ns_buf *const *) (v))

/* Releases *b if set and clears it. */
static inline void ns_release(struct ns_backend *be, struct ns_buf **b) {
    if (*b) be->ops->release(be, *b);
    *b = NULL;
}

/* A backend that only counts (backend_count.c): alloc() adds up bytes and
 * keeps the peak, ops do nothing, scalars read 0.  The planner runs the
 * run's own allocation code against it. */
struct ns_backend_count {
    struct ns_backend base;
    double bytes, peak; /* held now, most held at once */
};
void ns_backend_count_init(struct ns_backend_count *c, enum ns_dtype tensors);

/* CPU backend (OpenBLAS + OpenMP); threads 0 = all available cores. */
enum ns_status ns_backend_cpu_new(int threads, struct ns_backend **out);
/* The cores this process may run on (its affinity mask). */
int ns_cpu_cores(void);
/* Each CPU thread needs NS_CPU_THREAD_BYTES of ns_address_room(): OpenBLAS's
 * buffer for a single-threaded sgemm (BUFFER_SIZE, 128 MiB in Debian's
 * build) and a stack.  OpenBLAS retries forever when it cannot map its
 * buffer, so the backend fits its threads to the room before any sgemm. */
#define NS_CPU_THREAD_BYTES ((size_t) 136 << 20)
/* address space the CPU backend keeps free beside its threads */
#define NS_CPU_RESERVE_BYTES ((size_t) 64 << 20)

/* Entry point a dynamically loaded backend exports (libns-cuda.so). */
typedef enum ns_status (*ns_backend_new_fn)(int device_index, struct ns_backend **out, char *err,
                                            size_t err_len);
#define NS_BACKEND_CUDA_SYMBOL "ns_backend_cuda_new"
/* The ops table and the structs above, as a number: a loaded backend
 * exports ns_backend_api_version() and is used only when it returns this.
 * Raise it with any change to them. */
#define NS_BACKEND_API_VERSION    7
#define NS_BACKEND_VERSION_SYMBOL "ns_backend_api_version"
typedef int (*ns_backend_version_fn)(void);

#endif /* NS_BACKEND_H */
