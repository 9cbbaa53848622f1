/* weights_save.c - the one safetensors writer (the Keras importer, the
 * tests, the fuzz seeds): the header through json-glib, so names and
 * metadata are escaped, padded with spaces to 8 bytes as the format asks;
 * then each layer's weight and bias, F32, in layer order; the file is
 * written whole or not at all (ns_file_*, file.c). */
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
static gchar *build_header(const struct ns_weights *w, JsonNode *meta, size_t *len) {
    JsonBuilder *jb = json_builder_new();
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "__metadata__");
    json_builder_add_value(jb, meta); /* the builder owns it now */
    uint64_t off = 0;
    for (int l = 0; l < w->n_layers; l++) {
        const struct ns_conv_weights *L = &w->layer[l];
        const int shape[4] = {L->cout, L->cin, 3, 3};
        char key[64];
        snprintf(key, sizeof key, "%.15s.weight", L->name);
        add_tensor(jb, key, shape, 4, &off);
        snprintf(key, sizeof key, "%.15s.bias", L->name);
        add_tensor(jb, key, shape, 1, &off);
    }
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

enum ns_status ns_weights_save(const char *path, const struct ns_weights *w, const char *meta, char *err,
                               size_t err_len) {
    char *members = meta ? g_strdup(meta) : g_strdup_printf(NS_META_CAFFE_FMT, w->arch);
    JsonNode *meta_node = parse_meta(members);
    g_free(members);
    if (!meta_node) {
        snprintf(err, err_len, "cannot write '%s': its metadata is not JSON members", path);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    size_t len;
    gchar *header = build_header(w, meta_node, &len);
    /* whole or not at all: a new file renamed over the target (file.c) */
    struct ns_file *f;
    enum ns_status st = ns_file_begin(path, &f, err, err_len);
    if (!st) {
        unsigned char lb[8];
        for (int i = 0; i < 8; i++)
            lb[i] = (unsigned char) ((uint64_t) len >> (8 * i));
        ns_file_write(f, lb, 8);
        ns_file_write(f, header, len);
        for (int l = 0; l < w->n_layers; l++) {
            const struct ns_conv_weights *L = &w->layer[l];
            ns_file_write(f, L->weight, sizeof(float) * (size_t) L->cout * (size_t) L->cin * 9);
            ns_file_write(f, L->bias, sizeof(float) * (size_t) L->cout);
        }
        st = ns_file_commit(f, err, err_len);
    }
    g_free(header);
    return st;
}
