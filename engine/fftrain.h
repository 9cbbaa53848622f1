/* fftrain.h - a fast style network's forward pass kept for its backward
 * pass, and that backward pass (private; fftrain.c). */
#ifndef NS_FFTRAIN_H
#define NS_FFTRAIN_H

#include "backend.h"
#include "ffnet.h"

/* The network's weights, their gradients and what one pass keeps, on be,
 * for inputs of h x w. */
struct ns_ff_tape {
    struct ns_backend *be;
    struct ns_style_model *m; /* host weights: the norms' are read each pass */
    int style;                /* the norms' row the passes use (m->n_styles > 1) */
    struct ns_ff_shape sh;
    int h, w;
    struct ns_buf *param[NS_FF_MAX_STEPS][2], *grad[NS_FF_MAX_STEPS][2];
    struct ns_buf *act[NS_FF_MAX_STEPS + 1]; /* the tensor entering step i; act[n] the output */
    struct ns_buf *pad[NS_FF_MAX_STEPS];     /* a convolution's padded input */
    bool owned[NS_FF_MAX_STEPS + 1];         /* act[i] is its own buffer, not its step's input */
    double *mean[NS_FF_MAX_STEPS], *inv[NS_FF_MAX_STEPS]; /* a norm's statistics, per channel */
    double *ngrad[NS_FF_MAX_STEPS][2]; /* a norm's weight and bias gradients, on the host */
    struct ns_buf *g, *g2, *gpad, *gsaved; /* the backward pass's running buffers */
    struct ns_buf *abc;                    /* a norm's per-channel coefficients */
};

/* Allocates everything for m at h x w (a multiple of 4) and uploads the
 * weights; NS_STATUS_UNAVAILABLE when the backend has no training ops. */
enum ns_status ns_ff_tape_init(struct ns_ff_tape *t, struct ns_backend *be, struct ns_style_model *m, int h, int w);
void ns_ff_tape_release(struct ns_ff_tape *t);
/* Zeroes the weight gradients. */
void ns_ff_tape_zero(struct ns_ff_tape *t);
/* The network over act[0] (3 x h x w, the network's units, filled by the
 * caller); the output is act[n_steps]. */
enum ns_status ns_ff_tape_forward(struct ns_ff_tape *t);
/* Adds the weight gradients for gout (the output's gradient, 3 x h x w,
 * overwritten); with gin (3 x h x w) also the input's. */
enum ns_status ns_ff_tape_backward(struct ns_ff_tape *t, struct ns_buf *gout, struct ns_buf *gin);
/* The host's norm gradients into grad[][] (before an optimiser step). */
void ns_ff_tape_flush(struct ns_ff_tape *t);
/* The weights back into m (all, or only the norms' when norms_only). */
enum ns_status ns_ff_tape_download(struct ns_ff_tape *t, bool norms_only);

#endif /* NS_FFTRAIN_H */

/* fftrain_step.c, for tests: the last step's mean gradients, as a model
 * whose tensors are them (free with ns_style_model_free). */
struct ns_trainer;
enum ns_status ns_trainer_gradients(struct ns_trainer *t, struct ns_style_model **out);

/* fftrain_ckpt.c */
/* A new network of arch with PyTorch's first weights (a convolution's
 * weights and bias uniform in +-1/sqrt(fan-in), norms 1 and 0), from seed. */
enum ns_status ns_style_model_new(const struct ns_ff_arch *arch, uint64_t seed, struct ns_style_model **out);
/* The same holding n_styles styles (conditional instance norm), each
 * norm's rows alike. */
enum ns_status ns_style_model_new_styles(const struct ns_ff_arch *arch, int n_styles, uint64_t seed,
                                         struct ns_style_model **out);
/* Reads a checkpoint's moments into state (malloc'ed), err a sentence. */
enum ns_status ns_style_model_load_state(const char *path, const struct ns_style_model *m,
                                         float *(*state)[2][2], char *err, size_t err_len);
