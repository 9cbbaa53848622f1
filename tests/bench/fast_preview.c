/* fast_preview.c - what Neural Style (Fast)'s dialog computes for its
 * preview, timed (make bench-fast): the network over the middle of the
 * photo at 1:1 (plugin/fast-dialog.c's crop) at brush sizes 1 and 2, in
 * the preview's thread, and the composition that Strength and Keep colours
 * redo at once.  The median of 5 runs each.
 *   fast_preview MODEL PHOTO.ppm THREADS W H */
#include "ns.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* A binary PPM (8-bit) as R'G'B' floats, or data NULL. */
static struct ns_image read_ppm(const char *path) {
    struct ns_image im = {NULL, 0, 0, 3, 0};
    FILE *f = fopen(path, "rb");
    int max = 0;
    if (!f || fscanf(f, "P6 %d %d %d", &im.width, &im.height, &max) != 3 || max != 255 || fgetc(f) == EOF) {
        if (f) fclose(f);
        return im;
    }
    size_t n = (size_t) im.width * im.height * 3;
    unsigned char *b = malloc(n);
    im.data = malloc(n * sizeof(float));
    if (b && im.data && fread(b, 1, n, f) == n)
        for (size_t i = 0; i < n; i++) im.data[i] = b[i] / 255.0f;
    else
        free(im.data), im.data = NULL;
    im.stride = im.width * 3;
    free(b);
    fclose(f);
    return im;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: fast_preview MODEL PHOTO.ppm THREADS W H\n");
        return 2;
    }
    struct ns_style_model *m = NULL;
    struct ns_context *ctx = NULL;
    char err[600];
    int threads = atoi(argv[3]), cw = atoi(argv[4]), ch = atoi(argv[5]);
    struct ns_image photo = read_ppm(argv[2]);
    if (!photo.data || ns_style_model_load(argv[1], &m, err, sizeof err) ||
        ns_context_new_device(NS_BACKEND_CPU, 0, &ctx) || ns_context_set_threads(ctx, threads, NULL)) {
        fprintf(stderr, "fast_preview: cannot start (%s)\n", photo.data ? err : "the photo");
        return 1;
    }
    /* the middle of the photo, cw x ch at 1:1 */
    int x0 = (photo.width - cw) / 2, y0 = (photo.height - ch) / 2;
    struct ns_image crop = {photo.data + (size_t) y0 * photo.stride + (size_t) x0 * 3, cw, ch, 3, photo.stride};
    struct ns_image out = {malloc(sizeof(float) * cw * ch * 3), cw, ch, 3, cw * 3};
    struct ns_image mix = {malloc(sizeof(float) * cw * ch * 3), cw, ch, 3, cw * 3};
    struct ns_image flat = {malloc(sizeof(float) * cw * ch * 3), cw, ch, 3, cw * 3};
    for (int y = 0; y < ch; y++) memcpy(flat.data + (size_t) y * cw * 3, crop.data + (size_t) y * crop.stride,
                                        sizeof(float) * cw * 3);
    for (int brush = 1; brush <= 2; brush++) {
        double t[5];
        struct ns_stylize_params p = ns_stylize_params_default();
        p.brush_size = (float) brush, p.threads = threads;
        for (int r = 0; r < 5; r++) {
            double t0 = now();
            if (ns_stylize(ctx, m, &flat, &p, &out)) {
                fprintf(stderr, "fast_preview: %s\n", ns_last_error(ctx));
                return 1;
            }
            t[r] = now() - t0;
        }
        qsort(t, 5, sizeof t[0], by_value);
        printf("| the preview's network, %d x %d at 1:1, brush size %d | %.2f s |\n", cw, ch, brush, t[2]);
    }
    double t[5];
    for (int r = 0; r < 5; r++) { /* Keep colours and a strength: plugin/fast.c's ns_fast_compose8 */
        double t0 = now();
        memcpy(mix.data, out.data, sizeof(float) * cw * ch * 3);
        ns_preserve_colors(&flat, &mix);
        for (size_t i = 0; i < (size_t) cw * ch * 3; i++) mix.data[i] = 0.3f * mix.data[i] + 0.7f * flat.data[i];
        t[r] = now() - t0;
    }
    qsort(t, 5, sizeof t[0], by_value);
    printf("| Strength or Keep colours changed (the kept result composed again) | %.3f s |\n", t[2]);
    free(out.data), free(mix.data), free(flat.data), free(photo.data);
    ns_style_model_free(m);
    ns_context_free(ctx);
    return 0;
}
