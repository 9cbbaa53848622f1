/* safetensors.h - a checked reader of safetensors files (private).
 *
 * Every offset, length and shape in the header is checked against the file
 * before a byte of tensor data is read, and the header's JSON is checked
 * for depth before json-glib recurses into it, so a truncated or hostile
 * file gives one sentence, never a crash.  The VGG weights (weights.c) and
 * the fast style networks (style_model.c) read their files through it.
 */
#ifndef NS_SAFETENSORS_H
#define NS_SAFETENSORS_H

#include "ns.h"

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

/* A header larger than this is not a file of ours. */
#define NS_MAX_HEADER (64u << 20)
/* A safetensors header nests 3 deep (the object, a tensor, its shape);
 * json-glib recurses once per level, so 100000 levels overflow the stack. */
#define NS_MAX_JSON_DEPTH 64

struct ns_st_tensor {
    const char *name; /* the header's string */
    int64_t shape[4]; /* the first four dimensions */
    int ndim;
    bool f32;            /* dtype F32: the only one read */
    uint64_t begin, end; /* relative to the data section */
};

struct ns_st_file {
    const char *path;
    const char *what; /* "weights file", "style model": how messages name it */
    char *err;
    size_t err_len;
    int fd;            /* read with pread: a file that shrinks under a mapping
                          faults (SIGBUS); a short read is a sentence */
    uint64_t data_off; /* the data section */
    uint64_t data_len;
    JsonParser *parser;
    JsonObject *root, *meta; /* meta: __metadata__, NULL when absent; its values are strings */
    struct ns_st_tensor *tensors;
    int n_tensors;
};

/* Opens and checks the file: the header, every tensor entry (dtype, shape,
 * offsets within the data) and the metadata's values.  On failure err holds
 * "WHAT 'PATH': why" and nothing stays open. */
enum ns_status ns_st_open(struct ns_st_file *f, const char *path, const char *what, char *err, size_t err_len);
void ns_st_close(struct ns_st_file *f);

/* The tensor called name, NULL if none. */
const struct ns_st_tensor *ns_st_find(const struct ns_st_file *f, const char *name);
/* The metadata's value for key, NULL if none. */
const char *ns_st_meta(const struct ns_st_file *f, const char *key);
/* A JSON object's string member, NULL when absent or not a string. */
const char *ns_json_string(JsonObject *o, const char *name);
/* Reads an F32 tensor into a new array; refuses NaN and infinities. */
enum ns_status ns_st_read_f32(struct ns_st_file *f, const struct ns_st_tensor *t, float **out);
/* Fills f->err with "WHAT 'PATH': " and the message, on one line; returns st. */
enum ns_status ns_st_fail(struct ns_st_file *f, enum ns_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "[64,3,3,3]": a tensor's shape for messages. */
void ns_st_shape_text(const struct ns_st_tensor *t, char *out, size_t len);

/* A tensor to write: F32 data of shape[0..ndim-1]. */
struct ns_st_out {
    const char *name;
    int shape[4];
    int ndim;
    const float *data;
};
/* Writes the tensors in order with __metadata__ made of `meta`, JSON
 * members ("\"k\":\"v\",...", NULL = none), whole or not at all:
 * NS_STATUS_INVALID_ARGUMENT when meta is not JSON members, IO_ERROR when
 * the file cannot be written, err then one line naming the file and why. */
enum ns_status ns_st_save(const char *path, const struct ns_st_out *t, int n, const char *meta, char *err,
                          size_t err_len);

/* Checks JSON text before a parser that recurses sees it: the offset of
 * the first '[' or '{' deeper than max_depth, or of a byte strict JSON never
 * has outside a string (a quote other than ", a comment, a control
 * character), else len.  *depth: the deepest nesting seen. */
size_t ns_json_check(const char *text, size_t len, int max_depth, int *depth);

#endif /* NS_SAFETENSORS_H */
