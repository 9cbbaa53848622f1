/* ns-weights - weights tool.
 *
 *   ns-weights import-keras IN.h5 OUT.safetensors
 *       Keras VGG16/19 "notop" .h5 (HDF5, read with libhdf5, each layer group
 *       followed through its weight_names attribute) -> the engine's layout:
 *       conv<B>_<C>.weight [out,in,3,3] and .bias, Caffe/BGR metadata.
 *   ns-weights info FILE.safetensors
 *       loads the file with the engine's loader and prints what it holds.
 *   ns-weights manifest MANIFEST.json
 *       prints "file md5 url" lines of the manifest for install.sh.
 */
#include "weights.h"

#include <hdf5.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: ns-weights import-keras IN.h5 OUT.safetensors\n"
                    "       ns-weights info FILE.safetensors\n"
                    "       ns-weights manifest MANIFEST.json\n");
    return 2;
}

/* The strings of a string-array attribute (fixed or variable length). */
static int read_string_attr(hid_t obj, const char *name, char out[][256], int max) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int count = -1;
    if (H5Tget_class(type) == H5T_STRING && n > 0 && n <= max) {
        if (H5Tis_variable_str(type) > 0) {
            char **v = calloc((size_t) n, sizeof(char *));
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type)); /* h5py writes UTF-8 */
            if (H5Aread(attr, mem, v) >= 0) {
                for (hssize_t i = 0; i < n; i++)
                    snprintf(out[i], 256, "%s", v[i] ? v[i] : "");
                H5Dvlen_reclaim(mem, space, H5P_DEFAULT, v);
                count = (int) n;
            }
            H5Tclose(mem);
            free(v);
        } else {
            /* one more byte than stored, so a full-length string keeps its end */
            size_t len = H5Tget_size(type) + 1;
            char *buf = calloc((size_t) n, len);
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, len);
            H5Tset_cset(mem, H5Tget_cset(type));
            if (H5Aread(attr, mem, buf) >= 0) {
                for (hssize_t i = 0; i < n; i++)
                    snprintf(out[i], 256, "%.*s", (int) len, buf + i * len);
                count = (int) n;
            }
            H5Tclose(mem);
            free(buf);
        }
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
    return count;
}

/* Reads a float dataset of the given rank; dims filled. */
static float *read_dataset(hid_t base, const char *path, int rank, hsize_t *dims, char *err, size_t elen) {
    if (H5Lexists(base, path, H5P_DEFAULT) <= 0) {
        snprintf(err, elen, "dataset '%s' named in weight_names does not exist", path);
        return NULL;
    }
    hid_t ds = H5Dopen(base, path, H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    float *data = NULL;
    if (H5Sget_simple_extent_ndims(space) != rank) {
        snprintf(err, elen, "dataset '%s' has rank %d, expected %d", path, H5Sget_simple_extent_ndims(space),
                 rank);
    } else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        hsize_t n = 1;
        for (int i = 0; i < rank; i++)
            n *= dims[i];
        data = malloc(n * sizeof(float));
        if (!data || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            snprintf(err, elen, "cannot read dataset '%s'", path);
            free(data);
            data = NULL;
        }
    }
    H5Sclose(space);
    H5Dclose(ds);
    return data;
}

struct layer_out {
    char name[16];
    int cout, cin;
    float *w; /* OIHW */
    float *b;
};

static int import_keras(const char *in, const char *out) {
    H5Eset_auto(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack dumps */
    hid_t file = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "ns-weights: cannot open '%s' as HDF5 (is it the Keras .h5 file?)\n", in);
        return 1;
    }
    /* a whole-model save keeps the layers under model_weights/ */
    hid_t base = H5Lexists(file, "model_weights", H5P_DEFAULT) > 0
                     ? H5Gopen(file, "model_weights", H5P_DEFAULT)
                     : H5Gopen(file, "/", H5P_DEFAULT);
    struct layer_out layers[NS_MAX_LAYERS];
    /* VGG-16 only on evidence (block3 ends at conv3 and block4 follows); a
     * shorter prefix is the same for both and is called VGG-19 */
    bool vgg16 = H5Lexists(base, "block3_conv3", H5P_DEFAULT) > 0 &&
                 H5Lexists(base, "block4_conv1", H5P_DEFAULT) > 0 &&
                 H5Lexists(base, "block3_conv4", H5P_DEFAULT) <= 0;
    int n = 0, arch = vgg16 ? 16 : 19, rc = 0;
    char err[512] = "";
    for (int b = 1; b <= 5 && !rc; b++)
        for (int c = 1; c <= ns_vgg_block_convs(arch, b) && !rc; c++) {
            char group[32];
            snprintf(group, sizeof group, "block%d_conv%d", b, c);
            if (H5Lexists(base, group, H5P_DEFAULT) <= 0) goto done;
            hid_t g = H5Gopen(base, group, H5P_DEFAULT);
            char names[8][256];
            int k = read_string_attr(g, "weight_names", names, 8);
            float *w = NULL, *bias = NULL;
            hsize_t wd[4] = {0}, bd[1] = {0};
            if (k < 2) {
                snprintf(err, sizeof err, "group '%s' has no weight_names attribute listing kernel and bias",
                         group);
            } else {
                for (int i = 0; i < k && !err[0]; i++) {
                    /* kernel and bias are told apart by rank, names vary by Keras version */
                    hid_t ds = H5Dopen(g, names[i], H5P_DEFAULT);
                    int rank = -1;
                    if (ds >= 0) {
                        hid_t sp = H5Dget_space(ds);
                        rank = H5Sget_simple_extent_ndims(sp);
                        H5Sclose(sp);
                        H5Dclose(ds);
                    }
                    if (rank == 4 && !w)
                        w = read_dataset(g, names[i], 4, wd, err, sizeof err);
                    else if (rank == 1 && !bias)
                        bias = read_dataset(g, names[i], 1, bd, err, sizeof err);
                    else if (rank < 0)
                        snprintf(err, sizeof err, "'%s/%.200s' does not exist", group, names[i]);
                }
                if (!err[0] && (!w || !bias))
                    snprintf(err, sizeof err, "group '%s' lacks a kernel or a bias", group);
            }
            H5Gclose(g);
            int cin = n ? layers[n - 1].cout : 3, cout = ns_vgg_block_channels(b);
            if (!err[0] && (wd[0] != 3 || wd[1] != 3 || wd[2] != (hsize_t) cin || wd[3] != (hsize_t) cout ||
                            bd[0] != (hsize_t) cout))
                snprintf(err, sizeof err, "%s kernel is [%llu,%llu,%llu,%llu], VGG needs [3,3,%d,%d] (HWIO)",
                         group, (unsigned long long) wd[0], (unsigned long long) wd[1],
                         (unsigned long long) wd[2], (unsigned long long) wd[3], cin, cout);
            if (err[0]) {
                free(w), free(bias);
                rc = 1;
                break;
            }
            struct layer_out *L = &layers[n++];
            snprintf(L->name, sizeof L->name, "conv%d_%d", b, c);
            L->cin = cin, L->cout = cout, L->b = bias;
            L->w = malloc(sizeof(float) * 9 * cin * cout);
            /* HWIO -> OIHW */
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    for (int i = 0; i < cin; i++)
                        for (int o = 0; o < cout; o++)
                            L->w[(((size_t) o * cin + i) * 3 + ky) * 3 + kx] =
                                w[(((size_t) ky * 3 + kx) * cin + i) * cout + o];
            free(w);
        }
done:
    H5Gclose(base);
    H5Fclose(file);
    if (!rc && n == 0)
        snprintf(err, sizeof err, "no block1_conv1 group: not a Keras VGG weights file"), rc = 1;
    if (rc) {
        fprintf(stderr, "ns-weights: '%s': %s\n", in, err);
        for (int i = 0; i < n; i++)
            free(layers[i].w), free(layers[i].b);
        return 1;
    }

    /* header through json-glib */
    JsonBuilder *jb = json_builder_new();
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "__metadata__");
    json_builder_begin_object(jb);
    const char *meta[][2] = {{"architecture", arch == 19 ? "vgg19" : "vgg16"},
                             {"input_channel_order", "BGR"},
                             {"input_range", "0..255"},
                             {"input_mean", "103.939,116.779,123.68"},
                             {"input_std", "1,1,1"},
                             {"source", "Keras VGG notop .h5 (Oxford VGG, CC BY 4.0), HWIO -> OIHW"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        json_builder_set_member_name(jb, meta[i][0]);
        json_builder_add_string_value(jb, meta[i][1]);
    }
    json_builder_end_object(jb);
    uint64_t off = 0;
    for (int l = 0; l < n; l++)
        for (int part = 0; part < 2; part++) {
            char key[64];
            snprintf(key, sizeof key, "%.15s.%s", layers[l].name, part ? "bias" : "weight");
            uint64_t bytes =
                part ? (uint64_t) layers[l].cout * 4 : (uint64_t) layers[l].cout * layers[l].cin * 36;
            json_builder_set_member_name(jb, key);
            json_builder_begin_object(jb);
            json_builder_set_member_name(jb, "dtype");
            json_builder_add_string_value(jb, "F32");
            json_builder_set_member_name(jb, "shape");
            json_builder_begin_array(jb);
            json_builder_add_int_value(jb, layers[l].cout);
            if (!part) {
                json_builder_add_int_value(jb, layers[l].cin);
                json_builder_add_int_value(jb, 3);
                json_builder_add_int_value(jb, 3);
            }
            json_builder_end_array(jb);
            json_builder_set_member_name(jb, "data_offsets");
            json_builder_begin_array(jb);
            json_builder_add_int_value(jb, (gint64) off);
            json_builder_add_int_value(jb, (gint64) (off + bytes));
            json_builder_end_array(jb);
            json_builder_end_object(jb);
            off += bytes;
        }
    json_builder_end_object(jb);
    JsonGenerator *gen = json_generator_new();
    JsonNode *root = json_builder_get_root(jb);
    json_generator_set_root(gen, root);
    gsize hlen;
    gchar *header = json_generator_to_data(gen, &hlen);
    json_node_unref(root);
    g_object_unref(gen);
    g_object_unref(jb);

    /* write beside the target, then rename: never a half-written file */
    char *tmp = g_strdup_printf("%s.partial", out);
    FILE *f = fopen(tmp, "wb");
    size_t padded = (hlen + 7) / 8 * 8;
    bool ok = f != NULL;
    if (ok) {
        unsigned char lb[8];
        for (int i = 0; i < 8; i++)
            lb[i] = (unsigned char) ((uint64_t) padded >> (8 * i));
        ok = fwrite(lb, 1, 8, f) == 8 && fwrite(header, 1, hlen, f) == hlen;
        for (size_t i = hlen; i < padded && ok; i++)
            ok = fputc(' ', f) != EOF;
        for (int l = 0; l < n && ok; l++) {
            size_t nw = (size_t) layers[l].cout * layers[l].cin * 9;
            ok = fwrite(layers[l].w, 4, nw, f) == nw &&
                 fwrite(layers[l].b, 4, layers[l].cout, f) == (size_t) layers[l].cout;
        }
        ok = (fclose(f) == 0) && ok;
    }
    if (ok) ok = rename(tmp, out) == 0;
    if (!ok) {
        fprintf(stderr, "ns-weights: cannot write '%s'\n", out);
        remove(tmp);
    } else {
        printf("ns-weights: wrote %s: VGG-%d, %d conv layers (conv1_1 .. %s)\n", out, arch, n,
               layers[n - 1].name);
    }
    g_free(tmp);
    g_free(header);
    for (int i = 0; i < n; i++)
        free(layers[i].w), free(layers[i].b);
    return ok ? 0 : 1;
}

static int info(const char *path) {
    struct ns_weights w;
    char err[512];
    if (ns_weights_load(path, &w, err, sizeof err)) {
        fprintf(stderr, "ns-weights: %s\n", err);
        return 1;
    }
    printf("%s: VGG-%d, %d conv layers (conv1_1 .. %s), input %s\n", path, w.arch, w.n_layers,
           w.layer[w.n_layers - 1].name, w.convention);
    ns_weights_free(&w);
    return 0;
}

static int manifest(const char *path) {
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    if (!json_parser_load_from_file(p, path, &e)) {
        fprintf(stderr, "ns-weights: %s: %s\n", path, e->message);
        g_error_free(e);
        g_object_unref(p);
        return 1;
    }
    JsonNode *root = json_parser_get_root(p);
    JsonArray *files =
        JSON_NODE_HOLDS_OBJECT(root) && json_object_has_member(json_node_get_object(root), "files")
            ? json_object_get_array_member(json_node_get_object(root), "files")
            : NULL;
    int rc = files ? 0 : 1;
    for (guint i = 0; files && i < json_array_get_length(files); i++) {
        JsonObject *o = json_array_get_object_element(files, i);
        JsonArray *urls = json_object_get_array_member(o, "urls");
        for (guint k = 0; urls && k < json_array_get_length(urls); k++)
            printf("%s %s %s\n", json_object_get_string_member(o, "file"),
                   json_object_get_string_member(o, "md5"), json_array_get_string_element(urls, k));
    }
    g_object_unref(p);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "import-keras") == 0) return import_keras(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "info") == 0) return info(argv[2]);
    if (argc == 3 && strcmp(argv[1], "manifest") == 0) return manifest(argv[2]);
    return usage();
}
