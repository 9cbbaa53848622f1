/* gram_opts.c - Novak & Nikulin's changes to the style term: geometric layer
 * weights, the activation shift and the correlation chain.
 *
 *   shift:  G_l = (F_l + X)(F_l + X)^T / M_l, for the image and the targets
 *   chain:  G_{l,l'} = (P^k F_l + X)(F_l' + X)^T / M_l' for adjacent style
 *           layers l < l', P a 2x2 average pool taken until l's size is l''s;
 *           L_s += (b_l + b_l')/2 ||G_{l,l'}(u) - T_{l,l'}||^2 / ||T_{l,l'}||^2
 *
 * The chain's value is taken when the backward pass reaches l' (the deeper
 * layer, visited first); its G - T is kept for the gradient at l, whose
 * features the train net still holds.
 */
#include "objective.h"

#include <math.h>
#include <string.h>

void ns_layers_geometric(struct ns_layer_sel *sel, bool content) {
    int n = sel->n;
    double sum = 0, wd[NS_MAX_LAYERS];
    for (int i = 0; i < n; i++) {
        int d = 1; /* depth rank among the selected layers, shallowest 1 */
        for (int k = 0; k < n; k++)
            d += sel->layer[k] < sel->layer[i];
        wd[i] = ldexp(1.0, content ? d : n - d);
        sum += wd[i];
    }
    for (int i = 0; i < n; i++)
        if (!sel->weighted[i]) sel->weight[i] = (float) (wd[i] / sum);
}

size_t ns_style_elems(const struct ns_net_shape *s, const struct ns_layer_sel *style) {
    size_t most = 0;
    for (int i = 0; i < style->n; i++) {
        int l = style->layer[i];
        size_t e = (size_t) s->c[l] * s->h[l] * s->w[l];
        most = e > most ? e : most;
    }
    return most;
}

/* The chain's pairs: adjacent style layers in depth order. */
static int plan_pairs(const struct ns_net_shape *s, const struct ns_layer_sel *style, int lo[], int hi[],
                      int pools[], float wt[]) {
    int order[NS_MAX_LAYERS], n = style->n;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort by layer */
        for (int k = i; k > 0 && style->layer[order[k]] < style->layer[order[k - 1]]; k--) {
            int t = order[k];
            order[k] = order[k - 1], order[k - 1] = t;
        }
    for (int i = 0; i + 1 < n; i++) {
        int a = order[i], b = order[i + 1];
        lo[i] = style->layer[a], hi[i] = style->layer[b];
        wt[i] = 0.5f * (style->weight[a] + style->weight[b]);
        pools[i] = 0;
        for (int l = lo[i]; l < hi[i]; l++)
            pools[i] += s->pooled[l];
    }
    return n > 1 ? n - 1 : 0;
}

void ns_gram_release(struct ns_objective *o) {
    struct ns_backend *be = o->net->be;
    for (int i = 0; i < NS_MAX_LAYERS; i++) {
        ns_release(be, &o->chain_t[i]);
        ns_release(be, &o->chain_d[i]);
    }
    for (int i = 0; i < 3; i++)
        ns_release(be, &o->tmp[i]);
}

enum ns_status ns_objective_set_gram(struct ns_objective *o, const struct ns_gram_opts *g) {
    struct ns_backend *be = o->net->be;
    o->gram = *g;
    o->n_pairs = 0;
    if (!g->chain && g->shift == 0.0f) return NS_STATUS_OK;
    if (!be->ops->shift_scale || !be->ops->cross_gram) return NS_STATUS_UNAVAILABLE;
    if (g->chain && o->tiling.tile) return NS_STATUS_UNAVAILABLE;
    const struct ns_net_shape *s = &o->net->s;
    if (g->chain) o->n_pairs = plan_pairs(s, &o->style, o->pair_lo, o->pair_hi, o->pair_pools, o->pair_w);
    size_t e = ns_style_elems(s, &o->style);
    bool ok = true;
    for (int i = 0; i < (g->chain ? 3 : 1) && ok && !o->tiling.tile; i++)
        ok = (o->tmp[i] = ns_alloc_tensor(be, e)) != NULL;
    for (int i = 0; i < o->n_pairs && ok; i++) {
        size_t cc = (size_t) s->c[o->pair_lo[i]] * s->c[o->pair_hi[i]];
        ok = (o->chain_t[i] = ns_alloc_f32(be, cc)) && (o->chain_d[i] = ns_alloc_f32(be, cc));
    }
    return ok ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
}

/* out = P^k(act) + X: act is c x h x w; pooled through tmp (ping-pong). */
static void pooled_shifted(struct ns_backend *be, const struct ns_buf *act, int c, int h, int w, int k, float x,
                           struct ns_buf *out, struct ns_buf *tmp) {
    const struct ns_buf *in = act;
    for (int j = 0; j < k; j++) {
        struct ns_buf *dst = (k - j) % 2 == 1 ? out : tmp; /* the last pool lands in out */
        be->ops->pool_fwd(be, NS_POOL_AVG, in, c, h, w, dst);
        in = dst, h /= 2, w /= 2;
    }
    be->ops->shift_scale(be, in, c, (size_t) h * w, x, NULL, out);
}

/* Features + X for the Gram of one layer: into tmp, or act itself. */
const struct ns_buf *ns_gram_shifted(struct ns_objective *o, const struct ns_buf *act, int c, size_t m,
                                     struct ns_buf *tmp) {
    if (o->gram.shift == 0.0f) return act;
    o->net->be->ops->shift_scale(o->net->be, act, c, m, o->gram.shift, NULL, tmp);
    return tmp;
}

/* The chain at `layer` of the train net: at a pair's deeper layer its value
 * (slot) and, with g, its gradient there; at its shallower one, with g, the
 * gradient there from the G - T kept. */
void ns_chain_layer(struct ns_objective *o, int layer, struct ns_buf *g) {
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    for (int i = 0; i < o->n_pairs; i++) {
        int lo = o->pair_lo[i], hi = o->pair_hi[i];
        if (layer != lo && layer != hi) continue;
        int clo = s->c[lo], chi = s->c[hi];
        size_t mhi = (size_t) s->h[hi] * s->w[hi];
        float coef = (float) (o->style_weight * o->pair_w[i] / o->chain_norm2[i]), alpha = 2.0f * coef / mhi;
        const struct ns_buf *b = ns_gram_shifted(o, o->net->act[hi], chi, mhi, o->tmp[1]);
        if (layer == hi) {
            pooled_shifted(be, o->net->act[lo], clo, s->h[lo], s->w[lo], o->pair_pools[i], o->gram.shift,
                           o->tmp[0], o->tmp[2]);
            be->ops->cross_gram(be, o->tmp[0], clo, b, chi, mhi, 1.0f / (float) mhi, o->chain_d[i]);
            be->ops->gram_diff(be, o->chain_d[i], o->chain_t[i], (size_t) clo * chi, NS_SLOT_CHAIN + i);
            /* d/dB ||A B^T / M - T||^2 = 2 (G - T)^T A / M */
            if (g) be->ops->cross_grad(be, o->chain_d[i], chi, clo, true, o->tmp[0], mhi, alpha, g);
            continue;
        }
        if (!g) continue;
        /* d/dA = 2 (G - T) B / M, then back through the k pools */
        int k = o->pair_pools[i];
        if (k == 0) {
            be->ops->cross_grad(be, o->chain_d[i], clo, chi, false, b, mhi, alpha, g);
            continue;
        }
        struct ns_buf *cur = o->tmp[0], *other = o->tmp[2];
        be->ops->fill(be, cur, 0.0f, (size_t) clo * mhi);
        be->ops->cross_grad(be, o->chain_d[i], clo, chi, false, b, mhi, alpha, cur);
        for (int j = k - 1; j >= 0; j--) {
            int h = s->h[lo], w = s->w[lo];
            for (int q = 0; q < j; q++)
                h /= 2, w /= 2;
            be->ops->pool_bwd(be, NS_POOL_AVG, cur, cur, clo, h, w, other);
            struct ns_buf *t = cur;
            cur = other, other = t;
        }
        be->ops->add_window(be, cur, clo, s->h[lo], s->w[lo], 0, 0, s->h[lo], s->w[lo], g);
    }
}

/* ---- the painting's targets ---- */

enum ns_status ns_gram_style_begin(struct ns_gram_pass *gp, struct ns_objective *o, const struct ns_net *snet,
                                   float blend) {
    memset(gp, 0, sizeof *gp);
    gp->o = o, gp->snet = snet, gp->blend = blend;
    if (!o->n_pairs && o->gram.shift == 0.0f) return NS_STATUS_OK;
    size_t e = ns_style_elems(&snet->s, &o->style);
    struct ns_backend *be = o->net->be;
    bool ok = (gp->shifted = ns_alloc_tensor(be, e)) != NULL;
    if (ok && o->n_pairs) ok = (gp->pending = ns_alloc_tensor(be, e)) && (gp->pool = ns_alloc_tensor(be, e));
    return ok ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
}

void ns_gram_style_end(struct ns_gram_pass *gp) {
    struct ns_backend *be = gp->o->net->be;
    ns_release(be, &gp->shifted);
    ns_release(be, &gp->pending);
    ns_release(be, &gp->pool);
}

/* The chain's targets at `layer` of the painting's net: pairs ending here
 * take the pending shallower features, pairs starting here leave theirs
 * (adjacent pairs: at most one is pending at a time). */
void ns_gram_style_chain(struct ns_gram_pass *gp, int layer, const struct ns_buf *act) {
    struct ns_objective *o = gp->o;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &gp->snet->s;
    for (int i = 0; i < o->n_pairs; i++) {
        if (o->pair_hi[i] != layer) continue;
        int clo = s->c[o->pair_lo[i]], chi = s->c[layer];
        size_t m = (size_t) s->h[layer] * s->w[layer];
        const struct ns_buf *b = ns_gram_shifted(o, act, chi, m, gp->shifted);
        be->ops->cross_gram(be, gp->pending, clo, b, chi, m, 1.0f / (float) m, o->scratch);
        be->ops->axpby(be, gp->blend, o->scratch, 1.0f, o->chain_t[i], (size_t) clo * chi);
    }
    for (int i = 0; i < o->n_pairs; i++)
        if (o->pair_lo[i] == layer)
            pooled_shifted(be, act, s->c[layer], s->h[layer], s->w[layer], o->pair_pools[i], o->gram.shift,
                           gp->pending, gp->pool);
}
