/* backend_cpu_train.c - the CPU backend's training ops: the backward
 * passes of the fast networks' convolution, padding, upsampling and
 * instance normalisation (backend.h).
 *
 * As in backend_cpu.c, work is split by the problem's size alone and sums
 * are added in a fixed order, so any thread count gives the same bytes.
 * Convolution's data gradient runs in bands of output rows, each a GEMM
 * into columns that are then added back into the input (col2im); bands
 * far enough apart never touch the same input row, so the even bands run
 * at once and then the odd ones.  The filter gradient is a GEMM per tile
 * of pixels, the tiles' products added in tile order.
 */
#include "backend_cpu.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_COL_FLOATS ((size_t) 1 << 20) /* a tile's columns: 4 MB */

static inline float *F(struct ns_buf *b) {
    return b ? (float *) b->data : NULL;
}

static inline const float *CF(const struct ns_buf *b) {
    return b ? (const float *) b->data : NULL;
}

/* Adds the columns col (cin*k*k rows of n) of output pixels p0..p0+n-1
 * (within one ow-wide row when rows = 1, else whole rows) back into gin
 * (cin x h x w). */
static void col2im_add(const float *col, size_t n, int cin, int h, int w, int k, int stride, int ow, size_t p0,
                       float *gin) {
    for (int ci = 0; ci < cin; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *src = col + (((size_t) ci * k + ky) * k + kx) * n;
                for (size_t p = p0; p < p0 + n;) {
                    int oy = (int) (p / ow), ox = (int) (p % ow);
                    size_t run = (size_t) (ow - ox) < p0 + n - p ? (size_t) (ow - ox) : p0 + n - p;
                    float *dst = gin + ((size_t) ci * h + (size_t) oy * stride + ky) * w + kx + (size_t) ox * stride;
                    if (stride == 1)
                        for (size_t i = 0; i < run; i++)
                            dst[i] += src[i];
                    else
                        for (size_t i = 0; i < run; i++)
                            dst[i * stride] += src[i];
                    src += run, p += run;
                }
            }
}

void ns_cpu_conv2d_bwd_data(struct ns_backend *be, const struct ns_buf *gout_b, int cout, const struct ns_buf *wt_b,
                            int cin, int h, int w, int k, int stride, struct ns_buf *gin_b) {
    const float *gout = CF(gout_b), *wt = CF(wt_b);
    float *gin = F(gin_b);
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    /* stride 1, 3 x 3: the flipped kernels over gout padded by 2 */
    struct ns_wino_conv wc = {gout, cout, oh, ow, 2, NULL, NULL, cin, false, gin};
    if (k == 3 && stride == 1 && ns_cpu_wino(be, &wc, wt, cin, cout, true)) return;
    size_t kk = (size_t) cin * k * k, hw = (size_t) oh * ow, col_floats;
    ns_cpu_col(be, 0, &col_floats);
    /* pixels per GEMM: what a thread's columns hold */
    size_t tile = col_floats / kk < 1 ? 1 : col_floats / kk;
    /* bands of at least k / stride rows: bands two apart are disjoint */
    int rows = (int) (tile / (size_t) ow), least = (k + stride - 1) / stride;
    rows = rows < least ? least : rows > oh ? oh : rows;
    int nb = (oh + rows - 1) / rows;
    memset(gin, 0, sizeof(float) * (size_t) cin * h * w);
    for (int parity = 0; parity < 2; parity++) {
#pragma omp parallel for num_threads(be->threads) schedule(dynamic, 1)
        for (int b = parity; b < nb; b += 2) {
            float *col = ns_cpu_col(be, omp_get_thread_num(), NULL);
            size_t p1 = (size_t) (b * rows + rows < oh ? b * rows + rows : oh) * ow;
            for (size_t p = (size_t) b * rows * ow; p < p1; p += tile) {
                size_t n = p + tile < p1 ? tile : p1 - p;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) kk, (int) n, cout, 1.0f, wt, (int) kk,
                            gout + p, (int) hw, 0.0f, col, (int) n);
                col2im_add(col, n, cin, h, w, k, stride, ow, p, gin);
            }
        }
    }
}

/* gbias (cout) += the sums of gout's channels (hw pixels each) */
static void bias_grad(struct ns_backend *be, const float *gout, int cout, size_t hw, float *gbias) {
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (int co = 0; co < cout; co++) {
        double s = 0;
        for (size_t i = 0; i < hw; i++)
            s += gout[(size_t) co * hw + i];
        gbias[co] += (float) s;
    }
}

void ns_cpu_conv2d_bwd_filter(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                              const struct ns_buf *gout_b, int cout, int k, int stride, struct ns_buf *gwt_b,
                              struct ns_buf *gbias_b) {
    const float *in = CF(in_b), *gout = CF(gout_b);
    float *gwt = F(gwt_b), *gbias = F(gbias_b);
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    size_t kk = (size_t) cin * k * k, hw = (size_t) oh * ow, nw = (size_t) cout * kk, col_floats;
    if (k == 3 && stride == 1 && ns_cpu_wino_filter(be, in, cin, h, w, gout, cout, gwt)) {
        bias_grad(be, gout, cout, hw, gbias);
        return;
    }
    ns_cpu_col(be, 0, &col_floats);
    size_t tile = col_floats / kk < 1 ? 1 : col_floats / kk;
    tile = tile > hw ? hw : tile;
    long nt = (long) ((hw + tile - 1) / tile);
    /* each tile's product apart, added in tile order */
    float *part = malloc(sizeof(float) * nw * (size_t) nt);
    if (!part) {
        ns_cpu_fail(be, "not enough memory for a convolution's weight gradient");
        return;
    }
#pragma omp parallel for num_threads(be->threads) schedule(dynamic, 1)
    for (long t = 0; t < nt; t++) {
        float *col = ns_cpu_col(be, omp_get_thread_num(), NULL);
        size_t p0 = (size_t) t * tile, n = p0 + tile < hw ? tile : hw - p0;
        ns_cpu_im2col(in, cin, h, w, k, stride, ow, p0, p0 + n, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cout, (int) kk, (int) n, 1.0f, gout + p0, (int) hw,
                    col, (int) n, 0.0f, part + nw * (size_t) t, (int) kk);
    }
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (size_t i = 0; i < nw; i++) {
        float s = gwt[i];
        for (long t = 0; t < nt; t++)
            s += part[nw * (size_t) t + i];
        gwt[i] = s;
    }
    free(part);
    bias_grad(be, gout, cout, hw, gbias);
}

void ns_cpu_reflect_pad_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w, int p,
                            struct ns_buf *gin_b) {
    const float *gout = CF(gout_b);
    float *gin = F(gin_b);
    int oh = h + 2 * p, ow = w + 2 * p;
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *dst = gin + (size_t) ch * h * w;
        memset(dst, 0, sizeof(float) * (size_t) h * w);
        for (int y = 0; y < oh; y++) {
            int sy = ns_reflect_index(y - p, h);
            const float *src = gout + ((size_t) ch * oh + y) * ow;
            float *row = dst + (size_t) sy * w;
            for (int x = 0; x < p; x++)
                row[p - x] += src[x], row[w - 2 - x] += src[p + w + x];
            for (int x = 0; x < w; x++)
                row[x] += src[p + x];
        }
    }
}

void ns_cpu_upsample2_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int c, int h, int w,
                          struct ns_buf *gin_b) {
    const float *gout = CF(gout_b);
    float *gin = F(gin_b);
#pragma omp parallel for num_threads(be->threads) schedule(static) collapse(2)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++) {
            const float *a = gout + ((size_t) ch * 2 * h + 2 * y) * 2 * w, *b = a + 2 * w;
            float *dst = gin + ((size_t) ch * h + y) * w;
            for (int x = 0; x < w; x++)
                dst[x] = (a[2 * x] + a[2 * x + 1]) + (b[2 * x] + b[2 * x + 1]);
        }
}

void ns_cpu_dot_moments(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                        int slot0) {
    const float *g = CF(g_b), *x = CF(x_b);
    double *slots = ns_cpu_slots(be);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *gv = g + (size_t) ch * m, *xv = x + (size_t) ch * m;
        double s = 0, sx = 0;
        for (size_t i = 0; i < m; i++)
            s += gv[i], sx += (double) gv[i] * xv[i];
        slots[slot0 + 2 * ch] = s;
        slots[slot0 + 2 * ch + 1] = sx;
    }
}

void ns_cpu_affine2(struct ns_backend *be, const struct ns_buf *g_b, const struct ns_buf *x_b, int c, size_t m,
                    const struct ns_buf *abc_b, struct ns_buf *out_b) {
    const float *g = CF(g_b), *x = CF(x_b), *abc = CF(abc_b);
    float *out = F(out_b);
    size_t cs = 16384, per = (m + cs - 1) / cs;
    long n = (long) (c * per);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long t = 0; t < n; t++) {
        int ch = (int) (t / per);
        size_t i0 = (t % per) * cs, i1 = i0 + cs < m ? i0 + cs : m, o = (size_t) ch * m;
        float a = abc[ch], b = abc[c + ch], cc = abc[2 * c + ch], d = abc[3 * c + ch];
#pragma omp simd /* out may be g itself: element by element, so the lanes are independent */
        for (size_t i = i0; i < i1; i++)
            out[o + i] = a * g[o + i] + b * (x[o + i] - d) + cc;
    }
}
