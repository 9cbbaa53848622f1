/* safetensors.c - a checked reader of safetensors files (safetensors.h).
 *
 * The header is parsed with json-glib after ns_json_check has bounded its
 * nesting; the data is read with pread, tensor by tensor, so that a file
 * that shrinks while it is read gives a sentence rather than SIGBUS.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum ns_status ns_st_fail(struct ns_st_file *f, enum ns_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(f->err, f->err_len, "%s '%s': %s", f->what, f->path, msg);
    /* one line: names from the file may hold newlines (JSON's \n) */
    for (char *c = f->err; f->err_len && *c; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f) *c = '?';
    return st;
}

const char *ns_json_string(JsonObject *o, const char *name) {
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

static int dtype_size(const char *dtype) {
    static const struct {
        const char *name;
        int size;
    } dtypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2},    {"I64", 8},
                  {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},      {"BOOL", 1},
                  {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtype, dtypes[i].name) == 0) return dtypes[i].size;
    return 0;
}

/* Checks one tensor entry of the header; fills t when it is well formed. */
static enum ns_status check_entry(struct ns_st_file *f, const char *name, JsonNode *node,
                                  struct ns_st_tensor *t) {
    if (JSON_NODE_TYPE(node) != JSON_NODE_OBJECT)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "header entry '%s' is not an object", name);
    JsonObject *o = json_node_get_object(node);
    const char *dtype = ns_json_string(o, "dtype");
    JsonNode *shape = json_object_get_member(o, "shape");
    JsonNode *offs = json_object_get_member(o, "data_offsets");
    if (!dtype || !shape || !offs || JSON_NODE_TYPE(shape) != JSON_NODE_ARRAY ||
        JSON_NODE_TYPE(offs) != JSON_NODE_ARRAY)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' lacks dtype, shape or data_offsets", name);
    int esize = dtype_size(dtype);
    if (!esize) return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has unknown dtype '%s'", name, dtype);

    JsonArray *sa = json_node_get_array(shape), *oa = json_node_get_array(offs);
    guint nd = json_array_get_length(sa);
    uint64_t numel = 1;
    memset(t, 0, sizeof *t);
    t->ndim = (int) nd;
    for (guint i = 0; i < nd; i++) {
        int64_t v;
        if (!node_is_int(json_array_get_element(sa, i), &v) || v < 0)
            return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has a malformed shape", name);
        if (v > 0 && numel > UINT64_MAX / (uint64_t) v)
            return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has an impossible shape", name);
        numel *= (uint64_t) v;
        if (i < 4) t->shape[i] = v;
    }
    int64_t b, e;
    if (json_array_get_length(oa) != 2 || !node_is_int(json_array_get_element(oa, 0), &b) ||
        !node_is_int(json_array_get_element(oa, 1), &e) || b < 0 || e < b)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has malformed data_offsets", name);
    if ((uint64_t) e > f->data_len)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS,
                          "tensor '%s' ends at byte %lld of the data but the file holds only %llu: "
                          "the file is truncated, download it again",
                          name, (long long) e, (unsigned long long) f->data_len);
    if (numel > UINT64_MAX / (uint64_t) esize || (uint64_t) (e - b) != numel * (uint64_t) esize)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' has %lld bytes but its shape and dtype need %llu",
                          name, (long long) (e - b), (unsigned long long) (numel * (uint64_t) esize));
    t->name = name;
    t->begin = (uint64_t) b;
    t->end = (uint64_t) e;
    t->f32 = strcmp(dtype, "F32") == 0;
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
static enum ns_status parse_root(struct ns_st_file *f, const char *header, size_t header_len) {
    int depth;
    size_t at = ns_json_check(header, header_len, NS_MAX_JSON_DEPTH, &depth);
    if (at < header_len && depth > NS_MAX_JSON_DEPTH)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS,
                          "its header nests JSON more than %d levels deep (a safetensors header needs 3): "
                          "not a safetensors file",
                          NS_MAX_JSON_DEPTH);
    if (at < header_len)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS,
                          "the header is not valid JSON (byte 0x%02x at offset %zu, outside any string): "
                          "not a safetensors file?",
                          (unsigned char) header[at], at);
    GError *gerr = NULL;
    f->parser = json_parser_new();
    if (!json_parser_load_from_data(f->parser, header, (gssize) header_len, &gerr)) {
        enum ns_status st =
            ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "the header is not valid JSON (%s): not a safetensors file?",
                       gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        return st;
    }
    JsonNode *root_node = json_parser_get_root(f->parser);
    if (!root_node || JSON_NODE_TYPE(root_node) != JSON_NODE_OBJECT)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "the header is not a JSON object");
    f->root = json_node_get_object(root_node);
    f->meta = NULL;
    if (!json_object_has_member(f->root, "__metadata__")) return NS_STATUS_OK;
    JsonNode *m = json_object_get_member(f->root, "__metadata__");
    if (JSON_NODE_TYPE(m) != JSON_NODE_OBJECT)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "__metadata__ is not an object");
    f->meta = json_node_get_object(m);
    enum ns_status st = NS_STATUS_OK;
    GList *keys = json_object_get_members(f->meta);
    for (GList *k = keys; k && !st; k = k->next)
        if (!ns_json_string(f->meta, k->data))
            st = ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "metadata value '%s' is not a string", (char *) k->data);
    g_list_free(keys);
    return st;
}

/* Checks every tensor entry into f->tensors. */
static enum ns_status collect(struct ns_st_file *f) {
    enum ns_status st = NS_STATUS_OK;
    GList *names = json_object_get_members(f->root); /* the strings stay the object's */
    f->tensors = calloc(g_list_length(names) + 1, sizeof *f->tensors);
    if (!f->tensors) st = ns_st_fail(f, NS_STATUS_OUT_OF_MEMORY, "not enough memory for its header");
    for (GList *k = names; k && !st; k = k->next) {
        if (strcmp(k->data, "__metadata__") == 0) continue;
        st = check_entry(f, k->data, json_object_get_member(f->root, k->data), &f->tensors[f->n_tensors]);
        if (!st) f->n_tensors++;
    }
    g_list_free(names);
    return st;
}

void ns_st_close(struct ns_st_file *f) {
    if (f->fd >= 0) close(f->fd);
    if (f->parser) g_object_unref(f->parser);
    free(f->tensors);
    f->fd = -1;
    f->parser = NULL;
    f->root = f->meta = NULL;
    f->tensors = NULL;
    f->n_tensors = 0;
}

/* The header's bytes into a new string. */
static enum ns_status read_header(struct ns_st_file *f, uint64_t size, char **header, uint64_t *hlen) {
    uint8_t len8[8];
    if (size < 8)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "only %llu bytes long: truncated or not safetensors",
                          (unsigned long long) size);
    if (pread(f->fd, len8, 8, 0) != 8)
        return ns_st_fail(f, NS_STATUS_IO_ERROR, "cannot read its first 8 bytes (%s)", strerror(errno));
    *hlen = 0;
    for (int i = 7; i >= 0; i--)
        *hlen = (*hlen << 8) | len8[i];
    if (*hlen > size - 8)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS,
                          "its header claims %llu bytes but only %llu follow: truncated or not safetensors",
                          (unsigned long long) *hlen, (unsigned long long) (size - 8));
    if (*hlen > NS_MAX_HEADER || *hlen < 2)
        return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "its header length %llu is implausible: not safetensors",
                          (unsigned long long) *hlen);
    if (!(*header = malloc((size_t) *hlen)))
        return ns_st_fail(f, NS_STATUS_OUT_OF_MEMORY, "not enough memory for its header");
    if (pread(f->fd, *header, (size_t) *hlen, 8) != (ssize_t) *hlen)
        return ns_st_fail(f, NS_STATUS_IO_ERROR, "cannot read its header: the file changed while it was read?");
    f->data_off = 8 + *hlen;
    f->data_len = size - 8 - *hlen;
    return NS_STATUS_OK;
}

enum ns_status ns_st_open(struct ns_st_file *f, const char *path, const char *what, char *err,
                          size_t err_len) {
    memset(f, 0, sizeof *f);
    f->path = path, f->what = what, f->err = err, f->err_len = err_len, f->fd = -1;
    if (err_len) err[0] = '\0';
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) return ns_st_fail(f, NS_STATUS_IO_ERROR, "cannot open it (%s)", strerror(errno));
    struct stat sb;
    enum ns_status st = NS_STATUS_OK;
    char *header = NULL;
    uint64_t hlen = 0;
    if (fstat(f->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) st = ns_st_fail(f, NS_STATUS_IO_ERROR, "not a regular file");
    if (!st) st = read_header(f, (uint64_t) sb.st_size, &header, &hlen);
    if (!st) st = parse_root(f, header, (size_t) hlen);
    if (!st) st = collect(f);
    free(header);
    if (st) ns_st_close(f);
    return st;
}

const struct ns_st_tensor *ns_st_find(const struct ns_st_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *ns_st_meta(const struct ns_st_file *f, const char *key) {
    return ns_json_string(f->meta, key);
}

void ns_st_shape_text(const struct ns_st_tensor *t, char *out, size_t len) {
    snprintf(out, len, "[");
    for (int d = 0; d < t->ndim && d < 4; d++)
        snprintf(out + strlen(out), len - strlen(out), "%s%lld", d ? "," : "", (long long) t->shape[d]);
    snprintf(out + strlen(out), len - strlen(out), "%s]", t->ndim > 4 ? ",..." : "");
}

enum ns_status ns_st_read_f32(struct ns_st_file *f, const struct ns_st_tensor *t, float **out) {
    if (!t->f32) return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS, "tensor '%s' is not F32", t->name);
    size_t n = (size_t) (t->end - t->begin) / sizeof(float);
    float *p = malloc(n * sizeof(float) + 1);
    if (!p) return ns_st_fail(f, NS_STATUS_OUT_OF_MEMORY, "not enough memory for tensor '%s'", t->name);
    size_t want = n * sizeof(float), got = 0;
    while (got < want) {
        ssize_t k = pread(f->fd, (char *) p + got, want - got, (off_t) (f->data_off + t->begin + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            free(p);
            if (k < 0)
                return ns_st_fail(f, NS_STATUS_IO_ERROR, "cannot read tensor '%s' (%s)", t->name, strerror(errno));
            return ns_st_fail(f, NS_STATUS_IO_ERROR,
                              "tensor '%s' ends past the end of the file: the file changed while it was read "
                              "(another install?); try again",
                              t->name);
        }
        got += (size_t) k;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) {
            free(p);
            return ns_st_fail(f, NS_STATUS_BAD_WEIGHTS,
                              "tensor '%s' contains NaN or infinite values: the file is corrupt", t->name);
        }
    *out = p;
    return NS_STATUS_OK;
}
