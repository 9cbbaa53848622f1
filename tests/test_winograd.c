/* test_winograd.c - Winograd F(4x4, 3x3) against a float64 direct
 * convolution: forward with padding 0 and 1, bias and ReLU; the input
 * gradient (padding 2, flipped kernels); sizes that are no multiple of 4;
 * scratch so small that a tile row splits; any thread count the same bytes.
 */
#include "testlib.h"
#include "backend_cpu.h"
#include "ref.h"
#include "winograd.h"

/* out = the float64 correlation of in padded by pad with wt, ReLU after */
static void direct(const float *in, int cin, int h, int w, int pad, const float *wt, const float *bias, int cout,
                   bool relu, double *out) {
    size_t n = (size_t) cin * h * w, no = (size_t) cout * (h + 2 * pad - 2) * (w + 2 * pad - 2);
    double *x = dalloc(n);
    for (size_t i = 0; i < n; i++)
        x[i] = in[i];
    ref_conv_pad(x, cin, h, w, pad, wt, bias, cout, out);
    if (relu) ref_relu(out, no);
    free(x);
}

/* max |a - b| / max |b| */
static double rel_err(const float *a, const double *b, size_t n) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d > e) e = d;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return m > 0 ? e / m : e;
}

static void check_forward(int cin, int cout, int h, int w, int pad, bool bias_on, bool relu, size_t scratch) {
    int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
    float *in = falloc((size_t) cin * h * w), *wt = falloc((size_t) cout * cin * 9), *bias = falloc(cout);
    fill_uniform(in, (size_t) cin * h * w, -1, 1);
    fill_normal(wt, (size_t) cout * cin * 9, 1.0 / sqrt(9.0 * cin));
    fill_uniform(bias, cout, -0.5, 0.5);
    float *u = falloc(ns_wino_weight_floats(cin, cout));
    ns_wino_weights(wt, cin, cout, false, 0, cout, u, 2);
    size_t no = (size_t) cout * oh * ow;
    float *out1 = falloc(no), *out2 = falloc(no), *sc = falloc(scratch * 3);
    double *ref = malloc(sizeof(double) * no);
    direct(in, cin, h, w, pad, wt, bias_on ? bias : NULL, cout, relu, ref);
    struct ns_wino_conv c = {in, cin, h, w, pad, u, bias_on ? bias : NULL, cout, relu, out1};
    CHECK(ns_wino_run(&c, sc, scratch, 1), "run %dx%d", h, w);
    c.out = out2;
    CHECK(ns_wino_run(&c, sc, scratch, 3), "run, 3 threads");
    double e = rel_err(out1, ref, no);
    CHECK(e < 2e-5, "%d->%d %dx%d pad %d: error %.2e", cin, cout, h, w, pad, e);
    CHECK(!memcmp(out1, out2, sizeof(float) * no), "1 and 3 threads differ (%d->%d %dx%d)", cin, cout, h, w);
    printf("  %3d -> %3d  %3d x %3d  pad %d  scratch %7zu: max error %.1e of the largest output\n", cin, cout, h, w,
           pad, scratch, e);
    free(in), free(wt), free(bias), free(u), free(out1), free(out2), free(sc), free(ref);
}

/* the gradient of a pad-0 convolution's input: flipped, transposed kernels over gout padded by 2 */
static void check_data_grad(int cin, int cout, int h, int w) {
    int oh = h - 2, ow = w - 2;
    float *gout = falloc((size_t) cout * oh * ow), *wt = falloc((size_t) cout * cin * 9);
    fill_uniform(gout, (size_t) cout * oh * ow, -1, 1);
    fill_normal(wt, (size_t) cout * cin * 9, 0.1);
    size_t ni = (size_t) cin * h * w;
    double *ref = calloc(ni, sizeof(double));
    for (int co = 0; co < cout; co++) /* gin[ci][y+a][x+b] += gout[co][y][x] wt[co][ci][a][b] */
        for (int ci = 0; ci < cin; ci++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++)
                            ref[((size_t) ci * h + y + a) * w + x + b] +=
                                (double) gout[((size_t) co * oh + y) * ow + x] * wt[((size_t) co * cin + ci) * 9 + a * 3 + b];
    float *u = falloc(ns_wino_weight_floats(cin, cout)), *gin = falloc(ni), *sc = falloc(1 << 20);
    ns_wino_weights(wt, cin, cout, true, 0, cin, u, 2);
    struct ns_wino_conv c = {gout, cout, oh, ow, 2, u, NULL, cin, false, gin};
    CHECK(ns_wino_run(&c, sc, 1 << 19, 2), "data grad run");
    double e = rel_err(gin, ref, ni);
    CHECK(e < 2e-5, "data grad %d<-%d %dx%d: error %.2e", cin, cout, h, w, e);
    printf("  input gradient %d <- %d, %d x %d: max error %.1e\n", cin, cout, h, w, e);
    free(gout), free(wt), free(ref), free(u), free(gin), free(sc);
}

/* the weight gradient of a pad-0 convolution, added to what gwt holds, in
 * several blocks of tiles */
static void check_filter_grad(int cin, int cout, int h, int w, size_t scratch) {
    int oh = h - 2, ow = w - 2;
    size_t ni = (size_t) cin * h * w, no = (size_t) cout * oh * ow, nw = (size_t) cout * cin * 9;
    float *in = falloc(ni), *gout = falloc(no), *gwt = falloc(nw);
    fill_uniform(in, ni, -1, 1);
    fill_uniform(gout, no, -1, 1);
    fill_uniform(gwt, nw, -1, 1);
    double *ref = malloc(sizeof(double) * nw);
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int a = 0; a < 9; a++) {
                double sum = 0;
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++)
                        sum += (double) gout[((size_t) co * oh + y) * ow + x] *
                               in[((size_t) ci * h + y + a / 3) * w + x + a % 3];
                ref[((size_t) co * cin + ci) * 9 + a] = gwt[((size_t) co * cin + ci) * 9 + a] + sum;
            }
    float *p = falloc(ns_wino_weight_floats(cin, cout)), *sc = falloc(scratch);
    struct ns_wino_conv c = {in, cin, h, w, 0, NULL, NULL, cout, false, NULL};
    CHECK(ns_wino_filter_run(&c, gout, gwt, p, sc, scratch, 2), "filter grad run");
    double e = rel_err(gwt, ref, nw);
    CHECK(e < 2e-5, "weight gradient %d -> %d, %d x %d: error %.2e", cin, cout, h, w, e);
    printf("  weight gradient %d -> %d, %d x %d, scratch %zu: max error %.1e\n", cin, cout, h, w, scratch, e);
    free(in), free(gout), free(gwt), free(ref), free(p), free(sc);
}

/* The CPU backend's ops through Winograd (NS_CPU_CONV=winograd) against
 * its direct convolution: conv3x3, conv2d and conv2d's input gradient,
 * with more output channels than one group of transformed weights holds. */
static double ops_diff(struct ns_backend *a, struct ns_backend *b, int op, int cin, int cout, int h, int w, int ksize) {
    struct ns_backend *be[2] = {a, b};
    int ks = ksize;
    int oh = op == 0 ? h : h - ks + 1, ow = op == 0 ? w : w - ks + 1;
    size_t ni = (size_t) cin * h * w, no = (size_t) cout * oh * ow, nw = (size_t) cout * cin * ks * ks;
    float *x = falloc(op == 2 ? no : ni), *wt = falloc(nw), *bias = falloc(cout), *res[2];
    fill_uniform(x, op == 2 ? no : ni, -1, 1);
    fill_normal(wt, nw, 1.0 / sqrt((double) ks * ks * cin));
    fill_uniform(bias, cout, -0.5, 0.5);
    size_t nr = op == 2 ? ni : no;
    for (int k = 0; k < 2; k++) {
        const struct ns_backend_ops *o = be[k]->ops;
        struct ns_buf *bx = o->alloc(be[k], op == 2 ? no : ni, NS_DTYPE_F32), *bw = o->alloc(be[k], nw, NS_DTYPE_F32),
                      *bb = o->alloc(be[k], cout, NS_DTYPE_F32), *br = o->alloc(be[k], nr, NS_DTYPE_F32);
        o->upload(be[k], bx, x, op == 2 ? no : ni);
        o->upload(be[k], bw, wt, nw);
        o->upload(be[k], bb, bias, cout);
        if (op == 0) o->conv3x3(be[k], bx, cin, h, w, bw, bb, cout, br, true);
        if (op == 1) o->conv2d(be[k], bx, cin, h, w, bw, bb, cout, ks, 1, br);
        if (op == 2) o->conv2d_bwd_data(be[k], bx, cout, bw, cin, h, w, ks, 1, br);
        res[k] = falloc(nr);
        o->download(be[k], res[k], br, nr);
        o->release(be[k], bx), o->release(be[k], bw), o->release(be[k], bb), o->release(be[k], br);
    }
    double e = 0, m = 0;
    for (size_t i = 0; i < nr; i++) {
        if (fabs(res[0][i] - res[1][i]) > e) e = fabs(res[0][i] - res[1][i]);
        if (fabs(res[0][i]) > m) m = fabs(res[0][i]);
    }
    free(x), free(wt), free(bias), free(res[0]), free(res[1]);
    return e / m;
}

static void check_backend(void) {
    struct ns_backend *direct = cpu_backend_conv("direct", 2), *wino = cpu_backend_conv("winograd", 2);
    CHECK(direct && wino, "CPU backends");
    if (!direct || !wino) return;
    static const char *const names[] = {"conv3x3", "conv2d", "conv2d_bwd_data"};
    for (int op = 0; op < 3; op++) {
        double e = ops_diff(direct, wino, op, 512, 300, 11, 9, 3);
        CHECK(e < 2e-5, "%s 512 -> 300 through Winograd: %.2e from direct", names[op], e);
        printf("  backend %s, 512 -> 300 in groups: %.1e from direct\n", names[op], e);
    }
    /* the fast network's last layer: 9 x 9 into 3 channels, a row's GEMM at a time */
    double e = ops_diff(direct, wino, 1, 32, 3, 77, 45, 9);
    CHECK(e < 1e-5, "conv2d 9 x 9, 32 -> 3, row by row: %.2e from im2col", e);
    printf("  backend conv2d 9 x 9, 32 -> 3, row by row: %.1e from im2col\n", e);
    direct->ops->free(direct);
    wino->ops->free(wino);
}

int main(void) {
    check_backend();
    check_forward(16, 24, 16, 16, 1, true, true, 1 << 18);
    check_forward(32, 16, 13, 22, 1, true, false, 1 << 18);
    check_forward(8, 8, 9, 7, 0, false, false, 1 << 18);
    check_forward(64, 64, 40, 37, 1, true, true, 1 << 18);
    /* scratch for 3 tiles: a row of 10 splits into segments */
    check_forward(16, 16, 10, 40, 1, true, true, 3 * 36 * 32);
    check_forward(128, 128, 20, 20, 0, true, false, 1 << 20);
    check_data_grad(16, 32, 12, 15);
    check_filter_grad(16, 24, 18, 21, 1 << 18);
    check_filter_grad(8, 16, 30, 13, 36 * 24 * 3); /* 3 tiles a block */
    check_data_grad(32, 8, 7, 9);
    /* too little scratch for a tile: refused */
    float x[4] = {0};
    struct ns_wino_conv c = {x, 64, 8, 8, 1, x, NULL, 64, false, x};
    CHECK(!ns_wino_run(&c, x, 100, 1), "a run with 100 floats of scratch");
    return test_summary("test_winograd");
}
