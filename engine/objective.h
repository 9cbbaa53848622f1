/* objective.h - the loss of docs/design.md: content + style (Gram) + total variation. */
#ifndef NS_OBJECTIVE_H
#define NS_OBJECTIVE_H

#include "net.h"
#include "tiles.h"

/* Scalar slots used by the objective; the optimisers start at NS_SLOT_OPT. */
#define NS_SLOT_CONTENT 0
#define NS_SLOT_STYLE   16
#define NS_SLOT_TV      32
#define NS_SLOT_NORM    33 /* .. 48 */
#define NS_SLOT_CHAIN   49 /* .. 63: one per pair of the correlation chain */
#define NS_SLOT_OPT     64
#define NS_SLOT_REGION  896 /* .. 1023: style k at style[i] (regions.c), past the optimisers' */

struct ns_layer_sel {
    int n;
    int layer[NS_MAX_LAYERS];
    float weight[NS_MAX_LAYERS];
    bool weighted[NS_MAX_LAYERS]; /* the list gave this layer's weight */
};

/* Gram options of the style term (Novak & Nikulin 2016). */
struct ns_gram_opts {
    float shift; /* activation shift X: Grams of F + X, targets and chain alike */
    bool chain;  /* the correlation chain between adjacent style layers;
                    evaluated on whole levels only */
};

/* Parses "relu1_1,relu2_1:0.5" against the model; unweighted layers get
 * 1/n.  Empty or NULL spec = defaults.  err gets a sentence on failure. */
enum ns_status ns_layers_parse(const struct ns_model *m, const char *spec, const char *defaults,
                               struct ns_layer_sel *sel, char *err, size_t err_len);
/* Novak & Nikulin's geometric layer weights: the layers numbered by depth
 * d = 1..D, style weights 2^(D-d) (content: 2^d) normalised to sum 1; a
 * layer whose weight the list gave keeps it. */
void ns_layers_geometric(struct ns_layer_sel *sel, bool content);
/* Default layer lists for a model (static strings built into buf). */
void ns_layers_default(const struct ns_model *m, char *content, size_t clen, char *style, size_t slen);

/* A rectangle of a layer's feature grid. */
struct ns_rect {
    int y, x, h, w;
};

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
    struct ns_rect tgt[NS_MAX_LAYERS];      /* the part of the level's grid target_p[i] holds */
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

    /* Gram options (ns_objective_set_gram) */
    struct ns_gram_opts gram;
    int n_pairs;                             /* chain pairs: adjacent style layers */
    int pair_lo[NS_MAX_LAYERS], pair_hi[NS_MAX_LAYERS]; /* their layers, lo shallower */
    int pair_pools[NS_MAX_LAYERS];           /* 2x2 average pools from lo's size to hi's */
    float pair_w[NS_MAX_LAYERS];             /* the mean of the two layers' weights */
    struct ns_buf *chain_t[NS_MAX_LAYERS];   /* blended cross-Gram targets, c_lo x c_hi */
    struct ns_buf *chain_d[NS_MAX_LAYERS];   /* G - T at the last evaluation */
    double chain_norm2[NS_MAX_LAYERS];
    struct ns_buf *tmp[3];                   /* shifted and pooled features, their gradients */
    int block;                          /* block side, px (blocks.c); 0 = the level is optimised at once */
    struct ns_regions *regions;         /* one style per region (regions.c); NULL = none */
    bool measure; /* the planner's dry run: the tile passes, which allocate nothing, are skipped */
};

/* Sets the Gram options after init (allocating what they need): the chain
 * needs an untiled level (NS_STATUS_UNAVAILABLE otherwise). */
enum ns_status ns_objective_set_gram(struct ns_objective *o, const struct ns_gram_opts *g);

/* Depth (conv layers) the selections need. */
int ns_objective_depth(const struct ns_layer_sel *content, const struct ns_layer_sel *style);

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
/* The same for a level optimised block by block (blocks.c): the tiling's
 * tiles are the blocks, the net holds the largest block's reach
 * (ns_block_region) and the content targets only that reach's features. */
enum ns_status ns_objective_init_blocks(struct ns_objective *o, struct ns_net *net, int h, int w, int block,
                                        const struct ns_layer_sel *content, const struct ns_layer_sel *style,
                                        float cw, float sw, float tw);
void ns_objective_region_size(const struct ns_model *m, int depth, int h, int w, int tile, int *rh, int *rw);
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
/* One tile at a time (blocks.c): o->region = t's region of u, the net sized
 * for it; the content targets of t's interior (ns_objective_target_at set
 * them, zeroed) from the content canvas; and a pass over o->region: each
 * style Gram share added into gsum, content[i] the interior's content sums,
 * and with grad the gradient against gsum written to o->gregion. */
enum ns_status ns_tiled_enter(struct ns_objective *o, const struct ns_buf *u, const struct ns_tile *t);
enum ns_status ns_tiled_tile_content(struct ns_objective *o, const struct ns_buf *u_content,
                                     const struct ns_tile *t);
enum ns_status ns_tiled_tile_pass(struct ns_objective *o, bool grad, double *content);
/* Adds blend * the Grams of a painting of sh x sw, computed in tiles of
 * `tile` (ns_tiling_style) through the objective's net. */
enum ns_status ns_tiled_style(struct ns_objective *o, const struct ns_buf *u_style, int sh, int sw, int tile,
                              float blend);

/* blocks.c: level h x w of x (3 x h x w on the backend, the start point on
 * entry, the result on return) optimised block by block against the
 * content canvas; style targets set.  Each block's pixels take `steps`
 * steps of their own optimiser, the rest of the image held; report gets the
 * whole image's terms after the start and after each step (done of
 * blocks x steps) and returns false to cancel. */
typedef bool (*ns_block_report_fn)(void *ud, const struct ns_terms *t, int done, int total);
enum ns_status ns_blocks_optimise(struct ns_objective *o, struct ns_buf *x, const struct ns_buf *content,
                                  enum ns_optimizer kind, float lr, int history, int steps,
                                  ns_block_report_fn report, void *ud);
/* For tests: at x, the whole image's terms (start) and block k's
 * objective: the terms and the gradient with respect to its pixels (3 x
 * its rows x its columns), which are the whole objective's. */
enum ns_status ns_blocks_eval(struct ns_objective *o, struct ns_buf *x, const struct ns_buf *content, int k,
                              struct ns_buf *grad, struct ns_terms *start, struct ns_terms *terms);
/* The buffers ns_blocks_optimise allocates (its largest block's
 * optimiser), allocated and released: the planner counts them so. */
enum ns_status ns_blocks_reserve(struct ns_objective *o, enum ns_optimizer kind, int history);

/* gram_opts.c, for objective.c and tiles.c */
/* Largest c x h x w among the style layers of shape s (regions.c too). */
size_t ns_style_elems(const struct ns_net_shape *s, const struct ns_layer_sel *style);
void ns_gram_release(struct ns_objective *o);
/* act + X into tmp (c x m), or act itself without a shift. */
const struct ns_buf *ns_gram_shifted(struct ns_objective *o, const struct ns_buf *act, int c, size_t m,
                                     struct ns_buf *tmp);
/* The chain's terms at `layer` of the objective's train net; g as in ns_loss_grad_fn. */
void ns_chain_layer(struct ns_objective *o, int layer, struct ns_buf *g);
/* A painting's pass: temporaries for its shifted features and the chain's
 * pending ones, sized for its net. */
struct ns_gram_pass {
    struct ns_objective *o;
    const struct ns_net *snet;
    float blend;
    struct ns_buf *shifted, *pending, *pool;
};
enum ns_status ns_gram_style_begin(struct ns_gram_pass *gp, struct ns_objective *o, const struct ns_net *snet,
                                   float blend);
void ns_gram_style_chain(struct ns_gram_pass *gp, int layer, const struct ns_buf *act);
void ns_gram_style_end(struct ns_gram_pass *gp);

/* regions.c: one style per region, on whole levels without the chain
 * (NS_STATUS_UNAVAILABLE otherwise).  masks[k] is style k's weight per
 * pixel of the level's canvas (0..1, the net's h x w; NULL = everywhere),
 * beta[k] its blend weight (mean 1). */
enum ns_status ns_regions_init(struct ns_objective *o, int n, const float *const *masks, const float *beta);
/* After style k's targets are set alone (add_style with blend 1, first,
 * and finish_style): they become its own. */
enum ns_status ns_regions_take_target(struct ns_objective *o, int k);
/* The style terms at `layer` in place of the blended ones; g as in
 * ns_loss_grad_fn. */
void ns_regions_layer(struct ns_objective *o, int layer, const struct ns_buf *act, struct ns_buf *g);
/* L_s of the last evaluation. */
enum ns_status ns_regions_style(struct ns_objective *o, double *style);
void ns_regions_release(struct ns_objective *o);

/* Loss at u; when grad != NULL also its gradient (3 x h x w). */
enum ns_status ns_objective_eval(struct ns_objective *o, const struct ns_buf *u, struct ns_buf *grad,
                                 struct ns_terms *terms);

#endif /* NS_OBJECTIVE_H */
