/* objective.c - content, style and TV losses and their gradient.
 *
 * Each term is normalised by its target (docs/design.md), so one set of weights
 * works for Caffe and torchvision conventions and at any image size:
 *   L_c = sum a_l ||F_l(u) - F_l(c)||^2 / ||F_l(c)||^2
 *   L_s = sum b_l ||G_l(u) - T_l||^2 / ||T_l||^2,  G = F F^T / M
 *   L_tv = (sum of squared neighbour differences) / (3 H W)
 */
#include "objective.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ns_layers_default(const struct ns_model *m, char *content, size_t clen, char *style, size_t slen) {
    int last_block = 0;
    for (int l = 0; l < m->n_layers; l++)
        last_block = m->block[l];
    /* Gatys et al.: content relu4_2, style reluB_1 of every block */
    char second[24];
    snprintf(second, sizeof second, "relu%d_2", last_block);
    if (ns_model_layer(m, "relu4_2") >= 0)
        snprintf(content, clen, "relu4_2");
    else if (ns_model_layer(m, second) >= 0)
        snprintf(content, clen, "%s", second);
    else
        snprintf(content, clen, "relu%d_1", last_block);
    style[0] = '\0';
    for (int b = 1; b <= last_block; b++) {
        char name[24];
        snprintf(name, sizeof name, "relu%d_1", b);
        if (ns_model_layer(m, name) < 0) continue;
        size_t len = strlen(style);
        snprintf(style + len, slen - len, "%s%s", len ? "," : "", name);
    }
}

enum ns_status ns_layers_parse(const struct ns_model *m, const char *spec, const char *defaults,
                               struct ns_layer_sel *sel, char *err, size_t err_len) {
    memset(sel, 0, sizeof *sel);
    if (!spec || !*spec) spec = defaults;
    char buf[512], all[NS_MAX_LAYERS * 16] = "";
    if (!strcmp(spec, "all")) { /* every layer the file has */
        for (int l = 0; l < m->n_layers; l++)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", l ? "," : "", m->name[l]);
        spec = all;
    }
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, err_len, "layer list '%.40s...' is too long", spec);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    strcpy(buf, spec);
    bool *weighted = sel->weighted;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *colon = strchr(tok, ':');
        float wgt = 0.0f;
        if (colon) {
            *colon = '\0';
            char *end;
            wgt = strtof(colon + 1, &end);
            if (end == colon + 1 || *end || !isfinite(wgt) || wgt < 0) {
                snprintf(err, err_len, "layer weight '%s' of %s is not a non-negative number", colon + 1,
                         tok);
                return NS_STATUS_INVALID_ARGUMENT;
            }
        }
        int l = strncmp(tok, "relu", 4) == 0 ? ns_model_layer(m, tok) : -1;
        if (l < 0) {
            char have[256] = "";
            for (int k = 0; k < m->n_layers; k++)
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", k ? "," : "", m->name[k]);
            snprintf(err, err_len, "layer '%s' is not in the weights file (it has %s)", tok, have);
            return NS_STATUS_INVALID_ARGUMENT;
        }
        for (int k = 0; k < sel->n; k++)
            if (sel->layer[k] == l) {
                snprintf(err, err_len, "layer '%s' is listed twice", tok);
                return NS_STATUS_INVALID_ARGUMENT;
            }
        if (sel->n == NS_MAX_LAYERS) break;
        weighted[sel->n] = colon != NULL;
        sel->weight[sel->n] = wgt;
        sel->layer[sel->n++] = l;
    }
    if (sel->n == 0) {
        snprintf(err, err_len, "the layer list '%s' names no layer", spec);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    for (int k = 0; k < sel->n; k++)
        if (!weighted[k]) sel->weight[k] = 1.0f / (float) sel->n;
    return NS_STATUS_OK;
}

int ns_objective_depth(const struct ns_layer_sel *content, const struct ns_layer_sel *style) {
    int d = 0;
    for (int i = 0; i < content->n; i++)
        if (content->layer[i] + 1 > d) d = content->layer[i] + 1;
    for (int i = 0; i < style->n; i++)
        if (style->layer[i] + 1 > d) d = style->layer[i] + 1;
    return d;
}

void ns_objective_release(struct ns_objective *o) {
    if (!o->net) return;
    struct ns_backend *be = o->net->be;
    for (int i = 0; i < NS_MAX_LAYERS; i++) {
        ns_release(be, &o->target_p[i]);
        ns_release(be, &o->target_t[i]);
    }
    ns_release(be, &o->scratch);
    struct ns_buf **bufs[] = {&o->region, &o->gregion, &o->win, &o->pwin, &o->gwin};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        ns_release(be, bufs[i]);
    for (int i = 0; i < NS_MAX_LAYERS; i++)
        ns_release(be, &o->gsum[i]);
    ns_gram_release(o);
    ns_regions_release(o);
    o->net = NULL;
}

enum ns_status ns_objective_init(struct ns_objective *o, struct ns_net *net,
                                 const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                 float cw, float sw, float tw) {
    return ns_objective_init_tiled(o, net, net->h, net->w, 0, content, style, cw, sw, tw);
}

void ns_objective_region_size(const struct ns_model *m, int depth, int h, int w, int tile, int *rh, int *rw) {
    struct ns_net_shape full;
    struct ns_tiling t;
    ns_net_shape(m, depth, h, w, &full);
    ns_tiling_plan(&full, tile, &t);
    *rh = ns_tiling_region(&t, true);
    *rw = ns_tiling_region(&t, false);
}

/* The window, gradient and Gram-sum buffers that tiles need. */
static bool alloc_tiles(struct ns_objective *o) {
    struct ns_backend *be = o->net->be;
    size_t rn = (size_t) 3 * o->net->h * o->net->w, me = o->net->s.max_elems;
    if (o->block) me = ns_block_window_elems(&o->full, &o->tiling); /* windows of a reach's interior */
    bool ok = (o->region = ns_alloc_f32(be, rn)) && (o->gregion = ns_alloc_f32(be, rn)) &&
              (o->win = ns_alloc_tensor(be, me)) && (o->pwin = ns_alloc_tensor(be, me)) &&
              (o->gwin = ns_alloc_tensor(be, me));
    for (int i = 0; i < o->style.n && ok; i++) {
        int c = o->full.c[o->style.layer[i]];
        ok = (o->gsum[i] = ns_alloc_f32(be, (size_t) c * c)) != NULL;
    }
    return ok && be->ops->crop && be->ops->add_window && be->ops->gram_grad;
}

/* The objective of a level in tiles of `tile` px, or in blocks of `block`. */
static enum ns_status init_level(struct ns_objective *o, struct ns_net *net, int h, int w, int tile,
                                 int block, const struct ns_layer_sel *content,
                                 const struct ns_layer_sel *style, float cw, float sw, float tw) {
    memset(o, 0, sizeof *o);
    int depth = ns_objective_depth(content, style);
    if (depth > net->s.depth) return NS_STATUS_INVALID_ARGUMENT;
    ns_net_shape(net->m, net->s.depth, h, w, &o->full);
    ns_tiling_plan(&o->full, block ? block : tile, &o->tiling);
    if (o->tiling.ny * o->tiling.nx == 1 && !block) o->tiling.tile = 0; /* one tile is the whole level */
    o->block = o->tiling.tile && block ? o->tiling.tile : 0;
    if (block && !o->block) return NS_STATUS_INVALID_ARGUMENT;
    int rh = o->block         ? ns_block_region(&o->tiling, true)
             : o->tiling.tile ? ns_tiling_region(&o->tiling, true)
                              : h;
    int rw = o->block         ? ns_block_region(&o->tiling, false)
             : o->tiling.tile ? ns_tiling_region(&o->tiling, false)
                              : w;
    if (net->h != rh || net->w != rw) return NS_STATUS_INVALID_ARGUMENT;
    struct ns_backend *be = net->be;
    o->net = net;
    o->content = *content;
    o->style = *style;
    o->content_weight = cw;
    o->style_weight = sw;
    o->tv_weight = tw;
    size_t maxcc = 1;
    bool ok = true;
    for (int i = 0; i < content->n && ok; i++) {
        int l = content->layer[i];
        o->tgt[i] = (struct ns_rect){0, 0, o->full.h[l], o->full.w[l]};
        size_t n = o->block ? ns_block_target_elems(&o->full, &o->tiling, l)
                            : (size_t) o->full.c[l] * o->full.h[l] * o->full.w[l];
        /* a copy of the features: stored as the network's tensors are */
        o->target_p[i] = ns_alloc_tensor(be, n);
        ok = o->target_p[i] != NULL;
    }
    for (int i = 0; i < style->n && ok; i++) {
        size_t cc = (size_t) net->s.c[style->layer[i]] * net->s.c[style->layer[i]];
        if (cc > maxcc) maxcc = cc;
        ok = (o->target_t[i] = ns_alloc_f32(be, cc)) != NULL;
    }
    ok = ok && (o->scratch = ns_alloc_f32(be, maxcc)) != NULL;
    if (ok && o->tiling.tile && !alloc_tiles(o)) {
        ns_objective_release(o);
        return be->ops->crop ? NS_STATUS_OUT_OF_MEMORY : NS_STATUS_UNAVAILABLE;
    }
    if (!ok) {
        ns_objective_release(o);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    return NS_STATUS_OK;
}

enum ns_status ns_objective_init_tiled(struct ns_objective *o, struct ns_net *net, int h, int w, int tile,
                                       const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                       float cw, float sw, float tw) {
    return init_level(o, net, h, w, tile, 0, content, style, cw, sw, tw);
}

enum ns_status ns_objective_init_blocks(struct ns_objective *o, struct ns_net *net, int h, int w, int block,
                                        const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                        float cw, float sw, float tw) {
    return init_level(o, net, h, w, 0, block, content, style, cw, sw, tw);
}

/* ||v||^2 of each target, floored so that an all-zero target (a black
 * feature map) leaves its term unnormalised rather than infinite. */
static enum ns_status target_norms(struct ns_backend *be, struct ns_buf *const *v, const size_t *n, int k,
                                   double *out) {
    for (int i = 0; i < k; i++)
        be->ops->dots(be, (const struct ns_buf *const *) &v[i], 1, v[i], n[i], NS_SLOT_NORM + i);
    enum ns_status st = be->ops->read_scalars(be, NS_SLOT_NORM, k, out);
    for (int i = 0; i < k; i++)
        if (!(out[i] > 1e-30)) out[i] = 1.0;
    return st;
}

enum ns_status ns_objective_set_content(struct ns_objective *o, const struct ns_buf *u_content) {
    struct ns_net *net = o->net;
    struct ns_backend *be = net->be;
    size_t n[NS_MAX_LAYERS];
    if (o->tiling.tile) {
        enum ns_status st = ns_tiled_content(o, u_content);
        if (st) return st;
    } else {
        ns_net_forward(net, u_content, NULL, NULL);
    }
    for (int i = 0; i < o->content.n; i++) {
        int l = o->content.layer[i];
        n[i] = (size_t) o->full.c[l] * o->full.h[l] * o->full.w[l];
        if (!o->tiling.tile) be->ops->copy(be, o->target_p[i], net->act[l], n[i]);
    }
    return target_norms(be, o->target_p, n, o->content.n, o->p_norm2);
}

/* Adds blend * Gram(act) to the targets of the style layers at `layer`. */
static void style_layer(void *ud, int layer, const struct ns_buf *act) {
    struct ns_gram_pass *acc = ud;
    struct ns_objective *o = acc->o;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &acc->snet->s;
    for (int i = 0; i < o->style.n; i++) {
        if (o->style.layer[i] != layer) continue;
        int c = s->c[layer];
        size_t m = (size_t) s->h[layer] * s->w[layer];
        be->ops->gram(be, ns_gram_shifted(o, act, c, m, acc->shifted), c, m, o->scratch);
        be->ops->axpby(be, acc->blend, o->scratch, 1.0f, o->target_t[i], (size_t) c * c);
    }
    ns_gram_style_chain(acc, layer, act);
}

enum ns_status ns_objective_add_style(struct ns_objective *o, const struct ns_buf *u_style, int sh, int sw,
                                      float blend, bool first) {
    struct ns_backend *be = o->net->be;
    if (first) {
        for (int i = 0; i < o->style.n; i++) {
            int c = o->net->s.c[o->style.layer[i]];
            be->ops->fill(be, o->target_t[i], 0.0f, (size_t) c * c);
        }
        for (int i = 0; i < o->n_pairs; i++)
            be->ops->fill(be, o->chain_t[i], 0.0f,
                          (size_t) o->net->s.c[o->pair_lo[i]] * o->net->s.c[o->pair_hi[i]]);
    }
    int tile = ns_tiling_style(o->net->m, o->net->s.depth, &o->tiling, o->net->cap_h, o->net->cap_w, sh, sw);
    if (tile) return ns_tiled_style(o, u_style, sh, sw, tile, blend);
    struct ns_layer_sel none = {0};
    struct ns_net *snet;
    enum ns_status st =
        ns_net_new(o->net->m, ns_objective_depth(&none, &o->style), sh, sw, false, o->net->pool_mode, &snet);
    if (st) return st;
    struct ns_gram_pass acc;
    if (!(st = ns_gram_style_begin(&acc, o, snet, blend))) {
        ns_net_forward(snet, u_style, style_layer, &acc);
        st = be->ops->sync(be);
    }
    ns_gram_style_end(&acc);
    ns_net_free(snet);
    return st;
}

enum ns_status ns_objective_finish_style(struct ns_objective *o) {
    size_t n[NS_MAX_LAYERS];
    const struct ns_net_shape *s = &o->net->s;
    for (int i = 0; i < o->style.n; i++)
        n[i] = (size_t) s->c[o->style.layer[i]] * s->c[o->style.layer[i]];
    enum ns_status st = target_norms(o->net->be, o->target_t, n, o->style.n, o->t_norm2);
    for (int i = 0; i < o->n_pairs; i++)
        n[i] = (size_t) s->c[o->pair_lo[i]] * s->c[o->pair_hi[i]];
    if (!st && o->n_pairs) st = target_norms(o->net->be, o->chain_t, n, o->n_pairs, o->chain_norm2);
    return st;
}

/* Loss terms of the layers at `layer`, their gradient added into g. */
static void layer_losses(void *ud, int layer, const struct ns_buf *act, struct ns_buf *g) {
    struct ns_objective *o = ud;
    struct ns_backend *be = o->net->be;
    const struct ns_net_shape *s = &o->net->s;
    size_t m = (size_t) s->h[layer] * s->w[layer];
    for (int i = 0; i < o->content.n; i++)
        if (o->content.layer[i] == layer) {
            float coef = (float) (o->content_weight * o->content.weight[i] / o->p_norm2[i]);
            be->ops->content_loss(be, act, o->target_p[i], (size_t) s->c[layer] * m, coef, g,
                                  NS_SLOT_CONTENT + i);
        }
    if (o->regions) {
        ns_regions_layer(o, layer, act, g);
        return;
    }
    for (int i = 0; i < o->style.n; i++)
        if (o->style.layer[i] == layer) {
            float coef = (float) (o->style_weight * o->style.weight[i] / o->t_norm2[i]);
            /* the gradient with respect to F + X is the one with respect to F */
            be->ops->style_loss(be, ns_gram_shifted(o, act, s->c[layer], m, o->tmp[0]), s->c[layer], m,
                                o->target_t[i], coef, o->scratch, g, NS_SLOT_STYLE + i);
        }
    ns_chain_layer(o, layer, g);
}

enum ns_status ns_objective_eval(struct ns_objective *o, const struct ns_buf *u, struct ns_buf *grad,
                                 struct ns_terms *terms) {
    struct ns_net *net = o->net;
    struct ns_backend *be = net->be;
    int h = o->tiling.tile ? o->tiling.h : net->h, w = o->tiling.tile ? o->tiling.w : net->w;
    double norm_tv = 3.0 * (double) h * w;
    double v[NS_SLOT_OPT];
    enum ns_status st;
    if (o->tiling.tile) {
        if ((st = ns_tiled_eval(o, u, grad, v + NS_SLOT_CONTENT, v + NS_SLOT_STYLE))) return st;
    } else {
        ns_net_forward(net, u, NULL, NULL);
        if (grad) {
            ns_net_backward(net, layer_losses, o, grad);
        } else {
            for (int l = 0; l < net->s.depth; l++)
                layer_losses(o, l, net->act[l], NULL);
        }
    }
    be->ops->tv_loss(be, u, 3, h, w, (float) (o->tv_weight / norm_tv), grad, NS_SLOT_TV);
    /* untiled, every term is in the slots: one transfer */
    int first = o->tiling.tile ? NS_SLOT_TV : 0, end = o->n_pairs ? NS_SLOT_CHAIN + o->n_pairs : NS_SLOT_TV + 1;
    if ((st = be->ops->read_scalars(be, first, end - first, v + first))) return st;
    struct ns_terms t = {0};
    for (int i = 0; i < o->content.n; i++)
        t.content += o->content.weight[i] * v[NS_SLOT_CONTENT + i] / o->p_norm2[i];
    for (int i = 0; i < o->style.n; i++)
        t.style += o->style.weight[i] * v[NS_SLOT_STYLE + i] / o->t_norm2[i];
    for (int i = 0; i < o->n_pairs; i++)
        t.style += o->pair_w[i] * v[NS_SLOT_CHAIN + i] / o->chain_norm2[i];
    if (o->regions && (st = ns_regions_style(o, &t.style))) return st;
    t.tv = v[NS_SLOT_TV] / norm_tv;
    t.loss = o->content_weight * t.content + o->style_weight * t.style + o->tv_weight * t.tv;
    *terms = t;
    return NS_STATUS_OK;
}
