/* safetensors_save.c - the one safetensors writer (VGG weights from the
 * Keras importer, style models from the ONNX importer, the tests, the fuzz
 * seeds): the header through json-glib, so names and metadata are escaped,
 * padded with spaces to 8 bytes as the format asks; then the tensors, F32,
 * in order; the file is written whole or not at all (ns_file_*, file.c). */
#include "safetensors.h"
#include "weights.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

/* One tensor entry; off advances past its data. */
static void add_tensor(JsonBuilder *jb, const char *key, const int *shape, int ndim, uint64_t *off) {
    uint64_t bytes = 4;
    json_builder_set_member_name(jb, key);
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "dtype");
    json_builder_add_string_value(jb, "F32");
    json_builder_set_member_name(jb, "shape");
    json_builder_begin_array(jb);
    for (int d = 0; d < ndim; d++) {
        json_builder_add_int_value(jb, shape[d]);
        bytes *= (uint64_t) shape[d];
    }
    json_builder_end_array(jb);
    json_builder_set_member_name(jb, "data_offsets");
    json_builder_begin_array(jb);
    json_builder_add_int_value(jb, (gint64) *off);
    json_builder_add_int_value(jb, (gint64) (*off + bytes));
    json_builder_end_array(jb);
    json_builder_end_object(jb);
    *off += bytes;
}

/* The metadata members as a JSON object node, NULL when they are not. */
static JsonNode *parse_meta(const char *members) {
    char *text = g_strdup_printf("{%s}", members);
    JsonParser *p = json_parser_new();
    JsonNode *node = NULL;
    if (json_parser_load_from_data(p, text, -1, NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        node = json_node_copy(json_parser_get_root(p));
    g_object_unref(p);
    g_free(text);
    return node;
}

/* The header text, padded with spaces to a multiple of 8 bytes. */
static gchar *build_header(const struct ns_st_out *t, int n, JsonNode *meta, size_t *len) {
    JsonBuilder *jb = json_builder_new();
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "__metadata__");
    json_builder_add_value(jb, meta); /* the builder owns it now */
    uint64_t off = 0;
    for (int i = 0; i < n; i++)
        add_tensor(jb, t[i].name, t[i].shape, t[i].ndim, &off);
    json_builder_end_object(jb);
    JsonGenerator *gen = json_generator_new();
    JsonNode *root = json_builder_get_root(jb);
    json_generator_set_root(gen, root);
    gsize hlen;
    gchar *text = json_generator_to_data(gen, &hlen);
    json_node_unref(root);
    g_object_unref(gen);
    g_object_unref(jb);
    *len = (hlen + 7) / 8 * 8;
    text = g_realloc(text, *len);
    memset(text + hlen, ' ', *len - hlen);
    return text;
}

static size_t elements(const struct ns_st_out *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t) t->shape[d];
    return n;
}

enum ns_status ns_st_save(const char *path, const struct ns_st_out *t, int n, const char *meta, char *err,
                          size_t err_len) {
    JsonNode *meta_node = parse_meta(meta ? meta : "");
    if (!meta_node) {
        snprintf(err, err_len, "cannot write '%s': its metadata is not JSON members", path);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    size_t len;
    gchar *header = build_header(t, n, meta_node, &len);
    /* whole or not at all: a new file renamed over the target (file.c) */
    struct ns_file *f;
    enum ns_status st = ns_file_begin(path, &f, err, err_len);
    if (!st) {
        unsigned char lb[8];
        for (int i = 0; i < 8; i++)
            lb[i] = (unsigned char) ((uint64_t) len >> (8 * i));
        ns_file_write(f, lb, 8);
        ns_file_write(f, header, len);
        for (int i = 0; i < n; i++)
            ns_file_write(f, t[i].data, sizeof(float) * elements(&t[i]));
        st = ns_file_commit(f, err, err_len);
    }
    g_free(header);
    return st;
}

enum ns_status ns_weights_save(const char *path, const struct ns_weights *w, const char *meta, char *err,
                               size_t err_len) {
    struct ns_st_out t[2 * NS_MAX_LAYERS];
    char names[2 * NS_MAX_LAYERS][32];
    for (int l = 0; l < w->n_layers; l++) {
        const struct ns_conv_weights *L = &w->layer[l];
        snprintf(names[2 * l], sizeof names[0], "%.15s.weight", L->name);
        snprintf(names[2 * l + 1], sizeof names[0], "%.15s.bias", L->name);
        t[2 * l] = (struct ns_st_out){names[2 * l], {L->cout, L->cin, 3, 3}, 4, L->weight};
        t[2 * l + 1] = (struct ns_st_out){names[2 * l + 1], {L->cout}, 1, L->bias};
    }
    char *members = meta ? g_strdup(meta) : g_strdup_printf(NS_META_CAFFE_FMT, w->arch);
    enum ns_status st = ns_st_save(path, t, 2 * w->n_layers, members, err, err_len);
    g_free(members);
    return st;
}
