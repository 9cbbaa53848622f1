/* style_model.c - the fast styles' architectures and their model files.
 *
 * A model file is safetensors (read by safetensors.c, which checks every
 * offset and shape first): each step's tensors under PyTorch's state_dict
 * names, __metadata__ with "architecture" and what a gallery shows.  Every
 * tensor the architecture needs must be there, F32, of its exact shape;
 * the first that is not is named in the one-sentence error.
 */
#include "ffnet.h"
#include "safetensors.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONV(n, ci, co, kk, s) {NS_FF_CONV, n, ci, co, kk, s, false}
#define NORM(n, c, r)          {NS_FF_NORM, n, c, c, 0, 0, r}
#define RES(i, c)                                                                                            \
    {NS_FF_SAVE, "res" #i, 0, 0, 0, 0, false}, CONV("res" #i ".conv1.conv2d", c, c, 3, 1),                   \
        NORM("res" #i ".in1", c, true), CONV("res" #i ".conv2.conv2d", c, c, 3, 1),                          \
        NORM("res" #i ".in2", c, false), {NS_FF_ADD, "res" #i, 0, 0, 0, 0, false}
#define UP(n) {NS_FF_UP, n, 0, 0, 0, 0, false}

/* pytorch/examples' fast_neural_style TransformerNet (BSD-3), c channels
 * after the first convolution (32): input and output R'G'B' in 0..255 */
#define TRANSFORMER_NET(name, c)                                                                             \
    {                                                                                                        \
        name, 255.0f, 43,                                                                                    \
        {CONV("conv1.conv2d", 3, c, 9, 1),             NORM("in1", c, true),                                 \
         CONV("conv2.conv2d", c, 2 * c, 3, 2),         NORM("in2", 2 * c, true),                             \
         CONV("conv3.conv2d", 2 * c, 4 * c, 3, 2),     NORM("in3", 4 * c, true),                             \
         RES(1, 4 * c),                                RES(2, 4 * c),                                        \
         RES(3, 4 * c),                                RES(4, 4 * c),                                        \
         RES(5, 4 * c),                                UP("deconv1"),                                        \
         CONV("deconv1.conv2d", 4 * c, 2 * c, 3, 1),   NORM("in4", 2 * c, true),                             \
         UP("deconv2"),                                CONV("deconv2.conv2d", 2 * c, c, 3, 1),               \
         NORM("in5", c, true),                         CONV("deconv3.conv2d", c, 3, 9, 1)},                  \
    }

static const struct ns_ff_arch transformer_net = TRANSFORMER_NET("transformer-net", 32);
/* the same with half the channels: a quarter of the work, for previews
 * and slow machines (docs/training.md) */
static const struct ns_ff_arch transformer_net_half = TRANSFORMER_NET("transformer-net-half", 16);

static const struct ns_ff_arch *const archs[] = {&transformer_net, &transformer_net_half};
static const char *const arch_names[] = {"transformer-net", "transformer-net-half", NULL};

const struct ns_ff_arch *ns_ff_arch_find(const char *name) {
    for (size_t i = 0; name && i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(archs[i]->name, name)) return archs[i];
    return NULL;
}

const char *const *ns_ff_arch_names(void) {
    return arch_names;
}

int ns_ff_param_shape(const struct ns_ff_step *s, int part, int64_t shape[4]) {
    if (s->kind == NS_FF_CONV && part == 0) {
        shape[0] = s->cout, shape[1] = s->cin, shape[2] = s->k, shape[3] = s->k;
        return 4;
    }
    if (s->kind == NS_FF_CONV || s->kind == NS_FF_NORM) {
        shape[0] = s->cout;
        return 1;
    }
    return 0;
}

size_t ns_ff_param_count(const struct ns_ff_step *s, int part) {
    int64_t shape[4];
    int rank = ns_ff_param_shape(s, part, shape);
    size_t n = rank ? 1 : 0;
    for (int d = 0; d < rank; d++)
        n *= (size_t) shape[d];
    return n;
}

static int styles_of(const struct ns_style_model *m) {
    return m->n_styles > 1 ? m->n_styles : 1;
}

int ns_ff_model_shape(const struct ns_style_model *m, int i, int part, int64_t shape[4]) {
    const struct ns_ff_step *s = &m->arch->steps[i];
    int rank = ns_ff_param_shape(s, part, shape);
    if (s->kind != NS_FF_NORM || styles_of(m) == 1) return rank;
    shape[1] = shape[0], shape[0] = m->n_styles;
    return 2;
}

size_t ns_ff_model_count(const struct ns_style_model *m, int i, int part) {
    const struct ns_ff_step *s = &m->arch->steps[i];
    return ns_ff_param_count(s, part) * (s->kind == NS_FF_NORM ? (size_t) styles_of(m) : 1);
}

void ns_ff_shape(const struct ns_ff_arch *a, int h, int w, struct ns_ff_shape *out) {
    int c = 3;
    out->flops = 0;
    out->c[0] = c, out->h[0] = h, out->w[0] = w;
    for (int i = 0; i < a->n_steps; i++) {
        const struct ns_ff_step *s = &a->steps[i];
        if (s->kind == NS_FF_CONV) {
            int p = s->k / 2;
            h = (h + 2 * p - s->k) / s->stride + 1;
            w = (w + 2 * p - s->k) / s->stride + 1;
            c = s->cout;
            out->flops += 2.0 * s->cin * s->k * s->k * c * (double) h * w;
        } else if (s->kind == NS_FF_UP) {
            h *= 2, w *= 2;
        }
        out->c[i + 1] = c, out->h[i + 1] = h, out->w[i + 1] = w;
    }
}

bool ns_ff_progress_step(struct ns_ff_progress *p, const struct ns_ff_arch *a, const struct ns_ff_shape *sh, int i) {
    const struct ns_ff_step *s = &a->steps[i];
    if (!p || !p->fn || s->kind != NS_FF_CONV) return true;
    p->done += 2.0 * s->cin * s->k * s->k * s->cout * (double) sh->h[i + 1] * sh->w[i + 1];
    return p->fn(sh->flops > 0 ? (float) (p->done / sh->flops) : 1.0f, p->data);
}

void ns_style_model_free(struct ns_style_model *m) {
    if (!m) return;
    for (int i = 0; i < NS_FF_MAX_STEPS; i++)
        free(m->param[i][0]), free(m->param[i][1]);
    for (int i = 0; i < m->n_info; i++)
        free(m->info_key[i]), free(m->info_value[i]);
    free(m);
}

const char *ns_style_model_info(const struct ns_style_model *m, const char *key) {
    for (int i = 0; m && key && i < m->n_info; i++)
        if (!strcmp(m->info_key[i], key)) return m->info_value[i];
    return NULL;
}

/* Step i's tensor `part` from the file into m, checked. */
static enum ns_status read_param(struct ns_st_file *f, struct ns_style_model *m, int i, int part) {
    const struct ns_ff_step *s = &m->arch->steps[i];
    int64_t want[4];
    int rank = ns_ff_model_shape(m, i, part, want);
    char name[48];
    ns_ff_tensor_name(s, part, "", name, sizeof name);
    const struct ns_st_tensor *t = ns_st_find(f, name);
    if (!t)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' is missing: not a complete %s model", name,
                          f->what);
    bool ok = t->ndim == rank;
    for (int d = 0; d < rank && ok; d++)
        ok = t->shape[d] == want[d];
    if (!ok) {
        char got[64], need[64];
        struct ns_st_tensor w = {.ndim = rank};
        memcpy(w.shape, want, sizeof want);
        ns_st_shape_text(t, got, sizeof got);
        ns_st_shape_text(&w, need, sizeof need);
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "'%s' has shape %s, the network needs %s", name, got, need);
    }
    return ns_st_read_f32(f, t, &m->param[i][part]);
}

/* How many styles the file's norms hold: the first norm's weight is c (one)
 * or n x c (n, conditional instance norm); read_param checks the rest. */
static enum ns_status count_styles(struct ns_st_file *f, struct ns_style_model *m) {
    m->n_styles = 1;
    for (int i = 0; i < m->arch->n_steps; i++) {
        if (m->arch->steps[i].kind != NS_FF_NORM) continue;
        char name[48];
        ns_ff_tensor_name(&m->arch->steps[i], 0, "", name, sizeof name);
        const struct ns_st_tensor *t = ns_st_find(f, name);
        if (t && t->ndim == 2) {
            if (t->shape[0] < 1 || t->shape[0] > NS_FF_MAX_STYLES)
                return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "'%s' holds %lld styles; a model holds 1 to %d", name,
                                  (long long) t->shape[0], NS_FF_MAX_STYLES);
            m->n_styles = (int) t->shape[0];
        }
        break;
    }
    return NS_STATUS_OK;
}

/* The metadata's strings into m (at most 32 of them). */
static enum ns_status copy_info(struct ns_st_file *f, struct ns_style_model *m) {
    if (!f->meta) return NS_STATUS_OK;
    GList *keys = json_object_get_members(f->meta);
    enum ns_status st = NS_STATUS_OK;
    for (GList *k = keys; k && m->n_info < 32; k = k->next) {
        m->info_key[m->n_info] = strdup(k->data);
        m->info_value[m->n_info] = strdup(ns_json_string(f->meta, k->data));
        if (!m->info_key[m->n_info] || !m->info_value[m->n_info]) {
            st = ns_st_fail(f, NS_STATUS_OUT_OF_MEMORY, "not enough memory for its metadata");
            m->n_info++;
            break;
        }
        m->n_info++;
    }
    g_list_free(keys);
    return st;
}

enum ns_status ns_style_model_load(const char *path, struct ns_style_model **out, char *err, size_t err_len) {
    struct ns_st_file f;
    *out = NULL;
    size_t len = strlen(path);
    if (len > 5 && !strcasecmp(path + len - 5, ".onnx")) return ns_style_model_import_onnx(path, out, err, err_len);
    enum ns_status st = ns_st_open(&f, path, "style model", err, err_len);
    if (st) return st;
    struct ns_style_model *m = calloc(1, sizeof *m);
    const char *arch = ns_st_meta(&f, "architecture");
    if (!m)
        st = ns_st_fail(&f, NS_STATUS_OUT_OF_MEMORY, "not enough memory");
    else if (!arch)
        st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS,
                        "its metadata names no architecture: not a fast style model (a VGG weights file?)");
    else if (!strncasecmp(arch, "vgg", 3))
        st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS, "these are VGG weights for the exact method, not a fast style model");
    else if (!(m->arch = ns_ff_arch_find(arch)))
        st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS, "architecture '%s' is not one this version knows (%s)", arch,
                        transformer_net.name);
    if (!st) st = count_styles(&f, m);
    for (int i = 0; !st && i < m->arch->n_steps; i++)
        for (int part = 0; !st && part < 2; part++)
            if (ns_ff_param_count(&m->arch->steps[i], part)) st = read_param(&f, m, i, part);
    if (!st) st = copy_info(&f, m);
    ns_st_close(&f);
    if (st) {
        ns_style_model_free(m);
        return st;
    }
    *out = m;
    return NS_STATUS_OK;
}

char *ns_style_model_info_members(const struct ns_style_model *m) {
    JsonBuilder *jb = json_builder_new();
    json_builder_begin_object(jb);
    for (int i = 0; i < m->n_info; i++) {
        json_builder_set_member_name(jb, m->info_key[i]);
        json_builder_add_string_value(jb, m->info_value[i]);
    }
    json_builder_end_object(jb);
    JsonGenerator *gen = json_generator_new();
    JsonNode *root = json_builder_get_root(jb);
    json_generator_set_root(gen, root);
    gchar *text = json_generator_to_data(gen, NULL);
    json_node_unref(root);
    g_object_unref(gen);
    g_object_unref(jb);
    /* "{...}" without its braces */
    size_t n = strlen(text);
    memmove(text, text + 1, n - 2);
    text[n - 2] = '\0';
    return text;
}

void ns_ff_tensor_name(const struct ns_ff_step *s, int part, const char *prefix, char *out, size_t len) {
    snprintf(out, len, "%s%s.%s", prefix, s->name, part ? "bias" : "weight");
}

enum ns_status ns_style_model_save_state(const char *path, const struct ns_style_model *m,
                                         float *const (*state)[2][2], char *err, size_t err_len) {
    enum { MAX = 6 * NS_FF_MAX_STEPS };
    struct ns_st_out *t = calloc(MAX, sizeof *t);
    char(*names)[56] = calloc(MAX, sizeof *names);
    static const char *const prefix[3] = {"", "adam_m.", "adam_v."};
    int n = 0;
    enum ns_status st = t && names ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    for (int k = 0; k < (state ? 3 : 1) && !st; k++)
        for (int i = 0; i < m->arch->n_steps; i++)
            for (int part = 0; part < 2; part++) {
                int64_t shape[4];
                int rank = ns_ff_model_shape(m, i, part, shape);
                if (!rank) continue;
                ns_ff_tensor_name(&m->arch->steps[i], part, prefix[k], names[n], sizeof names[0]);
                t[n] = (struct ns_st_out){names[n], {0}, rank, k ? state[i][part][k - 1] : m->param[i][part]};
                for (int d = 0; d < rank; d++)
                    t[n].shape[d] = (int) shape[d];
                n++;
            }
    char *meta = st ? NULL : ns_style_model_info_members(m);
    if (!st) st = ns_st_save(path, t, n, meta, err, err_len);
    else snprintf(err, err_len, "not enough memory to write %s", path);
    free(meta), free(t), free(names);
    return st;
}

enum ns_status ns_style_model_save(const char *path, const struct ns_style_model *m, char *err, size_t err_len) {
    return ns_style_model_save_state(path, m, NULL, err, err_len);
}

enum ns_status ns_style_model_set_info(struct ns_style_model *m, const char *key, const char *value) {
    int i = 0;
    while (i < m->n_info && strcmp(m->info_key[i], key))
        i++;
    if (i == 32) return NS_STATUS_INVALID_ARGUMENT;
    char *v = strdup(value), *k = i < m->n_info ? m->info_key[i] : strdup(key);
    if (!v || !k) {
        free(v);
        if (i == m->n_info) free(k);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    if (i < m->n_info) free(m->info_value[i]);
    m->info_key[i] = k, m->info_value[i] = v;
    if (i == m->n_info) m->n_info++;
    return NS_STATUS_OK;
}

#define NS_THUMB_PREFIX "data:image/png;base64,"

unsigned char *ns_style_model_thumbnail(const struct ns_style_model *m, size_t *len) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const char *v = m ? ns_style_model_info(m, "thumbnail") : NULL;
    if (!v || strncmp(v, NS_THUMB_PREFIX, strlen(NS_THUMB_PREFIX))) return NULL;
    v += strlen(NS_THUMB_PREFIX);
    /* g_base64_decode skips what is not base64: check the alphabet first */
    if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != strlen(v)) return NULL;
    gsize n = 0;
    guchar *bytes = g_base64_decode(v, &n);
    unsigned char *out = NULL;
    if (n > sizeof png && !memcmp(bytes, png, sizeof png) && (out = malloc(n))) {
        memcpy(out, bytes, n);
        *len = n;
    }
    g_free(bytes);
    return out;
}
