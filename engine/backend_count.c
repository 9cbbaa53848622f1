/* backend_count.c - a backend that only counts: alloc() adds a buffer's
 * bytes up and keeps the peak, every op does nothing, every scalar reads 0.
 *
 * The planner runs a level's own allocation code against it (run.c's
 * ns_level_allocate), so the memory estimate is what the run allocates, by
 * construction, with nothing counted by hand beside it. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

/* every op ignores its operands: that is the point */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static struct ns_backend_count *counter(struct ns_backend *be) {
    return (struct ns_backend_count *) be;
}

static struct ns_buf *count_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    struct ns_backend_count *c = counter(be);
    struct ns_buf *b = malloc(sizeof *b);
    if (!b) return NULL;
    *b = (struct ns_buf){NULL, n, dtype};
    c->bytes += (double) n * ns_dtype_size(dtype);
    if (c->bytes > c->peak) c->peak = c->bytes;
    return b;
}

static void count_release(struct ns_backend *be, struct ns_buf *b) {
    counter(be)->bytes -= (double) b->n * ns_dtype_size(b->dtype);
    free(b);
}

static void count_free(struct ns_backend *be) { }
static void count_upload(struct ns_backend *be, struct ns_buf *d, const float *s, size_t n) { }
static void count_download(struct ns_backend *be, float *d, const struct ns_buf *s, size_t n) { }
static size_t count_mem_free(struct ns_backend *be) { return 0; }
static enum ns_status count_set_threads(struct ns_backend *be, int t) { return NS_STATUS_OK; }
static enum ns_status count_set_precision(struct ns_backend *be, enum ns_precision p) {
   
    return NS_STATUS_OK;
}
static void count_input_fwd(struct ns_backend *be, const struct ns_buf *u, struct ns_buf *x, size_t hw,
                            const float a[3], const float b[3], const int perm[3]) { }
static void count_input_bwd(struct ns_backend *be, const struct ns_buf *gx, struct ns_buf *gu, size_t hw,
                            const float a[3], const int perm[3]) { }
static void count_conv3x3(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                          const struct ns_buf *wt, const struct ns_buf *bias, int cout, struct ns_buf *out,
                          bool relu) { }
static void count_conv3x3_bwd(struct ns_backend *be, const struct ns_buf *gout, int cout, int h, int w,
                              const struct ns_buf *wt, int cin, struct ns_buf *gin) { }
static void count_relu_bwd(struct ns_backend *be, struct ns_buf *g, const struct ns_buf *y, size_t n) { }
static void count_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in, int c, int h,
                           int w, struct ns_buf *out) { }
static void count_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in,
                           const struct ns_buf *gout, int c, int h, int w, struct ns_buf *gin) { }
static void count_gram(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, struct ns_buf *g) { }
static void count_crop(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int y0, int x0, int oh,
                       int ow, struct ns_buf *out) { }
static void count_add_window(struct ns_backend *be, const struct ns_buf *in, int c, int ih, int iw, int y0, int x0,
                             int h, int w, struct ns_buf *out) { }
static void count_gram_grad(struct ns_backend *be, const struct ns_buf *d, const struct ns_buf *f, int c, size_t m,
                            float alpha, struct ns_buf *grad) { }
static void count_shift_scale(struct ns_backend *be, const struct ns_buf *in, int c, size_t m, float shift,
                              const struct ns_buf *w, struct ns_buf *out) { }
static void count_cross_gram(struct ns_backend *be, const struct ns_buf *a, int ca, const struct ns_buf *b, int cb,
                             size_t m, float alpha, struct ns_buf *g) { }
static void count_gram_diff(struct ns_backend *be, struct ns_buf *d, const struct ns_buf *t, size_t n, int slot) { }
static void count_cross_grad(struct ns_backend *be, const struct ns_buf *d, int ca, int cb, bool trans,
                             const struct ns_buf *f, size_t m, float alpha, struct ns_buf *grad) { }
static void count_content_loss(struct ns_backend *be, const struct ns_buf *f, const struct ns_buf *p, size_t n,
                               float coef, struct ns_buf *grad, int slot) { }
static void count_style_loss(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, const struct ns_buf *t,
                             float coef, struct ns_buf *scratch, struct ns_buf *grad, int slot) { }
static void count_tv_loss(struct ns_backend *be, const struct ns_buf *u, int c, int h, int w, float coef,
                          struct ns_buf *grad, int slot) { }
static void count_fill(struct ns_backend *be, struct ns_buf *x, float v, size_t n) { }
static void count_copy(struct ns_backend *be, struct ns_buf *d, const struct ns_buf *s, size_t n) { }
static void count_axpby(struct ns_backend *be, float a, const struct ns_buf *x, float b, struct ns_buf *y, size_t n) { }
static void count_dots(struct ns_backend *be, const struct ns_buf *const *v, int k, const struct ns_buf *x, size_t n,
                       int slot0) { }
static void count_lincomb(struct ns_backend *be, struct ns_buf *y, float alpha, const struct ns_buf *x,
                          const struct ns_buf *const *v, int k, const double *coef, size_t n) { }
static void count_adam(struct ns_backend *be, struct ns_buf *x, const struct ns_buf *g, struct ns_buf *m,
                       struct ns_buf *v, size_t n, float lr, float b1, float b2, float eps, int t) { }
static void count_reflect_pad(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w, int p,
                              struct ns_buf *out) { }
static void count_conv2d(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                         const struct ns_buf *wt, const struct ns_buf *bias, int cout, int k, int stride,
                         struct ns_buf *out) { }
static void count_moments(struct ns_backend *be, const struct ns_buf *x, int c, size_t m, int slot0) { }
static void count_affine(struct ns_backend *be, struct ns_buf *x, int c, size_t m, const struct ns_buf *a,
                         const struct ns_buf *b, bool relu) { }
static void count_upsample2(struct ns_backend *be, const struct ns_buf *in, int c, int h, int w,
                            struct ns_buf *out) { }
static enum ns_status count_read_scalars(struct ns_backend *be, int slot0, int n, double *out) {
   
    memset(out, 0, sizeof(double) * (size_t) (n > 0 ? n : 0));
    return NS_STATUS_OK;
}
static enum ns_status count_sync(struct ns_backend *be) { return NS_STATUS_OK; }
static const char *count_error(struct ns_backend *be) { return ""; }

/* training */
static void count_conv2d_bwd_data(struct ns_backend *be, const struct ns_buf *gout, int cout,
                                  const struct ns_buf *wt, int cin, int h, int w, int k, int stride,
                                  struct ns_buf *gin) {}
static void count_conv2d_bwd_filter(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                                    const struct ns_buf *gout, int cout, int k, int stride, struct ns_buf *gwt,
                                    struct ns_buf *gbias) {}
static void count_reflect_pad_bwd(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w, int p,
                                  struct ns_buf *gin) {}
static void count_upsample2_bwd(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w,
                                struct ns_buf *gin) {}
static void count_dot_moments(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c,
                              size_t m, int slot0) {}
static void count_affine2(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c, size_t m,
                          const struct ns_buf *abc, struct ns_buf *out) {}

static const struct ns_backend_ops count_ops = {
    "count",          count_free,        count_alloc,        count_release,     count_upload,
    count_download,   count_mem_free,    count_set_threads,  count_set_precision,
    count_input_fwd,  count_input_bwd,   count_conv3x3,      count_conv3x3_bwd, count_relu_bwd,
    count_pool_fwd,   count_pool_bwd,    count_gram,         count_crop,        count_add_window,
    count_gram_grad,  count_shift_scale, count_cross_gram,   count_gram_diff,   count_cross_grad,
    count_content_loss, count_style_loss, count_tv_loss,     count_fill,        count_copy,
    count_axpby,      count_dots,        count_lincomb,      count_adam,        count_reflect_pad,
    count_conv2d,     count_moments,     count_affine,       count_upsample2,   count_read_scalars,
    count_sync,       count_error,       count_conv2d_bwd_data, count_conv2d_bwd_filter,
    count_reflect_pad_bwd, count_upsample2_bwd, count_dot_moments, count_affine2,
    NULL, /* upsample2_pad: the count of upsample2 and reflect_pad */
};

void ns_backend_count_init(struct ns_backend_count *c, enum ns_dtype tensors) {
    memset(c, 0, sizeof *c);
    c->base.ops = &count_ops;
    c->base.tensor_dtype = tensors;
    c->base.bf16 = tensors == NS_DTYPE_BF16;
    strcpy(c->base.description, "counts allocations");
}
