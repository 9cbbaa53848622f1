/* test_stylize.c - fast styles on the CPU: the new ops against float64
 * references, the model file (written, read back, refused when wrong) and
 * ns_stylize against a float64 forward pass of the same network, at odd
 * sizes, with alpha, strength and threads.  PyTorch's own TransformerNet is
 * compared in tests/run_reference_tests.sh. */
#include "context.h"
#include "ffnet.h"
#include "safetensors.h"
#include "testlib.h"
#include "test_style_model.h"

#include <unistd.h>

static struct ns_backend *be;

/* ---- float64 references ---- */

static void ref_pad(const double *in, int c, int h, int w, int p, double *out) {
    int oh = h + 2 * p, ow = w + 2 * p;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int sy = abs(y - p), sx = abs(x - p);
                if (sy >= h) sy = 2 * (h - 1) - sy;
                if (sx >= w) sx = 2 * (w - 1) - sx;
                out[((size_t) ch * oh + y) * ow + x] = in[((size_t) ch * h + sy) * w + sx];
            }
}

static void ref_conv2d(const double *in, int cin, int h, int w, const float *wt, const float *bias, int cout, int k,
                       int s, double *out) {
    int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
    for (int co = 0; co < cout; co++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double acc = bias ? bias[co] : 0;
                for (int ci = 0; ci < cin; ci++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            acc += (double) wt[(((size_t) co * cin + ci) * k + ky) * k + kx] *
                                   in[((size_t) ci * h + y * s + ky) * w + x * s + kx];
                out[((size_t) co * oh + y) * ow + x] = acc;
            }
}

static void ref_norm(double *x, int c, size_t m, const float *g, const float *b, bool relu) {
    for (int ch = 0; ch < c; ch++) {
        double *v = x + (size_t) ch * m, mean = 0, var = 0;
        for (size_t i = 0; i < m; i++)
            mean += v[i];
        mean /= m;
        for (size_t i = 0; i < m; i++)
            var += (v[i] - mean) * (v[i] - mean);
        var /= m;
        for (size_t i = 0; i < m; i++) {
            double y = g[ch] * (v[i] - mean) / sqrt(var + 1e-5) + b[ch];
            v[i] = relu && y < 0 ? 0 : y;
        }
    }
}

/* The network over x (3 x h x w, the network's units), in place; x holds
 * room for the largest tensor. */
static void ref_forward(const struct ns_style_model *m, double *x, int h, int w) {
    const struct ns_ff_arch *a = m->arch;
    struct ns_ff_shape sh;
    ns_ff_shape(a, h, w, &sh);
    size_t most = 0;
    for (int i = 0; i <= a->n_steps; i++) {
        size_t p = (size_t) sh.c[i] * (sh.h[i] + 8) * (sh.w[i] + 8);
        most = p > most ? p : most;
    }
    double *pad = dalloc(most), *saved = dalloc(most), *y = dalloc(most);
    for (int i = 0; i < a->n_steps; i++) {
        const struct ns_ff_step *s = &a->steps[i];
        int c = sh.c[i], hh = sh.h[i], ww = sh.w[i];
        size_t n = (size_t) c * hh * ww;
        if (s->kind == NS_FF_CONV) {
            int p = s->k / 2;
            ref_pad(x, c, hh, ww, p, pad);
            ref_conv2d(pad, c, hh + 2 * p, ww + 2 * p, m->param[i][0], m->param[i][1], s->cout, s->k, s->stride, x);
        } else if (s->kind == NS_FF_NORM) {
            ref_norm(x, c, (size_t) hh * ww, m->param[i][0], m->param[i][1], s->relu);
        } else if (s->kind == NS_FF_SAVE) {
            memcpy(saved, x, n * sizeof(double));
        } else if (s->kind == NS_FF_ADD) {
            for (size_t j = 0; j < n; j++)
                x[j] += saved[j];
        } else {
            for (int ch = 0; ch < c; ch++)
                for (int yy = 0; yy < 2 * hh; yy++)
                    for (int xx = 0; xx < 2 * ww; xx++)
                        y[((size_t) ch * 2 * hh + yy) * 2 * ww + xx] = x[((size_t) ch * hh + yy / 2) * ww + xx / 2];
            memcpy(x, y, (size_t) c * 4 * hh * ww * sizeof(double));
        }
    }
    free(pad), free(saved), free(y);
}

static double max_rel(const double *ref, const float *got, size_t n) {
    double scale = 0, err = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < n; i++)
        err = fmax(err, fabs(ref[i] - got[i]));
    return err / (scale > 0 ? scale : 1);
}

/* ---- the ops ---- */

static void test_ops(void) {
    int c = 3, h = 7, w = 6;
    float *in = falloc((size_t) c * h * w);
    fill_uniform(in, (size_t) c * h * w, -1, 1);
    double *din = dalloc((size_t) c * h * w);
    for (int i = 0; i < c * h * w; i++)
        din[i] = in[i];

    /* reflection padding, up to the largest p the sides allow */
    for (int p = 1; p <= 4; p++) {
        size_t n = (size_t) c * (h + 2 * p) * (w + 2 * p);
        float *out = falloc(n);
        double *ref = dalloc(n);
        ref_pad(din, c, h, w, p, ref);
        be->ops->reflect_pad(be, Vn(in, 0), c, h, w, p, Vn(out, n));
        CHECK(max_rel(ref, out, n) == 0, "reflect_pad p=%d differs", p);
        free(out), free(ref);
    }

    /* convolutions: 9 x 9, 3 x 3 at stride 2 (odd and even sides), 1 x 1 */
    static const int ks[][2] = {{9, 1}, {3, 2}, {3, 1}, {1, 1}};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        int k = ks[t][0], s = ks[t][1], cout = 5, hh = 13 + (int) t, ww = 11;
        size_t nin = (size_t) c * hh * ww;
        float *x = falloc(nin), *wt = falloc((size_t) cout * c * k * k), *b = falloc((size_t) cout);
        fill_uniform(x, nin, -1, 1), fill_uniform(wt, (size_t) cout * c * k * k, -0.3, 0.3), fill_uniform(b, cout, -1, 1);
        double *dx = dalloc(nin);
        for (size_t i = 0; i < nin; i++)
            dx[i] = x[i];
        int oh = (hh - k) / s + 1, ow = (ww - k) / s + 1;
        size_t n = (size_t) cout * oh * ow;
        double *ref = dalloc(n);
        float *out = falloc(n);
        ref_conv2d(dx, c, hh, ww, wt, b, cout, k, s, ref);
        be->ops->conv2d(be, Vn(x, nin), c, hh, ww, Vn(wt, 0), Vn(b, 0), cout, k, s, Vn(out, n));
        CHECK(max_rel(ref, out, n) < 1e-6, "conv2d %dx%d stride %d: %.3g", k, k, s, max_rel(ref, out, n));
        free(x), free(wt), free(b), free(dx), free(ref), free(out);
    }

    /* moments and affine: instance norm with ReLU */
    size_t m = (size_t) h * w;
    float g[3] = {1.5f, -0.5f, 2}, bb[3] = {0.1f, 0.2f, -0.3f}, sa[3], sb[3];
    double mom[6], *ref = dalloc((size_t) c * m);
    memcpy(ref, din, sizeof(double) * c * m);
    ref_norm(ref, c, m, g, bb, true);
    be->ops->moments(be, Vn(in, 0), c, m, 10);
    be->ops->read_scalars(be, 10, 6, mom);
    for (int ch = 0; ch < c; ch++) {
        double mean = mom[2 * ch] / m, var = mom[2 * ch + 1] / m - mean * mean;
        sa[ch] = (float) (g[ch] / sqrt(var + 1e-5)), sb[ch] = (float) (bb[ch] - sa[ch] * mean);
    }
    float *x = falloc((size_t) c * m);
    memcpy(x, in, sizeof(float) * c * m);
    be->ops->affine(be, Vn(x, 0), c, m, Vn(sa, 3), Vn(sb, 3), true);
    CHECK(max_rel(ref, x, c * m) < 1e-6, "moments + affine: %.3g", max_rel(ref, x, c * m));

    float *up = falloc((size_t) c * 4 * m);
    be->ops->upsample2(be, Vn(in, 0), c, h, w, Vn(up, 0));
    int wrong = 0;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < 2 * h; y++)
            for (int xx = 0; xx < 2 * w; xx++)
                wrong += up[((size_t) ch * 2 * h + y) * 2 * w + xx] != in[((size_t) ch * h + y / 2) * w + xx / 2];
    CHECK(wrong == 0, "upsample2: %d pixels wrong", wrong);
    /* the fused op (the fast network's upsampling layers): the same bytes
     * as upsample2 then reflect_pad, for 3 x 3 and 9 x 9 kernels' pads */
    for (int p = 1; p <= 4 && be->ops->upsample2_pad; p += p) {
        size_t np = (size_t) c * (2 * h + 2 * p) * (2 * w + 2 * p);
        float *two = falloc(np), *one = falloc(np);
        be->ops->reflect_pad(be, Vn(up, 0), c, 2 * h, 2 * w, p, Vn(two, 0));
        be->ops->upsample2_pad(be, Vn(in, 0), c, h, w, p, Vn(one, 0));
        CHECK(!memcmp(one, two, np * sizeof(float)), "upsample2_pad with pad %d differs from upsample2 + reflect_pad",
              p);
        free(two), free(one);
    }
    free(in), free(din), free(ref), free(x), free(up);
}

/* ---- the model ---- */

/* A TransformerNet with random weights scaled so that its output spans
 * 0..255 (the instance norms keep every layer at unit scale). */
static void test_model_file(const char *dir, struct ns_style_model *m) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(ns_style_model_save(path, m, err, sizeof err) == NS_STATUS_OK, "save: %s", err);
    struct ns_style_model *back = NULL;
    CHECK(ns_style_model_load(path, &back, err, sizeof err) == NS_STATUS_OK, "load: %s", err);
    if (!back) return;
    int differ = 0;
    for (int i = 0; i < m->arch->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            int64_t shape[4];
            int rank = ns_ff_param_shape(&m->arch->steps[i], part, shape);
            size_t n = 1;
            for (int d = 0; d < rank; d++)
                n *= (size_t) shape[d];
            if (rank) differ += memcmp(m->param[i][part], back->param[i][part], n * sizeof(float)) != 0;
        }
    CHECK(differ == 0, "%d tensors differ after a round trip", differ);
    CHECK(!strcmp(ns_style_model_info(back, "name"), "Test \"random\" style") &&
              !strcmp(ns_style_model_info(back, "license"), "CC0"),
          "metadata kept");
    ns_style_model_free(back);

    /* refusals: a VGG file, a missing tensor, a wrong shape, an unknown network */
    struct ns_weights vgg;
    random_weights(&vgg, 19, 2);
    snprintf(path, sizeof path, "%s/vgg.safetensors", dir);
    write_safetensors(path, &vgg, NULL);
    ns_weights_free(&vgg);
    CHECK(ns_style_model_load(path, &back, err, sizeof err) == NS_STATUS_BAD_WEIGHTS && !back &&
              strstr(err, "VGG weights"),
          "a VGG file is refused: %s", err);
    struct ns_st_out t[2] = {{"conv1.conv2d.weight", {32, 3, 9, 9}, 4, m->param[0][0]},
                             {"conv1.conv2d.bias", {31}, 1, m->param[0][1]}};
    snprintf(path, sizeof path, "%s/part.safetensors", dir);
    ns_st_save(path, t, 2, "\"architecture\":\"transformer-net\"", err, sizeof err);
    CHECK(ns_style_model_load(path, &back, err, sizeof err) == NS_STATUS_BAD_WEIGHTS &&
              strstr(err, "'conv1.conv2d.bias' has shape [31], the network needs [32]"),
          "a wrong shape is named: %s", err);
    t[1].shape[0] = 32;
    ns_st_save(path, t, 2, "\"architecture\":\"transformer-net\"", err, sizeof err);
    CHECK(ns_style_model_load(path, &back, err, sizeof err) == NS_STATUS_BAD_WEIGHTS &&
              strstr(err, "tensor 'in1.weight' is missing"),
          "the first missing tensor is named: %s", err);
    ns_st_save(path, t, 2, "\"architecture\":\"unet\"", err, sizeof err);
    CHECK(ns_style_model_load(path, &back, err, sizeof err) == NS_STATUS_BAD_WEIGHTS &&
              strstr(err, "architecture 'unet'"),
          "an unknown network is refused: %s", err);
}

/* An image of w x h with `channels`, smooth with some texture. */
static struct ns_image test_photo(int w, int h, int channels) {
    struct ns_image im = {falloc((size_t) w * h * channels), w, h, channels, w * channels};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                im.data[(size_t) y * im.stride + x * channels + c] =
                    c == 3 ? 0.25f + 0.5f * x / w : 0.5f + 0.4f * sinf(0.3f * x + 0.7f * y + 2.0f * c);
    return im;
}

/* ns_stylize at w x h against the float64 forward pass, whose output (up
 * to 3 px larger when a side is not a multiple of 4) is cut to its top-left
 * w x h, as the engine's is. */
static void check_forward(struct ns_context *ctx, struct ns_style_model *m, int w, int h) {
    struct ns_image photo = test_photo(w, h, 3), out = {falloc((size_t) w * h * 3), w, h, 3, 3 * w};
    struct ns_stylize_params p = ns_stylize_params_default();
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "stylize: %s", ns_last_error(ctx));
    struct ns_ff_shape sh;
    ns_ff_shape(m->arch, h, w, &sh);
    size_t most = 0;
    for (int i = 0; i <= m->arch->n_steps; i++)
        most = fmax(most, (double) sh.c[i] * (sh.h[i] + 8) * (sh.w[i] + 8));
    double *x = dalloc(most);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < w * h; i++)
            x[(size_t) c * w * h + i] = 255.0 * photo.data[3 * i + c];
    ref_forward(m, x, h, w);
    int ow = sh.w[m->arch->n_steps], oh = sh.h[m->arch->n_steps];
    double lo = 1e9, hi = -1e9, err = 0;
    for (int c = 0; c < 3; c++)
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++) {
                double v = x[((size_t) c * oh + yy) * ow + xx];
                lo = fmin(lo, v), hi = fmax(hi, v);
                err = fmax(err, fabs(fmin(fmax(v / 255.0, 0), 1) - out.data[3 * (yy * w + xx) + c]));
            }
    CHECK(err < 1e-4, "stylize %d x %d against a float64 forward pass: %.3g of 1 (levels %.3g)", w, h, err,
          err * 255);
    CHECK(hi - lo > 100, "the test network's output spans %.0f..%.0f", lo, hi);
    printf("stylize: %d x %d against float64: max %.2g levels, output %.0f..%.0f\n", w, h, err * 255, lo, hi);
    free(photo.data), free(out.data), free(x);
}

/* In bands through files (forced, or by a memory limit) against in memory:
 * the whole image's statistics, so the same result; and a folder without
 * room is a sentence. */
static void test_stream(struct ns_context *ctx, struct ns_style_model *m) {
    int w = 41, h = 37;
    struct ns_image photo = test_photo(w, h, 3), ref = {falloc((size_t) w * h * 3), w, h, 3, 3 * w};
    struct ns_image out = {falloc((size_t) w * h * 3), w, h, 3, 3 * w};
    struct ns_stylize_params p = ns_stylize_params_default();
    CHECK(ns_stylize(ctx, m, &photo, &p, &ref) == NS_STATUS_OK, "in memory: %s", ns_last_error(ctx));
    for (int t = 0; t < 3; t++) {
        if (t == 2) { /* 320 x 256: a network of 35 MB, in a limit that leaves it 17 */
            free(photo.data), free(ref.data), free(out.data);
            w = 320, h = 256;
            photo = test_photo(w, h, 3);
            ref = (struct ns_image){falloc((size_t) w * h * 3), w, h, 3, 3 * w};
            out = (struct ns_image){falloc((size_t) w * h * 3), w, h, 3, 3 * w};
            p.band = 0, p.max_memory = 0;
            CHECK(ns_stylize(ctx, m, &photo, &p, &ref) == NS_STATUS_OK, "in memory: %s", ns_last_error(ctx));
        }
        p.band = (int[]){1, 5, 0}[t];
        p.max_memory = t == 2 ? sizeof(float) * 9.0 * w * h + 17e6 : 0;
        CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "in bands: %s", ns_last_error(ctx));
        double err = 0;
        for (int i = 0; i < w * h * 3; i++)
            err = fmax(err, fabs(out.data[i] - ref.data[i]));
        CHECK(err < 2e-5, "bands of %d rows (limit %.0f MB) against in memory: %.3g levels", p.band,
              p.max_memory / 1e6, err * 255);
        printf("stream: %d x %d, bands of %d rows, limit %.0f MB: max %.2g levels from in memory\n", w, h, p.band,
               p.max_memory / 1e6, err * 255);
    }
    p.band = 4, p.max_memory = 0;
    setenv("TMPDIR", "/nonexistent-ns-test", 1);
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_IO_ERROR && strstr(ns_last_error(ctx), "TMPDIR"),
          "no room for the layers is said: %s", ns_last_error(ctx));
    unsetenv("TMPDIR");
    free(photo.data), free(ref.data), free(out.data);
}

static void test_stylize(struct ns_context *ctx, struct ns_style_model *m) {
    /* a multiple of 4, and odd sides that PyTorch's network rounds up */
    check_forward(ctx, m, 20, 16);
    check_forward(ctx, m, 23, 17);
    int w = 20, h = 16;
    struct ns_image photo = test_photo(w, h, 3), out = {falloc((size_t) w * h * 3), w, h, 3, 3 * w};
    struct ns_stylize_params p = ns_stylize_params_default();
    /* smaller than reflection padding allows: mirrored out first */
    for (int t = 0; t < 3; t++) {
        int tw = (int[]){1, 3, 9}[t], th = (int[]){1, 7, 2}[t];
        struct ns_image tiny = test_photo(tw, th, 3), to = {falloc((size_t) tw * th * 3), tw, th, 3, 3 * tw};
        CHECK(ns_stylize(ctx, m, &tiny, &p, &to) == NS_STATUS_OK, "%d x %d: %s", tw, th, ns_last_error(ctx));
        free(tiny.data), free(to.data);
    }

    /* odd sizes and alpha: the photo's size back, alpha kept */
    struct ns_image odd = test_photo(23, 17, 4), oo = {falloc(23 * 17 * 4), 23, 17, 4, 23 * 4};
    CHECK(ns_stylize(ctx, m, &odd, &p, &oo) == NS_STATUS_OK, "an odd size: %s", ns_last_error(ctx));
    int alpha = 0, finite = 0;
    for (int i = 0; i < 23 * 17; i++) {
        alpha += oo.data[4 * i + 3] == odd.data[4 * i + 3];
        finite += isfinite(oo.data[4 * i]) && oo.data[4 * i] >= 0 && oo.data[4 * i] <= 1;
    }
    CHECK(alpha == 23 * 17 && finite == 23 * 17, "23 x 17 with alpha: %d alpha kept, %d in range", alpha, finite);

    /* brush size 2: the network at half the size, the result at the photo's */
    p.brush_size = 2;
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "brush size 2: %s", ns_last_error(ctx));
    float *big = falloc((size_t) w * h * 3);
    memcpy(big, out.data, sizeof(float) * w * h * 3);
    p.brush_size = 1;
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "brush size 1");
    double moved = 0;
    for (int i = 0; i < w * h * 3; i++)
        moved += fabs(big[i] - out.data[i]) / (w * h * 3);
    CHECK(moved > 0.01, "brush size 2 changes the strokes (mean %.3g)", moved);
    p.brush_size = 9;
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_INVALID_ARGUMENT, "brush size 9 is refused");
    p.brush_size = 1;
    free(big);

    /* strength 0 is the photo; threads do not change a byte */
    p.strength = 0;
    CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "strength 0 runs");
    int same = 0;
    for (int i = 0; i < w * h * 3; i++)
        same += fabsf(out.data[i] - photo.data[i]) < 1e-6f;
    CHECK(same == w * h * 3, "strength 0 gives the photo (%d of %d)", same, w * h * 3);
    p.strength = 1;
    float *one = falloc((size_t) w * h * 3);
    ns_context_set_threads(ctx, 1, NULL);
    ns_stylize(ctx, m, &photo, &p, &out);
    memcpy(one, out.data, sizeof(float) * w * h * 3);
    ns_context_set_threads(ctx, 2, NULL);
    ns_stylize(ctx, m, &photo, &p, &out);
    CHECK(!memcmp(one, out.data, sizeof(float) * w * h * 3), "1 and 2 threads give the same bytes");

    /* the result must be the photo's size */
    struct ns_image small = {out.data, w - 1, h, 3, 3 * w};
    CHECK(ns_stylize(ctx, m, &photo, &p, &small) == NS_STATUS_INVALID_ARGUMENT, "a result of another size is refused");
    free(photo.data), free(out.data), free(odd.data), free(oo.data), free(one);
}

/* Progress: rising to 1 over the convolutions, in memory and in bands;
 * false stops the run. */
struct seen {
    int calls, stop_at;
    float last;
    bool rising;
};
static bool on_progress(float done, void *data) {
    struct seen *s = data;
    s->rising = s->rising && done >= s->last && done <= 1.0001f;
    s->last = done;
    return ++s->calls != s->stop_at;
}

static void test_progress(struct ns_context *ctx, struct ns_style_model *m) {
    int w = 24, h = 20;
    struct ns_image photo = test_photo(w, h, 3), out = {falloc((size_t) w * h * 3), w, h, 3, 3 * w};
    struct ns_stylize_params p = ns_stylize_params_default();
    p.progress = on_progress;
    for (int band = 0; band <= 6; band += 6) {
        struct seen s = {0, 0, 0, true};
        p.band = band, p.progress_data = &s;
        CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_OK, "with progress: %s", ns_last_error(ctx));
        CHECK(s.calls == 16 && s.rising && fabsf(s.last - 1) < 1e-5f,
              "bands %d: one report per convolution (%d), rising to 1 (%g)", band, s.calls, s.last);
        s = (struct seen){0, 3, 0, true};
        CHECK(ns_stylize(ctx, m, &photo, &p, &out) == NS_STATUS_CANCELLED && s.calls == 3,
              "bands %d: false at the third report stops the run (%d reports)", band, s.calls);
    }
    free(photo.data), free(out.data);
}

/* The painting's thumbnail: a PNG as a data URI, anything else none. */
static void test_thumbnail(struct ns_style_model *m) {
    size_t n = 0;
    unsigned char *png = ns_style_model_thumbnail(m, &n);
    CHECK(!png, "a model without a thumbnail has none");
    /* the 8-byte PNG signature and one more byte */
    ns_style_model_set_info(m, "thumbnail", "data:image/png;base64,iVBORw0KGgoA");
    png = ns_style_model_thumbnail(m, &n);
    CHECK(png && n == 9 && png[1] == 'P' && png[8] == 0, "a PNG data URI decodes (%zu bytes)", n);
    free(png);
    const char *bad[] = {"iVBORw0KGgoA", "data:image/png;base64,", "data:image/png;base64,iVBO Rw0KGgoA",
                         "data:image/png;base64,AAAAAAAAAAAA", "data:image/jpeg;base64,iVBORw0KGgoA"};
    for (int i = 0; i < 5; i++) {
        ns_style_model_set_info(m, "thumbnail", bad[i]);
        png = ns_style_model_thumbnail(m, &n);
        CHECK(!png, "'%s' is no thumbnail", bad[i]);
        free(png);
    }
    ns_style_model_set_info(m, "thumbnail", "");
}

int main(void) {
    char dir[] = "/tmp/ns-test-stylize-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    struct ns_context *ctx = NULL;
    CHECK(ns_context_new_device(NS_BACKEND_CPU, 0, &ctx) == NS_STATUS_OK, "a context without weights");
    be = ctx->be;
    test_ops();
    struct ns_style_model *m = test_style_model();
    test_model_file(dir, m);
    test_stylize(ctx, m);
    test_stream(ctx, m);
    test_progress(ctx, m);
    test_thumbnail(m);
    ns_style_model_free(m);
    ns_context_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", dir);
    return test_summary("test_stylize");
}
