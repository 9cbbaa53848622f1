/* winograd.h - Winograd F(4x4, 3x3) convolution for the CPU backend
 * (private to it).
 *
 * A stride-1 3 x 3 convolution computed 4 x 4 output pixels at a time from
 * 6 x 6 input tiles: 36 multiplies per channel pair where the direct
 * method takes 144 (Lavin & Gray 2016).  The products are 36 GEMMs per
 * block of tiles, through OpenBLAS.
 */
#ifndef NS_WINOGRAD_H
#define NS_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>

/* The Winograd-domain weights: u is [36][cout][cin]. */
size_t ns_wino_weight_floats(int cin, int cout);

/* u = the transform of wt ([cout][cin * 9]) for output channels o0 ..
 * o0 + no - 1: u [36][no][cin].  With data_grad, the weights of its input
 * gradient instead, a convolution from cout channels to cin of the flipped
 * kernels: output channels o0.. of cin, u [36][no][cout]. */
void ns_wino_weights(const float *wt, int cin, int cout, bool data_grad, int o0, int no, float *u, int threads);

/* The most floats of weights a run transforms at once on a small layer:
 * the output channels go in groups that fit (a 256 x 256 layer's whole). */
#define NS_WINO_U_FLOATS ((size_t) 36 * 256 * 256)

/* A layer of at least this many tiles (64 x 64 output pixels) whose
 * weights outgrow NS_WINO_U_FLOATS transforms them whole and takes blocks
 * of this many tiles: its u, beyond the caches, was packed again for every
 * group and every block (make bench-conv, conv4_2 at 512 px: 61 -> 39 ms).
 * Smaller layers keep the small room: the peak of a 256 px run stays
 * within a few percent of direct convolution's. */
#define NS_WINO_BIG_TILES 256

/* The output channels a run transforms at once for a cin -> cout layer
 * with oh x ow output pixels. */
int ns_wino_group(int cin, int cout, int oh, int ow);

struct ns_wino_conv {
    const float *in; /* cin x h x w */
    int cin, h, w;
    int pad;         /* zeros around the input: 0, 1 or 2 */
    const float *u;  /* [36][cout][cin], from ns_wino_weights */
    const float *bias; /* cout, or NULL */
    int cout;
    bool relu;
    float *out;      /* cout x (h + 2 pad - 2) x (w + 2 pad - 2), overwritten */
};

/* The scratch a run wants: a block of up to NS_WINO_SCRATCH_FLOATS, or
 * of 64 tiles (NS_WINO_BIG_TILES for a big layer), or all of them. */
#define NS_WINO_SCRATCH_FLOATS ((size_t) 1 << 20)
size_t ns_wino_scratch_floats(int cin, int cout, int h, int w, int pad);

/* The convolution, in blocks of tiles that depend on the sizes and the
 * scratch alone (so any thread count gives the same bytes).  false when
 * the scratch holds not even one tile's products. */
bool ns_wino_run(const struct ns_wino_conv *c, float *scratch, size_t scratch_floats, int threads);

/* gwt ([cout][cin * 9]) += the weight gradient of the pad-0 convolution
 * of c->in (c->cin x h x w) for gout (c->cout x (h - 2) x (w - 2)); p is
 * ns_wino_weight_floats(cin, cout) of room for the transformed sums.
 * c->u, bias, relu and out are not used. */
bool ns_wino_filter_run(const struct ns_wino_conv *c, const float *gout, float *gwt, float *p, float *scratch,
                        size_t scratch_floats, int threads);

/* Whether Winograd beats the direct convolution for this shape, as
 * measured by bench/conv (docs/engine.md). */
bool ns_wino_pays(int cin, int cout, int oh, int ow);

#endif /* NS_WINOGRAD_H */
