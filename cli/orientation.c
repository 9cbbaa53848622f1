/* orientation.c - the EXIF orientation through gexiv2 (the library GIMP
 * reads it with), and the turn that makes the photo upright. */
#include "image_io.h"

#include <gexiv2/gexiv2.h>
#include <string.h>

int io_orientation(const char *path) {
    static gsize ready;
    if (g_once_init_enter(&ready)) g_once_init_leave(&ready, gexiv2_initialize() ? 1 : 2);
    if (ready != 1) return 1;
    gexiv2_log_set_level(GEXIV2_LOG_LEVEL_MUTE); /* exiv2's warnings about odd tags */
    GExiv2Metadata *m = gexiv2_metadata_new();
    GError *error = NULL;
    int o = 1;
    /* formats exiv2 does not know, or no metadata: upright as stored */
    if (gexiv2_metadata_open_path(m, path, &error)) {
        o = (int) gexiv2_metadata_try_get_orientation(m, &error);
        if (error || o < 1 || o > 8) o = 1;
    }
    g_clear_error(&error);
    g_object_unref(m);
    return o;
}

bool io_apply_orientation(struct io_image *out, int o) {
    if (o <= 1 || o > 8) return true;
    const struct ns_image *s = &out->im;
    int W = s->width, H = s->height, c = s->channels;
    bool swap = o >= 5;
    int w = swap ? H : W, h = swap ? W : H;
    float *d = g_try_malloc((size_t) w * h * c * sizeof(float));
    if (!d) return false;
    for (int dy = 0; dy < h; dy++)
        for (int dx = 0; dx < w; dx++) {
            int sx, sy;
            switch (o) {
            case 2: sx = W - 1 - dx, sy = dy; break;
            case 3: sx = W - 1 - dx, sy = H - 1 - dy; break;
            case 4: sx = dx, sy = H - 1 - dy; break;
            case 5: sx = dy, sy = dx; break;
            case 6: sx = dy, sy = H - 1 - dx; break;
            case 7: sx = W - 1 - dy, sy = H - 1 - dx; break;
            default: sx = W - 1 - dy, sy = dx; break; /* 8 */
            }
            memcpy(d + ((size_t) dy * w + dx) * c, s->data + (size_t) sy * s->stride + (size_t) sx * c,
                   c * sizeof(float));
        }
    g_free(out->im.data);
    out->im = (struct ns_image){d, w, h, c, c * w};
    return true;
}
