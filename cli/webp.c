/* webp.c - WebP files through libwebp, decoded whole from memory (a file
 * cut short does not decode); saved lossy at quality 90, or lossless with
 * alpha kept. */
#include "image_io.h"

#include <webp/decode.h>
#include <webp/encode.h>

bool io_webp_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    GByteArray *bytes = g_byte_array_new();
    guint8 buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && bytes->len < 0x7fffffffu)
        g_byte_array_append(bytes, buf, (guint) n);
    bool ok = false;
    WebPBitstreamFeatures feat;
    if (ferror(f) || WebPGetFeatures(bytes->data, bytes->len, &feat) != VP8_STATUS_OK) {
        snprintf(err, err_len, "cannot read '%s': not a readable WebP", path);
    } else if (feat.has_animation) {
        snprintf(err, err_len, "cannot read '%s': it is an animated WebP; export one frame as a still image", path);
    } else if (io_alloc(out, path, feat.width, feat.height, feat.has_alpha, err, err_len)) {
        int w, h;
        uint8_t *rgba = WebPDecodeRGBA(bytes->data, bytes->len, &w, &h);
        if (!rgba || w != feat.width || h != feat.height) {
            snprintf(err, err_len, "cannot read '%s': not a readable WebP (corrupt or cut short)", path);
        } else {
            for (int y = 0; y < h; y++)
                io_put_row(out, babl_format("R'G'B'A u8"), rgba + (size_t) y * w * 4, y);
            out->depth = IO_DEPTH_U8;
            ok = true;
        }
        WebPFree(rgba);
    }
    g_byte_array_unref(bytes);
    return ok;
}

bool io_webp_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    uint8_t *mem = NULL;
    int stride = px->width * px->channels;
    size_t n = px->channels == 4 ? WebPEncodeLosslessRGBA(px->data, px->width, px->height, stride, &mem)
                                 : WebPEncodeRGB(px->data, px->width, px->height, stride, 90, &mem);
    if (n == 0) {
        snprintf(why, why_len, "%s", px->width > WEBP_MAX_DIMENSION || px->height > WEBP_MAX_DIMENSION
                                         ? "WebP images are at most 16383 px on a side"
                                         : "out of memory");
        WebPFree(mem);
        return false;
    }
    g_byte_array_append(out, mem, (guint) n);
    WebPFree(mem);
    return true;
}
