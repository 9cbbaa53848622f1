/* test_ops.c - every CPU backend op against float64 references, gradients by
 * central finite differences, outputs poisoned with NaN before each op, and
 * the same bytes for 1, 2 and 3 threads. */
#include "fd.h"
#include "ref.h"

static struct ns_backend *be;

static double *to_d(const float *x, size_t n) {
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static float *poisoned(size_t n) {
    float *p = falloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
    return p;
}

/* ---- convolution ---- */

struct conv_case {
    int cin, cout, h, w;
    const float *wt;
    const double *r;
};

/* L(x) = sum r . conv(x) */
static double conv_loss(void *ud, const double *x) {
    struct conv_case *c = ud;
    size_t n = (size_t) c->cout * c->h * c->w;
    double *y = dalloc(n), s = 0;
    ref_conv(x, c->cin, c->h, c->w, c->wt, NULL, c->cout, y);
    for (size_t i = 0; i < n; i++)
        s += c->r[i] * y[i];
    free(y);
    return s;
}

static void rotate(const float *wt, int cin, int cout, float *rot) {
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int k = 0; k < 9; k++)
                rot[((size_t) ci * cout + co) * 9 + 8 - k] = wt[((size_t) co * cin + ci) * 9 + k];
}

static void test_conv(int cin, int cout, int h, int w) {
    size_t nin = (size_t) cin * h * w, nout = (size_t) cout * h * w, nw = (size_t) cout * cin * 9;
    float *in = falloc(nin), *wt = falloc(nw), *bias = falloc(cout), *out = poisoned(nout);
    fill_uniform(in, nin, -1, 1);
    fill_normal(wt, nw, sqrt(2.0 / (9 * cin)));
    fill_normal(bias, cout, 0.1);
    double *din = to_d(in, nin), *ref = dalloc(nout);
    ref_conv(din, cin, h, w, wt, bias, cout, ref);

    for (int relu = 0; relu < 2; relu++) {
        be->ops->conv3x3(be, V(in), cin, h, w, V(wt), V(bias), cout, V(out), relu);
        if (relu) ref_relu(ref, nout);
        CHECK(all_finite(out, nout), "conv %dx%d c%d->%d relu=%d left NaN in its output", h, w, cin, cout,
              relu);
        double e = rel_err_fd(ref, out, nout);
        CHECK(e < 1e-5, "conv %dx%d c%d->%d relu=%d: relative error %.2e (limit 1e-5)", h, w, cin, cout, relu,
              e);
    }

    /* backward to the input: a convolution with flipped, transposed weights */
    float *rot = falloc(nw), *r = falloc(nout), *gx = poisoned(nin);
    rotate(wt, cin, cout, rot);
    fill_normal(r, nout, 1);
    be->ops->conv3x3(be, V(r), cout, h, w, V(rot), NULL, cin, V(gx), false);
    struct conv_case cc = {cin, cout, h, w, wt, to_d(r, nout)};
    double e = fd_check(conv_loss, &cc, din, gx, nin, 1e-3, 3, 5);
    CHECK(e < 1e-4, "conv backward %dx%d c%d->%d: FD relative error %.2e (limit 1e-4)", h, w, cin, cout, e);

    free((void *) cc.r);
    free(in), free(wt), free(bias), free(out), free(din), free(ref), free(rot), free(r), free(gx);
}

/* ---- ReLU ---- */

struct vec_case {
    const double *r;
    size_t n;
    int c, h, w, avg;
};

static double relu_loss(void *ud, const double *x) {
    struct vec_case *c = ud;
    double s = 0;
    for (size_t i = 0; i < c->n; i++)
        s += c->r[i] * (x[i] > 0 ? x[i] : 0);
    return s;
}

static void test_relu(void) {
    size_t n = 1000;
    float *x = falloc(n), *y = falloc(n), *g = falloc(n);
    for (size_t i = 0; i < n; i++) {
        double v = 0.05 + rnd_uniform(); /* at least 0.05 from the kink */
        x[i] = (float) (rnd_u64() & 1 ? v : -v);
        y[i] = x[i] > 0 ? x[i] : 0;
    }
    fill_normal(g, n, 1);
    struct vec_case c = {to_d(g, n), n, 0, 0, 0, 0};
    be->ops->relu_bwd(be, V(g), V(y), n);
    double *dx = to_d(x, n);
    double e = fd_check(relu_loss, &c, dx, g, n, 1e-3, 3, 5);
    CHECK(e < 1e-6, "relu backward: FD relative error %.2e (limit 1e-6)", e);
    free((void *) c.r), free(dx), free(x), free(y), free(g);
}

/* ---- pooling ---- */

static double pool_loss(void *ud, const double *x) {
    struct vec_case *c = ud;
    size_t n = (size_t) c->c * (c->h / 2) * (c->w / 2);
    double *y = dalloc(n), s = 0;
    ref_pool(x, c->c, c->h, c->w, c->avg, y);
    for (size_t i = 0; i < n; i++)
        s += c->r[i] * y[i];
    free(y);
    return s;
}

static void test_pool(int c, int h, int w, int avg) {
    size_t nin = (size_t) c * h * w, nout = (size_t) c * (h / 2) * (w / 2);
    float *in = falloc(nin), *out = poisoned(nout), *gout = falloc(nout), *gin = poisoned(nin);
    fill_uniform(in, nin, -1, 1);
    double *din = to_d(in, nin), *ref = dalloc(nout);
    ref_pool(din, c, h, w, avg, ref);
    be->ops->pool_fwd(be, avg ? NS_POOL_AVG : NS_POOL_MAX, V(in), c, h, w, V(out));
    double e = rel_err_fd(ref, out, nout);
    CHECK(all_finite(out, nout) && e < 1e-6, "%s pool %dx%d forward: error %.2e", avg ? "avg" : "max", h, w,
          e);
    fill_normal(gout, nout, 1);
    be->ops->pool_bwd(be, avg ? NS_POOL_AVG : NS_POOL_MAX, V(in), V(gout), c, h, w, V(gin));
    CHECK(all_finite(gin, nin), "%s pool backward left NaN (odd edges must get zeros)", avg ? "avg" : "max");
    struct vec_case vc = {to_d(gout, nout), nout, c, h, w, avg};
    /* h = 1e-6: far below the gap between two window values (~1e-3 at worst here) */
    e = fd_check(pool_loss, &vc, din, gin, nin, 1e-6, 3, 5);
    CHECK(e < 1e-5, "%s pool %dx%d backward: FD relative error %.2e (limit 1e-5)", avg ? "avg" : "max", h, w,
          e);
    free((void *) vc.r), free(in), free(out), free(gout), free(gin), free(din), free(ref);
}

/* ---- Gram and losses ---- */

struct loss_case {
    int c, h, w;
    size_t m;
    const double *target;
};

static double content_fn(void *ud, const double *x) {
    struct loss_case *c = ud;
    return ref_sq_diff(x, c->target, (size_t) c->c * c->m);
}

static double style_fn(void *ud, const double *x) {
    struct loss_case *c = ud;
    double *g = dalloc((size_t) c->c * c->c);
    ref_gram(x, c->c, c->m, g);
    double s = ref_sq_diff(g, c->target, (size_t) c->c * c->c);
    free(g);
    return s;
}

static double tv_fn(void *ud, const double *x) {
    struct loss_case *c = ud;
    return ref_tv_sum(x, c->c, c->h, c->w);
}

static void test_gram_and_style(int c, int h, int w) {
    size_t m = (size_t) h * w, n = c * m, cc = (size_t) c * c;
    float *f = falloc(n), *g = poisoned(cc), *t = falloc(cc), *scratch = poisoned(cc), *grad = falloc(n);
    fill_uniform(f, n, 0, 2);
    double *df = to_d(f, n), *rg = dalloc(cc);
    ref_gram(df, c, m, rg);
    be->ops->gram(be, V(f), c, m, V(g));
    double e = rel_err_fd(rg, g, cc);
    CHECK(all_finite(g, cc) && e < 1e-5, "gram c=%d m=%zu: error %.2e (limit 1e-5)", c, m, e);

    /* style loss against a target Gram of other features */
    float *f2 = falloc(n);
    fill_uniform(f2, n, 0, 2);
    double *d2 = to_d(f2, n), *tg = dalloc(cc);
    ref_gram(d2, c, m, tg);
    for (size_t i = 0; i < cc; i++)
        t[i] = (float) tg[i];
    for (size_t i = 0; i < cc; i++)
        tg[i] = t[i];
    struct loss_case lc = {c, h, w, m, tg};
    double want = style_fn(&lc, df), got;
    be->ops->style_loss(be, V(f), c, m, V(t), 1.0f, V(scratch), V(grad), 5);
    be->ops->read_scalars(be, 5, 1, &got);
    CHECK(fabs(got - want) <= 1e-5 * want, "style loss c=%d: %.9g, reference %.9g", c, got, want);
    e = fd_check(style_fn, &lc, df, grad, n, 1e-4, 3, 5);
    CHECK(e < 1e-4, "style loss (Gram backward) c=%d %dx%d: FD relative error %.2e (limit 1e-4)", c, h, w, e);

    /* coef scales the gradient and grad accumulates */
    float *grad2 = falloc(n);
    for (size_t i = 0; i < n; i++)
        grad2[i] = 1.0f;
    be->ops->style_loss(be, V(f), c, m, V(t), 0.5f, V(scratch), V(grad2), 5);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(grad2[i] - 1.0 - 0.5 * grad[i]) / (1e-3 + fabs(grad[i]));
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-4, "style loss gradient must add coef * d/df, off by %.2e", worst);
    free(f), free(g), free(t), free(scratch), free(grad), free(grad2), free(df), free(rg), free(f2), free(d2),
        free(tg);
}

static void test_content(size_t n) {
    float *f = falloc(n), *p = falloc(n), *grad = falloc(n);
    fill_normal(f, n, 1);
    fill_normal(p, n, 1);
    double *df = to_d(f, n), *dp = to_d(p, n), got;
    struct loss_case lc = {1, 1, (int) n, n, dp};
    be->ops->content_loss(be, V(f), V(p), n, 1.0f, V(grad), 3);
    be->ops->read_scalars(be, 3, 1, &got);
    double want = content_fn(&lc, df);
    CHECK(fabs(got - want) <= 1e-6 * want, "content loss n=%zu: %.9g, reference %.9g", n, got, want);
    double e = fd_check(content_fn, &lc, df, grad, n, 1e-3, 3, 5);
    CHECK(e < 1e-5, "content loss n=%zu: FD relative error %.2e (limit 1e-5)", n, e);
    free(f), free(p), free(grad), free(df), free(dp);
}

static void test_tv(int h, int w) {
    size_t n = (size_t) 3 * h * w;
    float *u = falloc(n), *grad = falloc(n);
    fill_uniform(u, n, 0, 1);
    double *du = to_d(u, n), got;
    struct loss_case lc = {3, h, w, (size_t) h * w, NULL};
    be->ops->tv_loss(be, V(u), 3, h, w, 1.0f, V(grad), 7);
    be->ops->read_scalars(be, 7, 1, &got);
    double want = tv_fn(&lc, du);
    CHECK(fabs(got - want) <= 1e-6 * want + 1e-12, "tv %dx%d: %.9g, reference %.9g", h, w, got, want);
    double e = fd_check(tv_fn, &lc, du, grad, n, 1e-3, 3, 5);
    CHECK(e < 1e-5, "tv %dx%d: FD relative error %.2e (limit 1e-5)", h, w, e);
    free(u), free(grad), free(du);
}

/* ---- input convention ---- */

struct input_case {
    size_t hw;
    const double *r;
    float a[3], b[3];
    int perm[3];
};

static double input_fn(void *ud, const double *u) {
    struct input_case *c = ud;
    double s = 0;
    for (int ch = 0; ch < 3; ch++)
        for (size_t i = 0; i < c->hw; i++)
            s += c->r[ch * c->hw + i] * (c->a[ch] * u[c->perm[ch] * c->hw + i] + c->b[ch]);
    return s;
}

static void test_input(void) {
    size_t hw = 77, n = 3 * hw;
    struct input_case c = {hw, NULL, {255, 200, 100}, {-103.9f, -116.8f, -123.7f}, {2, 1, 0}};
    float *u = falloc(n), *x = poisoned(n), *r = falloc(n), *gu = poisoned(n);
    fill_uniform(u, n, 0, 1);
    be->ops->input_fwd(be, V(u), V(x), hw, c.a, c.b, c.perm);
    double worst = 0;
    for (int ch = 0; ch < 3; ch++)
        for (size_t i = 0; i < hw; i++) {
            double want = (double) c.a[ch] * u[c.perm[ch] * hw + i] + c.b[ch];
            worst = fmax(worst, fabs(x[ch * hw + i] - want));
        }
    CHECK(worst < 1e-4, "input_fwd off by %.2e", worst);
    fill_normal(r, n, 1);
    be->ops->input_bwd(be, V(r), V(gu), hw, c.a, c.perm);
    c.r = to_d(r, n);
    double *du = to_d(u, n);
    double e = fd_check(input_fn, &c, du, gu, n, 1e-3, 3, 5);
    CHECK(all_finite(gu, n) && e < 1e-6, "input_bwd: FD relative error %.2e", e);
    free((void *) c.r), free(du), free(u), free(x), free(r), free(gu);
}

/* ---- vector operations ---- */

static void test_vector_ops(void) {
    size_t n = 100003;
    int k = 5;
    float *mat = falloc(k * n), *x = falloc(n), *y = falloc(n), *y0 = falloc(n);
    fill_normal(mat, k * n, 1);
    fill_normal(x, n, 1);
    fill_normal(y0, n, 1);
    double got[5], coef[5] = {0.5, -1.25, 2, 0, 3};
    const struct ns_buf *rows[5];
    for (int j = 0; j < k; j++)
        rows[j] = V(mat + j * n);
    be->ops->dots(be, rows, k, V(x), n, 100);
    be->ops->read_scalars(be, 100, k, got);
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += (double) mat[j * n + i] * x[i];
        CHECK(fabs(got[j] - s) < 1e-9 * n, "dots[%d] = %.12g, want %.12g", j, got[j], s);
    }
    memcpy(y, y0, n * sizeof(float));
    be->ops->lincomb(be, V(y), -0.75f, V(x), rows, k, coef, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double want = -0.75 * x[i];
        for (int j = 0; j < k; j++)
            want += coef[j] * mat[j * n + i];
        worst = fmax(worst, fabs(y[i] - want));
    }
    CHECK(worst < 1e-5, "lincomb off by %.2e", worst);
    memcpy(y, x, n * sizeof(float));
    struct ns_buf *vy = V(y);
    be->ops->lincomb(be, vy, 2.0f, vy, rows, 1, coef, n); /* in place: y = 2y + 0.5 m0 */
    worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(y[i] - (2.0 * x[i] + 0.5 * mat[i])));
    CHECK(worst < 1e-5, "lincomb in place off by %.2e", worst);
    memcpy(y, y0, n * sizeof(float));
    be->ops->axpby(be, 3.0f, V(x), -2.0f, V(y), n);
    worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(y[i] - (3.0 * x[i] - 2.0 * y0[i])));
    CHECK(worst < 1e-5, "axpby off by %.2e", worst);
    be->ops->fill(be, V(y), 7.0f, n);
    CHECK(y[0] == 7.0f && y[n - 1] == 7.0f, "fill");

    /* Adam: two steps against the textbook formula */
    float *p = falloc(n), *m = falloc(n), *v = falloc(n), *g = falloc(n);
    fill_normal(p, n, 1);
    fill_normal(g, n, 1e-3);
    float *p0 = falloc(n);
    memcpy(p0, p, n * sizeof(float));
    be->ops->adam(be, V(p), V(g), V(m), V(v), n, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
    be->ops->adam(be, V(p), V(g), V(m), V(v), n, 0.1f, 0.9f, 0.999f, 1e-8f, 2);
    worst = 0;
    for (size_t i = 0; i < n; i++) {
        double mm = 0, vv = 0, pp = p0[i];
        for (int t = 1; t <= 2; t++) {
            mm = 0.9 * mm + 0.1 * g[i];
            vv = 0.999 * vv + 0.001 * (double) g[i] * g[i];
            double mh = mm / (1 - pow(0.9, t)), vh = vv / (1 - pow(0.999, t));
            pp -= 0.1 * mh / (sqrt(vh) + 1e-8);
        }
        worst = fmax(worst, fabs(p[i] - pp));
    }
    CHECK(worst < 1e-5, "adam off by %.2e", worst);
    free(mat), free(x), free(y), free(y0), free(p), free(m), free(v), free(g), free(p0);
}

/* ---- thread count must not change a byte ---- */

static void test_thread_independence(void) {
    int cin = 64, cout = 32, h = 45, w = 51;
    size_t nin = (size_t) cin * h * w, nout = (size_t) cout * h * w, nw = (size_t) cout * cin * 9;
    float *in = falloc(nin), *wt = falloc(nw), *out[3], *g[3], *grad[3];
    fill_uniform(in, nin, 0, 1);
    fill_normal(wt, nw, 0.05);
    double loss[3], dots[3];
    float *t = falloc((size_t) cout * cout), *scratch = falloc((size_t) cout * cout);
    for (int k = 0; k < 3; k++) {
        be->ops->set_threads(be, k + 1);
        out[k] = falloc(nout), g[k] = falloc((size_t) cout * cout), grad[k] = falloc(nout);
        be->ops->conv3x3(be, V(in), cin, h, w, V(wt), NULL, cout, V(out[k]), true);
        be->ops->gram(be, V(out[k]), cout, (size_t) h * w, V(g[k]));
        be->ops->style_loss(be, V(out[k]), cout, (size_t) h * w, V(t), 1.0f, V(scratch), V(grad[k]), 0);
        be->ops->content_loss(be, V(out[k]), V(in), nout, 1.0f, V(grad[k]), 1);
        const struct ns_buf *o1 = V(out[k]);
        be->ops->dots(be, &o1, 1, V(grad[k]), nout, 2);
        be->ops->read_scalars(be, 0, 1, &loss[k]);
        be->ops->read_scalars(be, 2, 1, &dots[k]);
    }
    for (int k = 1; k < 3; k++) {
        CHECK(memcmp(out[0], out[k], nout * 4) == 0, "conv differs between 1 and %d threads", k + 1);
        CHECK(memcmp(g[0], g[k], (size_t) cout * cout * 4) == 0, "gram differs between 1 and %d threads",
              k + 1);
        CHECK(memcmp(grad[0], grad[k], nout * 4) == 0, "loss gradients differ between 1 and %d threads",
              k + 1);
        CHECK(loss[0] == loss[k] && dots[0] == dots[k], "reductions differ between 1 and %d threads", k + 1);
    }
    for (int k = 0; k < 3; k++)
        free(out[k]), free(g[k]), free(grad[k]);
    free(in), free(wt), free(t), free(scratch);
    be->ops->set_threads(be, 0);
}

/* ---- windows (tiles) ---- */

static void test_windows(int c, int h, int w) {
    int y0 = 2, x0 = 3, oh = h - 4, ow = w - 5;
    size_t n = (size_t) c * h * w, no = (size_t) c * oh * ow;
    float *in = falloc(n), *win = poisoned(no), *acc = falloc(n), *acc0 = falloc(n);
    fill_normal(in, n, 1);
    fill_normal(acc0, n, 1);
    memcpy(acc, acc0, n * sizeof(float));
    be->ops->crop(be, V(in), c, h, w, y0, x0, oh, ow, V(win));
    be->ops->add_window(be, V(win), c, oh, ow, y0, x0, h, w, V(acc));
    size_t bad = 0;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t i = ((size_t) ch * h + y) * w + x;
                bool inside = y >= y0 && y < y0 + oh && x >= x0 && x < x0 + ow;
                float want = acc0[i] + (inside ? in[i] : 0.0f);
                bad += acc[i] != want;
                if (inside) bad += win[((size_t) ch * oh + y - y0) * ow + x - x0] != in[i];
            }
    CHECK(bad == 0, "crop and add_window %d x %d x %d: %zu wrong values", c, h, w, bad);
    /* gram_grad is style_loss's gradient with G - T given */
    size_t m = (size_t) h * w, cc = (size_t) c * c;
    float *d = falloc(cc), *g = falloc(n);
    fill_normal(d, cc, 1);
    be->ops->gram_grad(be, V(d), V(in), c, m, 0.5f, V(g));
    double worst = 0;
    for (int i = 0; i < c; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (int k = 0; k < c; k++)
                s += (double) d[(size_t) i * c + k] * in[(size_t) k * m + j];
            worst = fmax(worst, fabs(g[(size_t) i * m + j] - 0.5 * s));
        }
    CHECK(worst < 1e-4, "gram_grad off by %.2e", worst);
    free(in), free(win), free(acc), free(acc0), free(d), free(g);
}

int main(void) {
    if (ns_backend_cpu_new(0, &be)) {
        fprintf(stderr, "cannot create the CPU backend\n");
        return 1;
    }
    printf("backend: %s\n", be->description);
    test_conv(3, 8, 13, 17);
    test_conv(5, 7, 1, 1);
    test_conv(4, 6, 2, 9);
    test_conv(3, 64, 31, 5);
    test_conv(64, 16, 48, 40); /* im2col larger than one tile: tiles end mid-row */
    test_relu();
    for (int avg = 0; avg < 2; avg++) {
        test_pool(3, 8, 8, avg);
        test_pool(2, 7, 9, avg); /* odd: the last row and column are dropped */
        test_pool(1, 1, 5, avg);
    }
    test_gram_and_style(8, 6, 7);
    test_gram_and_style(70, 9, 11);
    test_content(1000);
    test_content(70001);
    test_tv(9, 7);
    test_tv(1, 5);
    test_input();
    test_vector_ops();
    test_windows(3, 9, 11);
    test_windows(17, 12, 8);
    test_thread_independence();
    be->ops->free(be);
    return test_summary("test_ops");
}
