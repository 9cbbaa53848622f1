/* objective.h - the loss of DESIGN.md: content + style (Gram) + total variation. */
#ifndef NS_OBJECTIVE_H
#define NS_OBJECTIVE_H

#include "net.h"
#include "tiles.h"

/* Scalar slots used by the objective; the optimisers start at NS_SLOT_OPT. */
#define NS_SLOT_CONTENT 0
#define NS_SLOT_STYLE   16
#define NS_SLOT_TV      32
#define NS_SLOT_NORM    33
#define NS_SLOT_OPT     64

struct ns_layer_sel {
    int n;
    int layer[NS_MAX_LAYERS];
    float weight[NS_MAX_LAYERS];
};

/* Parses "relu1_1,relu2_1:0.5" against the model; unweighted layers get
 * 1/n.  Empty or NULL spec = defaults.  err gets a sentence on failure. */
enum ns_status ns_layers_parse(const struct ns_model *m, const char *spec, const char *defaults,
                               struct ns_layer_sel *sel, char *err, size_t err_len);
/* Default layer lists for a model (static strings built into buf). */
void ns_layers_default(const struct ns_model *m, char *content, size_t clen, char *style, size_t slen);

struct ns_terms {
    double loss;    /* weighted total */
    double content; /* L_c */
    double style;   /* L_s */
    double tv;      /* L_tv */
};

struct ns_objective {
    struct ns_net *net; /* train net at the optimisation size */
    struct ns_layer_sel content, style;
    float content_weight, style_weight, tv_weight;
    struct ns_buf *target_p[NS_MAX_LAYERS]; /* content features (tensors), per content[i] */
    double p_norm2[NS_MAX_LAYERS];
    struct ns_buf *target_t[NS_MAX_LAYERS]; /* blended style Grams, per style[i] */
    double t_norm2[NS_MAX_LAYERS];
    struct ns_buf *scratch; /* c*c for Grams */

    /* tiles (tiling.tile == 0: the net is the whole level) */
    struct ns_tiling tiling;
    struct ns_net_shape full;           /* the whole level's shape */
    struct ns_buf *region, *gregion;    /* a tile's part of the image, its gradient */
    struct ns_buf *win, *pwin, *gwin;   /* a layer's window, its target, its gradient */
    struct ns_buf *gsum[NS_MAX_LAYERS]; /* per style[i]: Gram summed over tiles, less the target */
    const struct ns_tile *at;           /* the tile being evaluated */
};

/* Depth (conv layers) the selections need. */
int ns_objective_depth(const struct ns_layer_sel *content, const struct ns_layer_sel *style);
/* Backend floats the targets and scratch take. */
size_t ns_objective_floats(const struct ns_model *m, const struct ns_net_shape *s,
                           const struct ns_layer_sel *content, const struct ns_layer_sel *style);

/* Allocates targets; the net must be a train net deep enough. */
enum ns_status ns_objective_init(struct ns_objective *o, struct ns_net *net,
                                 const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                 float cw, float sw, float tw);
/* The same for a level of h x w evaluated in tiles of about `tile` px (0 =
 * untiled: the net must be h x w); the net must hold the largest region
 * (ns_tiling_region), which ns_objective_region_size tells beforehand. */
enum ns_status ns_objective_init_tiled(struct ns_objective *o, struct ns_net *net, int h, int w, int tile,
                                       const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                       float cw, float sw, float tw);
void ns_objective_region_size(const struct ns_model *m, int depth, int h, int w, int tile, int *rh, int *rw);
/* Backend floats tiles add beyond the region's net: its tensors (windows)
 * or else its float32 buffers (the region, its gradient, the Gram sums). */
size_t ns_objective_tile_floats(const struct ns_model *m, const struct ns_net_shape *region,
                                const struct ns_layer_sel *style, bool tensors);
void ns_objective_release(struct ns_objective *o);

/* Content targets from u_content (3 x h x w on the backend, the net's size). */
enum ns_status ns_objective_set_content(struct ns_objective *o, const struct ns_buf *u_content);
/* Adds blend * Gram(style image) to the style targets; the style image
 * (3 x sh x sw on the backend) may have any size.  Call with first = true for
 * the first style image, then finish with ns_objective_finish_style(). */
enum ns_status ns_objective_add_style(struct ns_objective *o, const struct ns_buf *u_style, int sh, int sw,
                                      float blend, bool first);
enum ns_status ns_objective_finish_style(struct ns_objective *o);

/* tiles.c: the tiled halves of set_content and eval */
enum ns_status ns_tiled_content(struct ns_objective *o, const struct ns_buf *u_content);
enum ns_status ns_tiled_eval(struct ns_objective *o, const struct ns_buf *u, struct ns_buf *grad,
                             double *content, double *style);
/* Adds blend * the Grams of a painting of sh x sw, computed in tiles of
 * `tile` (ns_tiling_style) through the objective's net. */
enum ns_status ns_tiled_style(struct ns_objective *o, const struct ns_buf *u_style, int sh, int sw, int tile,
                              float blend);

/* Loss at u; when grad != NULL also its gradient (3 x h x w). */
enum ns_status ns_objective_eval(struct ns_objective *o, const struct ns_buf *u, struct ns_buf *grad,
                                 struct ns_terms *terms);

#endif /* NS_OBJECTIVE_H */
