/* backend.h - the private table every compute backend implements.
 *
 * Buffers are float arrays in the backend's memory (host RAM for the CPU,
 * device memory for CUDA); the engine never dereferences them.  Tensors are
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

struct ns_backend_ops {
    const char *name;
    void (*free)(struct ns_backend *be);

    /* memory */
    float *(*alloc)(struct ns_backend *be, size_t n); /* NULL on failure */
    /* Optional: a network tensor (activation, feature gradient, content
     * target) of n elements, which a backend may store in a narrower type
     * under NS_PRECISION_BF16.  The engine only passes tensors to the ops
     * that take them; NULL = alloc. */
    float *(*alloc_tensor)(struct ns_backend *be, size_t n);
    void (*release)(struct ns_backend *be, float *p);
    void (*upload)(struct ns_backend *be, float *dst, const float *src, size_t n);
    void (*download)(struct ns_backend *be, float *dst, const float *src, size_t n);
    size_t (*mem_free)(struct ns_backend *be); /* bytes available */
    /* Threads for the ops that follow (CPU; others ignore it). */
    enum ns_status (*set_threads)(struct ns_backend *be, int threads);
    /* Arithmetic for the ops and tensors that follow (set before a run
     * allocates); a backend without a faster mode keeps float32, returns OK. */
    enum ns_status (*set_precision)(struct ns_backend *be, enum ns_precision precision);

    /* network */
    /* x[c] = a[c] * u[perm[c]] + b[c] over hw pixels (input convention). */
    void (*input_fwd)(struct ns_backend *be, const float *u, float *x, size_t hw, const float a[3],
                      const float b[3], const int perm[3]);
    /* gu[perm[c]] = a[c] * gx[c] (overwrites gu). */
    void (*input_bwd)(struct ns_backend *be, const float *gx, float *gu, size_t hw, const float a[3],
                      const int perm[3]);
    /* 3x3, stride 1, zero pad 1.  wt is [cout][cin*9]; bias may be NULL;
     * relu applies max(0, .) to the output. */
    void (*conv3x3)(struct ns_backend *be, const float *in, int cin, int h, int w, const float *wt,
                    const float *bias, int cout, float *out, bool relu);
    /* Optional: gin (cin x h x w) = gradient of conv3x3 with respect to its
     * input, from gout (cout x h x w) and the forward weights.  NULL = the
     * engine runs conv3x3 over flipped, transposed weights instead. */
    void (*conv3x3_bwd)(struct ns_backend *be, const float *gout, int cout, int h, int w, const float *wt,
                        int cin, float *gin);
    /* g[i] = 0 where y[i] <= 0 (ReLU backward, y = the ReLU's output). */
    void (*relu_bwd)(struct ns_backend *be, float *g, const float *y, size_t n);
    /* 2x2 stride 2, floor: out is c x h/2 x w/2. */
    void (*pool_fwd)(struct ns_backend *be, enum ns_pool_mode mode, const float *in, int c, int h, int w,
                     float *out);
    /* gin (c x h x w) = pooling backward of gout, overwriting gin. */
    void (*pool_bwd)(struct ns_backend *be, enum ns_pool_mode mode, const float *in, const float *gout, int c,
                     int h, int w, float *gin);
    /* g = f f^T / m, f is c x m, g is c x c. */
    void (*gram)(struct ns_backend *be, const float *f, int c, size_t m, float *g);

    /* losses: slot = the unweighted sum; when grad != NULL, grad += coef * d(sum)/d(input) */
    /* slot = sum (f - p)^2 */
    void (*content_loss)(struct ns_backend *be, const float *f, const float *p, size_t n, float coef,
                         float *grad, int slot);
    /* slot = sum (G - t)^2 with G = f f^T / m; scratch holds c*c floats */
    void (*style_loss)(struct ns_backend *be, const float *f, int c, size_t m, const float *t, float coef,
                       float *scratch, float *grad, int slot);
    /* slot = sum of squared differences of vertical and horizontal neighbours */
    void (*tv_loss)(struct ns_backend *be, const float *u, int c, int h, int w, float coef, float *grad,
                    int slot);

    /* vector operations for the optimisers */
    void (*fill)(struct ns_backend *be, float *x, float v, size_t n);
    void (*copy)(struct ns_backend *be, float *dst, const float *src, size_t n);
    /* y = alpha * x + beta * y */
    void (*axpby)(struct ns_backend *be, float alpha, const float *x, float beta, float *y, size_t n);
    /* slot0 + i = dot(mat + i * ld, x) for i < k */
    void (*dots)(struct ns_backend *be, const float *mat, int k, size_t ld, const float *x, size_t n,
                 int slot0);
    /* y = alpha * x + sum_i coef[i] * (mat + i * ld); x may equal y */
    void (*lincomb)(struct ns_backend *be, float *y, float alpha, const float *x, const float *mat, int k,
                    size_t ld, const double *coef, size_t n);
    /* one Adam step on x with gradient g and moments m, v (t = step, from 1) */
    void (*adam)(struct ns_backend *be, float *x, const float *g, float *m, float *v, size_t n, float lr,
                 float beta1, float beta2, float eps, int t);

    /* scalars and errors */
    enum ns_status (*read_scalars)(struct ns_backend *be, int slot0, int n, double *out);
    enum ns_status (*sync)(struct ns_backend *be);
    const char *(*error)(struct ns_backend *be); /* the first error, "" if none */
};

struct ns_backend {
    const struct ns_backend_ops *ops;
    char description[160];
    int threads;       /* CPU threads the ops use; 0 on other devices */
    char device[96];   /* the GPU's name; "" on the CPU */
    size_t workspace;  /* bytes the ops use beyond alloc(), at most */
    size_t bytes_peak; /* most bytes held through alloc() at once; 0 = not tracked */
    bool bf16;         /* alloc_tensor stores bfloat16 under NS_PRECISION_BF16 on this device */
};

/* A network tensor: through alloc_tensor where the backend has one. */
static inline float *ns_alloc_tensor(struct ns_backend *be, size_t n) {
    return be->ops->alloc_tensor ? be->ops->alloc_tensor(be, n) : be->ops->alloc(be, n);
}

/* CPU backend (OpenBLAS + OpenMP); threads 0 = all available cores. */
enum ns_status ns_backend_cpu_new(int threads, struct ns_backend **out);
/* The cores this process may run on (its affinity mask). */
int ns_cpu_cores(void);

/* Entry point a dynamically loaded backend exports (libns-cuda.so). */
typedef enum ns_status (*ns_backend_new_fn)(int device_index, struct ns_backend **out, char *err,
                                            size_t err_len);
#define NS_BACKEND_CUDA_SYMBOL "ns_backend_cuda_new"
/* The ops table and the structs above, as a number: a loaded backend
 * exports ns_backend_api_version() and is used only when it returns this.
 * Raise it with any change to them. */
#define NS_BACKEND_API_VERSION 2
#define NS_BACKEND_VERSION_SYMBOL "ns_backend_api_version"
typedef int (*ns_backend_version_fn)(void);

#endif /* NS_BACKEND_H */
