/* train.c - `neural-style train`: a fast style from a painting, learnt on
 * a folder of the photographer's own photos.
 *
 * The photos are read once, each shrunk so that its short side is a
 * little over the training size, and kept as 8-bit pixels.  Step s takes
 * its crops, their places and flips from a hash of (seed, s, slot), not
 * from a running generator: a run resumed at step s sees what an
 * uninterrupted one would.  A checkpoint (the network and Adam's state)
 * is written whole every few minutes and on Ctrl-C; --resume continues it.
 */
#include "cli.h"
#include "image_io.h"
#include "ns.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAMPLE_SIZE 512 /* the samples' longest side */
#define CROP_MARGIN 1.15 /* photos are kept at this times the crop's side */

struct photo {
    unsigned char *rgb; /* w x h x 3 */
    int w, h;
    char *path;
};

struct train {
    const char *style[NS_MAX_STYLES], *photos, *output, *samples, *weights, *name, *checkpoint, *log_steps;
    int n_styles, steps, sample_every, gpu;
    double checkpoint_minutes, max_memory;
    bool resume, quiet;
    enum ns_backend_kind device;
    struct ns_train_params p;
    struct photo *ph;
    int n_photos;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void) sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "Usage: neural-style train --style PAINTING --photos DIR --output MODEL [options]\n"
            "Learns a fast style from a painting on a folder of your photos (Johnson et al. 2016).\n"
            "Give --style again to learn several paintings in one model, to apply or blend at will\n"
            "(conditional instance norm, Dumoulin et al. 2017; neural-style --mix).\n\n"
            "  --steps N              training steps (default 2000; a quick style: 400); several\n"
            "                         paintings take the steps in turn: give more\n"
            "  --size PX              the crops' side, a multiple of 4 (default 256)\n"
            "  --batch N              crops per step (default 4)\n"
            "  --style-weight X       the style term's weight (default 100)\n"
            "  --content-weight X     the content term's weight (default 1)\n"
            "  --tv-weight X          smoothness (default 10)\n"
            "  --style-scale X        the painting's size, times the crops' (default 1)\n"
            "  --learning-rate X      Adam's step (default 0.01)\n"
            "  --name NAME            the style's name in galleries (default: the painting's file name)\n"
            "  --samples DIR          writes a few of the photos restyled as it learns\n"
            "  --sample-every N       steps between samples (default 100)\n"
            "  --checkpoint-minutes M minutes between checkpoints (default 5)\n"
            "  --resume               continues MODEL.checkpoint, written by an earlier run\n"
            "  --seed N               the network's first weights and the crops' order (default 0)\n"
            "  --network full|half    half: half the channels, a quarter of the work to apply and train\n"
            "  --device auto|cpu|cuda, --gpu N, --threads N, --weights FILE\n"
            "  --max-memory GB        refuse a run that would take more\n"
            "  --log-steps FILE       appends a line a step: its seconds, loss, content, style, tv\n"
            "  --quiet                no progress\n");
}

static double number(const char *opt, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "neural-style train: --%s '%s': give a number from %g to %g\n", opt, s, lo, hi);
        exit(2);
    }
    return v;
}

static void parse(int argc, char **argv, struct train *t) {
    enum { STEPS = 256, SIZE, BATCH, SW, CW, TW, SS, LR, NAME, SAMPLES, EVERY, CKPT, RESUME, SEED, DEVICE, GPU,
           THREADS, WEIGHTS, MEM, QUIET, HELP, STYLE, PHOTOS, OUTPUT, LOG, NETWORK };
    static const struct option opts[] = {
        {"style", 1, 0, STYLE},          {"photos", 1, 0, PHOTOS},
        {"output", 1, 0, OUTPUT},        {"steps", 1, 0, STEPS},
        {"size", 1, 0, SIZE},            {"batch", 1, 0, BATCH},
        {"style-weight", 1, 0, SW},      {"content-weight", 1, 0, CW},
        {"tv-weight", 1, 0, TW},         {"style-scale", 1, 0, SS},
        {"learning-rate", 1, 0, LR},     {"name", 1, 0, NAME},
        {"samples", 1, 0, SAMPLES},      {"sample-every", 1, 0, EVERY},
        {"checkpoint-minutes", 1, 0, CKPT}, {"resume", 0, 0, RESUME},
        {"seed", 1, 0, SEED},            {"device", 1, 0, DEVICE},
        {"gpu", 1, 0, GPU},              {"threads", 1, 0, THREADS},
        {"weights", 1, 0, WEIGHTS},      {"max-memory", 1, 0, MEM},
        {"quiet", 0, 0, QUIET},          {"help", 0, 0, HELP},
        {"log-steps", 1, 0, LOG},        {"network", 1, 0, NETWORK},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case STYLE:
            if (t->n_styles == NS_MAX_STYLES) {
                fprintf(stderr, "neural-style train: one model learns at most %d paintings\n", NS_MAX_STYLES);
                exit(2);
            }
            t->style[t->n_styles++] = optarg;
            break;
        case PHOTOS: t->photos = optarg; break;
        case OUTPUT: t->output = optarg; break;
        case STEPS: t->steps = (int) number("steps", optarg, 1, 1e7); break;
        case SIZE: t->p.size = (int) number("size", optarg, 32, 2048); break;
        case BATCH: t->p.batch = (int) number("batch", optarg, 1, 64); break;
        case SW: t->p.style_weight = (float) number("style-weight", optarg, 0, 1e30); break;
        case CW: t->p.content_weight = (float) number("content-weight", optarg, 0, 1e30); break;
        case TW: t->p.tv_weight = (float) number("tv-weight", optarg, 0, 1e30); break;
        case SS: t->p.style_scale = (float) number("style-scale", optarg, NS_PARAM_STYLE_SCALE_MIN,
                                                  NS_PARAM_STYLE_SCALE_MAX); break;
        case LR: t->p.learning_rate = (float) number("learning-rate", optarg, 1e-7, 0.5); break;
        case NAME: t->name = optarg; break;
        case SAMPLES: t->samples = optarg; break;
        case EVERY: t->sample_every = (int) number("sample-every", optarg, 1, 1e7); break;
        case CKPT: t->checkpoint_minutes = number("checkpoint-minutes", optarg, 0.01, 1e5); break;
        case RESUME: t->resume = true; break;
        case SEED: t->p.seed = (uint64_t) number("seed", optarg, 0, 1e15); break;
        case NETWORK:
            if (!strcmp(optarg, "half")) t->p.network = "transformer-net-half";
            else if (!strcmp(optarg, "full")) t->p.network = NULL;
            else {
                fprintf(stderr, "neural-style train: --network '%s': give full or half\n", optarg);
                exit(2);
            }
            break;
        case DEVICE:
            if (!strcmp(optarg, "auto")) t->device = NS_BACKEND_AUTO;
            else if (!strcmp(optarg, "cpu")) t->device = NS_BACKEND_CPU;
            else if (!strcmp(optarg, "cuda")) t->device = NS_BACKEND_CUDA;
            else {
                fprintf(stderr, "neural-style train: --device '%s': give auto, cpu or cuda\n", optarg);
                exit(2);
            }
            break;
        case GPU: t->gpu = (int) number("gpu", optarg, 0, 64); break;
        case THREADS: t->p.threads = (int) number("threads", optarg, 0, 1024); break;
        case WEIGHTS: t->weights = optarg; break;
        case MEM: t->max_memory = number("max-memory", optarg, 0.01, 1e4) * 1e9; break;
        case QUIET: t->quiet = true; break;
        case LOG: t->log_steps = optarg; break;
        case HELP: usage(stdout); exit(0);
        default: fprintf(stderr, "Try 'neural-style train --help'.\n"); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "neural-style train: '%s' is not an option\nTry 'neural-style train --help'.\n",
                argv[optind]);
        exit(2);
    }
    if (!t->n_styles || !t->photos || !t->output) {
        fprintf(stderr, "neural-style train: --style, --photos and --output are needed\n"
                        "Try 'neural-style train --help'.\n");
        exit(2);
    }
}

static bool image_name(const char *name) {
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".gif", ".exr", ".ppm",
                                      ".pgm", NULL};
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && ext[i]; i++)
        if (!strcasecmp(dot, ext[i])) return true;
    return false;
}

static gint by_path(gconstpointer a, gconstpointer b) {
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* One photo, shrunk so its short side is CROP_MARGIN x size, as 8 bits. */
static bool keep_photo(struct train *t, const char *path, char *err, size_t elen) {
    struct io_image img;
    if (!io_load(path, &img, err, elen)) return false;
    int w = img.im.width, h = img.im.height, least = (int) ceil(t->p.size * CROP_MARGIN);
    double s = (double) least / (w < h ? w : h);
    int kw = (int) lround(w * s), kh = (int) lround(h * s);
    kw = kw < least ? least : kw, kh = kh < least ? least : kh;
    /* resized with the photo's own channels; an alpha channel then dropped */
    int c = img.im.channels;
    struct ns_image small = {malloc(sizeof(float) * c * kw * kh), kw, kh, c, c * kw};
    struct photo *ph = &t->ph[t->n_photos];
    ph->rgb = malloc((size_t) 3 * kw * kh);
    bool ok = small.data && ph->rgb && ns_resize(&img.im, &small) == NS_STATUS_OK;
    for (size_t i = 0; ok && i < (size_t) 3 * kw * kh; i++) {
        float v = small.data[i / 3 * c + (c >= 3 ? i % 3 : 0)];
        ph->rgb[i] = (unsigned char) lroundf((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
    }
    if (ok) ph->w = kw, ph->h = kh, ph->path = g_strdup(path), t->n_photos++;
    else free(ph->rgb), snprintf(err, elen, "not enough memory for %s", path);
    free(small.data);
    io_free(&img);
    return ok;
}

/* The folder's photos; an unreadable one is skipped with one line. */
static void read_photos(struct train *t) {
    DIR *d = opendir(t->photos);
    if (!d) die("--photos '%s': %s", t->photos, strerror(errno));
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && image_name(e->d_name))
            g_ptr_array_add(names, g_build_filename(t->photos, e->d_name, NULL));
    closedir(d);
    g_ptr_array_sort(names, by_path);
    t->ph = calloc(names->len + 1, sizeof *t->ph);
    if (!t->ph) die("not enough memory");
    for (guint i = 0; i < names->len; i++) {
        char err[600];
        if (!keep_photo(t, names->pdata[i], err, sizeof err))
            fprintf(stderr, "neural-style train: skipped: %s\n", err);
    }
    int need = t->p.batch > 4 ? t->p.batch : 4;
    if (t->n_photos < need)
        die("'%s' has %d readable photo%s; training needs at least %d (a few dozen or more of the kind you will "
            "restyle work best)",
            t->photos, t->n_photos, t->n_photos == 1 ? "" : "s", need);
    g_ptr_array_free(names, TRUE);
}

static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Crop `slot` of step `step`: a photo, a place and a flip from the hash. */
static void make_crop(const struct train *t, int step, int slot, float *out) {
    uint64_t r = mix(mix(mix(t->p.seed) ^ (uint64_t) step) ^ (uint64_t) slot);
    const struct photo *ph = &t->ph[r % (uint64_t) t->n_photos];
    int s = t->p.size;
    r = mix(r);
    int x0 = (int) (r % (uint64_t) (ph->w - s + 1)), y0 = (int) ((r >> 20) % (uint64_t) (ph->h - s + 1));
    bool flip = (r >> 40) & 1;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            int sx = x0 + (flip ? s - 1 - x : x);
            const unsigned char *p = ph->rgb + 3 * ((size_t) (y0 + y) * ph->w + sx);
            for (int c = 0; c < 3; c++)
                out[3 * ((size_t) y * s + x) + c] = p[c] / 255.0f;
        }
}

/* The first photos restyled by the network so far, into --samples: in
 * each style of a model of several. */
static void write_samples(struct ns_context *ctx, struct ns_trainer *tr, const struct train *t, int step) {
    struct ns_style_model *m = NULL;
    if (ns_trainer_model(tr, &m)) return;
    struct ns_stylize_params sp = ns_stylize_params_default();
    float one[NS_MAX_STYLES];
    sp.size = SAMPLE_SIZE, sp.threads = t->p.threads;
    if (t->n_styles > 1) sp.mix = one, sp.n_mix = t->n_styles;
    for (int j = 0; j < t->n_photos * t->n_styles && j < 2 * t->n_styles; j++) {
        int k = j / t->n_styles, style = j % t->n_styles;
        for (int i = 0; i < t->n_styles; i++)
            one[i] = i == style;
        const struct photo *ph = &t->ph[k];
        size_t n = (size_t) 3 * ph->w * ph->h;
        struct ns_image in = {malloc(sizeof(float) * n), ph->w, ph->h, 3, 3 * ph->w};
        struct ns_image out = {malloc(sizeof(float) * n), ph->w, ph->h, 3, 3 * ph->w};
        char path[4200], err[600];
        char *base = g_path_get_basename(ph->path);
        char *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        if (t->n_styles > 1)
            snprintf(path, sizeof path, "%s/step%06d-style%d-%s.jpg", t->samples, step, style + 1, base);
        else
            snprintf(path, sizeof path, "%s/step%06d-%s.jpg", t->samples, step, base);
        g_free(base);
        for (size_t i = 0; in.data && i < n; i++)
            in.data[i] = ph->rgb[i] / 255.0f;
        if (in.data && out.data && !ns_stylize(ctx, m, &in, &sp, &out) &&
            !io_save(path, &out, false, IO_DEPTH_U8, err, sizeof err))
            fprintf(stderr, "neural-style train: sample: %s\n", err);
        free(in.data), free(out.data);
    }
    ns_style_model_free(m);
}

/* The paintings' file names, without folder and extension, one a line. */
static char *painting_names(const struct train *t, const char *sep) {
    GString *s = g_string_new(NULL);
    for (int k = 0; k < t->n_styles; k++) {
        char *base = g_path_get_basename(t->style[k]), *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        g_string_append_printf(s, "%s%s", k ? sep : "", base);
        g_free(base);
    }
    return g_string_free(s, FALSE);
}

/* The paintings as the model's name (the first's thumbnail) and, for
 * several, the styles' names. */
static void describe(struct ns_trainer *tr, const struct train *t, const struct io_image *paintings) {
    char err[600] = "";
    char *name = painting_names(t, " + "), *names = painting_names(t, "\n");
    char *uri = io_thumbnail_uri(&paintings[0].im, err, sizeof err);
    if (ns_trainer_set_info(tr, "name", t->name ? t->name : name) ||
        ns_trainer_set_info(tr, "training",
                            t->n_styles > 1 ? "neural-style train (Johnson et al. 2016, conditional instance norm)"
                                            : "neural-style train (Johnson et al. 2016, instance norm)") ||
        (t->n_styles > 1 && ns_trainer_set_info(tr, "style_names", names)) ||
        (uri && ns_trainer_set_info(tr, "thumbnail", uri)))
        die("not enough memory");
    g_free(uri), g_free(name), g_free(names);
}

/* Refuses, in a sentence, a run that would not fit. */
static double check_memory(struct ns_context *ctx, const struct train *t, const struct io_image *paintings) {
    double bytes = 0;
    for (int k = 0; k < t->n_styles; k++) { /* the largest painting's pass */
        double b = ns_train_memory(ctx, &t->p, paintings[k].im.width, paintings[k].im.height);
        bytes = b > bytes ? b : bytes;
    }
    /* what it may take: --max-memory, or what the device has free less a fifth */
    double room = t->max_memory > 0 ? t->max_memory : 0.8 * (double) ns_context_memory_free(ctx);
    if (bytes > room)
        die("training at %d px takes about %.2f GB, more than the %.2f GB %s: lower --size (memory grows with "
            "its square)",
            t->p.size, bytes / 1e9, room / 1e9, t->max_memory > 0 ? "--max-memory allows" : "free here");
    return bytes;
}

/* The context and the trainer, after the memory check; *bytes the estimate. */
static struct ns_trainer *start(struct train *t, struct ns_context **ctx, const struct io_image *paintings,
                                double *bytes) {
    struct ns_trainer *tr = NULL;
    struct ns_image im[NS_MAX_STYLES];
    for (int k = 0; k < t->n_styles; k++)
        im[k] = paintings[k].im;
    enum ns_status st = ns_context_new_ex(t->weights, t->device, t->gpu, ctx);
    if (st) die("%s", *ctx ? ns_last_error(*ctx) : ns_status_str(st));
    *bytes = check_memory(*ctx, t, paintings);
    st = ns_trainer_new_styles(*ctx, im, t->n_styles, &t->p, t->resume ? t->checkpoint : NULL, &tr);
    if (st == NS_STATUS_UNAVAILABLE && t->device == NS_BACKEND_AUTO &&
        ns_context_backend_kind(*ctx) != NS_BACKEND_CPU) { /* this GPU backend cannot train: the CPU can */
        fprintf(stderr, "neural-style train: %s; training on the CPU\n", ns_last_error(*ctx));
        ns_context_free(*ctx);
        if ((st = ns_context_new_ex(t->weights, NS_BACKEND_CPU, 0, ctx)))
            die("%s", *ctx ? ns_last_error(*ctx) : ns_status_str(st));
        *bytes = check_memory(*ctx, t, paintings);
        st = ns_trainer_new_styles(*ctx, im, t->n_styles, &t->p, t->resume ? t->checkpoint : NULL, &tr);
    }
    if (st) die("%s", ns_last_error(*ctx));
    return tr;
}

/* The style term of the yardstick's crops through the network, over their
 * own (own[k] for painting k): the mean over the paintings. */
static double unseen_ratio(struct ns_context *ctx, struct ns_trainer *tr, const struct train *t,
                           const struct ns_image *yard, const struct ns_train_terms *own) {
    double sum = 0;
    for (int k = 0; k < t->n_styles; k++) {
        struct ns_train_terms now;
        if (ns_trainer_use_style(tr, k) || ns_trainer_eval(tr, yard, t->p.batch, false, &now))
            die("%s", ns_last_error(ctx));
        sum += now.style / own[k].style;
    }
    return sum / t->n_styles;
}

/* The checkpoint, or the finished model; dies when it cannot be written. */
static void save(struct ns_context *ctx, struct ns_trainer *tr, const char *path, bool checkpoint) {
    if (ns_trainer_save(tr, path, checkpoint))
        die("%s; the training so far is in the last checkpoint", ns_last_error(ctx));
}

int cli_train(int argc, char **argv) {
    struct train t = {.steps = 2000, .sample_every = 100, .checkpoint_minutes = 5, .p = ns_train_params_default()};
    parse(argc, argv, &t);
    char err[600];
    size_t olen = strlen(t.output);
    char *folder = g_path_get_dirname(t.output);
    if (olen < 12 || strcmp(t.output + olen - 12, ".safetensors"))
        die("--output '%s': a model is a .safetensors file", t.output);
    if (access(folder, W_OK)) die("--output '%s': cannot write in %s (%s)", t.output, folder, strerror(errno));
    g_free(folder);
    char *ckpt = g_strconcat(t.output, ".checkpoint", NULL);
    t.checkpoint = ckpt;
    if (t.resume && access(ckpt, R_OK))
        die("--resume: there is no checkpoint '%s' to continue (%s)", ckpt, strerror(errno));
    if (t.samples && g_mkdir_with_parents(t.samples, 0777))
        die("--samples '%s': %s", t.samples, strerror(errno));
    io_init();
    struct io_image painting[NS_MAX_STYLES];
    for (int k = 0; k < t.n_styles; k++)
        if (!io_load(t.style[k], &painting[k], err, sizeof err)) die("%s", err);
    read_photos(&t);

    struct ns_context *ctx = NULL;
    double bytes;
    struct ns_trainer *tr = start(&t, &ctx, painting, &bytes);
    if (!t.quiet)
        fprintf(stderr, "neural-style train: %d photos, %d x %d px crops in batches of %d, on %s, about %.2f GB\n",
                t.n_photos, t.p.size, t.p.size, t.p.batch, ns_context_backend(ctx), bytes / 1e9);
    describe(tr, &t, painting);

    struct sigaction was;
    if (sigaction(SIGINT, NULL, &was) == 0 && was.sa_handler != SIG_IGN) signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    size_t crop_floats = (size_t) 3 * t.p.size * t.p.size;
    float *pix = malloc(sizeof(float) * crop_floats * t.p.batch);
    struct ns_image crops[64];
    if (!pix) die("not enough memory for the crops");
    for (int k = 0; k < t.p.batch; k++)
        crops[k] = (struct ns_image){pix + crop_floats * k, t.p.size, t.p.size, 3, 3 * t.p.size};
    /* the progress's yardstick: the style term of crops no step takes
     * (step -1's), as they are and through the network */
    float *yard_pix = malloc(sizeof(float) * crop_floats * t.p.batch);
    struct ns_image yard[64];
    struct ns_train_terms own[NS_MAX_STYLES] = {{0}};
    for (int k = 0; yard_pix && k < t.p.batch; k++) {
        yard[k] = (struct ns_image){yard_pix + crop_floats * k, t.p.size, t.p.size, 3, 3 * t.p.size};
        make_crop(&t, -1, k, yard[k].data);
    }
    if (!yard_pix) die("not enough memory for the crops");
    for (int k = 0; k < t.n_styles; k++)
        if (ns_trainer_use_style(tr, k) || ns_trainer_eval(tr, yard, t.p.batch, true, &own[k]))
            die("%s", ns_last_error(ctx));
    int first = ns_trainer_steps(tr);
    if (first >= t.steps) die("the checkpoint has %d steps already: ask for more with --steps", first);
    if (first && !t.quiet) fprintf(stderr, "neural-style train: resuming at step %d\n", first);
    FILE *log = t.log_steps ? fopen(t.log_steps, "a") : NULL;
    if (t.log_steps && !log) die("--log-steps '%s': %s", t.log_steps, strerror(errno));
    double t0 = now_s(), last_ckpt = t0, last_print = 0, before = t0;
    for (int s = first; s < t.steps && !interrupted; s++) {
        for (int k = 0; k < t.p.batch; k++)
            make_crop(&t, s, k, crops[k].data);
        struct ns_train_terms terms;
        if (ns_trainer_step(tr, crops, t.p.batch, &terms)) die("%s", ns_last_error(ctx));
        double now = now_s(), per = (now - t0) / (s + 1 - first);
        if (log) fprintf(log, "%.3f %.6g %.6g %.6g %.6g\n", now - before, terms.loss, terms.content, terms.style,
                         terms.tv), fflush(log);
        if (!t.quiet && (now - last_print > 10 || s == first || s + 1 == t.steps)) {
            char left[32];
            format_time(per * (t.steps - s - 1), left, sizeof left);
            double ratio = unseen_ratio(ctx, tr, &t, yard, own);
            fprintf(stderr,
                    "neural-style train: step %d/%d  loss %.4g (content %.3g, style %.3g, tv %.3g); unseen photos' "
                    "style %.2f of their own  %.2f s/step, about %s left\n",
                    s + 1, t.steps, terms.loss, terms.content, terms.style, terms.tv, ratio,
                    per, left);
            last_print = now_s();
        }
        before = now_s();
        if (t.samples && ((s + 1) % t.sample_every == 0 || s + 1 == t.steps)) write_samples(ctx, tr, &t, s + 1);
        if (now - last_ckpt > 60 * t.checkpoint_minutes && s + 1 < t.steps) {
            save(ctx, tr, ckpt, true);
            last_ckpt = now_s();
        }
    }
    int rc = 0;
    if (interrupted) {
        save(ctx, tr, ckpt, true);
        fprintf(stderr, "neural-style train: stopped at step %d of %d; '%s' keeps it: add --resume to go on\n",
                ns_trainer_steps(tr), t.steps, ckpt);
        rc = 130;
    } else {
        save(ctx, tr, t.output, false);
        unlink(ckpt);
        if (!t.quiet)
            fprintf(stderr, "neural-style train: wrote %s (%d steps in %.0f s)\n", t.output, t.steps, now_s() - t0);
    }
    free(pix), free(yard_pix);
    if (log) fclose(log);
    ns_trainer_free(tr);
    ns_context_free(ctx);
    for (int k = 0; k < t.n_styles; k++)
        io_free(&painting[k]);
    for (int i = 0; i < t.n_photos; i++)
        free(t.ph[i].rgb), g_free(t.ph[i].path);
    free(t.ph);
    g_free(ckpt);
    io_exit();
    return rc;
}
