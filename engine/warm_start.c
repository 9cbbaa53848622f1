/* warm_start.c - the exact method started from a fast style's result
 * (params.init = NS_INIT_MODEL): the photo through the style's network at
 * the output size, which the first level then resamples as any start
 * image.  The exact optimisation begins near a stylised image instead of
 * the photo: a first look in a few iterations, though the photo start
 * catches up after a few dozen (docs/training.md, make bench-warm). */
#include "context.h"
#include "image.h"

#include <stdlib.h>

enum ns_status ns_warm_start(struct ns_context *ctx, const struct ns_params *p, const struct ns_image *content,
                             int w, int h, struct ns_image *out) {
    char err[600], *path = ns_style_resolve(p->init_model);
    if (!path)
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT,
                            "the fast style to start from: no file '%s' and no installed style of that name",
                            p->init_model);
    struct ns_style_model *m = NULL;
    enum ns_status st = ns_style_model_load(path, &m, err, sizeof err);
    free(path);
    if (st) return ns_set_error(ctx, st, "the fast style to start from, %s: %s", p->init_model, err);
    struct ns_image small = {malloc(sizeof(float) * 3 * w * h), w, h, 3, 3 * w};
    *out = (struct ns_image){malloc(sizeof(float) * 3 * w * h), w, h, 3, 3 * w};
    struct ns_stylize_params sp = ns_stylize_params_default();
    sp.threads = p->threads, sp.max_memory = p->max_memory;
    if (!small.data || !out->data)
        st = ns_set_error(ctx, NS_STATUS_OUT_OF_MEMORY, "not enough memory for a %d x %d start image", w, h);
    else if ((st = ns_resample(ns_view_image(content), ns_view_image(&small), p->threads)))
        ns_set_error(ctx, st, "the photo cannot be resized for the fast style");
    else
        st = ns_stylize(ctx, m, &small, &sp, out); /* it says why it failed */
    free(small.data);
    ns_style_model_free(m);
    if (st) {
        free(out->data);
        out->data = NULL;
    }
    return st;
}
