/* test_tiles.c - the objective in tiles against the objective whole.
 *
 * Same weights, images and layers; the untiled objective on an h x w net,
 * the tiled one on a net of the largest region.  The terms at the start
 * point must agree within 1e-4 relative (float summation order is all
 * that differs) and the gradients within a normalised 1e-5; then
 * ns_net_support is checked against the gradient of one feature.
 */
#include "context.h"
#include "objective.h"
#include "testlib.h"

#include <unistd.h>

static void image_of(float *u, int h, int w, int seed) {
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                u[((size_t) c * h + y) * w + x] =
                    (float) (0.5 + 0.35 * sin(0.21 * x * (c + 1) + seed) * cos(0.17 * y + seed) +
                             0.1 * rnd_uniform());
}

struct eval {
    struct ns_terms t;
    float *grad;
    int style_tile; /* the painting's tiles (0 = one piece) */
};

/* Objective at u with the net tiled at `tile` (0 = whole). */
static struct eval evaluate(struct ns_model *m, const struct ns_layer_sel *cs, const struct ns_layer_sel *ss,
                            enum ns_pool_mode pool, int h, int w, int tile, const float *uc, const float *us,
                            int sh, int sw, const float *u) {
    struct eval e = {{0}, falloc((size_t) 3 * h * w), 0};
    int depth = ns_objective_depth(cs, ss), rh = h, rw = w;
    if (tile) ns_objective_region_size(m, depth, h, w, tile, &rh, &rw);
    struct ns_net *net;
    struct ns_objective o;
    CHECK(ns_net_new(m, depth, rh, rw, true, pool, &net) == NS_STATUS_OK, "net %d x %d", rw, rh);
    CHECK(ns_objective_init_tiled(&o, net, h, w, tile, cs, ss, 1.0f, 5.0f, 0.5f) == NS_STATUS_OK,
          "objective, tiles of %d", tile);
    if (failures) return e;
    CHECK(!tile || o.tiling.ny * o.tiling.nx > 1, "tile %d: the level is one tile", tile);
    ns_objective_set_content(&o, V(uc));
    e.style_tile = ns_tiling_style(m, depth, &o.tiling, net->cap_h, net->cap_w, sh, sw);
    ns_objective_add_style(&o, V(us), sh, sw, 1.0f, true);
    ns_objective_finish_style(&o);
    CHECK(ns_objective_eval(&o, V(u), V(e.grad), &e.t) == NS_STATUS_OK, "eval, tiles of %d", tile);
    struct ns_terms no_grad;
    ns_objective_eval(&o, V(u), NULL, &no_grad);
    CHECK(no_grad.loss == e.t.loss, "tiles of %d: loss with and without gradient differ", tile);
    ns_objective_release(&o);
    ns_net_free(net);
    return e;
}

static double rel(double a, double b) {
    return fabs(a - b) / (fabs(b) > 1e-30 ? fabs(b) : 1.0);
}

/* A random net of n_layers, its layer selections, and the photo, the
 * painting and the start point of a case. */
struct fixture {
    struct ns_weights wt;
    struct ns_model m;
    struct ns_layer_sel cs, ss;
    int sh, sw;
    float *uc, *us, *u;
};

static void fixture_new(struct fixture *f, const char *name, struct ns_backend *be, int n_layers,
                        const char *content_layers, const char *style_layers, int h, int w) {
    random_weights(&f->wt, 19, n_layers);
    CHECK(ns_model_init(&f->m, be, &f->wt) == NS_STATUS_OK, "%s: model", name);
    char err[256];
    CHECK(ns_layers_parse(&f->m, content_layers, "", &f->cs, err, sizeof err) == NS_STATUS_OK, "%s: %s", name,
          err);
    CHECK(ns_layers_parse(&f->m, style_layers, "", &f->ss, err, sizeof err) == NS_STATUS_OK, "%s: %s", name,
          err);
    f->sh = 40, f->sw = 44;
    size_t n = (size_t) 3 * h * w;
    f->uc = falloc(n), f->us = falloc((size_t) 3 * f->sh * f->sw), f->u = falloc(n);
    image_of(f->uc, h, w, 1);
    image_of(f->us, f->sh, f->sw, 2);
    image_of(f->u, h, w, 3);
}

static void fixture_free(struct fixture *f) {
    free(f->uc), free(f->us), free(f->u);
    ns_model_release(&f->m);
    ns_weights_free(&f->wt);
}

static void tiled_case(const char *name, struct ns_backend *be, int n_layers, const char *content_layers,
                       const char *style_layers, enum ns_pool_mode pool, int h, int w, int tile) {
    struct fixture f;
    fixture_new(&f, name, be, n_layers, content_layers, style_layers, h, w);
    struct ns_model m = f.m;
    struct ns_layer_sel cs = f.cs, ss = f.ss;
    int sh = f.sh, sw = f.sw;
    size_t n = (size_t) 3 * h * w;
    float *uc = f.uc, *us = f.us, *u = f.u;
    struct eval whole = evaluate(&m, &cs, &ss, pool, h, w, 0, uc, us, sh, sw, u);
    struct eval tiled = evaluate(&m, &cs, &ss, pool, h, w, tile, uc, us, sh, sw, u);
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double) tiled.grad[i] - whole.grad[i];
        num += d * d;
        den += (double) whole.grad[i] * whole.grad[i];
    }
    double ge = sqrt(num / (den > 0 ? den : 1));
    double lc = rel(tiled.t.content, whole.t.content), ls = rel(tiled.t.style, whole.t.style),
           lt = rel(tiled.t.tv, whole.t.tv), l = rel(tiled.t.loss, whole.t.loss);
    CHECK(l <= 1e-4 && lc <= 1e-4 && ls <= 1e-4 && lt <= 1e-4,
          "%s: tiled terms differ: loss %.2e, content %.2e, style %.2e, tv %.2e (relative)", name, l, lc, ls,
          lt);
    CHECK(ge <= 1e-5, "%s: tiled gradient differs by %.2e (normalised)", name, ge);
    CHECK(tiled.style_tile > 0 && tiled.style_tile < (sh > sw ? sh : sw),
          "%s: the %d x %d painting is not cut into tiles (%d)", name, sw, sh, tiled.style_tile);
    printf("%s: %d x %d in tiles of %d, painting in tiles of %d: loss %.6g, relative difference %.1e, "
           "gradient %.1e\n",
           name, w, h, tile, tiled.style_tile, whole.t.loss, l, ge);
    free(whole.grad), free(tiled.grad);
    fixture_free(&f);
}

/* Block by block: at every block, the whole image's terms and the
 * gradient with respect to the block's pixels are those of the objective
 * whole (the block's reach and the rest's fixed terms). */
static void blocks_case(const char *name, struct ns_backend *be, int n_layers, const char *content_layers,
                        const char *style_layers, enum ns_pool_mode pool, int h, int w, int block) {
    struct fixture f;
    fixture_new(&f, name, be, n_layers, content_layers, style_layers, h, w);
    struct ns_model m = f.m;
    struct ns_layer_sel cs = f.cs, ss = f.ss;
    int sh = f.sh, sw = f.sw;
    float *uc = f.uc, *us = f.us, *u = f.u;
    struct eval whole = evaluate(&m, &cs, &ss, pool, h, w, 0, uc, us, sh, sw, u);
    struct ns_net_shape full;
    struct ns_tiling t;
    int depth = ns_objective_depth(&cs, &ss);
    ns_net_shape(&m, depth, h, w, &full);
    ns_tiling_plan(&full, block, &t);
    struct ns_net *net;
    struct ns_objective o;
    CHECK(ns_net_new(&m, depth, ns_block_region(&t, true), ns_block_region(&t, false), true, pool, &net) ==
              NS_STATUS_OK,
          "%s: net", name);
    CHECK(ns_objective_init_blocks(&o, net, h, w, block, &cs, &ss, 1.0f, 5.0f, 0.5f) == NS_STATUS_OK,
          "%s: objective in blocks of %d", name, block);
    if (failures) return;
    CHECK(t.ny * t.nx > 2, "%s: %d blocks", name, t.ny * t.nx);
    ns_objective_add_style(&o, V(us), sh, sw, 1.0f, true);
    ns_objective_finish_style(&o);
    double worst_l = 0, worst_g = 0, worst_s = 0;
    for (int k = 0; k < t.ny * t.nx; k++) {
        struct ns_tile b;
        ns_tiling_get(&t, k, &b);
        int bh = b.y1 - b.y0, bw = b.x1 - b.x0;
        float *g = falloc((size_t) 3 * bh * bw);
        struct ns_terms start, at;
        CHECK(ns_blocks_eval(&o, V(u), V(uc), k, V(g), &start, &at) == NS_STATUS_OK, "%s: block %d", name, k);
        double num = 0, den = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < bh; y++)
                for (int x = 0; x < bw; x++) {
                    double want = whole.grad[((size_t) c * h + b.y0 + y) * w + b.x0 + x],
                           d = g[((size_t) c * bh + y) * bw + x] - want;
                    num += d * d, den += want * want;
                }
        double ge = sqrt(num / (den > 0 ? den : 1));
        double l = fmax(fmax(rel(at.loss, whole.t.loss), rel(at.content, whole.t.content)),
                        fmax(rel(at.style, whole.t.style), rel(at.tv, whole.t.tv)));
        double ls = fmax(rel(start.loss, whole.t.loss), rel(start.content, whole.t.content));
        worst_l = fmax(worst_l, l), worst_g = fmax(worst_g, ge), worst_s = fmax(worst_s, ls);
        free(g);
    }
    CHECK(worst_s <= 1e-4, "%s: whole terms from the blocks differ by %.2e (relative)", name, worst_s);
    CHECK(worst_l <= 1e-4, "%s: a block's terms differ from the whole by %.2e (relative)", name, worst_l);
    CHECK(worst_g <= 1e-5, "%s: a block's gradient differs by %.2e (normalised)", name, worst_g);
    printf("%s: %d x %d in %d blocks of %d: terms within %.1e, block gradients within %.1e\n", name, w, h,
           t.ny * t.nx, block, fmax(worst_l, worst_s), worst_g);
    ns_objective_release(&o);
    ns_net_free(net);
    free(whole.grad);
    fixture_free(&f);
}

/* The probe's loss gradient: one feature of one layer. */
struct probe {
    struct ns_backend *be;
    int layer;
    const float *unit;
    size_t nf;
};

static void set_unit(void *ud, int l, const struct ns_buf *act, struct ns_buf *g) {
    const struct probe *pr = ud;
    if (l == pr->layer) pr->be->ops->upload(pr->be, g, pr->unit, pr->nf);
}

/* ns_net_support against the gradient itself: with positive weights every
 * ReLU passes and average pooling spreads, so the input gradient of one
 * feature is nonzero exactly on the pixels it depends on. */
static void test_support(struct ns_backend *be, int layer, int want_halo) {
    struct ns_weights w;
    random_weights(&w, 19, layer + 1);
    for (int l = 0; l < w.n_layers; l++) {
        size_t n = (size_t) w.layer[l].cout * w.layer[l].cin * 9;
        for (size_t i = 0; i < n; i++)
            w.layer[l].weight[i] = fabsf(w.layer[l].weight[i]);
        for (int i = 0; i < w.layer[l].cout; i++)
            w.layer[l].bias[i] = fabsf(w.layer[l].bias[i]) + 0.01f;
    }
    struct ns_model m;
    CHECK(ns_model_init(&m, be, &w) == NS_STATUS_OK, "support: model");
    int side = 160;
    struct ns_net *net;
    CHECK(ns_net_new(&m, layer + 1, side, side, true, NS_POOL_AVG, &net) == NS_STATUS_OK, "support: net");
    if (failures) return;
    struct ns_net_support r;
    ns_net_support(&net->s, layer, &r);
    int fh = net->s.h[layer], fw = net->s.w[layer], fy = fh / 2, fx = fw / 2;
    size_t n = (size_t) 3 * side * side, nf = (size_t) net->s.c[layer] * fh * fw;
    float *u = falloc(n), *gu = falloc(n), *unit = falloc(nf);
    fill_uniform(u, n, 0.2, 0.8);
    unit[(size_t) fy * fw + fx] = 1.0f; /* channel 0 */
    struct probe pr = {be, layer, unit, nf};
    ns_net_forward(net, V(u), NULL, NULL);
    ns_net_backward(net, set_unit, &pr, V(gu));
    /* Winograd's tiles leave rounding where exact arithmetic cancels:
     * "nonzero" is above that */
    float most = 0.0f;
    for (size_t i = 0; i < n; i++)
        most = fabsf(gu[i]) > most ? fabsf(gu[i]) : most;
    int y0 = side, y1 = -1, x0 = side, x1 = -1;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                if (fabsf(gu[((size_t) c * side + y) * side + x]) > 1e-5f * most) {
                    y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
                    x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                }
    CHECK(y0 == fy * r.jump + r.lo && y1 == fy * r.jump + r.hi && x0 == fx * r.jump + r.lo &&
              x1 == fx * r.jump + r.hi,
          "%s: the gradient reaches rows %d..%d, columns %d..%d; the support says %d..%d, %d..%d",
          m.name[layer], y0, y1, x0, x1, fy * r.jump + r.lo, fy * r.jump + r.hi, fx * r.jump + r.lo,
          fx * r.jump + r.hi);
    CHECK(ns_net_halo(&net->s) == want_halo, "%s: halo %d, want %d", m.name[layer], ns_net_halo(&net->s),
          want_halo);
    printf("%s: support %+d..%+d px around %d y, halo %d px\n", m.name[layer], r.lo, r.hi, r.jump,
           ns_net_halo(&net->s));
    free(u), free(gu), free(unit);
    ns_net_free(net);
    ns_model_release(&m);
    ns_weights_free(&w);
}

/* Mean |Laplacian| of channel 0 of an interleaved image over the rows (or
 * columns) where `on_cut` says, or elsewhere. */
static double mean_laplacian(const struct ns_image *im, int tile, bool cuts) {
    double s = 0;
    size_t n = 0;
    for (int y = 1; y + 1 < im->height; y++)
        for (int x = 1; x + 1 < im->width; x++) {
            /* a cut lies between pixels tile*k - 1 and tile*k */
            bool on = y % tile == 0 || y % tile == tile - 1 || x % tile == 0 || x % tile == tile - 1;
            if (on != cuts) continue;
            const float *p = im->data + (size_t) y * im->stride + (size_t) x * im->channels;
            double lap = 4.0 * p[0] - p[-im->channels] - p[im->channels] - p[-im->stride] - p[im->stride];
            s += fabs(lap), n++;
        }
    return n ? s / (double) n : 0;
}

/* A CPU context on a random 5-layer net written to path (64 bytes). */
static struct ns_context *random_context(char *path, const char *tag) {
    snprintf(path, 64, "/tmp/ns-test-%s-%d.safetensors", tag, (int) getpid());
    struct ns_weights w;
    random_weights(&w, 19, 5);
    CHECK(write_safetensors(path, &w, NULL), "cannot write %s", path);
    ns_weights_free(&w);
    struct ns_context *ctx = NULL;
    CHECK(ns_context_new(path, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    return failures ? NULL : ctx;
}

/* A smooth W x H photo and a busy S x S painting. */
static void synthetic_pair(int W, int H, int S, struct ns_image *content, struct ns_image *style) {
    *content = (struct ns_image){falloc((size_t) 3 * W * H), W, H, 3, 3 * W};
    *style = (struct ns_image){falloc((size_t) 3 * S * S), S, S, 3, 3 * S};
    for (int i = 0; i < 3 * W * H; i++)
        content->data[i] = (float) (0.5 + 0.4 * sin(0.05 * i) * cos(0.001 * i));
    for (int i = 0; i < 3 * S * S; i++)
        style->data[i] = (float) (0.5 + 0.45 * sin(0.9 * i));
}

static bool last_loss(const struct ns_progress *pr, void *ud) {
    *(double *) ud = pr->loss;
    return true;
}

/* Whole runs, tiled and not.  Adam takes the same steps, so its results
 * must agree; L-BFGS's line search may take another branch on a last-bit
 * difference, so its final losses must agree.  And no seams: the mean
 * |Laplacian| on the tiles' cut rows and columns within 10% of the rest. */
static void test_run_in_tiles(void) {
    char path[64];
    struct ns_context *ctx = random_context(path, "tiles");
    if (!ctx) return;
    int W = 96, H = 80;
    struct ns_image content, style;
    synthetic_pair(W, H, 50, &content, &style);
    struct ns_params p = ns_params_default();
    p.size = 0, p.iterations = 15, p.scales = 1, p.margin = 0; /* cuts where the tiles are */
    p.style_layers = "relu1_1,relu2_1,relu3_1", p.content_layers = "relu2_2";
    struct ns_image r[2][2];
    double loss[2][2];
    for (int opt = 0; opt < 2; opt++)
        for (int k = 0; k < 2; k++) {
            r[opt][k] = (struct ns_image){falloc((size_t) 3 * W * H), W, H, 3, 3 * W};
            p.tile = k ? 32 : 0;
            p.optimizer = opt ? NS_OPTIMIZER_ADAM : NS_OPTIMIZER_LBFGS;
            CHECK(ns_run(ctx, &content, &style, 1, &p, last_loss, &loss[opt][k], &r[opt][k]) == NS_STATUS_OK,
                  "run, tile %d: %s", p.tile, ns_last_error(ctx));
        }
    /* the mean: Adam's first steps are about sign(g) lr, so a pixel whose
     * gradient is nearly 0 may step either way on a last-bit difference;
     * Winograd's rounding depends on where its 4 x 4 grid falls, which a
     * tile's origin moves, and it rounds more than direct convolution
     * (1.7e-4 measured, 8e-6 with NS_CPU_CONV=direct: 0.04 of an 8-bit
     * level).  Which pixels flip hangs on sgemm's rounding too: with
     * OpenBLAS's Zen kernels on the AMD EPYC it was 7.1e-4 with blocks of
     * 64 tiles and 2.2e-4 with 256 (0.18 and 0.06 of a level), so the
     * bound is 1e-3, a quarter of a level */
    double worst = 0;
    for (int i = 0; i < 3 * W * H; i++)
        worst += fabs(r[1][0].data[i] - r[1][1].data[i]) / (3.0 * W * H);
    double on = mean_laplacian(&r[0][1], 32, true), off = mean_laplacian(&r[0][1], 32, false);
    double dl = rel(loss[0][1], loss[0][0]);
    CHECK(worst < 1e-3, "Adam, 15 iterations in tiles of 32: %.2e from the untiled result on average", worst);
    CHECK(dl < 1e-2, "L-BFGS, 15 iterations in tiles of 32: loss %.6g, untiled %.6g", loss[0][1], loss[0][0]);
    CHECK(fabs(on - off) <= 0.1 * off, "seams: mean |Laplacian| %.4g on the cuts, %.4g elsewhere", on, off);
    printf("runs in tiles of 32: Adam %.1e from the untiled result on average; L-BFGS loss %.1e apart, mean "
           "|Laplacian| %.4g on the cuts, %.4g elsewhere (untiled %.4g, %.4g)\n",
           worst, dl, on, off, mean_laplacian(&r[0][0], 32, true), mean_laplacian(&r[0][0], 32, false));
    for (int opt = 0; opt < 2; opt++)
        for (int k = 0; k < 2; k++)
            free(r[opt][k].data);
    free(content.data), free(style.data);
    ns_context_free(ctx);
    unlink(path);
}

static bool block_side(const struct ns_progress *pr, void *ud) {
    int *b = ud;
    b[0] = pr->block ? pr->block : b[0];
    *(double *) (b + 2) = pr->loss;
    return true;
}

/* A run block by block, where the budget leaves no room for the whole
 * image's optimiser even in tiles: it lowers the objective about as far as
 * the same steps over the whole image do, and leaves no seams on the
 * blocks' edges. */
static void test_run_in_blocks(void) {
    char path[64];
    struct ns_context *ctx = random_context(path, "blocks");
    if (!ctx) return;
    int W = 512, H = 384;
    struct ns_image content, style;
    synthetic_pair(W, H, 80, &content, &style);
    struct ns_params p = ns_params_default();
    /* coarse to fine as runs are: the finest level starts from the coarse
     * result, block by block; without a margin the blocks' edges lie on
     * the grid measured */
    p.size = 0, p.iterations = 40, p.scales = 2, p.margin = 0;
    p.style_layers = "relu1_1,relu2_1,relu3_1", p.content_layers = "relu2_2";
    p.max_memory = 1;
    size_t least = ns_estimate_memory(ctx, &p, W, H, 80, 80); /* the smallest tiles' need */
    struct ns_image r[2];
    double loss[2];
    int block = 0;
    for (int k = 0; k < 2; k++) {
        int rep[4] = {0};
        r[k] = (struct ns_image){falloc((size_t) 3 * W * H), W, H, 3, 3 * W};
        p.max_memory = k ? 0.9 * least : 0;
        CHECK(ns_run(ctx, &content, &style, 1, &p, block_side, rep, &r[k]) == NS_STATUS_OK, "run %d: %s", k,
              ns_last_error(ctx));
        memcpy(&loss[k], rep + 2, sizeof(double));
        if (k) block = rep[0];
    }
    CHECK(block > 0, "90%% of the smallest tiles' %.1f MB: not block by block", least / 1e6);
    double on = mean_laplacian(&r[1], block ? block : 64, true),
           off = mean_laplacian(&r[1], block ? block : 64, false);
    CHECK(loss[1] <= 1.05 * loss[0], "blocks of %d: loss %.6g, the whole image's %.6g", block, loss[1],
          loss[0]);
    CHECK(fabs(on - off) <= 0.1 * off, "seams: mean |Laplacian| %.4g on the blocks' edges, %.4g elsewhere",
          on, off);
    printf(
        "run in blocks of %d: loss %.6g (the whole image at once: %.6g); mean |Laplacian| %.4g on the edges, "
        "%.4g elsewhere\n",
        block, loss[1], loss[0], on, off);
    free(r[0].data), free(r[1].data), free(content.data), free(style.data);
    ns_context_free(ctx);
    unlink(path);
}

int main(void) {
    struct ns_backend *be;
    if (ns_backend_cpu_new(0, &be)) return 1;
    test_support(be, 1, 2);  /* relu1_2: +-2 px */
    test_support(be, 4, 16); /* relu3_1: -10..+13 around 4y */
    test_support(be, 9, 48); /* relu4_2: -38..+45 around 8y */
    /* relu3_1 needs a 16 px halo: tiles of 16 cut 72 x 56 into 5 x 4 */
    tiled_case("max-pool", be, 5, "relu2_2", "relu1_1,relu2_1,relu3_1", NS_POOL_MAX, 56, 72, 16);
    tiled_case("avg-pool, sides off the grid", be, 5, "relu3_1", "relu1_2,relu2_1", NS_POOL_AVG, 53, 70, 20);
    tiled_case("a strip", be, 3, "relu2_1", "relu1_1,relu2_1", NS_POOL_MAX, 30, 90, 24);
    blocks_case("blocks, max-pool", be, 5, "relu2_2", "relu1_1,relu2_1,relu3_1", NS_POOL_MAX, 56, 72, 16);
    blocks_case("blocks, avg-pool, sides off the grid", be, 5, "relu3_1", "relu1_2,relu2_1", NS_POOL_AVG, 53,
                70, 20);
    be->ops->free(be);
    test_run_in_tiles();
    test_run_in_blocks();
    return test_summary("test_tiles");
}
