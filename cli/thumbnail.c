/* thumbnail.c - a painting as a fast style's thumbnail: shrunk to fit
 * NS_STYLE_THUMB px, a PNG as a data URI (ns_style_model_thumbnail reads
 * it).  ns-weights import and neural-style train both write it. */
#include "image_io.h"

#include <stdlib.h>

char *io_thumbnail_uri(const struct ns_image *im, char *err, size_t err_len) {
    int w = im->width, h = im->height, c = im->channels, side = w > h ? w : h;
    double scale = side > NS_STYLE_THUMB ? (double) NS_STYLE_THUMB / side : 1.0;
    int tw = (int) (w * scale + 0.5), th = (int) (h * scale + 0.5);
    tw = tw < 1 ? 1 : tw, th = th < 1 ? 1 : th;
    struct ns_image small = {malloc(sizeof(float) * tw * th * c), tw, th, c, tw * c};
    unsigned char *rgb = malloc((size_t) tw * th * 3);
    GByteArray *png = g_byte_array_new();
    char *uri = NULL;
    bool ok = small.data && rgb && ns_resize(im, &small) == NS_STATUS_OK;
    for (int i = 0; ok && i < tw * th; i++)
        for (int k = 0; k < 3; k++) {
            float v = small.data[(size_t) i * c + k];
            rgb[3 * i + k] = (unsigned char) ((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0f + 0.5f);
        }
    struct io_pixels px = {rgb, tw, th, 3, IO_DEPTH_U8};
    if (ok && io_png_encode(&px, png, err, err_len)) {
        gchar *b64 = g_base64_encode(png->data, png->len);
        uri = g_strconcat("data:image/png;base64,", b64, NULL);
        g_free(b64);
    } else if (!err[0]) {
        snprintf(err, err_len, "not enough memory for a thumbnail");
    }
    g_byte_array_unref(png);
    free(small.data), free(rgb);
    return uri;
}
