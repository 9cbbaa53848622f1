/* bench.h - what the benchmark programs share: a clock, and OpenBLAS's
 * sgemm rate, the yardstick the engine's speed is read against. */
#ifndef NS_BENCH_H
#define NS_BENCH_H

#include <cblas.h>
#include <stdlib.h>
#include <time.h>

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* GFLOP/s of a 2048^2 sgemm on `threads` OpenBLAS threads, the fastest of
 * `repeat` after one that warms up */
static inline double sgemm_gflops(int threads, int repeat) {
    int n = 2048;
    size_t nn = (size_t) n * n;
    float *a = malloc(sizeof(float) * nn), *b = malloc(sizeof(float) * nn), *c = malloc(sizeof(float) * nn);
    if (!a || !b || !c) abort();
    for (size_t i = 0; i < nn; i++)
        a[i] = (float) (i % 17) / 17 - 0.5f, b[i] = (float) (i % 13) / 13 - 0.5f;
    openblas_set_num_threads(threads > 0 ? threads : 1);
    double best = 1e30;
    for (int r = 0; r <= repeat; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now() - t0;
        if (r && t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * n / best / 1e9;
}

#endif /* NS_BENCH_H */
