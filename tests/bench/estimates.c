/* estimates.c - the dialog's time estimates against measured runs, and the
 * preview's time, on the engine as the plug-in drives it (make
 * bench-estimates, make bench-preview).
 *
 *   estimates WEIGHTS PHOTO.ppm PAINTING.ppm FINAL.ppm [busy]
 *   estimates --preview WEIGHTS PHOTO.ppm PAINTING.ppm [busy]
 *
 * Like the plug-in, it keeps the last eight timings (divided by how much
 * other work slowed each run), estimates each case from them with
 * ns_plan_seconds times ns_context_slowdown, then runs it and records it.
 * "busy" starts two spinning processes first (another job on 2 cores).
 * Prints markdown table rows. */
#include "ns.h"
#include "bench.h"

#ifndef NS_PREVIEW_SIDE /* plugin/preview.c's caps */
#define NS_PREVIEW_SIDE  96
#define NS_PREVIEW_ITS   20
#define NS_PREVIEW_STYLE 384
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A binary 8-bit PPM as float RGB. */
static struct ns_image read_ppm(const char *path) {
    struct ns_image im = {0};
    FILE *f = fopen(path, "rb");
    int w, h, max;
    if (!f || fscanf(f, "P6 %d %d %d", &w, &h, &max) != 3 || fgetc(f) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    unsigned char *b = malloc((size_t) w * h * 3);
    if (fread(b, 3, (size_t) w * h, f) != (size_t) w * h) exit(1);
    fclose(f);
    im = (struct ns_image){malloc(sizeof(float) * w * h * 3), w, h, 3, 3 * w};
    for (size_t i = 0; i < (size_t) w * h * 3; i++)
        im.data[i] = b[i] / 255.0f;
    free(b);
    return im;
}

static struct ns_timing past[8];
static int n_past;

static void record(struct ns_context *ctx, struct ns_work work, double seconds) {
    memmove(past + 1, past, sizeof past[0] * (n_past < 7 ? n_past : 7));
    past[0] = (struct ns_timing){work, seconds / ns_context_last_slowdown(ctx)};
    if (n_past < 8) n_past++;
}

static bool last_elapsed(const struct ns_progress *p, void *ud) {
    *(double *) ud = p->elapsed;
    return true;
}

/* One case: estimate, run, record; a table row. */
static void run_case(struct ns_context *ctx, const char *label, const struct ns_image *photo,
                     const struct ns_image *painting, int size, int iterations, const char *machine) {
    struct ns_params p = ns_params_default();
    p.size = size, p.iterations = iterations;
    struct ns_plan_info plan;
    ns_plan(ctx, &p, photo->width, photo->height, painting->width, painting->height, NS_PLAN_FIT_SIZE, &plan);
    double busy = ns_context_slowdown(ctx);
    double est = ns_plan_seconds(ctx, &plan, past, n_past) * busy;
    p.size = plan.size;
    struct ns_image r = {malloc(sizeof(float) * 3 * plan.width * plan.height), plan.width, plan.height, 3,
                         3 * plan.width};
    double elapsed = 0, t0 = now();
    if (ns_run(ctx, photo, painting, 1, &p, last_elapsed, &elapsed, &r)) {
        fprintf(stderr, "%s\n", ns_last_error(ctx));
        exit(1);
    }
    double wall = now() - t0;
    printf("| %s | %d × %d | %d | %s | %.1f | %.1f | %+.0f %% |\n", label, plan.width, plan.height, iterations,
           machine, est, wall, 100 * (est - wall) / wall);
    fflush(stdout);
    record(ctx, plan.work, elapsed);
    free(r.data);
}

/* The plug-in's preview: at most 128 px of the photo at the work size
 * (Draft: 512), 30 steps, the painting at most 512 px (plugin/preview.c). */
static void preview(struct ns_context *ctx, const struct ns_image *photo, const struct ns_image *painting,
                    const char *machine) {
    double scale = 512.0 / (photo->width > photo->height ? photo->width : photo->height);
    int cw = NS_PREVIEW_SIDE, ch = NS_PREVIEW_SIDE, sw = (int) (painting->width * scale), sh = (int) (painting->height * scale);
    struct ns_image crop = {malloc(sizeof(float) * 3 * cw * ch), cw, ch, 3, 3 * cw};
    struct ns_image small = {malloc(sizeof(float) * 3 * sw * sh), sw, sh, 3, 3 * sw};
    struct ns_image scaled = {malloc(sizeof(float) * 3 * 512 * 512), (int) (photo->width * scale),
                              (int) (photo->height * scale), 3, 3 * (int) (photo->width * scale)};
    ns_resize(photo, &scaled);
    for (int y = 0; y < ch; y++)
        memcpy(crop.data + (size_t) y * crop.stride,
               scaled.data + (size_t) (y + (scaled.height - ch) / 2) * scaled.stride + 3 * ((scaled.width - cw) / 2),
               sizeof(float) * 3 * cw);
    ns_resize(painting, &small);
    struct ns_params p = ns_params_default();
    p.size = 0, p.iterations = NS_PREVIEW_ITS, p.style_scale = (float) NS_PREVIEW_STYLE / NS_PREVIEW_SIDE;
    struct ns_image r = {malloc(sizeof(float) * 3 * cw * ch), cw, ch, 3, 3 * cw};
    double elapsed = 0, t0 = now();
    ns_run(ctx, &crop, &small, 1, &p, last_elapsed, &elapsed, &r);
    printf("| preview (%d px at Draft's scale, %d steps) | %s | %.1f s |\n", NS_PREVIEW_SIDE, NS_PREVIEW_ITS, machine, now() - t0);
    fflush(stdout);
    free(crop.data), free(small.data), free(scaled.data), free(r.data);
}

static pid_t spinners[2];

static void start_busy(void) {
    for (int i = 0; i < 2; i++)
        if ((spinners[i] = fork()) == 0)
            for (volatile unsigned long x = 0;; x++)
                ;
    sleep(2);
}

static void stop_busy(void) {
    for (int i = 0; i < 2; i++)
        if (spinners[i] > 0) kill(spinners[i], SIGKILL), waitpid(spinners[i], NULL, 0);
}

int main(int argc, char **argv) {
    bool only_preview = argc > 1 && !strcmp(argv[1], "--preview");
    char **a = argv + only_preview;
    int n = argc - only_preview;
    if (n < (only_preview ? 4 : 5)) {
        fprintf(stderr, "usage: estimates WEIGHTS PHOTO.ppm PAINTING.ppm FINAL.ppm [busy]\n"
                        "       estimates --preview WEIGHTS PHOTO.ppm PAINTING.ppm [busy]\n");
        return 2;
    }
    bool busy = !strcmp(a[n - 1], "busy");
    const char *machine = busy ? "busy (2 other threads)" : "idle";
    struct ns_context *ctx;
    if (ns_context_new(a[1], NS_BACKEND_CPU, &ctx)) return 1;
    struct ns_image photo = read_ppm(a[2]), painting = read_ppm(a[3]);
    if (busy) start_busy();
    if (only_preview) {
        for (int i = 0; i < 3; i++)
            preview(ctx, &photo, &painting, machine);
        stop_busy();
        return 0;
    }
    struct ns_image final = read_ppm(a[4]);
    /* what a photographer has done before: one small run */
    struct ns_params p = ns_params_default();
    p.size = 192, p.iterations = 20;
    struct ns_image r = {malloc(sizeof(float) * 3 * 192 * 192), 0, 0, 3, 0};
    ns_output_size(&p, photo.width, photo.height, &r.width, &r.height);
    r.stride = 3 * r.width;
    double elapsed = 0;
    ns_run(ctx, &photo, &painting, 1, &p, last_elapsed, &elapsed, &r);
    record(ctx, ns_estimate_work(ctx, &p, photo.width, photo.height, painting.width, painting.height), elapsed);
    free(r.data);
    preview(ctx, &photo, &painting, machine); /* recorded apart by the plug-in: not here */
    static const int its[] = {20, 200};
    for (int k = 0; k < 2; k++) {
        run_case(ctx, "Custom 256", &photo, &painting, 256, its[k], machine);
        run_case(ctx, "Draft", &photo, &painting, 512, its[k], machine);
        run_case(ctx, "Final", &final, &painting, 0, its[k], machine);
    }
    stop_busy();
    ns_context_free(ctx);
    return 0;
}
