/* fuzz_keras.c - libFuzzer target for the Keras .h5 importer (weights/keras.c):
 * any file that the recipe builds (keras_recipe.h says why a recipe and not
 * raw HDF5 bytes) is imported into sound layers or refused with one line,
 * never a crash, a leak, an HDF5 handle left open or undefined behaviour
 * (built with ASan and UBSan; make test-fuzz).
 *
 * NS_FUZZ_KERAS_DUMP=FILE.h5 ./fuzz_keras INPUT writes the file the input
 * builds, for `ns-weights import-keras FILE.h5 OUT` to reproduce. */
#include "keras.h"
#include "keras_recipe.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in {
    const uint8_t *p;
    size_t n;
};

static unsigned next(struct in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

/* The largest dataset whose values a recipe writes (conv2_2's kernel);
 * larger ones hold their fill value, which takes the importer through the
 * same code in a fraction of the time and memory. */
#define KR_MAX_WRITTEN (3u * 3 * 128 * 128)

static hid_t file_type(unsigned t) {
    switch (t) {
    case KR_F32LE:
        return H5Tcopy(H5T_IEEE_F32LE);
    case KR_F32BE:
        return H5Tcopy(H5T_IEEE_F32BE);
    case KR_F64LE:
        return H5Tcopy(H5T_IEEE_F64LE);
    case KR_F64BE:
        return H5Tcopy(H5T_IEEE_F64BE);
    case KR_I32:
        return H5Tcopy(H5T_STD_I32LE);
    case KR_U8:
        return H5Tcopy(H5T_STD_U8LE);
    case KR_F16: {
        hid_t h = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(h, 15, 10, 5, 0, 10);
        H5Tset_precision(h, 16);
        H5Tset_size(h, 2);
        H5Tset_ebias(h, 15);
        return h;
    }
    case KR_STRING: {
        hid_t s = H5Tcopy(H5T_C_S1);
        H5Tset_size(s, 8);
        return s;
    }
    case KR_COMPOUND: {
        hid_t c = H5Tcreate(H5T_COMPOUND, 4);
        H5Tinsert(c, "x", 0, H5T_IEEE_F32LE);
        return c;
    }
    default: {
        hsize_t two = 2;
        return H5Tarray_create2(H5T_IEEE_F32LE, 1, &two);
    }
    }
}

/* Dataset i of group g, at "<group>/w<i>:0" inside it, as the recipe says. */
static void make_dataset(struct in *in, hid_t g, const char *group, int i) {
    unsigned rb = next(in);
    int rank = (int) (rb % 6);
    hsize_t dims[5], maxdims[5], chunk[5];
    uint64_t count = 1;
    bool overflow = false;
    for (int d = 0; d < rank; d++) {
        dims[d] = kr_dims[next(in) % KR_N_DIMS];
        maxdims[d] = dims[d] ? dims[d] : H5S_UNLIMITED;
        chunk[d] = dims[d] < 1 ? 1 : dims[d] > 16 ? 16 : dims[d];
        if (dims[d] && count > UINT64_MAX / dims[d]) overflow = true; /* HDF5's own count would wrap */
        count *= dims[d];
    }
    unsigned type_b = next(in) % KR_TYPES, storage = next(in) % KR_STORAGES;
    unsigned seed = next(in), poison = next(in) % 4, pos = next(in) * 97u;
    if (overflow) return;
    hid_t space = rb & 0x80 ? H5Screate(H5S_NULL)
                  : rank    ? H5Screate_simple(rank, dims, maxdims)
                            : H5Screate(H5S_SCALAR);
    hid_t type = file_type(type_b);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    bool numeric = type_b <= KR_U8, write = numeric && count <= KR_MAX_WRITTEN && !(rb & 0x80);
    const double poisons[4] = {0, NAN, INFINITY, 1e300};
    if (rank && (storage == KR_CHUNKED || storage == KR_CHUNKED_DATA || storage == KR_DEFLATE)) {
        H5Pset_chunk(dcpl, rank, chunk);
        if (storage == KR_DEFLATE) H5Pset_deflate(dcpl, 1);
        if (storage == KR_CHUNKED) write = false;
    } else if (storage == KR_COMPACT) {
        H5Pset_layout(dcpl, H5D_COMPACT);
    } else if (storage == KR_EXTERNAL) {
        /* the raw data would live in another file: never written here */
        H5Pset_external(dcpl, "kr-external.bin", 0, H5F_UNLIMITED);
        write = false;
    }
    if (!write && poison && numeric) { /* the fill value carries the poison */
        float f = (float) poisons[poison];
        H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &f);
    }
    char name[64];
    snprintf(name, sizeof name, "%s/w%d:0", group, i);
    hid_t ds = H5Dcreate2(g, name, type, space, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0 && write && count) {
        double *v = malloc(count * sizeof(double));
        uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
        for (uint64_t k = 0; v && k < count; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            v[k] = (double) (x >> 40) / (double) (1 << 24) * 2 - 1;
        }
        if (v && poison) v[pos % count] = poisons[poison];
        if (v) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        free(v);
    }
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl), H5Pclose(dcpl), H5Tclose(type), H5Sclose(space);
}

/* The weight_names attribute of kind kind over names. */
static void make_attr(hid_t g, unsigned kind, char names[][64], int n) {
    if (kind == KR_ATTR_NONE) return;
    hsize_t len = (hsize_t) n;
    hid_t space = kind == KR_ATTR_VLEN_SCALAR ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &len, NULL);
    hid_t type;
    if (kind == KR_ATTR_INT) {
        type = H5Tcopy(H5T_STD_I32LE);
    } else {
        type = H5Tcopy(H5T_C_S1);
        H5Tset_cset(type, H5T_CSET_UTF8);
        H5Tset_size(type, kind == KR_ATTR_VLEN || kind == KR_ATTR_VLEN_SCALAR ? H5T_VARIABLE
                          : kind == KR_ATTR_LONG                              ? 300
                                                                              : 64);
    }
    hid_t a = H5Acreate2(g, "weight_names", type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        if (kind == KR_ATTR_INT) {
            int v[KR_MAX_NAMES + 1] = {0};
            H5Awrite(a, H5T_NATIVE_INT, v);
        } else if (kind == KR_ATTR_VLEN || kind == KR_ATTR_VLEN_SCALAR) {
            const char *v[KR_MAX_NAMES + 1] = {""};
            for (int i = 0; i < n; i++)
                v[i] = names[i];
            H5Awrite(a, type, v);
        } else {
            size_t size = kind == KR_ATTR_LONG ? 300 : 64;
            char *buf = calloc((size_t) (n ? n : 1), size);
            for (int i = 0; i < n; i++)
                memcpy(buf + i * size, names[i], strlen(names[i]));
            H5Awrite(a, type, buf);
            free(buf);
        }
        H5Aclose(a);
    }
    H5Tclose(type), H5Sclose(space);
}

static void make_group(struct in *in, hid_t base) {
    unsigned c = next(in);
    char group[32];
    snprintf(group, sizeof group, "block%u_conv%u", 1 + (c >> 4) % 5, 1 + (c & 3));
    unsigned kind = next(in) % KR_ATTR_KINDS;
    int n_names = (int) (next(in) % (KR_MAX_NAMES + 1)), n_ds = (int) (next(in) % (KR_MAX_DATASETS + 1));
    if (H5Lexists(base, group, H5P_DEFAULT) > 0) return; /* a conv given twice: the first stands */
    if (c & 8) {                                         /* not a group at all */
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t ds = H5Dcreate2(base, group, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(sp);
        return;
    }
    hid_t g = H5Gcreate2(base, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return;
    char names[KR_MAX_NAMES + 1][64];
    for (int i = 0; i < n_names; i++) {
        unsigned b = next(in);
        switch (b < KR_NAME_SPECIAL ? 0u : b) {
        case 0:
            snprintf(names[i], 64, "%s/w%d:0", group, n_ds ? (int) (b % (unsigned) n_ds) : 0);
            break;
        case KR_NAME_EMPTY:
            names[i][0] = '\0';
            break;
        case KR_NAME_ROOT:
            snprintf(names[i], 64, "/");
            break;
        case KR_NAME_DOTDOT:
            snprintf(names[i], 64, "..");
            break;
        case KR_NAME_GROUP:
            snprintf(names[i], 64, ".");
            break;
        case KR_NAME_ABSOLUTE:
            snprintf(names[i], 64, "/block1_conv1/block1_conv1/w0:0");
            break;
        case KR_NAME_NEWLINE:
            snprintf(names[i], 64, "a\nb");
            break;
        case KR_NAME_SOFT:
            snprintf(names[i], 64, "soft");
            if (H5Lexists(g, "soft", H5P_DEFAULT) <= 0) {
                char target[64];
                snprintf(target, sizeof target, "%s/w0:0", group);
                H5Lcreate_soft(target, g, "soft", H5P_DEFAULT, H5P_DEFAULT);
            }
            break;
        case KR_NAME_EXTERNAL:
            snprintf(names[i], 64, "ext");
            if (H5Lexists(g, "ext", H5P_DEFAULT) <= 0)
                H5Lcreate_external("kr-other.h5", "/x", g, "ext", H5P_DEFAULT, H5P_DEFAULT);
            break;
        case KR_NAME_LOOP:
            snprintf(names[i], 64, "loop");
            if (H5Lexists(g, "loop", H5P_DEFAULT) <= 0)
                H5Lcreate_soft("loop", g, "loop", H5P_DEFAULT, H5P_DEFAULT);
            break;
        default:
            snprintf(names[i], 64, "%s/missing:0", group);
            break;
        }
    }
    make_attr(g, kind, names, n_names);
    for (int i = 0; i < n_ds; i++)
        make_dataset(in, g, group, i);
    H5Gclose(g);
}

/* The file the recipe describes, as an HDF5 file image (malloc'ed). */
static void *build(const uint8_t *data, size_t size, size_t *len) {
    struct in in = {data, size};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0); /* in memory, never on disk */
    hid_t f = H5Fcreate("recipe.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) return NULL;
    unsigned flags = next(&in), n_groups = 1 + next(&in) % KR_MAX_GROUPS;
    hid_t base = -1;
    if (flags & KR_FLAG_BOGUS_BASE) {
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t ds = H5Dcreate2(f, "model_weights", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(sp);
        base = H5Gopen2(f, "/", H5P_DEFAULT);
    } else if (flags & KR_FLAG_MODEL_WEIGHTS) {
        base = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    } else {
        base = H5Gopen2(f, "/", H5P_DEFAULT);
    }
    for (unsigned i = 0; i < n_groups && base >= 0; i++)
        make_group(&in, base);
    if (base >= 0) H5Gclose(base);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    void *image = n > 0 ? malloc((size_t) n) : NULL;
    if (image && H5Fget_file_image(f, image, (size_t) n) != n) free(image), image = NULL;
    H5Fclose(f);
    *len = image ? (size_t) n : 0;
    return image;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    H5Eset_auto(H5E_DEFAULT, NULL, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t len;
    void *image = build(data, size, &len);
    if (!image) return 0;
    const char *dump = getenv("NS_FUZZ_KERAS_DUMP");
    if (dump) {
        FILE *o = fopen(dump, "wb");
        if (o) fwrite(image, 1, len, o), fclose(o);
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    H5Pset_file_image(fapl, image, len); /* copied */
    free(image);
    hid_t f = H5Fopen("recipe.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) __builtin_trap(); /* what HDF5 wrote, it reads */
    struct ns_weights w;
    char err[600] = "";
    enum ns_status st = ns_keras_read(f, &w, err, sizeof err);
    /* every handle the importer opened is closed */
    if (H5Fget_obj_count(f, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR) != 0)
        __builtin_trap();
    H5Fclose(f);
    if (st == NS_STATUS_OK) {
        if (w.n_layers < 1 || (w.arch != 16 && w.arch != 19)) __builtin_trap();
        for (int l = 0; l < w.n_layers; l++) {
            const struct ns_conv_weights *L = &w.layer[l];
            size_t n = (size_t) L->cout * (size_t) L->cin * 9;
            if (!L->weight || !L->bias) __builtin_trap();
            for (size_t i = 0; i < n; i++)
                if (!isfinite(L->weight[i])) __builtin_trap();
            for (int i = 0; i < L->cout; i++)
                if (!isfinite(L->bias[i])) __builtin_trap();
        }
        ns_weights_free(&w);
    } else if (!err[0] || strchr(err, '\n') ||
               (st != NS_STATUS_BAD_WEIGHTS && st != NS_STATUS_OUT_OF_MEMORY)) {
        __builtin_trap(); /* every refusal says why, in one line */
    }
    return 0;
}
