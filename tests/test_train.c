/* test_train.c - training a fast style: the backward ops against their
 * forward ops (adjoints), the network's gradient against finite
 * differences, a short run that learns, and resume equal to an
 * uninterrupted run. */
#include "fftrain.h"
#include "testlib.h"

#include <unistd.h>

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double) a[i] * b[i];
    return s;
}

static struct ns_buf *up(struct ns_backend *be, const float *x, size_t n) {
    struct ns_buf *b = ns_alloc_f32(be, n);
    be->ops->upload(be, b, x, n);
    return b;
}

static float *down(struct ns_backend *be, const struct ns_buf *b, size_t n) {
    float *x = falloc(n);
    be->ops->download(be, x, b, n);
    return x;
}

static bool close_rel(double a, double b, double tol) {
    return fabs(a - b) <= tol * (fabs(a) + fabs(b) + 1e-6);
}

/* <conv(x), y> = <x, bwd_data(y)> + ... and the weights' side likewise. */
static void test_conv_adjoints(struct ns_backend *be, int cin, int cout, int k, int stride, int h, int w) {
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    size_t nx = (size_t) cin * h * w, ny = (size_t) cout * oh * ow, nw = (size_t) cout * cin * k * k;
    float *x = falloc(nx), *y = falloc(ny), *wt = falloc(nw), *bias = falloc(cout);
    fill_uniform(x, nx, -1, 1), fill_uniform(y, ny, -1, 1), fill_uniform(wt, nw, -1, 1);
    fill_uniform(bias, cout, -1, 1);
    struct ns_buf *bx = up(be, x, nx), *by = up(be, y, ny), *bw = up(be, wt, nw), *bb = up(be, bias, cout);
    struct ns_buf *out = ns_alloc_f32(be, ny), *gx = ns_alloc_f32(be, nx);
    struct ns_buf *gw = ns_alloc_f32(be, nw), *gb = ns_alloc_f32(be, cout);
    be->ops->conv2d(be, bx, cin, h, w, bw, bb, cout, k, stride, out);
    be->ops->conv2d_bwd_data(be, by, cout, bw, cin, h, w, k, stride, gx);
    be->ops->fill(be, gw, 0.5f, nw), be->ops->fill(be, gb, 0.25f, cout); /* the op adds */
    be->ops->conv2d_bwd_filter(be, bx, cin, h, w, by, cout, k, stride, gw, gb);
    float *o = down(be, out, ny), *g = down(be, gx, nx), *fw = down(be, gw, nw), *fb = down(be, gb, cout);
    double lhs = dot(o, y, ny), sumy = 0;
    for (int c = 0; c < cout; c++)
        for (size_t i = 0; i < (size_t) oh * ow; i++)
            sumy += (double) bias[c] * y[(size_t) c * oh * ow + i];
    double data = dot(x, g, nx) + sumy;
    double filt = dot(wt, fw, nw);
    for (size_t i = 0; i < nw; i++)
        filt -= 0.5 * wt[i];
    double bsum = 0;
    for (int c = 0; c < cout; c++)
        bsum += (double) bias[c] * (fb[c] - 0.25);
    CHECK(close_rel(lhs, data, 1e-5), "conv %d->%d k%d s%d: <conv x, y> %.8g, <x, bwd_data y> %.8g", cin, cout, k,
          stride, lhs, data);
    CHECK(close_rel(lhs, filt + bsum, 1e-5), "conv %d->%d k%d s%d: <conv x, y> %.8g, <w, bwd_filter> %.8g", cin,
          cout, k, stride, lhs, filt + bsum);
    struct ns_buf *bufs[] = {bx, by, bw, bb, out, gx, gw, gb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        be->ops->release(be, bufs[i]);
    free(x), free(y), free(wt), free(bias), free(o), free(g), free(fw), free(fb);
}

/* Padding and upsampling are linear too; dot_moments and affine2 against
 * their definitions. */
static void test_small_ops(struct ns_backend *be) {
    int c = 3, h = 7, w = 9, p = 4;
    size_t nx = (size_t) c * h * w, np = (size_t) c * (h + 2 * p) * (w + 2 * p), nu = 4 * nx;
    float *x = falloc(nx), *y = falloc(np), *yu = falloc(nu);
    fill_uniform(x, nx, -1, 1), fill_uniform(y, np, -1, 1), fill_uniform(yu, nu, -1, 1);
    struct ns_buf *bx = up(be, x, nx), *by = up(be, y, np), *byu = up(be, yu, nu);
    struct ns_buf *o = ns_alloc_f32(be, np), *ou = ns_alloc_f32(be, nu), *g = ns_alloc_f32(be, nx);
    be->ops->reflect_pad(be, bx, c, h, w, p, o);
    be->ops->reflect_pad_bwd(be, by, c, h, w, p, g);
    float *fo = down(be, o, np), *fg = down(be, g, nx);
    CHECK(close_rel(dot(fo, y, np), dot(x, fg, nx), 1e-5), "reflect_pad_bwd is not reflect_pad's adjoint");
    free(fo), free(fg);
    be->ops->upsample2(be, bx, c, h, w, ou);
    be->ops->upsample2_bwd(be, byu, c, h, w, g);
    fo = down(be, ou, nu), fg = down(be, g, nx);
    CHECK(close_rel(dot(fo, yu, nu), dot(x, fg, nx), 1e-5), "upsample2_bwd is not upsample2's adjoint");
    free(fo), free(fg);

    size_t m = (size_t) h * w;
    float abc[12];
    fill_uniform(abc, 12, -1, 1);
    struct ns_buf *babc = up(be, abc, 12), *gg = up(be, yu, nx);
    be->ops->dot_moments(be, gg, bx, c, m, 10);
    double mom[6];
    be->ops->read_scalars(be, 10, 6, mom);
    be->ops->affine2(be, gg, bx, c, m, babc, g);
    fg = down(be, g, nx);
    for (int ch = 0; ch < c; ch++) {
        double s = 0, sx = 0, err = 0;
        for (size_t i = 0; i < m; i++) {
            size_t j = ch * m + i;
            s += yu[j], sx += (double) yu[j] * x[j];
            err = fmax(err, fabs(fg[j] - (abc[ch] * yu[j] + abc[3 + ch] * (x[j] - abc[9 + ch]) + abc[6 + ch])));
        }
        CHECK(close_rel(s, mom[2 * ch], 1e-6) && close_rel(sx, mom[2 * ch + 1], 1e-6), "dot_moments channel %d",
              ch);
        CHECK(err < 1e-6, "affine2 channel %d: off by %g", ch, err);
    }
    free(fg);
    struct ns_buf *bufs[] = {bx, by, byu, o, ou, g, babc, gg};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        be->ops->release(be, bufs[i]);
    free(x), free(y), free(yu);
}

/* A small network with every kind of step: strided and 5 x 5
 * convolutions, norms with and without ReLU, a residual block, upsampling. */
static const struct ns_ff_arch tiny = {
    "tiny",
    1.0f,
    10,
    {{NS_FF_CONV, "c1", 3, 4, 3, 1, false},
     {NS_FF_NORM, "n1", 4, 4, 0, 0, true},
     {NS_FF_CONV, "c2", 4, 6, 3, 2, false},
     {NS_FF_NORM, "n2", 6, 6, 0, 0, true},
     {NS_FF_SAVE, "r", 0, 0, 0, 0, false},
     {NS_FF_CONV, "c3", 6, 6, 3, 1, false},
     {NS_FF_NORM, "n3", 6, 6, 0, 0, false},
     {NS_FF_ADD, "r", 0, 0, 0, 0, false},
     {NS_FF_UP, "u", 0, 0, 0, 0, false},
     {NS_FF_CONV, "c4", 6, 3, 5, 1, false}},
};

/* <output, r> in double for the tape's weights and input now. */
static double tape_loss(struct ns_ff_tape *t, const float *r, size_t n) {
    ns_ff_tape_forward(t);
    float *o = down(t->be, t->act[t->m->arch->n_steps], n);
    double l = dot(o, r, n);
    free(o);
    return l;
}

/* The gradient of <network(x), r> against central differences, for a
 * few entries of every tensor and of the input: within 5e-2 relative
 * (float32 differences; 0.017 seen, a wrong gradient is off by 0.3 and
 * more). */
static void test_network_fd(struct ns_backend *be) {
    int h = 12, w = 12;
    size_t n = (size_t) 3 * h * w;
    struct ns_style_model *m;
    CHECK(ns_style_model_new(&tiny, 7, &m) == NS_STATUS_OK, "a new model");
    /* norms away from 1 and 0; shifts that keep most of a ReLU's inputs
     * from its kink, where differences across it would mislead */
    for (int i = 0; i < tiny.n_steps; i++)
        if (tiny.steps[i].kind == NS_FF_NORM)
            fill_uniform(m->param[i][0], tiny.steps[i].cout, 0.3, 0.6),
                fill_uniform(m->param[i][1], tiny.steps[i].cout, 0.6, 1.0);
    struct ns_ff_tape t;
    CHECK(ns_ff_tape_init(&t, be, m, h, w) == NS_STATUS_OK, "tape");
    float *x = falloc(n), *r = falloc(n);
    fill_uniform(x, n, 0, 1), fill_uniform(r, n, -1, 1);
    be->ops->upload(be, t.act[0], x, n);
    struct ns_buf *gout = up(be, r, n), *gin = ns_alloc_f32(be, n);
    ns_ff_tape_zero(&t);
    ns_ff_tape_forward(&t);
    CHECK(ns_ff_tape_backward(&t, gout, gin) == NS_STATUS_OK, "backward");
    ns_ff_tape_flush(&t);
    double worst = 0;
    const double eps = 1e-3;
    for (int i = 0; i < tiny.n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t cnt = ns_ff_param_count(&tiny.steps[i], part);
            if (!cnt) continue;
            float *an = down(be, t.grad[i][part], cnt), *p = m->param[i][part];
            for (int s = 0; s < 3; s++) {
                size_t j = (size_t) (rnd_uniform() * cnt);
                float keep = p[j];
                double l[2];
                for (int side = 0; side < 2; side++) {
                    p[j] = keep + (float) (side ? -eps : eps);
                    be->ops->upload(be, t.param[i][part], p, cnt);
                    be->ops->upload(be, t.act[0], x, n);
                    l[side] = tape_loss(&t, r, n);
                }
                p[j] = keep;
                be->ops->upload(be, t.param[i][part], p, cnt);
                double fd = (l[0] - l[1]) / (2 * eps), e = fabs(fd - an[j]) / (fabs(fd) + fabs(an[j]) + 0.1);
                worst = fmax(worst, e);
                CHECK(e < 5e-2, "%s.%s[%zu]: finite difference %.6g, backward %.6g", tiny.steps[i].name,
                      part ? "bias" : "weight", j, fd, an[j]);
            }
            free(an);
        }
    float *gx = down(be, gin, n);
    for (int s = 0; s < 6; s++) {
        size_t j = (size_t) (rnd_uniform() * n);
        float keep = x[j];
        double l[2];
        for (int side = 0; side < 2; side++) {
            x[j] = keep + (float) (side ? -eps : eps);
            be->ops->upload(be, t.act[0], x, n);
            l[side] = tape_loss(&t, r, n);
        }
        x[j] = keep;
        double fd = (l[0] - l[1]) / (2 * eps), e = fabs(fd - gx[j]) / (fabs(fd) + fabs(gx[j]) + 0.1);
        worst = fmax(worst, e);
        CHECK(e < 5e-2, "input[%zu]: finite difference %.6g, backward %.6g", j, fd, gx[j]);
    }
    printf("network gradient against finite differences: worst relative error %.2g\n", worst);
    free(gx), free(x), free(r);
    be->ops->release(be, gout), be->ops->release(be, gin);
    ns_ff_tape_release(&t);
    ns_style_model_free(m);
}

/* Synthetic photos: smooth gradients with a few discs; a painting of
 * diagonal stripes. */
static float *photo(int s, int seed) {
    float *im = falloc((size_t) 3 * s * s);
    double a = 0.3 + 0.1 * seed, cx = s * (0.3 + 0.05 * seed), cy = s * (0.6 - 0.04 * seed);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            bool disc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < s * s / 16.0;
            for (int c = 0; c < 3; c++)
                im[3 * ((size_t) y * s + x) + c] =
                    (float) (disc ? 0.8 - 0.2 * c : a + 0.4 * x / s * (c == seed % 3) + 0.2 * y / s);
        }
    return im;
}

static float *stripes(int s) {
    float *im = falloc((size_t) 3 * s * s);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            int band = ((x + y) / 3) % 2;
            im[3 * ((size_t) y * s + x) + 0] = band ? 0.9f : 0.1f;
            im[3 * ((size_t) y * s + x) + 1] = band ? 0.7f : 0.2f;
            im[3 * ((size_t) y * s + x) + 2] = band ? 0.1f : 0.6f;
        }
    return im;
}

static char weights_path[256];

static struct ns_trainer *trainer(struct ns_context *ctx, const struct ns_train_params *p, const char *resume,
                                  float *paint) {
    struct ns_image painting = {paint, 48, 48, 3, 3 * 48};
    struct ns_trainer *t = NULL;
    enum ns_status st = ns_trainer_new(ctx, &painting, p, resume, &t);
    CHECK(st == NS_STATUS_OK, "trainer: %s", ns_last_error(ctx));
    return t;
}

/* A short run lowers a held-out photo's style term; resuming a checkpoint
 * gives the same network as not stopping. */
static void test_training(void) {
    struct ns_context *ctx = NULL;
    CHECK(ns_context_new(weights_path, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    struct ns_train_params p = ns_train_params_default();
    p.size = 32, p.batch = 2, p.learning_rate = 1e-2f, p.style_scale = 1.5f, p.threads = 2;
    float *paint = stripes(48);
    float *ph[4];
    struct ns_image crops[4];
    for (int k = 0; k < 4; k++)
        ph[k] = photo(32, k), crops[k] = (struct ns_image){ph[k], 32, 32, 3, 96};
    struct ns_trainer *t = trainer(ctx, &p, NULL, paint);
    struct ns_train_terms before, after, step;
    ns_trainer_eval(t, &crops[3], 1, false, &before);
    for (int i = 0; i < 40; i++)
        CHECK(ns_trainer_step(t, &crops[i % 2 ? 0 : 1], 2, &step) == NS_STATUS_OK, "step %d: %s", i,
              ns_last_error(ctx));
    ns_trainer_eval(t, &crops[3], 1, false, &after);
    printf("held-out style term %.4g -> %.4g after 40 steps (%.1fx)\n", before.style, after.style,
           before.style / after.style);
    CHECK(after.style < 0.5 * before.style, "40 steps: held-out style term %.4g -> %.4g", before.style,
          after.style);
    ns_trainer_free(t);

    /* 3 steps straight, or 2, a checkpoint, and 1 more */
    char ckpt[300];
    snprintf(ckpt, sizeof ckpt, "/tmp/ns-test-train-%d.safetensors", (int) getpid());
    struct ns_trainer *a = trainer(ctx, &p, NULL, paint), *b = trainer(ctx, &p, NULL, paint);
    for (int i = 0; i < 3; i++)
        ns_trainer_step(a, &crops[i % 3], 2, NULL);
    for (int i = 0; i < 2; i++)
        ns_trainer_step(b, &crops[i % 3], 2, NULL);
    CHECK(ns_trainer_save(b, ckpt, true) == NS_STATUS_OK, "checkpoint: %s", ns_last_error(ctx));
    ns_trainer_free(b);
    b = trainer(ctx, &p, ckpt, paint);
    CHECK(b && ns_trainer_steps(b) == 2, "the checkpoint's step");
    if (b) ns_trainer_step(b, &crops[2], 2, NULL);
    struct ns_style_model *ma = NULL, *mb = NULL;
    ns_trainer_model(a, &ma);
    if (b) ns_trainer_model(b, &mb);
    bool same = ma && mb;
    for (int i = 0; same && i < ma->arch->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_param_count(&ma->arch->steps[i], part);
            same = same && (!n || !memcmp(ma->param[i][part], mb->param[i][part], n * sizeof(float)));
        }
    CHECK(same, "resumed after 2 of 3 steps: not the uninterrupted run's network");
    /* the checkpoint is a model too; other settings refuse it */
    struct ns_style_model *loaded = NULL;
    char err[600];
    CHECK(ns_style_model_load(ckpt, &loaded, err, sizeof err) == NS_STATUS_OK, "a checkpoint loads as a model: %s",
          err);
    ns_style_model_free(loaded);
    struct ns_train_params q = p;
    q.style_weight *= 2;
    struct ns_image painting = {paint, 48, 48, 3, 3 * 48};
    struct ns_trainer *c = NULL;
    CHECK(ns_trainer_new(ctx, &painting, &q, ckpt, &c) == NS_STATUS_INVALID_ARGUMENT &&
              strstr(ns_last_error(ctx), "other settings"),
          "a checkpoint resumed with another style weight: %s", ns_last_error(ctx));
    ns_style_model_free(ma), ns_style_model_free(mb);
    ns_trainer_free(a), ns_trainer_free(b), ns_trainer_free(c);
    unlink(ckpt);

    /* the half-width network: a quarter of the weights and of the network's
     * work; it learns, and its model file reads back as that architecture */
    struct ns_train_params hp = p;
    hp.network = "transformer-net-half";
    struct ns_trainer *h = trainer(ctx, &hp, NULL, paint);
    struct ns_style_model *hm = NULL, *fm = NULL;
    if (h) {
        ns_trainer_eval(h, &crops[3], 1, false, &before);
        for (int i = 0; i < 40; i++)
            ns_trainer_step(h, &crops[i % 2 ? 0 : 1], 2, NULL);
        ns_trainer_eval(h, &crops[3], 1, false, &after);
        CHECK(after.style < 0.5 * before.style, "half width, 40 steps: held-out style term %.4g -> %.4g",
              before.style, after.style);
        CHECK(ns_trainer_save(h, ckpt, false) == NS_STATUS_OK, "the half model saves");
        CHECK(ns_style_model_load(ckpt, &hm, err, sizeof err) == NS_STATUS_OK &&
                  !strcmp(hm->arch->name, "transformer-net-half"), "it loads as transformer-net-half: %s", err);
        unlink(ckpt);
    }
    ns_style_model_new(ns_ff_arch_find("transformer-net"), 0, &fm);
    size_t nh = 0, nf = 0;
    for (int i = 0; hm && fm && i < fm->arch->n_steps; i++)
        for (int part = 0; part < 2; part++)
            nh += ns_ff_param_count(&hm->arch->steps[i], part), nf += ns_ff_param_count(&fm->arch->steps[i], part);
    CHECK(hm && nh * 4 > nf * 0.9 && nh * 4 < nf * 1.1, "a quarter of the weights: %zu of %zu", nh, nf);
    ns_style_model_free(hm), ns_style_model_free(fm), ns_trainer_free(h);
    for (int k = 0; k < 4; k++)
        free(ph[k]);
    free(paint);
    ns_context_free(ctx);
}

/* Every tensor of two models equal, bytes for bytes. */
static bool same_model(const struct ns_style_model *a, const struct ns_style_model *b) {
    bool same = a && b && a->arch == b->arch && ns_style_model_styles(a) == ns_style_model_styles(b);
    for (int i = 0; same && i < a->arch->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(a, i, part);
            same = same && (!n || !memcmp(a->param[i][part], b->param[i][part], n * sizeof(float)));
        }
    return same;
}

/* Norm step i's row k of part (weight 0, bias 1). */
static const float *norm_row(const struct ns_style_model *m, int i, int part, int k) {
    return m->param[i][part] + (size_t) k * m->arch->steps[i].cout;
}

/* Two paintings in one network (conditional instance norm): its first step
 * is the one-painting trainer's, the other painting's norms untouched; a
 * step's gradient reaches only its painting's norms; both styles learn;
 * the file keeps both; the blends mix the norms; resume keeps the order. */
static void test_styles(void) {
    struct ns_context *ctx = NULL;
    CHECK(ns_context_new(weights_path, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    struct ns_train_params p = ns_train_params_default();
    p.size = 32, p.batch = 2, p.learning_rate = 1e-2f, p.style_scale = 1.5f, p.threads = 2;
    float *paint[2] = {stripes(48), photo(48, 9)}, *ph[4];
    struct ns_image paintings[2] = {{paint[0], 48, 48, 3, 3 * 48}, {paint[1], 48, 48, 3, 3 * 48}}, crops[4];
    for (int k = 0; k < 4; k++)
        ph[k] = photo(32, k), crops[k] = (struct ns_image){ph[k], 32, 32, 3, 96};
    struct ns_trainer *two = NULL, *one = trainer(ctx, &p, NULL, paint[0]);
    CHECK(ns_trainer_new_styles(ctx, paintings, 2, &p, NULL, &two) == NS_STATUS_OK, "two paintings: %s",
          ns_last_error(ctx));
    if (!two || !one) return;
    CHECK(ns_trainer_styles(two) == 2, "two styles");
    ns_trainer_step(two, crops, 2, NULL), ns_trainer_step(one, crops, 2, NULL);
    struct ns_style_model *mt = NULL, *mo = NULL, *row = NULL, *g = NULL;
    ns_trainer_model(two, &mt), ns_trainer_model(one, &mo);
    ns_style_model_mix(mt, (const float[]){1, 0}, 2, &row);
    CHECK(ns_style_model_styles(mt) == 2 && same_model(row, mo),
          "the first step (the first painting): the one-painting trainer's network");
    bool untouched = true;
    for (int i = 0; i < mt->arch->n_steps; i++)
        for (int j = 0; mt->arch->steps[i].kind == NS_FF_NORM && j < mt->arch->steps[i].cout; j++)
            untouched = untouched && norm_row(mt, i, 0, 1)[j] == 1.0f && norm_row(mt, i, 1, 1)[j] == 0.0f;
    CHECK(untouched, "the second painting's norms are as they started");
    ns_trainer_step(two, crops + 2, 2, NULL); /* the second painting's */
    ns_trainer_gradients(two, &g);
    double g0 = 0, g1 = 0;
    for (int i = 0; g && i < g->arch->n_steps; i++)
        for (int j = 0; g->arch->steps[i].kind == NS_FF_NORM && j < g->arch->steps[i].cout; j++)
            for (int part = 0; part < 2; part++)
                g0 += fabs(norm_row(g, i, part, 0)[j]), g1 += fabs(norm_row(g, i, part, 1)[j]);
    CHECK(g && g0 == 0 && g1 > 0, "the second step's norm gradients: %g on the first painting's, %g on its own", g0,
          g1);
    ns_style_model_free(g), ns_style_model_free(mt), ns_style_model_free(mo), ns_style_model_free(row);

    /* both learn: each painting's style term on a held-out crop halves */
    struct ns_train_terms before[2], after[2];
    for (int k = 0; k < 2; k++)
        ns_trainer_use_style(two, k), ns_trainer_eval(two, &crops[3], 1, false, &before[k]);
    for (int i = 0; i < 78; i++)
        ns_trainer_step(two, &crops[i / 2 % 2 ? 0 : 1], 2, NULL);
    for (int k = 0; k < 2; k++) {
        ns_trainer_use_style(two, k), ns_trainer_eval(two, &crops[3], 1, false, &after[k]);
        printf("two styles, painting %d: held-out style term %.4g -> %.4g after 40 of 80 steps\n", k + 1,
               before[k].style, after[k].style);
        CHECK(after[k].style < 0.5 * before[k].style, "painting %d: held-out style term %.4g -> %.4g", k + 1,
              before[k].style, after[k].style);
    }
    CHECK(ns_trainer_use_style(two, 2) == NS_STATUS_INVALID_ARGUMENT, "a third style is refused");

    /* the file keeps both; blends mix the norms; stylize's mix is that blend */
    char path[300], err[600];
    snprintf(path, sizeof path, "/tmp/ns-test-styles-%d.safetensors", (int) getpid());
    ns_trainer_set_info(two, "style_names", "Stripes\nPhoto");
    CHECK(ns_trainer_save(two, path, false) == NS_STATUS_OK, "two styles save: %s", ns_last_error(ctx));
    struct ns_style_model *m = NULL, *inmem = NULL, *b13 = NULL;
    CHECK(ns_style_model_load(path, &m, err, sizeof err) == NS_STATUS_OK, "two styles load: %s", err);
    ns_trainer_model(two, &inmem);
    CHECK(m && same_model(m, inmem), "the file holds the trainer's two styles");
    char *n2 = m ? ns_style_model_style_name(m, 1) : NULL;
    CHECK(n2 && !strcmp(n2, "Photo") && !ns_style_model_style_name(m, 2), "the second style's name");
    free(n2);
    ns_style_model_mix(m, (const float[]){1, 3}, 2, &b13);
    bool mixed = b13 && ns_style_model_styles(b13) == 1;
    for (int i = 0; mixed && i < m->arch->n_steps; i++)
        for (int j = 0; m->arch->steps[i].kind == NS_FF_NORM && j < m->arch->steps[i].cout; j++)
            mixed = mixed && fabs(b13->param[i][0][j] - (0.25 * norm_row(m, i, 0, 0)[j] +
                                                         0.75 * norm_row(m, i, 0, 1)[j])) < 1e-6;
    CHECK(mixed, "1,3: a quarter of the first style's norms and three quarters of the second's");
    float *pic = photo(40, 5), *o1 = falloc(3 * 40 * 40), *o2 = falloc(3 * 40 * 40);
    struct ns_image in = {pic, 40, 40, 3, 120}, r1 = {o1, 40, 40, 3, 120}, r2 = {o2, 40, 40, 3, 120};
    struct ns_stylize_params sp = ns_stylize_params_default();
    sp.mix = (const float[]){1, 3}, sp.n_mix = 2;
    CHECK(ns_stylize(ctx, m, &in, &sp, &r1) == NS_STATUS_OK, "stylize with a mix: %s", ns_last_error(ctx));
    sp.mix = NULL;
    ns_stylize(ctx, b13, &in, &sp, &r2);
    CHECK(!memcmp(o1, o2, sizeof(float) * 3 * 40 * 40), "stylize's mix 1,3 is the blended model's result");
    sp.mix = (const float[]){1}, sp.n_mix = 1;
    CHECK(ns_stylize(ctx, m, &in, &sp, &r1) == NS_STATUS_INVALID_ARGUMENT && strstr(ns_last_error(ctx), "2 styles"),
          "one weight for two styles is refused: %s", ns_last_error(ctx));
    float w[NS_MAX_STYLES];
    CHECK(ns_style_mix_parse(m, "1,3", w, err, sizeof err) == NS_STATUS_OK && w[0] == 1 && w[1] == 3, "1,3 parses");
    CHECK(ns_style_mix_parse(m, "1", w, err, sizeof err) && strstr(err, "holds 2 styles"), "'1': %s", err);
    CHECK(ns_style_mix_parse(m, "0,0", w, err, sizeof err) && strstr(err, "above 0"), "'0,0': %s", err);
    CHECK(ns_style_mix_parse(m, "1,x", w, err, sizeof err) && strstr(err, "numbers"), "'1,x': %s", err);
    CHECK(ns_style_mix_parse(m, "1,-1", w, err, sizeof err) && strstr(err, "numbers"), "'1,-1': %s", err);
    free(pic), free(o1), free(o2);
    ns_style_model_free(m), ns_style_model_free(inmem), ns_style_model_free(b13);

    /* resume: 3 steps straight against 2, a checkpoint and 1 (the second
     * painting's turn again); one painting given to it is refused */
    struct ns_trainer *a = NULL, *b = NULL, *c = NULL;
    ns_trainer_new_styles(ctx, paintings, 2, &p, NULL, &a), ns_trainer_new_styles(ctx, paintings, 2, &p, NULL, &b);
    for (int i = 0; i < 3; i++)
        ns_trainer_step(a, &crops[i % 3], 2, NULL);
    for (int i = 0; i < 2; i++)
        ns_trainer_step(b, &crops[i % 3], 2, NULL);
    CHECK(ns_trainer_save(b, path, true) == NS_STATUS_OK, "checkpoint: %s", ns_last_error(ctx));
    ns_trainer_free(b), b = NULL;
    CHECK(ns_trainer_new_styles(ctx, paintings, 2, &p, path, &b) == NS_STATUS_OK, "resume: %s", ns_last_error(ctx));
    if (b) ns_trainer_step(b, &crops[2], 2, NULL);
    struct ns_style_model *ma = NULL, *mb = NULL;
    ns_trainer_model(a, &ma);
    if (b) ns_trainer_model(b, &mb);
    CHECK(same_model(ma, mb), "two styles resumed after 2 of 3 steps: the uninterrupted run's network");
    CHECK(ns_trainer_new(ctx, &paintings[0], &p, path, &c) == NS_STATUS_INVALID_ARGUMENT,
          "a two-painting checkpoint resumed with one painting is refused");
    ns_style_model_free(ma), ns_style_model_free(mb);
    ns_trainer_free(a), ns_trainer_free(b), ns_trainer_free(c), ns_trainer_free(one), ns_trainer_free(two);
    unlink(path);
    for (int k = 0; k < 4; k++)
        free(ph[k]);
    free(paint[0]), free(paint[1]);
    ns_context_free(ctx);
}

int main(void) {
    struct ns_backend *be;
    if (ns_backend_cpu_new(2, &be)) return 1;
    test_conv_adjoints(be, 3, 4, 3, 1, 9, 9);
    test_conv_adjoints(be, 4, 5, 3, 2, 11, 10);
    test_conv_adjoints(be, 3, 2, 9, 1, 14, 13);
    test_conv_adjoints(be, 32, 3, 9, 1, 40, 300); /* bands of single rows, split */
    test_small_ops(be);
    test_network_fd(be);
    be->ops->free(be);

    snprintf(weights_path, sizeof weights_path, "/tmp/ns-test-train-%d-vgg.safetensors", (int) getpid());
    struct ns_weights w;
    random_weights(&w, 19, 5);
    write_safetensors(weights_path, &w, NULL);
    ns_weights_free(&w);
    test_training();
    test_styles();
    unlink(weights_path);
    return test_summary("test_train");
}
