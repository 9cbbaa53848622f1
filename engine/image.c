/* image.c - resampling, noise and colour preservation.
 *
 * Resampling is separable: area averaging when shrinking (every source
 * pixel contributes by its overlap, so nothing aliases) and Keys bicubic when
 * enlarging.  Colour preservation converts through babl's CIE Lab.
 */
#include "image.h"

#include <babl/babl.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct ns_view ns_view_image(const struct ns_image *im) {
    return (struct ns_view){
        im->data, im->width, im->height, im->channels, (size_t) im->channels, (size_t) im->stride, 1};
}

struct ns_view ns_view_planar(float *data, int w, int h, int channels) {
    return (struct ns_view){data, w, h, channels, 1, (size_t) w, (size_t) w * h};
}

struct ns_view ns_canvas_interior(float *canvas, int w, int h, int m, int channels) {
    size_t cw = (size_t) w + 2 * m, ch = (size_t) h + 2 * m;
    return (struct ns_view){canvas + m * cw + m, w, h, channels, 1, cw, cw * ch};
}

void ns_canvas_mirror(float *canvas, int w, int h, int m, int channels) {
    int cw = w + 2 * m, ch = h + 2 * m;
    for (int c = 0; c < channels; c++) {
        float *plane = canvas + (size_t) c * cw * ch;
        for (int y = m; y < m + h; y++) { /* left and right, on the interior's rows */
            float *row = plane + (size_t) y * cw;
            for (int k = 1; k <= m; k++) {
                row[m - k] = row[m + k];
                row[m + w - 1 + k] = row[m + w - 1 - k];
            }
        }
        for (int k = 1; k <= m; k++) { /* then whole rows above and below */
            memcpy(plane + (size_t) (m - k) * cw, plane + (size_t) (m + k) * cw, sizeof(float) * cw);
            memcpy(plane + (size_t) (m + h - 1 + k) * cw, plane + (size_t) (m + h - 1 - k) * cw,
                   sizeof(float) * cw);
        }
    }
}

void ns_fit_size(int w, int h, int size, int *ow, int *oh) {
    int longest = w > h ? w : h;
    if (size <= 0 || size == longest) {
        *ow = w, *oh = h;
        return;
    }
    double f = (double) size / longest;
    *ow = w >= h ? size : (int) lround(w * f);
    *oh = h >= w ? size : (int) lround(h * f);
    if (*ow < 1) *ow = 1;
    if (*oh < 1) *oh = 1;
}

/* Taps of one axis: output i reads n[i] source indices from idx/wt at off[i]. */
struct taps {
    int *off, *n, *idx;
    float *wt;
};

static void taps_free(struct taps *t) {
    free(t->off), free(t->n), free(t->idx), free(t->wt);
}

static float cubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1) return (float) (((a + 2) * x - (a + 3)) * x * x + 1);
    if (x < 2) return (float) (((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    return 0.0f;
}

static bool taps_make(struct taps *t, int sn, int dn) {
    double scale = (double) sn / dn;
    int maxn = dn < sn ? (int) ceil(scale) + 2 : 4;
    t->off = malloc(sizeof(int) * dn);
    t->n = malloc(sizeof(int) * dn);
    t->idx = malloc(sizeof(int) * (size_t) dn * maxn);
    t->wt = malloc(sizeof(float) * (size_t) dn * maxn);
    if (!t->off || !t->n || !t->idx || !t->wt) return false;
    for (int i = 0; i < dn; i++) {
        int base = i * maxn, k = 0;
        t->off[i] = base;
        if (dn < sn) {
            double a = i * scale, b = (i + 1) * scale;
            for (int j = (int) floor(a); j < b && j < sn; j++) {
                double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
                if (hi <= lo) continue;
                t->idx[base + k] = j;
                t->wt[base + k++] = (float) ((hi - lo) / scale);
            }
        } else {
            double x = (i + 0.5) * scale - 0.5;
            int x0 = (int) floor(x);
            float sum = 0;
            for (int j = x0 - 1; j <= x0 + 2; j++) {
                int jj = j < 0 ? 0 : j >= sn ? sn - 1 : j;
                float w = cubic(x - j);
                t->idx[base + k] = jj;
                t->wt[base + k++] = w;
                sum += w;
            }
            for (int q = 0; q < k; q++)
                t->wt[base + q] /= sum;
        }
        t->n[i] = k;
    }
    return true;
}

enum ns_status ns_resample(struct ns_view src, struct ns_view dst, int threads) {
    int c = dst.c, nt = threads > 0 ? threads : omp_get_max_threads();
    if (c > src.c || src.w < 1 || src.h < 1 || dst.w < 1 || dst.h < 1) return NS_STATUS_INVALID_ARGUMENT;
    if (src.w == dst.w && src.h == dst.h) {
        for (int y = 0; y < dst.h; y++)
            for (int x = 0; x < dst.w; x++)
                for (int ch = 0; ch < c; ch++)
                    dst.data[y * dst.row + x * dst.px + ch * dst.ch] =
                        src.data[y * src.row + x * src.px + ch * src.ch];
        return NS_STATUS_OK;
    }
    struct taps tx = {0}, ty = {0};
    /* horizontal pass into tmp (c x src.h x dst.w), then vertical */
    float *tmp = malloc(sizeof(float) * (size_t) c * src.h * dst.w);
    enum ns_status st = NS_STATUS_OUT_OF_MEMORY;
    if (!tmp || !taps_make(&tx, src.w, dst.w) || !taps_make(&ty, src.h, dst.h)) goto out;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int y = 0; y < src.h; y++)
        for (int x = 0; x < dst.w; x++)
            for (int ch = 0; ch < c; ch++) {
                const float *s = src.data + y * src.row + ch * src.ch;
                float v = 0;
                for (int k = 0; k < tx.n[x]; k++)
                    v += tx.wt[tx.off[x] + k] * s[tx.idx[tx.off[x] + k] * src.px];
                tmp[((size_t) ch * src.h + y) * dst.w + x] = v;
            }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int y = 0; y < dst.h; y++)
        for (int ch = 0; ch < c; ch++)
            for (int x = 0; x < dst.w; x++) {
                float v = 0;
                for (int k = 0; k < ty.n[y]; k++)
                    v +=
                        ty.wt[ty.off[y] + k] * tmp[((size_t) ch * src.h + ty.idx[ty.off[y] + k]) * dst.w + x];
                dst.data[y * dst.row + x * dst.px + ch * dst.ch] = v;
            }
    st = NS_STATUS_OK;
out:
    taps_free(&tx);
    taps_free(&ty);
    free(tmp);
    return st;
}

enum ns_status ns_resize(const struct ns_image *src, struct ns_image *dst) {
    if (!src || !dst || !src->data || !dst->data || src->channels != dst->channels ||
        src->stride < src->width * src->channels || dst->stride < dst->width * dst->channels)
        return NS_STATUS_INVALID_ARGUMENT;
    return ns_resample(ns_view_image(src), ns_view_image(dst), 0);
}

void ns_clamp01(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] < 0.0f ? 0.0f : x[i] > 1.0f ? 1.0f : x[i];
}

/* splitmix64: a seeded, portable generator (same noise on every machine) */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ns_fill_noise(float *u, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((splitmix(&s) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
        double u2 = (splitmix(&s) >> 11) * (1.0 / 9007199254740992.0);
        double r = sqrt(-2.0 * log(u1));
        u[i] = (float) (0.5 + 0.15 * r * cos(2 * M_PI * u2));
        if (i + 1 < n) u[i + 1] = (float) (0.5 + 0.15 * r * sin(2 * M_PI * u2));
    }
}

enum ns_status ns_preserve_colors(const struct ns_image *content, struct ns_image *image) {
    if (!content || !image || !content->data || !image->data || content->width != image->width ||
        content->height != image->height || content->channels < 3 || image->channels < 3)
        return NS_STATUS_INVALID_ARGUMENT;
    size_t w = (size_t) image->width;
    float *rgb = malloc(sizeof(float) * 3 * w), *li = malloc(sizeof(float) * 3 * w);
    float *lc = malloc(sizeof(float) * 3 * w);
    if (!rgb || !li || !lc) {
        free(rgb), free(li), free(lc);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    /* babl cannot be initialised again after a babl_exit() that dropped the
     * last reference, and GEGL hosts (GIMP, the CLI) share it: take a
     * reference and keep it. */
    babl_init();
    const Babl *f_rgb = babl_format("R'G'B' float"), *f_lab = babl_format("CIE Lab float");
    const Babl *to_lab = babl_fish(f_rgb, f_lab), *to_rgb = babl_fish(f_lab, f_rgb);
    for (int y = 0; y < image->height; y++) {
        float *ir = image->data + (size_t) y * image->stride;
        const float *cr = content->data + (size_t) y * content->stride;
        for (size_t x = 0; x < w; x++)
            memcpy(rgb + 3 * x, ir + x * image->channels, 3 * sizeof(float));
        babl_process(to_lab, rgb, li, (long) w);
        for (size_t x = 0; x < w; x++)
            memcpy(rgb + 3 * x, cr + x * content->channels, 3 * sizeof(float));
        babl_process(to_lab, rgb, lc, (long) w);
        for (size_t x = 0; x < w; x++)
            lc[3 * x] = li[3 * x]; /* the result's L*, the content's a* b* */
        babl_process(to_rgb, lc, rgb, (long) w);
        for (size_t x = 0; x < w; x++)
            memcpy(ir + x * image->channels, rgb + 3 * x, 3 * sizeof(float));
    }
    free(rgb), free(li), free(lc);
    return NS_STATUS_OK;
}
