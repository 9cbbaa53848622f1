/* bench.c - seconds per iteration of ns_run (median over the iterations
 * after the first) and peak resident memory, as one JSON line.
 *
 *   bench --weights W --size N --iterations K [--threads T] [--optimizer lbfgs|adam]
 *         [--content-layers L] [--style-layers L] [--device cpu|auto|cuda] [--precision fp32|tf32|bf16]
 *   bench --write-random-vgg19 FILE     full-depth VGG-19 with random weights
 *   bench --sgemm THREADS               OpenBLAS's sgemm GFLOP/s on a 2048^2
 *         product (the fastest of 5), the yardstick of docs/engine.md
 *   bench --weights W --iterations K --estimate-final W0 H0 SIZE0 SECONDS W H
 *         Final (size 0, capped to what fits in memory) of W x H, estimated
 *         from a measured run of W0 x H0 at --size SIZE0 (512: Draft, 0:
 *         Final) that took SECONDS, as the plug-in estimates: a table row
 */
#include "../testlib.h"
#include "bench.h"
#include "context.h"
#include "ns.h"

#include <sys/resource.h>

struct times {
    double t[10000];
    int n;
    double last;
};

static bool on_progress(const struct ns_progress *p, void *ud) {
    struct times *t = ud;
    double s = now();
    if (p->iteration > 0 && t->n < 10000) t->t[t->n++] = s - t->last;
    t->last = s;
    return true;
}

/* "restyled at | time | memory |" of a Final run of w x h, estimated from a
 * run of w0 x h0 at size0 that took `seconds` (a 1717 x 1200 painting). */
static int estimate_final(struct ns_context *ctx, struct ns_params p, int w0, int h0, int size0, double seconds,
                          int w, int h) {
    p.size = size0;
    struct ns_timing past = {ns_estimate_work(ctx, &p, w0, h0, 1717, 1200), seconds};
    p.size = 0;
    int fit = ns_largest_size(ctx, &p, w, h, 1717, 1200);
    if (fit < (w > h ? w : h)) p.size = fit;
    int ow, oh;
    ns_output_size(&p, w, h, &ow, &oh);
    double t = ns_estimate_seconds(ctx, ns_estimate_work(ctx, &p, w, h, 1717, 1200), &past, 1);
    char when[32];
    if (t < 3600)
        snprintf(when, sizeof when, "about %.0f min", t / 60);
    else
        snprintf(when, sizeof when, "about %.1f h", t / 3600);
    printf("%d × %d%s | %s (estimated, not measured) | %.1f GB (estimated) |\n", ow, oh,
           p.size ? " (the largest that fits)" : "", when, ns_estimate_memory(ctx, &p, w, h, 1717, 1200) / 1e9);
    return 0;
}

/* --plan W H: the levels a run of a W x H photo (the painting 1717 x 1200)
 * would compute on ctx's backend within p.max_memory, answered without
 * allocating, e.g. a 24 MP photo on an 8 GB GPU through the emulator. */
static int print_plan(struct ns_context *ctx, struct ns_params p, int w, int h) {
    struct ns_level_info lv[16];
    int n = ns_estimate_levels(ctx, &p, w, h, 1717, 1200, lv, 16);
    printf("%d x %d on %s, budget %.2f GB:\n", w, h, ns_context_backend(ctx), p.max_memory / 1e9);
    for (int i = 0; i < n; i++)
        printf("  level %d: %d x %d, %d steps, %s %d px, history %d, %.2f GB\n", i + 1, lv[i].width,
               lv[i].height, lv[i].iterations, lv[i].block ? "blocks of" : lv[i].tile ? "tiles of" : "whole",
               lv[i].block ? lv[i].block : lv[i].tile ? lv[i].tile : lv[i].width, lv[i].history, lv[i].bytes / 1e9);
    size_t bytes = ns_estimate_memory(ctx, &p, w, h, 1717, 1200);
    printf("  estimate %.2f GB: %s\n", bytes / 1e9, bytes <= p.max_memory ? "fits" : "does not fit");
    return bytes <= p.max_memory ? 0 : 1;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *weights = NULL;
    struct ns_params p = ns_params_default();
    enum ns_backend_kind dev = NS_BACKEND_CPU;
    int final[6] = {0}, plan[2] = {0};
    double final_seconds = 0;
    p.iterations = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--sgemm")) {
            printf("%.1f\n", sgemm_gflops(atoi(v), 5));
            return 0;
        }
        if (!strcmp(a, "--write-random-vgg19")) {
            struct ns_weights w;
            random_weights(&w, 19, 16);
            bool ok = write_safetensors(v, &w, NULL);
            ns_weights_free(&w);
            return ok ? 0 : 1;
        }
        if (!strcmp(a, "--estimate-final") && i + 6 < argc) {
            final[0] = atoi(argv[i + 1]), final[1] = atoi(argv[i + 2]), final[2] = atoi(argv[i + 3]);
            final_seconds = atof(argv[i + 4]);
            final[3] = atoi(argv[i + 5]), final[4] = atoi(argv[i + 6]), final[5] = 1, i += 6;
        } else if (!strcmp(a, "--plan") && i + 2 < argc) {
            plan[0] = atoi(argv[i + 1]), plan[1] = atoi(argv[i + 2]), i += 2;
        } else if (!strcmp(a, "--max-memory")) p.max_memory = atof(v) * 1e9, i++;
        else if (!strcmp(a, "--weights")) weights = v, i++;
        else if (!strcmp(a, "--size")) p.size = atoi(v), i++;
        else if (!strcmp(a, "--iterations")) p.iterations = atoi(v), i++;
        else if (!strcmp(a, "--threads")) p.threads = atoi(v), i++;
        else if (!strcmp(a, "--history")) p.lbfgs_history = atoi(v), i++;
        else if (!strcmp(a, "--optimizer")) p.optimizer = strcmp(v, "adam") ? NS_OPTIMIZER_LBFGS : NS_OPTIMIZER_ADAM, i++;
        else if (!strcmp(a, "--content-layers")) p.content_layers = v, i++;
        else if (!strcmp(a, "--style-layers")) p.style_layers = v, i++;
        else if (!strcmp(a, "--precision")) p.precision = !strcmp(v, "tf32") ? NS_PRECISION_TF32 : !strcmp(v, "bf16") ? NS_PRECISION_BF16 : NS_PRECISION_FP32, i++;
        else if (!strcmp(a, "--device")) dev = !strcmp(v, "cuda") ? NS_BACKEND_CUDA : !strcmp(v, "auto") ? NS_BACKEND_AUTO : NS_BACKEND_CPU, i++;
        else {
            fprintf(stderr, "bench: unknown argument %s\n", a);
            return 2;
        }
    }
    struct ns_context *ctx;
    if (ns_context_new(weights, dev, &ctx)) {
        fprintf(stderr, "bench: %s\n", ns_last_error(ctx));
        return 1;
    }
    if (plan[0]) {
        p.size = 0;
        int rc = print_plan(ctx, p, plan[0], plan[1]);
        ns_context_free(ctx);
        return rc;
    }
    if (final[5]) return estimate_final(ctx, p, final[0], final[1], final[2], final_seconds, final[3], final[4]);
    p.scales = 1;
    int n = p.size;
    /* random photo and painting: the timing does not depend on the pixels */
    struct ns_image content = {falloc((size_t) 3 * n * n), n, n, 3, 3 * n}, style = content;
    style.data = falloc((size_t) 3 * n * n);
    fill_uniform(content.data, (size_t) 3 * n * n, 0, 1);
    fill_uniform(style.data, (size_t) 3 * n * n, 0, 1);
    struct ns_image result = {falloc((size_t) 3 * n * n), n, n, 3, 3 * n};
    struct times t = {.n = 0, .last = now()};
    double t0 = t.last;
    if (ns_run(ctx, &content, &style, 1, &p, on_progress, &t, &result)) {
        fprintf(stderr, "bench: %s\n", ns_last_error(ctx));
        return 1;
    }
    /* the first iteration warms caches and the thread pool */
    qsort(t.t + 1, (size_t) (t.n - 1), sizeof(double), cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double run = now() - t0, total = 0; /* the whole ns_run; the iterations alone */
    for (int i = 0; i < t.n; i++)
        total += t.t[i];
    /* the work of one more iteration */
    struct ns_params p1 = p;
    p1.iterations++;
    double flops = ns_estimate_flops(ctx, &p1, n, n, n, n) - ns_estimate_flops(ctx, &p, n, n, n, n);
    /* device memory: what the engine allocated at most, plus the backend's fixed workspace */
    double dev_mb = ctx->be->bytes_peak ? (ctx->be->bytes_peak + ctx->be->workspace) / 1048576.0 : 0;
    printf("{\"median\":%.6f,\"min\":%.6f,\"total\":%.4f,\"run\":%.4f,\"peak_rss_mb\":%.1f,\"peak_device_mb\":%.1f,"
           "\"estimate_mb\":%.1f,\"flops_per_iter\":%.4g,\"backend\":\"%s\"}\n",
           t.t[1 + (t.n - 1) / 2], t.t[1], total, run, ru.ru_maxrss / 1024.0, dev_mb,
           ns_estimate_memory(ctx, &p, n, n, n, n) / 1048576.0, flops, ns_context_backend(ctx));
    ns_context_free(ctx);
    return 0;
}
