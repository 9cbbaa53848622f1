/* fftrain_step.c - training a fast style: the trainer (ns.h).
 *
 * Each crop runs through the network on its tape (fftrain.c); its output,
 * as an image, gets the exact method's objective (objective.c) with the
 * crop as the content target and the painting's Grams, whose gradient
 * goes back through the network.  The batch's mean gradient then takes one
 * Adam step on every tensor, as torch.optim.Adam does.  The network's
 * output is not clamped while it learns, as in the reference projects.
 */
#include "context.h"
#include "fftrain.h"
#include "image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f

struct ns_trainer {
    struct ns_context *ctx;
    struct ns_train_params p;
    char content_layers[256], style_layers[256];
    struct ns_style_model *m;
    struct ns_ff_tape tape;
    struct ns_buf *adam[NS_FF_MAX_STEPS][2][2]; /* each tensor's moments */
    struct ns_net *net;
    struct ns_objective obj;
    /* each painting's Grams and their norms, swapped into obj by use_style */
    int n_styles, style;
    struct ns_buf *target[NS_FF_MAX_STYLES][NS_MAX_LAYERS];
    double t_norm2[NS_FF_MAX_STYLES][NS_MAX_LAYERS];
    struct ns_buf *u, *gu, *photo; /* the output as an image, its gradient, the crop */
    float *host;                   /* a crop, planar */
    int step;
};

struct ns_train_params ns_train_params_default(void) {
    return (struct ns_train_params){.size = 256,
                                    .batch = 4,
                                    .learning_rate = 1e-2f,
                                    .content_weight = 1.0f,
                                    .style_weight = 1e2f,
                                    .tv_weight = 10.0f,
                                    .style_scale = 1.0f};
}

void ns_trainer_free(struct ns_trainer *t) {
    if (!t) return;
    struct ns_backend *be = t->ctx->be;
    for (int i = 0; i < NS_FF_MAX_STEPS; i++)
        for (int part = 0; part < 2; part++)
            ns_release(be, &t->adam[i][part][0]), ns_release(be, &t->adam[i][part][1]);
    ns_release(be, &t->u), ns_release(be, &t->gu), ns_release(be, &t->photo);
    for (int k = 0; k < NS_FF_MAX_STYLES; k++)
        for (int i = 0; i < NS_MAX_LAYERS; i++)
            ns_release(be, &t->target[k][i]);
    ns_objective_release(&t->obj);
    ns_net_free(t->net);
    ns_ff_tape_release(&t->tape);
    ns_style_model_free(t->m);
    free(t->host);
    free(t);
}

/* The settings a checkpoint must share with the run that resumes it. */
static void settings_text(const struct ns_trainer *t, char *out, size_t len) {
    const struct ns_train_params *p = &t->p;
    snprintf(out, len, "size %d, batch %d, learning rate %g, weights %g/%g/%g, style scale %g, layers %s/%s%s%s",
             p->size, p->batch, p->learning_rate, p->content_weight, p->style_weight, p->tv_weight,
             p->style_scale, t->content_layers, t->style_layers, p->network ? ", network " : "",
             p->network ? p->network : "");
    if (t->n_styles > 1) snprintf(out + strlen(out), len - strlen(out), ", %d styles", t->n_styles);
}

static size_t gram_floats(const struct ns_trainer *t, int i) {
    size_t c = (size_t) t->obj.net->s.c[t->obj.style.layer[i]];
    return c * c;
}

/* Painting k at size * style_scale, as the objective's style target, kept
 * as style k's. */
static enum ns_status set_style(struct ns_trainer *t, const struct ns_image *painting, int k) {
    struct ns_backend *be = t->ctx->be;
    int w, h;
    ns_fit_size(painting->width, painting->height, (int) lroundf(t->p.size * t->p.style_scale), &w, &h);
    float *host = malloc(sizeof(float) * 3 * (size_t) w * h);
    struct ns_buf *buf = ns_alloc_f32(be, (size_t) 3 * w * h);
    enum ns_status st = host && buf ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    if (!st) st = ns_resample(ns_view_image(painting), ns_view_planar(host, w, h, 3), t->p.threads);
    if (!st) be->ops->upload(be, buf, host, (size_t) 3 * w * h);
    if (!st) st = ns_objective_add_style(&t->obj, buf, h, w, 1.0f, true);
    if (!st) st = ns_objective_finish_style(&t->obj);
    for (int i = 0; i < t->obj.style.n && !st; i++) {
        if (!(t->target[k][i] = ns_alloc_f32(be, gram_floats(t, i)))) st = NS_STATUS_OUT_OF_MEMORY;
        else be->ops->copy(be, t->target[k][i], t->obj.target_t[i], gram_floats(t, i));
        t->t_norm2[k][i] = t->obj.t_norm2[i];
    }
    t->style = k;
    ns_release(be, &buf);
    free(host);
    return st;
}

/* Style k's Grams as the objective's targets, its norms' row for the
 * network's passes. */
static void use_style(struct ns_trainer *t, int k) {
    if (k == t->style) return;
    for (int i = 0; i < t->obj.style.n; i++) {
        t->ctx->be->ops->copy(t->ctx->be, t->obj.target_t[i], t->target[k][i], gram_floats(t, i));
        t->obj.t_norm2[i] = t->t_norm2[k][i];
    }
    t->style = t->tape.style = k;
}

enum ns_status ns_trainer_use_style(struct ns_trainer *t, int k) {
    if (k < 0 || k >= t->n_styles)
        return ns_set_error(t->ctx, NS_STATUS_INVALID_ARGUMENT, "style %d of %d", k + 1, t->n_styles);
    use_style(t, k);
    return NS_STATUS_OK;
}

int ns_trainer_styles(const struct ns_trainer *t) {
    return t ? t->n_styles : 0;
}

/* The objective at the crops' size. */
static enum ns_status set_objective(struct ns_trainer *t, const struct ns_image *paintings, char *err, size_t elen) {
    struct ns_context *ctx = t->ctx;
    struct ns_layer_sel content, style;
    char dc[32], ds[128];
    ns_layers_default(&ctx->model, dc, sizeof dc, ds, sizeof ds);
    enum ns_status st = ns_layers_parse(&ctx->model, t->p.content_layers, dc, &content, err, elen);
    if (!st) st = ns_layers_parse(&ctx->model, t->p.style_layers, ds, &style, err, elen);
    if (st) return st;
    snprintf(t->content_layers, sizeof t->content_layers, "%s", t->p.content_layers ? t->p.content_layers : dc);
    snprintf(t->style_layers, sizeof t->style_layers, "%s", t->p.style_layers ? t->p.style_layers : ds);
    int s = t->p.size;
    st = ns_net_new(&ctx->model, ns_objective_depth(&content, &style), s, s, true, NS_POOL_MAX, &t->net);
    if (!st) st = ns_objective_init(&t->obj, t->net, &content, &style, t->p.content_weight, t->p.style_weight,
                                    t->p.tv_weight);
    for (int k = 0; k < t->n_styles && !st; k++)
        st = set_style(t, &paintings[k], k);
    return st;
}

/* The network and Adam's moments: new, or from the checkpoint. */
static enum ns_status set_network(struct ns_trainer *t, const char *resume, char *err, size_t elen) {
    struct ns_backend *be = t->ctx->be;
    float *state[NS_FF_MAX_STEPS][2][2] = {{{0}}};
    enum ns_status st;
    if (resume) {
        char want[700];
        settings_text(t, want, sizeof want);
        st = ns_style_model_load(resume, &t->m, err, elen);
        if (!st) st = ns_style_model_load_state(resume, t->m, state, err, elen);
        const char *had = st ? NULL : ns_style_model_info(t->m, "training_settings");
        const char *step = st ? NULL : ns_style_model_info(t->m, "training_step");
        if (!st && (!had || !step || strcmp(had, want))) {
            snprintf(err, elen, "%s was trained with other settings (%s), not %s: give the same ones to resume it",
                     resume, had ? had : "unknown", want);
            st = NS_STATUS_INVALID_ARGUMENT;
        }
        if (!st) t->step = atoi(step);
    } else if (t->p.start) {
        st = ns_style_model_load(t->p.start, &t->m, err, elen);
        if (!st && ns_style_model_styles(t->m) != t->n_styles) {
            snprintf(err, elen, "%s holds %d styles, not the %d paintings given", t->p.start,
                     ns_style_model_styles(t->m), t->n_styles);
            st = NS_STATUS_INVALID_ARGUMENT;
        }
    } else {
        const struct ns_ff_arch *a = ns_ff_arch_find(t->p.network ? t->p.network : "transformer-net");
        if (!a) {
            snprintf(err, elen, "network '%s' is not one this version knows", t->p.network);
            st = NS_STATUS_INVALID_ARGUMENT;
        } else {
            st = ns_style_model_new_styles(a, t->n_styles, t->p.seed, &t->m);
        }
    }
    if (!st) st = ns_ff_tape_init(&t->tape, be, t->m, t->p.size, t->p.size);
    t->tape.style = t->style;
    if (st == NS_STATUS_UNAVAILABLE) snprintf(err, elen, "the %s backend cannot train fast styles", be->ops->name);
    const struct ns_ff_arch *a = t->m ? t->m->arch : NULL;
    for (int i = 0; !st && i < a->n_steps; i++)
        for (int part = 0; part < 2 && !st; part++)
            for (int k = 0; k < 2 && !st; k++) {
                size_t n = ns_ff_model_count(t->m, i, part);
                if (!n) continue;
                if (!(t->adam[i][part][k] = ns_alloc_f32(be, n))) st = NS_STATUS_OUT_OF_MEMORY;
                else if (state[i][part][k]) be->ops->upload(be, t->adam[i][part][k], state[i][part][k], n);
                else be->ops->fill(be, t->adam[i][part][k], 0.0f, n);
            }
    for (int i = 0; i < NS_FF_MAX_STEPS; i++)
        for (int part = 0; part < 2; part++)
            free(state[i][part][0]), free(state[i][part][1]);
    return st;
}

static enum ns_status check_params(const struct ns_train_params *p, char *err, size_t elen) {
    if (p->size < 32 || p->size > 2048 || p->size % 4)
        snprintf(err, elen, "the training size must be a multiple of 4 from 32 to 2048 px, not %d", p->size);
    else if (p->batch < 1 || p->batch > 64)
        snprintf(err, elen, "the batch must be 1 to 64 photos, not %d", p->batch);
    else if (!(p->learning_rate > 0 && p->learning_rate < 1))
        snprintf(err, elen, "the learning rate must be between 0 and 1");
    else if (!(p->content_weight >= 0) || !(p->style_weight >= 0) || !(p->tv_weight >= 0) ||
             !isfinite(p->content_weight + p->style_weight + p->tv_weight))
        snprintf(err, elen, "the weights must be finite and not negative");
    else if (!(p->style_scale >= NS_PARAM_STYLE_SCALE_MIN && p->style_scale <= NS_PARAM_STYLE_SCALE_MAX))
        snprintf(err, elen, "the style scale must be %g to %g", NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX);
    else
        return NS_STATUS_OK;
    return NS_STATUS_INVALID_ARGUMENT;
}

static bool is_painting(const struct ns_image *im) {
    return im->data && im->width >= 1 && im->height >= 1 && im->channels >= 3;
}

enum ns_status ns_trainer_new(struct ns_context *ctx, const struct ns_image *painting, const struct ns_train_params *p,
                              const char *resume, struct ns_trainer **out) {
    return ns_trainer_new_styles(ctx, painting, 1, p, resume, out);
}

enum ns_status ns_trainer_new_styles(struct ns_context *ctx, const struct ns_image *paintings, int n_paintings,
                                     const struct ns_train_params *p, const char *resume, struct ns_trainer **out) {
    char err[900] = "";
    *out = NULL;
    if (!ctx) return NS_STATUS_INVALID_ARGUMENT;
    bool ok = ctx->be && p && paintings && n_paintings >= 1;
    for (int k = 0; ok && k < n_paintings; k++)
        ok = is_painting(&paintings[k]);
    if (!ok) return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "training needs a painting");
    if (n_paintings > NS_FF_MAX_STYLES)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "one model learns at most %d paintings, not %d",
                            NS_FF_MAX_STYLES, n_paintings);
    if (!ctx->model.n_layers)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "training needs the VGG weights");
    enum ns_status st = check_params(p, err, sizeof err);
    if (st) return ns_set_error(ctx, st, "%s", err);
    if ((st = ns_context_set_threads(ctx, p->threads, NULL))) return st;
    struct ns_trainer *t = calloc(1, sizeof *t);
    if (!t) return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory");
    t->ctx = ctx, t->p = *p, t->n_styles = n_paintings;
    size_t n = (size_t) 3 * p->size * p->size;
    struct ns_backend *be = ctx->be;
    st = set_objective(t, paintings, err, sizeof err);
    if (!st) st = set_network(t, resume, err, sizeof err);
    if (!st) use_style(t, 0);
    if (!st) {
        t->u = ns_alloc_f32(be, n), t->gu = ns_alloc_f32(be, n), t->photo = ns_alloc_f32(be, n);
        t->host = malloc(sizeof(float) * n);
        if (!t->u || !t->gu || !t->photo || !t->host) st = NS_STATUS_OUT_OF_MEMORY;
    }
    if (st) {
        ns_trainer_free(t);
        if (err[0]) return ns_set_error(ctx, st, "%s", err);
        if (st == NS_STATUS_OUT_OF_MEMORY)
            return ns_set_error(ctx, st, "not enough memory to train at %d px in batches of %d", p->size, p->batch);
        return ns_set_error(ctx, st, "training could not start: %s", ns_status_str(st));
    }
    *out = t;
    return NS_STATUS_OK;
}

/* Crop k through the network and the objective; with grad, the output's
 * gradient (scaled by `scale`) back through the network. */
static enum ns_status crop_pass(struct ns_trainer *t, const struct ns_image *crop, bool grad, float scale,
                                bool as_is, struct ns_terms *terms) {
    struct ns_backend *be = t->ctx->be;
    int s = t->p.size;
    size_t n = (size_t) 3 * s * s;
    float in_scale = t->m->arch->in_scale;
    if (crop->width != s || crop->height != s || crop->channels < 3 || !crop->data)
        return ns_set_error(t->ctx, NS_STATUS_INVALID_ARGUMENT, "training crops must be %d x %d px", s, s);
    enum ns_status st = ns_resample(ns_view_image(crop), ns_view_planar(t->host, s, s, 3), 1);
    if (st) return st;
    be->ops->upload(be, t->photo, t->host, n);
    be->ops->axpby(be, in_scale, t->photo, 0.0f, t->tape.act[0], n);
    if ((st = ns_objective_set_content(&t->obj, t->photo))) return st;
    if (as_is) {
        be->ops->copy(be, t->u, t->photo, n);
    } else {
        if ((st = ns_ff_tape_forward(&t->tape))) return st;
        be->ops->axpby(be, 1.0f / in_scale, t->tape.act[t->m->arch->n_steps], 0.0f, t->u, n);
    }
    if ((st = ns_objective_eval(&t->obj, t->u, grad ? t->gu : NULL, terms))) return st;
    if (!isfinite(terms->loss)) return NS_STATUS_NUMERIC_ERROR;
    if (!grad) return NS_STATUS_OK;
    be->ops->axpby(be, scale / in_scale, t->gu, 0.0f, t->gu, n);
    return ns_ff_tape_backward(&t->tape, t->gu, NULL);
}

static void add_terms(struct ns_train_terms *sum, const struct ns_terms *x, int n) {
    sum->loss += x->loss / n, sum->content += x->content / n, sum->style += x->style / n, sum->tv += x->tv / n;
}

static enum ns_status pass_error(struct ns_trainer *t, enum ns_status st) {
    if (st == NS_STATUS_NUMERIC_ERROR)
        return ns_set_error(t->ctx, st, "the training diverged (the loss is not a number): lower the learning rate");
    if (st == NS_STATUS_OUT_OF_MEMORY || st == NS_STATUS_BACKEND_ERROR)
        return ns_set_error(t->ctx, st, "a training step failed: %s", t->ctx->be->ops->error(t->ctx->be));
    return st;
}

enum ns_status ns_trainer_eval(struct ns_trainer *t, const struct ns_image *crops, int n, bool as_is,
                               struct ns_train_terms *terms) {
    struct ns_train_terms sum = {0};
    for (int k = 0; k < n; k++) {
        struct ns_terms x;
        enum ns_status st = crop_pass(t, &crops[k], false, 0, as_is, &x);
        if (st) return pass_error(t, st);
        add_terms(&sum, &x, n);
    }
    if (terms) *terms = sum;
    return NS_STATUS_OK;
}

enum ns_status ns_trainer_step(struct ns_trainer *t, const struct ns_image *crops, int n,
                               struct ns_train_terms *terms) {
    struct ns_backend *be = t->ctx->be;
    struct ns_train_terms sum = {0};
    if (n < 1) return ns_set_error(t->ctx, NS_STATUS_INVALID_ARGUMENT, "a training step needs photos");
    use_style(t, t->step % t->n_styles); /* the paintings in turn: a resumed run's order too */
    ns_ff_tape_zero(&t->tape);
    for (int k = 0; k < n; k++) {
        struct ns_terms x;
        enum ns_status st = crop_pass(t, &crops[k], true, 1.0f / n, false, &x);
        if (st) return pass_error(t, st);
        add_terms(&sum, &x, n);
    }
    ns_ff_tape_flush(&t->tape);
    t->step++;
    const struct ns_ff_arch *a = t->m->arch;
    for (int i = 0; i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t cnt = ns_ff_model_count(t->m, i, part);
            if (cnt)
                be->ops->adam(be, t->tape.param[i][part], t->tape.grad[i][part], t->adam[i][part][0],
                              t->adam[i][part][1], cnt, t->p.learning_rate, ADAM_B1, ADAM_B2, ADAM_EPS, t->step);
        }
    enum ns_status st = ns_ff_tape_download(&t->tape, true); /* the norms' weights, for the next forward */
    if (st) return pass_error(t, st);
    if (terms) *terms = sum;
    return NS_STATUS_OK;
}

int ns_trainer_steps(const struct ns_trainer *t) {
    return t ? t->step : 0;
}

enum ns_status ns_trainer_set_info(struct ns_trainer *t, const char *key, const char *value) {
    return ns_style_model_set_info(t->m, key, value);
}

enum ns_status ns_trainer_save(struct ns_trainer *t, const char *path, bool checkpoint) {
    struct ns_backend *be = t->ctx->be;
    const struct ns_ff_arch *a = t->m->arch;
    float *state[NS_FF_MAX_STEPS][2][2] = {{{0}}};
    char text[700], err[1200] = "";
    enum ns_status st = ns_ff_tape_download(&t->tape, false);
    for (int i = 0; i < a->n_steps && checkpoint && !st; i++)
        for (int part = 0; part < 2 && !st; part++)
            for (int k = 0; k < 2 && !st; k++) {
                size_t n = ns_ff_model_count(t->m, i, part);
                if (!n) continue;
                if (!(state[i][part][k] = malloc(sizeof(float) * n))) st = NS_STATUS_OUT_OF_MEMORY;
                else be->ops->download(be, state[i][part][k], t->adam[i][part][k], n);
            }
    if (!st) st = be->ops->sync(be);
    settings_text(t, text, sizeof text);
    if (!st) st = ns_style_model_set_info(t->m, "training_settings", text);
    snprintf(text, sizeof text, "%d", t->step);
    if (!st) st = ns_style_model_set_info(t->m, "training_step", text);
    if (!st) st = ns_style_model_save_state(path, t->m, checkpoint ? (float *const (*)[2][2]) state : NULL, err,
                                            sizeof err);
    for (int i = 0; i < NS_FF_MAX_STEPS; i++)
        for (int part = 0; part < 2; part++)
            free(state[i][part][0]), free(state[i][part][1]);
    if (st && err[0]) return ns_set_error(t->ctx, st, "%s", err);
    if (st) return ns_set_error(t->ctx, st, "could not write %s: %s", path, ns_status_str(st));
    return NS_STATUS_OK;
}

enum ns_status ns_trainer_model(struct ns_trainer *t, struct ns_style_model **out) {
    const struct ns_ff_arch *a = t->m->arch;
    enum ns_status st = ns_ff_tape_download(&t->tape, false);
    if (!st) st = ns_style_model_new_styles(a, t->n_styles, 0, out);
    for (int i = 0; !st && i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            if (n) memcpy((*out)->param[i][part], t->m->param[i][part], sizeof(float) * n);
        }
    for (int i = 0; !st && i < t->m->n_info; i++)
        st = ns_style_model_set_info(*out, t->m->info_key[i], t->m->info_value[i]);
    return st;
}

enum ns_status ns_trainer_gradients(struct ns_trainer *t, struct ns_style_model **out) {
    const struct ns_ff_arch *a = t->m->arch;
    enum ns_status st = ns_style_model_new_styles(a, t->n_styles, 0, out);
    for (int i = 0; !st && i < a->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(t->m, i, part);
            if (n) t->ctx->be->ops->download(t->ctx->be, (*out)->param[i][part], t->tape.grad[i][part], n);
        }
    return st ? st : t->ctx->be->ops->sync(t->ctx->be);
}
