/* ref.h - naive float64 reference implementations, written independently of
 * the engine, for value checks and finite differences. */
#ifndef NS_REF_H
#define NS_REF_H

#include <stddef.h>
#include <string.h>

/* 3x3, stride 1, zero pad p; wt [cout][cin][3][3]; out is cout x
 * (h + 2p - 2) x (w + 2p - 2) */
static inline void ref_conv_pad(const double *in, int cin, int h, int w, int pad, const float *wt,
                                const float *bias, int cout, double *out) {
    int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
    for (int co = 0; co < cout; co++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double s = bias ? bias[co] : 0.0;
                for (int ci = 0; ci < cin; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int yy = y + ky - pad, xx = x + kx - pad;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            s +=
                                wt[((co * cin + ci) * 3 + ky) * 3 + kx] * in[((size_t) ci * h + yy) * w + xx];
                        }
                out[((size_t) co * oh + y) * ow + x] = s;
            }
}

/* 3x3, stride 1, zero pad 1 */
static inline void ref_conv(const double *in, int cin, int h, int w, const float *wt, const float *bias,
                            int cout, double *out) {
    ref_conv_pad(in, cin, h, w, 1, wt, bias, cout, out);
}

static inline void ref_relu(double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0) x[i] = 0;
}

/* 2x2 stride 2, floor; avg when avg != 0 */
static inline void ref_pool(const double *in, int c, int h, int w, int avg, double *out) {
    int oh = h / 2, ow = w / 2;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const double *p = in + ((size_t) ch * h + 2 * y) * w + 2 * x;
                double a = p[0], b = p[1], d = p[w], e = p[w + 1], v;
                if (avg)
                    v = (a + b + d + e) / 4;
                else {
                    v = a;
                    if (b > v) v = b;
                    if (d > v) v = d;
                    if (e > v) v = e;
                }
                out[((size_t) ch * oh + y) * ow + x] = v;
            }
}

/* G = F F^T / m */
static inline void ref_gram(const double *f, int c, size_t m, double *g) {
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (size_t k = 0; k < m; k++)
                s += f[i * m + k] * f[j * m + k];
            g[i * c + j] = s / (double) m;
        }
}

static inline double ref_sq_diff(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

static inline double ref_sq(const double *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * a[i];
    return s;
}

/* sum of squared vertical and horizontal neighbour differences */
static inline double ref_tv_sum(const double *u, int c, int h, int w) {
    double s = 0;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const double *p = u + ((size_t) ch * h + y) * w + x;
                if (y + 1 < h) s += (p[w] - p[0]) * (p[w] - p[0]);
                if (x + 1 < w) s += (p[1] - p[0]) * (p[1] - p[0]);
            }
    return s;
}

#endif /* NS_REF_H */
