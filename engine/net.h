/* net.h - VGG on a backend: weights (model) and a per-size plan (net). */
#ifndef NS_NET_H
#define NS_NET_H

#include "backend.h"
#include "weights.h"

struct ns_model {
    struct ns_backend *be;
    int arch;
    int n_layers;
    char name[NS_MAX_LAYERS][16]; /* "relu3_1" */
    int block[NS_MAX_LAYERS];     /* VGG block 1..5 of conv l */
    int cin[NS_MAX_LAYERS], cout[NS_MAX_LAYERS];
    bool pool_after[NS_MAX_LAYERS];       /* last conv of its block */
    struct ns_buf *wt[NS_MAX_LAYERS];     /* [cout][cin*9] */
    struct ns_buf *wt_rot[NS_MAX_LAYERS]; /* [cin][cout*9]: backward-to-input weights */
    struct ns_buf *bias[NS_MAX_LAYERS];
    int perm[3];
    float a[3], b[3];
};

/* Names, channels and pooling of the first n_layers convs of VGG-arch
 * (no buffers): enough to plan memory without a weights file. */
void ns_model_layout(struct ns_model *m, int arch, int n_layers);
/* Floats of the weights on the backend; rotated = with the flipped copies
 * that backward needs where the backend has no conv3x3_bwd. */
size_t ns_model_floats(const struct ns_model *m, bool rotated);
/* Uploads w's conv weights (and their flipped transposes) to be. */
enum ns_status ns_model_init(struct ns_model *m, struct ns_backend *be, const struct ns_weights *w);
void ns_model_release(struct ns_model *m);
/* Layer index of "reluB_I" (or "convB_I"), -1 if absent. */
int ns_model_layer(const struct ns_model *m, const char *name);

/* Shape of a network evaluated on h x w up to conv layer depth-1. */
struct ns_net_shape {
    int depth;
    int c[NS_MAX_LAYERS], h[NS_MAX_LAYERS], w[NS_MAX_LAYERS]; /* conv l's output */
    bool pooled[NS_MAX_LAYERS];                               /* a pool follows conv l inside the depth */
    size_t max_elems;                                         /* largest tensor, input included */
    double flops;                                             /* forward multiply-adds * 2 */
};

void ns_net_shape(const struct ns_model *m, int depth, int h, int w, struct ns_net_shape *s);
/* Smallest spatial side at the deepest layer (0 = the image is too small). */
int ns_net_min_side(const struct ns_net_shape *s);
/* The input pixels feature (y, x) of conv `layer`'s output depends on: rows
 * y * jump + lo .. y * jump + hi, and the same for columns; jump is the
 * product of the pooling strides before the layer. */
struct ns_net_support {
    int lo, hi, jump;
};
void ns_net_support(const struct ns_net_shape *s, int layer, struct ns_net_support *out);
/* The halo a tile of the image needs so that every feature of its interior,
 * at every layer of the shape, is what the whole image gives: the deepest
 * layer's reach, rounded up to its jump so that tiles stay on its grid. */
int ns_net_halo(const struct ns_net_shape *s);

struct ns_net {
    const struct ns_model *m;
    struct ns_backend *be;
    struct ns_net_shape s;
    bool train;
    enum ns_pool_mode pool_mode;
    int h, w;
    int cap_h, cap_w;                   /* the size allocated for; ns_net_set_size may shrink h, w */
    struct ns_buf *x;                   /* network input, 3 x h x w, float32 */
    struct ns_buf *act[NS_MAX_LAYERS];  /* ReLU output of conv l */
    struct ns_buf *pool[NS_MAX_LAYERS]; /* pooled act[l] when s.pooled[l] */
    struct ns_buf *ga, *gb;             /* gradient ping-pong (train) */
    struct ns_buf *buf[2];              /* forward ping-pong (not train) */
};

enum ns_status ns_net_new(const struct ns_model *m, int depth, int h, int w, bool train,
                          enum ns_pool_mode pool_mode, struct ns_net **out);
void ns_net_free(struct ns_net *net);
/* Runs the net at h x w, at most the size it was made for (a tile at the
 * image's edge); keeps its buffers. */
enum ns_status ns_net_set_size(struct ns_net *net, int h, int w);

/* Runs u (3 x h x w, R'G'B' 0..1) forward; calls layer_cb after each conv's
 * ReLU with its output (valid until the next call in non-train nets). */
typedef void (*ns_layer_fn)(void *ud, int layer, const struct ns_buf *act);
void ns_net_forward(struct ns_net *net, const struct ns_buf *u, ns_layer_fn layer_cb, void *ud);

/* Backward from the deepest layer.  loss_cb(ud, l, act, g) adds the losses'
 * gradients at layer l into g (d/d act[l]); the gradient reaching the image
 * is written to gu (3 x h x w). */
typedef void (*ns_loss_grad_fn)(void *ud, int layer, const struct ns_buf *act, struct ns_buf *g);
void ns_net_backward(struct ns_net *net, ns_loss_grad_fn loss_cb, void *ud, struct ns_buf *gu);

#endif /* NS_NET_H */
