/* weights.c - safetensors reader for VGG conv weights.
 *
 * The header is parsed with json-glib; every offset, length and shape is
 * checked against the file before a byte of tensor data is read, so a
 * truncated or hostile file gives a sentence, never a crash.  Accepted
 * names: "conv3_1.weight" (Caffe/Keras naming) and torchvision's
 * "features.<index>.weight".  The input convention comes from __metadata__.
 * VGG's layout and the rule that tells VGG-16 from VGG-19 live here too, for
 * the importer (weights/ns-weights.c) and the network to share.
 */
#include "weights.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is not a VGG weights file. */
#define NS_MAX_HEADER (64u << 20)
/* A safetensors header nests 3 deep (the object, a tensor, its shape);
 * json-glib recurses once per level, so 100000 levels overflow the stack. */
#define NS_MAX_JSON_DEPTH 64

static const int vgg16_convs[5] = {2, 2, 3, 3, 3};
static const int vgg19_convs[5] = {2, 2, 4, 4, 4};
static const int vgg_channels[5] = {64, 128, 256, 512, 512};

int ns_vgg_block_convs(int arch, int block) {
    if (block < 1 || block > 5) return 0;
    return arch == 16 ? vgg16_convs[block - 1] : vgg19_convs[block - 1];
}

int ns_vgg_block_channels(int block) {
    return block >= 1 && block <= 5 ? vgg_channels[block - 1] : 0;
}

bool ns_vgg_conv_layout(int arch, int k, struct ns_conv_weights *L) {
    int block = 1, first = 0; /* first: the ordinal of the block's first conv */
    while (block <= 5 && k >= first + ns_vgg_block_convs(arch, block))
        first += ns_vgg_block_convs(arch, block++);
    if (k < 0 || block > 5) return false;
    L->block = block, L->index = k - first + 1;
    L->cout = ns_vgg_block_channels(block);
    L->cin = L->index > 1 ? L->cout : block > 1 ? ns_vgg_block_channels(block - 1) : 3;
    snprintf(L->name, sizeof L->name, "conv%c_%c", (char) ('0' + L->block), (char) ('0' + L->index));
    return true;
}

/* The ordinal of conv blockB_convI in VGG-<arch>, -1 where it has none. */
static int conv_ordinal(int arch, int block, int index) {
    struct ns_conv_weights L;
    for (int k = 0; ns_vgg_conv_layout(arch, k, &L); k++)
        if (L.block == block && L.index == index) return k;
    return -1;
}

/* torchvision's features.N of conv k: a ReLU follows each conv, a pool each block. */
static int tv_index(int k, int block) {
    return 2 * k + block - 1;
}

int ns_vgg_arch_from_convs(ns_vgg_has_conv_fn has, void *user) {
    /* VGG-16 only on evidence: conv4_1 where VGG-16 puts it and no conv3_4,
     * so block 3 ended at conv3_3 (torchvision's features.17 is a conv only
     * in VGG-16, features.16 only in VGG-19); a shorter prefix is the same
     * network in both and is called VGG-19 */
    return has(user, 16, 4, 1) && !has(user, 19, 3, 4) ? 16 : 19;
}

struct tensor_ref {
    const char *name;
    int64_t shape[4];
    int ndim;
    uint64_t begin, end; /* relative to the data section */
};

struct loader {
    const char *path;
    char *err;
    size_t err_len;
    int fd;            /* read with pread: a file that shrinks under a mapping
                          faults (SIGBUS); a short read is a sentence */
    uint64_t data_off; /* the data section */
    uint64_t data_len;
};

static enum ns_status fail(struct loader *ld, enum ns_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->err_len, "weights file '%s': %s", ld->path, msg);
    /* one line: names from the file may hold newlines (JSON's \n) */
    for (char *c = ld->err; ld->err_len && *c; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f) *c = '?';
    return st;
}

/* The member's string value, or NULL when absent or not a string. */
static const char *member_string(JsonObject *o, const char *name) {
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static bool node_is_int(JsonNode *n, int64_t *out) {
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE) return false;
    if (json_node_get_value_type(n) != G_TYPE_INT64) return false;
    *out = json_node_get_int(n);
    return true;
}

/* Checks one tensor entry of the header; fills ref when it is well formed. */
static enum ns_status check_entry(struct loader *ld, const char *name, JsonNode *node,
                                  struct tensor_ref *ref) {
    if (JSON_NODE_TYPE(node) != JSON_NODE_OBJECT)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "header entry '%s' is not an object", name);
    JsonObject *o = json_node_get_object(node);
    const char *dtype = member_string(o, "dtype");
    JsonNode *shape = json_object_get_member(o, "shape");
    JsonNode *offs = json_object_get_member(o, "data_offsets");
    if (!dtype || !shape || !offs || JSON_NODE_TYPE(shape) != JSON_NODE_ARRAY ||
        JSON_NODE_TYPE(offs) != JSON_NODE_ARRAY)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' lacks dtype, shape or data_offsets", name);

    static const struct {
        const char *name;
        int size;
    } dtypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2},    {"I64", 8},
                  {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},      {"BOOL", 1},
                  {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    int esize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtype, dtypes[i].name) == 0) esize = dtypes[i].size;
    if (!esize) return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has unknown dtype '%s'", name, dtype);

    JsonArray *sa = json_node_get_array(shape), *oa = json_node_get_array(offs);
    guint nd = json_array_get_length(sa);
    uint64_t numel = 1;
    ref->ndim = (int) nd;
    for (guint i = 0; i < nd; i++) {
        int64_t v;
        if (!node_is_int(json_array_get_element(sa, i), &v) || v < 0)
            return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has a malformed shape", name);
        if (v > 0 && numel > UINT64_MAX / (uint64_t) v)
            return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has an impossible shape", name);
        numel *= (uint64_t) v;
        if (i < 4) ref->shape[i] = v;
    }
    int64_t b, e;
    if (json_array_get_length(oa) != 2 || !node_is_int(json_array_get_element(oa, 0), &b) ||
        !node_is_int(json_array_get_element(oa, 1), &e) || b < 0 || e < b)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has malformed data_offsets", name);
    if ((uint64_t) e > ld->data_len)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "tensor '%s' ends at byte %lld of the data but the file holds only %llu: "
                    "the file is truncated, download it again",
                    name, (long long) e, (unsigned long long) ld->data_len);
    if (numel > UINT64_MAX / (uint64_t) esize || (uint64_t) (e - b) != numel * (uint64_t) esize)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has %lld bytes but its shape and dtype need %llu",
                    name, (long long) (e - b), (unsigned long long) (numel * (uint64_t) esize));
    ref->name = name;
    ref->begin = (uint64_t) b;
    ref->end = (uint64_t) e;
    if (strcmp(dtype, "F32") != 0) ref->ndim = -1; /* present but unusable: reported if needed */
    return NS_STATUS_OK;
}

static bool parse_triple(const char *s, float out[3]) {
    if (!s) return false;
    char *end;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !isfinite(v)) return false;
        out[i] = (float) v;
        s = end;
        while (*s == ' ')
            s++;
        if (i < 2) {
            if (*s != ',') return false;
            s++;
        }
    }
    while (*s == ' ')
        s++;
    return *s == '\0';
}

#define NS_INPUT_RANGE_MAX 65535.0

/* Fills the input convention from metadata, or from the naming scheme's
 * well-known default when the file has none. */
static enum ns_status read_convention(struct loader *ld, JsonObject *meta, bool torchvision_names,
                                      struct ns_weights *w) {
    const char *order = member_string(meta, "input_channel_order");
    const char *range = member_string(meta, "input_range");
    const char *mean = member_string(meta, "input_mean");
    const char *std = member_string(meta, "input_std");
    if (!order && !range && !mean && !std) {
        if (torchvision_names) {
            order = "RGB", range = "0..1", mean = "0.485,0.456,0.406", std = "0.229,0.224,0.225";
        } else {
            order = "BGR", range = "0..255", mean = "103.939,116.779,123.68", std = "1,1,1";
        }
    }
    if (!order || !range || !mean || !std)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "metadata must give all of input_channel_order, input_range, input_mean and input_std");
    if (strcmp(order, "RGB") == 0) {
        w->perm[0] = 0, w->perm[1] = 1, w->perm[2] = 2;
    } else if (strcmp(order, "BGR") == 0) {
        w->perm[0] = 2, w->perm[1] = 1, w->perm[2] = 0;
    } else {
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "input_channel_order '%s' is neither RGB nor BGR", order);
    }
    double lo = NAN, hi = NAN;
    const char *dots = strstr(range, "..");
    if (dots) {
        char first[64], *end;
        snprintf(first, sizeof first, "%.*s", (int) (dots - range), range);
        lo = strtod(first, &end);
        if (end == first || *end) lo = NAN;
        hi = strtod(dots + 2, &end);
        if (end == dots + 2 || *end) hi = NAN;
    }
    if (!isfinite(lo) || !isfinite(hi) || hi <= lo)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "input_range '%s' is not of the form 0..255", range);
    float m[3], s[3];
    if (!parse_triple(mean, m))
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "input_mean '%s' is not three numbers", mean);
    if (!parse_triple(std, s) || !(s[0] > 0 && s[1] > 0 && s[2] > 0))
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "input_std '%s' is not three positive numbers", std);
    /* Numbers that parse can still freeze or blow up the network's input:
     * the range is in pixel units (0..1 to 0..65535), each mean inside it,
     * and the input's span (hi - lo) / std between 0.01 and 1000 (Caffe's is
     * 255, torchvision's about 4.4). */
    if (fabs(lo) > NS_INPUT_RANGE_MAX || fabs(hi) > NS_INPUT_RANGE_MAX || hi - lo < 1e-3)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "input_range '%s' is not a pixel range (expected something like 0..1 or 0..255)", range);
    for (int c = 0; c < 3; c++) {
        if (!(m[c] >= lo && m[c] <= hi))
            return fail(ld, NS_STATUS_BAD_WEIGHTS, "input_mean '%s' lies outside input_range %s", mean, range);
        double span = (hi - lo) / s[c];
        if (!(span >= 0.01 && span <= 1000))
            return fail(ld, NS_STATUS_BAD_WEIGHTS,
                        "input_std '%s' makes the network's input span %.3g (expected 0.01 to 1000; "
                        "input_std is in input_range's units)",
                        std, span);
    }
    for (int c = 0; c < 3; c++) {
        w->a[c] = (float) ((hi - lo) / s[c]);
        w->b[c] = (float) ((lo - m[c]) / s[c]);
    }
    snprintf(w->convention, sizeof w->convention, "%s %s, mean %s, std %s", order, range, mean, std);
    return NS_STATUS_OK;
}

/* Maps a tensor name to (conv ordinal 0..15 in VGG-19 or VGG-16 order,
 * is_bias).  Returns false for names that are not VGG conv tensors. */
static bool parse_name(const char *name, int arch, int *ordinal, bool *is_bias) {
    int b, i, idx, ord = -1;
    char kind[8], extra;
    struct ns_conv_weights L;
    if (sscanf(name, "conv%d_%d.%7[a-z]%c", &b, &i, kind, &extra) == 3) {
        ord = conv_ordinal(arch, b, i);
    } else if (sscanf(name, "features.%d.%7[a-z]%c", &idx, kind, &extra) == 2) {
        for (int k = 0; ns_vgg_conv_layout(arch, k, &L); k++)
            if (tv_index(k, L.block) == idx) ord = k;
    }
    if (ord < 0) return false;
    *ordinal = ord;
    if (strcmp(kind, "weight") == 0)
        *is_bias = false;
    else if (strcmp(kind, "bias") == 0)
        *is_bias = true;
    else
        return false;
    return true;
}

/* A header's tensor names in one naming scheme, for ns_vgg_arch_from_convs. */
struct naming {
    JsonObject *root;
    bool torchvision;
};

static bool has_conv(void *user, int arch, int block, int index) {
    const struct naming *nm = user;
    char key[32];
    if (nm->torchvision) {
        int k = conv_ordinal(arch, block, index);
        if (k < 0) return false;
        snprintf(key, sizeof key, "features.%d.weight", tv_index(k, block));
    } else {
        snprintf(key, sizeof key, "conv%d_%d.weight", block, index);
    }
    return json_object_has_member(nm->root, key);
}

static int guess_arch(JsonObject *root, JsonObject *meta, bool *torchvision) {
    const char *a = member_string(meta, "architecture");
    *torchvision = json_object_has_member(root, "features.0.weight");
    if (a && (strcmp(a, "vgg16") == 0 || strcmp(a, "VGG16") == 0)) return 16;
    if (a && (strcmp(a, "vgg19") == 0 || strcmp(a, "VGG19") == 0)) return 19;
    if (a) return -1;
    /* each naming on its own evidence */
    struct naming caffe = {root, false}, tv = {root, true};
    bool vgg16 =
        ns_vgg_arch_from_convs(has_conv, &caffe) == 16 || ns_vgg_arch_from_convs(has_conv, &tv) == 16;
    return vgg16 ? 16 : 19;
}

void ns_weights_free(struct ns_weights *w) {
    if (!w) return;
    for (int i = 0; i < NS_MAX_LAYERS; i++) {
        free(w->layer[i].weight);
        free(w->layer[i].bias);
        w->layer[i].weight = w->layer[i].bias = NULL;
    }
    w->n_layers = 0;
}

static enum ns_status copy_tensor(struct loader *ld, const struct tensor_ref *r, float **out) {
    size_t n = (size_t) (r->end - r->begin) / sizeof(float);
    float *p = malloc(n * sizeof(float) + 1);
    if (!p) return fail(ld, NS_STATUS_OUT_OF_MEMORY, "not enough memory for tensor '%s'", r->name);
    size_t want = n * sizeof(float), got = 0;
    while (got < want) {
        ssize_t k = pread(ld->fd, (char *) p + got, want - got, (off_t) (ld->data_off + r->begin + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            free(p);
            if (k < 0) return fail(ld, NS_STATUS_IO_ERROR, "cannot read tensor '%s' (%s)", r->name, strerror(errno));
            return fail(ld, NS_STATUS_IO_ERROR,
                        "tensor '%s' ends past the end of the file: the file changed while it was read "
                        "(another install?); try again",
                        r->name);
        }
        got += (size_t) k;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) {
            free(p);
            return fail(ld, NS_STATUS_BAD_WEIGHTS,
                        "tensor '%s' contains NaN or infinite values: the file is corrupt", r->name);
        }
    *out = p;
    return NS_STATUS_OK;
}

size_t ns_json_check(const char *text, size_t len, int max_depth, int *depth) {
    int d = 0;
    bool in_string = false;
    *depth = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++d > *depth) *depth = d;
            if (d > max_depth) return i;
        } else if (c == ']' || c == '}') {
            d--; /* unbalanced: json-glib says so */
        } else if (c == 0 || (!strchr(" \t\r\n:,+-.", c) && !g_ascii_isalnum(c))) {
            /* json-glib takes 'strings' and comments, which would hide
             * brackets from this count: strict JSON has neither */
            return i;
        }
    }
    return len;
}

/* The header as a JSON object, and its __metadata__ (NULL when absent),
 * whose values must all be strings. */
static enum ns_status parse_root(struct loader *ld, JsonParser *parser, const char *header, size_t header_len,
                                 JsonObject **root, JsonObject **meta) {
    int depth;
    size_t at = ns_json_check(header, header_len, NS_MAX_JSON_DEPTH, &depth);
    if (at < header_len && depth > NS_MAX_JSON_DEPTH)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "its header nests JSON more than %d levels deep (a safetensors header needs 3): "
                    "not a safetensors file",
                    NS_MAX_JSON_DEPTH);
    if (at < header_len)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "the header is not valid JSON (byte 0x%02x at offset %zu, outside any string): "
                    "not a safetensors file?",
                    (unsigned char) header[at], at);
    GError *gerr = NULL;
    if (!json_parser_load_from_data(parser, header, (gssize) header_len, &gerr)) {
        enum ns_status st =
            fail(ld, NS_STATUS_BAD_WEIGHTS, "the header is not valid JSON (%s): not a safetensors file?",
                 gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        return st;
    }
    JsonNode *root_node = json_parser_get_root(parser);
    if (!root_node || JSON_NODE_TYPE(root_node) != JSON_NODE_OBJECT)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "the header is not a JSON object");
    *root = json_node_get_object(root_node);
    *meta = NULL;
    if (!json_object_has_member(*root, "__metadata__")) return NS_STATUS_OK;
    JsonNode *m = json_object_get_member(*root, "__metadata__");
    if (JSON_NODE_TYPE(m) != JSON_NODE_OBJECT)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "__metadata__ is not an object");
    *meta = json_node_get_object(m);
    enum ns_status st = NS_STATUS_OK;
    GList *keys = json_object_get_members(*meta);
    for (GList *k = keys; k && !st; k = k->next)
        if (!member_string(*meta, k->data))
            st = fail(ld, NS_STATUS_BAD_WEIGHTS, "metadata value '%s' is not a string", (char *) k->data);
    g_list_free(keys);
    return st;
}

/* Checks every entry, VGG conv tensor or not, and files the conv tensors
 * by slot: 2 * ordinal for the weight, + 1 for the bias. */
static enum ns_status collect_tensors(struct loader *ld, JsonObject *root, int arch, struct tensor_ref *refs,
                                      bool *have) {
    enum ns_status st = NS_STATUS_OK;
    GList *names = json_object_get_members(root); /* the strings stay the object's */
    for (GList *k = names; k && !st; k = k->next) {
        const char *name = k->data;
        if (strcmp(name, "__metadata__") == 0) continue;
        struct tensor_ref r;
        st = check_entry(ld, name, json_object_get_member(root, name), &r);
        int ord;
        bool is_bias;
        if (st || !parse_name(name, arch, &ord, &is_bias)) continue;
        int slot = 2 * ord + (is_bias ? 1 : 0);
        refs[slot] = r;
        have[slot] = true;
    }
    g_list_free(names);
    return st;
}

/* The number of conv layers present, which must form a prefix of the network. */
static enum ns_status count_prefix(struct loader *ld, int arch, const struct tensor_ref *refs,
                                   const bool *have, int *n_layers) {
    struct ns_conv_weights L;
    int total = 0, n = 0;
    while (ns_vgg_conv_layout(arch, total, &L))
        total++;
    while (n < total && (have[2 * n] || have[2 * n + 1]))
        n++;
    for (int k = n; k < total; k++)
        if (have[2 * k] || have[2 * k + 1])
            return fail(ld, NS_STATUS_BAD_WEIGHTS, "it has '%s' but misses an earlier conv layer",
                        refs[have[2 * k] ? 2 * k : 2 * k + 1].name);
    if (n == 0)
        return fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "no VGG convolution weights in it (expected tensors such as conv1_1.weight)");
    *n_layers = n;
    return NS_STATUS_OK;
}

/* Layer L's weight (part 0) or bias (part 1) must be F32 of VGG's shape. */
static enum ns_status check_shape(struct loader *ld, const struct tensor_ref *r,
                                  const struct ns_conv_weights *L, int part) {
    if (r->ndim < 0) return fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' is not F32", r->name);
    bool ok = part ? (r->ndim == 1 && r->shape[0] == L->cout)
                   : (r->ndim == 4 && r->shape[0] == L->cout && r->shape[1] == L->cin && r->shape[2] == 3 &&
                      r->shape[3] == 3);
    if (ok) return NS_STATUS_OK;
    char got[64] = "";
    for (int d = 0; d < r->ndim && d < 4; d++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "",
                 (long long) r->shape[d]);
    if (part)
        return fail(ld, NS_STATUS_BAD_WEIGHTS, "'%s' has shape [%s], VGG needs [%d]", r->name, got, L->cout);
    return fail(ld, NS_STATUS_BAD_WEIGHTS, "'%s' has shape [%s], VGG needs [%d,%d,3,3]", r->name, got,
                L->cout, L->cin);
}

/* Checks and reads the first n conv layers into w. */
static enum ns_status read_layers(struct loader *ld, const struct tensor_ref *refs, const bool *have, int n,
                                  struct ns_weights *w) {
    enum ns_status st = NS_STATUS_OK;
    for (int k = 0; k < n && !st; k++) {
        struct ns_conv_weights *L = &w->layer[k];
        ns_vgg_conv_layout(w->arch, k, L);
        for (int part = 0; part < 2 && !st; part++) {
            if (!have[2 * k + part])
                st = fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor %s.%s is missing", L->name,
                          part ? "bias" : "weight");
            if (!st) st = check_shape(ld, &refs[2 * k + part], L, part);
            if (!st) st = copy_tensor(ld, &refs[2 * k + part], part ? &L->bias : &L->weight);
        }
        w->n_layers = k + 1;
    }
    return st;
}

static enum ns_status parse(struct loader *ld, const char *header, size_t header_len, struct ns_weights *w) {
    JsonParser *parser = json_parser_new();
    JsonObject *root = NULL, *meta = NULL;
    struct tensor_ref refs[2 * NS_MAX_LAYERS];
    bool have[2 * NS_MAX_LAYERS] = {false}, torchvision = false;
    int n = 0;
    enum ns_status st = parse_root(ld, parser, header, header_len, &root, &meta);
    if (!st && (w->arch = guess_arch(root, meta, &torchvision)) < 0)
        st = fail(ld, NS_STATUS_BAD_WEIGHTS, "architecture '%s' is not vgg19 or vgg16",
                  member_string(meta, "architecture"));
    if (!st) st = collect_tensors(ld, root, w->arch, refs, have);
    if (!st) st = count_prefix(ld, w->arch, refs, have, &n);
    if (!st) st = read_layers(ld, refs, have, n, w);
    if (!st) st = read_convention(ld, meta, torchvision, w);
    g_object_unref(parser);
    return st;
}

enum ns_status ns_weights_load(const char *path, struct ns_weights *w, char *err, size_t err_len) {
    struct loader ld = {.path = path, .err = err, .err_len = err_len};
    memset(w, 0, sizeof *w);
    if (err_len) err[0] = '\0';

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(&ld, NS_STATUS_IO_ERROR, "cannot open it (%s)", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(&ld, NS_STATUS_IO_ERROR, "not a regular file");
    }
    uint64_t size = (uint64_t) sb.st_size;
    if (size < 8) {
        close(fd);
        return fail(&ld, NS_STATUS_BAD_WEIGHTS, "only %llu bytes long: truncated or not safetensors",
                    (unsigned long long) size);
    }
    uint8_t len8[8];
    char *header = NULL;
    uint64_t hlen = 0;
    if (pread(fd, len8, 8, 0) != 8) {
        close(fd);
        return fail(&ld, NS_STATUS_IO_ERROR, "cannot read its first 8 bytes (%s)", strerror(errno));
    }
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | len8[i];
    enum ns_status st;
    if (hlen > size - 8) {
        st = fail(&ld, NS_STATUS_BAD_WEIGHTS,
                  "its header claims %llu bytes but only %llu follow: truncated or not safetensors",
                  (unsigned long long) hlen, (unsigned long long) (size - 8));
    } else if (hlen > NS_MAX_HEADER || hlen < 2) {
        st = fail(&ld, NS_STATUS_BAD_WEIGHTS, "its header length %llu is implausible: not safetensors",
                  (unsigned long long) hlen);
    } else if (!(header = malloc((size_t) hlen))) {
        st = fail(&ld, NS_STATUS_OUT_OF_MEMORY, "not enough memory for its header");
    } else if (pread(fd, header, (size_t) hlen, 8) != (ssize_t) hlen) {
        st = fail(&ld, NS_STATUS_IO_ERROR, "cannot read its header: the file changed while it was read?");
    } else {
        ld.fd = fd;
        ld.data_off = 8 + hlen;
        ld.data_len = size - 8 - hlen;
        st = parse(&ld, header, (size_t) hlen, w);
    }
    free(header);
    close(fd);
    if (st) ns_weights_free(w);
    return st;
}
