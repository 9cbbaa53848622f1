/* onnx_fold.c - an ONNX file's constants, and its small constant subgraphs
 * folded.
 *
 * Exporters compute a Pad's pads or a Resize's scales with a dozen small
 * operations (torch.onnx at opset 11: ConstantOfShape, Concat, Reshape,
 * Slice, Transpose, Cast).  The importer folds them here, as a graph
 * simplifier would, so that it can check the values.  Every tensor's
 * element count is checked against its data before a value is read.
 */
#include "onnx_imp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* no folded tensor is larger: pads, scales and shapes have a few values */
#define FOLD_MAX 4096
/* the largest tensor read at all (the weights); the TransformerNet's is 0.6 M */
#define TENSOR_MAX ((size_t) 1 << 28)

enum ns_status ns_onnx_fail(struct ns_onnx_imp *im, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(im->err, im->err_len, "ONNX file '%s': %s", im->what, msg);
    for (char *c = im->err; im->err_len && *c; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f) *c = '?';
    return NS_STATUS_BAD_WEIGHTS;
}

int64_t ns_onnx_int(double v) {
    /* converting a double out of int64's range is undefined: clamp first */
    return v != v ? 0 : v >= 9e18 ? (int64_t) 9e18 : v <= -9e18 ? (int64_t) -9e18 : (int64_t) v;
}

void ns_onnx_const_free(void *p) {
    struct ns_onnx_const *c = p;
    if (c) free(c->v);
    free(c);
}

const Onnx__AttributeProto *ns_onnx_attr(const Onnx__NodeProto *nd, const char *name) {
    for (size_t i = 0; i < nd->n_attribute; i++)
        if (nd->attribute[i]->name && !strcmp(nd->attribute[i]->name, name)) return nd->attribute[i];
    return NULL;
}

int64_t ns_onnx_attr_int(const Onnx__NodeProto *nd, const char *name, int64_t fallback) {
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, name);
    return a && a->has_i ? a->i : fallback;
}

const char *ns_onnx_attr_str(const Onnx__NodeProto *nd, const char *name, char *buf, size_t len) {
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, name);
    size_t n = a && a->has_s ? a->s.len : 0;
    if (n >= len) n = len - 1;
    if (n) memcpy(buf, a->s.data, n);
    buf[n] = 0;
    return buf;
}

static size_t type_size(int32_t type, bool *integer) {
    *integer = true;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *integer = false; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *integer = false; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    default: return 0;
    }
}

/* t's values as doubles, after checking that its data holds exactly its
 * element count. */
static enum ns_status read_values(struct ns_onnx_imp *im, const Onnx__TensorProto *t, struct ns_onnx_const *c) {
    const char *name = t->name ? t->name : "";
    bool integer;
    size_t es = type_size(t->data_type, &integer);
    if (!es) return ns_onnx_fail(im, "tensor '%s' has data type %d, not one this importer reads", name, t->data_type);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return ns_onnx_fail(im, "tensor '%s' is kept in a separate file; save the model with its data inside", name);
    size_t have = t->has_raw_data ? t->raw_data.len / es
                  : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT  ? t->n_float_data
                  : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? t->n_double_data
                  : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64  ? t->n_int64_data
                                                                         : t->n_int32_data;
    if (have != c->n || (t->has_raw_data && t->raw_data.len != c->n * es))
        return ns_onnx_fail(im, "tensor '%s' holds %zu values where its shape needs %zu", name, have, c->n);
    c->integer = integer;
    c->v = malloc((c->n ? c->n : 1) * sizeof *c->v);
    if (!c->v) return ns_onnx_fail(im, "not enough memory for tensor '%s'", name);
    const uint8_t *raw = t->raw_data.data;
    for (size_t i = 0; i < c->n; i++) {
        if (t->has_raw_data) { /* little-endian, as ONNX stores it */
            union { float f; double d; int32_t i32; int64_t i64; uint8_t b[8]; } u;
            memcpy(u.b, raw + i * es, es);
            c->v[i] = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT  ? u.f
                      : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? u.d
                      : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64  ? (double) u.i64
                                                                             : u.i32;
        } else {
            c->v[i] = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT  ? t->float_data[i]
                      : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? t->double_data[i]
                      : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64  ? (double) t->int64_data[i]
                                                                             : t->int32_data[i];
        }
    }
    return NS_STATUS_OK;
}

/* t's dimensions into c, checked. */
static enum ns_status set_dims(struct ns_onnx_imp *im, const Onnx__TensorProto *t, struct ns_onnx_const *c) {
    if (t->n_dims > NS_ONNX_MAX_RANK)
        return ns_onnx_fail(im, "tensor '%s' has %zu dimensions", t->name ? t->name : "", t->n_dims);
    c->ndim = (int) t->n_dims;
    c->n = 1;
    for (int d = 0; d < c->ndim; d++) {
        c->dims[d] = t->dims[d];
        if (t->dims[d] < 0 || (t->dims[d] && c->n > TENSOR_MAX / (size_t) t->dims[d]))
            return ns_onnx_fail(im, "tensor '%s' has an impossible size", t->name ? t->name : "");
        c->n *= (size_t) t->dims[d];
    }
    return NS_STATUS_OK;
}

struct ns_onnx_const *ns_onnx_const_from_tensor(struct ns_onnx_imp *im, const Onnx__TensorProto *t) {
    struct ns_onnx_const *c = calloc(1, sizeof *c);
    if (!c) {
        ns_onnx_fail(im, "not enough memory");
        return NULL;
    }
    c->t = t;
    if (set_dims(im, t, c) || read_values(im, t, c)) {
        ns_onnx_const_free(c);
        return NULL;
    }
    return c;
}

struct ns_onnx_const *ns_onnx_const_get(struct ns_onnx_imp *im, const char *name) {
    struct ns_onnx_const *c = name && *name ? g_hash_table_lookup(im->consts, name) : NULL;
    if (c && !c->v) {
        if (set_dims(im, c->t, c) || read_values(im, c->t, c)) return NULL;
    }
    return c;
}

/* ---- folding ---- */

static struct ns_onnx_const *new_const(int ndim, const int64_t *dims, bool integer) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0 || dims[d] > FOLD_MAX) return NULL;
        n *= (size_t) dims[d];
        if (n > FOLD_MAX) return NULL;
    }
    struct ns_onnx_const *c = calloc(1, sizeof *c);
    if (!c || !(c->v = calloc(n ? n : 1, sizeof *c->v))) {
        free(c);
        return NULL;
    }
    c->ndim = ndim;
    memcpy(c->dims, dims, (size_t) ndim * sizeof *dims);
    c->n = n;
    c->integer = integer;
    return c;
}

/* Row-major strides of c. */
static void strides(const struct ns_onnx_const *c, size_t *st) {
    size_t s = 1;
    for (int d = c->ndim - 1; d >= 0; d--) {
        st[d] = s;
        s *= (size_t) c->dims[d];
    }
}

/* A new constant of dims whose element (k0, k1, ...) is x's at
 * lo[d] + k_d * step[d] along x's axis axis[d]: Slice and Transpose. */
static struct ns_onnx_const *gather(const struct ns_onnx_const *x, const int64_t *dims, const int64_t *axis,
                                    const int64_t *lo, const int64_t *step) {
    struct ns_onnx_const *c = new_const(x->ndim, dims, x->integer);
    if (!c) return NULL;
    size_t xs[NS_ONNX_MAX_RANK];
    strides(x, xs);
    for (size_t i = 0; i < c->n; i++) {
        size_t rest = i, src = 0;
        for (int d = x->ndim - 1; d >= 0; d--) {
            size_t k = rest % (size_t) c->dims[d];
            rest /= (size_t) c->dims[d];
            src += (size_t) (lo[d] + (int64_t) k * step[d]) * xs[axis[d]];
        }
        c->v[i] = x->v[src];
    }
    return c;
}

/* The integer list of an attribute or of a constant input. */
static int int_list(struct ns_onnx_imp *im, const Onnx__NodeProto *nd, const char *attr, size_t input, int64_t *out,
                    int max) {
    const Onnx__AttributeProto *a = attr ? ns_onnx_attr(nd, attr) : NULL;
    if (a) {
        if ((int) a->n_ints > max) return -1;
        for (size_t i = 0; i < a->n_ints; i++)
            out[i] = a->ints[i];
        return (int) a->n_ints;
    }
    if (input >= nd->n_input) return 0;
    struct ns_onnx_const *c = ns_onnx_const_get(im, nd->input[input]);
    if (!c || (int) c->n > max) return -1;
    for (size_t i = 0; i < c->n; i++)
        out[i] = ns_onnx_int(c->v[i]);
    return (int) c->n;
}

static struct ns_onnx_const *fold_constant(const Onnx__NodeProto *nd, struct ns_onnx_imp *im) {
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, "value");
    if (a && a->t) {
        struct ns_onnx_const *c = ns_onnx_const_from_tensor(im, a->t);
        if (c) c->t = NULL; /* owned by the folded table, values read */
        return c;
    }
    struct ns_onnx_const *c = NULL;
    if ((a = ns_onnx_attr(nd, "value_float")) && a->has_f && (c = new_const(0, NULL, false))) c->v[0] = a->f;
    if ((a = ns_onnx_attr(nd, "value_int")) && a->has_i && (c = new_const(0, NULL, true))) c->v[0] = (double) a->i;
    if ((a = ns_onnx_attr(nd, "value_ints")) && (c = new_const(1, (int64_t[]){(int64_t) a->n_ints}, true)))
        for (size_t i = 0; i < a->n_ints; i++)
            c->v[i] = (double) a->ints[i];
    if ((a = ns_onnx_attr(nd, "value_floats")) && (c = new_const(1, (int64_t[]){(int64_t) a->n_floats}, false)))
        for (size_t i = 0; i < a->n_floats; i++)
            c->v[i] = a->floats[i];
    return c;
}

static struct ns_onnx_const *fold_shape(int ndim, const int64_t *shape) {
    struct ns_onnx_const *c = new_const(1, (int64_t[]){ndim}, true);
    for (int i = 0; c && i < ndim; i++)
        c->v[i] = (double) shape[i];
    return c;
}

static struct ns_onnx_const *fold_binary(const char *op, const struct ns_onnx_const *x, const struct ns_onnx_const *y) {
    if (x->n != y->n && x->n != 1 && y->n != 1) return NULL;
    const struct ns_onnx_const *big = x->n >= y->n ? x : y;
    struct ns_onnx_const *c = new_const(big->ndim, big->dims, x->integer && y->integer);
    for (size_t i = 0; c && i < c->n; i++) {
        double a = x->v[x->n == 1 ? 0 : i], b = y->v[y->n == 1 ? 0 : i];
        double r = !strcmp(op, "Add") ? a + b : !strcmp(op, "Sub") ? a - b : !strcmp(op, "Mul") ? a * b : a / b;
        c->v[i] = c->integer && !strcmp(op, "Div") ? trunc(r) : r;
    }
    return c;
}

/* Slice at any rank, negative steps included (torch's pads run backwards). */
static struct ns_onnx_const *fold_slice(struct ns_onnx_imp *im, const Onnx__NodeProto *nd,
                                        const struct ns_onnx_const *x) {
    int64_t starts[NS_ONNX_MAX_RANK], ends[NS_ONNX_MAX_RANK], axes[NS_ONNX_MAX_RANK], steps[NS_ONNX_MAX_RANK];
    bool attrs = im->opset < 10;
    int n = int_list(im, nd, attrs ? "starts" : NULL, 1, starts, NS_ONNX_MAX_RANK);
    if (n <= 0 || int_list(im, nd, attrs ? "ends" : NULL, 2, ends, NS_ONNX_MAX_RANK) != n) return NULL;
    int na = int_list(im, nd, attrs ? "axes" : NULL, 3, axes, NS_ONNX_MAX_RANK);
    int ns = attrs ? 0 : int_list(im, nd, NULL, 4, steps, NS_ONNX_MAX_RANK);
    if (na < 0 || ns < 0 || (na && na != n) || (ns && ns != n)) return NULL;
    int64_t lo[NS_ONNX_MAX_RANK], step[NS_ONNX_MAX_RANK], dims[NS_ONNX_MAX_RANK];
    for (int d = 0; d < x->ndim; d++)
        lo[d] = 0, step[d] = 1, dims[d] = x->dims[d];
    for (int i = 0; i < n; i++) {
        int64_t ax = na ? axes[i] : i, st = ns ? steps[i] : 1;
        if (ax < 0) ax += x->ndim;
        if (ax < 0 || ax >= x->ndim || st == 0) return NULL;
        /* exporters write INT64_MAX for "to the end": clamp before any arithmetic */
        int64_t len = x->dims[ax], b = CLAMP(starts[i], -len - 1, len + 1), e = CLAMP(ends[i], -len - 1, len + 1);
        st = CLAMP(st, -len - 1, len + 1);
        if (b < 0) b += len;
        if (e < 0) e += len;
        if (st > 0) {
            b = b < 0 ? 0 : b > len ? len : b;
            e = e < 0 ? 0 : e > len ? len : e;
            dims[ax] = e > b ? (e - b + st - 1) / st : 0;
        } else {
            b = b < 0 ? -1 : b > len - 1 ? len - 1 : b;
            e = e < -1 ? -1 : e > len - 1 ? len - 1 : e;
            dims[ax] = b > e ? (b - e - st - 1) / -st : 0;
        }
        lo[ax] = b, step[ax] = st;
    }
    int64_t same[NS_ONNX_MAX_RANK];
    for (int d = 0; d < x->ndim; d++)
        same[d] = d;
    return gather(x, dims, same, lo, step);
}

static struct ns_onnx_const *fold_transpose(const Onnx__NodeProto *nd, const struct ns_onnx_const *x) {
    const Onnx__AttributeProto *a = ns_onnx_attr(nd, "perm");
    int64_t perm[NS_ONNX_MAX_RANK], dims[NS_ONNX_MAX_RANK];
    if (a && (int) a->n_ints != x->ndim) return NULL;
    for (int d = 0; d < x->ndim; d++) {
        perm[d] = a ? a->ints[d] : x->ndim - 1 - d;
        if (perm[d] < 0 || perm[d] >= x->ndim) return NULL;
        dims[d] = x->dims[perm[d]];
    }
    int64_t zero[NS_ONNX_MAX_RANK] = {0}, one[NS_ONNX_MAX_RANK];
    for (int d = 0; d < x->ndim; d++)
        one[d] = 1;
    return gather(x, dims, perm, zero, one);
}

/* The same values under new dimensions: Reshape, Unsqueeze, Squeeze, Cast,
 * Identity, Floor and Ceil. */
static struct ns_onnx_const *fold_same(struct ns_onnx_imp *im, const Onnx__NodeProto *nd,
                                       const struct ns_onnx_const *x) {
    const char *op = nd->op_type;
    int64_t dims[NS_ONNX_MAX_RANK], list[NS_ONNX_MAX_RANK];
    int ndim = x->ndim;
    memcpy(dims, x->dims, sizeof dims);
    bool integer = x->integer;
    if (!strcmp(op, "Reshape")) {
        int n = int_list(im, nd, NULL, 1, list, NS_ONNX_MAX_RANK), infer = -1;
        if (n < 0) return NULL;
        size_t known = 1;
        for (int d = 0; d < n; d++) {
            dims[d] = list[d] == 0 && d < x->ndim ? x->dims[d] : list[d];
            if (dims[d] == -1 && infer < 0) infer = d;
            else if (dims[d] < 0) return NULL;
            else known *= (size_t) dims[d];
        }
        if (infer >= 0) dims[infer] = known ? (int64_t) (x->n / known) : 0;
        ndim = n;
    } else if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
        int n = int_list(im, nd, im->opset < 13 ? "axes" : NULL, 1, list, NS_ONNX_MAX_RANK);
        if (n < 0) return NULL;
        bool squeeze = op[0] == 'S';
        int out_rank = squeeze ? (n ? ndim - n : 0) : ndim + n, j = 0;
        if (out_rank < 0 || out_rank > NS_ONNX_MAX_RANK) return NULL;
        int64_t nd_dims[NS_ONNX_MAX_RANK];
        for (int d = 0, src = 0; d < (squeeze ? ndim : out_rank); d++) {
            bool listed = false;
            for (int i = 0; i < n; i++)
                listed |= (list[i] < 0 ? list[i] + (squeeze ? ndim : out_rank) : list[i]) == d;
            if (squeeze) {
                if (listed || (!n && x->dims[d] == 1)) continue;
                nd_dims[j++] = x->dims[d];
            } else
                nd_dims[j++] = listed ? 1 : x->dims[src++];
        }
        ndim = j;
        memcpy(dims, nd_dims, (size_t) j * sizeof *dims);
    } else if (!strcmp(op, "Cast")) {
        int64_t to = ns_onnx_attr_int(nd, "to", 0);
        integer = to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && to != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE &&
                  to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    }
    struct ns_onnx_const *c = new_const(ndim, dims, integer);
    if (!c || c->n != x->n) {
        ns_onnx_const_free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++)
        c->v[i] = !strcmp(op, "Floor") ? floor(x->v[i])
                  : !strcmp(op, "Ceil") ? ceil(x->v[i])
                  : integer && !x->integer ? trunc(x->v[i])
                                          : x->v[i];
    return c;
}

/* Concat and Gather of rank-1 constants: how shapes are put together. */
static struct ns_onnx_const *fold_list(struct ns_onnx_imp *im, const Onnx__NodeProto *nd) {
    if (!strcmp(nd->op_type, "Concat")) {
        int64_t total = 0;
        for (size_t i = 0; i < nd->n_input; i++) {
            struct ns_onnx_const *x = ns_onnx_const_get(im, nd->input[i]);
            if (!x || x->ndim != 1) return NULL;
            total += x->dims[0];
        }
        struct ns_onnx_const *c = new_const(1, &total, true);
        for (size_t i = 0, o = 0; c && i < nd->n_input; i++) {
            struct ns_onnx_const *x = ns_onnx_const_get(im, nd->input[i]);
            c->integer &= x->integer;
            for (size_t k = 0; k < x->n; k++)
                c->v[o++] = x->v[k];
        }
        return c;
    }
    struct ns_onnx_const *x = ns_onnx_const_get(im, nd->input[0]), *idx = ns_onnx_const_get(im, nd->input[1]);
    if (!x || !idx || x->ndim != 1 || idx->ndim > 1) return NULL;
    struct ns_onnx_const *c = new_const(idx->ndim, idx->dims, x->integer);
    for (size_t i = 0; c && i < c->n; i++) {
        int64_t k = ns_onnx_int(idx->v[i]);
        if (k < 0) k += x->dims[0];
        if (k < 0 || k >= x->dims[0]) {
            ns_onnx_const_free(c);
            return NULL;
        }
        c->v[i] = x->v[k];
    }
    return c;
}

static struct ns_onnx_const *fold_op(struct ns_onnx_imp *im, const Onnx__NodeProto *nd) {
    const char *op = nd->op_type;
    if (!strcmp(op, "Constant")) return fold_constant(nd, im);
    if (!nd->n_input) return NULL;
    if (!strcmp(op, "Shape")) { /* of a running tensor at the nominal size, or of a constant */
        const int64_t *s = g_hash_table_lookup(im->shapes, nd->input[0]);
        if (s) return fold_shape(4, s);
        struct ns_onnx_const *x = ns_onnx_const_get(im, nd->input[0]);
        return x ? fold_shape(x->ndim, x->dims) : NULL;
    }
    if (!strcmp(op, "Concat") || !strcmp(op, "Gather")) return fold_list(im, nd);
    struct ns_onnx_const *x = ns_onnx_const_get(im, nd->input[0]);
    if (!x || x->n > FOLD_MAX) return NULL;
    if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") || !strcmp(op, "Div")) {
        struct ns_onnx_const *y = nd->n_input == 2 ? ns_onnx_const_get(im, nd->input[1]) : NULL;
        return y && y->n <= FOLD_MAX ? fold_binary(op, x, y) : NULL;
    }
    if (!strcmp(op, "Slice")) return fold_slice(im, nd, x);
    if (!strcmp(op, "Transpose")) return fold_transpose(nd, x);
    if (!strcmp(op, "ConstantOfShape")) {
        int64_t dims[NS_ONNX_MAX_RANK];
        if (x->n > NS_ONNX_MAX_RANK) return NULL;
        for (size_t i = 0; i < x->n; i++)
            dims[i] = ns_onnx_int(x->v[i]);
        const Onnx__AttributeProto *a = ns_onnx_attr(nd, "value");
        struct ns_onnx_const *fill = a && a->t ? ns_onnx_const_from_tensor(im, a->t) : NULL;
        struct ns_onnx_const *c = new_const((int) x->n, dims, fill ? fill->integer : false);
        for (size_t i = 0; c && i < c->n; i++)
            c->v[i] = fill && fill->n ? fill->v[0] : 0;
        ns_onnx_const_free(fill);
        return c;
    }
    static const char *const same[] = {"Reshape", "Unsqueeze", "Squeeze", "Cast", "Identity", "Floor", "Ceil"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        if (!strcmp(op, same[i])) return fold_same(im, nd, x);
    return NULL;
}

/* Whether every input of nd is known before it runs. */
static bool inputs_known(struct ns_onnx_imp *im, const Onnx__NodeProto *nd) {
    for (size_t i = 0; i < nd->n_input; i++) {
        const char *in = nd->input[i];
        if (!*in) continue; /* an optional input left out */
        if (g_hash_table_contains(im->consts, in)) continue;
        if (!strcmp(nd->op_type, "Shape") && g_hash_table_contains(im->shapes, in)) continue;
        return false;
    }
    return true;
}

int ns_onnx_fold(struct ns_onnx_imp *im, const Onnx__NodeProto *nd) {
    if (!nd->op_type || nd->n_output != 1 || !inputs_known(im, nd)) return 0;
    struct ns_onnx_const *c = fold_op(im, nd);
    if (!c) return im->err[0] ? -1 : 0;
    g_hash_table_replace(im->consts, g_strdup(nd->output[0]), c);
    return 1;
}
