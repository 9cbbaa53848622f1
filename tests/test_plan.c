/* test_plan.c - the planner (ns_plan) on the CPU: the memory it plans is
 * what a real CPU run allocates, level by level; one plan serves every
 * estimate; the time model is not thrown off by previews or busy runs. */
#include "context.h"
#include "backend.h"
#include "plan.h"
#include "testlib.h"

#include <math.h>
#include <unistd.h>

static char weights_path[256];

/* ---- what the CPU backend really allocates, per level ---- */

static const struct ns_backend_ops *real_ops;
static struct ns_backend_ops counting_ops;
static double live, level_peak[NS_PLAN_MAX_LEVELS];
static int level_now, level_end[NS_PLAN_MAX_LEVELS]; /* the iteration each level ends at */

static struct ns_buf *counting_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    struct ns_buf *b = real_ops->alloc(be, n, dtype);
    if (b) live += (double) n * ns_dtype_size(dtype);
    if (live > level_peak[level_now]) level_peak[level_now] = live;
    return b;
}

static void counting_release(struct ns_backend *be, struct ns_buf *b) {
    if (b) live -= (double) b->n * ns_dtype_size(b->dtype);
    real_ops->release(be, b);
}

/* The level the next allocations are made for: after a level's last
 * step, the next one's. */
static bool on_progress(const struct ns_progress *p, void *ud) {
    (void) ud;
    if (p->scale < NS_PLAN_MAX_LEVELS - 1) level_now = p->scale + (p->iteration == level_end[p->scale]);
    return true;
}

static struct ns_image make_image(int w, int h, int kind) {
    struct ns_image im = {falloc((size_t) w * h * 3), w, h, 3, w * 3};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                im.data[(size_t) y * im.stride + x * 3 + c] =
                    kind ? (float) (((x + 2 * y) / 3 + c) % 4) / 4 : 0.3f + 0.5f * y / h + 0.1f * c;
    return im;
}

/* A mask: 1 on the left or right `share` of w x h. */
static struct ns_image half_mask(int w, int h, bool left) {
    struct ns_image m = {falloc((size_t) w * h), w, h, 1, w};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            m.data[(size_t) y * w + x] = (left ? x < w / 2 : x >= w / 2) ? 1.0f : 0.0f;
    return m;
}

struct mem_case {
    const char *name;
    int w, h, sw, sh, size, tile, scales, optimizer, regions, chain, avg;
    float shift;
    double budget_share; /* of the untiled plan's bytes (< 0: of the smallest tiles'); 0 = no budget */
};

/* The plan's backend bytes of every level against what the CPU run
 * allocated at that level: the same allocations, so equal to the byte. */
static void check_memory(struct ns_context *ctx, const struct mem_case *c) {
    struct ns_params p = ns_params_default();
    p.size = c->size, p.iterations = 2, p.scales = c->scales, p.tile = c->tile;
    p.optimizer = c->optimizer ? NS_OPTIMIZER_ADAM : NS_OPTIMIZER_LBFGS;
    p.correlation_chain = c->chain, p.activation_shift = c->shift;
    p.pooling = c->avg ? NS_POOLING_AVG : NS_POOLING_MAX;
    struct ns_image content = make_image(c->w, c->h, 0), styles[2] = {make_image(c->sw, c->sh, 1),
                                                                        make_image(c->sh, c->sw, 1)};
    struct ns_image masks[2] = {half_mask(c->w, c->h, true), half_mask(c->w, c->h, false)};
    int n_styles = c->regions ? 2 : 1;
    if (c->regions) p.style_masks = masks, p.n_style_masks = 2;
    if (c->budget_share) {
        struct ns_plan_info whole;
        p.max_memory = c->budget_share < 0 ? 1 : 0; /* nothing fits: the smallest tiles' plan */
        ns_plan(ctx, &p, c->w, c->h, c->sw, c->sh, 0, &whole);
        p.max_memory = fabs(c->budget_share) * whole.bytes;
    }
    struct ns_plan_info plan;
    ns_plan(ctx, &p, c->w, c->h, c->sw, c->sh, 0, &plan);
    int ow, oh;
    ns_output_size(&p, c->w, c->h, &ow, &oh);
    struct ns_image r = {falloc((size_t) ow * oh * 3), ow, oh, 3, 3 * ow};
    live = 0, level_now = 0;
    memset(level_peak, 0, sizeof level_peak);
    for (int s = 0, end = 0; s < plan.n_levels; s++)
        level_end[s] = end += plan.levels[s].iterations;
    enum ns_status st = ns_run(ctx, &content, styles, n_styles, &p, on_progress, NULL, &r);
    CHECK(st == NS_STATUS_OK, "%s: %s", c->name, ns_last_error(ctx));
    CHECK(plan.width == ow && plan.height == oh, "%s: plan %d x %d, run %d x %d", c->name, plan.width,
          plan.height, ow, oh);
    for (int s = 0; s < plan.n_levels; s++) {
        const struct ns_level_info *l = &plan.levels[s];
        CHECK(l->device_bytes == level_peak[s], "%s, level %d: planned %.0f bytes on the backend, the run took %.0f",
              c->name, s + 1, l->device_bytes, level_peak[s]);
        CHECK(l->bytes >= l->device_bytes && (c->budget_share == 0 || l->bytes <= p.max_memory),
              "%s, level %d: %.0f bytes in all, %.0f on the backend, budget %.0f", c->name, s + 1, l->bytes,
              l->device_bytes, p.max_memory);
        printf("%s, level %d (%d x %d, %s %d, history %d): planned %.3f MB, allocated %.3f MB\n", c->name, s + 1,
               l->width, l->height, l->block ? "blocks" : "tiles", l->block ? l->block : l->tile, l->history,
               l->device_bytes / 1e6, level_peak[s] / 1e6);
    }
    CHECK(live == 0, "%s: %.0f bytes still held after the run", c->name, live);
    free(r.data), free(content.data), free(styles[0].data), free(styles[1].data);
    free(masks[0].data), free(masks[1].data);
}

static void test_memory(void) {
    struct ns_context *ctx;
    CHECK(ns_context_new(weights_path, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    real_ops = ctx->be->ops;
    counting_ops = *real_ops;
    counting_ops.alloc = counting_alloc;
    counting_ops.release = counting_release;
    ctx->be->ops = &counting_ops;
    static const struct mem_case cases[] = {
        {"whole, L-BFGS", 96, 80, 70, 90, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"whole, Adam, a larger painting", 80, 64, 150, 120, 0, 0, 0, 1, 0, 0, 0, 0, 0},
        {"tiles of 32", 96, 80, 70, 90, 0, 32, 0, 0, 0, 0, 0, 0, 0},
        {"tiles of 48, shift, avg pooling", 120, 72, 60, 60, 0, 48, 0, 0, 0, 0, 1, -1, 0},
        {"two regions", 96, 72, 64, 80, 0, 0, 0, 0, 1, 0, 0, 0, 0},
        {"correlation chain", 88, 72, 64, 64, 0, 0, 0, 0, 0, 1, 0, -1, 0},
        {"two levels", 160, 120, 90, 70, 0, 0, 2, 0, 0, 0, 0, 0, 0},
        {"budget of 30% (smaller tiles, shorter history)", 400, 300, 360, 360, 0, 0, 0, 0, 0, 0, 0, 0, 0.3},
        {"budget under the smallest tiles' (blocks)", 400, 300, 360, 360, 0, 0, 0, 0, 0, 0, 0, 0, -0.95},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_memory(ctx, &cases[i]);
    ctx->be->ops = real_ops;
    ns_context_free(ctx);
}

/* ---- one plan for every estimate ---- */

static void test_one_plan(void) {
    struct ns_context *ctx;
    ns_context_new(weights_path, NS_BACKEND_CPU, &ctx);
    struct ns_params p = ns_params_default();
    p.size = 0;
    p.max_memory = 60e6; /* a photo whose own size does not fit: Final is capped */
    struct ns_plan_info plan;
    ns_plan(ctx, &p, 1200, 900, 400, 400, NS_PLAN_FIT_SIZE, &plan);
    int fits = ns_largest_size(ctx, &p, 1200, 900, 400, 400);
    CHECK(plan.capped && plan.size == fits && plan.fits, "Final capped to %d px (fits %d), largest %d", plan.size,
          plan.fits, fits);
    p.size = plan.size;
    CHECK(plan.bytes == (double) ns_estimate_memory(ctx, &p, 1200, 900, 400, 400), "the plan's memory");
    struct ns_work w = ns_estimate_work(ctx, &p, 1200, 900, 400, 400);
    CHECK(plan.work.flops == w.flops && plan.work.evaluations == w.evaluations, "the plan's work");
    struct ns_level_info lv[NS_PLAN_MAX_LEVELS];
    int n = ns_estimate_levels(ctx, &p, 1200, 900, 400, 400, lv, NS_PLAN_MAX_LEVELS);
    CHECK(n == plan.n_levels && lv[n - 1].tile == plan.levels[n - 1].tile, "the plan's levels");
    CHECK(ns_plan_seconds(ctx, &plan, NULL, 0) == ns_estimate_seconds(ctx, w, NULL, 0), "the plan's seconds");
    printf("Final of 1200 x 900 within 60 MB: %d px, %.1f MB\n", fits, plan.bytes / 1e6);
    p.size = 0;
    p.max_memory = 0;
    ns_plan(ctx, &p, 300, 200, 400, 400, NS_PLAN_FIT_SIZE, &plan);
    CHECK(!plan.capped && plan.size == 0 && plan.width == 300, "a photo that fits keeps its size");
    ns_context_free(ctx);
}

/* ---- the time model under other work ---- */

/* How much other processes slow a run, from CPU samples (synthetic: no
 * timing in the test): on 2 cores, two busy threads beside a run of 2
 * threads halve its share; a dialog waiting beside them sees their demand. */
static void test_slowdown(void) {
    int cores = ns_cpu_cores();
    struct ns_cpu_sample a = {100, 1000, 10}, b;
    /* ran 10 s: this process got cores / 2, the others the rest */
    b = (struct ns_cpu_sample){110, 1000 + 10.0 * cores, 10 + 5.0 * cores};
    double ran = ns_cpu_slowdown(&a, &b, cores, true);
    CHECK(fabs(ran - 2) < 1e-9, "a run at half its share was slowed %.3fx, not 2x", ran);
    /* waited 1 s while others took every core */
    b = (struct ns_cpu_sample){101, 1000 + cores, 10};
    double waited = ns_cpu_slowdown(&a, &b, cores, false);
    CHECK(fabs(waited - 2) < 1e-9, "beside %d busy threads: %.3fx, not 2x", cores, waited);
    b = (struct ns_cpu_sample){101, 1000.05, 10.05}; /* idle: only our own 5 %% */
    CHECK(ns_cpu_slowdown(&a, &b, cores, false) == 1, "an idle machine slows nothing");
    b = (struct ns_cpu_sample){101, -1, 10}; /* no /proc/stat */
    CHECK(ns_cpu_slowdown(&a, &b, cores, false) == 1, "unknown load: 1");
}

/* A preview or a busy run recorded as the plug-in records it (its seconds
 * divided by its slowdown) leaves the estimate of a run where the idle
 * runs put it: the "about 4 min" became "about 14 min" after a
 * preview of 58 s on a busy machine. */
static void test_preview_no_throw(void) {
    struct ns_params p = ns_params_default();
    struct ns_plan_info draft, preview;
    ns_plan(NULL, &p, 2048, 1365, 1717, 1200, NS_PLAN_FIT_SIZE, &draft);
    p.size = 0, p.iterations = 20, p.style_scale = 4;
    ns_plan(NULL, &p, 96, 96, 384, 256, 0, &preview);
    /* an idle machine at 2e-9 s per flop and 30 ms per evaluation */
    struct ns_timing runs[3], with[4];
    for (int i = 0; i < 3; i++) {
        struct ns_params q = ns_params_default();
        q.size = 256 + 128 * i, q.iterations = 20 + 90 * i;
        struct ns_plan_info pi;
        ns_plan(NULL, &q, 2048, 1365, 1717, 1200, 0, &pi);
        runs[i] = (struct ns_timing){pi.work, 2e-9 * pi.work.flops + 0.03 * pi.work.evaluations};
    }
    double before = ns_plan_seconds(NULL, &draft, runs, 3);
    /* the preview took 3.4x its idle time beside other work (58 s / 17 s);
     * the run that measured it says so, and it is recorded divided by that */
    double slow = 3.4, idle = 2e-9 * preview.work.flops + 0.03 * preview.work.evaluations;
    with[0] = (struct ns_timing){preview.work, idle * slow / slow};
    memcpy(with + 1, runs, sizeof runs);
    double after = ns_plan_seconds(NULL, &draft, with, 4);
    CHECK(fabs(after / before - 1) < 0.05, "a busy preview moved the estimate from %.0f s to %.0f s", before, after);
    /* had it been kept as measured, it would have thrown the estimate off */
    with[0].seconds = idle * slow;
    double thrown = ns_plan_seconds(NULL, &draft, with, 4);
    printf("Draft estimated %.0f s; after a busy preview %.0f s (kept as measured: %.0f s)\n", before, after, thrown);
    CHECK(fabs(thrown / before - 1) > 0.1, "the unnormalised preview should show the issue: %.0f s", thrown);
}

int main(void) {
    snprintf(weights_path, sizeof weights_path, "/tmp/ns-test-plan-%d.safetensors", (int) getpid());
    struct ns_weights w;
    random_weights(&w, 19, 5);
    write_safetensors(weights_path, &w, NULL);
    ns_weights_free(&w);
    test_slowdown();
    test_preview_no_throw();
    test_memory();
    test_one_plan();
    unlink(weights_path);
    return test_summary("test_plan");
}
