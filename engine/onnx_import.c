/* onnx_import.c - an ONNX file of a known architecture as a style model.
 *
 * The graph is not executed: its operations are walked in order beside
 * the architecture's table (ffnet.h), each checked (its type, that it
 * takes the previous one's result, its attributes, its weights' shapes),
 * so any other graph is refused at the first operation that differs, in a
 * sentence that names it.  Constant subgraphs are folded first
 * (onnx_fold.c) at a nominal input size, so pads and scales computed from
 * the input's shape are checked too.  Weights are taken by position, not
 * by name: exporters name them differently.
 */
#include "onnx_imp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the TransformerNet's file is 6.7 MB; nothing this importer reads is near this */
#define ONNX_MAX_BYTES ((size_t) 1 << 30)
#define NOMINAL 256 /* the input size at which shapes are folded */

/* The graph operations one table step stands for. */
enum expect { X_PAD, X_CONV, X_IN, X_RELU, X_ADD, X_UP, X_SAVE };

struct walk {
    struct ns_onnx_imp *im;
    struct ns_style_model *m;
    const struct ns_ff_arch *arch;
    char cur[256], saved[256]; /* the running tensor, and the one kept for the next Add */
    int64_t shape[4], saved_shape[4];
    int n_ops;                 /* graph operations matched */
};

static const char *expect_name(enum expect e) {
    static const char *const names[] = {"Pad (reflect)", "Conv", "InstanceNormalization", "Relu", "Add",
                                        "Upsample or Resize (nearest, x 2)", ""};
    return names[e];
}

/* Step s as graph operations; returns how many. */
static int expand_step(const struct ns_ff_step *s, enum expect out[2]) {
    switch (s->kind) {
    case NS_FF_CONV: out[0] = X_PAD, out[1] = X_CONV; return 2;
    case NS_FF_NORM: out[0] = X_IN, out[1] = X_RELU; return s->relu ? 2 : 1;
    case NS_FF_SAVE: out[0] = X_SAVE; return 1;
    case NS_FF_ADD: out[0] = X_ADD; return 1;
    case NS_FF_UP: out[0] = X_UP; return 1;
    }
    return 0;
}

static const char *node_label(const Onnx__NodeProto *nd, char *buf, size_t len) {
    if (nd->name && *nd->name) snprintf(buf, len, "%s '%s'", nd->op_type, nd->name);
    else snprintf(buf, len, "%s", nd->op_type);
    return buf;
}

static enum ns_status differs(struct walk *w, const Onnx__NodeProto *nd, const char *fmt, const char *detail) {
    char label[200], what[200];
    node_label(nd, label, sizeof label);
    snprintf(what, sizeof what, fmt, detail);
    return ns_onnx_fail(w->im, "operation %d (%s) %s: not a %s model", w->n_ops + 1, label, what, w->arch->name);
}

/* A weight tensor of nd (input `input`) of exactly the shape step s needs,
 * into *out as floats; an absent bias is zeros. */
static enum ns_status take_param(struct walk *w, const Onnx__NodeProto *nd, size_t input, int step, int part) {
    const struct ns_ff_step *s = &w->arch->steps[step];
    int64_t want[4];
    int rank = ns_ff_param_shape(s, part, want);
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t) want[d];
    float *p = calloc(n, sizeof *p);
    if (!p) return ns_onnx_fail(w->im, "not enough memory for the weights");
    w->m->param[step][part] = p;
    if (input >= nd->n_input || !*nd->input[input]) {
        if (part == 1) return NS_STATUS_OK;
        return differs(w, nd, "has no weights%s", "");
    }
    struct ns_onnx_const *c = ns_onnx_const_get(w->im, nd->input[input]);
    if (!c) return w->im->err[0] ? NS_STATUS_BAD_WEIGHTS : differs(w, nd, "computes its weights%s", "");
    bool ok = c->ndim == rank;
    for (int d = 0; ok && d < rank; d++)
        ok = c->dims[d] == want[d];
    if (!ok) {
        char got[80] = "", need[80] = "";
        for (int d = 0; d < c->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? " x " : "", (long long) c->dims[d]);
        for (int d = 0; d < rank; d++)
            snprintf(need + strlen(need), sizeof need - strlen(need), "%s%lld", d ? " x " : "", (long long) want[d]);
        char detail[200];
        snprintf(detail, sizeof detail, "has %s %s where %s needs %s", part ? "a bias of" : "weights of", got,
                 w->arch->name, need);
        return differs(w, nd, "%s", detail);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float) c->v[i];
    return NS_STATUS_OK;
}

static enum ns_status check_pad(struct walk *w, const Onnx__NodeProto *nd, int k) {
    char mode[32];
    ns_onnx_attr_str(nd, "mode", mode, sizeof mode);
    if (strcmp(mode, "reflect")) return differs(w, nd, "pads in mode '%s', not 'reflect'", *mode ? mode : "constant");
    int64_t pads[8];
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, w->im->opset < 11 ? "pads" : "-");
    int n = 0;
    if (a) {
        for (; n < 8 && n < (int) a->n_ints; n++)
            pads[n] = a->ints[n];
        if (a->n_ints != 8) n = -1;
    } else if (nd->n_input > 1) {
        struct ns_onnx_const *c = ns_onnx_const_get(w->im, nd->input[1]);
        if (!c) return w->im->err[0] ? NS_STATUS_BAD_WEIGHTS : differs(w, nd, "computes its pads%s", "");
        for (; n < 8 && n < (int) c->n; n++)
            pads[n] = ns_onnx_int(c->v[n]);
        if (c->n != 8) n = -1;
    }
    int p = k / 2;
    bool ok = n == 8 && !pads[0] && !pads[1] && pads[2] == p && pads[3] == p && !pads[4] && !pads[5] &&
              pads[6] == p && pads[7] == p;
    char detail[160];
    if (n == 8)
        snprintf(detail, sizeof detail, "pads by %lld, %lld, %lld and %lld where %s pads each side by %d",
                 (long long) pads[2], (long long) pads[3], (long long) pads[6], (long long) pads[7], w->arch->name, p);
    else
        snprintf(detail, sizeof detail, "pads other than by %d on each side of the image", p);
    if (!ok) return differs(w, nd, "%s", detail);
    w->shape[2] += 2 * p, w->shape[3] += 2 * p;
    return NS_STATUS_OK;
}

static enum ns_status check_conv(struct walk *w, const Onnx__NodeProto *nd, int step) {
    const struct ns_ff_step *s = &w->arch->steps[step];
    const Onnx__AttributeProto *a;
    char detail[120];
    if ((a = ns_onnx_attr(nd, "strides")))
        for (size_t i = 0; i < a->n_ints; i++)
            if (a->ints[i] != s->stride) {
                snprintf(detail, sizeof detail, "has stride %lld where %s has %d", (long long) a->ints[i],
                         w->arch->name, s->stride);
                return differs(w, nd, "%s", detail);
            }
    if (!ns_onnx_attr(nd, "strides") && s->stride != 1) return differs(w, nd, "has stride 1%s", "");
    if ((a = ns_onnx_attr(nd, "pads")))
        for (size_t i = 0; i < a->n_ints; i++)
            if (a->ints[i]) return differs(w, nd, "pads with zeros%s", "");
    if ((a = ns_onnx_attr(nd, "dilations")))
        for (size_t i = 0; i < a->n_ints; i++)
            if (a->ints[i] != 1) return differs(w, nd, "is dilated%s", "");
    if (ns_onnx_attr_int(nd, "group", 1) != 1) return differs(w, nd, "is grouped%s", "");
    char pad[32];
    if (*ns_onnx_attr_str(nd, "auto_pad", pad, sizeof pad) && strcmp(pad, "NOTSET") && strcmp(pad, "VALID"))
        return differs(w, nd, "pads itself (%s)", pad);
    enum ns_status st = take_param(w, nd, 1, step, 0);
    if (!st) st = take_param(w, nd, 2, step, 1);
    w->shape[1] = s->cout;
    w->shape[2] = (w->shape[2] - s->k) / s->stride + 1;
    w->shape[3] = (w->shape[3] - s->k) / s->stride + 1;
    return st;
}

static enum ns_status check_norm(struct walk *w, const Onnx__NodeProto *nd, int step) {
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, "epsilon");
    float eps = a && a->has_f ? a->f : 1e-5f;
    if (fabsf(eps - 1e-5f) > 1e-8f) {
        char detail[80];
        snprintf(detail, sizeof detail, "has epsilon %g where %s has 1e-05", eps, w->arch->name);
        return differs(w, nd, "%s", detail);
    }
    enum ns_status st = take_param(w, nd, 1, step, 0);
    return st ? st : take_param(w, nd, 2, step, 1);
}

/* Nearest-neighbour x 2, however the opset spells it. */
static enum ns_status check_up(struct walk *w, const Onnx__NodeProto *nd) {
    char mode[32], coord[32], nearest[32];
    ns_onnx_attr_str(nd, "mode", mode, sizeof mode);
    if (*mode && strcmp(mode, "nearest")) return differs(w, nd, "resizes with mode '%s', not 'nearest'", mode);
    bool resize = !strcmp(nd->op_type, "Resize");
    if (resize && w->im->opset >= 11) {
        /* floor(x / 2) is what every one of these choices gives at scale 2 */
        ns_onnx_attr_str(nd, "coordinate_transformation_mode", coord, sizeof coord);
        ns_onnx_attr_str(nd, "nearest_mode", nearest, sizeof nearest);
        if (!*coord) strcpy(coord, "half_pixel");
        if (!*nearest) strcpy(nearest, "round_prefer_floor");
        bool asym = !strcmp(coord, "asymmetric"), half = !strcmp(coord, "half_pixel") || !strcmp(coord, "pytorch_half_pixel");
        bool ok = (asym && (!strcmp(nearest, "floor") || !strcmp(nearest, "round_prefer_floor"))) ||
                  (half && !strncmp(nearest, "round_", 6));
        if (!ok) return differs(w, nd, "maps pixels with '%s', which is not plain nearest-neighbour x 2", coord);
    }
    double scales[4] = {0};
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, "scales");
    if (a && a->n_floats == 4) {
        for (int i = 0; i < 4; i++)
            scales[i] = a->floats[i];
    } else {
        /* Upsample-9 and Resize-10: scales is input 1; Resize-11+: roi, scales, sizes */
        size_t si = resize && w->im->opset >= 11 ? 2 : 1;
        struct ns_onnx_const *sc = si < nd->n_input ? ns_onnx_const_get(w->im, nd->input[si]) : NULL;
        struct ns_onnx_const *sz = resize && nd->n_input > 3 ? ns_onnx_const_get(w->im, nd->input[3]) : NULL;
        if (w->im->err[0]) return NS_STATUS_BAD_WEIGHTS;
        if (sc && sc->n == 4)
            for (int i = 0; i < 4; i++)
                scales[i] = sc->v[i];
        else if (sz && sz->n == 4)
            for (int i = 0; i < 4; i++)
                scales[i] = sz->v[i] / (double) w->shape[i];
    }
    if (scales[0] != 1 || scales[1] != 1 || scales[2] != 2 || scales[3] != 2)
        return differs(w, nd, "does not scale the image by exactly 2%s", "");
    w->shape[2] *= 2, w->shape[3] *= 2;
    return NS_STATUS_OK;
}

/* The running tensor among nd's inputs: input 0, or for Add either. */
static bool takes_running(struct walk *w, const Onnx__NodeProto *nd, enum expect e) {
    if (!nd->n_input) return false;
    if (e != X_ADD) return !strcmp(nd->input[0], w->cur);
    return nd->n_input == 2 && ((!strcmp(nd->input[0], w->cur) && !strcmp(nd->input[1], w->saved)) ||
                                (!strcmp(nd->input[1], w->cur) && !strcmp(nd->input[0], w->saved)));
}

static enum ns_status match_node(struct walk *w, const Onnx__NodeProto *nd, enum expect e, int step) {
    bool same = !strcmp(nd->op_type, expect_name(e)) || (e == X_PAD && !strcmp(nd->op_type, "Pad")) ||
                (e == X_UP && (!strcmp(nd->op_type, "Upsample") || !strcmp(nd->op_type, "Resize")));
    if (!same) {
        char detail[160];
        snprintf(detail, sizeof detail, "stands where %s has %s", w->arch->name, expect_name(e));
        return differs(w, nd, "%s", detail);
    }
    if (!takes_running(w, nd, e))
        return differs(w, nd, "%s", e == X_ADD ? "does not add a residual block's input to its result"
                                               : "does not take the previous operation's result");
    if (nd->n_output < 1) return differs(w, nd, "has no result%s", "");
    enum ns_status st = NS_STATUS_OK;
    switch (e) {
    case X_PAD: st = check_pad(w, nd, w->arch->steps[step].k); break;
    case X_CONV: st = check_conv(w, nd, step); break;
    case X_IN: st = check_norm(w, nd, step); break;
    case X_UP: st = check_up(w, nd); break;
    default: break;
    }
    if (st) return st;
    g_strlcpy(w->cur, nd->output[0], sizeof w->cur);
    int64_t *shape = g_memdup2(w->shape, sizeof w->shape);
    g_hash_table_replace(w->im->shapes, g_strdup(w->cur), shape);
    w->n_ops++;
    return NS_STATUS_OK;
}

/* The graph's one input that is not an initializer (IR 3 lists both). */
static const char *graph_input(const Onnx__GraphProto *g, GHashTable *consts) {
    for (size_t i = 0; i < g->n_input; i++)
        if (g->input[i]->name && !g_hash_table_contains(consts, g->input[i]->name)) return g->input[i]->name;
    return NULL;
}

static enum ns_status walk_graph(struct walk *w, const Onnx__GraphProto *g) {
    const char *input = graph_input(g, w->im->consts);
    if (!input) return ns_onnx_fail(w->im, "the graph has no input");
    g_strlcpy(w->cur, input, sizeof w->cur);
    int64_t in_shape[4] = {1, 3, NOMINAL, NOMINAL};
    memcpy(w->shape, in_shape, sizeof in_shape);
    g_hash_table_replace(w->im->shapes, g_strdup(input), g_memdup2(in_shape, sizeof in_shape));

    /* the table as a list of graph operations */
    enum expect ex[NS_FF_MAX_STEPS * 2];
    int ex_step[NS_FF_MAX_STEPS * 2], n_ex = 0, j = 0;
    for (int s = 0; s < w->arch->n_steps; s++) {
        int n = expand_step(&w->arch->steps[s], ex + n_ex);
        for (int i = 0; i < n; i++)
            ex_step[n_ex + i] = s;
        n_ex += n;
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *nd = g->node[i];
        if (!nd->op_type) return ns_onnx_fail(w->im, "node %zu has no operation", i + 1);
        if (nd->domain && *nd->domain && strcmp(nd->domain, "ai.onnx"))
            return differs(w, nd, "comes from operator set '%s'", nd->domain);
        int folded = ns_onnx_fold(w->im, nd);
        if (folded < 0) return NS_STATUS_BAD_WEIGHTS;
        if (folded) continue;
        for (; j < n_ex && ex[j] == X_SAVE; j++) {
            g_strlcpy(w->saved, w->cur, sizeof w->saved);
            memcpy(w->saved_shape, w->shape, sizeof w->shape);
        }
        if (j == n_ex) return differs(w, nd, "comes after the end of the whole %s", w->arch->name);
        enum ns_status st = match_node(w, nd, ex[j], ex_step[j]);
        if (st) return st;
        j++;
    }
    if (j < n_ex)
        return ns_onnx_fail(w->im, "the graph ends after %d operations where %s goes on with %s: not a %s model",
                            w->n_ops, w->arch->name, expect_name(ex[j]), w->arch->name);
    if (g->n_output != 1 || !g->output[0]->name || strcmp(g->output[0]->name, w->cur))
        return ns_onnx_fail(w->im, "the graph's output is not its last operation's result: not a %s model",
                            w->arch->name);
    return NS_STATUS_OK;
}

static int model_opset(const Onnx__ModelProto *mp) {
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain;
        if (!d || !*d || !strcmp(d, "ai.onnx")) return (int) mp->opset_import[i]->version;
    }
    return mp->ir_version <= 2 ? 1 : 0;
}

static void set_info(struct ns_style_model *m, const Onnx__ModelProto *mp, const char *what, int opset) {
    const char *base = strrchr(what, '/') ? strrchr(what, '/') + 1 : what;
    char name[128], source[400];
    g_strlcpy(name, base, sizeof name);
    char *dot = strrchr(name, '.');
    if (dot && !strcasecmp(dot, ".onnx")) *dot = 0;
    snprintf(source, sizeof source, "ONNX file %s (%s %s, opset %d)", base,
             mp->producer_name && *mp->producer_name ? mp->producer_name : "unknown exporter",
             mp->producer_version ? mp->producer_version : "", opset);
    ns_style_model_set_info(m, "architecture", m->arch->name);
    ns_style_model_set_info(m, "name", name);
    ns_style_model_set_info(m, "source", source);
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *p = mp->metadata_props[i];
        if (p->key && p->value && (!strcmp(p->key, "name") || !strcmp(p->key, "license") || !strcmp(p->key, "source")))
            ns_style_model_set_info(m, p->key, p->value);
    }
}

enum ns_status ns_style_model_import_onnx_mem(const void *data, size_t len, const char *what,
                                              struct ns_style_model **out, char *err, size_t err_len) {
    struct ns_onnx_imp im = {.what = what, .err = err, .err_len = err_len};
    *out = NULL;
    if (err_len) err[0] = 0;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) return ns_onnx_fail(&im, "not an ONNX model (its protobuf does not parse; cut short or another file?)");
    enum ns_status st = NS_STATUS_OK;
    struct ns_style_model *m = calloc(1, sizeof *m);
    im.opset = model_opset(mp);
    im.consts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ns_onnx_const_free);
    im.shapes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const Onnx__GraphProto *g = mp->graph;
    if (!m) st = ns_onnx_fail(&im, "not enough memory");
    else if (!g || !g->n_node) st = ns_onnx_fail(&im, "it holds no graph");
    else if (im.opset < 7 || im.opset > 21)
        st = ns_onnx_fail(&im, "operator set %d is not one this importer knows (7 to 21)", im.opset);
    for (size_t i = 0; !st && i < g->n_initializer; i++) {
        struct ns_onnx_const *c = calloc(1, sizeof *c);
        if (!c || !g->initializer[i]->name) {
            free(c);
            st = ns_onnx_fail(&im, c ? "an initializer has no name" : "not enough memory");
            break;
        }
        c->t = g->initializer[i];
        g_hash_table_replace(im.consts, g_strdup(c->t->name), c);
    }
    if (!st) {
        m->arch = ns_ff_arch_find("transformer-net");
        struct walk w = {.im = &im, .m = m, .arch = m->arch};
        st = walk_graph(&w, g);
    }
    if (!st) set_info(m, mp, what, im.opset);
    g_hash_table_destroy(im.consts);
    g_hash_table_destroy(im.shapes);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st) {
        ns_style_model_free(m);
        return st;
    }
    *out = m;
    return NS_STATUS_OK;
}

enum ns_status ns_style_model_import_onnx(const char *path, struct ns_style_model **out, char *err, size_t err_len) {
    struct ns_onnx_imp im = {.what = path, .err = err, .err_len = err_len};
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        ns_onnx_fail(&im, "%s", strerror(errno));
        return NS_STATUS_IO_ERROR;
    }
    enum ns_status st = NS_STATUS_OK;
    long len = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    uint8_t *buf = NULL;
    if (len < 0) st = ns_onnx_fail(&im, "cannot read it");
    else if ((size_t) len > ONNX_MAX_BYTES) st = ns_onnx_fail(&im, "it is %ld MB, far larger than a style network", len >> 20);
    else if (!(buf = malloc(len ? (size_t) len : 1))) st = ns_onnx_fail(&im, "not enough memory to read it");
    else if (fseek(f, 0, SEEK_SET) || fread(buf, 1, (size_t) len, f) != (size_t) len)
        st = ns_onnx_fail(&im, "cannot read it");
    fclose(f);
    if (!st) st = ns_style_model_import_onnx_mem(buf, (size_t) len, path, out, err, err_len);
    free(buf);
    return st;
}
