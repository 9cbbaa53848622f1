/* neural-style.c - command-line front end over ns.h. */
#include "image_io.h"
#include "ns.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void) sig;
    interrupted = 1;
}

struct cli {
    const char *content, *output, *weights, *init_image, *log_json;
    const char *styles[NS_MAX_STYLES];
    float blend[NS_MAX_STYLES];
    int n_styles, n_blend;
    enum ns_backend_kind device;
    int gpu;
    bool quiet;
    struct ns_params p;
    FILE *log;
    bool tty;
    int last_pct;
    struct ns_context *ctx;
    enum ns_backend_kind kind; /* the backend the run started on */
};

static void usage(FILE *f) {
    fprintf(f, "Usage: neural-style --content FILE --style FILE --output FILE [options]\n"
               "Restyles a photo after a painting (Gatys et al., VGG-19).\n\n"
               "  --content FILE         the photo\n"
               "  --style FILE           the painting (repeat for a blend of styles)\n"
               "  --style-blend W1,W2    blend weights of the styles (default equal)\n"
               "  --output FILE          .png, .jpg, .tif, .exr or .webp (16-bit and float kept)\n"
               "  --weights FILE         VGG weights .safetensors (default: the installed ones)\n"
               "  --size N               longest side to work at, px (default 512; 0 = the photo's own)\n"
               "  --iterations N         per scale (default 300; 0 = just evaluate the start image)\n"
               "  --scales N             coarse-to-fine levels (default 0 = auto)\n"
               "  --optimizer lbfgs|adam (default lbfgs)\n"
               "  --learning-rate X      Adam step in 0..1 pixel units (default 0.02)\n"
               "  --lbfgs-history N      L-BFGS correction pairs (default 20)\n"
               "  --init content|noise|image   start point (default content)\n"
               "  --init-image FILE      start image for --init image\n"
               "  --seed N               noise seed (default 0)\n"
               "  --content-weight X     (default 1)\n"
               "  --style-weight X       (default 100)\n"
               "  --tv-weight X          (default 10)\n"
               "  --content-layers L,..  e.g. relu4_2 (a layer may carry :weight)\n"
               "  --style-layers L,..    e.g. relu1_1,relu2_1,relu3_1:0.5\n"
               "  --style-scale X        style size relative to the photo (default 1)\n"
               "  --preserve-colors      keep the photo's colours, take only the painting's texture\n"
               "  --pooling max|avg      (default max)\n"
               "  --device auto|cpu|cuda (default auto)   --gpu N   GPU index\n"
               "  --precision fp32|tf32|bf16  GPU arithmetic (default fp32; tf32 and bf16 use tensor\n"
               "                         cores, bf16 also halves the network's memory)\n"
               "  --threads N            CPU threads (default all cores)\n"
               "  --log-json FILE        one JSON line per iteration\n"
               "  --quiet                no progress bar\n"
               "  --version, --help\n");
}

static bool parse_float(const char *s, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return false;
    *out = (float) v;
    return true;
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return false;
    *out = (int) v;
    return true;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "neural-style: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "neural-style: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'neural-style --help'.\n");
    exit(2);
}

static void format_time(double s, char *buf, size_t n) {
    if (s < 0) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void log_number(FILE *f, const char *key, double v, bool last) {
    if (isfinite(v))
        fprintf(f, "\"%s\":%.9g%s", key, v, last ? "" : ",");
    else
        fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

static bool on_progress(const struct ns_progress *p, void *ud) {
    struct cli *c = ud;
    if (p->backend != c->kind) { /* auto mode left the GPU: say why, even when quiet */
        c->kind = p->backend;
        fprintf(stderr, "%sneural-style: %s\n", c->tty && !c->quiet ? "\n" : "", ns_context_backend(c->ctx));
    }
    if (c->log) {
        fprintf(c->log, "{\"iter\":%d,", p->iteration);
        log_number(c->log, "loss", p->loss, false);
        log_number(c->log, "content", p->content, false);
        log_number(c->log, "style", p->style, false);
        log_number(c->log, "tv", p->tv, false);
        log_number(c->log, "seconds", p->elapsed, true);
        fprintf(c->log, "}\n");
        fflush(c->log);
    }
    if (!c->quiet) {
        int pct = p->total ? (int) (100.0 * p->iteration / p->total) : 100;
        if (c->tty || pct / 10 != c->last_pct / 10 || p->iteration == p->total) {
            char left[32], el[32], bar[31];
            int fill = pct * 30 / 100;
            for (int i = 0; i < 30; i++)
                bar[i] = i < fill ? '#' : '.';
            bar[30] = '\0';
            format_time(p->eta, left, sizeof left);
            format_time(p->elapsed, el, sizeof el);
            fprintf(stderr,
                    "%s[%s] %d/%d  %dx%d  loss %.4g (content %.3g, style %.3g, tv %.3g)  %s, %s left%s",
                    c->tty ? "\r" : "", bar, p->iteration, p->total, p->width, p->height, p->loss, p->content,
                    p->style, p->tv, el, left, c->tty ? "   " : "\n");
            c->last_pct = pct;
        }
    }
    return !interrupted;
}

static enum ns_optimizer parse_optimizer(const char *s) {
    if (strcmp(s, "lbfgs") == 0) return NS_OPTIMIZER_LBFGS;
    if (strcmp(s, "adam") == 0) return NS_OPTIMIZER_ADAM;
    bad_usage("--optimizer must be lbfgs or adam, not '%s'", s);
    return NS_OPTIMIZER_LBFGS;
}

static void parse_args(int argc, char **argv, struct cli *c) {
    enum {
        O_CONTENT = 256,
        O_STYLE,
        O_BLEND,
        O_OUTPUT,
        O_WEIGHTS,
        O_SIZE,
        O_ITER,
        O_SCALES,
        O_OPT,
        O_LR,
        O_HIST,
        O_INIT,
        O_INIT_IMAGE,
        O_SEED,
        O_CW,
        O_SW,
        O_TW,
        O_CL,
        O_SL,
        O_SSCALE,
        O_PRESERVE,
        O_POOL,
        O_DEVICE,
        O_GPU,
        O_PRECISION,
        O_THREADS,
        O_LOG,
        O_QUIET,
        O_VERSION,
        O_HELP
    };
    static const struct option opts[] = {
        {"content", 1, 0, O_CONTENT},
        {"style", 1, 0, O_STYLE},
        {"style-blend", 1, 0, O_BLEND},
        {"output", 1, 0, O_OUTPUT},
        {"weights", 1, 0, O_WEIGHTS},
        {"size", 1, 0, O_SIZE},
        {"iterations", 1, 0, O_ITER},
        {"scales", 1, 0, O_SCALES},
        {"optimizer", 1, 0, O_OPT},
        {"learning-rate", 1, 0, O_LR},
        {"lbfgs-history", 1, 0, O_HIST},
        {"init", 1, 0, O_INIT},
        {"init-image", 1, 0, O_INIT_IMAGE},
        {"seed", 1, 0, O_SEED},
        {"content-weight", 1, 0, O_CW},
        {"style-weight", 1, 0, O_SW},
        {"tv-weight", 1, 0, O_TW},
        {"content-layers", 1, 0, O_CL},
        {"style-layers", 1, 0, O_SL},
        {"style-scale", 1, 0, O_SSCALE},
        {"preserve-colors", 0, 0, O_PRESERVE},
        {"pooling", 1, 0, O_POOL},
        {"device", 1, 0, O_DEVICE},
        {"gpu", 1, 0, O_GPU},
        {"precision", 1, 0, O_PRECISION},
        {"threads", 1, 0, O_THREADS},
        {"log-json", 1, 0, O_LOG},
        {"quiet", 0, 0, O_QUIET},
        {"version", 0, 0, O_VERSION},
        {"help", 0, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (o) {
        case O_CONTENT:
            c->content = optarg;
            break;
        case O_STYLE:
            if (c->n_styles == NS_MAX_STYLES) bad_usage("at most 8 --style images%s", "");
            c->styles[c->n_styles++] = optarg;
            break;
        case O_BLEND: {
            char *s = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(s, ",", &save); t && ok; t = strtok_r(NULL, ",", &save))
                ok = c->n_blend < NS_MAX_STYLES && parse_float(t, &c->blend[c->n_blend++]);
            free(s);
            break;
        }
        case O_OUTPUT:
            c->output = optarg;
            break;
        case O_WEIGHTS:
            c->weights = optarg;
            break;
        case O_SIZE:
            ok = parse_int(optarg, 0, 1 << 16, &c->p.size);
            break;
        case O_ITER:
            ok = parse_int(optarg, 0, 1000000, &c->p.iterations);
            break;
        case O_SCALES:
            ok = parse_int(optarg, 0, 8, &c->p.scales);
            break;
        case O_OPT:
            c->p.optimizer = parse_optimizer(optarg);
            break;
        case O_LR:
            ok = parse_float(optarg, &c->p.learning_rate);
            break;
        case O_HIST:
            ok = parse_int(optarg, 1, 400, &c->p.lbfgs_history);
            break;
        case O_INIT:
            if (strcmp(optarg, "content") == 0)
                c->p.init = NS_INIT_CONTENT;
            else if (strcmp(optarg, "noise") == 0)
                c->p.init = NS_INIT_NOISE;
            else if (strcmp(optarg, "image") == 0)
                c->p.init = NS_INIT_IMAGE;
            else
                ok = false;
            break;
        case O_INIT_IMAGE:
            c->init_image = optarg;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            ok = end != optarg && !*end && !errno && optarg[0] != '-';
            c->p.seed = v;
            break;
        }
        case O_CW:
            ok = parse_float(optarg, &c->p.content_weight);
            break;
        case O_SW:
            ok = parse_float(optarg, &c->p.style_weight);
            break;
        case O_TW:
            ok = parse_float(optarg, &c->p.tv_weight);
            break;
        case O_CL:
            c->p.content_layers = optarg;
            break;
        case O_SL:
            c->p.style_layers = optarg;
            break;
        case O_SSCALE:
            ok = parse_float(optarg, &c->p.style_scale);
            break;
        case O_PRESERVE:
            c->p.preserve_colors = true;
            break;
        case O_POOL:
            if (strcmp(optarg, "max") == 0)
                c->p.pooling = NS_POOLING_MAX;
            else if (strcmp(optarg, "avg") == 0)
                c->p.pooling = NS_POOLING_AVG;
            else
                ok = false;
            break;
        case O_DEVICE:
            if (strcmp(optarg, "auto") == 0)
                c->device = NS_BACKEND_AUTO;
            else if (strcmp(optarg, "cpu") == 0)
                c->device = NS_BACKEND_CPU;
            else if (strcmp(optarg, "cuda") == 0 || strcmp(optarg, "gpu") == 0)
                c->device = NS_BACKEND_CUDA;
            else
                ok = false;
            break;
        case O_GPU:
            ok = parse_int(optarg, 0, 64, &c->gpu);
            break;
        case O_PRECISION:
            if (strcmp(optarg, "fp32") == 0)
                c->p.precision = NS_PRECISION_FP32;
            else if (strcmp(optarg, "tf32") == 0)
                c->p.precision = NS_PRECISION_TF32;
            else if (strcmp(optarg, "bf16") == 0)
                c->p.precision = NS_PRECISION_BF16;
            else
                ok = false;
            break;
        case O_THREADS:
            ok = parse_int(optarg, 0, 1024, &c->p.threads);
            break;
        case O_LOG:
            c->log_json = optarg;
            break;
        case O_QUIET:
            c->quiet = true;
            break;
        case O_VERSION:
            printf("neural-style %s\n", NS_VERSION_STRING);
            exit(0);
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, "Try 'neural-style --help'.\n");
            exit(2);
        }
        if (!ok) {
            char opt[64];
            snprintf(opt, sizeof opt, "%s", argv[optind - 1]);
            bad_usage("invalid value '%s' for its option", optarg ? optarg : opt);
        }
    }
    if (optind < argc) bad_usage("unexpected argument '%s'", argv[optind]);
    if (!c->content || !c->n_styles || !c->output)
        bad_usage("--content, --style and --output are required%s", "");
    if (c->p.init == NS_INIT_IMAGE && !c->init_image) bad_usage("--init image needs --init-image FILE%s", "");
    if (c->n_blend && c->n_blend != c->n_styles)
        bad_usage("--style-blend needs one weight per --style%s", "");
}

int main(int argc, char **argv) {
    struct cli c = {.device = NS_BACKEND_AUTO, .p = ns_params_default(), .last_pct = -1};
    parse_args(argc, argv, &c);
    c.tty = isatty(2);

    io_init();
    char err[600];
    if (!io_check_output(c.output, err, sizeof err)) die("%s", err);
    struct io_image content, styles[NS_MAX_STYLES], init = {0};
    if (!io_load(c.content, &content, err, sizeof err)) die("%s", err);
    for (int k = 0; k < c.n_styles; k++)
        if (!io_load(c.styles[k], &styles[k], err, sizeof err)) die("%s", err);
    if (c.init_image && !io_load(c.init_image, &init, err, sizeof err)) die("%s", err);

    struct ns_context *ctx = NULL;
    enum ns_status st = ns_context_new_ex(c.weights, c.device, c.gpu, &ctx);
    if (st) die("%s", ctx ? ns_last_error(ctx) : ns_status_str(st));
    if (!c.quiet) fprintf(stderr, "neural-style: running on %s\n", ns_context_backend(ctx));
    static const char *const precision_names[] = {"fp32", "tf32", "bf16"};
    enum ns_precision got = ns_context_precision(ctx, c.p.precision);
    if (got != c.p.precision)
        fprintf(stderr, "neural-style: --precision %s %s; computing in float32\n", precision_names[c.p.precision],
                ns_context_backend_kind(ctx) == NS_BACKEND_CUDA ? "needs an Ampere or newer GPU"
                                                                : "applies to NVIDIA GPUs only");

    if (c.log_json && !(c.log = fopen(c.log_json, "w")))
        die("cannot write '%s': %s", c.log_json, strerror(errno));

    struct ns_image style_im[NS_MAX_STYLES];
    for (int k = 0; k < c.n_styles; k++)
        style_im[k] = styles[k].im;
    if (c.n_blend) c.p.style_blend = c.blend;
    if (c.init_image) c.p.init_image = &init.im;

    int ow, oh;
    ns_output_size(&c.p, content.im.width, content.im.height, &ow, &oh);
    struct ns_image result = {calloc((size_t) ow * oh * 4, sizeof(float)), ow, oh, 4, 4 * ow};
    if (!result.data) die("not enough memory for a %d x %d result", ow, oh);
    if (!c.quiet)
        fprintf(stderr, "neural-style: %d x %d px, about %.2f GB of %s memory\n", ow, oh,
                ns_estimate_memory(ctx, &c.p, content.im.width, content.im.height, style_im[0].width,
                                   style_im[0].height) / 1e9,
                ns_context_backend_kind(ctx) == NS_BACKEND_CUDA ? "GPU" : "main");

    c.ctx = ctx;
    c.kind = ns_context_backend_kind(ctx);
    signal(SIGINT, on_sigint);
    st = ns_run(ctx, &content.im, style_im, c.n_styles, &c.p, on_progress, &c, &result);
    if (!c.quiet && c.tty) fprintf(stderr, "\n");
    if (c.log) fclose(c.log);
    if (st == NS_STATUS_CANCELLED) {
        fprintf(stderr, "neural-style: cancelled; '%s' was not written\n", c.output);
        return 130;
    }
    if (st) die("%s", ns_last_error(ctx));
    if (!io_save(c.output, &result, content.has_alpha, content.depth, err, sizeof err)) die("%s", err);
    if (!c.quiet) fprintf(stderr, "neural-style: wrote %s (%d x %d)\n", c.output, ow, oh);

    free(result.data);
    ns_context_free(ctx);
    io_free(&content);
    for (int k = 0; k < c.n_styles; k++)
        io_free(&styles[k]);
    io_free(&init);
    io_exit();
    return 0;
}
