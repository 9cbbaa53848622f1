/* ns-weights - weights tool.
 *
 *   ns-weights import-keras IN.h5 OUT.safetensors
 *       Keras VGG16/19 "notop" .h5 (HDF5, read with libhdf5, each layer group
 *       followed through its weight_names attribute) -> the engine's layout:
 *       conv<B>_<C>.weight [out,in,3,3] and .bias, Caffe/BGR metadata,
 *       written by the engine's one writer (ns_weights_save).
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

/* The Keras group of conv blockB_convI. */
static void keras_group(char out[32], int block, int index) {
    snprintf(out, 32, "block%d_conv%d", block, index);
}

/* ns_vgg_has_conv_fn over the groups: Keras names them alike in both nets. */
static bool keras_has_conv(void *base, int arch, int block, int index) {
    char group[32];
    keras_group(group, block, index);
    return H5Lexists(*(hid_t *) base, group, H5P_DEFAULT) > 0;
}

/* The kernel (HWIO) and bias of a layer group, through its weight_names;
 * dims filled.  False with err filled when they are not both there. */
static bool read_kernel_bias(hid_t g, const char *group, float **w, hsize_t wd[4], float **bias,
                             hsize_t bd[1], char *err, size_t elen) {
    char names[8][256];
    int k = read_string_attr(g, "weight_names", names, 8);
    if (k < 2) {
        snprintf(err, elen, "group '%s' has no weight_names attribute listing kernel and bias", group);
        return false;
    }
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
        if (rank == 4 && !*w)
            *w = read_dataset(g, names[i], 4, wd, err, elen);
        else if (rank == 1 && !*bias)
            *bias = read_dataset(g, names[i], 1, bd, err, elen);
        else if (rank < 0)
            snprintf(err, elen, "'%s/%.200s' does not exist", group, names[i]);
    }
    if (!err[0] && (!*w || !*bias)) snprintf(err, elen, "group '%s' lacks a kernel or a bias", group);
    return !err[0];
}

/* Keras's HWIO kernel as the engine's OIHW. */
static float *hwio_to_oihw(const float *w, int cin, int cout) {
    float *t = malloc(sizeof(float) * 9 * cin * cout);
    if (!t) return NULL;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            for (int i = 0; i < cin; i++)
                for (int o = 0; o < cout; o++)
                    t[(((size_t) o * cin + i) * 3 + ky) * 3 + kx] =
                        w[(((size_t) ky * 3 + kx) * cin + i) * cout + o];
    return t;
}

/* Reads one group into L (laid out already): its kernel checked against VGG's. */
static bool read_layer(hid_t base, const char *group, struct ns_conv_weights *L, char *err, size_t elen) {
    hid_t g = H5Gopen(base, group, H5P_DEFAULT);
    float *w = NULL, *bias = NULL;
    hsize_t wd[4] = {0}, bd[1] = {0};
    bool ok = read_kernel_bias(g, group, &w, wd, &bias, bd, err, elen);
    H5Gclose(g);
    int cin = L->cin, cout = L->cout;
    if (ok && (wd[0] != 3 || wd[1] != 3 || wd[2] != (hsize_t) cin || wd[3] != (hsize_t) cout ||
               bd[0] != (hsize_t) cout)) {
        snprintf(err, elen, "%s kernel is [%llu,%llu,%llu,%llu], VGG needs [3,3,%d,%d] (HWIO)", group,
                 (unsigned long long) wd[0], (unsigned long long) wd[1], (unsigned long long) wd[2],
                 (unsigned long long) wd[3], cin, cout);
        ok = false;
    }
    if (ok && !(L->weight = hwio_to_oihw(w, cin, cout))) {
        snprintf(err, elen, "not enough memory for %s", group);
        ok = false;
    }
    free(w);
    if (ok)
        L->bias = bias;
    else
        free(bias);
    return ok;
}

/* The conv groups in VGG-<w->arch> order, up to the first absent one. */
static bool read_layers(hid_t base, struct ns_weights *w, char *err, size_t elen) {
    for (int k = 0; ns_vgg_conv_layout(w->arch, k, &w->layer[k]); k++) {
        char group[32];
        keras_group(group, w->layer[k].block, w->layer[k].index);
        if (H5Lexists(base, group, H5P_DEFAULT) <= 0) break;
        if (!read_layer(base, group, &w->layer[k], err, elen)) return false;
        w->n_layers = k + 1;
    }
    if (w->n_layers == 0) {
        snprintf(err, elen, "no block1_conv1 group: not a Keras VGG weights file");
        return false;
    }
    return true;
}

/* Keras's layers as the engine's weights; false with err filled. */
static bool read_keras(hid_t file, struct ns_weights *w, char *err, size_t elen) {
    /* a whole-model save keeps the layers under model_weights/ */
    hid_t base = H5Lexists(file, "model_weights", H5P_DEFAULT) > 0
                     ? H5Gopen(file, "model_weights", H5P_DEFAULT)
                     : H5Gopen(file, "/", H5P_DEFAULT);
    w->arch = ns_vgg_arch_from_convs(keras_has_conv, &base);
    bool ok = read_layers(base, w, err, elen);
    H5Gclose(base);
    return ok;
}

static int import_keras(const char *in, const char *out) {
    H5Eset_auto(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack dumps */
    hid_t file = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "ns-weights: cannot open '%s' as HDF5 (is it the Keras .h5 file?)\n", in);
        return 1;
    }
    struct ns_weights w = {0};
    char err[512] = "";
    bool ok = read_keras(file, &w, err, sizeof err);
    H5Fclose(file);
    if (!ok) {
        fprintf(stderr, "ns-weights: '%s': %s\n", in, err);
    } else {
        char *meta = g_strdup_printf(NS_META_CAFFE_FMT ",\"source\":\"%s\"", w.arch,
                                     "Keras VGG notop .h5 (Oxford VGG, CC BY 4.0), HWIO -> OIHW");
        ok = ns_weights_save(out, &w, meta) == NS_STATUS_OK;
        g_free(meta);
        if (!ok)
            fprintf(stderr, "ns-weights: cannot write '%s'\n", out);
        else
            printf("ns-weights: wrote %s: VGG-%d, %d conv layers (conv1_1 .. %s)\n", out, w.arch, w.n_layers,
                   w.layer[w.n_layers - 1].name);
    }
    ns_weights_free(&w);
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
