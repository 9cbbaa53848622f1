/* blocks.c - a level optimised block by block, when even tiles leave no
 * room for an optimiser's state over the whole image.
 *
 * The level's pixels are cut into blocks (a tiling's tiles).  Each block in
 * turn takes `steps` steps of its own optimiser over its pixels alone, the
 * rest of the image held, on the objective of the whole image: block
 * coordinate descent.  What a block's pixels change are the features of its
 * reach (the block grown by the halo, see tiles.h), which the net computes
 * exactly from the reach grown again.  So each step sees
 *   - content: the reach's terms, against the content features of the
 *     reach, computed afresh for each block from the content canvas;
 *   - style: the whole image's Gram matrices, G = (G of all but the reach,
 *     fixed for the block) + (the reach's share, recomputed each step);
 *   - TV: the terms of the reach's region;
 * plus the terms of the rest, which the block cannot change: their values
 * are kept so that every step reports the whole image's objective, and its
 * gradient with respect to the block's pixels is the whole objective's.
 * The memory is the canvas, the content canvas, one reach's net and one
 * block's optimiser, so it hardly grows with the image.
 */
#include "objective.h"
#include "optim.h"

#include <string.h>

struct blocks {
    struct ns_objective *o;
    struct ns_backend *be;
    struct ns_buf *x;                   /* the level's canvas, 3 x h x w */
    const struct ns_buf *photo;         /* the content canvas */
    struct ns_buf *rfix;                /* the reach's region of x with the block zeroed */
    struct ns_buf *xb;                  /* the block's start point */
    struct ns_buf *gall[NS_MAX_LAYERS]; /* per style[i]: the whole image's Gram less the target */
    struct ns_buf *gfix[NS_MAX_LAYERS]; /* per style[i]: gall less the reach's share */
    struct ns_tile block, reach;
    int by, bx, bh, bw; /* the block in the reach's region */
    double content_rest, tv_rest, norm_tv;
    double content, tv; /* the whole image's, at the current x */
};

static int rows_of(const struct ns_tile *t) {
    return t->ry1 - t->ry0;
}
static int cols_of(const struct ns_tile *t) {
    return t->rx1 - t->rx0;
}

static size_t gram_floats(const struct ns_objective *o, int i) {
    int c = o->full.c[o->style.layer[i]];
    return (size_t) c * c;
}

/* The content targets of tile t's interior, from the content canvas. */
static enum ns_status content_at(struct blocks *b, const struct ns_tile *t) {
    struct ns_objective *o = b->o;
    ns_objective_target_at(o, t);
    for (int i = 0; i < o->content.n; i++)
        b->be->ops->fill(b->be, o->target_p[i], 0.0f,
                         (size_t) o->full.c[o->content.layer[i]] * o->tgt[i].h * o->tgt[i].w);
    return ns_tiled_tile_content(o, b->photo, t);
}

/* Forward pass of o->region at the objective's tile, accumulating each
 * style Gram share into gsum (which holds `from` first, or zero) and the
 * content sums into their slots; with grad, the backward too, TV added.
 * *content and *tv get the tile's weighted content and its region's TV. */
static enum ns_status region_pass(struct blocks *b, struct ns_buf *const *from, bool grad, double *content,
                                  double *tv) {
    struct ns_objective *o = b->o;
    struct ns_backend *be = b->be;
    const struct ns_tile *t = o->at;
    for (int i = 0; i < o->style.n; i++) {
        if (from)
            be->ops->copy(be, o->gsum[i], from[i], gram_floats(o, i));
        else
            be->ops->fill(be, o->gsum[i], 0.0f, gram_floats(o, i));
    }
    double v[NS_MAX_LAYERS];
    enum ns_status st = ns_tiled_tile_pass(o, grad, v);
    if (st) return st;
    *content = 0;
    for (int i = 0; i < o->content.n; i++)
        *content += o->content.weight[i] * v[i] / o->p_norm2[i];
    be->ops->tv_loss(be, o->region, 3, rows_of(t), cols_of(t), (float) (o->tv_weight / b->norm_tv),
                     grad ? o->gregion : NULL, NS_SLOT_TV);
    if ((st = be->ops->read_scalars(be, NS_SLOT_TV, 1, tv))) return st;
    *tv /= b->norm_tv;
    return NS_STATUS_OK;
}

/* The whole image's style term from gsum (the Grams less the targets). */
static enum ns_status style_value(struct blocks *b, double *style) {
    struct ns_objective *o = b->o;
    double v[NS_MAX_LAYERS];
    for (int i = 0; i < o->style.n; i++)
        b->be->ops->dots(b->be, NS_BUFS(&o->gsum[i]), 1, o->gsum[i], gram_floats(o, i), NS_SLOT_STYLE + i);
    enum ns_status st = o->style.n ? b->be->ops->read_scalars(b->be, NS_SLOT_STYLE, o->style.n, v) : 0;
    *style = 0;
    for (int i = 0; i < o->style.n && !st; i++)
        *style += o->style.weight[i] * v[i] / o->t_norm2[i];
    return st;
}

static void whole_terms(const struct blocks *b, double content, double style, double tv, struct ns_terms *t) {
    const struct ns_objective *o = b->o;
    t->content = content, t->style = style, t->tv = tv;
    t->loss = o->content_weight * content + o->style_weight * style + o->tv_weight * tv;
}

/* The optimiser's objective: the block's pixels xb placed into the reach. */
static enum ns_status block_eval(void *ud, const struct ns_buf *xb, struct ns_buf *grad, struct ns_terms *t) {
    struct blocks *b = ud;
    struct ns_objective *o = b->o;
    struct ns_backend *be = b->be;
    int rh = rows_of(&b->reach), rw = cols_of(&b->reach);
    be->ops->copy(be, o->region, b->rfix, (size_t) 3 * rh * rw);
    be->ops->add_window(be, xb, 3, b->bh, b->bw, b->by, b->bx, rh, rw, o->region);
    double content, style, tv;
    enum ns_status st = region_pass(b, b->gfix, grad != NULL, &content, &tv);
    if (!st) st = style_value(b, &style);
    if (st) return st;
    if (grad) be->ops->crop(be, o->gregion, 3, rh, rw, b->by, b->bx, b->bh, b->bw, grad);
    whole_terms(b, b->content_rest + content, style, b->tv_rest + tv, t);
    return NS_STATUS_OK;
}

/* The whole image's Grams, content and TV at x, block by block. */
static enum ns_status whole_pass(struct blocks *b, struct ns_terms *terms) {
    struct ns_objective *o = b->o;
    struct ns_backend *be = b->be;
    const struct ns_tiling *tl = &o->tiling;
    double raw[NS_MAX_LAYERS] = {0}, norm[NS_MAX_LAYERS] = {0}, v[NS_MAX_LAYERS];
    for (int i = 0; i < o->style.n; i++)
        be->ops->fill(be, o->gsum[i], 0.0f, gram_floats(o, i));
    enum ns_status st = NS_STATUS_OK;
    for (int k = 0; k < tl->ny * tl->nx && !st; k++) {
        ns_tiling_get(tl, k, &b->block);
        if ((st = content_at(b, &b->block))) break;
        for (int i = 0; i < o->content.n; i++)
            be->ops->dots(be, NS_BUFS(&o->target_p[i]), 1, o->target_p[i],
                          (size_t) o->full.c[o->content.layer[i]] * o->tgt[i].h * o->tgt[i].w,
                          NS_SLOT_NORM + i);
        if (o->content.n && (st = be->ops->read_scalars(be, NS_SLOT_NORM, o->content.n, v))) break;
        for (int i = 0; i < o->content.n; i++)
            norm[i] += v[i];
        if ((st = ns_tiled_enter(o, b->x, &b->block)) || (st = ns_tiled_tile_pass(o, false, v))) break;
        for (int i = 0; i < o->content.n; i++)
            raw[i] += v[i];
    }
    if (st) return st;
    b->content = 0;
    for (int i = 0; i < o->content.n; i++) {
        o->p_norm2[i] = norm[i] > 1e-30 ? norm[i] : 1.0; /* as target_norms floors it */
        b->content += o->content.weight[i] * raw[i] / o->p_norm2[i];
    }
    for (int i = 0; i < o->style.n; i++) {
        be->ops->axpby(be, -1.0f, o->target_t[i], 1.0f, o->gsum[i], gram_floats(o, i));
        be->ops->copy(be, b->gall[i], o->gsum[i], gram_floats(o, i));
    }
    double style;
    be->ops->tv_loss(be, b->x, 3, tl->h, tl->w, 0.0f, NULL, NS_SLOT_TV);
    if ((st = be->ops->read_scalars(be, NS_SLOT_TV, 1, &b->tv)) || (st = style_value(b, &style))) return st;
    b->tv /= b->norm_tv;
    whole_terms(b, b->content, style, b->tv, terms);
    return NS_STATUS_OK;
}

/* Block k's geometry, content targets, fixed region and start point; the
 * terms of the rest of the image. */
static enum ns_status enter_block(struct blocks *b, int shift, int k) {
    struct ns_objective *o = b->o;
    struct ns_backend *be = b->be;
    ns_block_get(&o->tiling, shift, k, &b->block, &b->reach);
    b->by = b->block.y0 - b->reach.ry0, b->bx = b->block.x0 - b->reach.rx0;
    b->bh = b->block.y1 - b->block.y0, b->bw = b->block.x1 - b->block.x0;
    enum ns_status st = content_at(b, &b->reach);
    if (!st) st = ns_tiled_enter(o, b->x, &b->reach);
    double content, tv;
    if (!st) st = region_pass(b, NULL, false, &content, &tv); /* gsum = the reach's share */
    if (st) return st;
    for (int i = 0; i < o->style.n; i++) { /* gfix = gall - share */
        be->ops->copy(be, b->gfix[i], b->gall[i], gram_floats(o, i));
        be->ops->axpby(be, -1.0f, o->gsum[i], 1.0f, b->gfix[i], gram_floats(o, i));
    }
    b->content_rest = b->content - content;
    b->tv_rest = b->tv - tv;
    int rh = rows_of(&b->reach), rw = cols_of(&b->reach);
    size_t nb = (size_t) 3 * b->bh * b->bw;
    be->ops->copy(be, b->rfix, o->region, (size_t) 3 * rh * rw);
    be->ops->crop(be, b->rfix, 3, rh, rw, b->by, b->bx, b->bh, b->bw, b->xb);
    be->ops->axpby(be, -1.0f, b->xb, 0.0f, b->xb, nb);
    be->ops->add_window(be, b->xb, 3, b->bh, b->bw, b->by, b->bx, rh, rw, b->rfix); /* x - x = 0 exactly */
    be->ops->axpby(be, -1.0f, b->xb, 0.0f, b->xb, nb);
    return NS_STATUS_OK;
}

/* The block's best point into x, and the whole image's Grams and terms
 * there. */
static enum ns_status leave_block(struct blocks *b, const struct ns_optim *opt) {
    struct ns_objective *o = b->o;
    struct ns_backend *be = b->be;
    size_t nb = (size_t) 3 * b->bh * b->bw;
    struct ns_terms t;
    enum ns_status st = block_eval(b, opt->x, NULL, &t); /* gsum at the best point */
    if (st) return st;
    for (int i = 0; i < o->style.n; i++)
        be->ops->copy(be, b->gall[i], o->gsum[i], gram_floats(o, i));
    b->content = t.content, b->tv = t.tv;
    be->ops->axpby(be, 1.0f, opt->x, -1.0f, b->xb, nb); /* xb = best - start */
    be->ops->add_window(be, b->xb, 3, b->bh, b->bw, b->block.y0, b->block.x0, o->tiling.h, o->tiling.w, b->x);
    return be->ops->sync(be);
}

static void release_blocks(struct blocks *b) {
    if (!b->be) return;
    ns_release(b->be, &b->rfix);
    ns_release(b->be, &b->xb);
    for (int i = 0; i < NS_MAX_LAYERS; i++)
        ns_release(b->be, &b->gall[i]), ns_release(b->be, &b->gfix[i]);
}

static enum ns_status alloc_blocks(struct blocks *b) {
    struct ns_objective *o = b->o;
    size_t rn = (size_t) 3 * o->net->cap_h * o->net->cap_w, nb = (size_t) 3 * o->tiling.tile * o->tiling.tile;
    bool ok = (b->rfix = ns_alloc_f32(b->be, rn)) && (b->xb = ns_alloc_f32(b->be, nb));
    for (int i = 0; i < o->style.n && ok; i++)
        ok = (b->gall[i] = ns_alloc_f32(b->be, gram_floats(o, i))) &&
             (b->gfix[i] = ns_alloc_f32(b->be, gram_floats(o, i)));
    b->norm_tv = 3.0 * o->tiling.h * o->tiling.w;
    return ok ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
}

enum ns_status ns_blocks_eval(struct ns_objective *o, struct ns_buf *x, const struct ns_buf *content, int k,
                              struct ns_buf *grad, struct ns_terms *start, struct ns_terms *terms) {
    struct blocks b = {.o = o, .be = o->net->be, .x = x, .photo = content};
    enum ns_status st = o->block ? alloc_blocks(&b) : NS_STATUS_INVALID_ARGUMENT;
    if (!st) st = whole_pass(&b, start);
    if (!st) st = enter_block(&b, 0, k);
    if (!st) st = block_eval(&b, b.xb, grad, terms);
    release_blocks(&b);
    return st;
}

enum ns_status ns_blocks_reserve(struct ns_objective *o, enum ns_optimizer kind, int history) {
    if (!o->block) return NS_STATUS_INVALID_ARGUMENT;
    struct blocks b = {.o = o, .be = o->net->be};
    const struct ns_tiling *tl = &o->tiling;
    struct ns_optim opt = {0};
    /* the largest block's optimiser, as ns_blocks_optimise makes it */
    int bh = tl->tile < tl->h ? tl->tile : tl->h, bw = tl->tile < tl->w ? tl->tile : tl->w;
    enum ns_status st = alloc_blocks(&b);
    if (!st) st = ns_optim_init(&opt, b.be, kind, (size_t) 3 * bh * bw, 0.0f, history, block_eval, &b);
    ns_optim_release(&opt);
    release_blocks(&b);
    return st;
}

/* Sweeps over the blocks: the grid moved by half a block every other
 * sweep, so that no block's edge stays where the last sweep left one.  Two
 * halved the seams of a run from the photo itself (docs/engine.md). */
#define NS_BLOCK_SWEEPS 2

enum ns_status ns_blocks_optimise(struct ns_objective *o, struct ns_buf *x, const struct ns_buf *content,
                                  enum ns_optimizer kind, float lr, int history, int steps,
                                  ns_block_report_fn report, void *ud) {
    if (!o->block) return NS_STATUS_INVALID_ARGUMENT;
    struct blocks b = {.o = o, .be = o->net->be, .x = x, .photo = content};
    const struct ns_tiling *tl = &o->tiling;
    enum ns_status st = alloc_blocks(&b);
    struct ns_terms t;
    int sweeps = steps < NS_BLOCK_SWEEPS ? steps : NS_BLOCK_SWEEPS, half = tl->tile / 2 / tl->jump * tl->jump,
        total = 0, done = 0;
    for (int j = 0; j < sweeps; j++)
        total += ns_block_count(tl, j % 2 ? half : 0) * (steps / sweeps + (j < steps % sweeps));
    if (!st) st = whole_pass(&b, &t);
    if (!st && report && !report(ud, &t, 0, total)) st = NS_STATUS_CANCELLED;
    for (int j = 0; j < sweeps && !st; j++) {
        int shift = j % 2 ? half : 0, visit = steps / sweeps + (j < steps % sweeps);
        for (int k = 0; k < ns_block_count(tl, shift) && !st; k++) {
            struct ns_optim opt = {0};
            if (!(st = enter_block(&b, shift, k)))
                st = ns_optim_init(&opt, b.be, kind, (size_t) 3 * b.bh * b.bw, lr, history, block_eval, &b);
            if (!st) st = ns_optim_start(&opt, b.xb);
            for (int i = 1; i <= visit && !st; i++) {
                if (!opt.converged) st = ns_optim_step(&opt);
                if (!st && report && !report(ud, &opt.fx, ++done, total)) st = NS_STATUS_CANCELLED;
            }
            if (!st) st = leave_block(&b, &opt);
            ns_optim_release(&opt);
        }
    }
    release_blocks(&b);
    return st;
}
