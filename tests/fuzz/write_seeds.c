/* write_seeds.c - the fuzz targets' starting corpora, so that mutations
 * start inside the format rather than from nothing:
 *   DIR: small weights files the loader accepts (one layer of VGG-19 and of
 *        VGG-16, each convention);
 *   KERAS_DIR: recipes (keras_recipe.h) for Keras files the importer
 *        accepts (one layer; one through a soft link; two under
 *        model_weights/ with fixed-length names, a float64 kernel and a
 *        big-endian bias) and for the ones it must refuse (a 2^31 x 2^31
 *        x 1 x 1 kernel, NaN, a bias of 2^32, names through external and
 *        looping links, a layer group that is a dataset, an integer
 *        weight_names, an external dataset). */
#include "../testlib.h"
#include "keras_recipe.h"

#include <stdarg.h>

struct seed {
    uint8_t b[512];
    size_t n;
};

/* Appends n bytes. */
static void put(struct seed *s, int n, ...) {
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int v = va_arg(ap, int);
        if (s->n < sizeof s->b) s->b[s->n++] = (uint8_t) v;
    }
    va_end(ap);
}

static int dim(uint64_t v) {
    for (size_t i = 0; i < KR_N_DIMS; i++)
        if (kr_dims[i] == v) return (int) i;
    fprintf(stderr, "write_seeds: no dimension %llu in kr_dims\n", (unsigned long long) v);
    exit(1);
}

/* A group: conv byte, attribute kind, then names (dataset indices or
 * KR_NAME_*) and datasets follow through put. */
static void group(struct seed *s, int block, int index, bool as_dataset, int kind, int n_names, int n_ds) {
    put(s, 4, ((block - 1) << 4) | (index - 1) | (as_dataset ? 8 : 0), kind, n_names, n_ds);
}

/* A dataset of rank 4 (d3 >= 0) or 1 (only d0). */
static void dataset(struct seed *s, int rank, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3, int type,
                    int storage, int seed, int poison) {
    put(s, 1, rank);
    const uint64_t d[4] = {d0, d1, d2, d3};
    for (int i = 0; i < rank; i++)
        put(s, 1, dim(d[i]));
    put(s, 5, type, storage, seed, poison, 3);
}

static bool write_seed(const char *dir, const char *name, const struct seed *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(s->b, 1, s->n, f) == s->n;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "write_seeds: cannot write %s\n", path);
    return ok;
}

static bool keras_seeds(const char *dir) {
    bool ok = true;
    struct seed s = {{0}, 0};
    /* conv1_1 as Keras writes it: variable-length names, kernel, bias */
    put(&s, 2, 0, 0);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 3, 3, 3, 64, KR_F32LE, KR_CONTIGUOUS, 7, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    ok = ok && write_seed(dir, "keras-one-layer", &s);

    /* a whole-model save: conv1_1 and conv1_2 under model_weights/, fixed-length
     * names (bias first), a float64 kernel in chunks, a big-endian bias */
    s.n = 0;
    put(&s, 2, KR_FLAG_MODEL_WEIGHTS, 1);
    group(&s, 1, 1, false, KR_ATTR_FIXED, 2, 2);
    put(&s, 2, 1, 0);
    dataset(&s, 4, 3, 3, 3, 64, KR_F64LE, KR_CHUNKED_DATA, 1, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32BE, KR_COMPACT, 2, 0);
    group(&s, 1, 2, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 3, 3, 64, 64, KR_F32LE, KR_DEFLATE, 3, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F64BE, KR_CONTIGUOUS, 4, 0);
    ok = ok && write_seed(dir, "keras-two-layers", &s);

    /* the kernel whose byte count wrapped to 0: 2^31 x 2^31 x 1 x 1 */
    s.n = 0;
    put(&s, 2, 0, 0);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 1ull << 31, 1ull << 31, 1, 1, KR_F32LE, KR_CHUNKED, 0, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    ok = ok && write_seed(dir, "keras-huge-kernel", &s);

    /* a NaN in the kernel, a bias of 2^32 (its fill value infinite) */
    s.n = 0;
    put(&s, 2, 0, 1);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 3, 3, 3, 64, KR_F32LE, KR_CONTIGUOUS, 5, 1);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    group(&s, 1, 2, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 3, 3, 64, 64, KR_F32LE, KR_CHUNKED, 0, 0);
    dataset(&s, 1, 1ull << 32, 0, 0, 0, KR_F32LE, KR_CHUNKED, 0, 2);
    ok = ok && write_seed(dir, "keras-nan-and-long-bias", &s);

    /* the kernel through a soft link; names through an external link, a
     * soft link to itself, with a newline, to the group itself */
    s.n = 0;
    put(&s, 2, 0, 0);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, KR_NAME_SOFT, 1);
    dataset(&s, 4, 3, 3, 3, 64, KR_F32LE, KR_CONTIGUOUS, 7, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    ok = ok && write_seed(dir, "keras-soft-link", &s);
    s.n = 0;
    put(&s, 2, 0, 0);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 5, 2);
    put(&s, 5, KR_NAME_EXTERNAL, KR_NAME_LOOP, KR_NAME_NEWLINE, KR_NAME_GROUP, 1);
    dataset(&s, 4, 3, 3, 3, 64, KR_F32LE, KR_CONTIGUOUS, 7, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    ok = ok && write_seed(dir, "keras-bad-names", &s);

    /* conv1_1 stored outside the file, conv1_2 a dataset, an integer
     * weight_names, and block4_conv1 without block3_conv4 (VGG-16) */
    s.n = 0;
    put(&s, 2, 0, 2);
    group(&s, 1, 1, false, KR_ATTR_VLEN, 2, 2);
    put(&s, 2, 0, 1);
    dataset(&s, 4, 3, 3, 3, 64, KR_F32LE, KR_EXTERNAL, 7, 0);
    dataset(&s, 1, 64, 0, 0, 0, KR_F32LE, KR_CONTIGUOUS, 9, 0);
    group(&s, 1, 2, true, KR_ATTR_NONE, 0, 0);
    group(&s, 4, 1, false, KR_ATTR_INT, 2, 0);
    put(&s, 2, 0, 0);
    ok = ok && write_seed(dir, "keras-odd-storage", &s);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: write_seeds DIR [KERAS_DIR]\n");
        return 2;
    }
    static const char *const metas[] = {
        NULL,
        "\"architecture\":\"vgg16\",\"input_channel_order\":\"RGB\",\"input_range\":\"0..1\","
        "\"input_mean\":\"0.485,0.456,0.406\",\"input_std\":\"0.229,0.224,0.225\"",
    };
    for (int i = 0; i < 2; i++) {
        struct ns_weights w;
        char path[4096];
        random_weights(&w, i ? 16 : 19, 1);
        snprintf(path, sizeof path, "%s/seed-%d.safetensors", argv[1], i);
        bool ok = write_safetensors(path, &w, metas[i]);
        ns_weights_free(&w);
        if (!ok) return 1;
    }
    return argc == 3 && !keras_seeds(argv[2]) ? 1 : 0;
}
