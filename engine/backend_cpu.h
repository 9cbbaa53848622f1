/* backend_cpu.h - what the CPU backend's files share (private). */
#ifndef NS_BACKEND_CPU_H
#define NS_BACKEND_CPU_H

#include "backend.h"
#include "winograd.h"

/* Thread t's column buffer; *floats (when not NULL) its size. */
float *ns_cpu_col(struct ns_backend *be, int t, size_t *floats);
/* c through Winograd, its weights from wt ([cout][cin * 9], data_grad as
 * ns_wino_weights), where that pays or NS_CPU_CONV=winograd asks; false =
 * the caller convolves directly. */
bool ns_cpu_wino(struct ns_backend *be, struct ns_wino_conv *c, const float *wt, int cin, int cout,
                 bool data_grad);
/* gwt ([cout][cin * 9]) += the weight gradient of the pad-0 3 x 3
 * convolution of in (cin x h x w) for gout, through Winograd where that
 * pays; false = the caller computes it directly. */
bool ns_cpu_wino_filter(struct ns_backend *be, const float *in, int cin, int h, int w, const float *gout,
                        int cout, float *gwt);
/* The scalar slots read_scalars() reads. */
double *ns_cpu_slots(struct ns_backend *be);
/* blas_core.c: the OpenBLAS kernels chosen by the CPU's features where
 * OpenBLAS did not know the CPU; NULL when OpenBLAS chose (or the user). */
const char *ns_blas_core_set(void);
/* Keeps the first error, for sync() and error(). */
void ns_cpu_fail(struct ns_backend *be, const char *what);
/* Fills col (cin*k*k rows of p1 - p0 floats) with the k x k windows, at
 * stride, of output pixels p0..p1-1 of an ow-wide output over in (cin x h x w). */
void ns_cpu_im2col(const float *in, int cin, int h, int w, int k, int stride, int ow, size_t p0, size_t p1,
                   float *col);

/* backend_cpu_train.c: the training ops (backend.h) */
void ns_cpu_conv2d_bwd_data(struct ns_backend *be, const struct ns_buf *gout, int cout, const struct ns_buf *wt,
                            int cin, int h, int w, int k, int stride, struct ns_buf *gin);
void ns_cpu_conv2d_bwd_filter(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                              const struct ns_buf *gout, int cout, int k, int stride, struct ns_buf *gwt,
                              struct ns_buf *gbias);
void ns_cpu_reflect_pad_bwd(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w, int p,
                            struct ns_buf *gin);
void ns_cpu_upsample2_bwd(struct ns_backend *be, const struct ns_buf *gout, int c, int h, int w,
                          struct ns_buf *gin);
void ns_cpu_dot_moments(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c, size_t m,
                        int slot0);
void ns_cpu_affine2(struct ns_backend *be, const struct ns_buf *g, const struct ns_buf *x, int c, size_t m,
                    const struct ns_buf *abc, struct ns_buf *out);

#endif /* NS_BACKEND_CPU_H */
