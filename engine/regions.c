/* regions.c - one style per region (Gatys et al. 2017, "Controlling
 * Perceptual Factors in Neural Style Transfer", spatial control).
 *
 * Style k has a mask m_k (0..1 on the level's canvas), 2x2-average-pooled
 * along with the network to each style layer's size.  At layer l, with
 * A = F_l + X (the activation shift) and a_kl = sum m_kl:
 *
 *   G_kl = A diag(m_kl) A^T / a_kl
 *   L_s  = sum_k beta_k sum_l b_l (a_kl / M_l) ||G_kl - T_kl||^2 / ||T_kl||^2
 *
 * T_kl is style k's own Gram (never blended), beta_k its blend weight with
 * mean 1.  The area share a_kl / M_l keeps each pixel's balance of style
 * against content what a single style gives: a mask of ones is exactly the
 * unmasked objective.  Where no mask is set only content and TV act.
 */
#include "objective.h"

#include <stdlib.h>
#include <string.h>

struct ns_regions {
    int n;
    float beta[NS_MAX_STYLES];
    struct ns_buf *mask[NS_MAX_STYLES][NS_MAX_LAYERS]; /* per style[i]: m_kl, h_l x w_l floats */
    double area[NS_MAX_STYLES][NS_MAX_LAYERS];
    struct ns_buf *target[NS_MAX_STYLES][NS_MAX_LAYERS];
    double t_norm2[NS_MAX_STYLES][NS_MAX_LAYERS];
    struct ns_buf *a, *am; /* a layer's shifted features, and them times the mask */
};

_Static_assert(NS_SLOT_REGION + NS_MAX_STYLES * NS_MAX_LAYERS <= NS_MAX_SLOTS, "region slots");

static int slot(int k, int i) {
    return NS_SLOT_REGION + k * NS_MAX_LAYERS + i;
}

void ns_regions_release(struct ns_objective *o) {
    struct ns_regions *r = o->regions;
    if (!r) return;
    struct ns_backend *be = o->net->be;
    for (int k = 0; k < NS_MAX_STYLES; k++)
        for (int i = 0; i < NS_MAX_LAYERS; i++) {
            ns_release(be, &r->mask[k][i]);
            ns_release(be, &r->target[k][i]);
        }
    ns_release(be, &r->a);
    ns_release(be, &r->am);
    free(r);
    o->regions = NULL;
}

/* 2x2 average pool of a h x w plane into (h/2) x (w/2), sizes rounded down
 * as the network's pooling does; in place. */
static void pool_plane(float *p, int *h, int *w) {
    int oh = *h / 2, ow = *w / 2;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const float *a = p + (size_t) 2 * y * *w + 2 * x;
            p[(size_t) y * ow + x] = 0.25f * (a[0] + a[1] + a[*w] + a[*w + 1]);
        }
    *h = oh, *w = ow;
}

/* Style k's mask at each style layer, from its canvas-sized plane (consumed). */
static enum ns_status upload_masks(struct ns_objective *o, int k, float *plane) {
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    int h = o->net->h, w = o->net->w;
    for (int l = 0; l < s->depth; l++) {
        for (int i = 0; i < o->style.n; i++) {
            if (o->style.layer[i] != l) continue;
            size_t hw = (size_t) h * w;
            if (h != s->h[l] || w != s->w[l]) return NS_STATUS_INVALID_ARGUMENT;
            if (!(o->regions->mask[k][i] = ns_alloc_f32(be, hw))) return NS_STATUS_OUT_OF_MEMORY;
            be->ops->upload(be, o->regions->mask[k][i], plane, hw);
            enum ns_status st = be->ops->sync(be); /* the plane is pooled in place next */
            if (st) return st;
            double a = 0;
            for (size_t j = 0; j < hw; j++)
                a += plane[j];
            o->regions->area[k][i] = a;
        }
        if (s->pooled[l]) pool_plane(plane, &h, &w);
    }
    return NS_STATUS_OK;
}

enum ns_status ns_regions_init(struct ns_objective *o, int n, const float *const *masks, const float *beta) {
    struct ns_backend *be = o->net->be;
    if (n < 1 || n > NS_MAX_STYLES) return NS_STATUS_INVALID_ARGUMENT;
    if (o->tiling.tile || o->n_pairs || !be->ops->shift_scale || !be->ops->cross_gram)
        return NS_STATUS_UNAVAILABLE; /* whole levels only, no chain */
    struct ns_regions *r = calloc(1, sizeof *r);
    if (!r) return NS_STATUS_OUT_OF_MEMORY;
    o->regions = r;
    r->n = n;
    const struct ns_net_shape *s = &o->net->s;
    size_t hw = (size_t) o->net->h * o->net->w, most = ns_style_elems(s, &o->style);
    float *plane = malloc(sizeof(float) * hw);
    enum ns_status st = plane ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    if (!st && (!(r->a = ns_alloc_tensor(be, most)) || !(r->am = ns_alloc_tensor(be, most))))
        st = NS_STATUS_OUT_OF_MEMORY;
    for (int k = 0; k < n && !st; k++) {
        r->beta[k] = beta[k];
        for (size_t j = 0; j < hw; j++)
            plane[j] = masks[k] ? masks[k][j] : 1.0f;
        st = upload_masks(o, k, plane);
        for (int i = 0; i < o->style.n && !st; i++) {
            int c = s->c[o->style.layer[i]];
            if (!(r->target[k][i] = ns_alloc_f32(be, (size_t) c * c))) st = NS_STATUS_OUT_OF_MEMORY;
        }
    }
    free(plane);
    if (st) ns_regions_release(o);
    return st;
}

enum ns_status ns_regions_take_target(struct ns_objective *o, int k) {
    struct ns_regions *r = o->regions;
    struct ns_backend *be = o->net->be;
    for (int i = 0; i < o->style.n; i++) {
        int c = o->net->s.c[o->style.layer[i]];
        be->ops->copy(be, r->target[k][i], o->target_t[i], (size_t) c * c);
        r->t_norm2[k][i] = o->t_norm2[i];
    }
    return be->ops->sync(be);
}

/* The style term's weight on style k at style[i], before ||G - T||^2. */
static double term_weight(const struct ns_objective *o, int k, int i) {
    const struct ns_regions *r = o->regions;
    int l = o->style.layer[i];
    double m = (double) o->net->s.h[l] * o->net->s.w[l];
    return r->beta[k] * o->style.weight[i] * (r->area[k][i] / m) / r->t_norm2[k][i];
}

void ns_regions_layer(struct ns_objective *o, int layer, const struct ns_buf *act, struct ns_buf *g) {
    struct ns_regions *r = o->regions;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    int c = s->c[layer];
    size_t m = (size_t) s->h[layer] * s->w[layer], cc = (size_t) c * c;
    for (int i = 0; i < o->style.n; i++) {
        if (o->style.layer[i] != layer) continue;
        for (int k = 0; k < r->n; k++) {
            double a = r->area[k][i];
            if (!(a > 0)) continue; /* no pixel of this region reaches the layer */
            const struct ns_buf *f = ns_gram_shifted(o, act, c, m, r->a);
            be->ops->shift_scale(be, act, c, m, o->gram.shift, r->mask[k][i], r->am);
            be->ops->cross_gram(be, f, c, r->am, c, m, (float) (1.0 / a), o->scratch);
            be->ops->gram_diff(be, o->scratch, r->target[k][i], cc, slot(k, i));
            /* d/dA ||A W A^T / a - T||^2 = 4 (G - T) A W / a, G - T symmetric */
            if (g)
                be->ops->cross_grad(be, o->scratch, c, c, false, r->am, m,
                                    (float) (4.0 * o->style_weight * term_weight(o, k, i) / a), g);
        }
    }
}

enum ns_status ns_regions_style(struct ns_objective *o, double *style) {
    struct ns_regions *r = o->regions;
    double v[NS_MAX_STYLES * NS_MAX_LAYERS];
    enum ns_status st = o->net->be->ops->read_scalars(o->net->be, NS_SLOT_REGION, r->n * NS_MAX_LAYERS, v);
    double sum = 0;
    for (int k = 0; k < r->n; k++)
        for (int i = 0; i < o->style.n; i++)
            if (r->area[k][i] > 0) sum += term_weight(o, k, i) * v[k * NS_MAX_LAYERS + i];
    *style = sum;
    return st;
}
