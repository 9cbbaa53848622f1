/* net.c - VGG forward and backward-to-input over the backend table.
 *
 * Conv 3x3 backward to its input is itself a 3x3 convolution, with the
 * weights flipped in space and in/out channels swapped (wt_rot), so one
 * convolution op serves both directions.  Only ReLU outputs are kept: they
 * give the ReLU masks and the max-pool switches of the backward pass.
 */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ns_model_layout(struct ns_model *m, int arch, int n_layers) {
    memset(m, 0, sizeof *m);
    m->arch = arch;
    struct ns_conv_weights L;
    for (int l = 0; l < n_layers && ns_vgg_conv_layout(arch, l, &L); l++) {
        snprintf(m->name[l], sizeof m->name[l], "relu%c_%c", (char) ('0' + L.block), (char) ('0' + L.index));
        m->block[l] = L.block;
        m->cin[l] = L.cin;
        m->cout[l] = L.cout;
        m->pool_after[l] = L.index == ns_vgg_block_convs(arch, L.block);
        m->n_layers = l + 1;
    }
}

size_t ns_model_floats(const struct ns_model *m, bool rotated) {
    size_t n = 0;
    for (int l = 0; l < m->n_layers; l++)
        n += (rotated ? 2 : 1) * (size_t) m->cout[l] * m->cin[l] * 9 + (size_t) m->cout[l];
    return n;
}

enum ns_status ns_model_init(struct ns_model *m, struct ns_backend *be, const struct ns_weights *w) {
    ns_model_layout(m, w->arch, w->n_layers);
    m->be = be;
    memcpy(m->perm, w->perm, sizeof m->perm);
    memcpy(m->a, w->a, sizeof m->a);
    memcpy(m->b, w->b, sizeof m->b);
    bool rotated = !be->ops->conv3x3_bwd;
    for (int l = 0; l < w->n_layers; l++) {
        const struct ns_conv_weights *L = &w->layer[l];
        size_t n = (size_t) L->cout * L->cin * 9;
        float *rot = rotated ? malloc(n * sizeof(float)) : NULL;
        m->wt[l] = ns_alloc_f32(be, n);
        if (rotated) m->wt_rot[l] = ns_alloc_f32(be, n);
        m->bias[l] = ns_alloc_f32(be, (size_t) L->cout);
        if ((rotated && (!rot || !m->wt_rot[l])) || !m->wt[l] || !m->bias[l]) {
            free(rot);
            ns_model_release(m);
            return NS_STATUS_OUT_OF_MEMORY;
        }
        be->ops->upload(be, m->wt[l], L->weight, n);
        be->ops->upload(be, m->bias[l], L->bias, (size_t) L->cout);
        if (rotated) {
            /* wt_rot[ci][co][8-k] = wt[co][ci][k]: spatial flip, channels swapped */
            for (int co = 0; co < L->cout; co++)
                for (int ci = 0; ci < L->cin; ci++)
                    for (int k = 0; k < 9; k++)
                        rot[((size_t) ci * L->cout + co) * 9 + (8 - k)] =
                            L->weight[((size_t) co * L->cin + ci) * 9 + k];
            be->ops->upload(be, m->wt_rot[l], rot, n);
            free(rot);
        }
    }
    return be->ops->sync(be);
}

void ns_model_release(struct ns_model *m) {
    if (!m->be) return;
    for (int l = 0; l < NS_MAX_LAYERS; l++) {
        ns_release(m->be, &m->wt[l]);
        ns_release(m->be, &m->wt_rot[l]);
        ns_release(m->be, &m->bias[l]);
    }
}

int ns_model_layer(const struct ns_model *m, const char *name) {
    for (int l = 0; l < m->n_layers; l++)
        if (strcmp(m->name[l], name) == 0 ||
            (strncmp(name, "conv", 4) == 0 && strcmp(m->name[l] + 4, name + 4) == 0))
            return l;
    return -1;
}

void ns_net_shape(const struct ns_model *m, int depth, int h, int w, struct ns_net_shape *s) {
    memset(s, 0, sizeof *s);
    s->depth = depth;
    s->max_elems = (size_t) 3 * h * w;
    for (int l = 0; l < depth; l++) {
        if (l > 0 && m->pool_after[l - 1]) {
            s->pooled[l - 1] = true;
            h /= 2;
            w /= 2;
        }
        s->c[l] = m->cout[l];
        s->h[l] = h;
        s->w[l] = w;
        size_t n = (size_t) m->cout[l] * h * w;
        if (n > s->max_elems) s->max_elems = n;
        s->flops += 2.0 * 9.0 * m->cin[l] * m->cout[l] * h * w;
    }
}

int ns_net_min_side(const struct ns_net_shape *s) {
    if (s->depth == 0) return 0;
    int l = s->depth - 1;
    return s->h[l] < s->w[l] ? s->h[l] : s->w[l];
}

void ns_net_support(const struct ns_net_shape *s, int layer, struct ns_net_support *out) {
    struct ns_net_support r = {0, 0, 1};
    for (int l = 0; l <= layer && l < s->depth; l++) {
        r.lo -= r.jump, r.hi += r.jump; /* 3x3, padding 1 */
        if (l < layer && s->pooled[l]) {
            r.hi += r.jump; /* 2x2 window from the even pixel */
            r.jump *= 2;
        }
    }
    *out = r;
}

int ns_net_halo(const struct ns_net_shape *s) {
    if (s->depth == 0) return 0;
    struct ns_net_support r;
    ns_net_support(s, s->depth - 1, &r);
    int reach = -r.lo > r.hi ? -r.lo : r.hi;
    return (reach + r.jump - 1) / r.jump * r.jump;
}

void ns_net_free(struct ns_net *net) {
    if (!net) return;
    struct ns_backend *be = net->be;
    struct ns_buf **all[] = {&net->x, &net->ga, &net->gb, &net->buf[0], &net->buf[1]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ns_release(be, all[i]);
    if (net->train) /* otherwise act and pool alias buf */
        for (int l = 0; l < NS_MAX_LAYERS; l++) {
            ns_release(be, &net->act[l]);
            ns_release(be, &net->pool[l]);
        }
    free(net);
}

enum ns_status ns_net_new(const struct ns_model *m, int depth, int h, int w, bool train,
                          enum ns_pool_mode pool_mode, struct ns_net **out) {
    *out = NULL;
    if (depth < 1 || depth > m->n_layers) return NS_STATUS_INVALID_ARGUMENT;
    struct ns_net *net = calloc(1, sizeof *net);
    if (!net) return NS_STATUS_OUT_OF_MEMORY;
    struct ns_backend *be = m->be;
    net->m = m;
    net->be = be;
    net->train = train;
    net->pool_mode = pool_mode;
    net->h = net->cap_h = h;
    net->w = net->cap_w = w;
    ns_net_shape(m, depth, h, w, &net->s);
    /* the image stays float32 even where tensors are narrower: bfloat16 would
     * round away pixel steps below 1/256 and leave the line search a staircase */
    bool ok = (net->x = ns_alloc_f32(be, (size_t) 3 * h * w)) != NULL;
    if (train) {
        for (int l = 0; l < depth && ok; l++) {
            ok =
                (net->act[l] = ns_alloc_tensor(be, (size_t) net->s.c[l] * net->s.h[l] * net->s.w[l])) != NULL;
            if (ok && net->s.pooled[l])
                ok = (net->pool[l] = ns_alloc_tensor(be, (size_t) net->s.c[l] * (net->s.h[l] / 2) *
                                                             (net->s.w[l] / 2))) != NULL;
        }
        ok = ok && (net->ga = ns_alloc_tensor(be, net->s.max_elems)) &&
             (net->gb = ns_alloc_tensor(be, net->s.max_elems));
    } else {
        ok = ok && (net->buf[0] = ns_alloc_tensor(be, net->s.max_elems)) &&
             (net->buf[1] = ns_alloc_tensor(be, net->s.max_elems));
    }
    if (!ok) {
        ns_net_free(net);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    *out = net;
    return NS_STATUS_OK;
}

enum ns_status ns_net_set_size(struct ns_net *net, int h, int w) {
    if (h < 1 || w < 1 || h > net->cap_h || w > net->cap_w) return NS_STATUS_INVALID_ARGUMENT;
    net->h = h;
    net->w = w;
    ns_net_shape(net->m, net->s.depth, h, w, &net->s);
    return NS_STATUS_OK;
}

void ns_net_forward(struct ns_net *net, const struct ns_buf *u, ns_layer_fn layer_cb, void *ud) {
    const struct ns_model *m = net->m;
    const struct ns_backend_ops *ops = net->be->ops;
    const struct ns_net_shape *s = &net->s;
    int cur = 0;
    ops->input_fwd(net->be, u, net->x, (size_t) net->h * net->w, m->a, m->b, m->perm);
    const struct ns_buf *in = net->x;
    int ih = net->h, iw = net->w;
    for (int l = 0; l < s->depth; l++) {
        struct ns_buf *out = net->train ? net->act[l] : net->buf[cur];
        if (!net->train) net->act[l] = out, cur ^= 1;
        ops->conv3x3(net->be, in, m->cin[l], ih, iw, m->wt[l], m->bias[l], m->cout[l], out, true);
        if (layer_cb) layer_cb(ud, l, out);
        in = out;
        ih = s->h[l], iw = s->w[l];
        if (s->pooled[l]) {
            struct ns_buf *p = net->train ? net->pool[l] : net->buf[cur];
            if (!net->train) net->pool[l] = p, cur ^= 1;
            ops->pool_fwd(net->be, (enum ns_pool_mode) net->pool_mode, out, s->c[l], ih, iw, p);
            in = p;
            ih /= 2, iw /= 2;
        }
    }
}

void ns_net_backward(struct ns_net *net, ns_loss_grad_fn loss_cb, void *ud, struct ns_buf *gu) {
    const struct ns_model *m = net->m;
    const struct ns_backend_ops *ops = net->be->ops;
    const struct ns_net_shape *s = &net->s;
    int top = s->depth - 1;
    struct ns_buf *g = net->ga, *other = net->gb;
    ops->fill(net->be, g, 0.0f, (size_t) s->c[top] * s->h[top] * s->w[top]);
    for (int l = top; l >= 0; l--) {
        loss_cb(ud, l, net->act[l], g);
        size_t n = (size_t) s->c[l] * s->h[l] * s->w[l];
        ops->relu_bwd(net->be, g, net->act[l], n);
        /* input of conv l: the image (l = 0), a pooled tensor or act[l-1] */
        int ih = l ? s->h[l - 1] : net->h, iw = l ? s->w[l - 1] : net->w;
        int ph = s->h[l], pw = s->w[l];
        if (ops->conv3x3_bwd)
            ops->conv3x3_bwd(net->be, g, m->cout[l], ph, pw, m->wt[l], m->cin[l], other);
        else
            ops->conv3x3(net->be, g, m->cout[l], ph, pw, m->wt_rot[l], NULL, m->cin[l], other, false);
        struct ns_buf *t = g;
        g = other, other = t;
        if (l == 0) break;
        if (s->pooled[l - 1]) {
            ops->pool_bwd(net->be, (enum ns_pool_mode) net->pool_mode, net->act[l - 1], g, s->c[l - 1], ih,
                          iw, other);
            t = g, g = other, other = t;
        }
    }
    ops->input_bwd(net->be, g, gu, (size_t) net->h * net->w, m->a, m->perm);
}
