/* train_step.c - one training step of the engine, for the PyTorch
 * reference (tests/train_reference.py, run by run_reference_tests.sh).
 *
 *   train_step WEIGHTS PAINTING.ppm OUTDIR START.safetensors CROP.ppm...
 *
 * START: the network to start from (a network at PyTorch's first weights
 * gives a black image, where VGG's ReLUs sit at their kinks and float32
 * and float64 disagree by 1e-3; a network whose output is photo-like is
 * where training spends its time).
 * Writes OUTDIR/init.safetensors (the network before), grad.safetensors
 * (the step's mean gradients), after.safetensors (after Adam) and prints
 * the step's terms as JSON.  Size 64, learning rate 0.01, seed 5, the
 * exact method's default layers and weights. */
#include "fftrain.h"
#include "ns.h"

#include <stdio.h>
#include <stdlib.h>

/* An 8-bit binary PPM as R'G'B' floats (the reference reads the same file). */
static float *read_ppm(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    int maxval;
    float *px = NULL;
    if (f && fscanf(f, "P6 %d %d %d", w, h, &maxval) == 3 && maxval == 255 && fgetc(f) != EOF) {
        size_t n = (size_t) 3 * *w * *h;
        unsigned char *b = malloc(n);
        px = malloc(sizeof(float) * n);
        if (b && px && fread(b, 1, n, f) == n)
            for (size_t i = 0; i < n; i++)
                px[i] = b[i] / 255.0f;
        else
            free(px), px = NULL;
        free(b);
    }
    if (f) fclose(f);
    if (!px) fprintf(stderr, "train_step: cannot read %s\n", path);
    return px;
}

static int save(struct ns_style_model *m, const char *dir, const char *name) {
    char path[4096], err[600];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    if (ns_style_model_save(path, m, err, sizeof err)) {
        fprintf(stderr, "train_step: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: train_step WEIGHTS PAINTING.ppm OUTDIR START.safetensors CROP.ppm...\n");
        return 2;
    }
    int n = argc - 5, pw, ph;
    struct ns_image crops[8];
    float *paint = read_ppm(argv[2], &pw, &ph);
    if (!paint || n > 8) return 1;
    for (int k = 0; k < n; k++) {
        int w, h;
        float *px = read_ppm(argv[5 + k], &w, &h);
        if (!px) return 1;
        crops[k] = (struct ns_image){px, w, h, 3, 3 * w};
    }
    struct ns_context *ctx = NULL;
    if (ns_context_new(argv[1], NS_BACKEND_CPU, &ctx)) {
        fprintf(stderr, "train_step: %s\n", ctx ? ns_last_error(ctx) : "no context");
        return 1;
    }
    struct ns_train_params p = ns_train_params_default();
    p.size = crops[0].width, p.batch = n, p.start = argv[4], p.threads = 2;
    struct ns_image painting = {paint, pw, ph, 3, 3 * pw};
    struct ns_trainer *t = NULL;
    struct ns_style_model *m = NULL;
    struct ns_train_terms terms;
    int rc = 1;
    if (ns_trainer_new(ctx, &painting, &p, NULL, &t) || ns_trainer_model(t, &m) || save(m, argv[3], "init") ||
        ns_trainer_step(t, crops, n, &terms)) {
        fprintf(stderr, "train_step: %s\n", ns_last_error(ctx));
    } else {
        struct ns_style_model *g = NULL, *after = NULL;
        if (!ns_trainer_gradients(t, &g) && !save(g, argv[3], "grad") && !ns_trainer_model(t, &after) &&
            !save(after, argv[3], "after")) {
            printf("{\"loss\": %.10g, \"content\": %.10g, \"style\": %.10g, \"tv\": %.10g}\n", terms.loss,
                   terms.content, terms.style, terms.tv);
            rc = 0;
        }
        ns_style_model_free(g), ns_style_model_free(after);
    }
    ns_style_model_free(m);
    ns_trainer_free(t);
    ns_context_free(ctx);
    for (int k = 0; k < n; k++)
        free(crops[k].data);
    free(paint);
    return rc;
}
