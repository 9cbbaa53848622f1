/* image.h - resampling and pixel layout helpers (private). */
#ifndef NS_IMAGE_H
#define NS_IMAGE_H

#include "ns.h"

/* A strided view: element (x, y, c) is data[y * row + x * px + c * ch]. */
struct ns_view {
    float *data;
    int w, h, c;
    size_t px, row, ch;
};

struct ns_view ns_view_image(const struct ns_image *im);                /* interleaved */
struct ns_view ns_view_planar(float *data, int w, int h, int channels); /* c x h x w */

/* Resamples the first dst.c channels of src into dst: area average when
 * shrinking, bicubic (Keys, a = -0.5) when enlarging, a copy when equal;
 * on `threads` threads (0 = all cores, the run's ns_params.threads). */
enum ns_status ns_resample(struct ns_view src, struct ns_view dst, int threads);

/* A canvas of channels x (h + 2m) x (w + 2m) planar floats: the view of its
 * w x h interior, and its margins filled by mirroring the interior at its
 * edges (the edge pixel itself not repeated; m < w and m < h). */
struct ns_view ns_canvas_interior(float *canvas, int w, int h, int m, int channels);
void ns_canvas_mirror(float *canvas, int w, int h, int m, int channels);

/* Clamps to 0..1. */
void ns_clamp01(float *x, size_t n);

/* Fills u (3 x n) with 0.5 + 0.15 N(0,1) from a seeded generator. */
void ns_fill_noise(float *u, size_t n, uint64_t seed);

/* The painting's colour mean and covariance mapped onto the photo's, in
 * place (colors.c); alpha untouched. */
enum ns_status ns_match_colors(const struct ns_image *photo, struct ns_image *painting);

/* masks.c: a region's mask is usable (data NULL = everywhere; its first
 * channel finite). */
bool ns_mask_ok(const struct ns_image *mask);
/* Each mask on a canvas of w x h and margins m (1 x (h + 2m) x (w + 2m),
 * 0..1, mirrored), malloc'ed into out[k]; NULL where a mask is everywhere. */
enum ns_status ns_masks_canvas(const struct ns_image *masks, int n, int w, int h, int m,
                               int threads, float **out);
/* Outside the union of the masks (resampled to rgb's size) rgb becomes the
 * photo (resampled likewise: a copy at equal sizes), blended by the union
 * at soft edges. */
enum ns_status ns_masks_composite(const struct ns_image *masks, int n, const struct ns_image *photo,
                                  struct ns_image *rgb, int threads);

/* Longest side scaled to `size` (0 or equal: unchanged), aspect kept. */
void ns_fit_size(int w, int h, int size, int *ow, int *oh);

#endif /* NS_IMAGE_H */
