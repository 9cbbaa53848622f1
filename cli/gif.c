/* gif.c - the first frame of a GIF through giflib, read whole: a file cut
 * short or corrupt is refused rather than filled in. */
#include "image_io.h"

#include <gif_lib.h>
#include <unistd.h>

bool io_gif_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    int code = 0, fd = dup(fileno(f));
    GifFileType *gif = fd >= 0 ? DGifOpenFileHandle(fd, &code) : NULL;
    if (!gif) {
        if (fd >= 0) close(fd);
        snprintf(err, err_len, "cannot read '%s': not a readable GIF (%s)", path, GifErrorString(code));
        return false;
    }
    bool ok = false;
    if (DGifSlurp(gif) != GIF_OK || gif->ImageCount < 1) {
        snprintf(err, err_len, "cannot read '%s': not a readable GIF (%s)", path,
                 gif->Error ? GifErrorString(gif->Error) : "no image in it");
        goto out;
    }
    const SavedImage *frame = &gif->SavedImages[0];
    const GifImageDesc *d = &frame->ImageDesc;
    const ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
    int w = gif->SWidth, h = gif->SHeight;
    GraphicsControlBlock gcb = {.TransparentColor = NO_TRANSPARENT_COLOR};
    DGifSavedExtensionToGCB(gif, 0, &gcb);
    if (!map || d->Left < 0 || d->Top < 0 || d->Width > w - d->Left || d->Height > h - d->Top) {
        snprintf(err, err_len, "cannot read '%s': not a readable GIF (the frame lies outside the image)", path);
        goto out;
    }
    bool alpha = gcb.TransparentColor != NO_TRANSPARENT_COLOR || d->Width < w || d->Height < h;
    if (!io_alloc(out, path, w, h, alpha, err, err_len)) goto out;
    guint8 *row = g_malloc((size_t) w * 4);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            bool inside = x >= d->Left && x < d->Left + d->Width && y >= d->Top && y < d->Top + d->Height;
            int i = inside ? frame->RasterBits[(size_t) (y - d->Top) * d->Width + (x - d->Left)] : -1;
            bool clear = i < 0 || i == gcb.TransparentColor || i >= map->ColorCount;
            GifColorType c = clear ? (GifColorType){0, 0, 0} : map->Colors[i];
            row[4 * x] = c.Red, row[4 * x + 1] = c.Green, row[4 * x + 2] = c.Blue, row[4 * x + 3] = clear ? 0 : 255;
        }
        io_put_row(out, babl_format("R'G'B'A u8"), row, y);
    }
    g_free(row);
    out->depth = IO_DEPTH_U8;
    ok = true;
out:
    DGifCloseFile(gif, &code);
    return ok;
}
