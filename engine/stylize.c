/* stylize.c - applying a fast style: one forward pass of its network.
 *
 * The steps of the architecture (ffnet.h) run over one running tensor on
 * the context's backend: reflection padding and a convolution, instance
 * normalisation as the channel moments (read back as doubles) and an
 * affine step, upsampling, and the residual blocks' save and add.  The
 * network runs at the photo's own size, as PyTorch runs it; its output is
 * up to 3 px larger where a side is not a multiple of 4 (its strided
 * convolutions round up), and its top-left part is the result, aligned
 * with the photo.  Only a photo under NS_FF_MIN_SIDE px is mirrored out
 * first: reflection padding needs more pixels than it pads.
 */
#include "backend.h"
#include "context.h"
#include "ffnet.h"
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_FF_EPS 1e-5
#define NS_FF_MIN_SIDE 8
#define NS_FF_MIN_BAND_BYTES 16e6 /* a few bands of rows of a 24 MP photo's widest layer */

struct ns_stylize_params ns_stylize_params_default(void) {
    return (struct ns_stylize_params){.size = 0, .strength = 1.0f, .brush_size = 1.0f, .preserve_colors = false};
}

/* The forward pass's buffers on the backend. */
struct ff_run {
    struct ns_backend *be;
    const struct ns_style_model *m;
    struct ns_buf *param[NS_FF_MAX_STEPS][2];
    struct ns_buf *x, *y, *pad, *saved, *a, *b; /* running, next, padded, the block's input, norm scales */
};

static void ff_release(struct ff_run *r) {
    for (int i = 0; i < NS_FF_MAX_STEPS; i++)
        ns_release(r->be, &r->param[i][0]), ns_release(r->be, &r->param[i][1]);
    ns_release(r->be, &r->x), ns_release(r->be, &r->y), ns_release(r->be, &r->pad);
    ns_release(r->be, &r->saved), ns_release(r->be, &r->a), ns_release(r->be, &r->b);
}

/* Uploads the weights. */
static enum ns_status ff_upload(struct ff_run *r) {
    const struct ns_ff_arch *a = r->m->arch;
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t count = ns_ff_param_count(&a->steps[i], part);
            if (!count) continue;
            if (!(r->param[i][part] = ns_alloc_f32(r->be, count))) return NS_STATUS_OUT_OF_MEMORY;
            r->be->ops->upload(r->be, r->param[i][part], r->m->param[i][part], count);
        }
    return NS_STATUS_OK;
}

/* The floats of the running buffers for an input of sh (*most each for x
 * and y, *padded, *saved); returns their bytes in all. */
static double ff_sizes(const struct ns_ff_arch *a, const struct ns_ff_shape *sh, size_t *most_out,
                       size_t *padded_out, size_t *saved_out) {
    size_t most = 0, padded = 0, saved = 0;
    for (int i = 0; i < a->n_steps; i++) {
        const struct ns_ff_step *s = &a->steps[i];
        size_t n = (size_t) sh->c[i + 1] * sh->h[i + 1] * sh->w[i + 1];
        size_t in = (size_t) sh->c[i] * sh->h[i] * sh->w[i];
        most = n > most ? n : most;
        most = in > most ? in : most;
        if (s->kind == NS_FF_CONV) {
            size_t p = (size_t) s->cin * (sh->h[i] + s->k / 2 * 2) * (sh->w[i] + s->k / 2 * 2);
            padded = p > padded ? p : padded;
        }
        if (s->kind == NS_FF_SAVE) saved = in > saved ? in : saved;
    }
    if (most_out) *most_out = most, *padded_out = padded, *saved_out = saved;
    return sizeof(float) * (2.0 * most + padded + saved);
}

/* Allocates the running buffers for an input of sh. */
static enum ns_status ff_alloc(struct ff_run *r, const struct ns_ff_shape *sh) {
    const struct ns_ff_arch *a = r->m->arch;
    size_t most, padded, saved;
    int widest = 0;
    ff_sizes(a, sh, &most, &padded, &saved);
    for (int i = 0; i < a->n_steps; i++) {
        if (sh->c[i + 1] > widest) widest = sh->c[i + 1];
    }
    r->x = ns_alloc_f32(r->be, most);
    r->y = ns_alloc_f32(r->be, most);
    r->pad = ns_alloc_f32(r->be, padded ? padded : 1);
    r->saved = ns_alloc_f32(r->be, saved ? saved : 1);
    r->a = ns_alloc_f32(r->be, (size_t) widest);
    r->b = ns_alloc_f32(r->be, (size_t) widest);
    return r->x && r->y && r->pad && r->saved && r->a && r->b ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
}

void ns_ff_norm_coeffs(const struct ns_style_model *m, int i, int c, double count, const double *mom, float *a,
                       float *b) {
    const float *gamma = m->param[i][0], *beta = m->param[i][1];
    for (int ch = 0; ch < c; ch++) {
        double mean = mom[2 * ch] / count, var = mom[2 * ch + 1] / count - mean * mean;
        double inv = 1.0 / sqrt((var > 0 ? var : 0) + NS_FF_EPS);
        a[ch] = (float) (gamma[ch] * inv);
        b[ch] = (float) (beta[ch] - gamma[ch] * inv * mean);
    }
}

/* Instance normalisation of r->x (c x m) with step i's scale and shift. */
static enum ns_status ff_norm(struct ff_run *r, int i, int c, size_t m, bool relu) {
    struct ns_backend *be = r->be;
    double mom[2 * 512];
    float a[512], b[512];
    if (c > 512) return NS_STATUS_INVALID_ARGUMENT;
    be->ops->moments(be, r->x, c, m, 0);
    enum ns_status st = be->ops->read_scalars(be, 0, 2 * c, mom);
    if (st) return st;
    ns_ff_norm_coeffs(r->m, i, c, (double) m, mom, a, b);
    be->ops->upload(be, r->a, a, (size_t) c);
    be->ops->upload(be, r->b, b, (size_t) c);
    be->ops->affine(be, r->x, c, m, r->a, r->b, relu);
    return NS_STATUS_OK;
}

/* Step i, a convolution over r->pad, which holds its padded input; the
 * output in r->x. */
static enum ns_status ff_conv(struct ff_run *r, const struct ns_ff_shape *sh, int i, struct ns_ff_progress *pr) {
    struct ns_backend *be = r->be;
    const struct ns_ff_arch *a = r->m->arch;
    const struct ns_ff_step *s = &a->steps[i];
    int p = s->k / 2;
    be->ops->conv2d(be, r->pad, sh->c[i], sh->h[i] + 2 * p, sh->w[i] + 2 * p, r->param[i][0], r->param[i][1],
                    s->cout, s->k, s->stride, r->y);
    struct ns_buf *t = r->x;
    r->x = r->y, r->y = t;
    /* on a GPU the work is queued: its progress is the queue's */
    if (pr->fn) {
        enum ns_status st = be->ops->sync(be);
        if (st) return st;
        if (!ns_ff_progress_step(pr, a, sh, i)) return NS_STATUS_CANCELLED;
    }
    return NS_STATUS_OK;
}

/* The network over r->x, which holds the input (3 x h x w) on entry and
 * the output on return. */
static enum ns_status ff_forward(struct ff_run *r, const struct ns_ff_shape *sh, struct ns_ff_progress *pr) {
    struct ns_backend *be = r->be;
    const struct ns_ff_arch *a = r->m->arch;
    enum ns_status st = NS_STATUS_OK;
    for (int i = 0; i < a->n_steps && !st; i++) {
        const struct ns_ff_step *s = &a->steps[i], *next = i + 1 < a->n_steps ? &a->steps[i + 1] : NULL;
        int c = sh->c[i], h = sh->h[i], w = sh->w[i];
        struct ns_buf *t;
        switch (s->kind) {
        case NS_FF_CONV:
            be->ops->reflect_pad(be, r->x, c, h, w, s->k / 2, r->pad);
            st = ff_conv(r, sh, i, pr);
            break;
        case NS_FF_NORM:
            st = ff_norm(r, i, c, (size_t) h * w, s->relu);
            break;
        case NS_FF_SAVE:
            be->ops->copy(be, r->saved, r->x, (size_t) c * h * w);
            break;
        case NS_FF_ADD:
            be->ops->axpby(be, 1.0f, r->saved, 1.0f, r->x, (size_t) c * h * w);
            break;
        case NS_FF_UP:
            if (next && next->kind == NS_FF_CONV && be->ops->upsample2_pad) {
                /* straight into the next convolution's padded input: the
                 * upsampled tensor, the network's largest, is never written */
                be->ops->upsample2_pad(be, r->x, c, h, w, next->k / 2, r->pad);
                st = ff_conv(r, sh, ++i, pr);
                break;
            }
            be->ops->upsample2(be, r->x, c, h, w, r->y);
            t = r->x, r->x = r->y, r->y = t;
            break;
        }
    }
    return st ? st : be->ops->sync(be);
}

/* The photo at the network's size (w x h, resampled from content), mirrored
 * out to pw x ph, planar, in the network's units. */
static enum ns_status network_input(const struct ns_image *content, int w, int h, int pw, int ph, float scale,
                                    int threads, float *out) {
    float *rgb = malloc(sizeof(float) * 3 * (size_t) w * h);
    if (!rgb) return NS_STATUS_OUT_OF_MEMORY;
    enum ns_status st = ns_resample(ns_view_image(content), ns_view_planar(rgb, w, h, 3), threads);
    for (int c = 0; c < 3 && !st; c++)
        for (int y = 0; y < ph; y++) {
            int sy = y < h ? y : 2 * (h - 1) - y; /* the edge not repeated */
            sy = sy < 0 ? 0 : sy;
            for (int x = 0; x < pw; x++) {
                int sx = x < w ? x : 2 * (w - 1) - x;
                sx = sx < 0 ? 0 : sx;
                out[((size_t) c * ph + y) * pw + x] = scale * rgb[((size_t) c * h + sy) * w + sx];
            }
        }
    free(rgb);
    return st;
}

/* The network's output (3 x ph x pw, in its units) cut to its top-left w x h, brought
 * to the result's size, clamped, with the strength, the photo's colours if
 * asked and its alpha. */
static enum ns_status write_result(float *y, int w, int h, int pw, int ph, float scale,
                                   const struct ns_image *content, const struct ns_stylize_params *p,
                                   struct ns_image *result) {
    int rw = result->width, rh = result->height;
    size_t n = (size_t) rw * rh;
    float *rgb = malloc(sizeof(float) * 3 * n), *photo = malloc(sizeof(float) * 3 * n);
    enum ns_status st = NS_STATUS_OUT_OF_MEMORY;
    if (!rgb || !photo) goto out;
    struct ns_view cut = ns_view_planar(y, pw, ph, 3);
    cut.w = w, cut.h = h; /* the top-left w x h, with the padded strides */
    struct ns_image im = {rgb, rw, rh, 3, 3 * rw}, ph_im = {photo, rw, rh, 3, 3 * rw};
    if ((st = ns_resample(cut, ns_view_image(&im), p->threads))) goto out;
    for (size_t i = 0; i < 3 * n; i++)
        rgb[i] /= scale;
    ns_clamp01(rgb, 3 * n);
    if ((st = ns_resample(ns_view_image(content), ns_view_image(&ph_im), p->threads))) goto out;
    if (p->preserve_colors && (st = ns_preserve_colors(&ph_im, &im))) goto out;
    float s = p->strength;
    for (size_t i = 0; i < 3 * n; i++)
        rgb[i] = s * rgb[i] + (1.0f - s) * photo[i];
    ns_clamp01(rgb, 3 * n);
    for (int yy = 0; yy < rh; yy++)
        for (int x = 0; x < rw; x++) {
            float *d = result->data + (size_t) yy * result->stride + (size_t) x * result->channels;
            const float *c = content->data + (size_t) yy * content->stride + (size_t) x * content->channels;
            memcpy(d, rgb + 3 * ((size_t) yy * rw + x), 3 * sizeof(float));
            if (result->channels == 4) d[3] = content->channels == 4 ? c[3] : 1.0f;
        }
out:
    free(rgb), free(photo);
    return st;
}

static enum ns_status check_args(struct ns_context *ctx, const struct ns_style_model *m, const struct ns_image *content,
                                 const struct ns_stylize_params *p, struct ns_image *result) {
    if (!m || !content || !content->data || !result || !result->data || !p)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "stylize: a model, a photo and a result are needed");
    if (content->channels < 3 || content->channels > 4 || result->channels < 3 || result->channels > 4 ||
        content->width < 1 || content->height < 1 || content->stride < content->width * content->channels ||
        result->stride < result->width * result->channels)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "stylize: images need 3 or 4 channels");
    if (result->width != content->width || result->height != content->height)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "stylize: the result must have the photo's size");
    if (!(p->strength >= 0 && p->strength <= 1) || p->size < 0 || !(p->brush_size >= 0.25f && p->brush_size <= 8))
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "stylize: strength must be 0..1, size >= 0 and brush size 0.25..8");
    const struct ns_backend_ops *o = ctx->be->ops;
    if (!o->conv2d || !o->reflect_pad || !o->moments || !o->affine || !o->upsample2)
        return ns_set_error(ctx, NS_STATUS_UNAVAILABLE, "the %s backend cannot run fast styles", o->name);
    return NS_STATUS_OK;
}

static enum ns_status stylize_one(struct ns_context *ctx, const struct ns_style_model *m,
                                  const struct ns_image *content, struct ns_stylize_params p,
                                  struct ns_image *result);

enum ns_status ns_stylize(struct ns_context *ctx, const struct ns_style_model *m, const struct ns_image *content,
                          const struct ns_stylize_params *params, struct ns_image *result) {
    if (!ctx || !ctx->be) return NS_STATUS_INVALID_ARGUMENT;
    struct ns_stylize_params p = params ? *params : ns_stylize_params_default();
    enum ns_status st = check_args(ctx, m, content, &p, result);
    if (st) return st;
    if (!p.mix && ns_style_model_styles(m) == 1) return stylize_one(ctx, m, content, p, result);
    if (p.mix && p.n_mix != ns_style_model_styles(m))
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "stylize: %d weights for a model of %d styles", p.n_mix,
                            ns_style_model_styles(m));
    struct ns_style_model *blend;
    if ((st = ns_style_model_mix(m, p.mix, p.n_mix, &blend)))
        return ns_set_error(ctx, st, st == NS_STATUS_OUT_OF_MEMORY ? "not enough memory for the style's weights"
                                                                   : "stylize: the styles' weights must not be "
                                                                     "negative and not all 0");
    st = stylize_one(ctx, blend, content, p, result);
    ns_style_model_free(blend);
    return st;
}

/* ns_stylize for a model of one style. */
static enum ns_status stylize_one(struct ns_context *ctx, const struct ns_style_model *m,
                                  const struct ns_image *content, struct ns_stylize_params p,
                                  struct ns_image *result) {
    enum ns_status st;
    int w, h;
    ns_fit_size(content->width, content->height, p.size, &w, &h);
    if (p.brush_size != 1) { /* larger strokes: the network sees a smaller photo */
        w = (int) lroundf(w / p.brush_size), h = (int) lroundf(h / p.brush_size);
        w = w < 1 ? 1 : w, h = h < 1 ? 1 : h;
    }
    const struct ns_ff_arch *a = m->arch;
    int iw = w > NS_FF_MIN_SIDE ? w : NS_FF_MIN_SIDE, ih = h > NS_FF_MIN_SIDE ? h : NS_FF_MIN_SIDE;
    struct ns_ff_shape sh;
    ns_ff_shape(a, ih, iw, &sh);
    int ow = sh.w[a->n_steps], oh = sh.h[a->n_steps];
    size_t most = (size_t) 3 * (ow > iw ? ow : iw) * (oh > ih ? oh : ih);
    /* the host's images (the input, the output and write_result's two),
     * then the network's buffers in memory, or else in bands */
    double budget = p.max_memory > 0 ? p.max_memory : 0.8 * (double) ctx->be->ops->mem_free(ctx->be);
    double fixed = sizeof(float) * (most + 6.0 * result->width * result->height);
    bool stream = p.band > 0 || ff_sizes(a, &sh, NULL, NULL, NULL) > budget - fixed;
    if (stream && budget - fixed < NS_FF_MIN_BAND_BYTES)
        return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY,
                            "a %d x %d photo needs about %.1f GB for its images alone, more than the %.1f GB "
                            "this run may take",
                            w, h, (fixed + NS_FF_MIN_BAND_BYTES) / 1e9, budget / 1e9);
    struct ff_run r = {.be = ctx->be, .m = m};
    struct ns_ff_progress pr = {p.progress, p.progress_data, 0};
    float *host = malloc(sizeof(float) * most);
    if (!host) return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory for a %d x %d image", iw, ih);
    char why[4400] = "";
    st = ff_upload(&r);
    if (!st) st = network_input(content, w, h, iw, ih, a->in_scale, p.threads, host);
    if (!st && stream) {
        st = ns_ff_stream(ctx->be, m, r.param, host, ih, iw, budget - fixed, p.band, &pr, host, why, sizeof why);
    } else if (!st) {
        st = ff_alloc(&r, &sh);
        if (!st) {
            ctx->be->ops->upload(ctx->be, r.x, host, (size_t) 3 * iw * ih);
            st = ff_forward(&r, &sh, &pr);
        }
        if (!st) {
            ctx->be->ops->download(ctx->be, host, r.x, (size_t) 3 * ow * oh);
            st = ctx->be->ops->sync(ctx->be);
        }
    }
    ff_release(&r);
    if (!st) st = write_result(host, w, h, ow, oh, a->in_scale, content, &p, result);
    free(host);
    if (why[0]) return ns_set_error(ctx, st, "%s", why);
    if (st == NS_STATUS_CANCELLED) return ns_set_error(ctx, st, "the fast style was cancelled");
    if (st == NS_STATUS_OUT_OF_MEMORY)
        return ns_set_error(ctx, st, "not enough memory to restyle %d x %d px with a fast style", w, h);
    if (st) return ns_set_error(ctx, st, "the fast style failed: %s", ns_status_str(st));
    return NS_STATUS_OK;
}
