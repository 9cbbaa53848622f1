/* fftrain.c - the fast network's forward pass on a tape, and its backward
 * pass to every weight (and to the input).
 *
 * The tape keeps each step's input tensor and each convolution's padded
 * input: about 50 tensors, 0.2 GB for a 256 px crop.  Instance norm's
 * backward needs its input and the ReLU's output, the per-channel means
 * and inverse deviations (kept on the host), and two per-channel sums of
 * the incoming gradient (dot_moments); its weights' gradients are summed
 * on the host in doubles.  A residual block's SAVE takes the ADD's
 * gradient as well as its own path's.
 */
#include "fftrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_FF_EPS 1e-5
#define NS_FF_SLOT 0 /* dot_moments' and moments' slots: 2 per channel */

void ns_ff_tape_release(struct ns_ff_tape *t) {
    struct ns_backend *be = t->be;
    if (!be) return;
    for (int i = 0; i < NS_FF_MAX_STEPS; i++) {
        for (int part = 0; part < 2; part++) {
            ns_release(be, &t->param[i][part]), ns_release(be, &t->grad[i][part]);
            free(t->ngrad[i][part]);
            t->ngrad[i][part] = NULL;
        }
        ns_release(be, &t->pad[i]);
        free(t->mean[i]), free(t->inv[i]);
        t->mean[i] = t->inv[i] = NULL;
    }
    for (int i = 0; i <= NS_FF_MAX_STEPS; i++)
        if (t->owned[i]) ns_release(be, &t->act[i]);
    ns_release(be, &t->g), ns_release(be, &t->g2), ns_release(be, &t->gpad);
    ns_release(be, &t->gsaved), ns_release(be, &t->abc);
    memset(t, 0, sizeof *t);
}

/* The weights and their gradients. */
static enum ns_status tape_params(struct ns_ff_tape *t) {
    const struct ns_ff_arch *a = t->m->arch;
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            if (!n) continue;
            t->param[i][part] = ns_alloc_f32(t->be, n);
            t->grad[i][part] = ns_alloc_f32(t->be, n);
            if (!t->param[i][part] || !t->grad[i][part]) return NS_STATUS_OUT_OF_MEMORY;
            t->be->ops->upload(t->be, t->param[i][part], t->m->param[i][part], n);
            if (a->steps[i].kind == NS_FF_NORM && !(t->ngrad[i][part] = calloc(n, sizeof(double))))
                return NS_STATUS_OUT_OF_MEMORY;
        }
    return NS_STATUS_OK;
}

enum ns_status ns_ff_tape_init(struct ns_ff_tape *t, struct ns_backend *be, struct ns_style_model *m, int h, int w) {
    const struct ns_backend_ops *o = be->ops;
    memset(t, 0, sizeof *t);
    if (!o->conv2d || !o->conv2d_bwd_data || !o->conv2d_bwd_filter || !o->reflect_pad_bwd || !o->upsample2_bwd ||
        !o->dot_moments || !o->affine2)
        return NS_STATUS_UNAVAILABLE;
    t->be = be, t->m = m, t->h = h, t->w = w;
    const struct ns_ff_arch *a = m->arch;
    ns_ff_shape(a, h, w, &t->sh);
    enum ns_status st = tape_params(t);
    size_t most = 0, padded = 1, widest = 1;
    for (int i = 0; i <= a->n_steps && !st; i++) {
        size_t n = (size_t) t->sh.c[i] * t->sh.h[i] * t->sh.w[i];
        most = n > most ? n : most;
        widest = (size_t) t->sh.c[i] > widest ? (size_t) t->sh.c[i] : widest;
        const struct ns_ff_step *s = i < a->n_steps ? &a->steps[i] : NULL;
        /* a SAVE's output is its input; every other step writes anew */
        t->owned[i] = i == 0 || a->steps[i - 1].kind != NS_FF_SAVE;
        if (t->owned[i] && !(t->act[i] = ns_alloc_f32(be, n))) st = NS_STATUS_OUT_OF_MEMORY;
        if (!t->owned[i]) t->act[i] = t->act[i - 1];
        if (s && s->kind == NS_FF_CONV) {
            int p = s->k / 2;
            size_t pn = (size_t) s->cin * (t->sh.h[i] + 2 * p) * (t->sh.w[i] + 2 * p);
            padded = pn > padded ? pn : padded;
            if (!(t->pad[i] = ns_alloc_f32(be, pn))) st = NS_STATUS_OUT_OF_MEMORY;
        }
        if (s && s->kind == NS_FF_NORM &&
            (!(t->mean[i] = malloc(sizeof(double) * s->cout)) || !(t->inv[i] = malloc(sizeof(double) * s->cout))))
            st = NS_STATUS_OUT_OF_MEMORY;
    }
    if (!st) {
        t->g = ns_alloc_f32(be, most), t->g2 = ns_alloc_f32(be, most), t->gsaved = ns_alloc_f32(be, most);
        t->gpad = ns_alloc_f32(be, padded), t->abc = ns_alloc_f32(be, 4 * widest);
        if (!t->g || !t->g2 || !t->gsaved || !t->gpad || !t->abc) st = NS_STATUS_OUT_OF_MEMORY;
    }
    if (st) ns_ff_tape_release(t);
    return st;
}

void ns_ff_tape_zero(struct ns_ff_tape *t) {
    const struct ns_ff_arch *a = t->m->arch;
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            if (n) t->be->ops->fill(t->be, t->grad[i][part], 0.0f, n);
            if (t->ngrad[i][part]) memset(t->ngrad[i][part], 0, sizeof(double) * n);
        }
}

/* Step i's instance norm from act[i] into act[i + 1]: gamma (x - mean)
 * inv + beta, centred first as PyTorch computes it (the folded a x + b of
 * inference loses digits where a channel's mean is large, and here every
 * ReLU input that lands on the other side of 0 moves the gradients). */
static enum ns_status norm_forward(struct ns_ff_tape *t, int i, int c, size_t m, bool relu) {
    struct ns_backend *be = t->be;
    double mom[2 * 512];
    float abcd[4 * 512];
    if (c > 512) return NS_STATUS_INVALID_ARGUMENT;
    be->ops->moments(be, t->act[i], c, m, NS_FF_SLOT);
    enum ns_status st = be->ops->read_scalars(be, NS_FF_SLOT, 2 * c, mom);
    if (st) return st;
    const float *gamma = t->m->param[i][0] + (size_t) t->style * c, *beta = t->m->param[i][1] + (size_t) t->style * c;
    for (int ch = 0; ch < c; ch++) {
        double mean = mom[2 * ch] / (double) m, var = mom[2 * ch + 1] / (double) m - mean * mean;
        double inv = 1.0 / sqrt((var > 0 ? var : 0) + NS_FF_EPS);
        t->mean[i][ch] = mean, t->inv[i][ch] = inv;
        abcd[ch] = 0.0f;
        abcd[c + ch] = (float) (gamma[ch] * inv);
        abcd[2 * c + ch] = beta[ch];
        abcd[3 * c + ch] = (float) mean;
    }
    be->ops->upload(be, t->abc, abcd, 4 * (size_t) c);
    be->ops->affine2(be, t->act[i], t->act[i], c, m, t->abc, t->act[i + 1]);
    if (relu) be->ops->relu_bwd(be, t->act[i + 1], t->act[i + 1], (size_t) c * m); /* max(0, y) */
    return NS_STATUS_OK;
}

enum ns_status ns_ff_tape_forward(struct ns_ff_tape *t) {
    struct ns_backend *be = t->be;
    const struct ns_ff_arch *a = t->m->arch;
    const struct ns_ff_shape *sh = &t->sh;
    int saved = -1;
    enum ns_status st = NS_STATUS_OK;
    for (int i = 0; i < a->n_steps && !st; i++) {
        const struct ns_ff_step *s = &a->steps[i];
        int c = sh->c[i], h = sh->h[i], w = sh->w[i];
        size_t n = (size_t) c * h * w;
        switch (s->kind) {
        case NS_FF_CONV: {
            int p = s->k / 2;
            be->ops->reflect_pad(be, t->act[i], c, h, w, p, t->pad[i]);
            be->ops->conv2d(be, t->pad[i], c, h + 2 * p, w + 2 * p, t->param[i][0], t->param[i][1], s->cout, s->k,
                            s->stride, t->act[i + 1]);
            break;
        }
        case NS_FF_NORM:
            st = norm_forward(t, i, c, (size_t) h * w, s->relu);
            break;
        case NS_FF_SAVE:
            saved = i;
            break;
        case NS_FF_ADD:
            be->ops->copy(be, t->act[i + 1], t->act[i], n);
            if (saved >= 0) be->ops->axpby(be, 1.0f, t->act[saved], 1.0f, t->act[i + 1], n);
            break;
        case NS_FF_UP:
            be->ops->upsample2(be, t->act[i], c, h, w, t->act[i + 1]);
            break;
        }
    }
    return st ? st : be->ops->sync(be);
}

/* Instance norm's backward at step i: g (c x m, the output's gradient)
 * becomes the input's; the weights' gradients are added on the host. */
static enum ns_status norm_backward(struct ns_ff_tape *t, int i, int c, size_t m, bool relu, struct ns_buf *g) {
    struct ns_backend *be = t->be;
    double mom[2 * 512];
    float abc[4 * 512];
    if (relu) be->ops->relu_bwd(be, g, t->act[i + 1], (size_t) c * m);
    be->ops->dot_moments(be, g, t->act[i], c, m, NS_FF_SLOT);
    enum ns_status st = be->ops->read_scalars(be, NS_FF_SLOT, 2 * c, mom);
    if (st) return st;
    size_t row = (size_t) t->style * c;
    const float *gamma = t->m->param[i][0] + row;
    for (int ch = 0; ch < c; ch++) {
        double sg = mom[2 * ch], mu = t->mean[i][ch], inv = t->inv[i][ch];
        double sgx = inv * (mom[2 * ch + 1] - mu * sg); /* sum of g times the normalised input */
        t->ngrad[i][0][row + ch] += sgx, t->ngrad[i][1][row + ch] += sg;
        double gi = gamma[ch] * inv, b = -gi * inv * sgx / (double) m;
        abc[ch] = (float) gi;
        abc[c + ch] = (float) b;
        abc[2 * c + ch] = (float) (-gi * sg / (double) m);
        abc[3 * c + ch] = (float) mu;
    }
    be->ops->upload(be, t->abc, abc, 4 * (size_t) c);
    be->ops->affine2(be, g, t->act[i], c, m, t->abc, g);
    return NS_STATUS_OK;
}

enum ns_status ns_ff_tape_backward(struct ns_ff_tape *t, struct ns_buf *gout, struct ns_buf *gin) {
    struct ns_backend *be = t->be;
    const struct ns_ff_arch *a = t->m->arch;
    const struct ns_ff_shape *sh = &t->sh;
    struct ns_buf *g = t->g, *other = t->g2, *tmp;
    enum ns_status st = NS_STATUS_OK;
    int last = a->n_steps;
    be->ops->copy(be, g, gout, (size_t) sh->c[last] * sh->h[last] * sh->w[last]);
    for (int i = last - 1; i >= 0 && !st; i--) {
        const struct ns_ff_step *s = &a->steps[i];
        int c = sh->c[i], h = sh->h[i], w = sh->w[i];
        size_t n = (size_t) c * h * w;
        switch (s->kind) {
        case NS_FF_CONV: {
            int p = s->k / 2, ph = h + 2 * p, pw = w + 2 * p;
            be->ops->conv2d_bwd_filter(be, t->pad[i], c, ph, pw, g, s->cout, s->k, s->stride, t->grad[i][0],
                                       t->grad[i][1]);
            if (i == 0 && !gin) break; /* the photo's gradient is not needed */
            be->ops->conv2d_bwd_data(be, g, s->cout, t->param[i][0], c, ph, pw, s->k, s->stride, t->gpad);
            be->ops->reflect_pad_bwd(be, t->gpad, c, h, w, p, other);
            tmp = g, g = other, other = tmp;
            break;
        }
        case NS_FF_NORM:
            st = norm_backward(t, i, c, (size_t) h * w, s->relu, g);
            break;
        case NS_FF_ADD: /* the block's input gets the sum's gradient too */
            be->ops->copy(be, t->gsaved, g, n);
            break;
        case NS_FF_SAVE:
            be->ops->axpby(be, 1.0f, t->gsaved, 1.0f, g, n);
            break;
        case NS_FF_UP:
            be->ops->upsample2_bwd(be, g, c, h, w, other);
            tmp = g, g = other, other = tmp;
            break;
        }
    }
    if (!st && gin) be->ops->copy(be, gin, g, (size_t) 3 * t->h * t->w);
    return st ? st : be->ops->sync(be);
}

void ns_ff_tape_flush(struct ns_ff_tape *t) {
    const struct ns_ff_arch *a = t->m->arch;
    float buf[NS_FF_MAX_STYLES * 512];
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2 && a->steps[i].kind == NS_FF_NORM; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            for (size_t j = 0; j < n && j < sizeof buf / sizeof buf[0]; j++)
                buf[j] = (float) t->ngrad[i][part][j];
            t->be->ops->upload(t->be, t->grad[i][part], buf, n);
        }
}

enum ns_status ns_ff_tape_download(struct ns_ff_tape *t, bool norms_only) {
    const struct ns_ff_arch *a = t->m->arch;
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            if (n && (!norms_only || a->steps[i].kind == NS_FF_NORM))
                t->be->ops->download(t->be, t->m->param[i][part], t->param[i][part], n);
        }
    return t->be->ops->sync(t->be);
}
