/* keras_recipe.h - the byte format fuzz_keras.c builds a Keras .h5 from,
 * and write_seeds.c writes its seeds in.
 *
 * libhdf5 1.10 has known crashes and runaway allocations of its own on
 * crafted bytes (libFuzzer finds one in seconds: H5C_protect asks for
 * 850 GB), and libFuzzer sees no coverage inside it.  So the fuzzer does not
 * mutate HDF5's bytes: it mutates a recipe, and the recipe is built into a
 * well-formed in-memory HDF5 file through HDF5's own API.  What the
 * importer reads is then whatever the recipe says: which groups exist and
 * where, weight_names attributes of every kind and length, names that lead
 * nowhere, to groups, through soft and external links, datasets of any
 * rank, of dimensions up to 2^62, of any type, stored in any layout or in
 * an external file, filled with any values (NaN, infinities).
 *
 * Bytes are read in order; past the end every byte reads as 0.
 *   file:    flags (KR_FLAG_*), group count (% KR_MAX_GROUPS + 1)
 *   group:   conv (block 1 + (b >> 4) % 5, index 1 + (b & 3); b & 8: made a
 *            dataset, not a group), attribute kind (% KR_ATTR_KINDS),
 *            name count (% (KR_MAX_NAMES + 1)), dataset count
 *            (% (KR_MAX_DATASETS + 1)), then each name, then each dataset
 *   name:    < KR_NAME_SPECIAL: the group's dataset (b % count) by its
 *            Keras name "<group>/w<i>:0"; else one of KR_NAME_*
 *   dataset: rank (b % 6; b & 0x80: a null dataspace), each dimension
 *            (kr_dims[b % KR_N_DIMS]), type (% KR_TYPES), storage
 *            (% KR_STORAGES), value seed, poison (% 4: none, NaN, inf,
 *            1e300), poison position (b * 97)
 */
#ifndef NS_KERAS_RECIPE_H
#define NS_KERAS_RECIPE_H

#include <stdint.h>

#define KR_FLAG_MODEL_WEIGHTS 1 /* the groups under model_weights/ */
#define KR_FLAG_BOGUS_BASE    2 /* and model_weights a dataset */

#define KR_MAX_GROUPS   6
#define KR_MAX_NAMES    10 /* the importer takes up to 8 */
#define KR_MAX_DATASETS 3

enum {
    KR_ATTR_NONE,
    KR_ATTR_VLEN,
    KR_ATTR_FIXED,
    KR_ATTR_INT,
    KR_ATTR_VLEN_SCALAR,
    KR_ATTR_LONG,
    KR_ATTR_KINDS
};

enum {
    KR_NAME_SPECIAL = 0xf0,
    KR_NAME_EMPTY = KR_NAME_SPECIAL, /* "" */
    KR_NAME_ROOT,                    /* "/" */
    KR_NAME_MISSING,                 /* a dataset that is not there */
    KR_NAME_DOTDOT,                  /* ".." */
    KR_NAME_GROUP,                   /* a group: "." */
    KR_NAME_ABSOLUTE,                /* "/block1_conv1/block1_conv1/w0:0" */
    KR_NAME_NEWLINE,                 /* "a\nb" */
    KR_NAME_SOFT,                    /* a soft link to dataset 0 */
    KR_NAME_EXTERNAL,                /* an external link to another file */
    KR_NAME_LOOP,                    /* a soft link to itself */
};

static const uint64_t kr_dims[] = {
    0,   1,   2,   3,   4,   3,   63,   64,       65,         127,        128,        129,
    255, 256, 257, 511, 512, 513, 1024, 1u << 20, 1ull << 31, 1ull << 32, 1ull << 62, 3,
};
#define KR_N_DIMS (sizeof kr_dims / sizeof kr_dims[0])

enum {
    KR_F32LE,
    KR_F32BE,
    KR_F64LE,
    KR_F64BE,
    KR_I32,
    KR_U8,
    KR_F16, /* a custom 16-bit float */
    KR_STRING,
    KR_COMPOUND,
    KR_ARRAY,
    KR_TYPES
};

enum { KR_CHUNKED, KR_CONTIGUOUS, KR_COMPACT, KR_CHUNKED_DATA, KR_EXTERNAL, KR_DEFLATE, KR_STORAGES };

#endif /* NS_KERAS_RECIPE_H */
