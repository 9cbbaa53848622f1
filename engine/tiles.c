/* tiles.c - the tiled objective (see tiles.h for what is exact and why). */
#include "objective.h"

#include <string.h>

void ns_tiling_plan(const struct ns_net_shape *full, int tile, struct ns_tiling *t) {
    memset(t, 0, sizeof *t);
    t->h = full->depth ? full->h[0] : 0;
    t->w = full->depth ? full->w[0] : 0;
    struct ns_net_support r = {0, 0, 1};
    if (full->depth) ns_net_support(full, full->depth - 1, &r);
    t->jump = r.jump;
    t->halo = ns_net_halo(full);
    if (tile <= 0 || t->h < 1) return;
    t->tile = (tile + t->jump - 1) / t->jump * t->jump;
    t->ny = (t->h + t->tile - 1) / t->tile;
    t->nx = (t->w + t->tile - 1) / t->tile;
}

void ns_tiling_get(const struct ns_tiling *t, int i, struct ns_tile *out) {
    int ty = i / t->nx, tx = i % t->nx;
    out->y0 = ty * t->tile;
    out->x0 = tx * t->tile;
    out->y1 = out->y0 + t->tile < t->h ? out->y0 + t->tile : t->h;
    out->x1 = out->x0 + t->tile < t->w ? out->x0 + t->tile : t->w;
    /* y0 and the halo are multiples of the jump: the region keeps the grid */
    out->ry0 = out->y0 > t->halo ? out->y0 - t->halo : 0;
    out->rx0 = out->x0 > t->halo ? out->x0 - t->halo : 0;
    out->ry1 = out->y1 + t->halo < t->h ? out->y1 + t->halo : t->h;
    out->rx1 = out->x1 + t->halo < t->w ? out->x1 + t->halo : t->w;
}

/* [a - halo, b + halo) clipped to [0, side) */
static void grow(int a, int b, int halo, int side, int *ga, int *gb) {
    *ga = a > halo ? a - halo : 0;
    *gb = b + halo < side ? b + halo : side;
}

/* Blocks along a side: the first `shift` px (0 = none), then `tile` each. */
static int blocks_along(int side, int tile, int shift) {
    if (shift <= 0 || shift >= side) return (side + tile - 1) / tile;
    return 1 + (side - shift + tile - 1) / tile;
}

static void block_span(int side, int tile, int shift, int k, int *a, int *b) {
    if (shift <= 0 || shift >= side) shift = 0;
    *a = !shift ? k * tile : k ? shift + (k - 1) * tile : 0;
    *b = !shift ? *a + tile : shift + k * tile;
    if (*b > side) *b = side;
}

int ns_block_count(const struct ns_tiling *t, int shift) {
    return blocks_along(t->h, t->tile, shift) * blocks_along(t->w, t->tile, shift);
}

void ns_block_get(const struct ns_tiling *t, int shift, int i, struct ns_tile *block, struct ns_tile *reach) {
    int nx = blocks_along(t->w, t->tile, shift);
    block_span(t->h, t->tile, shift, i / nx, &block->y0, &block->y1);
    block_span(t->w, t->tile, shift, i % nx, &block->x0, &block->x1);
    grow(block->y0, block->y1, t->halo, t->h, &block->ry0, &block->ry1);
    grow(block->x0, block->x1, t->halo, t->w, &block->rx0, &block->rx1);
    reach->y0 = block->ry0, reach->y1 = block->ry1, reach->x0 = block->rx0, reach->x1 = block->rx1;
    grow(reach->y0, reach->y1, t->halo, t->h, &reach->ry0, &reach->ry1);
    grow(reach->x0, reach->x1, t->halo, t->w, &reach->rx0, &reach->rx1);
}

int ns_block_region(const struct ns_tiling *t, bool rows) {
    int side = rows ? t->h : t->w;
    if (!t->tile) return side;
    int r = t->tile + 4 * t->halo;
    return r < side ? r : side;
}

int ns_tiling_region(const struct ns_tiling *t, bool rows) {
    int side = rows ? t->h : t->w;
    if (!t->tile) return side;
    int r = t->tile + 2 * t->halo;
    return r < side ? r : side;
}

/* A tile's interior at layer l: in the whole level's feature grid (gy, gx)
 * and in its region's (wy, wx), h x w features; h or w is 0 where the
 * layer's pooling dropped the interior's last rows or columns. */
struct window {
    int gy, gx, wy, wx, h, w;
};

static struct window window_in(const struct ns_net_shape *full, const struct ns_tile *t, int l) {
    struct ns_net_support r;
    ns_net_support(full, l, &r);
    int j = r.jump, gy1 = t->y1 == full->h[0] ? full->h[l] : t->y1 / j;
    int gx1 = t->x1 == full->w[0] ? full->w[l] : t->x1 / j;
    struct window win = {t->y0 / j, t->x0 / j, t->y0 / j - t->ry0 / j, t->x0 / j - t->rx0 / j, 0, 0};
    win.h = gy1 > win.gy ? gy1 - win.gy : 0;
    win.w = gx1 > win.gx ? gx1 - win.gx : 0;
    return win;
}

static struct window window_at(const struct ns_objective *o, const struct ns_tile *t, int l) {
    return window_in(&o->full, t, l);
}

size_t ns_block_target_elems(const struct ns_net_shape *full, const struct ns_tiling *t, int layer) {
    struct ns_net_support r;
    ns_net_support(full, layer, &r);
    /* a reach's interior spans at most tile + 2 halo px, a feature more
     * where the grid rounds */
    size_t side = (size_t) (t->tile + 2 * t->halo) / r.jump + 1;
    size_t h = side < (size_t) full->h[layer] ? side : (size_t) full->h[layer];
    size_t w = side < (size_t) full->w[layer] ? side : (size_t) full->w[layer];
    return (size_t) full->c[layer] * h * w;
}

size_t ns_block_window_elems(const struct ns_net_shape *full, const struct ns_tiling *t) {
    size_t most = 0;
    for (int l = 0; l < full->depth; l++) {
        size_t n = ns_block_target_elems(full, t, l);
        most = n > most ? n : most;
    }
    return most;
}

void ns_objective_target_at(struct ns_objective *o, const struct ns_tile *t) {
    for (int i = 0; i < o->content.n; i++) {
        struct window win = window_in(&o->full, t, o->content.layer[i]);
        o->tgt[i] = (struct ns_rect){win.gy, win.gx, win.h, win.w};
    }
}

/* Crops the tile's region of u (3 x h x w) into o->region and sizes the
 * net for it. */
static enum ns_status enter_region(struct ns_objective *o, const struct ns_buf *u, int h, int w,
                                   const struct ns_tile *t) {
    struct ns_backend *be = o->net->be;
    int rh = t->ry1 - t->ry0, rw = t->rx1 - t->rx0;
    enum ns_status st = ns_net_set_size(o->net, rh, rw);
    if (st) return st;
    be->ops->crop(be, u, 3, h, w, t->ry0, t->rx0, rh, rw, o->region);
    o->at = t;
    return NS_STATUS_OK;
}

static enum ns_status enter_tile(struct ns_objective *o, const struct ns_buf *u, const struct ns_tile *t) {
    return enter_region(o, u, o->tiling.h, o->tiling.w, t);
}

/* Copies the interior's features at `layer` into the content targets. */
static void content_window(void *ud, int layer, const struct ns_buf *act) {
    struct ns_objective *o = ud;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    for (int i = 0; i < o->content.n; i++) {
        if (o->content.layer[i] != layer) continue;
        struct window win = window_at(o, o->at, layer);
        if (!win.h || !win.w) continue;
        int c = s->c[layer];
        const struct ns_rect *r = &o->tgt[i];
        be->ops->crop(be, act, c, s->h[layer], s->w[layer], win.wy, win.wx, win.h, win.w, o->win);
        /* the targets start zeroed, so adding the window copies it */
        be->ops->add_window(be, o->win, c, win.h, win.w, win.gy - r->y, win.gx - r->x, r->h, r->w,
                            o->target_p[i]);
    }
}

enum ns_status ns_tiled_content(struct ns_objective *o, const struct ns_buf *u_content) {
    struct ns_backend *be = o->net->be;
    if (o->measure) return NS_STATUS_OK; /* millions of tiles on a huge photo */
    for (int i = 0; i < o->content.n; i++) {
        int l = o->content.layer[i];
        o->tgt[i] = (struct ns_rect){0, 0, o->full.h[l], o->full.w[l]};
        be->ops->fill(be, o->target_p[i], 0.0f, (size_t) o->full.c[l] * o->full.h[l] * o->full.w[l]);
    }
    for (int k = 0; k < o->tiling.ny * o->tiling.nx; k++) {
        struct ns_tile t;
        ns_tiling_get(&o->tiling, k, &t);
        enum ns_status st = enter_tile(o, u_content, &t);
        if (st) return st;
        ns_net_forward(o->net, o->region, content_window, o);
    }
    return be->ops->sync(be);
}

/* Whether a content or style term reads `layer`. */
static bool layer_used(const struct ns_objective *o, int layer) {
    for (int i = 0; i < o->content.n; i++)
        if (o->content.layer[i] == layer) return true;
    for (int i = 0; i < o->style.n; i++)
        if (o->style.layer[i] == layer) return true;
    return false;
}

/* The tile's interior at `layer` into *win and its features into o->win;
 * false when no term reads the layer or the interior has no features there. */
static bool crop_window(struct ns_objective *o, int layer, const struct ns_buf *act, struct window *win) {
    const struct ns_net_shape *s = &o->net->s;
    *win = window_at(o, o->at, layer);
    if (!win->h || !win->w || !layer_used(o, layer)) return false;
    o->net->be->ops->crop(o->net->be, act, s->c[layer], s->h[layer], s->w[layer], win->wy, win->wx, win->h,
                          win->w, o->win);
    return true;
}

/* Content target i's part under the window into o->pwin. */
static void target_window(struct ns_objective *o, int i, const struct window *win) {
    const struct ns_rect *r = &o->tgt[i];
    int c = o->full.c[o->content.layer[i]];
    o->net->be->ops->crop(o->net->be, o->target_p[i], c, r->h, r->w, win->gy - r->y, win->gx - r->x, win->h,
                          win->w, o->pwin);
}

/* First pass at `layer`: the content terms' values, and each interior's
 * share of the Gram matrices, F F^T / M with M the whole level's pixels. */
static void first_pass(void *ud, int layer, const struct ns_buf *act) {
    struct ns_objective *o = ud;
    struct ns_backend *be = o->net->be;
    struct window win;
    if (!crop_window(o, layer, act, &win)) return;
    int c = o->net->s.c[layer];
    size_t m = (size_t) win.h * win.w;
    for (int i = 0; i < o->content.n; i++) {
        if (o->content.layer[i] != layer) continue;
        target_window(o, i, &win);
        be->ops->content_loss(be, o->win, o->pwin, (size_t) c * m, 0.0f, NULL, NS_SLOT_CONTENT + i);
    }
    for (int i = 0; i < o->style.n; i++) { /* a layer is listed once: shifted once, after the content */
        if (o->style.layer[i] != layer) continue;
        be->ops->gram(be, ns_gram_shifted(o, o->win, c, m, o->win), c, m, o->scratch);
        double share = (double) m / ((double) o->full.h[layer] * o->full.w[layer]);
        be->ops->axpby(be, (float) share, o->scratch, 1.0f, o->gsum[i], (size_t) c * c);
    }
}

/* Second pass at `layer`: the interior's content and style gradients,
 * added into g where the interior lies in the region. */
static void second_pass(void *ud, int layer, const struct ns_buf *act, struct ns_buf *g) {
    struct ns_objective *o = ud;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    struct window win;
    if (!crop_window(o, layer, act, &win)) return;
    int c = s->c[layer];
    size_t m = (size_t) win.h * win.w, full_m = (size_t) o->full.h[layer] * o->full.w[layer];
    be->ops->fill(be, o->gwin, 0.0f, (size_t) c * m);
    for (int i = 0; i < o->content.n; i++) {
        if (o->content.layer[i] != layer) continue;
        float coef = (float) (o->content_weight * o->content.weight[i] / o->p_norm2[i]);
        target_window(o, i, &win);
        be->ops->content_loss(be, o->win, o->pwin, (size_t) c * m, coef, o->gwin, NS_SLOT_CONTENT + i);
    }
    for (int i = 0; i < o->style.n; i++) {
        if (o->style.layer[i] != layer) continue;
        /* d/dF sum (G - T)^2 = 4 (G - T) F / M, G the whole level's Gram (of F + X) */
        float coef = (float) (o->style_weight * o->style.weight[i] / o->t_norm2[i]);
        be->ops->gram_grad(be, o->gsum[i], ns_gram_shifted(o, o->win, c, m, o->win), c, m,
                           4.0f * coef / (float) full_m, o->gwin);
    }
    be->ops->add_window(be, o->gwin, c, win.h, win.w, win.wy, win.wx, s->h[layer], s->w[layer], g);
}

/* Forward over every tile: content values summed on the host, Gram
 * matrices into gsum, then gsum -= targets and the style values. */
static enum ns_status gram_pass(struct ns_objective *o, const struct ns_buf *u, double *content,
                                double *style) {
    struct ns_backend *be = o->net->be;
    enum ns_status st;
    for (int i = 0; i < o->style.n; i++) {
        int c = o->full.c[o->style.layer[i]];
        be->ops->fill(be, o->gsum[i], 0.0f, (size_t) c * c);
    }
    memset(content, 0, sizeof(double) * (size_t) o->content.n);
    for (int k = 0; k < o->tiling.ny * o->tiling.nx; k++) {
        struct ns_tile t;
        double v[NS_MAX_LAYERS];
        ns_tiling_get(&o->tiling, k, &t);
        if ((st = enter_tile(o, u, &t))) return st;
        ns_net_forward(o->net, o->region, first_pass, o);
        if (o->content.n && (st = be->ops->read_scalars(be, NS_SLOT_CONTENT, o->content.n, v))) return st;
        for (int i = 0; i < o->content.n; i++) { /* a layer the interior misses left its slot stale */
            struct window win = window_at(o, &t, o->content.layer[i]);
            content[i] += win.h && win.w ? v[i] : 0.0;
        }
    }
    for (int i = 0; i < o->style.n; i++) {
        int c = o->full.c[o->style.layer[i]];
        be->ops->axpby(be, -1.0f, o->target_t[i], 1.0f, o->gsum[i], (size_t) c * c);
        be->ops->dots(be, NS_BUFS(&o->gsum[i]), 1, o->gsum[i], (size_t) c * c, NS_SLOT_STYLE + i);
    }
    return o->style.n ? be->ops->read_scalars(be, NS_SLOT_STYLE, o->style.n, style) : NS_STATUS_OK;
}

enum ns_status ns_tiled_enter(struct ns_objective *o, const struct ns_buf *u, const struct ns_tile *t) {
    return enter_tile(o, u, t);
}

enum ns_status ns_tiled_tile_content(struct ns_objective *o, const struct ns_buf *u_content,
                                     const struct ns_tile *t) {
    enum ns_status st = enter_tile(o, u_content, t);
    if (st) return st;
    ns_net_forward(o->net, o->region, content_window, o);
    return NS_STATUS_OK;
}

enum ns_status ns_tiled_tile_pass(struct ns_objective *o, bool grad, double *content) {
    struct ns_backend *be = o->net->be;
    ns_net_forward(o->net, o->region, first_pass, o);
    if (grad) ns_net_backward(o->net, second_pass, o, o->gregion);
    double v[NS_MAX_LAYERS];
    enum ns_status st = o->content.n ? be->ops->read_scalars(be, NS_SLOT_CONTENT, o->content.n, v) : 0;
    for (int i = 0; i < o->content.n; i++) { /* a layer the interior misses left its slot stale */
        struct window win = window_at(o, o->at, o->content.layer[i]);
        content[i] = win.h && win.w ? v[i] : 0.0;
    }
    return st;
}

enum ns_status ns_tiled_eval(struct ns_objective *o, const struct ns_buf *u, struct ns_buf *grad,
                             double *content, double *style) {
    struct ns_backend *be = o->net->be;
    enum ns_status st = gram_pass(o, u, content, style);
    if (st || !grad) return st;
    be->ops->fill(be, grad, 0.0f, (size_t) 3 * o->tiling.h * o->tiling.w);
    for (int k = 0; k < o->tiling.ny * o->tiling.nx; k++) {
        struct ns_tile t;
        ns_tiling_get(&o->tiling, k, &t);
        if ((st = enter_tile(o, u, &t))) return st;
        ns_net_forward(o->net, o->region, NULL, NULL);
        ns_net_backward(o->net, second_pass, o, o->gregion);
        be->ops->add_window(be, o->gregion, 3, t.ry1 - t.ry0, t.rx1 - t.rx0, t.ry0, t.rx0, o->tiling.h,
                            o->tiling.w, grad);
    }
    return be->ops->sync(be);
}

/* Style Grams in tiles: the painting cut as the level is, through the
 * objective's own net, so that a large painting needs no net of its own. */
struct style_tiles {
    struct ns_objective *o;
    struct ns_net_shape full; /* the painting's whole shape */
    float blend;
};

/* Adds blend * (the interior's share of the Gram at `layer`) to the targets. */
static void style_window(void *ud, int layer, const struct ns_buf *act) {
    struct style_tiles *st = ud;
    struct ns_objective *o = st->o;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    struct window win = window_in(&st->full, o->at, layer);
    for (int i = 0; i < o->style.n && win.h && win.w; i++) {
        if (o->style.layer[i] != layer) continue;
        int c = s->c[layer];
        size_t m = (size_t) win.h * win.w;
        be->ops->crop(be, act, c, s->h[layer], s->w[layer], win.wy, win.wx, win.h, win.w, o->win);
        be->ops->gram(be, ns_gram_shifted(o, o->win, c, m, o->win), c, m, o->scratch);
        double share = (double) m / ((double) st->full.h[layer] * st->full.w[layer]);
        be->ops->axpby(be, (float) (st->blend * share), o->scratch, 1.0f, o->target_t[i], (size_t) c * c);
    }
}

int ns_tiling_style(const struct ns_model *m, int depth, const struct ns_tiling *level, int cap_h, int cap_w,
                    int sh, int sw) {
    if (!level->tile) return 0;
    struct ns_net_shape full;
    struct ns_tiling t;
    ns_net_shape(m, depth, sh, sw, &full);
    /* a tile whose region fits the net that the level's tiles sized */
    int cap = cap_h < cap_w ? cap_h : cap_w;
    int side = (cap - 2 * level->halo) / level->jump * level->jump;
    if (side > level->tile) side = level->tile;
    if (side < level->jump) return 0;
    ns_tiling_plan(&full, side, &t);
    if (ns_tiling_region(&t, true) > cap_h || ns_tiling_region(&t, false) > cap_w) return 0;
    return side;
}

enum ns_status ns_tiled_style(struct ns_objective *o, const struct ns_buf *u_style, int sh, int sw, int tile,
                              float blend) {
    struct style_tiles acc = {o, {0}, blend};
    struct ns_tiling t;
    if (o->measure) return NS_STATUS_OK;
    ns_net_shape(o->net->m, o->net->s.depth, sh, sw, &acc.full);
    ns_tiling_plan(&acc.full, tile, &t);
    for (int k = 0; k < t.ny * t.nx; k++) {
        struct ns_tile tt;
        ns_tiling_get(&t, k, &tt);
        enum ns_status st = enter_region(o, u_style, sh, sw, &tt);
        if (st) return st;
        ns_net_forward(o->net, o->region, style_window, &acc);
    }
    return o->net->be->ops->sync(o->net->be);
}
