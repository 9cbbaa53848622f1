/* plan.h - how a run of params goes on a backend: its levels, their sizes,
 * tiles, L-BFGS history and bytes within the budget (plan.c), shared by
 * ns_run (run.c) and the estimates. */
#ifndef NS_PLAN_H
#define NS_PLAN_H

#include "context.h"

struct run_layers {
    struct ns_layer_sel content, style;
    int depth;
};

/* How one level runs within the budget. */
struct level_fit {
    int tile;     /* tile side, px; 0 = the whole level */
    int history;  /* L-BFGS pairs */
    double bytes; /* estimated peak */
    double device; /* of bytes, the backend's buffers at once (counted) */
    int block;    /* block side, px, when optimised block by block (blocks.c); else 0 */
};

/* The model, layers, levels and their fits a run of params would use (ctx
 * may be NULL: a full VGG-19 on the CPU is assumed, with no budget). */
struct plan {
    struct ns_model layout;
    const struct ns_model *m;
    struct ns_params p;
    struct run_layers rl;
    int ow, oh, n, sw[8], sh[8], it[8];
    int mg[8];            /* each level's mirrored margin, px */
    int style_w, style_h; /* the painting's own size */
    bool half, gpu;
    double fixed;  /* bytes every level has: weights, workspace */
    double budget; /* bytes; INFINITY = none */
    struct level_fit fit[8];
};

/* seconds on a monotonic clock */
double ns_now_seconds(void);
/* the painting's size at a level of w x h */
void ns_style_size(const struct ns_image *style, int w, int h, float scale, int *ow, int *oh);
enum ns_status ns_parse_run_layers(const struct ns_model *m, const struct ns_params *p,
                                       struct run_layers *rl, char *err, size_t elen);
struct ns_gram_opts ns_run_gram_opts(const struct ns_params *p);
/* options that need whole levels (no tiles) */
bool ns_whole_levels(const struct ns_params *p);
/* level s's canvas: the level and its margins */
void ns_plan_canvas(const struct plan *pl, int s, int *cw, int *ch);
void ns_plan_make(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
                      int style_h, struct plan *pl);
/* Level s of pl in `fit` allocated on be, a counting backend, by the run's
 * own code (run.c), and released: be's peak is what the level holds there.
 * m is the plan's model with its buffers on be. */
enum ns_status ns_level_allocate(struct ns_backend *be, const struct ns_model *m, const struct plan *pl, int s,
                                 const struct level_fit *fit);
/* one evaluation's floating-point operations at level s */
double ns_plan_eval_flops(const struct plan *pl, int s);

void ns_cpu_sample_now(struct ns_cpu_sample *s);
/* How many times slower than alone `threads` threads ran (ran: this
 * process computed between the samples) or would run (it waited) given the
 * other processes' CPU use from a to b: (threads + their demand) / cores,
 * at least 1. */
double ns_cpu_slowdown(const struct ns_cpu_sample *a, const struct ns_cpu_sample *b, int threads, bool ran);

#endif /* NS_PLAN_H */
