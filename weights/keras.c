/* keras.c - Keras VGG16/19 "notop" .h5 weights (HDF5, read with libhdf5) as
 * the engine's layers (see keras.h).
 *
 * The file is hostile until checked.  Each layer group is followed through
 * its weight_names attribute; a dataset's rank, every dimension, its type
 * and its storage are compared with what VGG needs before a byte of it is
 * read, so the buffer has the dataset's size by construction (a kernel of
 * 2^31 x 2^31 x 1 x 1 once wrapped the byte count to 0 and H5Dread wrote
 * past it).  Whatever would make a conversion read another file is refused:
 * external links, and datasets stored in external files or virtual.
 */
#include "keras.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A name in weight_names longer than this is not Keras's. */
#define NAME_MAX_LEN 256
/* Keras lists a conv layer's kernel and bias; a few more are tolerated. */
#define MAX_NAMES 8

struct reader {
    hid_t lapl; /* link access: external links refused */
    hid_t dapl; /* dataset access: the same */
    hid_t gapl; /* group access: the same */
    char *err;
    size_t err_len;
};

static enum ns_status fail(struct reader *r, enum ns_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->err_len, fmt, ap);
    va_end(ap);
    /* one line: names from the file may hold newlines */
    for (char *c = r->err; r->err_len && *c; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f) *c = '?';
    return st;
}

/* An external link would open another file, named by this one. */
static herr_t refuse_external(const char *parent_file, const char *parent_group, const char *child_file,
                              const char *child_object, unsigned *acc_flags, hid_t fapl, void *op_data) {
    return -1;
}

static bool exists(struct reader *r, hid_t loc, const char *name) {
    return H5Lexists(loc, name, r->lapl) > 0;
}

/* The strings of a string attribute (fixed or variable length, a list or
 * one): their count, -1 when there is no such attribute, -2 when it is not
 * at most max strings of at most NAME_MAX_LEN - 1 bytes. */
static int read_string_attr(hid_t obj, const char *name, char out[][NAME_MAX_LEN], int max) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) return -2;
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int count = -2;
    if (type >= 0 && H5Tget_class(type) == H5T_STRING && n > 0 && n <= max) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5T_cset_t cset = H5Tget_cset(type); /* h5py writes UTF-8 */
        if (cset != H5T_CSET_ERROR) H5Tset_cset(mem, cset);
        if (H5Tis_variable_str(type) > 0) {
            char *v[MAX_NAMES] = {NULL};
            H5Tset_size(mem, H5T_VARIABLE);
            if (H5Aread(attr, mem, v) >= 0) {
                count = (int) n;
                for (hssize_t i = 0; i < n; i++) {
                    if (!v[i] || strlen(v[i]) >= NAME_MAX_LEN) count = -2;
                    snprintf(out[i], NAME_MAX_LEN, "%s", v[i] ? v[i] : "");
                }
                H5Dvlen_reclaim(mem, space, H5P_DEFAULT, v);
            }
        } else {
            size_t size = H5Tget_size(type);
            /* one more byte than stored, so a full-length string keeps its end */
            char *buf = size > 0 && size < NAME_MAX_LEN ? calloc((size_t) n, size + 1) : NULL;
            if (buf && H5Tset_size(mem, size + 1) >= 0 && H5Aread(attr, mem, buf) >= 0) {
                for (hssize_t i = 0; i < n; i++)
                    snprintf(out[i], NAME_MAX_LEN, "%.*s", (int) size, buf + i * (size + 1));
                count = (int) n;
            }
            free(buf);
        }
        H5Tclose(mem);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return count;
}

/* dims as "[3,3,64,128]". */
static void dims_str(char *s, size_t len, const hsize_t *dims, int rank) {
    size_t k = (size_t) snprintf(s, len, "[");
    for (int d = 0; d < rank && k < len; d++)
        k += (size_t) snprintf(s + k, len - k, "%s%llu", d ? "," : "", (unsigned long long) dims[d]);
    if (k < len) snprintf(s + k, len - k, "]");
}

/* Reads the open dataset ds (called name in messages) as floats into *out
 * when it has exactly the dims want (rank values). */
static enum ns_status read_floats(struct reader *r, hid_t ds, const char *name, const char *what, int rank,
                                  const hsize_t *want, float **out) {
    hid_t space = H5Dget_space(ds), type = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    hsize_t dims[H5S_MAX_RANK];
    int nd =
        space >= 0 && H5Sget_simple_extent_type(space) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space) : -1;
    char got[160] = "", need[64];
    dims_str(need, sizeof need, want, rank);
    if (nd == rank && H5Sget_simple_extent_dims(space, dims, NULL) == rank)
        dims_str(got, sizeof got, dims, rank);
    /* the element count of the dims we need, which bound the buffer */
    size_t n = 1;
    bool same = nd == rank && got[0];
    for (int d = 0; d < rank && same; d++)
        same = dims[d] == want[d] && g_size_checked_mul(&n, n, (size_t) want[d]);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    float *data = NULL;
    enum ns_status st = NS_STATUS_BAD_WEIGHTS;
    if (!same) {
        if (got[0])
            fail(r, NS_STATUS_BAD_WEIGHTS, "dataset '%s' is %s, VGG's %s is %s", name, got, what, need);
        else
            fail(r, NS_STATUS_BAD_WEIGHTS, "dataset '%s' is not an array of rank %d, VGG's %s is %s", name,
                 nd, what, need);
    } else if (type < 0 || !(H5Tequal(type, H5T_IEEE_F32LE) > 0 || H5Tequal(type, H5T_IEEE_F32BE) > 0 ||
                             H5Tequal(type, H5T_IEEE_F64LE) > 0 || H5Tequal(type, H5T_IEEE_F64BE) > 0)) {
        fail(r, NS_STATUS_BAD_WEIGHTS, "dataset '%s' does not hold 32- or 64-bit IEEE floats", name);
    } else if ((layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED && layout != H5D_COMPACT) ||
               H5Pget_external_count(dcpl) != 0) {
        fail(r, NS_STATUS_BAD_WEIGHTS, "dataset '%s' is stored outside the file (external or virtual)", name);
    } else if (!(data = malloc(n * sizeof(float)))) {
        st = fail(r, NS_STATUS_OUT_OF_MEMORY, "not enough memory for dataset '%s'", name);
    } else if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        fail(r, NS_STATUS_BAD_WEIGHTS, "cannot read dataset '%s': the file is corrupt", name);
        free(data), data = NULL;
    } else {
        st = NS_STATUS_OK;
        for (size_t i = 0; i < n && !st; i++)
            if (!isfinite(data[i]))
                st = fail(r, NS_STATUS_BAD_WEIGHTS,
                          "dataset '%s' holds NaN or infinite values: the file is corrupt", name);
        if (st) free(data), data = NULL;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    *out = data;
    return st;
}

/* The kernel (HWIO) and bias of group g (layer L), told apart by rank since
 * their names vary by Keras version. */
static enum ns_status read_kernel_bias(struct reader *r, hid_t g, const char *group,
                                       const struct ns_conv_weights *L, float **w, float **bias) {
    char names[MAX_NAMES][NAME_MAX_LEN];
    int k = read_string_attr(g, "weight_names", names, MAX_NAMES);
    if (k == -1) return fail(r, NS_STATUS_BAD_WEIGHTS, "group '%s' has no weight_names attribute", group);
    if (k < 0)
        return fail(
            r, NS_STATUS_BAD_WEIGHTS,
            "group '%s': its weight_names attribute is not a list of at most %d names (of under %d bytes)",
            group, MAX_NAMES, NAME_MAX_LEN);
    const hsize_t kernel_dims[4] = {3, 3, (hsize_t) L->cin, (hsize_t) L->cout},
                  bias_dims[1] = {(hsize_t) L->cout};
    char what[32];
    enum ns_status st = NS_STATUS_OK;
    for (int i = 0; i < k && !st; i++) {
        char name[NAME_MAX_LEN + 64];
        snprintf(name, sizeof name, "%.31s/%.255s", group, names[i]);
        H5L_info_t link;
        bool there = names[i][0] && exists(r, g, names[i]);
        if (there && H5Lget_info(g, names[i], &link, r->lapl) >= 0 && link.type == H5L_TYPE_EXTERNAL) {
            st = fail(r, NS_STATUS_BAD_WEIGHTS,
                      "'%s', named in weight_names, is a link to another file: refused", name);
            break;
        }
        hid_t ds = there ? H5Dopen2(g, names[i], r->dapl) : -1;
        if (ds < 0) {
            st = fail(r, NS_STATUS_BAD_WEIGHTS, "'%s', named in weight_names, is not a dataset in this file",
                      name);
            break;
        }
        hid_t sp = H5Dget_space(ds);
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        if (sp >= 0) H5Sclose(sp);
        if (rank == 4 && !*w) {
            snprintf(what, sizeof what, "%s kernel (HWIO)", L->name);
            st = read_floats(r, ds, name, what, 4, kernel_dims, w);
        } else if (rank == 1 && !*bias) {
            snprintf(what, sizeof what, "%s bias", L->name);
            st = read_floats(r, ds, name, what, 1, bias_dims, bias);
        }
        H5Dclose(ds);
    }
    if (st) return st;
    if (!*w || !*bias)
        return fail(r, NS_STATUS_BAD_WEIGHTS, "group '%s' lacks a kernel of rank 4 or a bias of rank 1",
                    group);
    return NS_STATUS_OK;
}

/* Keras's HWIO kernel as the engine's OIHW. */
static float *hwio_to_oihw(const float *w, int cin, int cout) {
    float *t = malloc(sizeof(float) * 9 * (size_t) cin * (size_t) cout);
    if (!t) return NULL;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            for (int i = 0; i < cin; i++)
                for (int o = 0; o < cout; o++)
                    t[(((size_t) o * cin + i) * 3 + ky) * 3 + kx] =
                        w[(((size_t) ky * 3 + kx) * cin + i) * cout + o];
    return t;
}

/* Reads one group into L (laid out already). */
static enum ns_status read_layer(struct reader *r, hid_t base, const char *group, struct ns_conv_weights *L) {
    hid_t g = H5Gopen2(base, group, r->gapl);
    if (g < 0) return fail(r, NS_STATUS_BAD_WEIGHTS, "'%s' is not a group", group);
    float *w = NULL, *bias = NULL;
    enum ns_status st = read_kernel_bias(r, g, group, L, &w, &bias);
    H5Gclose(g);
    if (!st && !(L->weight = hwio_to_oihw(w, L->cin, L->cout)))
        st = fail(r, NS_STATUS_OUT_OF_MEMORY, "not enough memory for %s", group);
    free(w);
    if (!st)
        L->bias = bias;
    else
        free(bias);
    return st;
}

/* The Keras group of conv blockB_convI. */
static void keras_group(char out[32], int block, int index) {
    snprintf(out, 32, "block%d_conv%d", block, index);
}

struct base {
    struct reader *r;
    hid_t g;
};

/* ns_vgg_has_conv_fn over the groups: Keras names them alike in both nets. */
static bool keras_has_conv(void *user, int arch, int block, int index) {
    const struct base *b = user;
    char group[32];
    keras_group(group, block, index);
    return exists(b->r, b->g, group);
}

/* The conv groups in VGG-<w->arch> order, up to the first absent one. */
static enum ns_status read_layers(struct reader *r, hid_t base, struct ns_weights *w) {
    for (int k = 0; ns_vgg_conv_layout(w->arch, k, &w->layer[k]); k++) {
        char group[32];
        keras_group(group, w->layer[k].block, w->layer[k].index);
        if (!exists(r, base, group)) break;
        enum ns_status st = read_layer(r, base, group, &w->layer[k]);
        if (st) return st;
        w->n_layers = k + 1;
    }
    if (w->n_layers == 0)
        return fail(r, NS_STATUS_BAD_WEIGHTS, "no block1_conv1 group: not a Keras VGG weights file");
    return NS_STATUS_OK;
}

enum ns_status ns_keras_read(hid_t file, struct ns_weights *w, char *err, size_t err_len) {
    struct reader r = {.err = err, .err_len = err_len};
    memset(w, 0, sizeof *w);
    if (err_len) err[0] = '\0';
    r.lapl = H5Pcreate(H5P_LINK_ACCESS);
    r.dapl = H5Pcreate(H5P_DATASET_ACCESS);
    r.gapl = H5Pcreate(H5P_GROUP_ACCESS);
    enum ns_status st = NS_STATUS_OK;
    if (r.lapl < 0 || r.dapl < 0 || r.gapl < 0 || H5Pset_elink_cb(r.lapl, refuse_external, NULL) < 0 ||
        H5Pset_elink_cb(r.dapl, refuse_external, NULL) < 0 ||
        H5Pset_elink_cb(r.gapl, refuse_external, NULL) < 0)
        st = fail(&r, NS_STATUS_OUT_OF_MEMORY, "cannot set up HDF5 (out of memory?)");
    /* a whole-model save keeps the layers under model_weights/ */
    struct base b = {&r, -1};
    if (!st) {
        bool whole = exists(&r, file, "model_weights");
        b.g = H5Gopen2(file, whole ? "model_weights" : "/", r.gapl);
        if (b.g < 0)
            st = fail(&r, NS_STATUS_BAD_WEIGHTS, "'%s' is not a group", whole ? "model_weights" : "/");
    }
    if (!st) {
        w->arch = ns_vgg_arch_from_convs(keras_has_conv, &b);
        st = read_layers(&r, b.g, w);
    }
    if (b.g >= 0) H5Gclose(b.g);
    if (r.gapl >= 0) H5Pclose(r.gapl);
    if (r.dapl >= 0) H5Pclose(r.dapl);
    if (r.lapl >= 0) H5Pclose(r.lapl);
    if (st) ns_weights_free(w); /* every layer's tensors, the failing one's too */
    return st;
}
