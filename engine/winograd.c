/* winograd.c - Winograd F(4x4, 3x3) convolution for the CPU backend.
 *
 * Y = A^T [(G g G^T) .* (B^T d B)] A for each 6 x 6 input tile d and 3 x 3
 * kernel g (Lavin & Gray 2016, points 0, +-1, +-2, infinity).  The tiles
 * of a block are transformed into V [36][cin][n], 36 GEMMs give
 * M [36][cout][n] = U V, and the output transform turns M back into
 * 4 x 4 pixels.  The transforms run a tile row at a time, their inner
 * loops along the row (contiguous floats the compiler vectorises).
 */
#include "winograd.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

#define XI 36 /* 6 x 6 transformed values per tile */

/* The transforms are a fifth of a VGG iteration's time: built for the
 * widest vectors the CPU has, chosen when the program loads, and their
 * loops marked `omp simd` (even at -O3 GCC left them scalar: make bench-conv's
 * fast up layer 253 -> 158 ms). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDE
#endif

size_t ns_wino_weight_floats(int cin, int cout) {
    return (size_t) XI * cin * cout;
}

/* T = G (x) G: row r * 6 + c takes kernel value a * 3 + b to
 * G[r][a] G[c][b], so that u = T g for each kernel g */
static void kron_g(float t[XI][9], bool flip) {
    static const float g[6][3] = {{1.0f / 4, 0, 0},
                                  {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                  {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                  {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                  {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                  {0, 0, 1}};
    for (int r = 0; r < 6; r++)
        for (int c = 0; c < 6; c++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) /* the input gradient correlates with the flipped kernel */
                    t[r * 6 + c][flip ? 8 - (a * 3 + b) : a * 3 + b] = g[r][a] * g[c][b];
}

/* Kernels transformed per sgemm: a fixed share, not one per thread, so
 * that every kernel meets the same sgemm shape whatever the thread count
 * (OpenBLAS's edge kernels round differently: on Intel's AVX-512 cores a
 * split by threads changed the last bits, test_ops caught it). */
#define PAIR_CHUNK ((size_t) 2048)

void ns_wino_weights(const float *wt, int cin, int cout, bool data_grad, int o0, int no, float *u, int threads) {
    float t[XI][9];
    kron_g(t, data_grad);
    int ni = data_grad ? cout : cin; /* the convolution's input channels */
    size_t pairs = (size_t) no * ni;
    if (!data_grad) { /* u [36][no * cin] = T wt^T, wt [cout * cin][9] from row o0 */
        const float *g = wt + (size_t) o0 * cin * 9;
        long chunks = (long) ((pairs + PAIR_CHUNK - 1) / PAIR_CHUNK);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (long p = 0; p < chunks; p++) {
            size_t p0 = PAIR_CHUNK * (size_t) p, n = p0 + PAIR_CHUNK < pairs ? PAIR_CHUNK : pairs - p0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, XI, (int) n, 9, 1.0f, &t[0][0], 9,
                               g + p0 * 9, 9, 0.0f, u + p0, (int) pairs);
        }
        return;
    }
    /* u [36][no][cout]: input channel ci's kernels are every cin-th of wt */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int o = 0; o < no; o++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, XI, cout, 9, 1.0f, &t[0][0], 9,
                    wt + (size_t) (o0 + o) * 9, cin * 9, 0.0f, u + (size_t) o * cout, (int) pairs);
}

/* The tiles: th x tw of them, in blocks of rows x cols tiles. */
struct geo {
    int oh, ow, th, tw, rows, cols, nby, nbx;
    size_t n; /* the most tiles in a block */
};

/* a block's most columns of tiles: the transforms' rows stay on the stack */
#define MAX_COLS 256

static size_t tiles_of(int oh, int ow) {
    return (size_t) ((oh + 3) / 4) * ((ow + 3) / 4);
}

int ns_wino_group(int cin, int cout, int oh, int ow) {
    if (tiles_of(oh, ow) >= NS_WINO_BIG_TILES) return cout;
    int g = (int) (NS_WINO_U_FLOATS / ns_wino_weight_floats(cin, 1));
    return g < 16 ? 16 : g > cout ? cout : g;
}

size_t ns_wino_scratch_floats(int cin, int cout, int h, int w, int pad) {
    size_t tiles = tiles_of(h + 2 * pad - 2, w + 2 * pad - 2);
    size_t per = (size_t) XI * (cin + cout), n = NS_WINO_SCRATCH_FLOATS / per;
    /* narrower GEMMs lose more than the scratch saves; a big layer's u,
     * beyond the caches, is packed again for each block */
    bool big = ns_wino_weight_floats(cin, cout) > NS_WINO_U_FLOATS && tiles >= NS_WINO_BIG_TILES;
    size_t least = big ? NS_WINO_BIG_TILES : 64;
    if (n < least) n = least;
    return per * (n < tiles ? n : tiles);
}

static bool plan(const struct ns_wino_conv *c, size_t scratch, struct geo *g) {
    g->oh = c->h + 2 * c->pad - 2;
    g->ow = c->w + 2 * c->pad - 2;
    g->th = (g->oh + 3) / 4;
    g->tw = (g->ow + 3) / 4;
    size_t most = scratch / ((size_t) XI * (c->cin + c->cout));
    if (most < 1) return false;
    if ((size_t) g->tw <= most && g->tw <= MAX_COLS) {
        g->cols = g->tw;
        g->rows = (int) (most / (size_t) g->tw);
        if (g->rows > g->th) g->rows = g->th;
    } else {
        int widest = most < MAX_COLS ? (int) most : MAX_COLS, segs = (g->tw + widest - 1) / widest;
        g->rows = 1;
        g->cols = (g->tw + segs - 1) / segs;
    }
    g->nby = (g->th + g->rows - 1) / g->rows;
    g->nbx = (g->tw + g->cols - 1) / g->cols;
    g->n = (size_t) g->rows * g->cols;
    return true;
}

/* A block: tile rows ty0..ty1 - 1 and columns tx0..tx1 - 1, n tiles. */
struct block {
    int ty0, ty1, tx0, tx1, n;
};

static struct block block_of(const struct geo *g, long b) {
    struct block k;
    k.ty0 = (int) (b / g->nbx) * g->rows;
    k.tx0 = (int) (b % g->nbx) * g->cols;
    k.ty1 = k.ty0 + g->rows < g->th ? k.ty0 + g->rows : g->th;
    k.tx1 = k.tx0 + g->cols < g->tw ? k.tx0 + g->cols : g->tw;
    k.n = (k.ty1 - k.ty0) * (k.tx1 - k.tx0);
    return k;
}

/* rows (6 x len) = input rows y0 .. y0 + 5 from column x0 on, zeros
 * outside the image */
static void load_rows(const float *plane, int h, int w, int y0, int x0, int len, float *rows) {
    for (int k = 0; k < 6; k++) {
        float *r = rows + (size_t) k * len;
        int y = y0 + k, a = x0 < 0 ? -x0 : 0, b = w - x0 < len ? w - x0 : len;
        if (y < 0 || y >= h || b <= a) {
            memset(r, 0, sizeof(float) * len);
            continue;
        }
        memset(r, 0, sizeof(float) * a);
        memcpy(r + a, plane + (size_t) y * w + x0 + a, sizeof(float) * (b - a));
        memset(r + b, 0, sizeof(float) * (len - b));
    }
}

/* B^T's rows applied to d0..d5 (stride s) */
#define BT_ROWS(d, s, o0, o1, o2, o3, o4, o5)                                                                       \
    do {                                                                                                            \
        float d0 = (d)[0], d1 = (d)[s], d2 = (d)[2 * (s)], d3 = (d)[3 * (s)], d4 = (d)[4 * (s)],                    \
              d5 = (d)[5 * (s)];                                                                                    \
        o0 = 4 * d0 - 5 * d2 + d4;                                                                                  \
        o1 = -4 * (d1 + d2) + d3 + d4;                                                                              \
        o2 = 4 * (d1 - d2) - d3 + d4;                                                                               \
        o3 = 2 * (d3 - d1) - d2 + d4;                                                                               \
        o4 = 2 * (d1 - d3) - d2 + d4;                                                                               \
        o5 = 4 * d1 - 5 * d3 + d5;                                                                                  \
    } while (0)

/* v [36][cin][n] for input channel ci = its transformed tiles in block k */
WIDE static void input_channel(const struct ns_wino_conv *c, const struct geo *g, int ci, const struct block *k,
                               float *v) {
    int ncol = k->tx1 - k->tx0, len = 4 * ncol + 2;
    size_t n = g->n, xs = (size_t) c->cin * n;
    float rows[6 * len], tmp[6 * len];
    const float *plane = c->in + (size_t) ci * c->h * c->w;
    for (int ty = k->ty0; ty < k->ty1; ty++) {
        load_rows(plane, c->h, c->w, 4 * ty - c->pad, 4 * k->tx0 - c->pad, len, rows);
        float *t0 = tmp, *t1 = tmp + len, *t2 = tmp + 2 * len, *t3 = tmp + 3 * len, *t4 = tmp + 4 * len,
              *t5 = tmp + 5 * len;
#pragma omp simd
        for (int x = 0; x < len; x++) /* down the columns: B^T d */
            BT_ROWS(rows + x, len, t0[x], t1[x], t2[x], t3[x], t4[x], t5[x]);
        size_t j0 = (size_t) (ty - k->ty0) * ncol;
        for (int r = 0; r < 6; r++) { /* along the rows: (B^T d) B */
            const float *t = tmp + (size_t) r * len;
            /* tile tx's six values are q0..q3[tx], q0[tx + 1], q1[tx + 1]:
             * split four ways, every read below is contiguous */
            float q0[ncol + 1], q1[ncol + 1], q2[ncol], q3[ncol];
            for (int tx = 0; tx < ncol; tx++) {
                q0[tx] = t[4 * tx], q1[tx] = t[4 * tx + 1];
                q2[tx] = t[4 * tx + 2], q3[tx] = t[4 * tx + 3];
            }
            q0[ncol] = t[4 * ncol], q1[ncol] = t[4 * ncol + 1];
            float *d = v + ((size_t) r * 6 * c->cin + ci) * n + j0;
            /* six rows of v apart: restrict lets the loop be vectorised */
            float *restrict v0 = d, *restrict v1 = d + xs, *restrict v2 = d + 2 * xs, *restrict v3 = d + 3 * xs,
                            *restrict v4 = d + 4 * xs, *restrict v5 = d + 5 * xs;
#pragma omp simd
            for (int tx = 0; tx < ncol; tx++) {
                float d0 = q0[tx], d1 = q1[tx], d2 = q2[tx], d3 = q3[tx], d4 = q0[tx + 1], d5 = q1[tx + 1];
                v0[tx] = 4 * d0 - 5 * d2 + d4;
                v1[tx] = -4 * (d1 + d2) + d3 + d4;
                v2[tx] = 4 * (d1 - d2) - d3 + d4;
                v3[tx] = 2 * (d3 - d1) - d2 + d4;
                v4[tx] = 2 * (d1 - d3) - d2 + d4;
                v5[tx] = 4 * d1 - 5 * d3 + d5;
            }
        }
    }
}

/* A^T's rows applied to m0..m5 (stride s) */
#define AT_ROWS(m, s, o0, o1, o2, o3)                                                                               \
    do {                                                                                                            \
        float m0 = (m)[0], m1 = (m)[s], m2 = (m)[2 * (s)], m3 = (m)[3 * (s)], m4 = (m)[4 * (s)],                    \
              m5 = (m)[5 * (s)];                                                                                    \
        float p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;                                           \
        o0 = m0 + p12 + p34;                                                                                        \
        o1 = d12 + 2 * d34;                                                                                         \
        o2 = p12 + 4 * p34;                                                                                         \
        o3 = d12 + 8 * d34 + m5;                                                                                    \
    } while (0)

/* output channel co's pixels in block k from m [36][cout][n] */
WIDE static void output_channel(const struct ns_wino_conv *c, const struct geo *g, int co, const struct block *k,
                                const float *m) {
    int ncol = k->tx1 - k->tx0, len = 4 * ncol, nx = g->ow - 4 * k->tx0 < len ? g->ow - 4 * k->tx0 : len;
    size_t n = g->n, xs = (size_t) c->cout * n, plane = (size_t) g->oh * g->ow;
    float bias = c->bias ? c->bias[co] : 0.0f, tmp[6 * len], o[4][len];
    for (int ty = k->ty0; ty < k->ty1; ty++) {
        size_t j0 = (size_t) (ty - k->ty0) * ncol;
        for (int r = 0; r < 6; r++) { /* along the rows: M A */
            const float *s = m + ((size_t) r * 6 * c->cout + co) * n + j0;
            float *t = tmp + (size_t) r * len;
            for (int tx = 0; tx < ncol; tx++)
                AT_ROWS(s + tx, xs, t[4 * tx], t[4 * tx + 1], t[4 * tx + 2], t[4 * tx + 3]);
        }
#pragma omp simd
        for (int x = 0; x < len; x++) /* down the columns: A^T (M A) */
            AT_ROWS(tmp + x, len, o[0][x], o[1][x], o[2][x], o[3][x]);
        for (int i = 0; i < 4 && 4 * ty + i < g->oh; i++) {
            float *dst = c->out + co * plane + (size_t) (4 * ty + i) * g->ow + 4 * k->tx0;
            if (c->relu)
#pragma omp simd
                for (int x = 0; x < nx; x++) {
                    float y = o[i][x] + bias;
                    dst[x] = y > 0.0f ? y : 0.0f;
                }
            else
#pragma omp simd
                for (int x = 0; x < nx; x++)
                    dst[x] = o[i][x] + bias;
        }
    }
}

/* What block b does once its tiles are in v: called by every thread of
 * the block's parallel region, its `omp for` loops share the work out. */
typedef void (*block_rest)(const struct ns_wino_conv *c, const struct geo *g, const struct block *k, long b,
                           const float *v, void *ud);

/* The blocks in order, a block at a time with its phases split among the
 * threads (so each GEMM reads its share of u once a block): the input
 * transform into v, then `rest`.  Sums across blocks add in block order:
 * the same bytes for any thread count. */
static void each_block(const struct ns_wino_conv *c, const struct geo *g, float *v, int threads, block_rest rest,
                       void *ud) {
    for (long b = 0; b < (long) g->nby * g->nbx; b++) {
        struct block k = block_of(g, b);
#pragma omp parallel num_threads(threads)
        {
#pragma omp for schedule(static)
            for (int ci = 0; ci < c->cin; ci++)
                input_channel(c, g, ci, &k, v);
            rest(c, g, &k, b, v, ud);
        }
    }
}

/* the forward pass's rest of a block: m = u v, then the output pixels */
static void forward_rest(const struct ns_wino_conv *c, const struct geo *g, const struct block *k, long b,
                         const float *v, void *ud) {
    float *m = ud;
    (void) b;
#pragma omp for schedule(static)
    for (int xi = 0; xi < XI; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, k->n, c->cin, 1.0f,
                    c->u + (size_t) xi * c->cout * c->cin, c->cin, v + (size_t) xi * c->cin * g->n, (int) g->n,
                    0.0f, m + (size_t) xi * c->cout * g->n, (int) g->n);
#pragma omp for schedule(static)
    for (int co = 0; co < c->cout; co++)
        output_channel(c, g, co, k, m);
}

bool ns_wino_run(const struct ns_wino_conv *c, float *scratch, size_t scratch_floats, int threads) {
    struct geo g;
    if (!plan(c, scratch_floats, &g)) return false;
    each_block(c, &g, scratch, threads, forward_rest, scratch + (size_t) XI * c->cin * g.n);
    return true;
}

/* A's rows applied to g0..g3 (stride s): a 4-vector of the output's
 * gradient to the 6 of the transformed domain */
#define A_ROWS(g, s, o0, o1, o2, o3, o4, o5)                                                                        \
    do {                                                                                                            \
        float g0 = (g)[0], g1 = (g)[s], g2 = (g)[2 * (s)], g3 = (g)[3 * (s)];                                       \
        float e02 = g0 + g2, e13 = g1 + g3, f02 = g0 + 4 * g2, f13 = 2 * g1 + 8 * g3;                               \
        o0 = g0;                                                                                                    \
        o1 = e02 + e13;                                                                                             \
        o2 = e02 - e13;                                                                                             \
        o3 = f02 + f13;                                                                                             \
        o4 = f02 - f13;                                                                                             \
        o5 = g3;                                                                                                    \
    } while (0)

/* gt [36][cout][n] for output channel co = A gout A^T of its 4 x 4 tiles
 * in block k, zeros past the output's edge */
WIDE static void gout_channel(const struct ns_wino_conv *c, const float *gout, const struct geo *g, int co,
                              const struct block *k, float *gt) {
    int ncol = k->tx1 - k->tx0, len = 4 * ncol;
    size_t n = g->n, xs = (size_t) c->cout * n;
    float rows[4 * len], tmp[6 * len];
    const float *plane = gout + (size_t) co * g->oh * g->ow;
    for (int ty = k->ty0; ty < k->ty1; ty++) {
        for (int i = 0; i < 4; i++) {
            float *r = rows + (size_t) i * len;
            int y = 4 * ty + i, x0 = 4 * k->tx0, b = g->ow - x0 < len ? g->ow - x0 : len;
            if (y >= g->oh) {
                memset(r, 0, sizeof(float) * len);
                continue;
            }
            memcpy(r, plane + (size_t) y * g->ow + x0, sizeof(float) * b);
            memset(r + b, 0, sizeof(float) * (len - b));
        }
        float *t0 = tmp, *t1 = tmp + len, *t2 = tmp + 2 * len, *t3 = tmp + 3 * len, *t4 = tmp + 4 * len,
              *t5 = tmp + 5 * len;
#pragma omp simd
        for (int x = 0; x < len; x++) /* down the columns: A g */
            A_ROWS(rows + x, len, t0[x], t1[x], t2[x], t3[x], t4[x], t5[x]);
        size_t j0 = (size_t) (ty - k->ty0) * ncol;
        for (int r = 0; r < 6; r++) { /* along the rows: (A g) A^T */
            const float *t = tmp + (size_t) r * len;
            float *d = gt + ((size_t) r * 6 * c->cout + co) * n + j0;
            float *restrict e0 = d, *restrict e1 = d + xs, *restrict e2 = d + 2 * xs, *restrict e3 = d + 3 * xs,
                            *restrict e4 = d + 4 * xs, *restrict e5 = d + 5 * xs;
#pragma omp simd
            for (int tx = 0; tx < ncol; tx++)
                A_ROWS(t + 4 * tx, 1, e0[tx], e1[tx], e2[tx], e3[tx], e4[tx], e5[tx]);
        }
    }
}

/* The weight gradient is the adjoint of the forward map in g:
 * <gout, A^T [(G g G^T) .* V] A> = <G^T [(A gout A^T) .* V] G, g>, so
 * p [36][cout][cin] = the sum over tiles of (A gout A^T) V^T, one GEMM a
 * transformed value and block, and dW = G^T p G. */
struct filter_sums {
    const float *gout;
    float *gt, *p;
};

/* the weight gradient's rest of a block: gt = A gout A^T, then p += gt v^T
 * (p = gt v^T for the first block) */
static void filter_rest(const struct ns_wino_conv *c, const struct geo *g, const struct block *k, long b,
                        const float *v, void *ud) {
    struct filter_sums *f = ud;
#pragma omp for schedule(static)
    for (int co = 0; co < c->cout; co++)
        gout_channel(c, f->gout, g, co, k, f->gt);
#pragma omp for schedule(static)
    for (int xi = 0; xi < XI; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->cout, c->cin, k->n, 1.0f,
                    f->gt + (size_t) xi * c->cout * g->n, (int) g->n, v + (size_t) xi * c->cin * g->n, (int) g->n,
                    b ? 1.0f : 0.0f, f->p + (size_t) xi * c->cout * c->cin, c->cin);
}

bool ns_wino_filter_run(const struct ns_wino_conv *c, const float *gout, float *gwt, float *p, float *scratch,
                        size_t scratch_floats, int threads) {
    struct geo g;
    if (!plan(c, scratch_floats, &g)) return false;
    struct filter_sums f = {gout, scratch + (size_t) XI * c->cin * g.n, p};
    each_block(c, &g, scratch, threads, filter_rest, &f);
    float t[XI][9];
    kron_g(t, false);
    size_t pairs = (size_t) c->cout * c->cin;
    long chunks = (long) ((pairs + PAIR_CHUNK - 1) / PAIR_CHUNK);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long k = 0; k < chunks; k++) { /* gwt [pairs][9] += p^T T */
        size_t p0 = PAIR_CHUNK * (size_t) k, m = p0 + PAIR_CHUNK < pairs ? PAIR_CHUNK : pairs - p0;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) m, 9, XI, 1.0f, p + p0, (int) pairs,
                           &t[0][0], 9, 1.0f, gwt + p0 * 9, 9);
    }
    return true;
}

/* make bench-conv on 2 cores (docs/engine.md): Winograd took a third to
 * 0.6 of direct's time from 16 channels and 16 x 16 pixels up, but
 * 1.03-1.2 at 512 channels on 8 x 8, where a block is a few tiles and the
 * transformed weights outweigh the products. */
bool ns_wino_pays(int cin, int cout, int oh, int ow) {
    if (cin < 16 || cout < 16) return false;
    return (size_t) oh * ow >= 16 * 16 || (size_t) cin * cout <= 128 * 128;
}
