/* test_plugin.c - what the plug-ins share, without GIMP: style strength and
 * quality, the estimate's words and warnings, the timings it learns from,
 * and the dialog's threaded preview. */
#include "restyle-private.h"
#include "fast.h"
#include "remember.h"
#include "train.h"
#include "restyle.h"
#include "testlib.h"
#include "test_style_model.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

static char weights_path[256];

/* Under AddressSanitizer: GEGL probes its modules at start-up and unloads
 * some, and what they allocated then shows up as leaks in "unknown modules"
 * that LeakSanitizer can neither name nor suppress.  Memory errors are still
 * checked; the engine's own leaks are checked by the other unit tests. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "detect_leaks=0";
}

static void test_strength(void) {
    NsRestyleParams p = ns_restyle_defaults();
    CHECK(fabs(ns_restyle_strength(&p) - 50) < 1e-9, "the default balance is strength 50, not %g",
          ns_restyle_strength(&p));
    double ratio = p.e.style_weight / p.e.content_weight;
    ns_restyle_set_strength(&p, 75);
    CHECK(fabs(p.e.style_weight / p.e.content_weight / ratio - 10) < 1e-5, "25 steps are a factor 10");
    ns_restyle_set_strength(&p, 0);
    CHECK(fabs(p.e.style_weight / p.e.content_weight / ratio - 0.01) < 1e-8, "strength 0 is a hundredth");
    for (double s = 3; s < 100; s += 9.7) {
        ns_restyle_set_strength(&p, s);
        /* the weights are the engine's floats */
        CHECK(fabs(ns_restyle_strength(&p) - s) < 1e-4, "strength %g comes back as %g", s,
              ns_restyle_strength(&p));
    }
    p.e.content_weight = 3;
    ns_restyle_set_strength(&p, 50);
    CHECK(p.e.content_weight == 3 && fabs(p.e.style_weight - 3 * ratio) < 1e-4,
          "strength keeps the content weight and sets the style weight");
    p.e.style_weight = 0;
    CHECK(ns_restyle_strength(&p) == 0, "no style weight is strength 0");
    p.e.style_weight = 1, p.e.content_weight = 0;
    CHECK(ns_restyle_strength(&p) == 100, "no content weight is strength 100");

    p.e.size = NS_DRAFT_SIZE;
    CHECK(ns_restyle_quality(&p) == NS_QUALITY_DRAFT, "512 px is Draft");
    p.e.size = 0;
    CHECK(ns_restyle_quality(&p) == NS_QUALITY_FINAL, "0 is Final");
    p.e.size = 1000;
    CHECK(ns_restyle_quality(&p) == NS_QUALITY_CUSTOM, "1000 px is Custom");

    GError *error = NULL;
    p = ns_restyle_defaults();
    p.e.precision = 3;
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "precision"),
          "an unknown precision is a calling error");
    g_clear_error(&error);
    /* the limits are the engine's: the edges pass, beyond them the message names them */
    p = ns_restyle_defaults();
    p.e.style_scale = NS_PARAM_STYLE_SCALE_MAX, p.e.size = NS_PARAM_SIZE_MAX,
    p.e.iterations = NS_PARAM_ITERATIONS_MAX;
    CHECK(ns_restyle_check_params(&p, &error), "the engine's largest values are refused");
    g_clear_error(&error);
    p.e.style_scale = NS_PARAM_STYLE_SCALE_MAX * 1.01;
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "between 0.05 and 8"),
          "a style scale over the engine's: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    p = ns_restyle_defaults();
    p.e.max_memory = -1;
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "memory limit"),
          "a negative memory limit: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    p = ns_restyle_defaults();
    p.e.size = NS_PARAM_SIZE_MAX + 1;
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "16384"),
          "a size over the engine's: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    /* the warm start: a style named, and one that exists */
    const struct ns_setting *model = ns_setting_find("init-model");
    p = ns_restyle_defaults();
    p.e.init = NS_INIT_MODEL;
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "choose one"),
          "a fast start without a style: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    ns_restyle_set_text(&p, model, "no-such-style");
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "“no-such-style” is not installed"),
          "a fast start from a style not installed: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    ns_restyle_set_text(&p, model, "/dev/null"); /* a file: the engine reads it */
    CHECK(ns_restyle_check_params(&p, &error), "a fast start from a file passes");
    g_clear_error(&error);
}

static void test_estimate(struct ns_context *ctx) {
    NsRestyleParams p = ns_restyle_defaults();
    gboolean blocked, capped;
    gchar *text = ns_restyle_estimate(ctx, &p, 2048, 1365, 1717, 1200, &blocked);
    CHECK(!blocked && strstr(text, "512 × 341") && strstr(text, "the CPU ("), "draft estimate: %s", text);
    CHECK(strstr(text, "enlarged 4.0×") != NULL, "a 4x enlargement is warned about: %s", text);
    CHECK(strstr(text, "loss") == NULL && strstr(text, "L-BFGS") == NULL, "no jargon: %s", text);
    g_free(text);

    p.device = NS_BACKEND_CUDA;
    text = ns_restyle_estimate(ctx, &p, 2048, 1365, 1717, 1200, &blocked);
    CHECK(blocked && strstr(text, "The GPU cannot be used"), "the GPU chosen without one blocks OK: %s",
          text);
    g_free(text);
    text = ns_restyle_estimate(NULL, &p, 2048, 1365, 1717, 1200, &blocked);
    CHECK(blocked && strstr(text, "install.sh"), "no weights: %s", text);
    g_free(text);

    p = ns_restyle_defaults();
    p.e.size = 0;
    CHECK(ns_restyle_work_size(ctx, &p, 300, 200, 300, 300, &capped) == 0 && !capped,
          "Final on a small photo is its own size");
    int fits = ns_restyle_work_size(ctx, &p, 400000, 300000, 1000, 1000, &capped);
    CHECK(capped && fits >= 64 && fits < 400000, "Final on a photo larger than memory: %d px", fits);
    text = ns_restyle_estimate(ctx, &p, 400000, 300000, 1000, 1000, &blocked);
    CHECK(strstr(text, "largest size that fits") != NULL, "the cap is said: %s", text);
    g_free(text);
    /* Final within a memory limit: the photo's own size, in tiles */
    p.e.max_memory = 1e9;
    CHECK(ns_restyle_work_size(ctx, &p, 2048, 1365, 1717, 1200, &capped) == 0 && !capped,
          "Final on 2048 x 1365 px within 1 GB is the photo's own size");
    struct ns_params e = ns_restyle_engine_params(&p);
    size_t bytes = ns_estimate_memory(ctx, &e, 2048, 1365, 1717, 1200);
    CHECK(e.max_memory == 1e9 && bytes <= 1e9 && bytes > 0.3e9, "within 1 GB: %.2f GB", bytes / 1e9);
    text = ns_restyle_estimate(ctx, &p, 2048, 1365, 1717, 1200, &blocked);
    CHECK(strstr(text, "computed in tiles to fit in memory") != NULL, "Final within 1 GB says tiles: %s",
          text);
    g_free(text);
    p.e.max_memory = 0.1e9;
    fits = ns_restyle_work_size(ctx, &p, 2048, 1365, 1717, 1200, &capped);
    CHECK(capped && fits >= 64 && fits < 2048, "Final within 100 MB: %d px", fits);
    p.e.max_memory = 0;
    p.e.size = 700;
    CHECK(ns_restyle_work_size(ctx, &p, 4000, 3000, 1000, 1000, &capped) == 700 && !capped,
          "Custom is taken as it is");

    gchar *why = NULL, *on = ns_restyle_device_text(ctx, NS_BACKEND_CPU, &why);
    CHECK(g_str_has_prefix(on, "the CPU (") && why == NULL, "the CPU asked for: %s, nothing about a GPU", on);
    g_free(on);
    struct ns_context *auto_ctx = ns_restyle_open(NS_BACKEND_AUTO, NULL);
    on = ns_restyle_device_text(auto_ctx, NS_BACKEND_AUTO, &why);
    CHECK(g_str_has_prefix(on, "the CPU (") && why, "auto without a GPU: %s, and why: %s", on,
          why ? why : "");
    g_free(on), g_free(why);
    ns_context_free(auto_ctx);
}

static GeglBuffer *buffer_of(int w, int h, float r, float g, float b) {
    GeglRectangle rect = {0, 0, w, h};
    GeglBuffer *buf = gegl_buffer_new(&rect, babl_format("R'G'B'A float"));
    float *px = g_new(float, (size_t) w *h * 4);
    for (int i = 0; i < w * h; i++) {
        float wave = 0.2f * sinf(i * 0.37f);
        px[4 * i] = r + wave, px[4 * i + 1] = g - wave, px[4 * i + 2] = b, px[4 * i + 3] = 1;
    }
    gegl_buffer_set(buf, &rect, 0, babl_format("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE);
    g_free(px);
    return buf;
}

/* The preview runs in a thread, is small, records its speed, can be stopped. */
static void test_preview(struct ns_context *ctx) {
    GeglBuffer *photo = buffer_of(600, 400, 0.3f, 0.5f, 0.7f),
               *painting = buffer_of(300, 300, 0.9f, 0.4f, 0.1f);
    NsRestyleParams p = ns_restyle_defaults();
    GError *error = NULL;
    gint w = 0, h = 0;
    gdouble fraction = 0;
    gchar *timings = g_build_filename(g_get_user_cache_dir(), "neural-style", "timings.ini", NULL);

    NsPreviewJob *job = ns_preview_start(ctx, photo, painting, &p, 300, 96, 30);
    while (!ns_preview_poll(job, &fraction))
        g_usleep(20000);
    CHECK(fraction == 1.0, "a finished preview reports 1, not %g", fraction);
    guchar *rgb = ns_preview_finish(job, FALSE, &w, &h, &error);
    CHECK(rgb && w == 96 && h == 96, "the preview is %d x %d: %s", w, h, error ? error->message : "");
    long changed = 0;
    for (int i = 0; rgb && i < w * h; i++)
        changed += abs(rgb[3 * i] - (int) (0.3f * 255)) > 20;
    CHECK(changed > w * h / 4, "the preview is restyled (%ld of %d pixels moved)", changed, w * h);
    CHECK(g_file_test(timings, G_FILE_TEST_EXISTS), "the preview's speed is kept in %s", timings);
    g_free(rgb);
    g_clear_error(&error);

    job = ns_preview_start(ctx, photo, painting, &p, 600, 192, 200);
    rgb = ns_preview_finish(job, TRUE, &w, &h, &error);
    CHECK(!rgb && error && error->code == NS_RESTYLE_ERROR_CANCELLED, "a stopped preview gives nothing");
    g_clear_error(&error);

    g_object_unref(photo), g_object_unref(painting);
    g_free(timings);
}

/* What the timings' writer says: anything louder than g_debug would reach
 * the photographer; the debug lines are kept to see the failure was noticed. */
static int loud_messages;
static GString *debug_lines;
static void note_message(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    if (level & G_LOG_LEVEL_DEBUG)
        g_string_append_printf(debug_lines, "%s\n", message);
    else
        loud_messages++;
}

/* The folder's entries other than timings.ini (a temporary left behind) */
static int others_in(const gchar *dir) {
    GDir *d = g_dir_open(dir, 0, NULL);
    const gchar *name;
    int n = 0;
    while (d && (name = g_dir_read_name(d)))
        n += strcmp(name, "timings.ini") != 0;
    if (d) g_dir_close(d);
    return n;
}

/* The timings file is replaced whole or not at all (ns_write_file): a write
 * that fails (here files over 16 bytes, RLIMIT_FSIZE) or a folder that
 * cannot be made leaves the old file byte for byte and nothing beside it,
 * and says so only in a g_debug. */
static void test_timings_file(struct ns_context *ctx) {
    gchar *dir = g_build_filename(g_get_user_cache_dir(), "neural-style", NULL);
    gchar *path = g_build_filename(dir, "timings.ini", NULL);
    gchar *aside = g_strconcat(dir, ".aside", NULL);
    gchar *before = NULL, *after = NULL;
    gsize before_len = 0, after_len = 0;
    struct ns_work work = {.flops = 1.25e9, .evaluations = 7};

    ns_restyle_record_timing(ctx, work, 1.5);
    CHECK(g_file_get_contents(path, &before, &before_len, NULL) && strstr(before, "1.25e+09 7 1.5"),
          "a timing is kept: %s", before ? before : "no file");
    CHECK(others_in(dir) == 0, "a write leaves only timings.ini in %s", dir);

    struct rlimit old_limit, limit;
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = 16;
    void (*old_signal)(int) = signal(SIGXFSZ, SIG_IGN);
    debug_lines = g_string_new(NULL);
    GLogFunc old_handler = g_log_set_default_handler(note_message, NULL);
    CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0, "files limited to 16 bytes");
    work.evaluations = 9;
    ns_restyle_record_timing(ctx, work, 2.5);
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_signal);
    CHECK(g_file_get_contents(path, &after, &after_len, NULL) && after_len == before_len &&
              !memcmp(before, after, before_len),
          "a failed write leaves the old timings as they were: %s", after ? after : "no file");
    CHECK(others_in(dir) == 0, "a failed write leaves nothing beside timings.ini");
    CHECK(strstr(debug_lines->str, "timings not kept") && strstr(debug_lines->str, "too large"),
          "the failure is noted in a debug line: '%s'", debug_lines->str);

    /* the folder cannot be made: a file has its name */
    g_string_truncate(debug_lines, 0);
    CHECK(g_rename(dir, aside) == 0 && g_file_set_contents(dir, "x", 1, NULL), "a file in the folder's place");
    ns_restyle_record_timing(ctx, work, 2.5);
    CHECK(strstr(debug_lines->str, "timings not kept"), "no folder is noted in a debug line: '%s'",
          debug_lines->str);
    g_unlink(dir);
    g_rename(aside, dir);
    g_log_set_default_handler(old_handler, NULL);
    CHECK(loud_messages == 0, "%d messages louder than g_debug about timings not kept", loud_messages);
    g_free(after);
    after = NULL;
    CHECK(g_file_get_contents(path, &after, &after_len, NULL) && after_len == before_len,
          "the timings are back");

    g_string_free(debug_lines, TRUE);
    g_free(before), g_free(after), g_free(aside), g_free(path), g_free(dir);
}

#define TEXT(p, name) ns_restyle_get_text(p, ns_setting_find(name))

/* Presets: applied, recognised, and a content layer the weights lack falls back. */
static void test_presets(struct ns_context *ctx) {
    NsRestyleParams p = ns_restyle_defaults();
    CHECK(!g_strcmp0(ns_restyle_preset_of(&p), "balanced"), "the defaults are Balanced, not %s",
          ns_restyle_preset_of(&p));
    ns_restyle_apply_preset(&p, "improved", ctx);
    CHECK(p.e.pooling == NS_POOLING_AVG && p.e.correlation_chain && p.e.activation_shift == -1 &&
              p.e.layer_weights == NS_LAYER_WEIGHTS_GEOMETRIC && !strcmp(TEXT(&p, "style-layers"), "all"),
          "improved sets Novak & Nikulin's options");
    CHECK(!*TEXT(&p, "content-layers"), "relu5_2 falls back to the default on weights without it: '%s'",
          TEXT(&p, "content-layers"));
    CHECK(!g_strcmp0(ns_restyle_preset_of(&p), "improved"), "improved is recognised, not %s",
          ns_restyle_preset_of(&p));
    struct ns_params e = ns_restyle_engine_params(&p);
    CHECK(e.pooling == NS_POOLING_AVG && e.correlation_chain && e.activation_shift == -1.0f &&
              e.layer_weights == NS_LAYER_WEIGHTS_GEOMETRIC && !strcmp(e.style_layers, "all") && !e.content_layers,
          "the options reach the engine");
    p.e.activation_shift = -2;
    CHECK(ns_restyle_preset_of(&p) == NULL, "a changed option is Custom");
    ns_restyle_apply_preset(&p, "gatys2016", NULL);
    CHECK(!strcmp(TEXT(&p, "content-layers"), "relu4_2") && !p.e.correlation_chain && p.e.activation_shift == 0,
          "gatys2016 resets the options");
    for (const char *const *n = ns_preset_names(); *n; n++)
        CHECK(strcmp(ns_restyle_preset_label(*n), *n), "preset %s has a label", *n);

    GError *error = NULL;
    p = ns_restyle_defaults();
    p.paintings = 2, p.region[1] = NS_REGION_CHOICE_CHANNEL, p.e.correlation_chain = TRUE;
    CHECK(!ns_restyle_check_params(&p, &error) && strstr(error->message, "chain"),
          "the chain with regions is refused: %s", error ? error->message : "");
    g_clear_error(&error);
    p.e.correlation_chain = FALSE, p.blend[0] = p.blend[1] = 0;
    CHECK(!ns_restyle_check_params(&p, &error) && strstr(error->message, "weight"),
          "paintings all of weight 0 are refused: %s", error ? error->message : "");
    g_clear_error(&error);
    p.blend[0] = 1, p.region[0] = 7;
    CHECK(!ns_restyle_check_params(&p, &error) && strstr(error->message, "region"), "region 7 is refused");
    g_clear_error(&error);
    NsLayerFacts f = {.content_is_layer = TRUE, .style_is_layer = TRUE, .style_in_image = TRUE,
                      .content_width = 64, .content_height = 64, .style_width = 64, .style_height = 64,
                      .n_more = 1};
    f.first.region_usable = TRUE;
    f.more[0] = (NsPaintingFacts){.is_layer = TRUE, .in_image = TRUE, .region = NS_REGION_CHOICE_LAYER_MASK};
    CHECK(!ns_restyle_check_layers(&f, &error) && strstr(error->message, "Add Layer Mask"),
          "a layer-mask region without a mask says how to add one: %s", error ? error->message : "");
    g_clear_error(&error);
    f.more[0].is_content = TRUE;
    CHECK(!ns_restyle_check_layers(&f, &error) && strstr(error->message, "another layer"),
          "a second painting that is the photo is refused");
    g_clear_error(&error);
}

/* A gray region buffer: 1 where x0 <= x < x1, else 0. */
static GeglBuffer *band_of(int w, int h, int x0, int x1) {
    GeglRectangle rect = {0, 0, w, h};
    GeglBuffer *buf = gegl_buffer_new(&rect, babl_format("Y float"));
    float *px = g_new(float, (size_t) w * h);
    for (int i = 0; i < w * h; i++)
        px[i] = i % w >= x0 && i % w < x1 ? 1.0f : 0.0f;
    gegl_buffer_set(buf, &rect, 0, babl_format("Y float"), px, GEGL_AUTO_ROWSTRIDE);
    g_free(px);
    return buf;
}

/* A painting layer enlarged to the image (transparent around it) is read
 * without its transparent border. */
static void test_transparent_border(void) {
    GeglRectangle rect = {0, 0, 10, 8};
    GeglBuffer *buf = gegl_buffer_new(&rect, babl_format("R'G'B'A float"));
    float px[10 * 8 * 4] = {0};
    for (int y = 2; y < 5; y++)
        for (int x = 3; x < 7; x++)
            for (int c = 0; c < 4; c++)
                px[4 * (y * 10 + x) + c] = c == 3 ? 1.0f : 0.1f * x + 0.01f * y;
    gegl_buffer_set(buf, &rect, 0, babl_format("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE);
    struct ns_image im = ns_restyle_read_painting(buf);
    int wrong = 0;
    for (int y = 0; y < im.height; y++)
        for (int x = 0; x < im.width; x++)
            wrong += fabsf(im.data[4 * (y * im.width + x)] - (0.1f * (x + 3) + 0.01f * (y + 2))) > 1e-6f;
    CHECK(im.width == 4 && im.height == 3 && wrong == 0, "the opaque 4 x 3 of a 10 x 8 layer: %d x %d, %d wrong",
          im.width, im.height, wrong);
    g_free(im.data);
    g_object_unref(buf);
}

/* Two paintings in two regions, restyled below the layer's size: each
 * region takes its painting, and the middle band, in no region, keeps the
 * photo's exact values at the layer's own size. */
static void test_regions(struct ns_context *ctx) {
    int w = 120, h = 80;
    GeglBuffer *photo = buffer_of(w, h, 0.4f, 0.5f, 0.45f);
    NsPainting ps[NS_MAX_PAINTINGS] = {{buffer_of(64, 64, 0.95f, 0.3f, 0.1f), band_of(w, h, 0, 40), 0, 0},
                                       {buffer_of(64, 64, 0.1f, 0.3f, 0.95f), band_of(w, h, 80, w), 0, 0}};
    NsRestyleParams p = ns_restyle_defaults();
    p.e.size = 96, p.e.iterations = 30, p.paintings = 2;
    p.region[0] = NS_REGION_CHOICE_CHANNEL, p.region[1] = NS_REGION_CHOICE_SELECTION;
    GeglRectangle area = {0, 0, w, h};
    GError *error = NULL;
    GeglBuffer *out = ns_restyle(ctx, photo, &area, NULL, 0, 0, ps, &p, NULL, NULL, &error);
    CHECK(out != NULL, "a run with two regions: %s", error ? error->message : "");
    if (out) {
        float *a = g_new(float, (size_t) w * h * 4), *b = g_new(float, (size_t) w * h * 4);
        gegl_buffer_get(photo, &area, 1.0, babl_format("R'G'B'A float"), a, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(out, &area, 1.0, babl_format("R'G'B'A float"), b, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        int differ = 0;
        double red[2] = {0, 0}, blue[2] = {0, 0};
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const float *pa = a + 4 * (y * w + x), *pb = b + 4 * (y * w + x);
                if (x >= 40 && x < 80) differ += memcmp(pa, pb, 4 * sizeof(float)) != 0;
                if (x < 40) red[0] += pa[0] - pa[2], red[1] += pb[0] - pb[2];
                if (x >= 80) blue[0] += pa[2] - pa[0], blue[1] += pb[2] - pb[0];
            }
        CHECK(differ == 0, "%d pixels outside every region differ from the photo", differ);
        CHECK(red[1] > red[0] + 0.1 * 40 * h && blue[1] > blue[0] + 0.1 * 40 * h,
              "each region takes its painting: red %.3f -> %.3f, blue %.3f -> %.3f", red[0] / (40 * h),
              red[1] / (40 * h), blue[0] / (40 * h), blue[1] / (40 * h));
        printf("regions: red %.3f -> %.3f, blue %.3f -> %.3f, the middle unchanged\n", red[0] / (40 * h),
               red[1] / (40 * h), blue[0] / (40 * h), blue[1] / (40 * h));
        g_free(a), g_free(b);
        g_object_unref(out);
    }
    g_clear_error(&error);
    for (int k = 0; k < 2; k++)
        g_object_unref(ps[k].buffer), g_object_unref(ps[k].region);
    g_object_unref(photo);
}

/* The procedures' arguments: today's order, so that existing scripts keep
 * working; the settings read and written by row. */
static void test_arguments(void) {
    static const char *const order[] = {"iterations",     "size",          "content-weight", "style-weight",
                                        "tv-weight",      "optimizer",     "init",           "preserve-colors",
                                        "style-scale",    "seed",          NULL /* device */, "precision",
                                        "pooling",        "content-layers", "style-layers",  "layer-weights",
                                        "activation-shift", "correlation-chain", "match-colors", "init-model"};
    CHECK(ns_restyle_n_args() == (int) G_N_ELEMENTS(order), "%d setting arguments", ns_restyle_n_args());
    for (int i = 0; i < (int) G_N_ELEMENTS(order); i++) {
        const struct ns_setting *s = ns_restyle_arg(i + 1);
        CHECK(order[i] ? s && !strcmp(s->name, order[i]) : !s, "argument %d is %s, not %s", i + 1,
              order[i] ? order[i] : "the device", s ? s->name : "the device");
    }
    CHECK(NS_RESTYLE_FIRST_ARGS == 12 && NS_RESTYLE_SECOND_ARGS == 19,
          "plug-in-neural-style takes 12 settings, plug-in-neural-style2 19");
    CHECK(ns_restyle_n_choices(ns_setting_find("init")) == 3, "a plug-in offers content, noise and a fast style, no image file");

    NsRestyleParams p = ns_restyle_defaults(), q = p;
    const struct ns_setting *shift = ns_setting_find("activation-shift");
    CHECK(p.e.iterations == 200 && !p.e.content_layers && !p.e.style_layers,
          "the plug-in's defaults: 200 iterations, strings kept in text");
    ns_restyle_set(&p, shift, -1);
    CHECK(p.e.activation_shift == -1 && ns_restyle_get(&p, shift) == -1, "a row is set and read back");
    CHECK(!ns_restyle_same_look(&p, &q), "a changed option changes the look");
    ns_restyle_set_text(&p, ns_setting_find("style-layers"), "relu1_1,relu2_1:0.5");
    struct ns_params e = ns_restyle_engine_params(&p);
    CHECK(e.style_layers && !strcmp(e.style_layers, "relu1_1,relu2_1:0.5") && !e.content_layers,
          "the strings reach the engine ('' = the default)");
    q = p;
    ns_restyle_set(&q, ns_setting_find("max-memory"), 3);
    CHECK(q.e.max_memory == 3e9 && ns_restyle_same_look(&p, &q), "the memory limit is GB, and not a look");
    p = ns_restyle_defaults();
    ns_restyle_keep_machine(&p, &q);
    CHECK(p.e.max_memory == 3e9 && p.e.activation_shift == 0, "a call keeps the machine's memory limit only");

    GError *error = NULL;
    ns_restyle_set(&p, shift, 2000);
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "activation shift") &&
              strstr(error->message, "between -1000 and 1000"),
          "an argument out of range is refused, not clamped: %s", error ? error->message : "accepted");
    g_clear_error(&error);
    p = ns_restyle_defaults();
    ns_restyle_set(&p, ns_setting_find("optimizer"), 2);
    CHECK(!ns_restyle_check_params(&p, &error) && error && strstr(error->message, "optimizer"),
          "an unknown choice is refused: %s", error ? error->message : "accepted");
    g_clear_error(&error);
}

/* The settings kept between GIMP sessions (remember.c): every row of the
 * table, the device and the paintings come back; a bad or unknown value
 * keeps the setting as it was; a file that cannot be written says so and
 * leaves nothing behind. */
static void test_remember(const char *dir) {
    NsRestyleParams p = ns_restyle_defaults(), q = ns_restyle_defaults(), d = ns_restyle_defaults();
    int n;
    const struct ns_setting *t = ns_settings(&n);
    for (int i = 0; i < n; i++) {
        const struct ns_setting *s = &t[i];
        double v = ns_restyle_get(&p, s);
        switch (s->type) {
        case NS_SETTING_STRING: ns_restyle_set_text(&p, s, "relu2_2,relu3_1:0.5"); break;
        case NS_SETTING_BOOL: ns_restyle_set(&p, s, !v); break;
        case NS_SETTING_CHOICE: ns_restyle_set(&p, s, v == 0 ? ns_restyle_n_choices(s) - 1 : 0); break;
        case NS_SETTING_U64: *(uint64_t *) ((char *) &p.e + s->offset) = 12345678901234ULL; break;
        default: {
            double hi = s->max > 1e6 ? 1e6 : s->max;
            double w = s->type == NS_SETTING_INT ? floor(s->min + 0.37 * (hi - s->min)) : s->min + 0.37 * (hi - s->min);
            ns_restyle_set(&p, s, w == v ? w + 1 : w);
        }
        }
    }
    p.device = NS_BACKEND_CPU, p.paintings = 3;
    p.blend[1] = 0.25, p.blend[2] = 2.5;
    p.region[0] = NS_REGION_CHOICE_SELECTION, p.region[2] = NS_REGION_CHOICE_CHANNEL;
    char *path = g_build_filename(dir, NS_REMEMBER_FILE, NULL);
    GError *error = NULL;
    CHECK(ns_remember_save(&p, path, &error), "the settings are saved: %s", error ? error->message : "");
    g_clear_error(&error);
    CHECK(ns_remember_load(&q, path), "the settings file is read");
    for (int i = 0; i < n; i++) {
        const struct ns_setting *s = &t[i];
        if (s->type == NS_SETTING_STRING)
            CHECK(!strcmp(ns_restyle_get_text(&q, s), ns_restyle_get_text(&p, s)), "%s comes back as '%s'", s->name,
                  ns_restyle_get_text(&q, s));
        else if (s->type == NS_SETTING_U64)
            CHECK(*(uint64_t *) ((char *) &q.e + s->offset) == 12345678901234ULL, "%s comes back", s->name);
        else
            CHECK(ns_restyle_get(&q, s) == ns_restyle_get(&p, s) && ns_restyle_get(&q, s) != ns_restyle_get(&d, s),
                  "%s comes back: %g, saved %g", s->name, ns_restyle_get(&q, s), ns_restyle_get(&p, s));
    }
    CHECK(q.device == NS_BACKEND_CPU && q.paintings == 3 && q.blend[1] == 0.25 && q.blend[2] == 2.5 &&
              q.region[0] == NS_REGION_CHOICE_SELECTION && q.region[1] == NS_REGION_CHOICE_WHOLE &&
              q.region[2] == NS_REGION_CHOICE_CHANNEL,
          "device %d, %d paintings, blend %g %g, regions %d %d %d", q.device, q.paintings, q.blend[1], q.blend[2],
          q.region[0], q.region[1], q.region[2]);

    /* values a hand or another version wrote: the bad ones keep the setting */
    const char *bad = "[settings]\niterations=many\npooling=median\ninit=image\nstyle-scale=100\n"
                      "tv-weight=-1\nnew-setting=3\nseed=7\n[plug-in]\ndevice=tpu\npaintings=9\nregion=7;1\n";
    CHECK(g_file_set_contents(path, bad, -1, NULL), "a hand-written file");
    q = ns_restyle_defaults();
    CHECK(ns_remember_load(&q, path), "a file with bad values is read");
    CHECK(q.e.iterations == d.e.iterations && q.e.pooling == d.e.pooling && q.e.init == d.e.init &&
              q.e.style_scale == d.e.style_scale && q.e.tv_weight == d.e.tv_weight && q.device == d.device &&
              q.paintings == d.paintings && q.region[0] == d.region[0],
          "bad values keep the settings: iterations %d, pooling %d, init %d, style scale %g, device %d, %d "
          "paintings, region %d",
          q.e.iterations, q.e.pooling, q.e.init, q.e.style_scale, q.device, q.paintings, q.region[0]);
    CHECK(q.e.seed == 7 && q.region[1] == NS_REGION_CHOICE_SELECTION, "the good ones are read beside them");

    q = ns_restyle_defaults();
    g_unlink(path);
    CHECK(!ns_remember_load(&q, path) && q.e.iterations == d.e.iterations, "no file: the settings stay");
    char *no_dir = g_build_filename(dir, "missing", NS_REMEMBER_FILE, NULL);
    CHECK(!ns_remember_save(&p, no_dir, &error) && error && strstr(error->message, no_dir),
          "an unwritable file is an error naming it: %s", error ? error->message : "(none)");
    CHECK(!g_file_test(no_dir, G_FILE_TEST_EXISTS), "and nothing is left");
    g_clear_error(&error);
    g_free(no_dir);
    g_free(path);
}

/* Neural Style (Fast) without GIMP: the table, the checks, the installed
 * styles, the run through a selection and the preview's composition. */
static void test_fast(const char *dir, struct ns_context *ctx) {
    gint n;
    const NsFastSetting *t = ns_fast_settings(&n);
    const char *names[] = {"style", "strength", "brush-size", "keep-colors", "device"};
    CHECK(n == 5, "five fast settings (%d)", n);
    for (int i = 0; i < n && i < 5; i++)
        CHECK(!strcmp(t[i].name, names[i]), "argument %d is %s (%s)", i, names[i], t[i].name);
    NsFastParams p = ns_fast_defaults();
    CHECK(p.strength == 100 && p.brush_size == 1 && !p.keep_colors && p.device == NS_BACKEND_AUTO && !p.style[0],
          "defaults: 100 %%, brush 1, the photo's colours off, auto");
    GError *error = NULL;
    CHECK(!ns_fast_check(&p, &error) && strstr(error->message, "Choose a style"), "no style is refused");
    g_clear_error(&error);
    ns_fast_set_style(&p, "candy");
    ns_fast_set(&p, &t[2], 9);
    CHECK(!ns_fast_check(&p, &error) && strstr(error->message, "Brush size must be between 0.25 and 8"),
          "brush size 9 is refused: %s", error ? error->message : "");
    g_clear_error(&error);
    ns_fast_set(&p, &t[2], 2);
    CHECK(ns_fast_check(&p, NULL) && ns_fast_get(&p, &t[2]) == 2, "brush size 2 is fine");

    /* kept between GIMP 2.10 sessions: read back as written; a value out of
     * range keeps the default */
    gchar *ini = g_build_filename(dir, NS_REMEMBER_FAST_FILE, NULL);
    p.strength = 35, p.keep_colors = TRUE, p.device = NS_BACKEND_CPU;
    CHECK(ns_remember_rows_save(t, n, &p, NS_REMEMBER_FAST_GROUP, " test", ini, NULL), "the fast settings are saved");
    NsFastParams back = ns_fast_defaults();
    CHECK(ns_remember_rows_load(t, n, &back, NS_REMEMBER_FAST_GROUP, ini) && !memcmp(&back, &p, sizeof p), "...and read back as they were");
    g_file_set_contents(ini, "[fast]\nbrush-size=12\nstrength=abc\nstyle=mosaic\n", -1, NULL);
    back = ns_fast_defaults();
    CHECK(ns_remember_rows_load(t, n, &back, NS_REMEMBER_FAST_GROUP, ini) && back.brush_size == 1 && back.strength == 100 &&
              !strcmp(back.style, "mosaic"), "bad values keep the defaults");
    g_free(ini);
    p.strength = 100, p.keep_colors = FALSE, p.device = NS_BACKEND_AUTO;

    /* installed: two good styles and a broken file, found sorted, the broken one left out */
    gchar *xdg = g_build_filename(dir, "xdg", NULL), *styles = g_build_filename(xdg, "neural-style", "styles", NULL);
    g_mkdir_with_parents(styles, 0755);
    g_setenv("XDG_DATA_HOME", xdg, TRUE);
    struct ns_style_model *m = test_style_model();
    char err[600];
    const char *files[] = {"zeta.safetensors", "alpha.safetensors"};
    for (int i = 0; i < 2; i++) {
        gchar *path = g_build_filename(styles, files[i], NULL);
        CHECK(ns_style_model_save(path, m, err, sizeof err) == NS_STATUS_OK, "%s saved: %s", files[i], err);
        g_free(path);
    }
    gchar *bad = g_build_filename(styles, "broken.safetensors", NULL);
    g_file_set_contents(bad, "not a model", -1, NULL);
    GPtrArray *found = ns_fast_styles();
    CHECK(found->len == 2 && !strcmp(((NsFastStyle *) found->pdata[0])->name, "alpha") &&
              !strcmp(((NsFastStyle *) found->pdata[1])->name, "zeta"),
          "the two usable styles, sorted (%u found)", found->len);
    gchar *tip = found->len ? ns_fast_style_tooltip(found->pdata[0]) : g_strdup("");
    CHECK(strstr(tip, "Test &quot;random&quot; style") && strstr(tip, "CC0"), "the hover text: %s", tip);
    g_free(tip);
    g_ptr_array_unref(found);
    CHECK(!ns_fast_load("nosuch", &error) && strstr(error->message, "./install.sh --styles"),
          "an unknown style says how to install styles");
    g_clear_error(&error);
    CHECK(!ns_fast_load("broken", &error) && error && strstr(error->message, "cannot be used"),
          "a broken style says so: %s", error ? error->message : "");
    g_clear_error(&error);

    /* the run on a 40 x 30 RGBA buffer through a selection of its left half */
    GeglRectangle all = {0, 0, 40, 30}, area = {0, 0, 40, 30};
    GeglBuffer *content = gegl_buffer_new(&all, babl_format("R'G'B'A float")),
               *mask = gegl_buffer_new(&all, babl_format("Y float"));
    float *px = g_new(float, 40 * 30 * 4), *sel = g_new0(float, 40 * 30);
    for (int i = 0; i < 40 * 30; i++) {
        for (int c = 0; c < 3; c++) px[4 * i + c] = (float) ((i * (c + 3)) % 97) / 96.0f;
        px[4 * i + 3] = (i % 40) < 5 ? 0.5f : 1.0f;
        sel[i] = (i % 40) < 20;
    }
    gegl_buffer_set(content, &all, 0, babl_format("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_set(mask, &all, 0, babl_format("Y float"), sel, GEGL_AUTO_ROWSTRIDE);
    ns_fast_set(&p, &t[2], 1);
    GeglBuffer *out = ns_fast_restyle(ctx, m, content, &area, mask, 0, 0, &p, NULL, NULL, &error);
    CHECK(out != NULL, "the run: %s", error ? error->message : "");
    if (out) {
        float *got = g_new(float, 40 * 30 * 4);
        gegl_buffer_get(out, &all, 1.0, babl_format("R'G'B'A float"), got, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        double inside = 0, outside = 0;
        int alpha = 0;
        for (int i = 0; i < 40 * 30; i++) {
            for (int c = 0; c < 3; c++) {
                double d = fabs(got[4 * i + c] - px[4 * i + c]);
                if (sel[i]) inside += d / (20 * 30 * 3);
                else outside = fmax(outside, d);
            }
            alpha += got[4 * i + 3] == px[4 * i + 3];
        }
        CHECK(inside > 0.05 && outside == 0 && alpha == 40 * 30,
              "through the selection: mean %.3f inside, max %.3g outside, %d alphas kept", inside, outside, alpha);
        g_free(got);
        g_object_unref(out);
    }
    g_clear_error(&error);

    /* the preview: strength 0 is the photo; 100 the network's result */
    struct ns_image photo = ns_fast_read(content, 0, 24, 16), styled;
    CHECK(photo.width == 24 && photo.height == 16, "the preview's crop is 24 x 16 (%d x %d)", photo.width, photo.height);
    CHECK(ns_fast_style_image(ctx, m, &photo, 1.0, &styled, NULL, NULL, NULL), "the preview's network");
    p.strength = 0;
    guchar *rgb = ns_fast_compose8(&photo, &styled, &p);
    int same = 0;
    for (int i = 0; i < 24 * 16 * 3; i++) same += rgb[i] == (guchar) (CLAMP(photo.data[i], 0, 1) * 255 + 0.5f);
    CHECK(same == 24 * 16 * 3, "strength 0 shows the photo (%d of %d)", same, 24 * 16 * 3);
    g_free(rgb);
    g_free(photo.data), g_free(styled.data);
    g_free(px), g_free(sel);
    g_object_unref(content), g_object_unref(mask);
    ns_style_model_free(m);
    g_unsetenv("XDG_DATA_HOME");
    g_free(bad), g_free(styles), g_free(xdg);
}

static void save_png(GeglBuffer *buf, const char *path) {
    GeglNode *graph = gegl_node_new();
    GeglNode *src = gegl_node_new_child(graph, "operation", "gegl:buffer-source", "buffer", buf, NULL);
    GeglNode *save = gegl_node_new_child(graph, "operation", "gegl:png-save", "path", path, "bitdepth", 8, NULL);
    gegl_node_link(src, save);
    gegl_node_process(save);
    g_object_unref(graph);
}

/* Polls a run until it ends or `until_step` steps are done (0 = the end),
 * at most two minutes: the last progress seen. */
static NsTrainProgress follow(NsTrainJob *job, int until_step) {
    NsTrainProgress now = {0};
    for (int i = 0; i < 1200; i++) {
        ns_train_progress_clear(&now);
        ns_train_poll(job, &now);
        if (now.state >= NS_TRAIN_DONE || (until_step && now.step >= until_step)) break;
        g_usleep(100000);
    }
    return now;
}

/* Train Neural Style without GIMP: the table, the checks, and real runs of
 * the command line (build/neural-style on PATH) as a process of its own:
 * to the end, stopped and resumed, refused for too few photos. */
static void test_train(const char *dir) {
    gint n;
    const NsFastSetting *t = ns_train_settings(&n);
    const char *names[] = {"name", "photos", "steps", "size", "device"};
    CHECK(n == 5, "five training settings (%d)", n);
    for (int i = 0; i < n && i < 5; i++)
        CHECK(!strcmp(t[i].name, names[i]), "argument %d is %s (%s)", i, names[i], t[i].name);
    NsTrainParams p = ns_train_defaults();
    CHECK(p.steps == 2000 && p.size == 256 && p.device == NS_BACKEND_AUTO, "defaults: 2000 steps, 256 px, auto");
    ns_train_name_from(&p, "autumn-oak.jpg");
    CHECK(!strcmp(p.name, "autumn-oak"), "the name from the layer's: %s", p.name);
    ns_train_name_from(&p, ".hidden/odd");
    CHECK(!strchr(p.name, '/') && p.name[0] != '.', "no '/' nor leading '.': %s", p.name);

    /* the command line this test was built beside: build/neural-style */
    gchar *here = ns_restyle_plugin_dir(), *build = g_path_get_dirname(here);
    gchar *path = g_strconcat(build, ":", g_getenv("PATH"), NULL);
    g_setenv("PATH", path, TRUE);
    g_free(here), g_free(build), g_free(path);
    /* under test-asan the trainer is built with LeakSanitizer too: babl's
     * own caches (babl_malloc at init) are not ours to free.  ASan read this
     * process's options at its start, so this reaches only the trainer. */
    gchar *supp = g_build_filename(dir, "lsan.supp", NULL), *lsan = g_strdup_printf("suppressions=%s:print_suppressions=0", supp);
    g_file_set_contents(supp, "leak:babl_malloc\n", -1, NULL);
    g_setenv("LSAN_OPTIONS", lsan, TRUE);
    g_free(supp), g_free(lsan);
    gchar *xdg = g_build_filename(dir, "train-xdg", NULL), *photos = g_build_filename(dir, "photos", NULL),
          *few = g_build_filename(dir, "few", NULL);
    g_mkdir_with_parents(photos, 0755), g_mkdir_with_parents(few, 0755);
    g_setenv("XDG_DATA_HOME", xdg, TRUE);
    for (int i = 0; i < 5; i++) {
        GeglBuffer *b = buffer_of(48 + 8 * i, 40, 0.2f * i, 0.5f, 0.8f - 0.1f * i);
        gchar *f = g_strdup_printf("%s/photo%d.png", i < 4 ? photos : few, i);
        save_png(b, f);
        g_object_unref(b), g_free(f);
    }
    GeglBuffer *painting = buffer_of(64, 64, 0.9f, 0.4f, 0.1f);
    GError *error = NULL;
    g_strlcpy(p.photos, photos, sizeof p.photos);
    g_strlcpy(p.name, "a/b", sizeof p.name);
    CHECK(!ns_train_check(&p, &error) && strstr(error->message, "name"), "a name with '/' is refused");
    g_clear_error(&error);
    g_strlcpy(p.name, "oak", sizeof p.name);
    g_strlcpy(p.photos, "/nonexistent", sizeof p.photos);
    CHECK(!ns_train_check(&p, &error) && strstr(error->message, "folder"), "a missing folder is refused");
    g_clear_error(&error);
    g_strlcpy(p.photos, photos, sizeof p.photos);
    p.size = 32, p.steps = 3, p.device = NS_BACKEND_CPU;

    /* the estimate: measured once on the painting, then remembered */
    gdouble sec = ns_train_step_seconds(&p, painting), again = ns_train_step_seconds(&p, NULL);
    CHECK(sec > 0 && fabs(again - sec) < 1e-5 * sec, "a step's seconds measured (%g) and kept (%g)", sec, again);
    NsTrainParams big = p;
    big.size = 64;
    CHECK(fabs(ns_train_step_seconds(&big, NULL) - 4 * again) < 1e-6 * again, "twice the size, four times the time");

    /* to the end: the model where Neural Style (Fast) finds it */
    NsTrainJob *job = ns_train_start(&p, painting, &error);
    CHECK(job != NULL, "training starts: %s", error ? error->message : "");
    g_clear_error(&error);
    if (job) {
        NsTrainProgress end = follow(job, 0);
        CHECK(end.state == NS_TRAIN_DONE && end.step == 3, "it ends done after 3 steps (state %d, step %d: %s)",
              end.state, end.step, end.message ? end.message : "");
        CHECK(end.sample != NULL, "a sample photo shows the style: %s", end.sample ? end.sample : "none");
        gchar *text = ns_train_progress_text(&end, "oak");
        CHECK(strstr(text, "Neural Style (Fast)"), "the end says where the style is: %s", text);
        g_free(text), ns_train_progress_clear(&end);
        ns_train_job_free(job);
        GPtrArray *styles = ns_fast_styles();
        CHECK(styles->len == 1 && !strcmp(((NsFastStyle *) styles->pdata[0])->name, "oak"),
              "Neural Style (Fast) lists it (%u styles)", styles->len);
        g_ptr_array_unref(styles);
        CHECK(!ns_train_check(&p, &error) && strstr(error->message, "installed already"),
              "training the same name again is refused, not overwritten");
        g_clear_error(&error);
    }

    /* stopped: a checkpoint, which the next start resumes to the same end */
    g_strlcpy(p.name, "oak2", sizeof p.name);
    p.steps = 400;
    job = ns_train_start(&p, painting, NULL);
    if (job) {
        NsTrainProgress mid = follow(job, 2);
        ns_train_stop(job);
        ns_train_progress_clear(&mid);
        mid = follow(job, 0);
        CHECK(mid.state == NS_TRAIN_STOPPED && mid.step >= 2 && mid.step < 400, "Stop ends it at step %d (state %d: %s)",
              mid.step, mid.state, mid.message ? mid.message : "");
        CHECK(ns_train_resumable(&p) && ns_train_check(&p, NULL), "with a checkpoint to resume");
        gchar *text = ns_train_progress_text(&mid, "oak2");
        CHECK(strstr(text, "goes on"), "the window says it goes on from there: %s", text);
        int stopped = mid.step;
        g_free(text), ns_train_progress_clear(&mid), ns_train_job_free(job);
        p.steps = stopped + 2;
        job = ns_train_start(&p, painting, NULL);
        NsTrainProgress end = job ? follow(job, 0) : (NsTrainProgress){0};
        CHECK(end.state == NS_TRAIN_DONE && end.step == stopped + 2, "resumed at %d, done at %d (state %d: %s)",
              stopped, end.step, end.state, end.message ? end.message : "");
        ns_train_progress_clear(&end), ns_train_job_free(job);
    }

    /* too few photos: the trainer's sentence */
    g_strlcpy(p.name, "few", sizeof p.name);
    g_strlcpy(p.photos, few, sizeof p.photos);
    job = ns_train_start(&p, painting, NULL);
    NsTrainProgress fail = job ? follow(job, 0) : (NsTrainProgress){0};
    CHECK(fail.state == NS_TRAIN_FAILED && fail.message && strstr(fail.message, "at least"),
          "one photo fails with how many are needed: %s", fail.message ? fail.message : "");
    ns_train_progress_clear(&fail), ns_train_job_free(job);

    g_object_unref(painting);
    g_unsetenv("XDG_DATA_HOME");
    g_free(xdg), g_free(photos), g_free(few);
}

int main(void) {
    char cache[] = "/tmp/ns-test-plugin-XXXXXX";
    g_assert(g_mkdtemp(cache));
    g_setenv("XDG_CACHE_HOME", cache, TRUE);
    g_setenv("LANGUAGE", "C", TRUE);
    gegl_init(NULL, NULL);

    snprintf(weights_path, sizeof weights_path, "%s/vgg.safetensors", cache);
    struct ns_weights wt;
    random_weights(&wt, 19, 5);
    write_safetensors(weights_path, &wt, NULL);
    ns_weights_free(&wt);
    g_setenv("NS_WEIGHTS", weights_path, TRUE);

    test_strength();
    test_arguments();
    test_remember(cache);
    GError *error = NULL;
    struct ns_context *ctx = ns_restyle_open(NS_BACKEND_CPU, &error);
    CHECK(ctx != NULL, "the engine opens: %s", error ? error->message : "");
    if (ctx) {
        test_estimate(ctx);
        test_preview(ctx);
        test_timings_file(ctx);
        test_presets(ctx);
        test_transparent_border();
        test_regions(ctx);
        test_fast(cache, ctx);
        ns_context_free(ctx);
    }
    test_train(cache);
    gchar *cmd = g_strdup_printf("rm -rf %s", cache);
    if (g_getenv("NS_KEEP_TEST_DIR")) fprintf(stderr, "kept %s\n", cache);
    else if (system(cmd)) fprintf(stderr, "cannot remove %s\n", cache);
    g_free(cmd);
    /* no gegl_exit(): it unloads GEGL's modules, whose caches LeakSanitizer would then count */
    return test_summary("test_plugin");
}
