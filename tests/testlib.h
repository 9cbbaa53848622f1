/* testlib.h - checks, seeded random data and synthetic VGG weights for tests. */
#ifndef NS_TESTLIB_H
#define NS_TESTLIB_H

#include "backend.h"
#include "weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                             \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)

static inline int test_summary(const char *name) {
    if (failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    else
        printf("%s: all checks passed\n", name);
    return failures ? 1 : 0;
}

static uint64_t test_rng = 0x12345678abcdefull;

static inline uint64_t rnd_u64(void) {
    uint64_t z = (test_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double rnd_uniform(void) {
    return (rnd_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static inline double rnd_normal(void) {
    double u1 = rnd_uniform() + 1e-300, u2 = rnd_uniform();
    return sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
}

static inline void fill_uniform(float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++)
        x[i] = (float) (lo + (hi - lo) * rnd_uniform());
}

static inline void fill_normal(float *x, size_t n, double sd) {
    for (size_t i = 0; i < n; i++)
        x[i] = (float) (sd * rnd_normal());
}

static inline float *falloc(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) abort();
    return p;
}

/* Host floats seen as a CPU backend buffer (CPU buffers are host float32
 * memory), for tests that call CPU ops on their own arrays; n = 0 when the
 * test does not say.  A ring of views: each stays valid for the next 255
 * calls, enough for any op. */
static inline struct ns_buf *Vn(const float *host, size_t n) {
    static struct ns_buf ring[256];
    static unsigned next;
    if (!host) return NULL;
    struct ns_buf *b = &ring[next++ % 256];
    *b = (struct ns_buf){(void *) host, n, NS_DTYPE_F32};
    return b;
}

static inline struct ns_buf *V(const float *host) {
    return Vn(host, 0);
}

static inline double *dalloc(size_t n) {
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) abort();
    return p;
}

/* A CPU backend whose 3 x 3 convolutions go one way, NS_CPU_CONV's
 * "direct" or "winograd" (read when the backend is made); NULL if none. */
static inline struct ns_backend *cpu_backend_conv(const char *conv, int threads) {
    struct ns_backend *be = NULL;
    setenv("NS_CPU_CONV", conv, 1);
    if (ns_backend_cpu_new(threads, &be) != NS_STATUS_OK) be = NULL;
    unsetenv("NS_CPU_CONV");
    return be;
}

/* ||a - b|| / ||a|| */
static inline double rel_err_fd(const double *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        num += d * d;
        den += a[i] * a[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static inline bool all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

/* Random VGG weights (He initialisation, so activations stay O(1)) and a
 * Caffe-like input convention. */
static inline void random_weights(struct ns_weights *w, int arch, int n_layers) {
    memset(w, 0, sizeof *w);
    w->arch = arch;
    for (int l = 0; l < n_layers && ns_vgg_conv_layout(arch, l, &w->layer[l]); l++) {
        struct ns_conv_weights *L = &w->layer[l];
        size_t n = (size_t) L->cout * L->cin * 9;
        L->weight = falloc(n);
        L->bias = falloc((size_t) L->cout);
        fill_normal(L->weight, n, sqrt(2.0 / (9.0 * L->cin)));
        fill_normal(L->bias, (size_t) L->cout, 0.05);
        w->n_layers = l + 1;
    }
    w->perm[0] = 2, w->perm[1] = 1, w->perm[2] = 0;
    const float mean[3] = {0.40f, 0.46f, 0.48f};
    for (int c = 0; c < 3; c++)
        w->a[c] = 2.0f, w->b[c] = -2.0f * mean[c];
}

/* Writes w as safetensors (ns_weights_save); meta gives the members of
 * __metadata__, NULL for VGG-<arch> in the Caffe convention. */
static inline bool write_safetensors(const char *path, const struct ns_weights *w, const char *meta) {
    char err[600];
    enum ns_status st = ns_weights_save(path, w, meta, err, sizeof err);
    if (st) fprintf(stderr, "%s\n", err);
    return st == NS_STATUS_OK;
}

#endif /* NS_TESTLIB_H */
