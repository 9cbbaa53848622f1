/* masks.c - the regions' masks on the host: checked, put on each level's
 * canvas, and used to put the photo back outside every region. */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool ns_mask_ok(const struct ns_image *mask) {
    if (!mask->data) return true; /* everywhere */
    if (mask->width < 1 || mask->height < 1 || mask->channels < 1 || mask->channels > 4 ||
        mask->stride < mask->width * mask->channels || (double) mask->width * mask->height > 1e9)
        return false;
    for (int y = 0; y < mask->height; y++)
        for (int x = 0; x < mask->width; x++)
            if (!isfinite(mask->data[(size_t) y * mask->stride + (size_t) x * mask->channels])) return false;
    return true;
}

/* The first channel of `mask` resampled into dst, clamped to 0..1. */
static enum ns_status mask_plane(const struct ns_image *mask, struct ns_view dst, int threads) {
    struct ns_view src = ns_view_image(mask);
    src.c = 1;
    enum ns_status st = ns_resample(src, dst, threads);
    for (int y = 0; y < dst.h && !st; y++)
        for (int x = 0; x < dst.w; x++) {
            float *v = dst.data + y * dst.row + x * dst.px;
            *v = *v < 0.0f ? 0.0f : *v > 1.0f ? 1.0f : *v;
        }
    return st;
}

enum ns_status ns_masks_canvas(const struct ns_image *masks, int n, int w, int h, int m, int threads,
                               float **out) {
    size_t plane = (size_t) (w + 2 * m) * (h + 2 * m);
    enum ns_status st = NS_STATUS_OK;
    for (int k = 0; k < n; k++)
        out[k] = NULL;
    for (int k = 0; k < n && !st; k++) {
        if (!masks[k].data) continue;
        if (!(out[k] = malloc(sizeof(float) * plane))) {
            st = NS_STATUS_OUT_OF_MEMORY;
            break;
        }
        st = mask_plane(&masks[k], ns_canvas_interior(out[k], w, h, m, 1), threads);
        if (!st) ns_canvas_mirror(out[k], w, h, m, 1);
    }
    if (st)
        for (int k = 0; k < n; k++)
            free(out[k]), out[k] = NULL;
    return st;
}

enum ns_status ns_masks_composite(const struct ns_image *masks, int n, const struct ns_image *photo,
                                  struct ns_image *rgb, int threads) {
    int w = rgb->width, h = rgb->height;
    size_t hw = (size_t) w * h;
    for (int k = 0; k < n; k++)
        if (!masks[k].data) return NS_STATUS_OK; /* a style everywhere: no outside */
    float *u = calloc(hw, sizeof(float)), *plane = malloc(sizeof(float) * hw),
          *c = malloc(sizeof(float) * 3 * hw);
    enum ns_status st = u && plane && c ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    for (int k = 0; k < n && !st; k++) { /* the union: each pixel's largest mask */
        if ((st = mask_plane(&masks[k], ns_view_planar(plane, w, h, 1), threads))) break;
        for (size_t j = 0; j < hw; j++)
            u[j] = plane[j] > u[j] ? plane[j] : u[j];
    }
    struct ns_image cimg = {c, w, h, 3, 3 * w};
    if (!st) st = ns_resample(ns_view_image(photo), ns_view_image(&cimg), threads); /* a copy at equal sizes */
    for (int y = 0; y < h && !st; y++)
        for (int x = 0; x < w; x++) {
            float a = u[(size_t) y * w + x], *r = rgb->data + (size_t) y * rgb->stride + (size_t) x * rgb->channels;
            const float *p = c + 3 * ((size_t) y * w + x);
            if (a >= 1.0f) continue;
            for (int ch = 0; ch < 3; ch++) /* outside every region: the photo's own value */
                r[ch] = a <= 0.0f ? p[ch] : p[ch] + a * (r[ch] - p[ch]);
        }
    free(u);
    free(plane);
    free(c);
    return st;
}
