/* tiles.h - the objective evaluated tile by tile, in bounded memory.
 *
 * A level of h x w is cut into tiles whose interiors partition it.  Each
 * tile runs the network on its region: the interior plus a halo of
 * ns_net_halo() px, clipped at the image's edges, with every region origin
 * on the deepest layer's pooling grid.  So every interior feature, at every
 * layer used, is the one the whole image gives (ns_net_support): the tiles'
 * zero padding at a cut lies outside what any interior feature reads.
 *   - content: local to each interior, against the whole level's targets;
 *   - style: each Gram matrix summed over all interiors in a first,
 *     forward-only pass, so it is the whole image's; the second pass takes
 *     each tile's gradient against it;
 *   - TV: on the whole image, as untiled;
 *   - the gradient reaching each region is added into the image's.
 * The objective and its gradient are then the untiled ones up to float
 * summation order; nothing is approximated as long as the halo is the
 * full reach.  The cost is one more forward pass per evaluation and the
 * halos' overlap.
 */
#ifndef NS_TILES_H
#define NS_TILES_H

#include "net.h"

struct ns_tiling {
    int h, w;   /* the level */
    int tile;   /* interior side, a multiple of jump; 0 = untiled */
    int halo;   /* px each side, a multiple of jump */
    int jump;   /* the deepest layer's pooling stride */
    int ny, nx; /* tiles down and across */
};

struct ns_tile {
    int y0, x0, y1, x1;     /* interior, image px, end exclusive */
    int ry0, rx0, ry1, rx1; /* region: interior + halo, clipped */
};

/* Tiles of about `tile` px (rounded up to the jump) over a level whose net
 * shape is `full`.  One tile when `tile` covers the level. */
void ns_tiling_plan(const struct ns_net_shape *full, int tile, struct ns_tiling *t);
void ns_tiling_get(const struct ns_tiling *t, int i, struct ns_tile *out);
/* The largest region's side: the size of the net the tiles run on. */
int ns_tiling_region(const struct ns_tiling *t, bool rows);

/* Blocks (blocks.c) are a tiling's tiles optimised one at a time.  A
 * block's reach: every feature its pixels change (the block grown by the
 * halo), as the interior, and what those features read (grown again) as
 * the region. */

/* The blocks of a tiling's grid moved by `shift` px (a multiple of the
 * jump; 0 = the tiles themselves): their number, and block i with its
 * region (the block grown by the halo) and its reach. */
int ns_block_count(const struct ns_tiling *t, int shift);
void ns_block_get(const struct ns_tiling *t, int shift, int i, struct ns_tile *block, struct ns_tile *reach);
/* The largest reach region's side. */
int ns_block_region(const struct ns_tiling *t, bool rows);
/* Room for the features at `layer` of any reach's interior. */
size_t ns_block_target_elems(const struct ns_net_shape *full, const struct ns_tiling *t, int layer);
/* Room for any layer's features over any reach's interior: the windows. */
size_t ns_block_window_elems(const struct ns_net_shape *full, const struct ns_tiling *t);
struct ns_objective;
/* Points the objective's content targets at tile t's interior. */
void ns_objective_target_at(struct ns_objective *o, const struct ns_tile *t);

/* The tile side at which a painting of sh x sw runs through the net of a
 * tiled level (its capacity cap_h x cap_w), so that the painting needs no
 * net of its own; 0 when the level is untiled or no tile fits.  Each Gram
 * is then the sum of the interiors' shares, exactly the whole painting's. */
int ns_tiling_style(const struct ns_model *m, int depth, const struct ns_tiling *level, int cap_h, int cap_w,
                    int sh, int sw);

#endif /* NS_TILES_H */
