/* backend_cpu.c - the CPU backend: OpenBLAS sgemm for the heavy math, OpenMP
 * for the rest.
 *
 * Work is split into tiles whose boundaries depend only on the problem size,
 * each tile computed whole by one thread with a single-threaded sgemm, and
 * partial sums are added in tile order: the result is the same bytes for
 * any thread count.  Convolution builds an im2col matrix one tile of pixels
 * at a time, so its memory stays bounded at any image size.
 */
#include "backend_cpu.h"
#include "winograd.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/resource.h>
#include <omp.h>

/* im2col bytes per thread: large enough for efficient sgemm panels, small
 * enough to stay near the cache. */
#define CPU_COL_BYTES (4u << 20)
/* elements per reduction chunk and the most chunks a reduction uses */
#define CPU_CHUNK      16384
#define CPU_MAX_CHUNKS 256

/* 3 x 3 convolutions: Winograd where it measured faster, or always, or never */
enum cpu_conv { CPU_CONV_AUTO, CPU_CONV_WINOGRAD, CPU_CONV_DIRECT };

struct cpu_backend {
    struct ns_backend base;
    int threads;
    float *col; /* threads * col_floats */
    size_t col_floats;
    double slots[NS_MAX_SLOTS];
    double *partials; /* CPU_MAX_CHUNKS * NS_MAX_SLOTS */
    enum cpu_conv conv; /* NS_CPU_CONV, read once */
    float *wino;        /* the Winograd weights and scratch of the convolution in flight */
    size_t wino_floats;
    char error[160];  /* the first error: sync() returns it */
};

static struct cpu_backend *cpu(struct ns_backend *be) {
    return (struct cpu_backend *) be;
}

/* Chunking of n elements for reductions, independent of thread count. */
static size_t chunk_size(size_t n) {
    size_t cs = CPU_CHUNK;
    while ((n + cs - 1) / cs > CPU_MAX_CHUNKS)
        cs *= 2;
    return cs;
}

/* ---- memory ---- */

/* CPU buffers are float32 only: the struct and its floats in one block. */
static inline float *F(struct ns_buf *b) {
    return b ? (float *) b->data : NULL;
}

static inline const float *CF(const struct ns_buf *b) {
    return b ? (const float *) b->data : NULL;
}

static float *floats_new(size_t n) {
    void *p = NULL;
    return posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) == 0 ? p : NULL;
}

static struct ns_buf *cpu_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    (void) be;
    /* 64 bytes ahead keep the floats aligned for sgemm */
    size_t head = 64;
    if (dtype != NS_DTYPE_F32 || n > (SIZE_MAX - head) / sizeof(float)) return NULL;
    char *block = NULL;
    if (posix_memalign((void **) &block, 64, head + (n ? n : 1) * sizeof(float)) != 0) return NULL;
    struct ns_buf *b = (struct ns_buf *) block;
    *b = (struct ns_buf){block + head, n, NS_DTYPE_F32};
    return b;
}

static void cpu_release(struct ns_backend *be, struct ns_buf *b) {
    (void) be;
    free(b);
}

static void cpu_upload(struct ns_backend *be, struct ns_buf *dst, const float *src, size_t n) {
    (void) be;
    memcpy(dst->data, src, n * sizeof(float));
}

static void cpu_download(struct ns_backend *be, float *dst, const struct ns_buf *src, size_t n) {
    (void) be;
    memcpy(dst, src->data, n * sizeof(float));
}

/* A line of /proc/self/status ("VmSize", "VmData") in bytes, 0 if unknown. */
static size_t status_bytes(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long kb = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%lu", &kb) == 1) break;
    if (f) fclose(f);
    return (size_t) kb * 1024;
}

size_t ns_address_room(void) {
    size_t room = SIZE_MAX;
    struct rlimit r;
    static const struct {
        int resource;
        const char *used;
    } limits[] = {{RLIMIT_AS, "VmSize"}, {RLIMIT_DATA, "VmData"}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (getrlimit(limits[i].resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
            size_t used = status_bytes(limits[i].used);
            size_t left = r.rlim_cur > used ? (size_t) r.rlim_cur - used : 0;
            if (left < room) room = left;
        }
    return room;
}

/* The threads whose sgemm buffers and stacks fit the address room, at most
 * `want`; 0 when not one does. */
static int threads_that_fit(int want, size_t col_bytes) {
    size_t room = ns_address_room();
    if (room == SIZE_MAX) return want;
    size_t each = NS_CPU_THREAD_BYTES + col_bytes, reserve = NS_CPU_RESERVE_BYTES;
    size_t fit = room > reserve ? (room - reserve) / each : 0;
    return fit < (size_t) want ? (int) fit : want;
}

static size_t cpu_mem_free(struct ns_backend *be) {
    long pages = sysconf(_SC_AVPHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/meminfo", "r");
    size_t avail = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            unsigned long kb;
            if (sscanf(line, "MemAvailable: %lu kB", &kb) == 1) {
                avail = (size_t) kb * 1024;
                break;
            }
        }
        fclose(f);
    }
    if (avail == 0 && pages > 0 && page > 0) avail = (size_t) pages * (size_t) page;
    /* under `ulimit -v`: what is left once OpenBLAS has its buffers */
    size_t room = ns_address_room(), threads_need = (size_t) be->threads * NS_CPU_THREAD_BYTES;
    if (room != SIZE_MAX) room = room > threads_need ? room - threads_need : 0;
    return room < avail ? room : avail;
}

static enum ns_status cpu_set_precision(struct ns_backend *be, enum ns_precision precision) {
    (void) be;
    (void) precision;
    return NS_STATUS_OK; /* float32 is all the CPU does */
}

static enum ns_status cpu_set_threads(struct ns_backend *be, int threads) {
    struct cpu_backend *cb = cpu(be);
    if (threads <= 0) threads = ns_cpu_cores();
    threads = threads_that_fit(threads, cb->col_floats * sizeof(float));
    if (threads < 1) return NS_STATUS_OUT_OF_MEMORY;
    if (threads == cb->threads) return NS_STATUS_OK;
    float *col = floats_new(cb->col_floats * (size_t) threads);
    if (!col) return NS_STATUS_OUT_OF_MEMORY;
    free(cb->col);
    cb->col = col;
    cb->threads = threads;
    cb->base.threads = threads;
    cb->base.workspace = cb->col_floats * sizeof(float) * (size_t) threads;
    snprintf(cb->base.description, sizeof cb->base.description, "CPU (OpenBLAS %s%s, %d thread%s)",
             openblas_get_corename(), ns_blas_core_set() ? " by the CPU's features" : "", threads,
             threads == 1 ? "" : "s");
    return NS_STATUS_OK;
}

/* ---- network ---- */

static void cpu_input_fwd(struct ns_backend *be, const struct ns_buf *u_b, struct ns_buf *x_b, size_t hw,
                          const float a[3], const float b[3], const int perm[3]) {
    const float *u = CF(u_b);
    float *x = F(x_b);
    int nt = cpu(be)->threads;
    for (int c = 0; c < 3; c++) {
        const float *src = u + (size_t) perm[c] * hw;
        float *dst = x + (size_t) c * hw;
        float ac = a[c], bc = b[c];
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < hw; i++)
            dst[i] = ac * src[i] + bc;
    }
}

static void cpu_input_bwd(struct ns_backend *be, const struct ns_buf *gx_b, struct ns_buf *gu_b, size_t hw,
                          const float a[3], const int perm[3]) {
    const float *gx = CF(gx_b);
    float *gu = F(gu_b);
    int nt = cpu(be)->threads;
    for (int c = 0; c < 3; c++) {
        const float *src = gx + (size_t) c * hw;
        float *dst = gu + (size_t) perm[c] * hw;
        float ac = a[c];
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < hw; i++)
            dst[i] = ac * src[i];
    }
}

/* Output pixels per im2col tile for k rows of columns, out of hw: as many
 * as a thread's column buffer holds, a multiple of 16 when there are many. */
static size_t col_tile(const struct cpu_backend *cb, size_t k, size_t hw) {
    size_t tile = cb->col_floats / k;
    if (tile >= 64) tile &= ~(size_t) 15;
    if (tile < 1) tile = 1;
    return tile > hw ? hw : tile;
}

/* Fills col(cin*9 rows of n = p1 - p0 floats) with the 3x3 neighbourhoods
 * of pixels p0..p1-1 of the flattened h x w image; zeros outside it. */
static void im2col_range(const float *in, int cin, int h, int w, size_t p0, size_t p1, float *col) {
    size_t n = p1 - p0, hw = (size_t) h * w;
    for (int ci = 0; ci < cin; ci++) {
        const float *plane = in + (size_t) ci * hw;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                float *dst = col + ((size_t) ci * 9 + ky * 3 + kx) * n;
                size_t p = p0;
                while (p < p1) {
                    int y = (int) (p / w), x0 = (int) (p % w);
                    int x1 = w;
                    if ((size_t) y * w + x1 > p1) x1 = (int) (p1 - (size_t) y * w);
                    int sy = y + ky - 1, len = x1 - x0;
                    if (sy < 0 || sy >= h)
                        memset(dst, 0, len * sizeof(float));
                    else {
                        const float *row = plane + (size_t) sy * w;
                        int dx = kx - 1;
                        /* x + dx must stay in 0..w-1 */
                        int a = x0, b = x1;
                        float *d = dst;
                        if (a + dx < 0) {
                            *d++ = 0.0f;
                            a++;
                        }
                        if (b + dx > w) b--;
                        if (b > a) {
                            memcpy(d, row + a + dx, (size_t) (b - a) * sizeof(float));
                            d += b - a;
                        }
                        if (b < x1) *d = 0.0f;
                    }
                    dst += len;
                    p += len;
                }
            }
    }
}

static void cpu_conv3x3(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                        const struct ns_buf *wt_b, const struct ns_buf *bias_b, int cout,
                        struct ns_buf *out_b, bool relu) {
    const float *in = CF(in_b);
    const float *wt = CF(wt_b);
    const float *bias = CF(bias_b);
    float *out = F(out_b);
    struct cpu_backend *cb = cpu(be);
    struct ns_wino_conv wc = {in, cin, h, w, 1, NULL, bias, cout, relu, out};
    if (ns_cpu_wino(be, &wc, wt, cin, cout, false)) return;
    size_t hw = (size_t) h * w, k = (size_t) cin * 9, tile = col_tile(cb, k, hw);
    long ntiles = (long) ((hw + tile - 1) / tile);

#pragma omp parallel for num_threads(cb->threads) schedule(dynamic, 1)
    for (long t = 0; t < ntiles; t++) {
        float *col = cb->col + (size_t) omp_get_thread_num() * cb->col_floats;
        size_t p0 = (size_t) t * tile, p1 = p0 + tile < hw ? p0 + tile : hw, n = p1 - p0;
        im2col_range(in, cin, h, w, p0, p1, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, (int) n, (int) k, 1.0f, wt, (int) k, col,
                    (int) n, 0.0f, out + p0, (int) hw);
        if (bias || relu)
            for (int co = 0; co < cout; co++) {
                float *o = out + (size_t) co * hw + p0;
                float bb = bias ? bias[co] : 0.0f;
                if (relu)
                    for (size_t i = 0; i < n; i++) {
                        float v = o[i] + bb;
                        o[i] = v > 0.0f ? v : 0.0f;
                    }
                else
                    for (size_t i = 0; i < n; i++)
                        o[i] += bb;
            }
    }
}

static void cpu_relu_bwd(struct ns_backend *be, struct ns_buf *g_b, const struct ns_buf *y_b, size_t n) {
    float *g = F(g_b);
    const float *y = CF(y_b);
#pragma omp parallel for simd num_threads(cpu(be)->threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        g[i] = y[i] > 0.0f ? g[i] : 0.0f; /* a blend, not a branch: vectorised */
}

static void cpu_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b, int c,
                         int h, int w, struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
    int oh = h / 2, ow = w / 2;
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t) ch * h + 2 * y) * w;
            const float *r1 = r0 + w;
            float *o = out + ((size_t) ch * oh + y) * ow;
            for (int x = 0; x < ow; x++) {
                float a = r0[2 * x], b = r0[2 * x + 1], d = r1[2 * x], e = r1[2 * x + 1];
                if (mode == NS_POOL_MAX) {
                    float m = a;
                    if (b > m) m = b;
                    if (d > m) m = d;
                    if (e > m) m = e;
                    o[x] = m;
                } else
                    o[x] = 0.25f * (a + b + d + e);
            }
        }
}

static void cpu_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in_b,
                         const struct ns_buf *gout_b, int c, int h, int w, struct ns_buf *gin_b) {
    const float *in = CF(in_b);
    const float *gout = CF(gout_b);
    float *gin = F(gin_b);
    int oh = h / 2, ow = w / 2;
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *gp = gin + (size_t) ch * h * w;
        memset(gp, 0, (size_t) h * w * sizeof(float));
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t) ch * h + 2 * y) * w;
            const float *r1 = r0 + w;
            const float *go = gout + ((size_t) ch * oh + y) * ow;
            float *g0 = gp + (size_t) 2 * y * w, *g1 = g0 + w;
            for (int x = 0; x < ow; x++) {
                float g = go[x];
                if (mode == NS_POOL_MAX) {
                    /* the first maximum in reading order takes the gradient */
                    float a = r0[2 * x], b = r0[2 * x + 1], d = r1[2 * x], e = r1[2 * x + 1];
                    float *dst = &g0[2 * x];
                    float m = a;
                    if (b > m) {
                        m = b;
                        dst = &g0[2 * x + 1];
                    }
                    if (d > m) {
                        m = d;
                        dst = &g1[2 * x];
                    }
                    if (e > m) {
                        dst = &g1[2 * x + 1];
                    }
                    *dst = g;
                } else {
                    float q = 0.25f * g;
                    g0[2 * x] = q;
                    g0[2 * x + 1] = q;
                    g1[2 * x] = q;
                    g1[2 * x + 1] = q;
                }
            }
        }
    }
}

/* g = alpha a b^T (ca x cb), rows of g split among threads (each a plain sgemm). */
static void cross_gram_f32(struct ns_backend *be, const float *a, int ca, const float *b, int cb, size_t m,
                           float alpha, float *g) {
    int nb = ca >= 64 ? 8 : 1;
    int rows = (ca + nb - 1) / nb;
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(dynamic, 1)
    for (int k = 0; k < nb; k++) {
        int i0 = k * rows, i1 = i0 + rows < ca ? i0 + rows : ca;
        if (i1 > i0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i1 - i0, cb, (int) m, alpha,
                        a + (size_t) i0 * m, (int) m, b, (int) m, 0.0f, g + (size_t) i0 * cb, cb);
    }
}

/* g = f f^T / m */
static void gram_f32(struct ns_backend *be, const float *f, int c, size_t m, float *g) {
    cross_gram_f32(be, f, c, f, c, m, 1.0f / (float) m, g);
}

static void cpu_gram(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, struct ns_buf *g) {
    gram_f32(be, CF(f), c, m, F(g));
}

/* ---- windows ---- */

static void cpu_crop(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, int y0, int x0,
                     int oh, int ow, struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (long r = 0; r < (long) c * oh; r++) {
        long ch = r / oh, y = r % oh;
        memcpy(out + (size_t) r * ow, in + ((size_t) ch * h + y0 + y) * w + x0, (size_t) ow * sizeof(float));
    }
}

static void cpu_add_window(struct ns_backend *be, const struct ns_buf *in_b, int c, int ih, int iw, int y0,
                           int x0, int h, int w, struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (long r = 0; r < (long) c * ih; r++) {
        long ch = r / ih, y = r % ih;
        float *o = out + ((size_t) ch * h + y0 + y) * w + x0;
        const float *s = in + (size_t) r * iw;
        for (int x = 0; x < iw; x++)
            o[x] += s[x];
    }
}

/* grad += alpha d f, columns of f split among threads (as style_loss does) */
static void gram_grad_f32(struct ns_backend *be, const float *d, const float *f, int c, size_t m, float alpha,
                          float *grad) {
    size_t cols = 4096;
    long nb = (long) ((m + cols - 1) / cols);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(dynamic, 1)
    for (long b = 0; b < nb; b++) {
        size_t j0 = (size_t) b * cols, n = j0 + cols < m ? cols : m - j0;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c, (int) n, c, alpha, d, c, f + j0, (int) m,
                    1.0f, grad + j0, (int) m);
    }
}

static void cpu_gram_grad(struct ns_backend *be, const struct ns_buf *d, const struct ns_buf *f, int c,
                          size_t m, float alpha, struct ns_buf *grad) {
    gram_grad_f32(be, CF(d), CF(f), c, m, alpha, F(grad));
}

/* ---- Gram variants ---- */

static void cpu_shift_scale(struct ns_backend *be, const struct ns_buf *in_b, int c, size_t m, float shift,
                            const struct ns_buf *w_b, struct ns_buf *out_b) {
    const float *in = CF(in_b), *w = CF(w_b);
    float *out = F(out_b);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *s = in + (size_t) ch * m;
        float *o = out + (size_t) ch * m;
        for (size_t j = 0; j < m; j++)
            o[j] = w ? (s[j] + shift) * w[j] : s[j] + shift;
    }
}

static void cpu_cross_gram(struct ns_backend *be, const struct ns_buf *a_b, int ca, const struct ns_buf *b_b,
                           int cb, size_t m, float alpha, struct ns_buf *g_b) {
    cross_gram_f32(be, CF(a_b), ca, CF(b_b), cb, m, alpha, F(g_b));
}

static void cpu_gram_diff(struct ns_backend *be, struct ns_buf *d_b, const struct ns_buf *t_b, size_t n,
                          int slot) {
    float *d = F(d_b);
    const float *t = CF(t_b);
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        d[i] -= t[i];
        s += (double) d[i] * d[i];
    }
    cpu(be)->slots[slot] = s;
}

/* grad += alpha D f, columns of f split among threads (as gram_grad_f32) */
static void cpu_cross_grad(struct ns_backend *be, const struct ns_buf *d_b, int ca, int cb, bool trans,
                           const struct ns_buf *f_b, size_t m, float alpha, struct ns_buf *grad_b) {
    const float *d = CF(d_b), *f = CF(f_b);
    float *grad = F(grad_b);
    size_t cols = 4096;
    long nb = (long) ((m + cols - 1) / cols);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(dynamic, 1)
    for (long b = 0; b < nb; b++) {
        size_t j0 = (size_t) b * cols, n = j0 + cols < m ? cols : m - j0;
        cblas_sgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, ca, (int) n, cb, alpha, d,
                    trans ? ca : cb, f + j0, (int) m, 1.0f, grad + j0, (int) m);
    }
}

/* ---- losses ---- */

static void cpu_content_loss(struct ns_backend *be, const struct ns_buf *f_b, const struct ns_buf *p_b,
                             size_t n, float coef, struct ns_buf *grad_b, int slot) {
    const float *f = CF(f_b);
    const float *p = CF(p_b);
    float *grad = F(grad_b);
    struct cpu_backend *cb = cpu(be);
    size_t cs = chunk_size(n);
    long nc = (long) ((n + cs - 1) / cs);
    double part[CPU_MAX_CHUNKS];
    float g2 = 2.0f * coef;
#pragma omp parallel for num_threads(cb->threads) schedule(static)
    for (long k = 0; k < nc; k++) {
        size_t i0 = (size_t) k * cs, i1 = i0 + cs < n ? i0 + cs : n;
        double s = 0.0;
        for (size_t i = i0; i < i1; i++) {
            float d = f[i] - p[i];
            s += (double) d * d;
            if (grad) grad[i] += g2 * d;
        }
        part[k] = s;
    }
    double s = 0.0;
    for (long k = 0; k < nc; k++)
        s += part[k];
    cb->slots[slot] = s;
}

static void cpu_style_loss(struct ns_backend *be, const struct ns_buf *f_b, int c, size_t m,
                           const struct ns_buf *t_b, float coef, struct ns_buf *scratch_b,
                           struct ns_buf *grad_b, int slot) {
    const float *f = CF(f_b);
    const float *t = CF(t_b);
    float *scratch = F(scratch_b);
    float *grad = F(grad_b);
    struct cpu_backend *cb = cpu(be);
    size_t cc = (size_t) c * c;
    gram_f32(be, f, c, m, scratch);
    double s = 0.0;
    for (size_t i = 0; i < cc; i++) {
        float d = scratch[i] - t[i];
        s += (double) d * d;
        scratch[i] = d;
    }
    cb->slots[slot] = s;
    if (!grad) return;
    /* d/df sum(G - t)^2 = 4 (G - t) f / m, G symmetric */
    gram_grad_f32(be, scratch, f, c, m, 4.0f * coef / (float) m, grad);
}

static void cpu_tv_loss(struct ns_backend *be, const struct ns_buf *u_b, int c, int h, int w, float coef,
                        struct ns_buf *grad_b, int slot) {
    const float *u = CF(u_b);
    float *grad = F(grad_b);
    struct cpu_backend *cb = cpu(be);
    long rows = (long) c * h;
    double *part = cb->partials;
    long nc = rows < CPU_MAX_CHUNKS ? rows : CPU_MAX_CHUNKS;
    long per = (rows + nc - 1) / nc;
    float g2 = 2.0f * coef;
#pragma omp parallel for num_threads(cb->threads) schedule(static)
    for (long k = 0; k < nc; k++) {
        double s = 0.0;
        for (long r = k * per; r < (k + 1) * per && r < rows; r++) {
            int y = (int) (r % h);
            const float *row = u + (size_t) r * w;
            const float *up = y > 0 ? row - w : NULL;
            const float *down = y + 1 < h ? row + w : NULL;
            float *gr = grad ? grad + (size_t) r * w : NULL;
            for (int x = 0; x < w; x++) {
                float v = row[x], gsum = 0.0f;
                if (x + 1 < w) {
                    float d = row[x + 1] - v;
                    s += (double) d * d;
                    gsum -= d;
                }
                if (down) {
                    float d = down[x] - v;
                    s += (double) d * d;
                    gsum -= d;
                }
                if (x > 0) gsum += v - row[x - 1];
                if (up) gsum += v - up[x];
                if (gr) gr[x] += g2 * gsum;
            }
        }
        part[k] = s;
    }
    double s = 0.0;
    for (long k = 0; k < nc; k++)
        s += part[k];
    cb->slots[slot] = s;
}

/* ---- vector operations ---- */

static void cpu_fill(struct ns_backend *be, struct ns_buf *x_b, float v, size_t n) {
    float *x = F(x_b);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        x[i] = v;
}

static void cpu_copy(struct ns_backend *be, struct ns_buf *dst, const struct ns_buf *src, size_t n) {
    (void) be;
    memmove(dst->data, src->data, n * sizeof(float));
}

static void cpu_axpby(struct ns_backend *be, float alpha, const struct ns_buf *x_b, float beta,
                      struct ns_buf *y_b, size_t n) {
    const float *x = CF(x_b);
    float *y = F(y_b);
    /* beta 0: y is written, never read (it may hold anything, NaN included) */
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        y[i] = beta != 0.0f ? alpha * x[i] + beta * y[i] : alpha * x[i];
}

static void cpu_dots(struct ns_backend *be, const struct ns_buf *const *vs, int k, const struct ns_buf *x_b,
                     size_t n, int slot0) {
    const float *x = CF(x_b);
    struct cpu_backend *cb = cpu(be);
    size_t cs = chunk_size(n);
    long nc = (long) ((n + cs - 1) / cs);
    double *part = cb->partials;
#pragma omp parallel for num_threads(cb->threads) schedule(static)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t) c * cs, i1 = i0 + cs < n ? i0 + cs : n;
        for (int j = 0; j < k; j++) {
            const float *v = CF(vs[j]);
            double s = 0.0;
            for (size_t i = i0; i < i1; i++)
                s += (double) v[i] * x[i];
            part[(size_t) c * NS_MAX_SLOTS + j] = s;
        }
    }
    for (int j = 0; j < k; j++) {
        double s = 0.0;
        for (long c = 0; c < nc; c++)
            s += part[(size_t) c * NS_MAX_SLOTS + j];
        cb->slots[slot0 + j] = s;
    }
}

static void cpu_lincomb(struct ns_backend *be, struct ns_buf *y_b, float alpha, const struct ns_buf *x_b,
                        const struct ns_buf *const *vs, int k, const double *coef, size_t n) {
    float *y = F(y_b);
    const float *x = CF(x_b);
    size_t cs = 4096;
    long nc = (long) ((n + cs - 1) / cs);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t) c * cs, i1 = i0 + cs < n ? i0 + cs : n;
        for (size_t i = i0; i < i1; i++)
            y[i] = alpha * x[i];
        for (int j = 0; j < k; j++) {
            const float *v = CF(vs[j]);
            float a = (float) coef[j];
            for (size_t i = i0; i < i1; i++)
                y[i] += a * v[i];
        }
    }
}

static void cpu_adam(struct ns_backend *be, struct ns_buf *x_b, const struct ns_buf *g_b, struct ns_buf *m_b,
                     struct ns_buf *v_b, size_t n, float lr, float beta1, float beta2, float eps, int t) {
    float *x = F(x_b);
    const float *g = CF(g_b);
    float *m = F(m_b);
    float *v = F(v_b);
    float c1 = 1.0f - powf(beta1, (float) t), c2 = 1.0f - powf(beta2, (float) t);
    float step = lr / c1, rc2 = 1.0f / sqrtf(c2);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        x[i] -= step * mi / (sqrtf(vi) * rc2 + eps);
    }
}

/* ---- feed-forward style networks ---- */

static void cpu_reflect_pad(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, int p,
                            struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
    int oh = h + 2 * p, ow = w + 2 * p;
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static) collapse(2)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++) {
            const float *src = in + ((size_t) ch * h + ns_reflect_index(y - p, h)) * w;
            float *dst = out + ((size_t) ch * oh + y) * ow;
            for (int x = 0; x < p; x++)
                dst[x] = src[p - x], dst[p + w + x] = src[w - 2 - x];
            memcpy(dst + p, src, (size_t) w * sizeof(float));
        }
}

void ns_cpu_im2col(const float *in, int cin, int h, int w, int k, int stride, int ow, size_t p0, size_t p1,
                   float *col) {
    size_t n = p1 - p0;
    for (int ci = 0; ci < cin; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *dst = col + (((size_t) ci * k + ky) * k + kx) * n;
                for (size_t p = p0; p < p1;) {
                    int oy = (int) (p / ow), ox = (int) (p % ow);
                    size_t run = (size_t) (ow - ox) < p1 - p ? (size_t) (ow - ox) : p1 - p;
                    const float *src = in + ((size_t) ci * h + (size_t) oy * stride + ky) * w + kx;
                    if (stride == 1)
                        memcpy(dst, src + ox, run * sizeof(float));
                    else
                        for (size_t i = 0; i < run; i++)
                            dst[i] = src[(ox + i) * stride];
                    dst += run, p += run;
                }
            }
}

/* A wide kernel into few output channels (the fast network's last 9 x 9,
 * 32 to 3), stride 1: im2col would write cin*k*k floats a pixel for cout
 * outputs.  Instead each input row r goes through one GEMM,
 * z [cout*k*k][w] = W' in[:, r, :], and output row r - a gathers
 * z[(co, a, b)][x + b] over b.  A thread owns a band of output rows and
 * computes the k - 1 input rows it shares with the next band again, so
 * every pixel adds the same terms in the same order for any thread count.
 * false = not this shape, or z does not fit a thread's buffer. */
static bool conv_few_outputs(struct cpu_backend *cb, const float *in, int cin, int h, int w, const float *wt,
                             const float *bias, int cout, int k, float *out) {
    size_t rows_z = (size_t) cout * k * k;
    if (cb->conv == CPU_CONV_DIRECT || k < 5 || cout * 4 > cin || rows_z * w > cb->col_floats) return false;
    int oh = h - k + 1, ow = w - k + 1;
    float *wz = malloc(sizeof(float) * rows_z * cin); /* W' [(co, a, b)][ci] */
    if (!wz) return false;
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int ab = 0; ab < k * k; ab++)
                wz[((size_t) co * k * k + ab) * cin + ci] = wt[((size_t) co * cin + ci) * k * k + ab];
    int band = 32, nb = (oh + band - 1) / band;
#pragma omp parallel for num_threads(cb->threads) schedule(dynamic, 1)
    for (int b = 0; b < nb; b++) {
        float *z = cb->col + (size_t) omp_get_thread_num() * cb->col_floats;
        int y0 = b * band, y1 = y0 + band < oh ? y0 + band : oh;
        for (int co = 0; co < cout; co++)
            for (int y = y0; y < y1; y++) {
                float *o = out + ((size_t) co * oh + y) * ow;
                for (int x = 0; x < ow; x++)
                    o[x] = bias ? bias[co] : 0.0f;
            }
        for (int r = y0; r < y1 + k - 1; r++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows_z, w, cin, 1.0f, wz, cin,
                        in + (size_t) r * w, h * w, 0.0f, z, w);
            for (int a = 0; a < k; a++) {
                int y = r - a;
                if (y < y0 || y >= y1) continue;
                for (int co = 0; co < cout; co++) {
                    float *o = out + ((size_t) co * oh + y) * ow;
                    for (int bb = 0; bb < k; bb++) {
                        const float *zr = z + ((size_t) (co * k + a) * k + bb) * w + bb;
                        for (int x = 0; x < ow; x++)
                            o[x] += zr[x];
                    }
                }
            }
        }
    }
    free(wz);
    return true;
}

static void cpu_conv2d(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                       const struct ns_buf *wt_b, const struct ns_buf *bias_b, int cout, int k, int stride,
                       struct ns_buf *out_b) {
    const float *in = CF(in_b), *wt = CF(wt_b), *bias = CF(bias_b);
    float *out = F(out_b);
    struct cpu_backend *cb = cpu(be);
    struct ns_wino_conv wc = {in, cin, h, w, 0, NULL, bias, cout, false, out};
    if (k == 3 && stride == 1 && ns_cpu_wino(be, &wc, wt, cin, cout, false)) return;
    if (stride == 1 && conv_few_outputs(cb, in, cin, h, w, wt, bias, cout, k, out)) return;
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    size_t hw = (size_t) oh * ow, kk = (size_t) cin * k * k, tile = col_tile(cb, kk, hw);
    long ntiles = (long) ((hw + tile - 1) / tile);
#pragma omp parallel for num_threads(cb->threads) schedule(dynamic, 1)
    for (long t = 0; t < ntiles; t++) {
        float *col = cb->col + (size_t) omp_get_thread_num() * cb->col_floats;
        size_t p0 = (size_t) t * tile, p1 = p0 + tile < hw ? p0 + tile : hw, n = p1 - p0;
        ns_cpu_im2col(in, cin, h, w, k, stride, ow, p0, p1, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, (int) n, (int) kk, 1.0f, wt, (int) kk, col,
                    (int) n, 0.0f, out + p0, (int) hw);
        for (int co = 0; co < cout && bias; co++) {
            float *o = out + (size_t) co * hw + p0;
            for (size_t i = 0; i < n; i++)
                o[i] += bias[co];
        }
    }
}

static void cpu_moments(struct ns_backend *be, const struct ns_buf *x_b, int c, size_t m, int slot0) {
    const float *x = CF(x_b);
    struct cpu_backend *cb = cpu(be);
#pragma omp parallel for num_threads(cb->threads) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *v = x + (size_t) ch * m;
        double s = 0, s2 = 0;
        for (size_t i = 0; i < m; i++)
            s += v[i], s2 += (double) v[i] * v[i];
        cb->slots[slot0 + 2 * ch] = s;
        cb->slots[slot0 + 2 * ch + 1] = s2;
    }
}

static void cpu_affine(struct ns_backend *be, struct ns_buf *x_b, int c, size_t m, const struct ns_buf *a_b,
                       const struct ns_buf *b_b, bool relu) {
    float *x = F(x_b);
    const float *a = CF(a_b), *b = CF(b_b);
    size_t cs = 16384, per = (m + cs - 1) / cs;
    long n = (long) (c * per);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static)
    for (long t = 0; t < n; t++) {
        int ch = (int) (t / per);
        size_t i0 = (t % per) * cs, i1 = i0 + cs < m ? i0 + cs : m;
        float *v = x + (size_t) ch * m;
        const float s = a[ch], o = b[ch]; /* held, so that the loops vectorise (v may alias a and b) */
        if (relu) {
#pragma omp simd
            for (size_t i = i0; i < i1; i++) {
                float y = s * v[i] + o;
                v[i] = y < 0.0f ? 0.0f : y;
            }
        } else {
#pragma omp simd
            for (size_t i = i0; i < i1; i++)
                v[i] = s * v[i] + o;
        }
    }
}

static void cpu_upsample2(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w,
                          struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static) collapse(2)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < 2 * h; y++) {
            const float *src = in + ((size_t) ch * h + y / 2) * w;
            float *dst = out + ((size_t) ch * 2 * h + y) * 2 * w;
            for (int x = 0; x < w; x++)
                dst[2 * x] = dst[2 * x + 1] = src[x];
        }
}

static void cpu_upsample2_pad(struct ns_backend *be, const struct ns_buf *in_b, int c, int h, int w, int p,
                              struct ns_buf *out_b) {
    const float *in = CF(in_b);
    float *out = F(out_b);
    int oh = 2 * h + 2 * p, ow = 2 * w + 2 * p;
#pragma omp parallel for num_threads(cpu(be)->threads) schedule(static) collapse(2)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++) {
            const float *src = in + ((size_t) ch * h + ns_reflect_index(y - p, 2 * h) / 2) * w;
            float *dst = out + ((size_t) ch * oh + y) * ow;
            for (int x = 0; x < p; x++) {
                dst[x] = src[ns_reflect_index(x - p, 2 * w) / 2];
                dst[p + 2 * w + x] = src[ns_reflect_index(2 * w + x, 2 * w) / 2];
            }
            float *mid = dst + p;
            for (int x = 0; x < w; x++)
                mid[2 * x] = mid[2 * x + 1] = src[x];
        }
}

static enum ns_status cpu_read_scalars(struct ns_backend *be, int slot0, int n, double *out) {
    memcpy(out, cpu(be)->slots + slot0, (size_t) n * sizeof(double));
    return NS_STATUS_OK;
}

static enum ns_status cpu_sync(struct ns_backend *be) {
    return cpu(be)->error[0] ? NS_STATUS_OUT_OF_MEMORY : NS_STATUS_OK;
}

static const char *cpu_error(struct ns_backend *be) {
    return cpu(be)->error;
}

float *ns_cpu_col(struct ns_backend *be, int t, size_t *floats) {
    if (floats) *floats = cpu(be)->col_floats;
    return cpu(be)->col + (size_t) t * cpu(be)->col_floats;
}

/* The Winograd buffer, at least `floats`; NULL if that much is not to be had. */
static float *wino_room(struct cpu_backend *cb, size_t floats) {
    if (floats > cb->wino_floats) {
        free(cb->wino);
        cb->wino = malloc(sizeof(float) * floats);
        cb->wino_floats = cb->wino ? floats : 0;
    }
    return cb->wino;
}

/* Whether c goes through Winograd, and its output channels' group. */
static bool wino_plan(const struct cpu_backend *cb, const struct ns_wino_conv *c, int *group) {
    int oh = c->h + 2 * c->pad - 2, ow = c->w + 2 * c->pad - 2;
    if (cb->conv == CPU_CONV_DIRECT || (cb->conv == CPU_CONV_AUTO && !ns_wino_pays(c->cin, c->cout, oh, ow)))
        return false;
    *group = ns_wino_group(c->cin, c->cout, oh, ow);
    return true;
}

bool ns_cpu_wino(struct ns_backend *be, struct ns_wino_conv *c, const float *wt, int cin, int cout,
                 bool data_grad) {
    struct cpu_backend *cb = cpu(be);
    int no = c->cout, group;
    if (!wino_plan(cb, c, &group)) return false;
    size_t nu = ns_wino_weight_floats(c->cin, group), ns = ns_wino_scratch_floats(c->cin, group, c->h, c->w, c->pad);
    if (!wino_room(cb, nu + ns)) return false; /* the direct way needs no more memory */
    struct ns_wino_conv part = *c;
    part.u = cb->wino;
    for (int o0 = 0; o0 < no; o0 += group) {
        part.cout = no - o0 < group ? no - o0 : group;
        part.out = c->out + (size_t) o0 * (c->h + 2 * c->pad - 2) * (c->w + 2 * c->pad - 2);
        part.bias = c->bias ? c->bias + o0 : NULL;
        ns_wino_weights(wt, cin, cout, data_grad, o0, part.cout, cb->wino, cb->threads);
        if (!ns_wino_run(&part, cb->wino + nu, ns, cb->threads)) return false;
    }
    return true;
}

bool ns_cpu_wino_filter(struct ns_backend *be, const float *in, int cin, int h, int w, const float *gout,
                        int cout, float *gwt) {
    struct cpu_backend *cb = cpu(be);
    struct ns_wino_conv c = {in, cin, h, w, 0, NULL, NULL, cout, false, NULL};
    int group;
    if (!wino_plan(cb, &c, &group)) return false;
    size_t np = ns_wino_weight_floats(cin, group), ns = ns_wino_scratch_floats(cin, group, h, w, 0);
    if (!wino_room(cb, np + ns)) return false;
    size_t plane = (size_t) (h - 2) * (w - 2);
    for (int o0 = 0; o0 < cout; o0 += group) {
        c.cout = cout - o0 < group ? cout - o0 : group;
        if (!ns_wino_filter_run(&c, gout + o0 * plane, gwt + (size_t) o0 * cin * 9, cb->wino, cb->wino + np, ns,
                                cb->threads))
            return false;
    }
    return true;
}

double *ns_cpu_slots(struct ns_backend *be) {
    return cpu(be)->slots;
}

void ns_cpu_fail(struct ns_backend *be, const char *what) {
    struct cpu_backend *cb = cpu(be);
    if (!cb->error[0]) snprintf(cb->error, sizeof cb->error, "%s", what);
}

static void cpu_free(struct ns_backend *be) {
    struct cpu_backend *cb = cpu(be);
    if (!cb) return;
    free(cb->col);
    free(cb->wino);
    free(cb->partials);
    free(cb);
}

static const struct ns_backend_ops cpu_ops = {
    .name = "cpu",
    .free = cpu_free,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_upload,
    .download = cpu_download,
    .mem_free = cpu_mem_free,
    .set_threads = cpu_set_threads,
    .set_precision = cpu_set_precision,
    .input_fwd = cpu_input_fwd,
    .input_bwd = cpu_input_bwd,
    .conv3x3 = cpu_conv3x3,
    .relu_bwd = cpu_relu_bwd,
    .pool_fwd = cpu_pool_fwd,
    .pool_bwd = cpu_pool_bwd,
    .gram = cpu_gram,
    .crop = cpu_crop,
    .add_window = cpu_add_window,
    .gram_grad = cpu_gram_grad,
    .shift_scale = cpu_shift_scale,
    .cross_gram = cpu_cross_gram,
    .gram_diff = cpu_gram_diff,
    .cross_grad = cpu_cross_grad,
    .content_loss = cpu_content_loss,
    .style_loss = cpu_style_loss,
    .tv_loss = cpu_tv_loss,
    .fill = cpu_fill,
    .copy = cpu_copy,
    .axpby = cpu_axpby,
    .dots = cpu_dots,
    .lincomb = cpu_lincomb,
    .adam = cpu_adam,
    .reflect_pad = cpu_reflect_pad,
    .conv2d = cpu_conv2d,
    .moments = cpu_moments,
    .affine = cpu_affine,
    .upsample2 = cpu_upsample2,
    .upsample2_pad = cpu_upsample2_pad,
    .read_scalars = cpu_read_scalars,
    .sync = cpu_sync,
    .error = cpu_error,
    .conv2d_bwd_data = ns_cpu_conv2d_bwd_data,
    .conv2d_bwd_filter = ns_cpu_conv2d_bwd_filter,
    .reflect_pad_bwd = ns_cpu_reflect_pad_bwd,
    .upsample2_bwd = ns_cpu_upsample2_bwd,
    .dot_moments = ns_cpu_dot_moments,
    .affine2 = ns_cpu_affine2,
};

int ns_cpu_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int) n : 1;
}

enum ns_status ns_backend_cpu_new(int threads, struct ns_backend **out) {
    *out = NULL;
    struct cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb) return NS_STATUS_OUT_OF_MEMORY;
    cb->base.ops = &cpu_ops;
    cb->col_floats = CPU_COL_BYTES / sizeof(float);
    const char *conv = getenv("NS_CPU_CONV"); /* for benchmarks and checks: winograd or direct */
    cb->conv = !conv ? CPU_CONV_AUTO : !strcmp(conv, "winograd") ? CPU_CONV_WINOGRAD
             : !strcmp(conv, "direct") ? CPU_CONV_DIRECT : CPU_CONV_AUTO;
    cb->partials = malloc(sizeof(double) * CPU_MAX_CHUNKS * NS_MAX_SLOTS);
    if (!cb->partials || cpu_set_threads(&cb->base, threads) != NS_STATUS_OK) {
        cpu_free(&cb->base);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    /* Each tile runs a single-threaded sgemm; the threads are ours.  This
     * is process-wide, and safe where the engine runs: the command line and
     * each GIMP plug-in are processes of their own (GIMP runs plug-ins
     * apart), and neither GEGL nor GIMP's libraries call OpenBLAS.  A host
     * program that does call OpenBLAS gets single-threaded calls after
     * ns_context_new; docs/engine.md says so. */
    openblas_set_num_threads(1);
    *out = &cb->base;
    return NS_STATUS_OK;
}
