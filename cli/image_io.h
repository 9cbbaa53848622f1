/* image_io.h - image files through GEGL for the command line. */
#ifndef NS_CLI_IMAGE_IO_H
#define NS_CLI_IMAGE_IO_H

#include "ns.h"

enum io_depth { IO_DEPTH_U8, IO_DEPTH_U16, IO_DEPTH_FLOAT };

struct io_image {
    struct ns_image im; /* R'G'B' float, R'G'B'A where the file has alpha; owned */
    bool has_alpha;
    enum io_depth depth; /* of the file it came from */
};

/* The largest image read, in megapixels (medium-format backs give 150). */
#define IO_MAX_MEGAPIXELS 250

void io_init(void);
void io_exit(void);
/* Loads any file GEGL reads; err gets one sentence on failure that names
 * the file.  The size is read from the header first: an image over
 * IO_MAX_MEGAPIXELS or larger than free memory is refused undecoded. */
bool io_load(const char *path, struct io_image *out, char *err, size_t err_len);
/* Saves by extension (png, jpg/jpeg, tif/tiff, exr, webp...) at `depth`
 * (PNG 8 or 16 bits, TIFF/EXR keep floats), with alpha when has_alpha.
 * Writes a temporary file beside the target and renames it, so a failure
 * never leaves a half-written image. */
bool io_save(const char *path, const struct ns_image *im, bool has_alpha, enum io_depth depth, char *err,
             size_t err_len);
/* Whether `path` can be written (a known extension, a writable folder):
 * asked before a long run rather than after it. */
bool io_check_output(const char *path, char *err, size_t err_len);
void io_free(struct io_image *img);
/* Whether an image of w x h may be read: at most IO_MAX_MEGAPIXELS, and
 * it fits in free memory; else a sentence naming the file. */
bool io_size_ok(const char *path, int w, int h, char *err, size_t err_len);
/* A JPEG through libjpeg with our own error handler (io_load's path for
 * them): corrupt, cut short or CMYK files are a sentence, not an exit. */
bool io_jpeg_load(const char *path, struct io_image *out, char *err, size_t err_len);

#endif /* NS_CLI_IMAGE_IO_H */
