/* settings.c - the table of settings (ns.h): one row per field of struct
 * ns_params that a person sets, read by the command line's parser and help,
 * the plug-ins' arguments and dialogs, and the presets' comparison. */
#include "ns.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT(f) offsetof(struct ns_params, f)

static const char *const optimizers[] = {"lbfgs", "adam", NULL};
static const char *const inits[] = {"content", "noise", "model", "image", NULL};
static const char *const poolings[] = {"max", "avg", NULL};
static const char *const layer_weights[] = {"uniform", "geometric", NULL};
static const char *const precisions[] = {"fp32", "tf32", "bf16", NULL};
static const char *const optimizer_labels[] = {NS_N_("L-BFGS (best quality)"), NS_N_("Adam"), NULL};
static const char *const init_labels[] = {NS_N_("The photo"), NS_N_("Random noise"), NS_N_("A fast style's result"),
                                           NS_N_("An image"), NULL};
static const char *const pooling_labels[] = {NS_N_("Max"), NS_N_("Average"), NULL};
static const char *const layer_weight_labels[] = {NS_N_("Equal"),
                                                  NS_N_("Geometric (shallow style layers weigh more)"), NULL};
static const char *const precision_labels[] = {NS_N_("Float32 (exact)"), NS_N_("TF32 (tensor cores, faster)"),
                                               NS_N_("BFloat16 (half the memory; Ampere or newer)"), NULL};

/* the order of the command line's --help */
static const struct ns_setting table[] = {
    {"size", NS_SETTING_INT, AT(size), 0, NS_PARAM_SIZE_MAX, false, 1, NULL, "N", NS_N_("Size"),
     NS_N_("longest side to work at, px (default 512; 0 = the photo's own)"), NS_SETTING_MAIN, false, .arg = 2},
    {"iterations", NS_SETTING_INT, AT(iterations), 0, NS_PARAM_ITERATIONS_MAX, false, 1, NULL, "N",
     NS_N_("Iterations"),
     NS_N_("at the coarsest level; each finer level takes an eighth as many, at least N/32 (default 300; "
           "0 = just evaluate the start image)"),
     NS_SETTING_MAIN, false, .arg = 1},
    {"scales", NS_SETTING_INT, AT(scales), 0, NS_PARAM_SCALES_MAX, false, 1, NULL, "N", NS_N_("Levels"),
     NS_N_("coarse-to-fine levels (default 0 = auto)"), NS_SETTING_HIDDEN, false, .arg = 0},
    {"max-memory", NS_SETTING_DOUBLE, AT(max_memory), 0, NS_PARAM_MAX_MEMORY_MAX / 1e9, false, 1e9, NULL, "GB",
     NS_N_("_Memory limit (GB)"),
     NS_N_("memory the run may use, the images read and written included (default: what is free, less a "
           "fifth); larger sizes are computed in tiles to fit"),
     NS_SETTING_ADVANCED, false, .arg = NS_SETTING_ARG_AUX},
    {"margin", NS_SETTING_INT, AT(margin), 0, NS_PARAM_MARGIN_MAX, false, 1, NULL, "N", NS_N_("Margin"),
     NS_N_("px of mirrored border optimised around the photo and cut off, for clean edges (default 8; 0 = "
           "none)"),
     NS_SETTING_HIDDEN, false, .arg = 0},
    {"tile", NS_SETTING_INT, AT(tile), 0, NS_PARAM_SIZE_MAX, false, 1, NULL, "N", NS_N_("Tile size"),
     NS_N_("compute in tiles of about N px, the same result in less memory (default 0 = automatic, as "
           "--max-memory needs)"),
     NS_SETTING_HIDDEN, false, .arg = 0},
    {"optimizer", NS_SETTING_CHOICE, AT(optimizer), 0, 1, false, 1, optimizers, "lbfgs|adam",
     NS_N_("Optimi_zer"), NS_N_("(default lbfgs)"), NS_SETTING_ADVANCED, false, .arg = 6, .choice_labels = optimizer_labels},
    {"learning-rate", NS_SETTING_FLOAT, AT(learning_rate), 0, 1e6, true, 1, NULL, "X", NS_N_("Learning rate"),
     NS_N_("Adam step in 0..1 pixel units (default 0.02)"), NS_SETTING_HIDDEN, false, .arg = 0},
    {"lbfgs-history", NS_SETTING_INT, AT(lbfgs_history), 1, NS_PARAM_LBFGS_HISTORY_MAX, false, 1, NULL, "N",
     NS_N_("L-BFGS history"), NS_N_("L-BFGS correction pairs (default 20)"), NS_SETTING_HIDDEN, false, .arg = 0},
    {"init", NS_SETTING_CHOICE, AT(init), 0, 3, false, 1, inits, "content|noise|model|image", NS_N_("Start from"),
     NS_N_("start point (default content; model: the photo through a fast style, --init model:STYLE, "
           "a first look in fewer iterations)"),
     NS_SETTING_ADVANCED, true, .arg = 7, .choice_labels = init_labels, .front_choices = 3},
    {"init-model", NS_SETTING_STRING, AT(init_model), 0, 0, false, 1, NULL, "STYLE", NS_N_("Fast style"),
     NS_N_("the fast style --init model starts from: an installed style's name or a model file"),
     NS_SETTING_ADVANCED, false, .arg = 20, .style_name = true},
    {"seed", NS_SETTING_U64, AT(seed), 0, 0, false, 1, NULL, "N", NS_N_("Seed"), NS_N_("noise seed (default 0)"),
     NS_SETTING_ADVANCED, false, .arg = 10},
    {"content-weight", NS_SETTING_FLOAT, AT(content_weight), 0, FLT_MAX, false, 1, NULL, "X",
     NS_N_("Content weight"), NS_N_("(default 1)"), NS_SETTING_ADVANCED, true, .arg = 3},
    {"style-weight", NS_SETTING_FLOAT, AT(style_weight), 0, FLT_MAX, false, 1, NULL, "X", NS_N_("Style weight"),
     NS_N_("(default 100)"), NS_SETTING_ADVANCED, true, .arg = 4},
    {"tv-weight", NS_SETTING_FLOAT, AT(tv_weight), 0, FLT_MAX, false, 1, NULL, "X", NS_N_("Smoothness"),
     NS_N_("(default 10)"), NS_SETTING_ADVANCED, true, .arg = 5},
    {"content-layers", NS_SETTING_STRING, AT(content_layers), 0, 0, false, 1, NULL, "L,..",
     NS_N_("Content layers"), NS_N_("e.g. relu4_2 (a layer may carry :weight)"), NS_SETTING_ADVANCED, true, .arg = 14},
    {"style-layers", NS_SETTING_STRING, AT(style_layers), 0, 0, false, 1, NULL, "L,..", NS_N_("Style layers"),
     NS_N_("e.g. relu1_1,relu2_1,relu3_1:0.5; all = every layer the weights file has"), NS_SETTING_ADVANCED,
     true, .arg = 15},
    {"style-scale", NS_SETTING_FLOAT, AT(style_scale), NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX, false,
     1, NULL, "X", NS_N_("Style scale"), NS_N_("style size relative to the photo (default 1)"),
     NS_SETTING_ADVANCED, false, .arg = 9},
    {"preserve-colors", NS_SETTING_BOOL, AT(preserve_colors), 0, 1, false, 1, NULL, NULL,
     NS_N_("_Keep the photo's colours"), NS_N_("keep the photo's colours, take only the painting's texture"),
     NS_SETTING_MAIN, false, .arg = 8},
    {"match-colors", NS_SETTING_BOOL, AT(match_colors), 0, 1, false, 1, NULL, NULL,
     NS_N_("Match the painting's colours"),
     NS_N_("the painting's colours matched to the photo's before the run"), NS_SETTING_ADVANCED, false, .arg = 19},
    {"pooling", NS_SETTING_CHOICE, AT(pooling), 0, 1, false, 1, poolings, "max|avg", NS_N_("Pooling"),
     NS_N_("(default max)"), NS_SETTING_ADVANCED, true, .arg = 13, .choice_labels = pooling_labels},
    {"activation-shift", NS_SETTING_FLOAT, AT(activation_shift), -NS_PARAM_ACTIVATION_SHIFT_MAX,
     NS_PARAM_ACTIVATION_SHIFT_MAX, false, 1, NULL, "X", NS_N_("Activation shift"),
     NS_N_("Grams of the activations + X (Novak & Nikulin: -1; default 0)"), NS_SETTING_ADVANCED, true, .arg = 17},
    {"layer-weights", NS_SETTING_CHOICE, AT(layer_weights), 0, 1, false, 1, layer_weights, "uniform|geometric",
     NS_N_("Layer weights"), NS_N_("unweighted layers' shares (default uniform)"), NS_SETTING_ADVANCED, true, .arg = 16, .choice_labels = layer_weight_labels},
    {"correlation-chain", NS_SETTING_BOOL, AT(correlation_chain), 0, 1, false, 1, NULL, NULL,
     NS_N_("Correlation chain"), NS_N_("cross-layer Grams of adjacent style layers (no tiles)"),
     NS_SETTING_ADVANCED, true, .arg = 18},
    {"precision", NS_SETTING_CHOICE, AT(precision), 0, 2, false, 1, precisions, "fp32|tf32|bf16",
     NS_N_("GPU precision"),
     NS_N_("GPU arithmetic (default fp32; tf32 and bf16 use tensor cores, bf16 also halves the network's "
           "memory)"),
     NS_SETTING_ADVANCED, false, .arg = 12, .choice_labels = precision_labels},
    {"threads", NS_SETTING_INT, AT(threads), 0, 1 << 20, false, 1, NULL, "N", NS_N_("Threads"),
     NS_N_("CPU threads (default all cores)"), NS_SETTING_HIDDEN, false, .arg = 0},
};
#define N_ROWS ((int) (sizeof table / sizeof table[0]))

const struct ns_setting *ns_settings(int *n) {
    *n = N_ROWS;
    return table;
}

const struct ns_setting *ns_setting_find(const char *name) {
    if (!name) return NULL;
    if (!strncmp(name, "--", 2)) name += 2;
    for (int i = 0; i < N_ROWS; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

#define FIELD(p, s, type) ((type *) ((char *) (p) + (s)->offset))
#define CFIELD(p, s, type) ((const type *) ((const char *) (p) + (s)->offset))

double ns_setting_get(const struct ns_setting *s, const struct ns_params *p) {
    switch (s->type) {
    case NS_SETTING_INT:
    case NS_SETTING_CHOICE: return *CFIELD(p, s, int);
    case NS_SETTING_FLOAT: return *CFIELD(p, s, float);
    case NS_SETTING_DOUBLE: return *CFIELD(p, s, double) / s->unit;
    case NS_SETTING_BOOL: return *CFIELD(p, s, bool);
    case NS_SETTING_U64: return (double) *CFIELD(p, s, uint64_t);
    default: return 0;
    }
}

void ns_setting_set(const struct ns_setting *s, struct ns_params *p, double v) {
    if (isnan(v)) return;
    /* kept as given, within the field's type: ns_params_check refuses what
     * is out of range, as it does for a command line's value */
    v = v < -2e9 && s->type != NS_SETTING_U64 ? -2e9 : v > 2e9 && s->type != NS_SETTING_U64 ? 2e9 : v;
    switch (s->type) {
    case NS_SETTING_INT:
    case NS_SETTING_CHOICE: *FIELD(p, s, int) = (int) lround(v); break;
    case NS_SETTING_FLOAT: *FIELD(p, s, float) = (float) v; break;
    case NS_SETTING_DOUBLE: *FIELD(p, s, double) = v * s->unit; break;
    case NS_SETTING_BOOL: *FIELD(p, s, bool) = v != 0; break;
    case NS_SETTING_U64: *FIELD(p, s, uint64_t) = v <= 0 ? 0 : v >= 0x1p64 ? UINT64_MAX : (uint64_t) v; break;
    default: break;
    }
}

/* "a whole number from 0 to 8", "a number, 0 or more"... */
static void describe_range(const struct ns_setting *s, char *buf, size_t n) {
    bool whole = s->type == NS_SETTING_INT;
    const char *kind = whole ? "a whole number" : "a number";
    if (s->max >= FLT_MAX)
        snprintf(buf, n, "%s, %s", kind, s->min_excluded ? "more than 0" : "0 or more");
    else if (s->min_excluded)
        snprintf(buf, n, "%s more than %g, at most %g", kind, s->min, s->max);
    else
        snprintf(buf, n, "%s from %.*g to %.*g", kind, whole ? 12 : 6, s->min_excluded ? 0 : s->min, whole ? 12 : 6,
                 s->max);
}

static bool in_range(const struct ns_setting *s, double v) {
    return (s->min_excluded ? v > s->min : v >= s->min) && v <= s->max;
}

enum ns_status ns_setting_parse(const struct ns_setting *s, const char *text, struct ns_params *p, char *err,
                                size_t err_len) {
    char want[128] = "", *end = NULL;
    errno = 0;
    switch (s->type) {
    case NS_SETTING_STRING:
        *FIELD(p, s, const char *) = text;
        return NS_STATUS_OK;
    case NS_SETTING_BOOL:
        if (!strcmp(text, "1") || !strcmp(text, "true") || !strcmp(text, "yes")) {
            *FIELD(p, s, bool) = true;
            return NS_STATUS_OK;
        }
        if (!strcmp(text, "0") || !strcmp(text, "false") || !strcmp(text, "no")) {
            *FIELD(p, s, bool) = false;
            return NS_STATUS_OK;
        }
        snprintf(want, sizeof want, "true or false");
        break;
    case NS_SETTING_CHOICE:
        snprintf(want, sizeof want, "one of");
        for (int i = 0; s->choices[i]; i++) {
            if (!strcmp(text, s->choices[i])) {
                *FIELD(p, s, int) = i;
                return NS_STATUS_OK;
            }
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s %s", i ? "," : "", s->choices[i]);
        }
        break;
    case NS_SETTING_U64: {
        unsigned long long v = strtoull(text, &end, 10);
        if (end != text && !*end && !errno && text[0] != '-') {
            *FIELD(p, s, uint64_t) = v;
            return NS_STATUS_OK;
        }
        snprintf(want, sizeof want, "a whole number, 0 or more");
        break;
    }
    case NS_SETTING_INT: {
        long v = strtol(text, &end, 10);
        if (end != text && !*end && !errno && in_range(s, (double) v)) {
            *FIELD(p, s, int) = (int) v;
            return NS_STATUS_OK;
        }
        describe_range(s, want, sizeof want);
        break;
    }
    case NS_SETTING_FLOAT:
    case NS_SETTING_DOUBLE: {
        double v = strtod(text, &end);
        if (end != text && !*end && !errno && isfinite(v) && fabs(v) <= FLT_MAX && in_range(s, v)) {
            if (s->type == NS_SETTING_FLOAT)
                *FIELD(p, s, float) = (float) v;
            else
                *FIELD(p, s, double) = v * s->unit;
            return NS_STATUS_OK;
        }
        describe_range(s, want, sizeof want);
        break;
    }
    }
    snprintf(err, err_len, "--%s: '%s' is not %s", s->name, text, want);
    return NS_STATUS_INVALID_ARGUMENT;
}

enum ns_status ns_params_check(const struct ns_params *p, char *err, size_t err_len) {
    for (int i = 0; i < N_ROWS; i++) {
        const struct ns_setting *s = &table[i];
        if (s->type == NS_SETTING_STRING || s->type == NS_SETTING_U64 || s->type == NS_SETTING_BOOL) continue;
        double v = ns_setting_get(s, p);
        if (isfinite(v) && in_range(s, v) && (s->type != NS_SETTING_CHOICE || v == floor(v))) continue;
        char want[128];
        if (s->type == NS_SETTING_CHOICE)
            snprintf(want, sizeof want, "one of the %g choices", s->max + 1);
        else if (s->max >= FLT_MAX)
            snprintf(want, sizeof want, "%s", s->min_excluded ? "more than 0" : "0 or more");
        else if (s->min_excluded)
            snprintf(want, sizeof want, "more than %g and at most %g", s->min, s->max);
        else
            snprintf(want, sizeof want, "between %.*g and %.*g", 12, s->min, 12, s->max);
        char label[128];
        size_t k = 0;
        for (const char *c = s->label; *c && k + 1 < sizeof label; c++)
            if (*c != '_') label[k++] = *c; /* the dialog's mnemonic */
        label[k] = '\0';
        snprintf(err, err_len, "%s (--%s) must be %s, not %g", label, s->name, want, v);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    if (p->init == NS_INIT_MODEL && (!p->init_model || !*p->init_model)) {
        snprintf(err, err_len, "starting from a fast style's result (--init model) needs the style: --init-model NAME");
        return NS_STATUS_INVALID_ARGUMENT;
    }
    return NS_STATUS_OK;
}

static bool same_field(const struct ns_setting *s, const struct ns_params *a, const struct ns_params *b) {
    if (s->type == NS_SETTING_STRING) {
        const char *x = *CFIELD(a, s, const char *), *y = *CFIELD(b, s, const char *);
        x = x ? x : "", y = y ? y : "";
        /* a preset's content layer the weights file lacks falls back to the
         * file's default (the front ends clear it) */
        if (s->offset == offsetof(struct ns_params, content_layers) && (!*x || !*y)) return true;
        return !strcmp(x, y);
    }
    if (s->type == NS_SETTING_U64) return *CFIELD(a, s, uint64_t) == *CFIELD(b, s, uint64_t);
    return ns_setting_get(s, a) == ns_setting_get(s, b);
}

const char *ns_params_preset_of(const struct ns_params *p) {
    for (const char *const *name = ns_preset_names(); *name; name++) {
        struct ns_params want = *p;
        ns_params_preset(&want, *name);
        bool same = true;
        for (int i = 0; i < N_ROWS && same; i++)
            same = !table[i].preset || same_field(&table[i], p, &want);
        if (same) return *name;
    }
    return NULL;
}
