/* neural-style.c - command-line front end over ns.h. */
#include "cli.h"
#include "image_io.h"
#include "ns.h"

#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void) sig;
    interrupted = 1;
}

struct cli {
    const char *content, *output, *weights, *init_image, *log_json;
    const char *styles[NS_MAX_STYLES];
    char *masks[NS_MAX_STYLES]; /* --style FILE:MASK, else NULL */
    float blend[NS_MAX_STYLES];
    int n_styles, n_blend;
    enum ns_backend_kind device;
    int gpu;
    bool quiet;
    struct ns_params p;
    struct ns_file *log; /* --log-json, in place when the run ends */
    bool tty;
    int last_pct;
    int last_scale;   /* the level last reported */
    double start_mb;  /* resident when the run began */
    struct ns_context *ctx;
    enum ns_backend_kind kind; /* the backend the run started on */
    const char *preset;        /* --preset, applied before the other options */
    const char *model;         /* --model: a fast style instead of --style */
    const char *mix;           /* --mix: a model of several styles' blend */
    float mixw[NS_MAX_STYLES];
    float strength;            /* --strength, percent (fast styles) */
    float brush;               /* --brush-size, times the network's own strokes */
    bool size_given;           /* --size was given (a fast style otherwise runs at the photo's size) */
    const char *output_dir;    /* --output-dir: a batch of photos through --model */
    char **photos;             /* the batch's photos and folders (the arguments after the options) */
    int n_photos;
};

/* One --help entry: the flag and its value name in a column of 25, the
 * text wrapped at 79. */
static void help_line(FILE *f, const char *flag, const char *value, const char *text) {
    char head[64];
    snprintf(head, sizeof head, "  --%s%s%s", flag, value ? " " : "", value ? value : "");
    int col = fprintf(f, "%s", head);
    const char *w = text;
    bool first = true;
    while (*w) {
        size_t n = strcspn(w, " ");
        if (first && col >= 25) col = fprintf(f, "\n%25s", "") - 1;
        if (first) col += fprintf(f, "%*s", 25 - col, ""), first = false;
        else if (col + 1 + (int) n > 79) col = fprintf(f, "\n%25s", "") - 1;
        else col += fprintf(f, " ");
        col += fprintf(f, "%.*s", (int) n, w);
        w += n;
        while (*w == ' ')
            w++;
    }
    fprintf(f, "\n");
}

static void usage(FILE *f) {
    fprintf(f, "Usage: neural-style --content FILE --style FILE --output FILE [options]\n"
               "       neural-style --content FILE --model FILE --output FILE [options]\n"
               "       neural-style --model FILE --output-dir DIR [options] PHOTO|FOLDER...\n"
               "Restyles a photo after a painting (Gatys et al., VGG-19), or with a fast style's network\n"
               "(Johnson et al.).\n\n");
    help_line(f, "content", "FILE", "the photo");
    help_line(f, "style", "FILE", "the painting (repeat for a blend of styles)");
    help_line(f, "style", "FILE:MASK",
              "the painting only where the grayscale MASK is white (one style per region; the photo stays as "
              "it is where every mask is black)");
    help_line(f, "style-blend", "W1,W2",
              "blend weights of the styles (default equal; with masks, each region's strength)");
    help_line(f, "output", "FILE", ".png, .jpg, .tif, .exr, .webp or .ppm (16-bit and float kept)");
    help_line(f, "weights", "FILE", "VGG weights .safetensors (default: the installed ones)");
    help_line(f, "init-image", "FILE", "start image for --init image");
    help_line(f, "colors", "keep|match|off",
              "keep: the photo's colours after the run (= --preserve-colors); match: the painting's colours "
              "matched to the photo's first (= --match-colors)");
    help_line(f, "model", "FILE|NAME",
              "a fast style (a .safetensors file, or the name of an installed one): restyles in one pass, no "
              "--style; at the photo's own size unless --size is given");
    help_line(f, "mix", "W,W,...",
              "a model trained on several paintings (neural-style train --style A --style B): one weight per "
              "style, blended in the network itself (1,0 the first alone, 1,1 halfway; default: the first)");
    help_line(f, "list-styles", NULL, "the installed fast styles, and where they are looked for");
    help_line(f, "strength", "PERCENT", "a fast style's strength, 0 to 100 (default 100)");
    help_line(f, "brush-size", "X",
              "a fast style's strokes, times their trained size (0.25 to 8, default 1): the network sees the "
              "photo X times smaller and its result is enlarged back, so on a 24 MP photo 4 gives strokes "
              "that read as they do at 6 MP");
    help_line(f, "output-dir", "DIR",
              "with --model: restyle every PHOTO (or every image in a FOLDER) given after the options into "
              "DIR, same name and format; photos already there are skipped, one that fails is reported and "
              "the others go on; exit 1 if any failed");
    help_line(f, "preset", "NAME",
              "gatys2016, improved, faithful, balanced or painterly; the other options given override it");
    int n;
    const struct ns_setting *t = ns_settings(&n);
    for (int i = 0; i < n; i++)
        help_line(f, t[i].name, t[i].value_name, t[i].help);
    help_line(f, "device", "auto|cpu|cuda", "where to run (default auto)");
    help_line(f, "gpu", "N", "GPU index");
    help_line(f, "log-json", "FILE",
              "one JSON line per iteration (level, tiles, losses, seconds, resident memory at the start and "
              "peak since), in place when the run ends");
    help_line(f, "quiet", NULL, "no progress bar");
    help_line(f, "version", NULL, "");
    help_line(f, "help", NULL, "");
}


static void bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "neural-style: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'neural-style --help'.\n");
    exit(2);
}


static void log_number(struct ns_file *f, const char *key, double v, bool last) {
    if (isfinite(v))
        ns_file_printf(f, "\"%s\":%.9g%s", key, v, last ? "" : ",");
    else
        ns_file_printf(f, "\"%s\":null%s", key, last ? "" : ",");
}

/* A line of /proc/self/status in MB: "VmRSS" (resident now) or "VmHWM"
 * (the peak); 0 where unknown. */
static double status_mb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    double mb = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        unsigned long kb;
        if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%lu", &kb) == 1) {
            mb = kb / 1024.0;
            break;
        }
    }
    if (f) fclose(f);
    return mb;
}

/* Restarts VmHWM from what is resident now, so that the log's peak is the
 * run's rather than the images' decoding (Linux 4.0 and later). */
static void reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* A region's mask from an image file: its gray (the mean of R'G'B', times
 * alpha where it has one) as one channel, at the photo's proportions. */
static void load_mask(const char *path, const struct ns_image *photo, struct ns_image *mask) {
    struct io_image img;
    char err[600];
    if (!io_load(path, &img, err, sizeof err)) die("%s", err);
    const struct ns_image *im = &img.im;
    double a = (double) im->width / im->height, b = (double) photo->width / photo->height;
    if (fabs(a / b - 1.0) > 0.01)
        die("the mask '%s' is %d x %d, not of the photo's proportions (%d x %d)", path, im->width, im->height,
            photo->width, photo->height);
    *mask = (struct ns_image){malloc(sizeof(float) * im->width * im->height), im->width, im->height, 1, im->width};
    if (!mask->data) die("not enough memory for the mask '%s'", path);
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            const float *px = im->data + (size_t) y * im->stride + (size_t) x * im->channels;
            float g = (px[0] + px[1] + px[2]) / 3.0f;
            mask->data[(size_t) y * im->width + x] = img.has_alpha ? g * px[3] : g;
        }
    io_free(&img);
}

static double image_bytes(const struct ns_image *im) {
    return im->data ? (double) im->width * im->height * im->channels * sizeof(float) : 0;
}

static bool on_progress(const struct ns_progress *p, void *ud) {
    struct cli *c = ud;
    if (p->backend != c->kind) { /* auto mode left the GPU: say why, even when quiet */
        c->kind = p->backend;
        fprintf(stderr, "%sneural-style: %s\n", c->tty && !c->quiet ? "\n" : "", ns_context_backend(c->ctx));
    }
    if (p->scale != c->last_scale && !c->quiet) { /* a new level: how it fits in memory */
        c->last_scale = p->scale;
        if (p->tile || (c->p.optimizer == NS_OPTIMIZER_LBFGS && p->history < c->p.lbfgs_history)) {
            fprintf(stderr, "%sneural-style: level %d of %d, %d x %d: ", c->tty ? "\n" : "", p->scale + 1,
                    p->n_scales, p->width, p->height);
            if (p->block)
                fprintf(stderr, "block by block, in blocks of %d px", p->block);
            else if (p->tile)
                fprintf(stderr, "in tiles of %d px", p->tile);
            if (c->p.optimizer == NS_OPTIMIZER_LBFGS && p->history < c->p.lbfgs_history)
                fprintf(stderr, "%sL-BFGS history %d of %d", p->tile ? ", " : "", p->history,
                        c->p.lbfgs_history);
            fprintf(stderr, " to fit the memory\n");
        }
    }
    if (c->log) {
        ns_file_printf(
            c->log,
            "{\"iter\":%d,\"level\":%d,\"width\":%d,\"height\":%d,\"tile\":%d,\"block\":%d,\"history\":%d,",
            p->iteration, p->scale, p->width, p->height, p->tile, p->block, p->history);
        log_number(c->log, "loss", p->loss, false);
        log_number(c->log, "content", p->content, false);
        log_number(c->log, "style", p->style, false);
        log_number(c->log, "tv", p->tv, false);
        log_number(c->log, "seconds", p->elapsed, false);
        log_number(c->log, "start_mb", c->start_mb, false);
        log_number(c->log, "peak_mb", status_mb("VmHWM"), true);
        ns_file_printf(c->log, "}\n");
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

/* The command line's own options, as a table (the engine's settings come
 * from ns_settings()): each option's kind says how its value is read and
 * where it goes (an offset into struct cli). */
enum opt_kind { OPT_STRING, OPT_INT, OPT_CHOICE, OPT_FLAG, OPT_SPECIAL, OPT_SETTING };

struct opt_spec {
    const char *name;
    enum opt_kind kind;
    size_t off;
    double lo, hi;              /* OPT_INT: the accepted range */
    const char *const *choices; /* OPT_CHOICE: NULL-terminated, stored as their index */
    const int *values;          /* OPT_CHOICE: the enum for each choice (NULL = the index) */
    const struct ns_setting *setting; /* OPT_SETTING */
};

#define AT(field) offsetof(struct cli, field)
static const char *const devices[] = {"auto", "cpu", "cuda", "gpu", NULL};
static const int device_values[] = {NS_BACKEND_AUTO, NS_BACKEND_CPU, NS_BACKEND_CUDA, NS_BACKEND_CUDA};

#define STRING(n, f)                                                                                         \
    { .name = n, .kind = OPT_STRING, .off = AT(f) }
#define FLAG(n, f)                                                                                           \
    { .name = n, .kind = OPT_FLAG, .off = AT(f) }
#define INT(n, f, l, h)                                                                                      \
    { .name = n, .kind = OPT_INT, .off = AT(f), .lo = l, .hi = h }
#define CHOICE(n, f, c)                                                                                      \
    { .name = n, .kind = OPT_CHOICE, .off = AT(f), .choices = c##s, .values = c##_values }
#define SPECIAL(n)                                                                                           \
    { .name = n, .kind = OPT_SPECIAL }
static const struct opt_spec cli_specs[] = {
    STRING("content", content),
    SPECIAL("style"),
    SPECIAL("style-blend"),
    STRING("output", output),
    STRING("weights", weights),
    STRING("init-image", init_image),
    SPECIAL("colors"),
    SPECIAL("preset"),
    STRING("model", model),
    STRING("mix", mix),
    STRING("output-dir", output_dir),
    SPECIAL("strength"),
    SPECIAL("brush-size"),
    CHOICE("device", device, device),
    INT("gpu", gpu, 0, 64),
    STRING("log-json", log_json),
    FLAG("quiet", quiet),
    SPECIAL("version"),
    SPECIAL("help"),
    SPECIAL("list-styles"),
};
#define N_CLI_SPECS (sizeof cli_specs / sizeof cli_specs[0])
#define MAX_SPECS   64
static struct opt_spec specs[MAX_SPECS]; /* cli_specs, then a row per setting */
static size_t n_specs;

static void build_specs(void) {
    int n;
    const struct ns_setting *t = ns_settings(&n);
    memcpy(specs, cli_specs, sizeof cli_specs);
    n_specs = N_CLI_SPECS;
    for (int i = 0; i < n && n_specs < MAX_SPECS; i++)
        specs[n_specs++] = (struct opt_spec){.name = t[i].name, .kind = OPT_SETTING, .setting = &t[i]};
}

/* A value that does not parse: one line naming the option, exit 1. */
static void bad_value(const struct opt_spec *o, const char *arg, const char *want) {
    die("--%s: '%s' is not %s", o->name, arg, want);
}

/* A number from lo to hi, or a sentence saying it must be `want`. */
static double number_in(const struct opt_spec *o, const char *s, double lo, double hi, const char *want) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi) bad_value(o, s, want);
    return v;
}

/* A blend weight: a number, 0 or more. */
static float read_weight(const struct opt_spec *o, const char *s) {
    return (float) number_in(o, s, 0, FLT_MAX, "a number, 0 or more");
}

static int read_int(const struct opt_spec *o, const char *s) {
    char *end, want[64];
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < o->lo || v > o->hi) {
        snprintf(want, sizeof want, "a whole number from %.0f to %.0f", o->lo, o->hi);
        bad_value(o, s, want);
    }
    return (int) v;
}

static int read_choice(const struct opt_spec *o, const char *s) {
    char want[128] = "one of";
    for (int i = 0; o->choices[i]; i++) {
        if (!strcmp(s, o->choices[i])) return o->values[i];
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s %s", i ? "," : "", o->choices[i]);
    }
    bad_value(o, s, want);
    return 0;
}

static gint by_name(gconstpointer a, gconstpointer b) {
    return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

/* --list-styles: each installed style's file name, name, licence and
 * source; a file that does not load, with why.  The exit status. */
static int list_styles(void) {
    char *dirs[3];
    int n = ns_style_dirs(dirs, 3), found = 0;
    for (int i = 0; i < n; i++) {
        GDir *d = g_dir_open(dirs[i], 0, NULL);
        GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
        for (const char *f; d && (f = g_dir_read_name(d));)
            if (g_str_has_suffix(f, ".safetensors")) g_ptr_array_add(files, g_strdup(f));
        g_ptr_array_sort(files, by_name);
        for (guint k = 0; k < files->len; k++) {
            const char *f = g_ptr_array_index(files, k);
            char *path = g_build_filename(dirs[i], f, NULL), err[600];
            struct ns_style_model *m = NULL;
            printf("%-24.*s ", (int) (strlen(f) - strlen(".safetensors")), f);
            if (ns_style_model_load(path, &m, err, sizeof err)) {
                printf("not usable: %s\n", err);
            } else {
                const char *name = ns_style_model_info(m, "name"), *lic = ns_style_model_info(m, "license"),
                           *src = ns_style_model_info(m, "source");
                printf("%s (%s%s%s)\n", name ? name : "", lic ? lic : "licence not given", src ? "; " : "",
                       src ? src : "");
                for (int s = 0; ns_style_model_styles(m) > 1 && s < ns_style_model_styles(m); s++) {
                    char *sn = ns_style_model_style_name(m, s);
                    printf("%-24s   style %d: %s\n", "", s + 1, sn ? sn : "(no name)");
                    free(sn);
                }
                found++;
            }
            ns_style_model_free(m);
            g_free(path);
        }
        g_ptr_array_free(files, TRUE);
        if (d) g_dir_close(d);
    }
    if (!found) printf("No fast styles installed. ./install.sh --styles installs five public ones.\n");
    printf("Looked in:");
    for (int i = 0; i < n; i++)
        printf(" %s", dirs[i]), free(dirs[i]);
    printf("\n");
    return 0;
}

static void read_special(struct cli *c, const struct opt_spec *o, const char *v) {
    if (!strcmp(o->name, "style")) {
        if (c->n_styles == NS_MAX_STYLES) die("--style: at most %d paintings", NS_MAX_STYLES);
        /* FILE:MASK, unless the whole value names a file */
        const char *colon = strrchr(v, ':');
        c->masks[c->n_styles] = NULL;
        if (colon && colon > v && colon[1] && access(v, F_OK) != 0) {
            c->masks[c->n_styles] = strdup(colon + 1);
            c->styles[c->n_styles] = strndup(v, (size_t) (colon - v));
        } else {
            c->styles[c->n_styles] = v;
        }
        c->n_styles++;
    } else if (!strcmp(o->name, "style-blend")) {
        char *s = strdup(v), *save = NULL;
        for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (c->n_blend == NS_MAX_STYLES) die("--style-blend: at most %d weights", NS_MAX_STYLES);
            c->blend[c->n_blend++] = read_weight(o, t);
        }
        free(s);
    } else if (!strcmp(o->name, "colors")) {
        if (strcmp(v, "keep") && strcmp(v, "match") && strcmp(v, "off")) bad_value(o, v, "keep, match or off");
        c->p.preserve_colors = !strcmp(v, "keep");
        c->p.match_colors = !strcmp(v, "match");
    } else if (!strcmp(o->name, "preset")) {
        /* applied before the other options (parse_args); checked here */
        if (ns_params_preset(&(struct ns_params){0}, v)) {
            char want[128] = "one of";
            for (const char *const *n = ns_preset_names(); *n; n++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s %s", n == ns_preset_names() ? "" : ",", *n);
            bad_value(o, v, want);
        }
    } else if (!strcmp(o->name, "strength")) {
        c->strength = (float) number_in(o, v, 0, 100, "a percentage from 0 to 100");
    } else if (!strcmp(o->name, "brush-size")) {
        c->brush = (float) number_in(o, v, 0.25, 8, "a factor from 0.25 to 8");
    } else if (!strcmp(o->name, "list-styles")) {
        exit(list_styles());
    } else if (!strcmp(o->name, "version")) {
        printf("neural-style %s\n", NS_VERSION_STRING);
        exit(0);
    } else {
        usage(stdout);
        exit(0);
    }
}

/* Whether s is one of the options ("--style", "--style=x"): then the
 * option before it was given no value. */
static bool is_option(const char *s) {
    if (strncmp(s, "--", 2)) return false;
    size_t n = strcspn(s + 2, "=");
    for (size_t i = 0; i < n_specs; i++)
        if (strlen(specs[i].name) == n && !strncmp(s + 2, specs[i].name, n)) return true;
    return false;
}

static void read_option(struct cli *c, const struct opt_spec *o, const char *v) {
    char *at = (char *) c + o->off;
    if (v && is_option(v)) {
        fprintf(stderr, "neural-style: --%s needs a value, and '%s' that follows it is an option\n", o->name, v);
        fprintf(stderr, "Try 'neural-style --help'.\n");
        exit(2);
    }
    switch (o->kind) {
    case OPT_STRING:
        *(const char **) at = v;
        break;
    case OPT_INT:
        *(int *) at = read_int(o, v);
        break;
    case OPT_CHOICE:
        *(int *) at = read_choice(o, v);
        break;
    case OPT_FLAG:
        *(bool *) at = true;
        break;
    case OPT_SPECIAL:
        read_special(c, o, v);
        break;
    case OPT_SETTING: {
        char err[300];
        if (!strcmp(o->name, "init") && v && !strncmp(v, "model:", 6)) { /* a fast style's result as the start */
            c->p.init_model = v + 6, c->p.init = NS_INIT_MODEL;
            break;
        }
        /* a flag (no value) sets its setting on */
        if (ns_setting_parse(o->setting, v ? v : "true", &c->p, err, sizeof err)) die("%s", err);
        break;
    }
    }
}

static void parse_args(int argc, char **argv, struct cli *c) {
    build_specs();
    struct option opts[MAX_SPECS + 1];
    for (size_t i = 0; i < n_specs; i++) {
        bool no_value = specs[i].kind == OPT_FLAG || !strcmp(specs[i].name, "version") ||
                        !strcmp(specs[i].name, "list-styles") ||
                        !strcmp(specs[i].name, "help") ||
                        (specs[i].kind == OPT_SETTING && specs[i].setting->type == NS_SETTING_BOOL);
        opts[i] = (struct option){specs[i].name, no_value ? no_argument : required_argument, NULL, (int) i};
    }
    opts[n_specs] = (struct option){0};
    /* a preset first, so that every other option given overrides it */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--preset") && i + 1 < argc) c->preset = argv[i + 1];
        else if (!strncmp(a, "--preset=", 9)) c->preset = a + 9;
    }
    if (c->preset) ns_params_preset(&c->p, c->preset);
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o < 0 || o >= (int) n_specs) {
            fprintf(stderr, "Try 'neural-style --help'.\n");
            exit(2);
        }
        read_option(c, &specs[o], optarg);
        c->size_given |= !strcmp(specs[o].name, "size");
    }
    if (optind < argc && !c->output_dir) bad_usage("unexpected argument '%s'", argv[optind]);
    c->photos = argv + optind, c->n_photos = argc - optind;
    if (c->model && c->n_styles) bad_usage("--model and --style: one or the other%s", "");
    if (c->mix && !c->model) bad_usage("--mix blends the styles of a fast style's model: it needs --model%s", "");
    if (c->output_dir) {
        if (!c->model) bad_usage("--output-dir restyles with a fast style: it needs --model%s", "");
        if (c->output) bad_usage("--output and --output-dir: one or the other%s", "");
        if (!c->n_photos && !c->content) bad_usage("--output-dir: name the photos or folders after the options%s", "");
        return;
    }
    if (!c->content || !(c->n_styles || c->model) || !c->output)
        bad_usage("--content, --style (or --model) and --output are required%s", "");
    if (c->p.init == NS_INIT_IMAGE && !c->init_image)
        bad_usage("--init image needs --init-image FILE%s", "");
    if (c->p.init == NS_INIT_MODEL && !c->p.init_model)
        bad_usage("--init model needs the fast style: --init model:STYLE, or --init-model STYLE%s", "");
    if (c->n_blend && c->n_blend != c->n_styles)
        bad_usage("--style-blend needs one weight per --style%s", "");
}

/* Saves result as the output, a signal during the save waiting for it to
 * end: where the file system has no O_TMPFILE, a named temp file exists
 * until then. */
static void save_output(const struct cli *c, const struct io_image *content, const struct ns_image *result) {
    char err[600];
    sigset_t stop, was_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT), sigaddset(&stop, SIGTERM), sigaddset(&stop, SIGHUP), sigaddset(&stop, SIGQUIT);
    sigprocmask(SIG_BLOCK, &stop, &was_mask);
    bool saved = io_save(c->output, result, content->has_alpha, content->depth, err, sizeof err);
    sigprocmask(SIG_SETMASK, &was_mask, NULL);
    if (!saved) die("%s", err);
    if (!c->quiet) fprintf(stderr, "neural-style: wrote %s (%d x %d)\n", c->output, result->width, result->height);
}

/* --model's file, or the installed style of that name. */
static struct ns_style_model *load_model(const char *arg) {
    char err[600], *path = ns_style_resolve(arg);
    struct ns_style_model *m = NULL;
    if (!path)
        die("--model: no file '%s' and no installed style of that name (neural-style --list-styles lists them)",
            arg);
    if (ns_style_model_load(path, &m, err, sizeof err)) die("%s", err);
    free(path);
    return m;
}

/* --mix against the model's styles into p; dies with a sentence. */
static void set_mix(struct cli *c, const struct ns_style_model *m, struct ns_stylize_params *p) {
    char err[600];
    if (!c->mix) return;
    if (ns_style_mix_parse(m, c->mix, c->mixw, err, sizeof err)) die("--mix %s", err);
    p->mix = c->mixw, p->n_mix = ns_style_model_styles(m);
}

/* The device and the parameters of a fast style's runs, from the options. */
static struct ns_stylize_params fast_setup(const struct cli *c, struct ns_context **ctx) {
    if (ns_context_new_device(c->device, c->gpu, ctx)) die("%s", ns_last_error(*ctx));
    if (ns_context_set_threads(*ctx, c->p.threads, NULL)) die("%s", ns_last_error(*ctx));
    struct ns_stylize_params p = ns_stylize_params_default();
    p.size = c->size_given ? c->p.size : 0;
    p.strength = c->strength / 100.0f;
    p.brush_size = c->brush;
    p.preserve_colors = c->p.preserve_colors;
    p.threads = c->p.threads;
    p.max_memory = c->p.max_memory;
    p.band = c->p.tile; /* --tile N: in bands of N rows */
    return p;
}

/* --max-memory covers the photo and the result held here too: what is
 * left of it for the network, or false (err) when they alone exceed it. */
static bool fast_budget(struct ns_stylize_params *p, const struct ns_image *content, const struct ns_image *result,
                        char *err, size_t err_len) {
    double held = image_bytes(content) + image_bytes(result);
    if (p->max_memory <= 0) return true;
    if (held >= p->max_memory) {
        snprintf(err, err_len, "the photo and the result alone take %.0f MB, more than the memory limit of %.0f MB",
                 held / 1e6, p->max_memory / 1e6);
        return false;
    }
    p->max_memory -= held;
    return true;
}

/* --model: the photo through a fast style's network, at its own size. */
static int run_model(struct cli *c) {
    char err[600];
    struct ns_style_model *model = load_model(c->model);
    struct io_image content;
    if (!io_load(c->content, &content, err, sizeof err)) die("%s", err);
    struct ns_context *ctx = NULL;
    struct ns_stylize_params p = fast_setup(c, &ctx);
    set_mix(c, model, &p);
    int w = content.im.width, h = content.im.height, rc = content.has_alpha ? 4 : 3;
    struct ns_image result = {calloc((size_t) w * h * rc, sizeof(float)), w, h, rc, rc * w};
    if (!result.data) die("not enough memory for a %d x %d result", w, h);
    if (!fast_budget(&p, &content.im, &result, err, sizeof err)) die("%s", err);
    if (!c->quiet) {
        const char *name = ns_style_model_info(model, "name");
        fprintf(stderr, "neural-style: %s, on %s\n", name ? name : c->model, ns_context_backend(ctx));
        if (ns_style_model_styles(model) > 1 && !c->mix) {
            char *first = ns_style_model_style_name(model, 0);
            fprintf(stderr, "neural-style: the model holds %d styles; this is the first (%s): --mix blends them\n",
                    ns_style_model_styles(model), first ? first : "no name");
            free(first);
        }
    }
    if (ns_stylize(ctx, model, &content.im, &p, &result)) die("%s", ns_last_error(ctx));
    save_output(c, &content, &result);
    free(result.data);
    ns_context_free(ctx);
    ns_style_model_free(model);
    io_free(&content);
    io_exit();
    return 0;
}

/* Adds path, or the image files of the folder it names (sorted, hidden
 * ones left out), to list. */
static void add_photos(GPtrArray *list, const char *path) {
    GDir *dir = g_file_test(path, G_FILE_TEST_IS_DIR) ? g_dir_open(path, 0, NULL) : NULL;
    if (!dir) {
        g_ptr_array_add(list, g_strdup(path));
        return;
    }
    GPtrArray *names = g_ptr_array_new();
    for (const char *n; (n = g_dir_read_name(dir));)
        if (n[0] != '.') g_ptr_array_add(names, g_build_filename(path, n, NULL));
    g_dir_close(dir);
    g_ptr_array_sort(names, by_name);
    for (guint i = 0; i < names->len; i++) {
        char *p = g_ptr_array_index(names, i);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(list, p);
        else
            g_free(p);
    }
    g_ptr_array_free(names, TRUE);
}

/* Where photo's result goes: the folder, its name, its format if the
 * command line writes it, else PNG; NULL (err says why) when neither can
 * be written there. */
static char *batch_output(const struct cli *c, const char *photo, char *err, size_t err_len) {
    char *base = g_path_get_basename(photo), *out = g_build_filename(c->output_dir, base, NULL);
    if (!io_check_output(out, err, err_len)) {
        char *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        char *png = g_strconcat(base, ".png", NULL);
        g_free(out);
        out = g_build_filename(c->output_dir, png, NULL);
        g_free(png);
        if (!io_check_output(out, err, err_len)) g_clear_pointer(&out, g_free);
    }
    g_free(base);
    return out;
}


/* One photo of a batch into out; false (err one line) when it failed. */
static bool batch_one(const struct cli *c, struct ns_context *ctx, const struct ns_style_model *model,
                      const struct ns_stylize_params *p, const char *photo, const char *out, char *err,
                      size_t err_len) {
    struct io_image content;
    if (!io_load(photo, &content, err, err_len)) return false;
    int w = content.im.width, h = content.im.height, rc = content.has_alpha ? 4 : 3;
    struct ns_image result = {calloc((size_t) w * h * rc, sizeof(float)), w, h, rc, rc * w};
    bool ok = result.data != NULL;
    struct ns_stylize_params run = *p;
    char why[400];
    if (!ok) snprintf(err, err_len, "'%s': not enough memory for a %d x %d result", photo, w, h);
    if (ok && !(ok = fast_budget(&run, &content.im, &result, why, sizeof why)))
        snprintf(err, err_len, "'%s': %s", photo, why);
    if (ok && ns_stylize(ctx, model, &content.im, &run, &result)) {
        snprintf(err, err_len, "'%s': %s", photo, ns_last_error(ctx));
        ok = false;
    }
    if (ok) ok = io_save(out, &result, content.has_alpha, content.depth, err, err_len);
    free(result.data);
    io_free(&content);
    return ok;
}

/* --output-dir: the photos through the model, loaded once; each result
 * written whole, those already there skipped, a failure reported in one
 * line while the others go on.  0 when none failed, 1 otherwise, 130 when
 * interrupted (between photos: none is left half-written). */
static int run_batch(struct cli *c) {
    char err[600];
    if (!g_file_test(c->output_dir, G_FILE_TEST_IS_DIR)) die("--output-dir: '%s' is not a folder", c->output_dir);
    struct ns_style_model *model = load_model(c->model);
    struct ns_context *ctx = NULL;
    struct ns_stylize_params p = fast_setup(c, &ctx);
    set_mix(c, model, &p);
    GPtrArray *photos = g_ptr_array_new_with_free_func(g_free);
    if (c->content) add_photos(photos, c->content);
    for (int i = 0; i < c->n_photos; i++)
        add_photos(photos, c->photos[i]);
    struct sigaction was;
    if (sigaction(SIGINT, NULL, &was) == 0 && was.sa_handler != SIG_IGN) signal(SIGINT, on_sigint);
    int n = (int) photos->len, done = 0, skipped = 0, failed = 0;
    double spent = 0;
    /* result -> the photo it came from, in this run: p3.gif and p3.png
     * both give p3.png where GIF cannot be written */
    GHashTable *made = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < n && !interrupted; i++) {
        const char *photo = g_ptr_array_index(photos, i);
        char *out = batch_output(c, photo, err, sizeof err);
        if (!out) die("%s", err); /* the folder cannot be written: no photo can */
        const char *first = g_hash_table_lookup(made, out);
        if (first) {
            failed++;
            fprintf(stderr, "neural-style: [%d/%d] skipped: '%s': its result, %s, is that of '%s' (the same name): "
                    "rename one\n", i + 1, n, photo, out, first);
        } else if (g_file_test(out, G_FILE_TEST_EXISTS)) {
            skipped++;
        } else {
            double t0 = now_s();
            if (batch_one(c, ctx, model, &p, photo, out, err, sizeof err)) {
                done++, spent += now_s() - t0;
                char left[32];
                format_time(spent / done * (n - i - 1), left, sizeof left);
                if (!c->quiet)
                    fprintf(stderr, "neural-style: [%d/%d] %s (%.1f s), about %s left\n", i + 1, n, out,
                            now_s() - t0, left);
            } else {
                failed++;
                fprintf(stderr, "neural-style: [%d/%d] skipped: %s\n", i + 1, n, err);
            }
        }
        g_hash_table_insert(made, out, (gpointer) photo);
    }
    g_hash_table_destroy(made);
    if (!c->quiet || failed)
        fprintf(stderr, "neural-style: %d restyled, %d already done, %d failed%s\n", done, skipped, failed,
                interrupted ? "; interrupted, run the same command again to go on" : "");
    g_ptr_array_free(photos, TRUE);
    ns_context_free(ctx);
    ns_style_model_free(model);
    io_exit();
    return interrupted ? 130 : failed ? 1 : 0;
}

int main(int argc, char **argv) {
    struct cli c = {.device = NS_BACKEND_AUTO, .p = ns_params_default(), .last_pct = -1, .last_scale = -1,
                    .strength = 100, .brush = 1};
    if (argc > 1 && !strcmp(argv[1], "train")) return cli_train(argc - 1, argv + 1);
    parse_args(argc, argv, &c);
    c.tty = isatty(2);

    size_t room = ns_address_room();
    /* under `ulimit -v`, one malloc arena: glibc reserves 64 MB of address
     * space for each thread's own, which the limit counts */
    if (room != SIZE_MAX) mallopt(M_ARENA_MAX, 1);
    if (room < NS_MIN_ROOM_BYTES)
        die("not enough memory to start: this process may take only %.0f MB more (ulimit -v), and a run needs "
            "at least %.0f MB; raise the limit",
            room / 1e6, NS_MIN_ROOM_BYTES / 1e6);
    io_init();
    char err[600];
    if (c.output_dir) return run_batch(&c);
    if (!io_check_output(c.output, err, sizeof err)) die("%s", err);
    if (c.model) return run_model(&c);
    struct io_image content, styles[NS_MAX_STYLES], init = {0};
    if (!io_load(c.content, &content, err, sizeof err)) die("%s", err);
    for (int k = 0; k < c.n_styles; k++)
        if (!io_load(c.styles[k], &styles[k], err, sizeof err)) die("%s", err);
    if (c.init_image && !io_load(c.init_image, &init, err, sizeof err)) die("%s", err);

    struct ns_context *ctx = NULL;
    enum ns_status st = ns_context_new_ex(c.weights, c.device, c.gpu, &ctx);
    if (st) die("%s", ctx ? ns_last_error(ctx) : ns_status_str(st));
    if (c.preset) ns_params_preset_fit(ctx, &c.p, c.preset);
    int threads = 0;
    if (ns_context_set_threads(ctx, c.p.threads, &threads)) die("%s", ns_last_error(ctx));
    if (threads > 0 && c.p.threads > threads)
        fprintf(stderr, "neural-style: --threads %d: this machine lets it use %d cores, so %d threads\n",
                c.p.threads, threads, threads);
    if (!c.quiet) fprintf(stderr, "neural-style: running on %s\n", ns_context_backend(ctx));
    static const char *const precision_names[] = {"fp32", "tf32", "bf16"};
    enum ns_precision got = ns_context_precision(ctx, c.p.precision);
    if (got != c.p.precision)
        fprintf(stderr, "neural-style: --precision %s %s; computing in float32\n",
                precision_names[c.p.precision],
                ns_context_backend_kind(ctx) == NS_BACKEND_CUDA ? "needs an Ampere or newer GPU"
                                                                : "applies to NVIDIA GPUs only");

    if (c.log_json && ns_file_begin(c.log_json, &c.log, err, sizeof err)) die("--log-json: %s", err);

    struct ns_image style_im[NS_MAX_STYLES];
    for (int k = 0; k < c.n_styles; k++)
        style_im[k] = styles[k].im;
    if (c.n_blend) c.p.style_blend = c.blend;
    struct ns_image masks[NS_MAX_STYLES] = {{0}};
    for (int k = 0; k < c.n_styles; k++)
        if (c.masks[k]) {
            load_mask(c.masks[k], &content.im, &masks[k]);
            c.p.style_masks = masks, c.p.n_style_masks = c.n_styles;
        }
    if (c.init_image) c.p.init_image = &init.im;

    int ow, oh, rc = content.has_alpha ? 4 : 3;
    ns_output_size(&c.p, content.im.width, content.im.height, &ow, &oh);
    struct ns_image result = {calloc((size_t) ow * oh * rc, sizeof(float)), ow, oh, rc, rc * ow};
    if (!result.data) die("not enough memory for a %d x %d result", ow, oh);
    /* --max-memory covers the images held here too */
    double held = image_bytes(&content.im) + image_bytes(&result) + image_bytes(&init.im);
    for (int k = 0; k < c.n_styles; k++)
        held += image_bytes(&style_im[k]) + image_bytes(&masks[k]);
    bool gpu = ns_context_backend_kind(ctx) == NS_BACKEND_CUDA;
    if (c.p.max_memory > 0 && !gpu) {
        if (held >= c.p.max_memory)
            die("the photo, the paintings and the result alone take %.0f MB, more than the memory limit of "
                "%.0f MB: raise the limit or choose a smaller size",
                held / 1e6, c.p.max_memory / 1e6);
        c.p.max_memory -= held;
    }
    if (!c.quiet)
        fprintf(stderr, "neural-style: %d x %d px, about %.2f GB of %s memory\n", ow, oh,
                (ns_estimate_memory(ctx, &c.p, content.im.width, content.im.height, style_im[0].width,
                                    style_im[0].height) +
                 (gpu ? 0 : held)) /
                    1e9,
                gpu ? "GPU" : "main");

    c.ctx = ctx;
    c.kind = ns_context_backend_kind(ctx);
    /* a script's background job inherits SIGINT ignored: keep it so */
    struct sigaction was;
    if (sigaction(SIGINT, NULL, &was) == 0 && was.sa_handler != SIG_IGN) signal(SIGINT, on_sigint);
    if (c.log) {
        reset_peak();
        c.start_mb = status_mb("VmRSS");
    }
    st = ns_run(ctx, &content.im, style_im, c.n_styles, &c.p, on_progress, &c, &result);
    if (!c.quiet && c.tty) fprintf(stderr, "\n");
    /* the log of what ran, a cancelled or failed run's too */
    char log_err[600];
    if (c.log && ns_file_commit(c.log, log_err, sizeof log_err)) die("--log-json: %s", log_err);
    if (st == NS_STATUS_CANCELLED) {
        fprintf(stderr, "neural-style: cancelled; '%s' was not written\n", c.output);
        return 130;
    }
    if (st) die("%s", ns_last_error(ctx));
    save_output(&c, &content, &result);

    free(result.data);
    ns_context_free(ctx);
    io_free(&content);
    for (int k = 0; k < c.n_styles; k++)
        io_free(&styles[k]), free(masks[k].data);
    io_free(&init);
    io_exit();
    return 0;
}
