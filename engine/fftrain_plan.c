/* fftrain_plan.c - what a training step costs: its bytes, counted by
 * running the trainer's own allocations against the counting backend
 * (backend_count.c), and its floating-point operations. */
#include "context.h"
#include "fftrain.h"
#include "image.h"

#include <math.h>
#include <string.h>

/* The VGG depth the default or given layers need; 0 when they are not the
 * model's. */
static int vgg_depth(const struct ns_context *ctx, const struct ns_train_params *p) {
    struct ns_layer_sel content, style;
    char dc[32], ds[128], err[300];
    ns_layers_default(&ctx->model, dc, sizeof dc, ds, sizeof ds);
    if (ns_layers_parse(&ctx->model, p->content_layers, dc, &content, err, sizeof err) ||
        ns_layers_parse(&ctx->model, p->style_layers, ds, &style, err, sizeof err))
        return 0;
    return ns_objective_depth(&content, &style);
}

static const struct ns_ff_arch *network(const struct ns_train_params *p) {
    const struct ns_ff_arch *a = ns_ff_arch_find(p->network ? p->network : "transformer-net");
    return a ? a : ns_ff_arch_find("transformer-net");
}

double ns_train_flops(const struct ns_context *ctx, const struct ns_train_params *p) {
    struct ns_ff_shape sh;
    struct ns_net_shape vgg;
    ns_ff_shape(network(p), p->size, p->size, &sh);
    ns_net_shape(&ctx->model, vgg_depth(ctx, p), p->size, p->size, &vgg);
    /* the network: forward, the data and the weight gradients; VGG:
     * forward for the content target and the output, backward to the image */
    return p->batch * (3 * sh.flops + 3 * vgg.flops);
}

double ns_train_memory(const struct ns_context *ctx, const struct ns_train_params *p, int painting_w,
                       int painting_h) {
    struct ns_backend_count c;
    ns_backend_count_init(&c, NS_DTYPE_F32);
    struct ns_model m = ctx->model;
    m.be = &c.base;
    int depth = vgg_depth(ctx, p), s = p->size, sw, sh;
    struct ns_style_model *model = NULL;
    struct ns_ff_tape tape;
    struct ns_net *net = NULL, *style_net = NULL;
    size_t params = 0;
    if (ns_style_model_new(network(p), 0, &model)) return INFINITY;
    enum ns_status st = ns_ff_tape_init(&tape, &c.base, model, s, s);
    for (int i = 0; i < model->arch->n_steps; i++)
        params += ns_ff_param_count(&model->arch->steps[i], 0) + ns_ff_param_count(&model->arch->steps[i], 1);
    struct ns_buf *fixed = st ? NULL : ns_alloc_f32(&c.base, 2 * params + (size_t) 9 * s * s); /* Adam, 3 images */
    if (!st) st = ns_net_new(&m, depth, s, s, true, NS_POOL_MAX, &net);
    /* the painting's Grams: a pass at its size while the rest is held */
    ns_fit_size(painting_w, painting_h, (int) lroundf(s * p->style_scale), &sw, &sh);
    if (!st) st = ns_net_new(&m, depth, sh, sw, false, NS_POOL_MAX, &style_net);
    double peak = st ? INFINITY : c.peak + 4.0 * (3.0 * sw * sh + (double) s * s * 3);
    ns_net_free(style_net), ns_net_free(net);
    if (fixed) ns_release(&c.base, &fixed);
    ns_ff_tape_release(&tape);
    ns_style_model_free(model);
    return peak;
}
