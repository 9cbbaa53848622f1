/* onnx_imp.h - the ONNX importer's shared state (private).
 *
 * The file is parsed by libprotobuf-c with the C code protoc-c generates
 * from Debian's onnx.proto at build time (build/gen/onnx.pb-c.h).
 */
#ifndef NS_ONNX_IMP_H
#define NS_ONNX_IMP_H

#include "ffnet.h"
#include "onnx.pb-c.h"

#include <glib.h>

#define NS_ONNX_MAX_RANK 8

/* A constant: an initializer (values read when first needed) or the folded
 * result of a constant subgraph. */
struct ns_onnx_const {
    int ndim;
    int64_t dims[NS_ONNX_MAX_RANK];
    size_t n;
    double *v;                     /* NULL until read */
    const Onnx__TensorProto *t;    /* the initializer, or NULL */
    bool integer;                  /* an integer type: Div truncates, Cast rounds toward 0 */
};

struct ns_onnx_imp {
    const char *what; /* the file, for messages */
    char *err;
    size_t err_len;
    int opset;
    GHashTable *consts; /* name -> struct ns_onnx_const * */
    GHashTable *shapes; /* a running tensor's name -> int64_t[4] at the nominal input size */
};

/* v as an integer, clamped (and NaN as 0): values come from the file. */
int64_t ns_onnx_int(double v);
enum ns_status ns_onnx_fail(struct ns_onnx_imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The constant called name, its values read; NULL if there is none (or,
 * with the error set, it cannot be read: check im->err[0]). */
struct ns_onnx_const *ns_onnx_const_get(struct ns_onnx_imp *im, const char *name);
/* An initializer's or Constant node's tensor as a constant (values read). */
struct ns_onnx_const *ns_onnx_const_from_tensor(struct ns_onnx_imp *im, const Onnx__TensorProto *t);
void ns_onnx_const_free(void *c);

/* Folds node nd when all its inputs are constants (or shapes of running
 * tensors) and its operation is one of the few exporters use to compute
 * pads, scales and sizes: 1 folded, 0 not a constant node, -1 error. */
int ns_onnx_fold(struct ns_onnx_imp *im, const Onnx__NodeProto *nd);

const Onnx__AttributeProto *ns_onnx_attr(const Onnx__NodeProto *nd, const char *name);
int64_t ns_onnx_attr_int(const Onnx__NodeProto *nd, const char *name, int64_t fallback);
/* A string attribute into buf ("" when absent). */
const char *ns_onnx_attr_str(const Onnx__NodeProto *nd, const char *name, char *buf, size_t len);

#endif /* NS_ONNX_IMP_H */
