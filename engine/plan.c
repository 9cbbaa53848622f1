/* plan.c - the planner and the estimates: the levels of a run, each
 * level's tiles, L-BFGS history and bytes within the budget, the memory,
 * work and seconds the front ends show before a run. */
#include "plan.h"
#include "image.h"
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ns_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sizes of each scale, coarsest first; auto picks a coarsest side near
 * 384-767 px so VGG's receptive field sees the whole composition early. */
static int plan_scales(const struct ns_params *p, int ow, int oh, int sw[], int sh[]) {
    int longest = ow > oh ? ow : oh, n = p->scales;
    if (p->iterations == 0) n = 1;
    if (n <= 0) {
        n = 1;
        while (n < 5 && longest >> n >= 384)
            n++;
    }
    if (n > 8) n = 8;
    for (int s = 0; s < n; s++) {
        int div = 1 << (n - 1 - s);
        sw[s] = (int) lround((double) ow / div);
        sh[s] = (int) lround((double) oh / div);
        if (sw[s] < 1) sw[s] = 1;
        if (sh[s] < 1) sh[s] = 1;
    }
    return n;
}

int ns_level_iterations(int iterations, int level) {
    /* four times the pixels, an eighth of the steps: each finer level costs
     * about half what the one before did, so the whole schedule costs a
     * small multiple of its coarsest level, which sets the composition */
    int floor = (iterations + NS_LEVEL_ITERATIONS_FLOOR - 1) / NS_LEVEL_ITERATIONS_FLOOR;
    int it = level < 10 ? iterations >> (3 * level) : 0;
    return it > floor ? it : floor;
}

void ns_style_size(const struct ns_image *style, int w, int h, float scale, int *ow, int *oh) {
    int longest = (int) lround((w > h ? w : h) * (double) scale);
    ns_fit_size(style->width, style->height, longest < 1 ? 1 : longest, ow, oh);
}


enum ns_status ns_parse_run_layers(const struct ns_model *m, const struct ns_params *p,
                                       struct run_layers *rl, char *err, size_t elen) {
    char dc[32], ds[128];
    ns_layers_default(m, dc, sizeof dc, ds, sizeof ds);
    enum ns_status st = ns_layers_parse(m, p->content_layers, dc, &rl->content, err, elen);
    if (!st) st = ns_layers_parse(m, p->style_layers, ds, &rl->style, err, elen);
    if (!st && p->layer_weights == NS_LAYER_WEIGHTS_GEOMETRIC) {
        ns_layers_geometric(&rl->content, true);
        ns_layers_geometric(&rl->style, false);
    }
    rl->depth = st ? 0 : ns_objective_depth(&rl->content, &rl->style);
    return st;
}

struct ns_gram_opts ns_run_gram_opts(const struct ns_params *p) {
    return (struct ns_gram_opts){p->activation_shift, p->correlation_chain};
}

/* The correlation chain and regions are computed on whole levels only. */
bool ns_whole_levels(const struct ns_params *p) {
    return p->correlation_chain || p->n_style_masks > 0;
}

/* Whether be stores network tensors in bfloat16 under p (half the bytes). */
static bool half_tensors(const struct ns_backend *be, const struct ns_params *p) {
    return be && be->bf16 && p->precision == NS_PRECISION_BF16;
}



/* Level s's canvas: the level and its margins. */
void ns_plan_canvas(const struct plan *pl, int s, int *cw, int *ch) {
    *cw = pl->sw[s] + 2 * pl->mg[s];
    *ch = pl->sh[s] + 2 * pl->mg[s];
}

static void style_at(const struct plan *pl, int s, int *stw, int *sth) {
    struct ns_image st = {NULL, pl->style_w, pl->style_h, 3, 0};
    float scale = pl->p.style_scale > 0 ? pl->p.style_scale : 1.0f;
    ns_style_size(&st, pl->sw[s], pl->sh[s], scale, stw, sth);
}

/* Floats per channel of the copy of the level before, which run_levels
 * holds (at the size of level n - 2) during every level but the last. */
static double last_copy(const struct plan *pl, int s) {
    return pl->n > 1 && s < pl->n - 1 ? (double) pl->sw[pl->n - 2] * pl->sh[pl->n - 2] : 0;
}

/* Bytes level s takes in `fit`: the backend's buffers, counted by making
 * the run's own allocations (ns_level_allocate) on a counting backend; on
 * the CPU the engine's host images besides (the result, the last level's
 * copy, the canvas, a resized image on its way in); the weights and the
 * ops' workspace. */
static double level_bytes(const struct plan *pl, int s, const struct level_fit *fit, double *device) {
    struct ns_backend_count count;
    ns_backend_count_init(&count, pl->half ? NS_DTYPE_BF16 : NS_DTYPE_F32);
    struct ns_model m = *pl->m;
    m.be = &count.base;
    ns_level_allocate(&count.base, &m, pl, s, fit);
    double host = 0;
    if (!pl->gpu) {
        int w, h, stw, sth;
        ns_plan_canvas(pl, s, &w, &h);
        style_at(pl, s, &stw, &sth);
        double in = (double) w * h > (double) stw * sth ? (double) w * h : (double) stw * sth;
        /* blocks free the host canvas while they run */
        host = 3.0 * ((double) pl->ow * pl->oh + last_copy(pl, s) + (fit->block ? 0 : (double) w * h) + in);
    }
    if (device) *device = count.peak;
    return count.peak + host * sizeof(float) + pl->fixed;
}

/* The tile sides tried, largest first, when the tile is automatic; below
 * COMFORT_TILE the halos' overlap makes each evaluation markedly dearer. */
static const int tile_sides[] = {0, 1024, 768, 512, 384, 256, 192, 128, 96, 64};
#define COMFORT_TILE 256

/* The most L-BFGS pairs level s keeps in tiles of `tile` within the budget,
 * at most `want`; -1 when the level does not fit even with one pair
 * (Adam: want or -1).  A pair is two vectors of the canvas. */
static int history_fitting(const struct plan *pl, int s, int tile, int want) {
    double top = level_bytes(pl, s, &(struct level_fit){tile, want, 0, 0, 0}, NULL);
    if (top <= pl->budget) return want;
    if (pl->p.optimizer != NS_OPTIMIZER_LBFGS) return -1;
    int cw, ch;
    ns_plan_canvas(pl, s, &cw, &ch);
    double pair = 2.0 * 3 * cw * ch * sizeof(float);
    int h = want - (int) ceil((top - pl->budget) / pair);
    if (level_bytes(pl, s, &(struct level_fit){tile, h > 1 ? h : 1, 0, 0, 0}, NULL) > pl->budget) return -1;
    return h > 0 ? h : 0;
}

/* Level s block by block, when nothing else fits: the largest block that
 * keeps the whole history, else NS_LBFGS_HISTORY_MIN pairs; unchanged when
 * no block fits. */
static void fit_blocks(struct plan *pl, int s) {
    int want = pl->p.optimizer == NS_OPTIMIZER_LBFGS ? pl->p.lbfgs_history : 0;
    int least = want < NS_LBFGS_HISTORY_MIN ? want : NS_LBFGS_HISTORY_MIN, cw, ch;
    ns_plan_canvas(pl, s, &cw, &ch);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 1; i < sizeof tile_sides / sizeof tile_sides[0]; i++) {
            int block = tile_sides[i], history = pass ? least : want;
            if (block >= (cw > ch ? cw : ch)) continue;
            double device, bytes = level_bytes(pl, s, &(struct level_fit){block, history, 0, 0, block}, &device);
            if (bytes > pl->budget) continue;
            pl->fit[s] = (struct level_fit){block, history, bytes, device, block};
            return;
        }
}

/* Level s's tiles and history: the largest tile that keeps the whole
 * history, else the longest history among comfortable tiles, else the
 * first smaller tile that keeps NS_LBFGS_HISTORY_MIN pairs; the smallest
 * tile tried when nothing fits (its bytes then exceed the budget). */
static void fit_level(struct plan *pl, int s) {
    int want = pl->p.optimizer == NS_OPTIMIZER_LBFGS ? pl->p.lbfgs_history : 0;
    int least = want < NS_LBFGS_HISTORY_MIN ? want : NS_LBFGS_HISTORY_MIN;
    int cw, ch;
    ns_plan_canvas(pl, s, &cw, &ch);
    int longest = cw > ch ? cw : ch;
    /* the correlation chain pairs layers, regions weigh pixels, of the whole level: no tiles */
    int forced[1] = {ns_whole_levels(&pl->p) ? 0 : pl->p.tile};
    bool one = pl->p.tile || ns_whole_levels(&pl->p);
    const int *sides = one ? forced : tile_sides;
    int n_sides = one ? 1 : (int) (sizeof tile_sides / sizeof tile_sides[0]);
    struct level_fit comfy = {0, -1, 0, 0, 0}, *f = &pl->fit[s];
    for (int i = 0; i < n_sides; i++) {
        int tile = sides[i];
        if (tile && tile >= longest && n_sides > 1) continue; /* one tile: the whole level, tried first */
        int h = history_fitting(pl, s, tile, want);
        *f = (struct level_fit){tile, h < 0 ? least : h, 0, 0, 0};
        if (h == want) goto done;
        if (!tile || tile >= COMFORT_TILE) {
            if (h > comfy.history) comfy = *f;
            continue;
        }
        if (comfy.history >= least) { /* the first small tile: settle for the comfortable one */
            *f = comfy;
            goto done;
        }
        if (h >= least) goto done;
    }
    if (comfy.history >= least) *f = comfy;
done:
    f->bytes = level_bytes(pl, s, f, &f->device);
    if ((f->bytes > pl->budget || f->history < least) && !one) fit_blocks(pl, s);
}

/* The budget of a run of p on ctx's backend, bytes. */
static double run_budget(const struct ns_context *ctx, const struct ns_params *p) {
    double avail = ctx && ctx->be ? (double) ctx->be->ops->mem_free(ctx->be) : 0;
    double fits = avail > 0 ? 0.8 * avail : INFINITY;
    return p->max_memory > 0 && p->max_memory < fits ? p->max_memory : fits;
}

void ns_plan_make(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
                      int style_h, struct plan *pl) {
    pl->m = &pl->layout;
    if (ctx && ctx->weights.n_layers)
        ns_model_layout(&pl->layout, ctx->weights.arch, ctx->weights.n_layers);
    else if (ctx && ctx->model.n_layers)
        pl->m = &ctx->model;
    else
        ns_model_layout(&pl->layout, 19, 16);
    pl->p = params ? *params : ns_params_default();
    char err[256];
    if (ns_parse_run_layers(pl->m, &pl->p, &pl->rl, err, sizeof err)) {
        pl->p.content_layers = pl->p.style_layers = NULL;
        ns_parse_run_layers(pl->m, &pl->p, &pl->rl, err, sizeof err);
    }
    ns_output_size(&pl->p, w, h, &pl->ow, &pl->oh);
    pl->n = plan_scales(&pl->p, pl->ow, pl->oh, pl->sw, pl->sh);
    /* auto levels: the coarsest must keep the deepest layer a few pixels */
    struct ns_net_shape shape;
    while (pl->n > 1 && !pl->p.scales) {
        ns_net_shape(pl->m, pl->rl.depth, pl->sh[0], pl->sw[0], &shape);
        if (ns_net_min_side(&shape) >= 4) break;
        --pl->n, memmove(pl->sw, pl->sw + 1, sizeof(int) * pl->n),
            memmove(pl->sh, pl->sh + 1, sizeof(int) * pl->n);
    }
    for (int s = 0; s < pl->n; s++) {
        pl->it[s] = pl->p.iterations ? ns_level_iterations(pl->p.iterations, s) : 0;
        int most = (pl->sw[s] < pl->sh[s] ? pl->sw[s] : pl->sh[s]) - 1; /* a mirror, not a repeat */
        pl->mg[s] = pl->p.margin < most ? pl->p.margin : most > 0 ? most : 0;
    }
    pl->style_w = style_w > 0 ? style_w : w;
    pl->style_h = style_h > 0 ? style_h : h;
    const struct ns_backend *be = ctx ? ctx->be : NULL;
    pl->gpu = ctx && ctx->kind == NS_BACKEND_CUDA;
    pl->half = pl->gpu && half_tensors(be, &pl->p);
    /* without a backend: the CPU's, which keeps the weights also rotated */
    double model = ns_model_floats(pl->m, !be || !be->ops->conv3x3_bwd);
    if (pl->half) model += ns_model_floats(pl->m, false) / 2.0; /* the weights' bfloat16 copies */
    pl->fixed = model * sizeof(float) + (double) (be ? be->workspace : 8u << 20);
    pl->budget = run_budget(ctx, &pl->p);
    for (int s = 0; s < pl->n; s++)
        fit_level(pl, s);
}

/* The plan's largest level fit, in bytes. */
static double plan_bytes(const struct plan *pl) {
    double most = 0;
    for (int s = 0; s < pl->n; s++)
        most = pl->fit[s].bytes > most ? pl->fit[s].bytes : most;
    return most;
}

/* The largest longest side in [least, longest] whose plan of p fits its
 * budget, 0 when none does. */
static int largest_fitting(const struct ns_context *ctx, struct ns_params p, int w, int h, int style_w,
                           int style_h, struct plan *pl) {
    int longest = w > h ? w : h;
    int least = longest < 64 ? longest : 64, lo = 0, hi = longest;
    while (lo < hi) { /* the largest size in [least, longest] whose plan fits */
        p.size = lo + (hi - lo + 1) / 2;
        ns_plan_make(ctx, &p, w, h, style_w, style_h, pl);
        if (p.size >= least && plan_bytes(pl) <= pl->budget)
            lo = p.size;
        else
            hi = p.size - 1;
    }
    return lo >= least ? lo : 0;
}

int ns_largest_size(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
                    int style_h) {
    struct ns_params p = params ? *params : ns_params_default();
    if (!isfinite(run_budget(ctx, &p))) return w > h ? w : h;
    struct plan *pl = malloc(sizeof *pl);
    if (!pl) return 0;
    int size = largest_fitting(ctx, p, w, h, style_w, style_h, pl);
    free(pl);
    return size;
}

/* The work of the plan's run: its evaluations and their flops. */
static struct ns_work plan_work(const struct plan *pl) {
    struct ns_work work = {0, 0};
    for (int s = 0; s < pl->n; s++) {
        struct ns_net_shape ss;
        int stw, sth;
        style_at(pl, s, &stw, &sth);
        ns_net_shape(pl->m, pl->rl.depth, sth, stw, &ss);
        /* the iterations and the start point, the content target's forward
         * pass (counted as a whole evaluation) and the style's */
        double evals = pl->it[s] + 1;
        work.flops += (evals + 1) * ns_plan_eval_flops(pl, s) + ss.flops;
        work.evaluations += evals + 2;
    }
    return work;
}

static double overhead_flops(const struct ns_context *ctx);

void ns_plan(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
             int style_h, unsigned flags, struct ns_plan_info *out) {
    struct ns_params p = params ? *params : ns_params_default();
    memset(out, 0, sizeof *out);
    struct plan *pl = malloc(sizeof *pl);
    if (!pl) return;
    ns_plan_make(ctx, &p, w, h, style_w, style_h, pl);
    /* Final: the largest size that fits, when the photo's own does not */
    if ((flags & NS_PLAN_FIT_SIZE) && p.size == 0 && isfinite(pl->budget) && plan_bytes(pl) > pl->budget) {
        int fits = largest_fitting(ctx, p, w, h, style_w, style_h, pl);
        if (fits > 0 && fits < (w > h ? w : h)) {
            p.size = fits;
            out->capped = true;
        }
        ns_plan_make(ctx, &p, w, h, style_w, style_h, pl);
    }
    out->size = p.size;
    out->width = pl->ow, out->height = pl->oh;
    out->n_levels = pl->n < NS_PLAN_MAX_LEVELS ? pl->n : NS_PLAN_MAX_LEVELS;
    for (int s = 0; s < out->n_levels; s++) {
        const struct level_fit *f = &pl->fit[s];
        out->levels[s] =
            (struct ns_level_info){pl->sw[s], pl->sh[s], pl->it[s], f->tile, f->block, f->history, f->bytes, f->device};
    }
    out->bytes = plan_bytes(pl);
    out->budget = pl->budget;
    out->fits = out->bytes <= pl->budget;
    out->work = plan_work(pl);
    out->overhead_flops = overhead_flops(ctx);
    free(pl);
}

size_t ns_estimate_memory(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                          int style_w, int style_h) {
    struct ns_plan_info info;
    ns_plan(ctx, params, w, h, style_w, style_h, 0, &info);
    return (size_t) info.bytes;
}

int ns_estimate_levels(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                       int style_w, int style_h, struct ns_level_info *levels, int max) {
    struct ns_plan_info info;
    ns_plan(ctx, params, w, h, style_w, style_h, 0, &info);
    for (int s = 0; s < info.n_levels && s < max; s++)
        levels[s] = info.levels[s];
    return info.n_levels;
}

/* Floating-point operations of one evaluation (forward and backward) of
 * level s: in tiles, each region's, plus the Gram pass's forward. */
double ns_plan_eval_flops(const struct plan *pl, int s) {
    int w, h;
    ns_plan_canvas(pl, s, &w, &h);
    struct ns_net_shape sh;
    ns_net_shape(pl->m, pl->rl.depth, h, w, &sh);
    double grams = 0;
    for (int i = 0; i < pl->rl.style.n; i++) {
        int l = pl->rl.style.layer[i];
        grams += 4.0 * sh.c[l] * sh.c[l] * sh.h[l] * sh.w[l]; /* Gram and its backward */
    }
    struct ns_tiling t;
    const struct level_fit *f = &pl->fit[s];
    ns_tiling_plan(&sh, f->tile, &t);
    if (!f->tile || t.ny * t.nx == 1) return 2.0 * sh.flops + grams; /* backward ~ forward */
    /* the regions form a grid: their area is the sum of the rows' heights
     * times the sum of the columns' widths */
    double rows = 0, cols = 0;
    for (int k = 0; k < t.ny + t.nx; k++) {
        struct ns_tile tt, bt;
        int i = k < t.ny ? k * t.nx : k - t.ny;
        if (f->block)
            ns_block_get(&t, 0, i, &bt, &tt);
        else
            ns_tiling_get(&t, i, &tt);
        if (k < t.ny)
            rows += tt.ry1 - tt.ry0;
        else
            cols += tt.rx1 - tt.rx0;
    }
    double area = rows * cols;
    /* blocks: each step a reach's forward and backward, and each block's
     * content, start and end forward passes shared out over its steps */
    double passes = f->block ? 2.0 + 3.0 / (pl->it[s] > 0 ? pl->it[s] : 1) : 3.0;
    return passes * sh.flops * area / ((double) w * h) + grams;
}

struct ns_work ns_estimate_work(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                                int style_w, int style_h) {
    struct plan *pl = malloc(sizeof *pl);
    if (!pl) return (struct ns_work){0, 0};
    ns_plan_make(ctx, params, w, h, style_w, style_h, pl);
    struct ns_work work = plan_work(pl);
    free(pl);
    return work;
}

double ns_estimate_flops(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                         int style_w, int style_h) {
    return ns_estimate_work(ctx, params, w, h, style_w, style_h).flops;
}

/* First guesses before any run was timed: the per-evaluation cost that does
 * not shrink with the image (thread start-up, kernel launches, per-layer
 * bookkeeping) is about what evaluating a 48 x 48 image costs on the CPU,
 * 192 x 192 on a GPU, whose launches dominate; and a speed per core or GPU. */
static double overhead_flops(const struct ns_context *ctx) {
    struct plan pl;
    int side = ctx && ctx->kind == NS_BACKEND_CUDA ? 192 : 48;
    struct ns_params p = ns_params_default();
    p.size = 0; /* the image's own size */
    ns_plan_make(ctx, &p, side, side, side, side, &pl);
    return ns_plan_eval_flops(&pl, pl.n - 1);
}

static double first_guess_speed(const struct ns_context *ctx) {
    if (ctx && ctx->kind == NS_BACKEND_CUDA) return 20e12;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return 50e9 * (cores > 0 ? cores : 1);
}

/* Seconds = u * flops + v * evaluations, (u, v) >= 0 fitted to the past
 * runs in relative error; v is fitted only when the runs differ enough in
 * flops per evaluation to tell the two apart, else v = u * overhead_flops. */
static double fit_seconds(const struct ns_context *ctx, double f0, struct ns_work work,
                          const struct ns_timing *past, int n) {
    double u = 1.0 / first_guess_speed(ctx), v = u * f0;
    double aa = 0, ab = 0, bb = 0, a1 = 0, b1 = 0, lo = INFINITY, hi = 0;
    int used = 0;
    for (int i = 0; i < n; i++) {
        const struct ns_timing *t = &past[i];
        if (!(t->seconds > 0 && t->work.flops > 0 && t->work.evaluations > 0)) continue;
        double a = t->work.flops / t->seconds, b = t->work.evaluations / t->seconds,
               per = t->work.flops / t->work.evaluations;
        aa += a * a, ab += a * b, bb += b * b, a1 += a, b1 += b, used++;
        lo = per < lo ? per : lo, hi = per > hi ? per : hi;
    }
    if (used > 0) {
        double det = aa * bb - ab * ab;
        bool two = used > 1 && hi >= 2 * lo && det > 1e-9 * aa * bb;
        double fu = two ? (a1 * bb - b1 * ab) / det : 0, fv = two ? (b1 * aa - a1 * ab) / det : 0;
        if (two && fu > 0 && fv >= 0) {
            u = fu, v = fv;
        } else { /* one parameter: seconds = u * (flops + f0 * evaluations) */
            double cc = aa + 2 * f0 * ab + f0 * f0 * bb, c1 = a1 + f0 * b1;
            u = c1 / cc, v = u * f0;
        }
    }
    return u * work.flops + v * work.evaluations;
}

double ns_estimate_seconds(const struct ns_context *ctx, struct ns_work work, const struct ns_timing *past,
                           int n) {
    return fit_seconds(ctx, overhead_flops(ctx), work, past, n);
}

double ns_plan_seconds(const struct ns_context *ctx, const struct ns_plan_info *plan, const struct ns_timing *past,
                       int n) {
    return fit_seconds(ctx, plan->overhead_flops, plan->work, past, n);
}

/* ---- how busy the machine is ---- */

void ns_cpu_sample_now(struct ns_cpu_sample *s) {
    struct timespec ts;
    s->wall = ns_now_seconds();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    s->own = ts.tv_sec + ts.tv_nsec * 1e-9;
    s->busy = -1;
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                    &v[6], &v[7]) == 8) { /* user nice system idle iowait irq softirq steal */
        long tick = sysconf(_SC_CLK_TCK);
        s->busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (tick > 0 ? tick : 100);
    }
    if (f) fclose(f);
}

double ns_cpu_slowdown(const struct ns_cpu_sample *a, const struct ns_cpu_sample *b, int threads, bool ran) {
    double dt = b->wall - a->wall;
    int cores = ns_cpu_cores();
    if (!(dt > 0.02) || a->busy < 0 || b->busy < 0 || threads < 1 || cores < 1) return 1.0;
    double own = (b->own - a->own) / dt, others = (b->busy - a->busy) / dt - own;
    if (others < 0) others = 0;
    /* While we ran on a full machine every runnable thread got about the
     * same share, so the others' demand is their use scaled by our threads'
     * share; alone (a dialog waiting) their use is their demand. */
    if (ran && own > 0.05 && own + others > 0.9 * cores) others *= threads / own;
    double f = (threads + others) / cores;
    return f > 1 ? f : 1;
}

double ns_context_slowdown(struct ns_context *ctx) {
    if (!ctx || !ctx->be || ctx->kind == NS_BACKEND_CUDA) return 1.0;
    struct ns_cpu_sample now;
    ns_cpu_sample_now(&now);
    double age = now.wall - ctx->load_at.wall;
    if (!(ctx->load_at.wall > 0 && age >= 0.25 && age <= 30)) { /* no recent sample to measure from */
        ctx->load_at = now;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        ns_cpu_sample_now(&now);
    }
    double f = ns_cpu_slowdown(&ctx->load_at, &now, ctx->be->threads, false);
    ctx->load_at = now;
    return f;
}

double ns_context_last_slowdown(const struct ns_context *ctx) {
    return ctx && ctx->last_slowdown >= 1 ? ctx->last_slowdown : 1.0;
}
