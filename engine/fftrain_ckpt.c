/* fftrain_ckpt.c - a fast network's first weights and its training
 * checkpoints.
 *
 * A checkpoint is a model file (style_model.c) with Adam's two moments of
 * each tensor beside it, under "adam_m." and "adam_v." names, and the
 * step and settings in its metadata: any reader of models reads it as the
 * network so far, and a resumed run continues exactly.
 */
#include "fftrain.h"
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a seed's stream of uniform numbers in [0, 1) */
static double next_uniform(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double) (z >> 11) / 9007199254740992.0;
}

enum ns_status ns_style_model_new(const struct ns_ff_arch *arch, uint64_t seed, struct ns_style_model **out) {
    return ns_style_model_new_styles(arch, 1, seed, out);
}

enum ns_status ns_style_model_new_styles(const struct ns_ff_arch *arch, int n_styles, uint64_t seed,
                                         struct ns_style_model **out) {
    struct ns_style_model *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m) return NS_STATUS_OUT_OF_MEMORY;
    if (n_styles < 1 || n_styles > NS_FF_MAX_STYLES) {
        free(m);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    m->arch = arch, m->n_styles = n_styles;
    uint64_t s = seed;
    for (int i = 0; i < arch->n_steps; i++) {
        const struct ns_ff_step *st = &arch->steps[i];
        double bound = st->kind == NS_FF_CONV ? 1.0 / sqrt((double) st->cin * st->k * st->k) : 0;
        for (int part = 0; part < 2; part++) {
            size_t n = ns_ff_model_count(m, i, part);
            if (!n) continue;
            if (!(m->param[i][part] = malloc(sizeof(float) * n))) {
                ns_style_model_free(m);
                return NS_STATUS_OUT_OF_MEMORY;
            }
            for (size_t j = 0; j < n; j++)
                m->param[i][part][j] = st->kind == NS_FF_NORM ? (part ? 0.0f : 1.0f)
                                                              : (float) ((2 * next_uniform(&s) - 1) * bound);
        }
    }
    if (ns_style_model_set_info(m, "architecture", arch->name)) {
        ns_style_model_free(m);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    *out = m;
    return NS_STATUS_OK;
}

static size_t elems(const struct ns_st_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim && d < 4; d++)
        n *= (size_t) t->shape[d];
    return n;
}

enum ns_status ns_style_model_load_state(const char *path, const struct ns_style_model *m,
                                         float *(*state)[2][2], char *err, size_t err_len) {
    struct ns_st_file f;
    enum ns_status st = ns_st_open(&f, path, "checkpoint", err, err_len);
    if (st) return st;
    for (int i = 0; i < m->arch->n_steps && !st; i++)
        for (int part = 0; part < 2 && !st; part++)
            for (int k = 0; k < 2 && !st && ns_ff_model_count(m, i, part); k++) {
                char name[56];
                ns_ff_tensor_name(&m->arch->steps[i], part, k ? "adam_v." : "adam_m.", name, sizeof name);
                const struct ns_st_tensor *tn = ns_st_find(&f, name);
                if (!tn)
                    st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS, "'%s' is missing: a finished model, not a checkpoint",
                                    name);
                else if (elems(tn) != ns_ff_model_count(m, i, part))
                    st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS, "'%s' has the wrong size", name);
                else
                    st = ns_st_read_f32(&f, tn, &state[i][part][k]);
            }
    ns_st_close(&f);
    return st;
}
