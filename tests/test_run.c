/* test_run.c - optimisers, ns_run end to end on synthetic weights and images,
 * resampling, colour preservation, errors and the memory estimate. */
#include "context.h"
#include "image.h"
#include "optim.h"
#include "testlib.h"

#include <babl/babl.h>
#include <unistd.h>

/* ---- optimisers on an ill-conditioned quadratic ---- */

struct quad {
    size_t n;
    double *d;
};

static enum ns_status quad_eval(void *ud, const struct ns_buf *xb, struct ns_buf *gb, struct ns_terms *t) {
    struct quad *q = ud;
    const float *x = xb->data;
    float *g = gb ? gb->data : NULL;
    double f = 0;
    for (size_t i = 0; i < q->n; i++) {
        f += 0.5 * q->d[i] * x[i] * x[i];
        if (g) g[i] = (float) (q->d[i] * x[i]);
    }
    memset(t, 0, sizeof *t);
    t->loss = f;
    return NS_STATUS_OK;
}

/* The classic two-loop recursion in float64, for comparison. */
static void two_loop(const struct ns_optim *o, const float *g, double *d) {
    size_t n = o->n;
    int k = o->k;
    double *q = dalloc(n), alpha[400], rho[400];
    for (size_t i = 0; i < n; i++)
        q[i] = g[i];
    for (int c = k - 1; c >= 0; c--) {
        const float *s = o->s[(o->head + c) % o->hist]->data, *y = o->y[(o->head + c) % o->hist]->data;
        double sy = 0, sq = 0;
        for (size_t i = 0; i < n; i++)
            sy += (double) s[i] * y[i], sq += s[i] * q[i];
        rho[c] = 1 / sy;
        alpha[c] = rho[c] * sq;
        for (size_t i = 0; i < n; i++)
            q[i] -= alpha[c] * y[i];
    }
    const float *sl = o->s[(o->head + k - 1) % o->hist]->data, *yl = o->y[(o->head + k - 1) % o->hist]->data;
    double sy = 0, yy = 0;
    for (size_t i = 0; i < n; i++)
        sy += (double) sl[i] * yl[i], yy += (double) yl[i] * yl[i];
    for (size_t i = 0; i < n; i++)
        q[i] *= sy / yy;
    for (int c = 0; c < k; c++) {
        const float *s = o->s[(o->head + c) % o->hist]->data, *y = o->y[(o->head + c) % o->hist]->data;
        double yr = 0;
        for (size_t i = 0; i < n; i++)
            yr += y[i] * q[i];
        double beta = rho[c] * yr;
        for (size_t i = 0; i < n; i++)
            q[i] += s[i] * (alpha[c] - beta);
    }
    for (size_t i = 0; i < n; i++)
        d[i] = -q[i];
    free(q);
}

static void test_optimisers(struct ns_backend *be) {
    struct quad q = {2000, dalloc(2000)};
    for (size_t i = 0; i < q.n; i++)
        q.d[i] = pow(10.0, 3.0 * i / (q.n - 1)); /* condition 1e3 */
    float *x0 = falloc(q.n);
    fill_normal(x0, q.n, 1);

    struct ns_optim o;
    CHECK(ns_optim_init(&o, be, NS_OPTIMIZER_LBFGS, q.n, 0, 7, quad_eval, &q) == NS_STATUS_OK, "lbfgs init");
    ns_optim_start(&o, V(x0));
    double f0 = o.fx.loss;
    bool compared = false;
    for (int it = 0; it < 150; it++) {
        double before = o.fx.loss;
        ns_optim_step(&o);
        CHECK(o.fx.loss <= before, "L-BFGS best loss rose at step %d", it);
        if (o.k == 7 && o.head > 0 && !compared) { /* the ring has wrapped */
            float *d = falloc(q.n);
            double *want = dalloc(q.n);
            ns_lbfgs_direction(&o, o.g, V(d));
            two_loop(&o, o.g->data, want);
            double e = rel_err_fd(want, d, q.n);
            CHECK(e < 1e-4, "compact L-BFGS direction differs from the two-loop recursion by %.2e", e);
            compared = true;
            free(d), free(want);
        }
    }
    CHECK(compared, "the L-BFGS history never wrapped");
    CHECK(o.fx.loss < 1e-6 * f0, "L-BFGS on a quadratic: %.3g -> %.3g in 150 evaluations", f0, o.fx.loss);
    printf("L-BFGS (history 7) on a 2000-d quadratic of condition 1e3: %.3g -> %.3g in %d evaluations\n", f0,
           o.fx.loss, o.evals);
    ns_optim_release(&o);

    CHECK(ns_optim_init(&o, be, NS_OPTIMIZER_ADAM, q.n, 0.05f, 0, quad_eval, &q) == NS_STATUS_OK,
          "adam init");
    ns_optim_start(&o, V(x0));
    for (int it = 0; it < 300; it++)
        ns_optim_step(&o);
    CHECK(o.fx.loss < 1e-2 * f0, "Adam on a quadratic: %.3g -> %.3g", f0, o.fx.loss);
    ns_optim_release(&o);
    free(q.d);
    free(x0);
}

/* ---- resampling ---- */

/* The clean-edge canvas: every margin pixel is the interior's mirror
 * image about the edge pixel (which is not repeated). */
static void test_canvas(void) {
    const int w = 5, h = 4, m = 3, cw = w + 2 * m, ch = h + 2 * m;
    float *cv = falloc((size_t) 3 * cw * ch);
    struct ns_view in = ns_canvas_interior(cv, w, h, m, 3);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                in.data[y * in.row + x * in.px + c * in.ch] = (float) (100 * c + 10 * y + x);
    ns_canvas_mirror(cv, w, h, m, 3);
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                int iy = y - m, ix = x - m;
                iy = iy < 0 ? -iy : iy >= h ? 2 * (h - 1) - iy : iy;
                ix = ix < 0 ? -ix : ix >= w ? 2 * (w - 1) - ix : ix;
                bad += cv[((size_t) c * ch + y) * cw + x] != (float) (100 * c + 10 * iy + ix);
            }
    CHECK(bad == 0, "the mirrored canvas has %d wrong pixels", bad);
    free(cv);
}

static void test_resample(void) {
    int ow, oh;
    ns_fit_size(2048, 1365, 512, &ow, &oh);
    CHECK(ow == 512 && oh == 341, "2048x1365 at 512 -> %dx%d", ow, oh);
    ns_fit_size(1365, 2048, 512, &ow, &oh);
    CHECK(ow == 341 && oh == 512, "1365x2048 at 512 -> %dx%d", ow, oh);
    ns_fit_size(300, 200, 0, &ow, &oh);
    CHECK(ow == 300 && oh == 200, "size 0 keeps the size");
    ns_fit_size(300, 200, 300, &ow, &oh);
    CHECK(ow == 300 && oh == 200, "size = longest side keeps the size");

    float *src = falloc(4 * 37 * 23), *dst = falloc(4 * 90 * 61);
    for (int i = 0; i < 37 * 23; i++)
        src[4 * i] = 0.25f, src[4 * i + 1] = 0.5f, src[4 * i + 2] = 1, src[4 * i + 3] = 0.75f;
    struct ns_image s = {src, 37, 23, 4, 4 * 37};
    int sizes[3][2] = {{90, 61}, {11, 7}, {37, 23}};
    for (int k = 0; k < 3; k++) {
        struct ns_image d = {dst, sizes[k][0], sizes[k][1], 4, 4 * sizes[k][0]};
        ns_resize(&s, &d);
        double worst = 0;
        for (int i = 0; i < d.width * d.height; i++)
            worst =
                fmax(worst, fabs(dst[4 * i] - 0.25) + fabs(dst[4 * i + 2] - 1) + fabs(dst[4 * i + 3] - 0.75));
        CHECK(worst < 1e-5, "a flat image resized to %dx%d is not flat (%.2e)", d.width, d.height, worst);
    }
    /* halving = exact 2x2 box average */
    float *a = falloc(3 * 16 * 10), *b = falloc(3 * 8 * 5);
    fill_uniform(a, 3 * 16 * 10, 0, 1);
    struct ns_image ia = {a, 16, 10, 3, 48}, ib = {b, 8, 5, 3, 24};
    ns_resize(&ia, &ib);
    double worst = 0;
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 8; x++)
            for (int c = 0; c < 3; c++) {
                double want =
                    (a[(2 * y * 16 + 2 * x) * 3 + c] + a[(2 * y * 16 + 2 * x + 1) * 3 + c] +
                     a[((2 * y + 1) * 16 + 2 * x) * 3 + c] + a[((2 * y + 1) * 16 + 2 * x + 1) * 3 + c]) /
                    4;
                worst = fmax(worst, fabs(b[(y * 8 + x) * 3 + c] - want));
            }
    CHECK(worst < 1e-6, "halving is not a 2x2 box average (%.2e)", worst);
    /* enlarging reproduces a linear ramp away from the borders */
    float *r = falloc(3 * 20 * 4), *r2 = falloc(3 * 60 * 12);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 20; x++)
            for (int c = 0; c < 3; c++)
                r[(y * 20 + x) * 3 + c] = x / 19.0f;
    struct ns_image ir = {r, 20, 4, 3, 60}, ir2 = {r2, 60, 12, 3, 180};
    ns_resize(&ir, &ir2);
    worst = 0;
    for (int x = 6; x < 54; x++) {
        double want = ((x + 0.5) / 3.0 - 0.5) / 19.0;
        worst = fmax(worst, fabs(r2[(5 * 60 + x) * 3] - want));
    }
    CHECK(worst < 1e-5, "bicubic enlarging bends a linear ramp (%.2e)", worst);
    free(src), free(dst), free(a), free(b), free(r), free(r2);
}

/* ---- ns_run end to end ---- */

static char weights_path[256];

struct progress_log {
    int calls, cancel_at, last_iter, total;
    bool monotonic;
    double first_loss, last_loss;
};

static bool on_progress(const struct ns_progress *p, void *ud) {
    struct progress_log *l = ud;
    if (l->calls == 0)
        l->first_loss = p->loss;
    else if (p->iteration != l->last_iter + 1)
        l->monotonic = false;
    l->calls++;
    l->last_iter = p->iteration;
    l->total = p->total;
    l->last_loss = p->loss;
    return !(l->cancel_at && p->iteration >= l->cancel_at);
}

static struct ns_image make_image(int w, int h, int ch, int kind) {
    struct ns_image im = {falloc((size_t) w * h * ch), w, h, ch, w * ch};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float *p = im.data + (size_t) y * im.stride + (size_t) x * ch;
            if (kind == 0) { /* a "photo": sky gradient, a dark mountain, a sun */
                bool mountain = y > h / 2 - (x % (w / 2)) / 3;
                bool sun = (x - w / 4) * (x - w / 4) + (y - h / 5) * (y - h / 5) < (h / 8) * (h / 8);
                p[0] = mountain ? 0.2f : sun ? 1.0f : 0.4f + 0.3f * y / h;
                p[1] = mountain ? 0.3f : sun ? 0.9f : 0.6f + 0.2f * y / h;
                p[2] = mountain ? 0.25f : sun ? 0.3f : 0.9f;
            } else { /* a "painting": orange and red diagonal strokes */
                bool stroke = ((x + 2 * y) / 3) % 4 < 2;
                p[0] = stroke ? 0.95f : 0.6f;
                p[1] = stroke ? 0.5f : 0.2f;
                p[2] = stroke ? 0.1f : 0.15f;
            }
            if (ch == 4) p[3] = (float) x / (w - 1);
        }
    return im;
}

static struct ns_image alloc_result(const struct ns_params *p, const struct ns_image *c, int ch) {
    int w, h;
    ns_output_size(p, c->width, c->height, &w, &h);
    struct ns_image r = {falloc((size_t) w * h * ch), w, h, ch, w * ch};
    return r;
}

static double mean_channel(const struct ns_image *im, int c) {
    double s = 0;
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            s += im->data[(size_t) y * im->stride + (size_t) x * im->channels + c];
    return s / ((double) im->width * im->height);
}

static void test_run(void) {
    struct ns_context *ctx;
    CHECK(ns_context_new(weights_path, NS_BACKEND_AUTO, &ctx) == NS_STATUS_OK, "context: %s",
          ns_last_error(ctx));
    CHECK(ns_context_backend_kind(ctx) == NS_BACKEND_CPU, "auto mode without a GPU must pick the CPU");
    CHECK(strstr(ns_context_backend(ctx), "CPU") && strstr(ns_context_backend(ctx), "auto mode"),
          "the backend description must say why auto chose the CPU: %s", ns_context_backend(ctx));
    printf("backend: %s\n", ns_context_backend(ctx));
    struct ns_image content = make_image(64, 48, 3, 0), style = make_image(60, 60, 3, 1);
    struct ns_params p = ns_params_default();
    p.size = 0;
    p.iterations = 30;
    p.style_weight = 100;

    /* L-BFGS and Adam both lower the loss, and move the colours to the painting's */
    for (int opt = 0; opt < 2; opt++) {
        p.optimizer = opt ? NS_OPTIMIZER_ADAM : NS_OPTIMIZER_LBFGS;
        struct ns_image r = alloc_result(&p, &content, 3);
        struct progress_log log = {.monotonic = true};
        enum ns_status st = ns_run(ctx, &content, &style, 1, &p, on_progress, &log, &r);
        CHECK(st == NS_STATUS_OK, "%s run: %s", opt ? "adam" : "lbfgs", ns_last_error(ctx));
        CHECK(log.calls == 31 && log.monotonic && log.last_iter == 30 && log.total == 30,
              "progress: %d calls, last %d of %d", log.calls, log.last_iter, log.total);
        CHECK(log.last_loss < 0.5 * log.first_loss, "%s: loss %.4g -> %.4g, not halved",
              opt ? "adam" : "lbfgs", log.first_loss, log.last_loss);
        double red_c = mean_channel(&content, 0) - mean_channel(&content, 2);
        double red_r = mean_channel(&r, 0) - mean_channel(&r, 2);
        CHECK(red_r > red_c + 0.1, "%s: the result is not redder than the photo (%.3f vs %.3f)",
              opt ? "adam" : "lbfgs", red_r, red_c);
        printf("%s: loss %.4g -> %.4g in 30 iterations\n", opt ? "adam" : "lbfgs", log.first_loss,
               log.last_loss);
        free(r.data);
    }
    p.optimizer = NS_OPTIMIZER_LBFGS;

    /* same seed, same bytes; any thread count; another seed differs */
    p.init = NS_INIT_NOISE;
    p.seed = 42;
    p.iterations = 8;
    struct ns_image r1 = alloc_result(&p, &content, 3), r2 = alloc_result(&p, &content, 3);
    size_t rn = (size_t) r1.width * r1.height * 3;
    p.threads = 2;
    ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r1);
    ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r2);
    CHECK(memcmp(r1.data, r2.data, rn * 4) == 0, "the same seed gave different bytes");
    p.threads = 1;
    ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r2);
    CHECK(memcmp(r1.data, r2.data, rn * 4) == 0, "1 and 2 threads gave different bytes");
    p.threads = 0;
    p.seed = 43;
    ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r2);
    CHECK(memcmp(r1.data, r2.data, rn * 4) != 0, "another seed gave the same bytes");
    p.init = NS_INIT_CONTENT;

    /* cancel: CANCELLED and not a byte of the result written */
    for (size_t i = 0; i < rn; i++)
        r2.data[i] = -7.0f;
    struct progress_log log = {.cancel_at = 3, .monotonic = true};
    enum ns_status st = ns_run(ctx, &content, &style, 1, &p, on_progress, &log, &r2);
    bool untouched = true;
    for (size_t i = 0; i < rn; i++)
        untouched = untouched && r2.data[i] == -7.0f;
    CHECK(st == NS_STATUS_CANCELLED && untouched && log.calls == 4,
          "cancel: status %d, %d calls, untouched %d", st, log.calls, untouched);

    /* zero iterations: evaluate once and return the start image */
    p.iterations = 0;
    p.size = 32;
    struct ns_image r0 = alloc_result(&p, &content, 3), want = alloc_result(&p, &content, 3);
    log = (struct progress_log){.monotonic = true};
    st = ns_run(ctx, &content, &style, 1, &p, on_progress, &log, &r0);
    ns_resize(&content, &want);
    ns_clamp01(want.data, (size_t) want.width * want.height * 3);
    CHECK(st == NS_STATUS_OK && log.calls == 1 && log.last_iter == 0, "0 iterations: %d reports", log.calls);
    CHECK(memcmp(r0.data, want.data, (size_t) want.width * want.height * 3 * 4) == 0,
          "0 iterations must return the content resized");
    free(r0.data), free(want.data);

    /* coarse to fine, init image, alpha kept */
    p.iterations = 5;
    p.size = 64;
    p.scales = 2;
    struct ns_image ca = make_image(64, 48, 4, 0);
    struct ns_image ra = alloc_result(&p, &ca, 4);
    log = (struct progress_log){.monotonic = true};
    p.init = NS_INIT_IMAGE;
    p.init_image = &style;
    st = ns_run(ctx, &ca, &style, 1, &p, on_progress, &log, &ra);
    int two = ns_level_iterations(5, 0) + ns_level_iterations(5, 1);
    CHECK(two == 6 && st == NS_STATUS_OK && log.total == two && log.last_iter == two && log.monotonic,
          "two scales: status %d, total %d, last %d of %d", st, log.total, log.last_iter, two);
    double amax = 0;
    for (int y = 0; y < ra.height; y++)
        for (int x = 0; x < ra.width; x++)
            amax = fmax(amax, fabs(ra.data[(y * ra.width + x) * 4 + 3] - ca.data[(y * 64 + x) * 4 + 3]));
    CHECK(amax < 1e-6, "the content's alpha is not kept (off by %.2e)", amax);
    p.init = NS_INIT_CONTENT;
    p.init_image = NULL;
    p.scales = 0;

    /* colour preservation keeps the photo's a* b* */
    p.preserve_colors = true;
    p.size = 0;
    st = ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r1);
    CHECK(st == NS_STATUS_OK, "preserve colours: %s", ns_last_error(ctx));
    babl_init();
    const Babl *fish = babl_fish(babl_format("R'G'B' float"), babl_format("CIE Lab float"));
    float *lab_r = falloc(rn), *lab_c = falloc(rn);
    babl_process(fish, r1.data, lab_r, (long) (rn / 3));
    babl_process(fish, content.data, lab_c, (long) (rn / 3));
    double ab = 0, dl = 0;
    int near = 0;
    for (size_t i = 0; i < rn; i += 3) {
        double d = fabs(lab_r[i + 1] - lab_c[i + 1]) + fabs(lab_r[i + 2] - lab_c[i + 2]);
        ab += d;
        near += d < 1.0;
        dl += fabs(lab_r[i] - lab_c[i]);
    }
    printf("preserve colours: mean |da*|+|db*| %.3f, %.1f%% of pixels within 1, mean |dL*| %.2f\n",
           ab / (rn / 3), 100.0 * near / (rn / 3), dl / (rn / 3));
    /* a pixel whose new lightness cannot carry the photo's chroma inside the
     * sRGB gamut is clamped, so not every pixel matches */
    CHECK(ab / (rn / 3) < 1.0 && near > 0.8 * (rn / 3), "preserved colours: a*b* off by %.2f on average",
          ab / (rn / 3));
    CHECK(dl / (rn / 3) > 1.0, "preserved colours: the lightness did not change at all");
    free(lab_r), free(lab_c);
    p.preserve_colors = false;

    /* style scale: the painting is resized relative to the photo before its
     * Grams are taken, so the style term at the start point changes */
    {
        struct ns_params q = p;
        q.iterations = 0;
        q.preserve_colors = false;
        double l_s[2];
        for (int k = 0; k < 2; k++) {
            q.style_scale = k ? 0.5f : 1.0f;
            struct progress_log lg = {.monotonic = true};
            st = ns_run(ctx, &content, &style, 1, &q, on_progress, &lg, &r1);
            CHECK(st == NS_STATUS_OK, "style scale %.1f: %s", q.style_scale, ns_last_error(ctx));
            l_s[k] = lg.first_loss;
        }
        CHECK(fabs(l_s[0] - l_s[1]) > 1e-3 * l_s[0], "style scale 0.5 did not change the style target (%.6g)",
              l_s[0]);
        q.style_scale = 0.05f; /* 3 px: too small for relu3_1 */
        st = ns_run(ctx, &content, &style, 1, &q, NULL, NULL, &r1);
        CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "style scale"),
              "a style too small for the layers: %s", ns_last_error(ctx));
        /* the limits of ns.h, as the plug-in offers them */
        q.style_scale = NS_PARAM_STYLE_SCALE_MAX * 1.01f;
        st = ns_run(ctx, &content, &style, 1, &q, NULL, NULL, &r1);
        CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "between 0.05 and 8"),
              "style scale over NS_PARAM_STYLE_SCALE_MAX: %s", ns_last_error(ctx));
        q.style_scale = 1.0f;
        q.iterations = NS_PARAM_ITERATIONS_MAX + 1;
        st = ns_run(ctx, &content, &style, 1, &q, NULL, NULL, &r1);
        CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "100000"),
              "iterations over NS_PARAM_ITERATIONS_MAX: %s", ns_last_error(ctx));
    }

    /* two styles blended */
    struct ns_image styles[2] = {style, make_image(40, 50, 3, 0)};
    float blend[2] = {3, 1};
    p.style_blend = blend;
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r1);
    CHECK(st == NS_STATUS_OK, "two styles: %s", ns_last_error(ctx));
    p.style_blend = NULL;
    free(styles[1].data);

    /* errors: a status, a sentence, the result untouched */
    for (size_t i = 0; i < rn; i++)
        r2.data[i] = -7.0f;
    st = ns_run(ctx, &content, &style, 0, &p, NULL, NULL, &r2);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "style"), "no style: %s",
          ns_last_error(ctx));
    struct ns_params bad = p;
    bad.style_layers = "relu9_9";
    st = ns_run(ctx, &content, &style, 1, &bad, NULL, NULL, &r2);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "relu9_9") &&
              strstr(ns_last_error(ctx), "relu2_1"),
          "unknown layer: %s", ns_last_error(ctx));
    bad = p;
    bad.lbfgs_history = 0;
    st = ns_run(ctx, &content, &style, 1, &bad, NULL, NULL, &r2);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "history"), "history 0: %s",
          ns_last_error(ctx));
    bad = p;
    bad.size = 3; /* relu3_1 sits behind two 2x2 poolings */
    struct ns_image tiny = alloc_result(&bad, &content, 3);
    st = ns_run(ctx, &content, &style, 1, &bad, NULL, NULL, &tiny);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "short side would be 2 px") &&
              strstr(ns_last_error(ctx), "needs at least 4 px: raise the size"),
          "tiny: %s", ns_last_error(ctx));
    free(tiny.data);
    struct ns_image wrong = {r2.data, 10, 10, 3, 30};
    st = ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &wrong);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "ns_output_size"), "result size: %s",
          ns_last_error(ctx));
    struct ns_image gray = {content.data, 64, 48, 1, 64};
    st = ns_run(ctx, &gray, &style, 1, &p, NULL, NULL, &r2);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "RGB"), "1 channel: %s",
          ns_last_error(ctx));
    untouched = true;
    for (size_t i = 0; i < rn; i++)
        untouched = untouched && r2.data[i] == -7.0f;
    CHECK(untouched, "a failed run wrote into the result");
    struct ns_context *gpu = NULL;
    st = ns_context_new(weights_path, NS_BACKEND_CUDA, &gpu);
    CHECK(st != NS_STATUS_OK || getenv("NS_EXPECT_GPU"),
          "--device cuda must fail where no GPU backend exists");
    if (st) printf("cuda requested: %s\n", ns_last_error(gpu));
    ns_context_free(gpu);
    ns_context_free(ctx);

    free(r1.data), free(r2.data), free(content.data), free(style.data), free(ca.data), free(ra.data);
}

/* ---- the memory estimate against what the backend really allocates ---- */

static struct ns_backend_ops counting_ops;
static const struct ns_backend_ops *real_ops;
static size_t live, peak;
static struct ns_buf *counting_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    struct ns_buf *b = real_ops->alloc(be, n, dtype);
    if (b) live += n * ns_dtype_size(dtype);
    if (live > peak) peak = live;
    return b;
}

static void counting_release(struct ns_backend *be, struct ns_buf *b) {
    if (b) live -= b->n * ns_dtype_size(b->dtype);
    real_ops->release(be, b);
}

/* A CPU context whose backend counts what it allocates in live and peak. */
static struct ns_context *counting_context(void) {
    struct ns_context *ctx;
    ns_context_new(weights_path, NS_BACKEND_CPU, &ctx);
    real_ops = ctx->be->ops;
    counting_ops = *real_ops;
    counting_ops.alloc = counting_alloc;
    counting_ops.release = counting_release;
    ctx->be->ops = &counting_ops;
    return ctx;
}

static void test_estimate(void) {
    struct ns_context *ctx = counting_context();
    struct ns_image content = make_image(96, 80, 3, 0), style = make_image(70, 90, 3, 1);
    size_t peaks[3];
    const char *names[3] = {"lbfgs", "adam", "lbfgs in tiles of 32"};
    for (int opt = 0; opt < 3; opt++) {
        struct ns_params p = ns_params_default();
        p.size = 0;
        p.iterations = 2;
        p.optimizer = opt == 1 ? NS_OPTIMIZER_ADAM : NS_OPTIMIZER_LBFGS;
        p.tile = opt == 2 ? 32 : 0;
        struct ns_image r = alloc_result(&p, &content, 3);
        live = peak = 0;
        ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r);
        size_t est = ns_estimate_memory(ctx, &p, 96, 80, 70, 90);
        size_t model = ns_model_floats(&ctx->model, true) * sizeof(float);
        size_t fixed = model + ctx->be->workspace + (size_t) 3 * 96 * 80 * 4;
        CHECK(est >= peak + model && est <= peak + fixed + peak / 10,
              "%s: estimate %zu bytes, measured peak %zu + weights %zu", names[opt], est, peak, model);
        printf("%s: estimated %.2f MB, measured %.2f MB + weights %.2f MB\n", names[opt], est / 1e6,
               peak / 1e6, model / 1e6);
        peaks[opt] = peak;
        free(r.data);
    }
    CHECK(peaks[2] < peaks[0], "tiles of 32 took %zu bytes, the whole image %zu", peaks[2], peaks[0]);
    ctx->be->ops = real_ops;
    /* without a context: a full VGG-19 at 512 px with L-BFGS */
    struct ns_params p = ns_params_default();
    size_t full = ns_estimate_memory(NULL, &p, 512, 512, 512, 512);
    CHECK(full > 300e6 && full < 3e9, "full VGG-19 at 512 px: %.2f GB is implausible", full / 1e9);
    printf("full VGG-19, 512 px, L-BFGS history %d: estimated %.2f GB\n", p.lbfgs_history, full / 1e9);
    /* time estimates: one more iteration costs forward + backward (2x the
     * forward's conv multiply-adds) plus the Gram products */
    p.size = 0;
    p.margin = 0; /* the objective's own image */
    p.iterations = 9;
    double f9 = ns_estimate_flops(NULL, &p, 512, 512, 512, 512);
    p.iterations = 10;
    double per = ns_estimate_flops(NULL, &p, 512, 512, 512, 512) - f9, conv = 0;
    int cin = 3, side = 512;
    const int convs[5] = {2, 2, 4, 4, 1}, chans[5] = {64, 128, 256, 512, 512}; /* up to relu5_1 */
    for (int b = 0; b < 5; b++, side /= 2)
        for (int i = 0; i < convs[b]; i++)
            conv += 2.0 * 9 * cin * chans[b] * side * side, cin = chans[b];
    CHECK(per > 2 * conv && per < 2.15 * conv, "flops per iteration %.4g, 2 x conv flops %.4g", per,
          2 * conv);
    printf("estimated %.1f GFLOP per iteration at 512 px (full VGG-19)\n", per / 1e9);
    free(content.data), free(style.data);
    ns_context_free(ctx);
}

/* ---- the memory budget: tiles and history chosen to fit, or a refusal ---- */

struct level_log {
    int tile, history, max_tile, min_history, cancel_at, block;
};

static bool on_level(const struct ns_progress *p, void *ud) {
    struct level_log *l = ud;
    l->tile = p->tile, l->history = p->history;
    if (p->block) l->block = p->block;
    if (p->tile > l->max_tile) l->max_tile = p->tile;
    if (!l->min_history || p->history < l->min_history) l->min_history = p->history;
    return !(l->cancel_at && p->iteration >= l->cancel_at);
}

static bool unchanged(const struct ns_image *r, float sentinel) {
    for (size_t i = 0; i < (size_t) r->width * r->height * r->channels; i++)
        if (r->data[i] != sentinel) return false;
    return true;
}

static void test_budget(void) {
    struct ns_context *ctx = counting_context();
    struct ns_image content = make_image(400, 300, 3, 0), style = make_image(360, 360, 3, 1);
    struct ns_params p = ns_params_default();
    p.size = 0;
    p.iterations = 4;
    p.scales = 1;
    size_t whole = ns_estimate_memory(ctx, &p, 400, 300, 360, 360);
    size_t model = ns_model_floats(&ctx->model, true) * sizeof(float);
    struct ns_image r = alloc_result(&p, &content, 3);

    /* a budget under the untiled run's: tiles, then a shorter history */
    const double shares[2] = {0.6, 0.3};
    for (int k = 0; k < 2; k++) {
        p.max_memory = shares[k] * whole;
        struct level_log log = {0};
        live = peak = 0;
        enum ns_status st = ns_run(ctx, &content, &style, 1, &p, on_level, &log, &r);
        size_t est = ns_estimate_memory(ctx, &p, 400, 300, 360, 360);
        CHECK(st == NS_STATUS_OK, "%.0f%% of %zu bytes: %s", 100 * shares[k], whole, ns_last_error(ctx));
        CHECK(log.tile > 0, "%.0f%% of the untiled bytes: no tiles", 100 * shares[k]);
        CHECK(peak + model <= p.max_memory && est <= p.max_memory && est >= peak + model,
              "budget %.2f MB: measured %.2f MB + weights %.2f MB, estimated %.2f MB", p.max_memory / 1e6,
              peak / 1e6, model / 1e6, est / 1e6);
        printf("budget %.1f MB (%.0f%% of the untiled %.1f MB): tiles of %d px, L-BFGS history %d; "
               "measured %.1f MB + weights %.1f MB, estimated %.1f MB\n",
               p.max_memory / 1e6, 100 * shares[k], whole / 1e6, log.tile, log.history, peak / 1e6,
               model / 1e6, est / 1e6);
        if (k == 1)
            CHECK(log.history < p.lbfgs_history && log.history >= NS_LBFGS_HISTORY_MIN,
                  "a tight budget keeps %d of %d pairs", log.history, p.lbfgs_history);
    }

    /* under what even the smallest tiles need: block by block, within it
     * (at this size a block's wider reach leaves only a little to save) */
    p.max_memory = 1;
    size_t least = ns_estimate_memory(ctx, &p, 400, 300, 360, 360);
    p.max_memory = 0.95 * least;
    struct level_log blog = {0};
    live = peak = 0;
    enum ns_status bst = ns_run(ctx, &content, &style, 1, &p, on_level, &blog, &r);
    size_t best = ns_estimate_memory(ctx, &p, 400, 300, 360, 360);
    CHECK(bst == NS_STATUS_OK && blog.block > 0,
          "95%% of the smallest tiles' %.1f MB: status %d, blocks %d, %s", least / 1e6, bst, blog.block,
          ns_last_error(ctx));
    CHECK(peak + model <= p.max_memory && best <= p.max_memory && best >= peak + model,
          "budget %.2f MB in blocks: measured %.2f MB + weights %.2f MB, estimated %.2f MB",
          p.max_memory / 1e6, peak / 1e6, model / 1e6, best / 1e6);
    printf("budget %.1f MB (95%% of the smallest tiles' %.1f MB): blocks of %d px, L-BFGS history %d; "
           "measured %.1f MB + weights %.1f MB, estimated %.1f MB\n",
           p.max_memory / 1e6, least / 1e6, blog.block, blog.history, peak / 1e6, model / 1e6, best / 1e6);
    struct ns_level_info lv[4];
    int nl = ns_estimate_levels(ctx, &p, 400, 300, 360, 360, lv, 4);
    CHECK(nl == 1 && lv[0].block == blog.block && lv[0].tile == blog.block && lv[0].history == blog.history &&
              lv[0].width == 400 && (size_t) lv[0].bytes == best,
          "ns_estimate_levels: %d levels, block %d, tile %d, history %d, %.1f MB", nl, lv[0].block,
          lv[0].tile, lv[0].history, lv[0].bytes / 1e6);
    struct level_log bcancel = {.cancel_at = 2};
    const float mark = -3.0f;
    for (size_t i = 0; i < (size_t) r.width * r.height * 3; i++)
        r.data[i] = mark;
    bst = ns_run(ctx, &content, &style, 1, &p, on_level, &bcancel, &r);
    CHECK(bst == NS_STATUS_CANCELLED && bcancel.block > 0 && unchanged(&r, mark) && live == 0,
          "cancelled in blocks: status %d, blocks %d, %zu bytes left", bst, bcancel.block, live);

    /* too small: refused before anything is allocated, the result untouched */
    const float sentinel = -7.0f;
    for (size_t i = 0; i < (size_t) r.width * r.height * 3; i++)
        r.data[i] = sentinel;
    p.max_memory = 2e6;
    live = peak = 0;
    enum ns_status st = ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r);
    const char *why = ns_last_error(ctx);
    CHECK(st == NS_STATUS_OUT_OF_MEMORY && strstr(why, "memory limit of 2 MB") && strstr(why, "400 x 300"),
          "a 2 MB budget: status %d, '%s'", st, why);
    CHECK(peak == 0 && unchanged(&r, sentinel), "a refused run allocated %zu bytes or wrote its result",
          peak);
    printf("2 MB: %s\n", why);

    /* cancelled in tiles: cancelled, nothing written */
    p.max_memory = shares[0] * whole;
    struct level_log log = {.cancel_at = 2};
    st = ns_run(ctx, &content, &style, 1, &p, on_level, &log, &r);
    CHECK(st == NS_STATUS_CANCELLED && log.tile > 0 && unchanged(&r, sentinel),
          "cancelled in tiles: status %d, tiles %d", st, log.tile);
    CHECK(live == 0, "a cancelled run left %zu bytes allocated", live);

    /* a bad budget is refused */
    p.max_memory = -1;
    CHECK(ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &r) == NS_STATUS_INVALID_ARGUMENT,
          "a negative memory limit is accepted");

    /* the schedule: an eighth of the steps per finer level, with a floor */
    CHECK(ns_level_iterations(300, 0) == 300 && ns_level_iterations(300, 1) == 37 &&
              ns_level_iterations(300, 2) == 10 && ns_level_iterations(300, 3) == 10 &&
              ns_level_iterations(1, 2) == 1,
          "level iterations %d %d %d %d", ns_level_iterations(300, 0), ns_level_iterations(300, 1),
          ns_level_iterations(300, 2), ns_level_iterations(300, 3));
    ctx->be->ops = real_ops;
    free(r.data), free(content.data), free(style.data);
    ns_context_free(ctx);
}

static bool last_elapsed(const struct ns_progress *p, void *ud) {
    *(double *) ud = p->elapsed;
    return true;
}

/* Seconds a real run of side x side px and `its` iterations takes (its last
 * progress report), with the work the engine counts for it. */
static struct ns_timing timed_run(struct ns_context *ctx, int side, int its) {
    struct ns_image content = make_image(side, side * 2 / 3, 3, 0), style = make_image(side, side, 3, 1);
    struct ns_params p = ns_params_default();
    p.size = 0;
    p.iterations = its;
    struct ns_image r = alloc_result(&p, &content, 3);
    struct ns_timing t = {ns_estimate_work(ctx, &p, content.width, content.height, side, side), 0};
    ns_run(ctx, &content, &style, 1, &p, last_elapsed, &t.seconds, &r);
    free(r.data), free(content.data), free(style.data);
    return t;
}

/* The time model: exact on its own kind of data, and a small run predicts
 * a larger one (the plug-in calibrates from whatever ran last: a preview). */
static void test_time_estimate(void) {
    struct ns_context *ctx;
    ns_context_new(weights_path, NS_BACKEND_CPU, &ctx);
    struct ns_params p = ns_params_default();
    p.size = 0;
    struct ns_timing past[3];
    const int sides[3] = {64, 200, 512};
    for (int i = 0; i < 3; i++) { /* 2 ns per flop and 30 ms per evaluation */
        p.iterations = 10 * (i + 1);
        past[i].work = ns_estimate_work(ctx, &p, sides[i], sides[i], sides[i], sides[i]);
        past[i].seconds = 2e-9 * past[i].work.flops + 0.03 * past[i].work.evaluations;
    }
    p.iterations = 300;
    struct ns_work big = ns_estimate_work(ctx, &p, 2000, 1500, 1000, 1000);
    double want = 2e-9 * big.flops + 0.03 * big.evaluations, got = ns_estimate_seconds(ctx, big, past, 3);
    CHECK(fabs(got / want - 1) < 1e-6, "fitted model: %.6g s, the data's own %.6g s", got, want);
    got = ns_estimate_seconds(ctx, big, past, 1);
    CHECK(got > 0 && isfinite(got), "one timing gives an estimate: %g", got);
    got = ns_estimate_seconds(ctx, big, NULL, 0);
    CHECK(got > 0 && isfinite(got), "no timing gives a first guess: %g", got);

    /* measured: a tiny run calibrates, one with 6x the pixels and 3x the
     * iterations is predicted within a factor 2 (flops alone, measured on
     * whole plug-in runs, were off 5x).  The fastest of a few runs of each,
     * so that another process on the machine does not decide it. */
    struct ns_timing tiny = timed_run(ctx, 64, 10), large = timed_run(ctx, 160, 30);
    for (int k = 0; k < 2; k++) {
        struct ns_timing t = timed_run(ctx, 64, 10);
        if (t.seconds < tiny.seconds) tiny = t;
    }
    struct ns_timing again = timed_run(ctx, 160, 30);
    if (again.seconds < large.seconds) large = again;
    double predicted = ns_estimate_seconds(ctx, large.work, &tiny, 1);
    printf("time model: %.2f s at 64 px predicts %.2f s at 160 px, measured %.2f s (fastest runs)\n",
           tiny.seconds, predicted, large.seconds);
    CHECK(predicted < 2 * large.seconds && predicted > large.seconds / 2, "predicted %.2f s, measured %.2f s",
          predicted, large.seconds);
    ns_context_free(ctx);
}

/* Mean of channel c minus the mean of the other two, over columns x0..x1-1. */
static double tint(const struct ns_image *im, int c, int x0, int x1) {
    double s = 0;
    for (int y = 0; y < im->height; y++)
        for (int x = x0; x < x1; x++) {
            const float *px = im->data + (size_t) y * im->stride + (size_t) x * im->channels;
            s += px[c] - 0.5 * (px[(c + 1) % 3] + px[(c + 2) % 3]);
        }
    return s / ((double) im->height * (x1 - x0));
}

/* One style per region: a red painting on the left third, a blue one on the
 * right third, nothing in the middle, which must stay the photo's bytes. */
static void test_regions(void) {
    struct ns_context *ctx;
    CHECK(ns_context_new(weights_path, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "regions: context");
    int w = 96, h = 48;
    struct ns_image content = make_image(w, h, 3, 0), styles[2] = {make_image(60, 60, 3, 1), make_image(50, 60, 3, 1)};
    for (size_t i = 0; i < (size_t) 50 * 60; i++) { /* the second painting blue: R and B swapped */
        float *px = styles[1].data + 3 * i, t = px[0];
        px[0] = px[2], px[2] = t;
    }
    struct ns_image masks[2] = {{falloc((size_t) w * h), w, h, 1, w}, {falloc((size_t) w * h), w, h, 1, w}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            masks[0].data[y * w + x] = x < w / 3 ? 1.0f : 0.0f;
            masks[1].data[y * w + x] = x >= 2 * w / 3 ? 1.0f : 0.0f;
        }
    struct ns_params p = ns_params_default();
    p.size = 0, p.iterations = 30, p.style_weight = 100;
    p.style_masks = masks, p.n_style_masks = 2;
    struct ns_image r = alloc_result(&p, &content, 3);
    enum ns_status st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_OK, "regions: %s", ns_last_error(ctx));
    double red_c = tint(&content, 0, 0, w / 3), red_r = tint(&r, 0, 0, w / 3);
    double blue_c = tint(&content, 2, 2 * w / 3, w), blue_r = tint(&r, 2, 2 * w / 3, w);
    CHECK(red_r > red_c + 0.1, "regions: the left third is not redder (%.3f vs the photo's %.3f)", red_r, red_c);
    CHECK(blue_r > blue_c + 0.1, "regions: the right third is not bluer (%.3f vs the photo's %.3f)", blue_r,
          blue_c);
    int changed = 0;
    for (int y = 0; y < h; y++)
        changed += memcmp(r.data + (size_t) y * r.stride + 3 * (w / 3), content.data + (size_t) y * content.stride + 3 * (w / 3),
                          sizeof(float) * 3 * (2 * w / 3 - w / 3)) != 0;
    CHECK(changed == 0, "regions: %d rows of the middle third differ from the photo", changed);
    printf("regions: left red %.3f -> %.3f, right blue %.3f -> %.3f, middle unchanged\n", red_c, red_r, blue_c,
           blue_r);

    /* refusals, the result untouched */
    r.data[0] = -7.0f;
    p.n_style_masks = 1;
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "one per style"), "1 mask, 2 styles: %s",
          ns_last_error(ctx));
    p.n_style_masks = 2, p.tile = 32;
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "tiles"), "regions in tiles: %s",
          ns_last_error(ctx));
    p.tile = 0, p.correlation_chain = true;
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "chain"), "regions and the chain: %s",
          ns_last_error(ctx));
    p.correlation_chain = false;
    p.max_memory = 20e6; /* far less than a whole level needs: the sentence says why no tiles */
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_OUT_OF_MEMORY && strstr(ns_last_error(ctx), "regions are computed on whole levels"),
          "regions over the budget: %s", ns_last_error(ctx));
    p.max_memory = 0;
    masks[1].data[5] = NAN;
    st = ns_run(ctx, &content, styles, 2, &p, NULL, NULL, &r);
    CHECK(st == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "mask of style 2"), "a NaN mask: %s",
          ns_last_error(ctx));
    CHECK(r.data[0] == -7.0f, "a refused region run wrote into the result");
    for (int k = 0; k < 2; k++)
        free(masks[k].data), free(styles[k].data);
    free(content.data), free(r.data);
    ns_context_free(ctx);
}

int main(void) {
    struct ns_backend *be;
    if (ns_backend_cpu_new(0, &be)) return 1;
    test_optimisers(be);
    be->ops->free(be);
    test_resample();
    test_canvas();

    snprintf(weights_path, sizeof weights_path, "/tmp/ns-test-run-%d.safetensors", (int) getpid());
    struct ns_weights w;
    random_weights(&w, 19, 5);
    write_safetensors(weights_path, &w, NULL);
    ns_weights_free(&w);
    test_run();
    test_regions();
    test_estimate();
    test_budget();
    test_time_estimate();
    unlink(weights_path);
    return test_summary("test_run");
}
