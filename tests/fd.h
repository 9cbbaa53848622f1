/* fd.h - central finite differences in float64 against an analytic gradient.
 *
 * f is a float64 reference of the function, so the finite difference itself
 * is accurate to ~1e-9 relative; what the tolerance covers is the float32
 * arithmetic of the backend's analytic gradient.
 */
#ifndef NS_FD_H
#define NS_FD_H

#include "testlib.h"

typedef double (*fd_fn)(void *ud, const double *x);

/* Compares g (analytic, float) with central differences of f at x along
 * `dirs` random directions and `coords` single coordinates.  Returns the
 * worst relative error. */
static inline double fd_check(fd_fn f, void *ud, const double *x, const float *g, size_t n, double h,
                              int dirs, int coords) {
    double *xp = dalloc(n), *v = dalloc(n), worst = 0, gmax = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(g[i]) > gmax) gmax = fabs(g[i]);
    for (int k = 0; k < dirs + coords; k++) {
        if (k < dirs) {
            for (size_t i = 0; i < n; i++)
                v[i] = rnd_normal();
        } else {
            memset(v, 0, n * sizeof(double));
            /* coordinates with a sizeable gradient, so the check means something */
            size_t best = 0;
            for (int t = 0; t < 8; t++) {
                size_t i = (size_t) (rnd_u64() % n);
                if (fabs(g[i]) >= fabs(g[best])) best = i;
            }
            v[best] = 1;
        }
        double gv = 0;
        for (size_t i = 0; i < n; i++)
            gv += g[i] * v[i];
        for (size_t i = 0; i < n; i++)
            xp[i] = x[i] + h * v[i];
        double fp = f(ud, xp);
        for (size_t i = 0; i < n; i++)
            xp[i] = x[i] - h * v[i];
        double fm = f(ud, xp);
        double fd = (fp - fm) / (2 * h);
        double scale = fabs(fd) > fabs(gv) ? fabs(fd) : fabs(gv);
        if (k >= dirs && scale < 1e-3 * gmax) scale = 1e-3 * gmax;
        double err = scale > 0 ? fabs(fd - gv) / scale : 0;
        if (err > worst) worst = err;
    }
    free(xp);
    free(v);
    return worst;
}

#endif /* NS_FD_H */
