/* weights.c - VGG conv weights from safetensors (read by safetensors.c,
 * which checks the file before a byte of tensor data is read).  Accepted
 * names: "conv3_1.weight" (Caffe/Keras naming) and torchvision's
 * "features.<index>.weight".  The input convention comes from __metadata__.
 * VGG's layout and the rule that tells VGG-16 from VGG-19 live here too, for
 * the importer (weights/ns-weights.c) and the network to share.
 */
#include "weights.h"

#include "safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static enum ns_status read_convention(struct ns_st_file *ld, JsonObject *meta, bool torchvision_names,
                                      struct ns_weights *w) {
    const char *order = ns_json_string(meta, "input_channel_order");
    const char *range = ns_json_string(meta, "input_range");
    const char *mean = ns_json_string(meta, "input_mean");
    const char *std = ns_json_string(meta, "input_std");
    if (!order && !range && !mean && !std) {
        if (torchvision_names) {
            order = "RGB", range = "0..1", mean = "0.485,0.456,0.406", std = "0.229,0.224,0.225";
        } else {
            order = "BGR", range = "0..255", mean = "103.939,116.779,123.68", std = "1,1,1";
        }
    }
    if (!order || !range || !mean || !std)
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "metadata must give all of input_channel_order, input_range, input_mean and input_std");
    if (strcmp(order, "RGB") == 0) {
        w->perm[0] = 0, w->perm[1] = 1, w->perm[2] = 2;
    } else if (strcmp(order, "BGR") == 0) {
        w->perm[0] = 2, w->perm[1] = 1, w->perm[2] = 0;
    } else {
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "input_channel_order '%s' is neither RGB nor BGR", order);
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
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "input_range '%s' is not of the form 0..255", range);
    float m[3], s[3];
    if (!parse_triple(mean, m))
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "input_mean '%s' is not three numbers", mean);
    if (!parse_triple(std, s) || !(s[0] > 0 && s[1] > 0 && s[2] > 0))
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "input_std '%s' is not three positive numbers", std);
    /* Numbers that parse can still freeze or blow up the network's input:
     * the range is in pixel units (0..1 to 0..65535), each mean inside it,
     * and the input's span (hi - lo) / std between 0.01 and 1000 (Caffe's is
     * 255, torchvision's about 4.4). */
    if (fabs(lo) > NS_INPUT_RANGE_MAX || fabs(hi) > NS_INPUT_RANGE_MAX || hi - lo < 1e-3)
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS,
                    "input_range '%s' is not a pixel range (expected something like 0..1 or 0..255)", range);
    for (int c = 0; c < 3; c++) {
        if (!(m[c] >= lo && m[c] <= hi))
            return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "input_mean '%s' lies outside input_range %s", mean, range);
        double span = (hi - lo) / s[c];
        if (!(span >= 0.01 && span <= 1000))
            return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS,
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
    const char *a = ns_json_string(meta, "architecture");
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

/* Files the VGG conv tensors by slot: 2 * ordinal for the weight, + 1 for
 * the bias (the reader has checked every entry). */
static void collect_tensors(const struct ns_st_file *ld, int arch, const struct ns_st_tensor **refs) {
    for (int i = 0; i < ld->n_tensors; i++) {
        int ord;
        bool is_bias;
        if (parse_name(ld->tensors[i].name, arch, &ord, &is_bias)) refs[2 * ord + (is_bias ? 1 : 0)] = &ld->tensors[i];
    }
}

/* The number of conv layers present, which must form a prefix of the network. */
static enum ns_status count_prefix(struct ns_st_file *ld, int arch, const struct ns_st_tensor *const *refs,
                                   int *n_layers) {
    struct ns_conv_weights L;
    int total = 0, n = 0;
    while (ns_vgg_conv_layout(arch, total, &L))
        total++;
    while (n < total && (refs[2 * n] || refs[2 * n + 1]))
        n++;
    for (int k = n; k < total; k++)
        if (refs[2 * k] || refs[2 * k + 1])
            return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "it has '%s' but misses an earlier conv layer",
                              (refs[2 * k] ? refs[2 * k] : refs[2 * k + 1])->name);
    if (n == 0)
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS,
                          "no VGG convolution weights in it (expected tensors such as conv1_1.weight)");
    *n_layers = n;
    return NS_STATUS_OK;
}

/* Layer L's weight (part 0) or bias (part 1) must be F32 of VGG's shape. */
static enum ns_status check_shape(struct ns_st_file *ld, const struct ns_st_tensor *r,
                                  const struct ns_conv_weights *L, int part) {
    if (!r->f32) return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor '%s' is not F32", r->name);
    bool ok = part ? (r->ndim == 1 && r->shape[0] == L->cout)
                   : (r->ndim == 4 && r->shape[0] == L->cout && r->shape[1] == L->cin && r->shape[2] == 3 &&
                      r->shape[3] == 3);
    if (ok) return NS_STATUS_OK;
    char got[64];
    ns_st_shape_text(r, got, sizeof got);
    if (part)
        return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "'%s' has shape %s, VGG needs [%d]", r->name, got, L->cout);
    return ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "'%s' has shape %s, VGG needs [%d,%d,3,3]", r->name, got,
                      L->cout, L->cin);
}

/* Checks and reads the first n conv layers into w. */
static enum ns_status read_layers(struct ns_st_file *ld, const struct ns_st_tensor *const *refs, int n,
                                  struct ns_weights *w) {
    enum ns_status st = NS_STATUS_OK;
    for (int k = 0; k < n && !st; k++) {
        struct ns_conv_weights *L = &w->layer[k];
        ns_vgg_conv_layout(w->arch, k, L);
        for (int part = 0; part < 2 && !st; part++) {
            const struct ns_st_tensor *r = refs[2 * k + part];
            if (!r)
                st = ns_st_fail(ld, NS_STATUS_BAD_WEIGHTS, "tensor %s.%s is missing", L->name,
                                part ? "bias" : "weight");
            if (!st) st = check_shape(ld, r, L, part);
            if (!st) st = ns_st_read_f32(ld, r, part ? &L->bias : &L->weight);
        }
        w->n_layers = k + 1;
    }
    return st;
}

enum ns_status ns_weights_load(const char *path, struct ns_weights *w, char *err, size_t err_len) {
    struct ns_st_file f;
    const struct ns_st_tensor *refs[2 * NS_MAX_LAYERS] = {NULL};
    bool torchvision = false;
    int n = 0;
    memset(w, 0, sizeof *w);
    enum ns_status st = ns_st_open(&f, path, "weights file", err, err_len);
    if (st) return st;
    if ((w->arch = guess_arch(f.root, f.meta, &torchvision)) < 0)
        st = ns_st_fail(&f, NS_STATUS_BAD_WEIGHTS, "architecture '%s' is not vgg19 or vgg16",
                        ns_json_string(f.meta, "architecture"));
    if (!st) collect_tensors(&f, w->arch, refs);
    if (!st) st = count_prefix(&f, w->arch, refs, &n);
    if (!st) st = read_layers(&f, refs, n, w);
    if (!st) st = read_convention(&f, f.meta, torchvision, w);
    ns_st_close(&f);
    if (st) ns_weights_free(w);
    return st;
}
