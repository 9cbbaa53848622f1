/* run.c - ns_run: targets, coarse-to-fine scales, optimiser loop, progress.
 *
 * Each scale optimises at twice the previous size, starting from the
 * previous result enlarged; the content and style targets are recomputed
 * from the originals at every scale.  Nothing is written to the caller's
 * result unless the whole run succeeds.
 */
#include "context.h"
#include "plan.h"
#include "image.h"
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ns_params ns_params_default(void) {
    return (struct ns_params){
        .size = 512,
        .iterations = 300,
        .scales = 0,
        .optimizer = NS_OPTIMIZER_LBFGS,
        .learning_rate = 0.02f,
        .lbfgs_history = 20,
        .init = NS_INIT_CONTENT,
        .seed = 0,
        .content_weight = 1.0f,
        .style_weight = 1e2f,
        .tv_weight = 10.0f,
        .style_scale = 1.0f,
        .pooling = NS_POOLING_MAX,
        .margin = 8,
    };
}

void ns_output_size(const struct ns_params *params, int w, int h, int *out_w, int *out_h) {
    ns_fit_size(w, h, params ? params->size : 0, out_w, out_h);
}


static enum ns_status check_image(struct ns_context *ctx, const struct ns_image *im, const char *what) {
    if (!im || !im->data)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "the %s image is missing", what);
    if (im->width < 1 || im->height < 1)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "the %s image is empty (%d x %d)", what,
                            im->width, im->height);
    if (im->channels != 3 && im->channels != 4)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "the %s image has %d channels; RGB or RGBA is needed", what, im->channels);
    if (im->stride < im->width * im->channels)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "the %s image's stride is too small", what);
    if ((double) im->width * im->height > 1e9)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "the %s image is too large", what);
    return NS_STATUS_OK;
}

static enum ns_status check_params(struct ns_context *ctx, const struct ns_params *p, int n_styles) {
    if (n_styles < 1 || n_styles > NS_MAX_STYLES)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "between 1 and %d style images are needed, not %d", NS_MAX_STYLES, n_styles);
    char why[256];
    if (ns_params_check(p, why, sizeof why)) return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "%s", why);
    if (p->correlation_chain && p->tile)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "the correlation chain needs whole levels: it cannot be computed in tiles");
    if (p->n_style_masks && p->n_style_masks != n_styles)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "%d region masks for %d styles: one per style is needed",
                            p->n_style_masks, n_styles);
    for (int k = 0; k < p->n_style_masks; k++)
        if (!p->style_masks || !ns_mask_ok(&p->style_masks[k]))
            return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                                "the region mask of style %d is not a usable image (empty, or not numbers)", k + 1);
    if (p->n_style_masks && p->tile)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "regions need whole levels: they cannot be computed in tiles");
    if (p->n_style_masks && p->correlation_chain)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "the correlation chain cannot be combined with regions yet");
    if (p->style_blend) {
        double sum = 0;
        for (int i = 0; i < n_styles; i++) {
            if (!(p->style_blend[i] >= 0) || !isfinite(p->style_blend[i]))
                return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "style blend weights must be >= 0");
            sum += p->style_blend[i];
        }
        if (!(sum > 0)) return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "style blend weights sum to 0");
    }
    return NS_STATUS_OK;
}

struct run {
    struct ns_context *ctx;
    struct ns_backend *be;         /* ctx's, or the planner's counting backend */
    const struct ns_model *model;  /* ctx's, or a layout on the counting backend */
    bool dry;                      /* the planner's: allocations only, no pixels, no steps */
    const struct ns_params *p;
    ns_progress_fn progress;
    void *ud;
    struct ns_progress rep;
    double t0, work_total, work_done;
    struct ns_objective obj;
};

static enum ns_status eval_cb(void *ud, const struct ns_buf *x, struct ns_buf *grad, struct ns_terms *t) {
    struct run *r = ud;
    return ns_objective_eval(&r->obj, x, grad, t);
}

static bool report(struct run *r, const struct ns_terms *t) {
    r->rep.loss = t->loss;
    r->rep.content = t->content;
    r->rep.style = t->style;
    r->rep.tv = t->tv;
    r->rep.elapsed = ns_now_seconds() - r->t0;
    r->rep.eta = r->work_done > 0 ? r->rep.elapsed * (r->work_total - r->work_done) / r->work_done : -1.0;
    if (r->rep.eta < 0 && r->work_done >= r->work_total) r->rep.eta = 0;
    return r->progress ? r->progress(&r->rep, r->ud) : true;
}

/* `im` resized to w x h, mirrored m px beyond its edges, as planar R'G'B'
 * in a new backend buffer (*out) of 3 x (h + 2m) x (w + 2m); a dry run
 * only allocates it. */
static enum ns_status upload_resized(const struct run *r, const struct ns_image *im, int w, int h, int m,
                                     struct ns_buf **out) {
    struct ns_backend *be = r->be;
    size_t n = (size_t) 3 * (w + 2 * m) * (h + 2 * m);
    if (r->dry) return (*out = ns_alloc_f32(be, n)) ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    float *host = malloc(sizeof(float) * n);
    if (!host || !(*out = ns_alloc_f32(be, n))) {
        free(host);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    enum ns_status st = ns_resample(ns_view_image(im), ns_canvas_interior(host, w, h, m, 3), be->threads);
    ns_canvas_mirror(host, w, h, m, 3);
    if (!st) be->ops->upload(be, *out, host, n);
    free(host);
    return st ? st : be->ops->sync(be);
}

/* Style k's blend weight as given (params.style_blend; equal when NULL). */
static double blend_of(const struct ns_params *p, int k) {
    return p->style_blend ? p->style_blend[k] : 1.0;
}

/* The blended style targets of a level of w x h. */
static enum ns_status set_styles(struct run *r, const struct ns_image *styles, int n_styles, int w, int h) {
    struct ns_backend *be = r->be;
    const struct ns_params *p = r->p;
    struct ns_buf *buf = NULL;
    enum ns_status st = NS_STATUS_OK;
    double blend_sum = 0;
    for (int k = 0; k < n_styles; k++)
        blend_sum += blend_of(p, k);
    bool own = r->obj.regions != NULL; /* each region's style its own targets */
    for (int k = 0; k < n_styles && !st; k++) {
        int stw, sth;
        ns_style_size(&styles[k], w, h, p->style_scale, &stw, &sth);
        float blend = own ? 1.0f : (float) (blend_of(p, k) / blend_sum);
        st = upload_resized(r, &styles[k], stw, sth, 0, &buf);
        if (!st) st = ns_objective_add_style(&r->obj, buf, sth, stw, blend, own || k == 0);
        ns_release(be, &buf);
        if (!st && own && !(st = ns_objective_finish_style(&r->obj))) st = ns_regions_take_target(&r->obj, k);
    }
    return st || own ? st : ns_objective_finish_style(&r->obj);
}

/* The regions of a level of w x h and margins m (params.style_masks), their
 * blend weights with mean 1. */
static enum ns_status set_regions(struct run *r, int n_styles, int w, int h, int m) {
    const struct ns_params *p = r->p;
    if (!p->n_style_masks) return NS_STATUS_OK;
    float *planes[NS_MAX_STYLES], beta[NS_MAX_STYLES];
    double sum = 0;
    for (int k = 0; k < n_styles; k++)
        sum += blend_of(p, k);
    for (int k = 0; k < n_styles; k++)
        beta[k] = (float) (blend_of(p, k) * n_styles / sum);
    enum ns_status st = NS_STATUS_OK;
    if (r->dry) /* masks of ones: the same buffers */
        memset(planes, 0, sizeof planes);
    else
        st = ns_masks_canvas(p->style_masks, n_styles, w, h, m, p->threads, planes);
    if (!st) st = ns_regions_init(&r->obj, n_styles, (const float *const *) planes, beta);
    for (int k = 0; k < n_styles && !r->dry; k++)
        free(planes[k]);
    if (st == NS_STATUS_UNAVAILABLE && !r->dry)
        ns_set_error(r->ctx, st, "the %s backend cannot compute regions", r->be->ops->name);
    return st;
}

/* Content target (on the canvas of w x h and margins m) and the blended
 * style targets. */
static enum ns_status set_targets(struct run *r, const struct ns_image *content,
                                  const struct ns_image *styles, int n_styles, int w, int h, int m) {
    struct ns_backend *be = r->be;
    struct ns_buf *buf = NULL;
    enum ns_status st = upload_resized(r, content, w, h, m, &buf);
    if (!st) st = ns_objective_set_content(&r->obj, buf);
    ns_release(be, &buf);
    return st ? st : set_styles(r, styles, n_styles, w, h);
}

/* Iteration 0 (reported on the first scale only) and `iterations` steps,
 * each reported; `cost` is one evaluation's share of the run's work. */
static enum ns_status iterate(struct run *r, struct ns_optim *opt, const float *u, int iterations,
                              double cost, bool first) {
    struct ns_backend *be = r->be;
    /* u goes in through a buffer the optimiser overwrites anyway */
    struct ns_buf *staging = opt->xt ? opt->xt : opt->g;
    be->ops->upload(be, staging, u, opt->n);
    enum ns_status st = ns_optim_start(opt, staging);
    /* not finite before any step: the learning rate is not the cause */
    if (st == NS_STATUS_NUMERIC_ERROR)
        ns_set_error(r->ctx, st,
                     "the loss is not finite (NaN or Inf) before the first step: the weights file gives "
                     "values too large for float32 (check it with 'ns-weights info'), or the loss weights are "
                     "too large");
    r->work_done += cost;
    if (!st && first && !report(r, &opt->fx)) st = NS_STATUS_CANCELLED;
    for (int it = 1; it <= iterations && !st; it++) {
        r->rep.iteration++;
        if (!opt->converged) st = ns_optim_step(opt);
        r->work_done += cost;
        if (!st && !report(r, &opt->fx)) st = NS_STATUS_CANCELLED;
    }
    return st;
}

/* The context's error for a failed scale of w x h, unless one is set. */
static void scale_error(struct ns_context *ctx, enum ns_status st, int w, int h) {
    struct ns_backend *be = ctx->be;
    if (!st || st == NS_STATUS_CANCELLED || ctx->error[0]) return;
    if (st == NS_STATUS_OUT_OF_MEMORY)
        ns_set_error(
            ctx, st,
            "not enough memory on the %s for %d x %d px: set a lower memory limit or choose a smaller size",
            ctx->kind == NS_BACKEND_CUDA ? "GPU" : "computer", w, h);
    else if (st == NS_STATUS_NUMERIC_ERROR)
        ns_set_error(ctx, st, "the optimisation diverged (NaN): lower the learning rate or the loss weights");
    else
        ns_set_error(ctx, st, "%s%s%s", ns_status_str(st), be->ops->error(be)[0] ? ": " : "",
                     be->ops->error(be));
}

/* The level's w x h image u on its canvas: the interior resampled, the
 * margins m mirrored. */
static enum ns_status canvas_from_level(const float *u, int w, int h, int m, float *canvas, int threads) {
    enum ns_status st =
        ns_resample(ns_view_planar((float *) u, w, h, 3), ns_canvas_interior(canvas, w, h, m, 3), threads);
    if (!st) ns_canvas_mirror(canvas, w, h, m, 3);
    return st;
}

/* The backend canvas x back into u: downloaded through the host canvas,
 * the margins cut off. */
static enum ns_status level_from_canvas(struct ns_backend *be, const struct ns_buf *x, float *canvas, int w,
                                        int h, int m, float *u, int threads) {
    be->ops->download(be, canvas, x, (size_t) 3 * (w + 2 * m) * (h + 2 * m));
    enum ns_status st = be->ops->sync(be);
    return st ? st : ns_resample(ns_canvas_interior(canvas, w, h, m, 3), ns_view_planar(u, w, h, 3), threads);
}

/* Reports a block-by-block level's progress: `done` of `total` block
 * steps, the level's work (its start and its steps) shared out over them. */
struct block_progress {
    struct run *r;
    int base, steps; /* iterations before the level, the level's */
    double work, cost;
    bool first;
};

static bool block_report(void *ud, const struct ns_terms *t, int done, int total) {
    struct block_progress *bp = ud;
    struct run *r = bp->r;
    double share = total > 0 ? (double) done / total : 1.0;
    r->rep.iteration = bp->base + (int) (share * bp->steps);
    r->work_done = bp->work + bp->cost * (1.0 + share * bp->steps);
    return done == 0 && !bp->first ? true : report(r, t);
}

/* Level s block by block (blocks.c) in `fit`: the canvas and the content
 * canvas stay on the backend, each block takes the level's steps in turn.
 * A dry run makes the same allocations and stops before the first step. */
static enum ns_status run_blocks(struct run *r, const struct plan *pl, int s, const struct level_fit *fit,
                                 const struct ns_image *content, const struct ns_image *styles, int n_styles,
                                 float *u) {
    struct ns_context *ctx = r->ctx;
    struct ns_backend *be = r->be;
    const struct ns_params *p = r->p;
    int w = pl->sw[s], h = pl->sh[s], m = pl->mg[s], cw, ch, depth = pl->rl.depth;
    ns_plan_canvas(pl, s, &cw, &ch);
    size_t n = (size_t) 3 * cw * ch;
    struct ns_net *net = NULL;
    struct ns_buf *photo = NULL, *x = NULL;
    float *canvas = NULL;
    memset(&r->obj, 0, sizeof r->obj);
    struct ns_net_shape full;
    struct ns_tiling t;
    ns_net_shape(r->model, depth, ch, cw, &full);
    ns_tiling_plan(&full, fit->block, &t);
    enum ns_status st = ns_net_new(r->model, depth, ns_block_region(&t, true), ns_block_region(&t, false),
                                   true, p->pooling == NS_POOLING_AVG ? NS_POOL_AVG : NS_POOL_MAX, &net);
    struct ns_gram_opts g = ns_run_gram_opts(p);
    if (!st)
        st = ns_objective_init_blocks(&r->obj, net, ch, cw, fit->block, &pl->rl.content, &pl->rl.style,
                                      p->content_weight, p->style_weight, p->tv_weight);
    r->obj.measure = r->dry;
    if (!st) st = ns_objective_set_gram(&r->obj, &g);
    if (st == NS_STATUS_UNAVAILABLE && !r->dry)
        ns_set_error(ctx, st, "the %s backend cannot compute in tiles", be->ops->name);
    r->rep.tile = r->rep.block = r->obj.block;
    if (!st) st = upload_resized(r, content, w, h, m, &photo);
    if (!st) st = set_styles(r, styles, n_styles, w, h);
    if (!st && !r->dry && !(canvas = malloc(sizeof(float) * n))) st = NS_STATUS_OUT_OF_MEMORY;
    if (!st && !(x = ns_alloc_f32(be, n))) st = NS_STATUS_OUT_OF_MEMORY;
    if (!st && !r->dry) st = canvas_from_level(u, w, h, m, canvas, p->threads);
    if (!st && !r->dry) {
        be->ops->upload(be, x, canvas, n);
        st = be->ops->sync(be);
    }
    free(canvas); /* not needed while the blocks run */
    canvas = NULL;
    struct block_progress bp = {r, r->rep.iteration, pl->it[s], r->work_done,
                                r->dry ? 0 : ns_plan_eval_flops(pl, s), s == 0};
    if (!st && r->dry)
        st = ns_blocks_reserve(&r->obj, p->optimizer, fit->history);
    else if (!st)
        st = ns_blocks_optimise(&r->obj, x, photo, p->optimizer, p->learning_rate, fit->history, pl->it[s],
                                block_report, &bp);
    r->rep.iteration = bp.base + pl->it[s];
    ns_release(be, &photo);
    if (!st && !r->dry && !(canvas = malloc(sizeof(float) * n))) st = NS_STATUS_OUT_OF_MEMORY;
    if (!st && !r->dry) st = level_from_canvas(be, x, canvas, w, h, m, u, p->threads);
    free(canvas);
    ns_release(be, &x);
    ns_objective_release(&r->obj);
    ns_net_free(net);
    r->rep.block = 0;
    if (!r->dry) scale_error(ctx, st, w, h);
    return st;
}

/* Level s of the plan in `fit`: targets, start point, iterations, on the
 * level's canvas (the level and its mirrored margins).  u (host, 3 x w x h)
 * holds the start point on entry and the result, the canvas cut, on
 * return.  A dry run (the planner's) makes the same backend allocations in
 * the same order and stops before the first step. */
static enum ns_status run_scale(struct run *r, const struct plan *pl, int s, const struct level_fit *fit,
                                const struct ns_image *content, const struct ns_image *styles, int n_styles,
                                float *u) {
    struct ns_context *ctx = r->ctx;
    struct ns_backend *be = r->be;
    const struct ns_params *p = r->p;
    if (fit->block) return run_blocks(r, pl, s, fit, content, styles, n_styles, u);
    int w = pl->sw[s], h = pl->sh[s], m = pl->mg[s], cw, ch, depth = pl->rl.depth;
    ns_plan_canvas(pl, s, &cw, &ch);
    size_t n = (size_t) 3 * cw * ch;
    struct ns_net *net = NULL;
    struct ns_optim opt = {0};
    memset(&r->obj, 0, sizeof r->obj);
    float *canvas = r->dry ? NULL : malloc(sizeof(float) * n);
    if (!canvas && !r->dry)
        return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory for a %d x %d image", cw, ch);

    int rh = ch, rw = cw; /* the net covers a tile's region, or the level */
    if (fit->tile) ns_objective_region_size(r->model, depth, ch, cw, fit->tile, &rh, &rw);
    enum ns_status st = ns_net_new(r->model, depth, rh, rw, true,
                                   p->pooling == NS_POOLING_AVG ? NS_POOL_AVG : NS_POOL_MAX, &net);
    struct ns_gram_opts g = ns_run_gram_opts(p);
    if (!st)
        st = ns_objective_init_tiled(&r->obj, net, ch, cw, fit->tile, &pl->rl.content, &pl->rl.style,
                                     p->content_weight, p->style_weight, p->tv_weight);
    r->obj.measure = r->dry;
    if (!st) st = ns_objective_set_gram(&r->obj, &g);
    if (st == NS_STATUS_UNAVAILABLE && !r->dry)
        ns_set_error(ctx, st, "the %s backend cannot compute in tiles", be->ops->name);
    r->rep.tile = r->obj.tiling.tile; /* 0 where one tile covers the level */
    if (!st) st = set_regions(r, n_styles, w, h, m);
    if (!st) st = set_targets(r, content, styles, n_styles, w, h, m);
    if (!st) st = ns_optim_init(&opt, be, p->optimizer, n, p->learning_rate, fit->history, eval_cb, r);
    if (!st && !r->dry) st = canvas_from_level(u, w, h, m, canvas, p->threads);
    if (!st && !r->dry) st = iterate(r, &opt, canvas, pl->it[s], ns_plan_eval_flops(pl, s), s == 0);
    if (!st && !r->dry) st = level_from_canvas(be, opt.x, canvas, w, h, m, u, p->threads);
    free(canvas);
    ns_optim_release(&opt);
    ns_objective_release(&r->obj);
    ns_net_free(net);
    if (!r->dry) scale_error(ctx, st, w, h);
    return st;
}

enum ns_status ns_level_allocate(struct ns_backend *be, const struct ns_model *m, const struct plan *pl, int s,
                                 const struct level_fit *fit) {
    /* the paintings as large as the plan's largest, one per region */
    int n_styles = pl->p.n_style_masks > 0 ? pl->p.n_style_masks : 1;
    struct ns_image styles[NS_MAX_STYLES], content = {NULL, pl->ow, pl->oh, 3, 0};
    for (int k = 0; k < n_styles && k < NS_MAX_STYLES; k++)
        styles[k] = (struct ns_image){NULL, pl->style_w, pl->style_h, 3, 0};
    struct run r = {.be = be, .model = m, .dry = true, .p = &pl->p};
    return run_scale(&r, pl, s, fit, &content, styles, n_styles, NULL);
}

/* The start point of the first scale, host planar 3 x w x h. */
static enum ns_status initial_image(struct ns_context *ctx, const struct ns_params *p,
                                    const struct ns_image *content, int w, int h, float *u) {
    switch (p->init) {
    case NS_INIT_NOISE:
        ns_fill_noise(u, (size_t) 3 * w * h, p->seed);
        return NS_STATUS_OK;
    case NS_INIT_IMAGE:
        if (check_image(ctx, p->init_image, "initial")) return NS_STATUS_INVALID_ARGUMENT;
        return ns_resample(ns_view_image(p->init_image), ns_view_planar(u, w, h, 3), p->threads);
    default:
        return ns_resample(ns_view_image(content), ns_view_planar(u, w, h, 3), p->threads);
    }
}

/* Clamped result with the content's alpha and, optionally, its colours. */
static enum ns_status write_result(const struct ns_params *p, const struct ns_image *content, const float *u,
                                   struct ns_image *result) {
    int w = result->width, h = result->height;
    size_t hw = (size_t) w * h;
    float *tmp = malloc(sizeof(float) * 3 * hw),
          *cc = p->preserve_colors ? malloc(sizeof(float) * 3 * hw) : NULL;
    enum ns_status st = NS_STATUS_OUT_OF_MEMORY;
    if (!tmp || (p->preserve_colors && !cc)) goto out;
    struct ns_image rgb = {tmp, w, h, 3, 3 * w};
    ns_resample(ns_view_planar((float *) u, w, h, 3), ns_view_image(&rgb), p->threads);
    ns_clamp01(tmp, 3 * hw);
    if (p->preserve_colors) {
        struct ns_image crgb = {cc, w, h, 3, 3 * w};
        if ((st = ns_resample(ns_view_image(content), ns_view_image(&crgb), p->threads))) goto out;
        if ((st = ns_preserve_colors(&crgb, &rgb))) goto out;
        ns_clamp01(tmp, 3 * hw);
    }
    if (p->n_style_masks && (st = ns_masks_composite(p->style_masks, p->n_style_masks, content, &rgb, p->threads)))
        goto out;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(result->data + (size_t) y * result->stride + (size_t) x * result->channels,
                   tmp + 3 * ((size_t) y * w + x), 3 * sizeof(float));
    if (result->channels == 4) {
        struct ns_view dst = ns_view_image(result);
        dst.data += 3, dst.c = 1;
        if (content->channels == 4) {
            struct ns_view src = ns_view_image(content);
            src.data += 3, src.c = 1;
            if ((st = ns_resample(src, dst, p->threads))) goto out;
        } else {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst.data[y * dst.row + x * dst.px] = 1.0f;
        }
    }
    st = NS_STATUS_OK;
out:
    free(tmp);
    free(cc);
    return st;
}

/* Why the coarsest level's sw x sh cannot reach the deepest layer: its
 * short side, what the layer needs (its pooling, from the network), and
 * what would help. */
static enum ns_status too_small(struct ns_context *ctx, const struct run_layers *rl,
                                const struct ns_image *content, int sw, int sh, int levels) {
    struct ns_net_shape shape;
    int need = 1;
    do {
        need *= 2;
        ns_net_shape(&ctx->model, rl->depth, need, need, &shape);
    } while (ns_net_min_side(&shape) < 1 && need < 65536);
    int short_side = sw < sh ? sw : sh;
    int photo_short = content->width < content->height ? content->width : content->height;
    const char *help = levels > 1           ? "use fewer coarse-to-fine levels"
                       : photo_short < need ? "the photo itself is that narrow: crop it wider or add a border"
                                            : "raise the size";
    return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                        "the short side would be %d px (%d x %d%s), and layer %s needs at least %d px: %s",
                        short_side, sw, sh, levels > 1 ? ", the coarsest level" : "",
                        ctx->model.name[rl->depth - 1], need, help);
}

/* "2.4 GB" or, under a gigabyte, "350 MB". */
static const char *format_bytes(double bytes, char *buf, size_t n) {
    if (bytes >= 1e9)
        snprintf(buf, n, "%.1f GB", bytes / 1e9);
    else
        snprintf(buf, n, "%.0f MB", bytes / 1e6);
    return buf;
}

/* A level that does not fit the budget even in the smallest tiles, said
 * before anything is allocated. */
static enum ns_status does_not_fit(struct ns_context *ctx, const struct plan *pl, int s) {
    const struct level_fit *f = &pl->fit[s];
    char how[160] = "", need[32], have[32];
    if (f->tile)
        snprintf(how, sizeof how, " even in tiles of %d px%s", f->tile,
                 pl->p.optimizer == NS_OPTIMIZER_LBFGS ? " with a short L-BFGS history" : "");
    else if (ns_whole_levels(&pl->p)) /* the planner tried no tiles: say why */
        snprintf(how, sizeof how, " at once (%s computed on whole levels, not in tiles)",
                 pl->p.n_style_masks ? "regions are" : "the correlation chain is");
    format_bytes(f->bytes, need, sizeof need);
    format_bytes(pl->budget, have, sizeof have);
    if (pl->p.max_memory > 0 && pl->p.max_memory <= pl->budget)
        return ns_set_error(
            ctx, NS_STATUS_OUT_OF_MEMORY,
            "%d x %d px needs about %s%s, more than the memory limit of %s: raise the limit or "
            "choose a smaller size",
            pl->sw[s], pl->sh[s], need, how, have);
    return ns_set_error(
        ctx, NS_STATUS_OUT_OF_MEMORY,
        "%d x %d px needs about %s%s, but only %s of the %s's memory is free for it: choose a "
        "smaller size",
        pl->sw[s], pl->sh[s], need, how, have, ctx->kind == NS_BACKEND_CUDA ? "GPU" : "computer");
}

/* The coarse-to-fine plan of the run (levels, their steps, tiles and
 * history), with the checks that need it: every level reaches the deepest
 * layer, the styles too, and every level fits the budget. */
static enum ns_status plan_levels(struct ns_context *ctx, const struct ns_params *p,
                                  const struct ns_image *content, const struct ns_image *styles, int n_styles,
                                  struct plan *pl) {
    int big = 0; /* the largest painting sizes the memory plan */
    for (int k = 1; k < n_styles; k++)
        if ((double) styles[k].width * styles[k].height > (double) styles[big].width * styles[big].height)
            big = k;
    ns_plan_make(ctx, p, content->width, content->height, styles[big].width, styles[big].height, pl);
    const struct run_layers *rl = &pl->rl;
    struct ns_net_shape shape;
    ns_net_shape(&ctx->model, rl->depth, pl->sh[0], pl->sw[0], &shape);
    if (ns_net_min_side(&shape) < 1) return too_small(ctx, rl, content, pl->sw[0], pl->sh[0], pl->n);
    int stw, sth;
    for (int k = 0; k < n_styles; k++) {
        ns_style_size(&styles[k], pl->sw[0], pl->sh[0], p->style_scale, &stw, &sth);
        ns_net_shape(&ctx->model, rl->depth, sth, stw, &shape);
        if (ns_net_min_side(&shape) < 1)
            return ns_set_error(
                ctx, NS_STATUS_INVALID_ARGUMENT,
                "the style image would be %d x %d px, too small for layer %s: raise the style scale", stw,
                sth, ctx->model.name[rl->depth - 1]);
    }
    for (int s = 0; s < pl->n; s++)
        if (pl->fit[s].bytes > pl->budget) return does_not_fit(ctx, pl, s);
    return NS_STATUS_OK;
}

/* Runs the plan's levels in turn, each starting from the last one's result
 * enlarged; u (host, room for the largest level) holds the first level's
 * start point on entry and the last level's result on return. */
static enum ns_status run_levels(struct run *r, const struct plan *pl, const struct ns_image *content,
                                 const struct ns_image *styles, int n_styles, float *u) {
    float *prev = NULL;
    const int *sw = pl->sw, *sh = pl->sh;
    int n = pl->n;
    enum ns_status st = NS_STATUS_OK;
    for (int s = 0; s < n && !st; s++) {
        if (s > 0) { /* enlarge the previous level's result */
            st = ns_resample(ns_view_planar(prev, sw[s - 1], sh[s - 1], 3),
                             ns_view_planar(u, sw[s], sh[s], 3), r->p->threads);
            if (st) break;
            if (s == n - 1) free(prev), prev = NULL; /* not needed again: room for the largest level */
        }
        r->rep.scale = s;
        r->rep.width = sw[s];
        r->rep.height = sh[s];
        r->rep.history = pl->fit[s].history;
        st = run_scale(r, pl, s, &pl->fit[s], content, styles, n_styles, u);
        if (!st && s + 1 < n) { /* room for the level before the last */
            if (!prev && !(prev = malloc(sizeof(float) * 3 * (size_t) sw[n - 2] * sh[n - 2])))
                st = NS_STATUS_OUT_OF_MEMORY;
            else
                memcpy(prev, u, sizeof(float) * 3 * (size_t) sw[s] * sh[s]);
        }
    }
    free(prev);
    return st;
}

static enum ns_status run_on_backend(struct ns_context *ctx, const struct ns_image *content,
                                     const struct ns_image *styles, int n_styles, const struct ns_params *p,
                                     ns_progress_fn progress, void *ud, struct ns_image *result) {
    ctx->error[0] = '\0';
    enum ns_status st;
    if ((st = ns_context_set_threads(ctx, p->threads, NULL))) return st;
    if ((st = ctx->be->ops->set_precision(ctx->be, p->precision)))
        return ns_set_error(ctx, st, "the %s backend cannot compute in that precision", ctx->be->ops->name);
    struct run_layers rl;
    char err[400];
    if ((st = ns_parse_run_layers(&ctx->model, p, &rl, err, sizeof err)))
        return ns_set_error(ctx, st, "%s", err);
    struct plan *pl = malloc(sizeof *pl);
    if (!pl) return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory");
    if ((st = plan_levels(ctx, p, content, styles, n_styles, pl))) {
        free(pl);
        return st;
    }
    int ow = result->width, oh = result->height;
    struct run r = {.ctx = ctx, .be = ctx->be, .model = &ctx->model, .p = p, .progress = progress, .ud = ud,
                    .t0 = ns_now_seconds()};
    r.rep.backend = ctx->kind;
    r.rep.n_scales = pl->n;
    for (int s = 0; s < pl->n; s++) {
        r.rep.total += pl->it[s];
        r.work_total += ns_plan_eval_flops(pl, s) * (pl->it[s] + 1);
    }

    float *u = malloc(sizeof(float) * 3 * (size_t) ow * oh);
    if (!u) {
        free(pl);
        return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory for a %d x %d image", ow, oh);
    }
    if ((st = initial_image(ctx, p, content, pl->sw[0], pl->sh[0], u))) {
        free(u);
        free(pl);
        return ctx->error[0] ? st : ns_set_error(ctx, st, "cannot prepare the initial image");
    }
    struct ns_cpu_sample load0, load1;
    ns_cpu_sample_now(&load0);
    st = run_levels(&r, pl, content, styles, n_styles, u);
    ns_cpu_sample_now(&load1);
    /* how much other work slowed this run: its timing then tells the time
     * model what an idle machine would have taken */
    ctx->last_slowdown = ctx->kind == NS_BACKEND_CUDA ? 1.0 : ns_cpu_slowdown(&load0, &load1, ctx->be->threads, true);
    if (!st) st = write_result(p, content, u, result);
    free(u);
    free(pl);
    if (st == NS_STATUS_CANCELLED) ns_set_error(ctx, st, "cancelled");
    return st;
}

/* Copies of the paintings with the photo's colour mean and covariance
 * (params.match_colors); the caller's images stay as they are. */
static enum ns_status match_styles(struct ns_context *ctx, const struct ns_image *content,
                                   const struct ns_image *styles, int n, int threads, struct ns_image *out) {
    for (int k = 0; k < n; k++) {
        const struct ns_image *s = &styles[k];
        out[k] = (struct ns_image){malloc(sizeof(float) * s->width * s->height * s->channels), s->width,
                                   s->height, s->channels, s->width * s->channels};
        if (!out[k].data) {
            for (int i = 0; i < k; i++)
                free(out[i].data);
            return ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory to match the colours of a %d x %d painting",
                                s->width, s->height);
        }
        if (ns_resample(ns_view_image(s), ns_view_image(&out[k]), threads) || ns_match_colors(content, &out[k])) {
            for (int i = 0; i <= k; i++)
                free(out[i].data);
            return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                                "the colours cannot be matched: the photo or painting %d has pixels that are not numbers",
                                k + 1);
        }
    }
    return NS_STATUS_OK;
}

/* A GPU that ran out of memory or failed in auto mode hands the run to
 * the CPU: true when it did (the caller runs again), else *st as it was or
 * why the switch failed. */
static bool cpu_after_gpu(struct ns_context *ctx, enum ns_status *st) {
    if (ctx->kind != NS_BACKEND_CUDA || ctx->requested != NS_BACKEND_AUTO ||
        (*st != NS_STATUS_OUT_OF_MEMORY && *st != NS_STATUS_BACKEND_ERROR))
        return false;
    char why[1200], detail[sizeof ctx->error];
    snprintf(why, sizeof why, "auto mode fell back to the CPU: %s", ctx->error);
    snprintf(detail, sizeof detail, "%s", ctx->error);
    enum ns_gpu_state gpu = *st == NS_STATUS_OUT_OF_MEMORY ? NS_GPU_OUT_OF_MEMORY : NS_GPU_FAILED;
    *st = ns_context_use_cpu(ctx, gpu, why, detail);
    return *st == NS_STATUS_OK;
}

enum ns_status ns_run(struct ns_context *ctx, const struct ns_image *content, const struct ns_image *styles,
                      int n_styles, const struct ns_params *params, ns_progress_fn progress, void *user_data,
                      struct ns_image *result) {
    if (!ctx) return NS_STATUS_INVALID_ARGUMENT;
    if (!ctx->be) return ns_set_error(ctx, NS_STATUS_UNAVAILABLE, "the context has no backend");
    struct ns_params p = params ? *params : ns_params_default();
    enum ns_status st;
    if ((st = check_image(ctx, content, "content")) || (st = check_params(ctx, &p, n_styles))) return st;
    p.threads = ns_threads_usable(p.threads); /* resolved once: the resampling uses it too */
    for (int k = 0; k < n_styles; k++)
        if (!styles || (st = check_image(ctx, &styles[k], "style")))
            return st ? st : NS_STATUS_INVALID_ARGUMENT;
    if ((st = check_image(ctx, result, "result"))) return st;
    int ow, oh;
    ns_output_size(&p, content->width, content->height, &ow, &oh);
    if (result->width != ow || result->height != oh)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "the result must be %d x %d (ns_output_size), not %d x %d", ow, oh, result->width,
                            result->height);

    struct ns_image warm = {0}, matched[NS_MAX_STYLES] = {{0}};
    if (p.init == NS_INIT_MODEL) {
        st = ns_warm_start(ctx, &p, content, ow, oh, &warm);
        if (st && cpu_after_gpu(ctx, &st)) st = ns_warm_start(ctx, &p, content, ow, oh, &warm);
        if (st) return st;
        p.init = NS_INIT_IMAGE, p.init_image = &warm;
    }
    if (p.match_colors && (st = match_styles(ctx, content, styles, n_styles, p.threads, matched))) {
        free(warm.data);
        return st;
    }
    if (p.match_colors) styles = matched;
    st = run_on_backend(ctx, content, styles, n_styles, &p, progress, user_data, result);
    if (st && cpu_after_gpu(ctx, &st)) st = run_on_backend(ctx, content, styles, n_styles, &p, progress, user_data, result);
    for (int k = 0; k < n_styles; k++)
        free(matched[k].data);
    free(warm.data);
    return st;
}
